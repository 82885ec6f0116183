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
import { detectPii, maskPiiInText } from './pii/detect.js';
import {
  FULL_MASK,
  maskBankCard,
  maskEmail,
  maskIdentifier,
  maskNationalId,
  maskPhone,
  stars,
} from './pii/validators.js';

// The masks for the formats the detector finds live in pii/validators.ts, below pii/detect.ts,
// so that free-text masking here can use the detector without an import cycle.
export { FULL_MASK, maskBankCard, maskEmail, maskIdentifier, maskNationalId, maskPhone };

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

// --- street, date --------------------------------------------------------------------------------

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

// --- free text -----------------------------------------------------------------------------------

/**
 * Masks the personal information that {@link detectPii} finds inside a text (mobiles, privacy
 * numbers, resident ids, bank cards, emails, USCCs and passport-like numbers), each in its own
 * style, and leaves the rest of the text as it is: `请联系13800138000` → `请联系138****8000`.
 * Every candidate is masked, however low its confidence (a Luhn-valid order number is masked
 * like a card): over-masking a display is safe. Full-width digits and spaced ids are masked too.
 * Names and street addresses written in prose are not recognised.
 */
export function maskFreeText(value: string): string {
  return maskPiiInText(value, detectPii(value, { minConfidence: 0 }));
}
