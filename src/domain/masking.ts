/**
 * Display masking (R15; GB/T 35273-2020 7.2). GB/T 35273 requires de-identified display but
 * fixes no positions; the positions here are the industry conventions Tmall users know
 * (regulation.md §9.6): `138****1234`, `张**`, `110***********1234`, `622202*********3445`,
 * `z***@example.com`.
 *
 * Invariant: for every personal style, a value too short to mask meaningfully becomes
 * {@link FULL_MASK} — the input is never handed back as its own "masked" form.
 */

import type { MaskStyle } from './datamap/taxonomy.js';
import { findPii, normalizeMobile, parseVirtualNumber, type PiiKind } from './pii/validators.js';

/** What `full` masking, and every value too short to mask, shows. Fixed length: it never reveals the length. */
export const FULL_MASK = '******';

/** Masks `value` for display in the given style (see the module comment for the conventions). */
export function mask(style: MaskStyle, value: string): string {
  switch (style) {
    case 'name':
      return maskName(value);
    case 'phone':
      return maskPhone(value);
    case 'email':
      return maskEmail(value);
    case 'national-id':
      return maskNationalId(value);
    case 'bank-card':
      return maskBankCard(value);
    case 'street':
      return maskStreet(value);
    case 'region':
      return value;
    case 'date':
      return maskDate(value);
    case 'identifier':
      return maskIdentifier(value);
    case 'free-text':
      return maskFreeText(value);
    case 'full':
      return FULL_MASK;
    case 'none':
      return value;
  }
}

function stars(n: number): string {
  return '*'.repeat(n);
}

// --- phone ---------------------------------------------------------------------------------------

const LANDLINE_RE = /^(0\d{2,3})[-\s]?(\d{7,8})(?:(?:-|转|ext\.?)(\d{1,6}))?$/i;

/**
 * Phone numbers keep the first 3 and last 4 digits: `13812341234` → `138****1234`.
 *
 * - `+86`/`0086`/`86` prefixes, spaces and hyphens are dropped: `+86 138-1234-1234` → `138****1234`.
 * - Taobao privacy numbers mask the extension too: `18877771111-123` → `188****1111-***`.
 * - Landlines keep the area code and the last 4: `0571-88886666` → `0571-****6666`.
 * - Anything else of at least 11 characters (foreign numbers) keeps the first 3 and last 4;
 *   shorter values become {@link FULL_MASK}.
 */
export function maskPhone(value: string): string {
  const virtual = parseVirtualNumber(value);
  if (virtual !== undefined) {
    const n = virtual.number;
    return `${n.slice(0, 3)}****${n.slice(7)}-${stars(virtual.extension.length)}`;
  }
  const mobile = normalizeMobile(value);
  if (mobile !== undefined) return `${mobile.slice(0, 3)}****${mobile.slice(7)}`;
  const trimmed = value.trim();
  const landline = LANDLINE_RE.exec(trimmed);
  if (landline !== null) {
    const extension = landline[3] === undefined ? '' : `-${stars(landline[3].length)}`;
    return `${landline[1]!}-****${landline[2]!.slice(-4)}${extension}`;
  }
  const compact = Array.from(trimmed.replace(/[\s\-()]/g, ''));
  if (compact.length < 11) return FULL_MASK;
  return `${compact.slice(0, 3).join('')}****${compact.slice(-4).join('')}`;
}

// --- name ----------------------------------------------------------------------------------------

/** Two-character Chinese surnames (复姓) kept whole when masking. */
export const COMPOUND_SURNAMES: ReadonlySet<string> = new Set([
  '欧阳',
  '司马',
  '上官',
  '诸葛',
  '东方',
  '皇甫',
  '尉迟',
  '公孙',
  '慕容',
  '长孙',
  '宇文',
  '司徒',
  '夏侯',
  '轩辕',
  '令狐',
  '端木',
]);

const HAN_RE = /^\p{Script=Han}$/u;
const HAN_NAME_RE = /^[\p{Script=Han}·・•*＊]+$/u;
const NAME_SEPARATORS = new Set(['·', '・', '•']);

/**
 * Names keep the surname only (regulation.md §9.6, the `张**` variant):
 *
 * - Chinese: `张三` → `张*`, `张三丰` → `张**`, compound surnames stay whole: `欧阳娜娜` → `欧阳**`.
 *   Names with a separating dot (`迪丽热巴·迪力木拉提`) keep the first character and the dots.
 * - Latin and anything else: the first letter and `***`: `Zhang Wei` → `Z***`.
 * - One character (or none) cannot be masked meaningfully: {@link FULL_MASK}.
 */
export function maskName(value: string): string {
  const chars = Array.from(value.trim());
  if (chars.length < 2) return FULL_MASK;
  const first = chars[0]!;
  if (HAN_RE.test(first) && HAN_NAME_RE.test(chars.join(''))) {
    if (chars.some((c) => NAME_SEPARATORS.has(c))) {
      return (
        first +
        chars
          .slice(1)
          .map((c) => (NAME_SEPARATORS.has(c) ? c : '*'))
          .join('')
      );
    }
    const surname = chars.length >= 3 && COMPOUND_SURNAMES.has(first + chars[1]!) ? 2 : 1;
    return chars.slice(0, surname).join('') + stars(chars.length - surname);
  }
  return `${first}***`;
}

// --- email ---------------------------------------------------------------------------------------

/**
 * Emails keep the first character of the local part and the domain: `zhangsan@example.com` →
 * `z***@example.com`. A one-character local part is hidden entirely (`***@example.com`), since
 * keeping its first character would keep all of it. Values without a usable `@` become
 * {@link FULL_MASK}.
 */
export function maskEmail(value: string): string {
  const v = value.trim();
  const at = v.lastIndexOf('@');
  if (at < 1 || at === v.length - 1) return FULL_MASK;
  const local = Array.from(v.slice(0, at));
  const prefix = local.length >= 2 ? local[0]! : '';
  return `${prefix}***@${v.slice(at + 1)}`;
}

// --- national id ---------------------------------------------------------------------------------

/**
 * Resident ids keep the first 3 and last 4 characters and preserve the length, hiding the
 * region and birth date: `110105194912310021` → `110***********0021`. Values shorter than 15
 * characters (the legacy id length) become {@link FULL_MASK}.
 */
export function maskNationalId(value: string): string {
  const chars = Array.from(value.replace(/\s/g, ''));
  if (chars.length < 15) return FULL_MASK;
  return chars.slice(0, 3).join('') + stars(chars.length - 7) + chars.slice(-4).join('');
}

// --- bank card -----------------------------------------------------------------------------------

/**
 * Bank cards keep the first 6 (the issuer) and last 4 digits, PCI-style, and preserve the
 * length: `6222021234567893445` → `622202*********3445`. Spaces and hyphens are dropped. Numbers
 * of 8–12 characters show only the last 4 (`****3445`); shorter ones become {@link FULL_MASK}.
 */
export function maskBankCard(value: string): string {
  const chars = Array.from(value.replace(/[\s-]/g, ''));
  if (chars.length >= 13)
    return chars.slice(0, 6).join('') + stars(chars.length - 10) + chars.slice(-4).join('');
  if (chars.length >= 8) return `****${chars.slice(-4).join('')}`;
  return FULL_MASK;
}

// --- street, date, identifier --------------------------------------------------------------------

/**
 * Street lines (street, building, house number) are hidden entirely: `文三路 478 号` → `****`.
 * The province, city and district stay readable through their own `region` fields, which gives
 * the convention `浙江省杭州市西湖区****`.
 */
export function maskStreet(_value: string): string {
  return '****';
}

/**
 * Dates keep the year only: `1990-05-12`, `1990/5/12`, `19900512`, `1990年5月12日` and ISO
 * timestamps all become `1990-**-**`. Values without a recognisable year become {@link FULL_MASK}.
 */
export function maskDate(value: string): string {
  const v = value.trim();
  const year = /^(\d{4})(?:\d{2}|\d{4})$/.exec(v)?.[1] ?? /(?<!\d)(\d{4})(?!\d)/.exec(v)?.[1];
  return year === undefined ? FULL_MASK : `${year}-**-**`;
}

/**
 * Opaque identifiers (OAID, buyer_open_uid, member id, nick, passport number) keep the first 2
 * and last 2 characters around a fixed `****`: `AAHk5d9bQ3xZ` → `AA****xZ`. Values shorter than
 * 10 characters would show too much of themselves and become {@link FULL_MASK}.
 */
export function maskIdentifier(value: string): string {
  const chars = Array.from(value.trim());
  if (chars.length < 10) return FULL_MASK;
  return `${chars.slice(0, 2).join('')}****${chars.slice(-2).join('')}`;
}

// --- free text -----------------------------------------------------------------------------------

const STYLE_FOR_KIND: Readonly<Record<PiiKind, MaskStyle>> = {
  mobile: 'phone',
  'virtual-number': 'phone',
  'national-id': 'national-id',
  'bank-card': 'bank-card',
  email: 'email',
};

/**
 * Masks the mobile numbers, privacy numbers, resident ids, bank cards and email addresses that
 * {@link findPii} finds inside a text, each in its own style, and leaves the rest of the text as
 * it is: `请联系13800138000` → `请联系138****8000`. Names and street addresses written in prose
 * are not recognised.
 */
export function maskFreeText(value: string): string {
  const matches = findPii(value);
  if (matches.length === 0) return value;
  let out = '';
  let last = 0;
  for (const m of matches) {
    out += value.slice(last, m.start) + mask(STYLE_FOR_KIND[m.kind], m.value);
    last = m.end;
  }
  return out + value.slice(last);
}
