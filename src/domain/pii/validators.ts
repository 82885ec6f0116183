/**
 * Pure validators for the Chinese personal-information formats a Tmall merchant handles
 * (regulation.md §9, rules R30 and R32), plus {@link findPii}, a context-free scanner that finds
 * these formats inside free text (the baseline of `npm run bench -- pii-quality` and the ground
 * truth of the synthetic generator; screening and masking use detect.ts's `detectPii`), and the
 * display masks of these formats (import them from masking.ts, which re-exports them).
 *
 * Everything here is plain TypeScript with no I/O and no clock reads, except where a function
 * documents a default of "today" (resident id birth dates must not lie in the future).
 */

// ---------------------------------------------------------------------------------------------
// Mobile numbers (regulation.md §9.1, R32) and Taobao privacy numbers (§7.2, R30)
// ---------------------------------------------------------------------------------------------

/** Mainland mobile number after normalisation: 11 digits, `1`, network digit 3–9 (R32). */
const MOBILE_RE = /^1[3-9]\d{9}$/;

/** Taobao privacy (virtual) number: an 11-digit number plus a 3–4 digit extension. */
const VIRTUAL_RE = /^(?:(?:\+|00)?86-?)?(1[3-9]\d{9})(?:-|转)(\d{3,4})$/;

/**
 * Normalises a mainland mobile number to its 11 bare digits, or returns `undefined` when the
 * value is not one.
 *
 * Per R32 (regulation.md §9.1): spaces and hyphens are removed, then one `+86`, `0086` or `86`
 * country prefix, and the rest must match `^1[3-9]\d{9}$`. A bare `86` is only taken as a prefix
 * when 11 digits follow it. Taobao privacy numbers (`18877771111-123`) are **not** mobile
 * numbers (R30): they return `undefined`; use {@link parseVirtualNumber} for them.
 */
export function normalizeMobile(s: string): string | undefined {
  if (parseVirtualNumber(s) !== undefined) return undefined;
  let digits = s.replace(/[\s-]/g, '');
  if (digits.startsWith('+86')) digits = digits.slice(3);
  else if (digits.startsWith('0086')) digits = digits.slice(4);
  else if (digits.startsWith('86') && digits.length === 13) digits = digits.slice(2);
  return MOBILE_RE.test(digits) ? digits : undefined;
}

/**
 * True when `s` is a mainland mobile number (R32: `^1[3-9]\d{9}$` after stripping `+86`,
 * `0086` or `86`, spaces and hyphens). Privacy numbers with an extension are rejected (R30).
 */
export function isMainlandMobile(s: string): boolean {
  return normalizeMobile(s) !== undefined;
}

/** The parts of a Taobao privacy (virtual) number. */
export interface VirtualNumber {
  /** The 11-digit pool number, without country prefix. It belongs to the platform, not the buyer. */
  readonly number: string;
  /** The 3–4 digit extension that routes the call to the buyer. */
  readonly extension: string;
}

/**
 * Parses a Taobao privacy (virtual) number such as `18877771111-123`: an 11-digit mobile-shaped
 * pool number, a hyphen (or `转`) and a 3–4 digit extension (regulation.md §7.2, TOP
 * `taobao.top.oaid.decrypt` with `privacy_protection=true`). Whitespace is ignored and a
 * `+86`/`0086`/`86` prefix is accepted. Returns `undefined` for anything else.
 */
export function parseVirtualNumber(s: string): VirtualNumber | undefined {
  const m = VIRTUAL_RE.exec(s.replace(/\s/g, ''));
  if (m === null) return undefined;
  return { number: m[1]!, extension: m[2]! };
}

/**
 * True for a Taobao privacy (virtual) number (`18877771111-123`). Per R30 such a number is
 * **never** the buyer's real number: do not store it as a contact, match on it or dial it after
 * its binding expires.
 */
export function isVirtualNumber(s: string): boolean {
  return parseVirtualNumber(s) !== undefined;
}

/**
 * True when the value was already masked upstream (by Tmall/TOP or another system): it contains
 * an asterisk, half- or full-width, e.g. `138****1234`, `张*`, `z***@qq.com`. Such values carry
 * no recoverable PI and must never be treated as the real value (regulation.md §7.2: "treat
 * returned receiver fields as possibly masked").
 */
export function isPlatformMasked(s: string): boolean {
  return s.includes('*') || s.includes('＊');
}

// ---------------------------------------------------------------------------------------------
// Resident identity card numbers (GB 11643-1999; regulation.md §9.2)
// ---------------------------------------------------------------------------------------------

/** ISO 7064 MOD 11-2 weights for positions 1–17 (GB 11643-1999). */
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character for `sum mod 11` = 0…10. */
const ID_CHECK_CHARS = '10X98765432';

/**
 * The two-digit province-level prefixes a resident id may start with (GB/T 2260 first level):
 * 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, plus 71 (Taiwan), 81 (Hong Kong), 82 (Macao) and
 * 83 (residence permits for Hong Kong, Macao and Taiwan residents). regulation.md §9.2.
 */
export const RESIDENT_ID_PROVINCE_PREFIXES: readonly string[] = [
  ...range(11, 15),
  ...range(21, 23),
  ...range(31, 37),
  ...range(41, 46),
  ...range(50, 54),
  ...range(61, 65),
  71,
  81,
  82,
  83,
].map(String);

const PROVINCE_PREFIX_SET: ReadonlySet<string> = new Set(RESIDENT_ID_PROVINCE_PREFIXES);

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/**
 * The 18th character of a resident id (GB 11643-1999, ISO 7064 MOD 11-2): with weights
 * `7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2`, `S = Σ digitᵢ × wᵢ`, the check is `"10X98765432"[S mod 11]`.
 *
 * @param first17 exactly 17 ASCII digits.
 * @returns `'0'`–`'9'` or `'X'`.
 * @throws RangeError when `first17` is not 17 digits.
 */
export function residentIdCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError('residentIdCheckDigit expects exactly 17 digits');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * ID_WEIGHTS[i]!;
  return ID_CHECK_CHARS[sum % 11]!;
}

/** Options for resident-id validation. */
export interface ResidentIdOptions {
  /**
   * The latest acceptable birth date: a `Date` (its calendar day in China Standard Time, UTC+8)
   * or a `YYYY-MM-DD` string. Defaults to the current date, the only clock read in this module.
   */
  readonly today?: Date | string;
  /**
   * The earliest acceptable birth date, `YYYY-MM-DD`. Defaults to `1900-01-01`. The GB 11643
   * sample `440524188001010014` (born 1880) needs an earlier bound such as `1800-01-01`.
   */
  readonly earliest?: string;
}

const DEFAULT_EARLIEST = 1900_01_01;
const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

/** `YYYY-MM-DD` or a `Date` (its day in UTC+8) as the number `YYYYMMDD`. */
function dayNumber(value: Date | string, what: string): number {
  if (typeof value === 'string') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (m === null || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
      throw new RangeError(`${what} must be a YYYY-MM-DD calendar date`);
    }
    return Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]);
  }
  const t = value.getTime();
  if (Number.isNaN(t)) throw new RangeError(`${what} is an invalid Date`);
  const cst = new Date(t + CST_OFFSET_MS);
  return cst.getUTCFullYear() * 10000 + (cst.getUTCMonth() + 1) * 100 + cst.getUTCDate();
}

/** True when year-month-day names a day of the proleptic Gregorian calendar. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * True for a valid 18-character resident identity card number (公民身份号码, GB 11643-1999):
 *
 * 1. 17 digits followed by a digit or `X` (a lowercase `x` is tolerated);
 * 2. the first two digits are a province-level code ({@link RESIDENT_ID_PROVINCE_PREFIXES});
 * 3. digits 7–14 are a real calendar date between `options.earliest` (default 1900-01-01) and
 *    `options.today` (default: now);
 * 4. the 18th character is the ISO 7064 MOD 11-2 check ({@link residentIdCheckDigit}).
 *
 * Legacy 15-digit ids (pre-1999, no check digit) are not accepted.
 */
export function isValidResidentId(s: string, options: ResidentIdOptions = {}): boolean {
  return residentIdBirthDay(s, options) !== undefined;
}

function residentIdBirthDay(s: string, options: ResidentIdOptions): number | undefined {
  if (s.length !== 18 || !/^\d{17}[\dXx]$/.test(s)) return undefined;
  if (!PROVINCE_PREFIX_SET.has(s.slice(0, 2))) return undefined;
  const year = Number(s.slice(6, 10));
  const month = Number(s.slice(10, 12));
  const day = Number(s.slice(12, 14));
  if (!isCalendarDate(year, month, day)) return undefined;
  const birth = year * 10000 + month * 100 + day;
  const earliest =
    options.earliest === undefined ? DEFAULT_EARLIEST : dayNumber(options.earliest, 'earliest');
  const latest = dayNumber(options.today ?? new Date(), 'today');
  if (birth < earliest || birth > latest) return undefined;
  if (residentIdCheckDigit(s.slice(0, 17)) !== s[17]!.toUpperCase()) return undefined;
  return birth;
}

/**
 * The birth date (`YYYY-MM-DD`) encoded in digits 7–14 of a valid resident id, or `undefined`
 * when {@link isValidResidentId} rejects it with the same options.
 */
export function residentIdBirthDate(s: string, options: ResidentIdOptions = {}): string | undefined {
  const birth = residentIdBirthDay(s, options);
  if (birth === undefined) return undefined;
  const text = String(birth);
  return `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}`;
}

/**
 * The sex encoded in the sequence code (digits 15–17) of a valid resident id: odd = male,
 * even = female (GB 11643-1999). `undefined` when the id is not valid.
 */
export function residentIdSex(s: string, options: ResidentIdOptions = {}): 'male' | 'female' | undefined {
  if (residentIdBirthDay(s, options) === undefined) return undefined;
  return (s.charCodeAt(16) - 48) % 2 === 1 ? 'male' : 'female';
}

// ---------------------------------------------------------------------------------------------
// Bank cards (ISO/IEC 7812-1 Luhn; regulation.md §9.3)
// ---------------------------------------------------------------------------------------------

function luhnSum(digits: string, doubleRightmost: boolean): number {
  let sum = 0;
  let double = doubleRightmost;
  for (let i = digits.length - 1; i >= 0; i--) {
    let v = digits.charCodeAt(i) - 48;
    if (double) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
    double = !double;
  }
  return sum;
}

/**
 * Luhn (mod 10) check of ISO/IEC 7812-1: from the rightmost digit, double every second digit,
 * subtract 9 from results above 9, sum; valid when the sum is a multiple of 10.
 *
 * @param digits ASCII digits only (at least two); anything else is invalid.
 */
export function luhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  return luhnSum(digits, false) % 10 === 0;
}

/**
 * The Luhn check digit to append to `partial` (ASCII digits) so that the result passes
 * {@link luhnValid}.
 *
 * @throws RangeError when `partial` is not a non-empty digit string.
 */
export function luhnCheckDigit(partial: string): string {
  if (!/^\d+$/.test(partial)) throw new RangeError('luhnCheckDigit expects digits');
  return String((10 - (luhnSum(partial, true) % 10)) % 10);
}

/**
 * True for a bank card number: 16–19 digits that pass the Luhn check (regulation.md §9.3, R32).
 * Spaces and hyphens between digit groups (`6212 3456 7890 1232`) are ignored.
 */
export function isBankCard(s: string): boolean {
  const digits = s.replace(/[\s-]/g, '');
  return /^\d{16,19}$/.test(digits) && luhnValid(digits);
}

// ---------------------------------------------------------------------------------------------
// Unified Social Credit Code (GB 32100-2015; regulation.md §9.5)
// ---------------------------------------------------------------------------------------------

/** The 31 characters of GB 32100-2015, in value order (no I, O, S, V, Z). */
const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/**
 * The 18th character of a Unified Social Credit Code (GB 32100-2015, MOD 31):
 * `charset[(31 − Σ(vᵢ × wᵢ) mod 31) mod 31]` with weights `1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28`.
 *
 * @param first17 17 characters of `0-9A-HJ-NPQRTUWXY` (uppercase).
 * @throws RangeError on any other input.
 */
export function usccCheckChar(first17: string): string {
  if (first17.length !== 17) throw new RangeError('usccCheckChar expects exactly 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARSET.indexOf(first17[i]!);
    if (v < 0) throw new RangeError('usccCheckChar: character outside the GB 32100 charset');
    sum += v * USCC_WEIGHTS[i]!;
  }
  return USCC_CHARSET[(31 - (sum % 31)) % 31]!;
}

/**
 * True for a valid Unified Social Credit Code (统一社会信用代码, GB 32100-2015): 18 uppercase
 * characters of the 31-character charset, a six-digit administrative-division code in positions
 * 3–8, and the MOD 31 check character ({@link usccCheckChar}) last.
 */
export function isValidUscc(s: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(s)) return false;
  return usccCheckChar(s.slice(0, 17)) === s[17];
}

// ---------------------------------------------------------------------------------------------
// Email and postal code
// ---------------------------------------------------------------------------------------------

const EMAIL_RE =
  /^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/**
 * A practical email check (the common subset of RFC 5321/5322 that real mailboxes use): an
 * ASCII local part of letters, digits and `._%+-` without leading, trailing or doubled dots,
 * at most 64 characters; a domain of LDH labels with an alphabetic TLD; at most 254 characters.
 * Quoted local parts, IP-literal domains and internationalised addresses are rejected, and so
 * are masked values such as `z***@qq.com`.
 */
export function isEmail(s: string): boolean {
  if (s.length > 254) return false;
  const at = s.lastIndexOf('@');
  if (at < 1 || at > 64) return false;
  return EMAIL_RE.test(s);
}

/** True for a six-digit mainland postal code (R32: `^\d{6}$`). */
export function isPostalCode(s: string): boolean {
  return /^\d{6}$/.test(s);
}

// ---------------------------------------------------------------------------------------------
// Finding PI inside free text
// ---------------------------------------------------------------------------------------------

/** The kinds of PI {@link findPii} recognises. */
export type PiiKind = 'mobile' | 'virtual-number' | 'national-id' | 'bank-card' | 'email';

/** One occurrence of PI inside a text. */
export interface PiiMatch {
  readonly kind: PiiKind;
  /** UTF-16 offset of the first character. */
  readonly start: number;
  /** UTF-16 offset just past the last character. */
  readonly end: number;
  /** The text as it appears, separators included (`139 1234 5678`). */
  readonly value: string;
}

interface Pattern {
  readonly kind: PiiKind;
  readonly re: RegExp;
  readonly accept: (value: string) => boolean;
}

/**
 * Resident ids in free text are checked with a wide date window (1800–2099): over-detecting a
 * checksum-valid id is cheaper than leaking one, and the scan stays independent of the clock.
 */
const SCAN_ID_OPTIONS: ResidentIdOptions = { earliest: '1800-01-01', today: '2099-12-31' };

const PATTERNS: readonly Pattern[] = [
  {
    kind: 'email',
    // The lookbehind starts candidates only at the start of a run, keeping the scan linear.
    re: /(?<![A-Za-z0-9_%+.-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g,
    accept: isEmail,
  },
  {
    kind: 'virtual-number',
    re: /(?<!\d)(?:(?:\+|00)?86[ -]?)?1[3-9]\d{9}(?:-|转)\d{3,4}(?!\d)/g,
    accept: isVirtualNumber,
  },
  {
    kind: 'national-id',
    re: /(?<!\d)\d{17}[\dXx](?!\d)/g,
    accept: (v) => isValidResidentId(v, SCAN_ID_OPTIONS),
  },
  { kind: 'bank-card', re: /(?<!\d)\d{16,19}(?!\d)/g, accept: isBankCard },
  {
    kind: 'bank-card',
    re: /(?<!\d)\d{4}(?:[ -]\d{4}){3}(?:[ -]\d{1,3})?(?!\d)/g,
    accept: isBankCard,
  },
  {
    kind: 'mobile',
    re: /(?<!\d)(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)/g,
    accept: isMainlandMobile,
  },
];

/** `s` without its trailing dots and hyphens; a loop, since `/[.-]+$/` is quadratic on long runs. */
export function trimTrailingDotsAndHyphens(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '.' || s[end - 1] === '-')) end--;
  return s.slice(0, end);
}

/**
 * Finds mobile numbers, privacy numbers, resident ids, bank cards and email addresses inside
 * free text, using the validators above to discard look-alikes (order numbers, tracking numbers,
 * quantities). Matches never overlap; when two candidates overlap, the one that starts first
 * wins, then the longer one, then the earlier kind in the order email, virtual number,
 * national id, bank card, mobile. Platform-masked values (`138****1234`) are not matched.
 *
 * @returns the matches in text order.
 */
export function findPii(text: string): PiiMatch[] {
  const candidates: (PiiMatch & { readonly rank: number })[] = [];
  PATTERNS.forEach((pattern, rank) => {
    for (const m of text.matchAll(pattern.re)) {
      let value = m[0];
      const start = m.index;
      if (pattern.kind === 'email') value = trimTrailingDotsAndHyphens(value);
      let accepted = pattern.accept(value);
      if (!accepted && pattern.kind === 'bank-card' && /[ -]\d{1,3}$/.test(value)) {
        // `6212 3456 7890 1232 12件`: retry without the short trailing group.
        value = value.replace(/[ -]\d{1,3}$/, '');
        accepted = pattern.accept(value);
      }
      if (accepted) candidates.push({ kind: pattern.kind, start, end: start + value.length, value, rank });
    }
  });
  candidates.sort((a, b) => a.start - b.start || b.end - a.end || a.rank - b.rank);
  const out: PiiMatch[] = [];
  let end = 0;
  for (const c of candidates) {
    if (c.start < end) continue;
    out.push({ kind: c.kind, start: c.start, end: c.end, value: c.value });
    end = c.end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Display masks of these formats (GB/T 35273-2020 7.2; conventions in masking.ts). They live
// here, below detect.ts, so that masking.ts can mask free text with detectPii without an import
// cycle; masking.ts re-exports them and is where callers import them from.
// ---------------------------------------------------------------------------------------------

/** What `full` masking, and every value too short to mask, shows. Fixed length: it never reveals the length. */
export const FULL_MASK = '******';

/** `n` asterisks: the masked part of a value. */
export function stars(n: number): string {
  return '*'.repeat(n);
}

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
