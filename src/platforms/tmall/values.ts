/**
 * Cell values of a Tmall order export as they really arrive: spreadsheet quoting artefacts,
 * platform-masked values, Taobao privacy numbers, several date and money formats. Pure: no I/O.
 */

import { isPlatformMasked, isVirtualNumber, normalizeMobile } from '../../domain/pii/validators.js';

/**
 * Strips what spreadsheets leave around a value: surrounding whitespace (tabs included), the
 * formula wrapper `="…"` that keeps long numbers from turning into `4.1E+18`, a leading `=`
 * before a plain value, and the leading apostrophe that forces text.
 */
export function cleanCell(raw: string): string {
  let v = raw.replace(/^[\s\u3000\ufeff]+|[\s\u3000]+$/gu, '');
  const formula = /^="(.*)"$/su.exec(v);
  if (formula) v = formula[1]!.replace(/""/gu, '"');
  else if (v.startsWith('=') && !v.startsWith('==')) v = v.slice(1);
  if (v.startsWith("'")) v = v.slice(1);
  return v.trim();
}

/**
 * A date-time as the export writes it (`2025-03-01 12:34:56`, `2025/3/1 12:34`, `2025-03-01`,
 * `2025年3月1日 12:34:56`) in `yyyy-MM-dd HH:mm:ss`, China Standard Time as given (TOP and the
 * seller centre use GMT+8). `undefined` when it is not a real calendar date and time.
 */
export function parseExportDateTime(value: string): string | undefined {
  const m =
    /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d{1,3})?)?$/u.exec(
      value,
    );
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (year < 1990 || year > 2100 || month < 1 || month > 12 || day < 1) return undefined;
  const days =
    month === 2
      ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
        ? 29
        : 28
      : [4, 6, 9, 11].includes(month)
        ? 30
        : 31;
  if (day > days || hour > 23 || minute > 59 || second > 59) return undefined;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${year}-${p(month)}-${p(day)} ${p(hour)}:${p(minute)}:${p(second)}`;
}

/** An Excel serial date (days since 1899-12-30, fraction = time of day) as `yyyy-MM-dd HH:mm:ss`. */
export function excelSerialToDateTime(serial: number): string | undefined {
  if (!Number.isFinite(serial) || serial < 32874 || serial > 73051) return undefined; // 1990–2100
  const ms = Math.round((serial - 25569) * 86_400_000);
  return formatWallClock(new Date(ms));
}

/**
 * A `Date` whose UTC fields carry a wall-clock time (how spreadsheet readers return date cells),
 * as `yyyy-MM-dd HH:mm:ss`.
 */
export function formatWallClock(date: Date): string | undefined {
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

/** Yuan with at most two decimals (`¥1,234.5` → `1234.50`); `undefined` when it is not money. */
export function parseAmount(value: string): string | undefined {
  const v = value
    .replace(/^[¥￥]|元$/gu, '')
    .replace(/,/gu, '')
    .trim();
  const m = /^(\d{1,12})(?:\.(\d{1,2}))?$/u.exec(v);
  if (!m) return undefined;
  return `${String(Number(m[1]))}.${(m[2] ?? '').padEnd(2, '0')}`;
}

/** A Tmall trade id (tid): digits only; scientific notation means a spreadsheet destroyed it. */
export function parseOrderId(value: string): string | undefined {
  return /^\d{1,32}$/u.test(value) ? value : undefined;
}

/**
 * OAID, buyer_open_uid and similar platform keys: printable ASCII, at most 128 characters, with at
 * least one letter or digit (a cell of dashes or dots, such as `-`, names nobody).
 */
export function parsePlatformKey(value: string): string | undefined {
  return /^[\x21-\x7e]{1,128}$/u.test(value) && /[0-9A-Za-z]/u.test(value) ? value : undefined;
}

/** Landlines as exports write them: `0571-88886666`, `057188886666`, `88886666`, with an extension. */
const LANDLINE = /^(?:\(?0\d{2,3}\)?[- ]?)?[2-9]\d{6,7}(?:[-转]\d{1,6})?$/u;

export type PhoneKind =
  /** A real mainland mobile: indexable. */
  | { readonly kind: 'mobile'; readonly value: string }
  /** A fixed-line number: storable as a phone. */
  | { readonly kind: 'landline'; readonly value: string }
  /** A Taobao privacy number (`18877771111-123`): the platform's, never the buyer's (R30). */
  | { readonly kind: 'virtual'; readonly value: string }
  /** Masked upstream (`138****1234`): carries nothing; never stored as a phone. */
  | { readonly kind: 'masked' }
  | { readonly kind: 'invalid' };

/** What a phone cell holds. Masked and privacy numbers are recognised first, so they are never indexed. */
export function classifyPhone(value: string): PhoneKind {
  if (isPlatformMasked(value)) return { kind: 'masked' };
  if (isVirtualNumber(value)) return { kind: 'virtual', value: value.replace(/\s/gu, '') };
  const mobile = normalizeMobile(value);
  if (mobile !== undefined) return { kind: 'mobile', value: mobile };
  const compact = value.replace(/\s+/gu, ' ').trim();
  if (LANDLINE.test(compact)) return { kind: 'landline', value: compact.replace(/[() ]/gu, '') };
  return { kind: 'invalid' };
}
