/**
 * Chinese PII detection in free text (buyer messages, service notes): mainland mobiles (R32),
 * Taobao privacy numbers (R30), 18-digit resident ids (GB 11643), bank cards (Luhn), emails,
 * Unified Social Credit Codes (GB 32100) and passport-like numbers (regulation.md §9).
 *
 * How a finding is scored:
 *
 * 1. **Structure.** The text is normalised one UTF-16 unit for one (full-width digits, letters
 *    and punctuation to ASCII, ideographic and no-break spaces to spaces, dash variants to `-`),
 *    so every offset found in the normalised text is an offset in the original. Digit groups
 *    joined by single spaces or hyphens form chains (`138 1234 5678`, `6222 0212 3456 7893`);
 *    every run of groups in a chain that has a known layout is a candidate. Candidates must not
 *    touch letters (`SF1234567890123`), `@`, `_` or decimals, and a run is never cut out of a
 *    longer digit run (a 19-digit order number holds no 18-digit id or 11-digit mobile).
 *    Checksums and structure (network prefix, region + birth date + MOD 11-2, Luhn + issuer,
 *    MOD 31) give the base confidence.
 * 2. **Context.** The text around each candidate is cut into words with `Intl.Segmenter('zh-CN',
 *    { granularity: 'word' })` (only around candidates: the segmenter slows down superlinearly on
 *    long inputs); adjacent words are joined to recognise terms such as 身份证号 (segmented as
 *    身份|证|号). The nearest term within a short window decides: a term for the candidate's type
 *    (手机, 身份证, 卡号 …) raises the confidence, a look-alike label (订单号, 运单号, 编号,
 *    金额, ¥, 时间 …) lowers it. A look-alike only counts when it labels the number directly:
 *    before it with nothing but separators between (`订单号：…`, `单号是…`), or right after it
 *    (`99元`). So `订单没收到，13812345678` and `物流没动，有事打13812345678` still find the mobile.
 * 3. **Overlaps.** The longest candidate wins (a privacy number over the mobile inside it, a
 *    19-digit card over a 16-digit prefix), then the most confident.
 *
 * Nothing here returns a value in clear: a finding carries its span and its masked form
 * (masking.ts conventions); callers that need the value slice the text themselves.
 */

import {
  isEmail,
  isValidResidentId,
  isValidUscc,
  luhnValid,
  maskBankCard,
  maskEmail,
  maskIdentifier,
  maskNationalId,
  maskPhone,
  RESIDENT_ID_PROVINCE_PREFIXES,
  trimTrailingDotsAndHyphens,
} from './validators.js';

/** The kinds of personal information {@link detectPii} reports. */
export type PiiType =
  'mobile' | 'virtual-number' | 'national-id' | 'bank-card' | 'email' | 'uscc' | 'passport';

/** Every {@link PiiType}, in report order. */
export const PII_TYPES: readonly PiiType[] = [
  'mobile',
  'virtual-number',
  'national-id',
  'bank-card',
  'email',
  'uscc',
  'passport',
];

/** One piece of personal information found in a text. Never carries the value itself. */
export interface PiiFinding {
  readonly type: PiiType;
  /** UTF-16 offset of the first character (prefixes such as `+86` included). */
  readonly start: number;
  /** UTF-16 offset just past the last character. */
  readonly end: number;
  /** The value masked in its type's style (masking.ts), e.g. `138****5678`. */
  readonly masked: string;
  /** 0–1: structure and checksum, raised or lowered by nearby context words. */
  readonly confidence: number;
  /** The context words that were seen near the value, e.g. `['手机号']`. Absent when none. */
  readonly context?: readonly string[];
}

export interface DetectOptions {
  /** Only report these types (all by default). Overlaps are still resolved over all types. */
  readonly types?: readonly PiiType[];
  /** Findings below this confidence are dropped. Default {@link DEFAULT_MIN_CONFIDENCE}. */
  readonly minConfidence?: number;
}

/** The confidence below which {@link detectPii} drops a finding unless told otherwise. */
export const DEFAULT_MIN_CONFIDENCE = 0.5;

// ---------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------

/**
 * Maps full-width ASCII (U+FF01–FF5E) to ASCII, ideographic / no-break spaces to a space and
 * dash variants to `-`. One UTF-16 unit in, one out: offsets are preserved.
 */
function normalize(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let r = -1;
    if (c >= 0xff01 && c <= 0xff5e) r = c - 0xfee0;
    else if (c === 0x3000 || c === 0x00a0 || c === 0x2007 || c === 0x202f) r = 0x20;
    else if (c >= 0x2010 && c <= 0x2013) r = 0x2d;
    else if (c === 0x2212) r = 0x2d;
    if (r >= 0) {
      out += text.slice(from, i) + String.fromCharCode(r);
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

function isAlnum(c: string | undefined): boolean {
  return isDigit(c) || isLetter(c);
}

// ---------------------------------------------------------------------------------------------
// Candidates
// ---------------------------------------------------------------------------------------------

interface Candidate {
  readonly type: PiiType;
  readonly start: number;
  readonly end: number;
  /** The value in canonical form (digits only, uppercase), used for masking only. */
  readonly value: string;
  /** Structural confidence before context. */
  readonly base: number;
  /** Multiplier from the layout around the value (e.g. hyphen-joined to other digits). */
  readonly layout: number;
  /** Overlap tie-break: lower wins when span and confidence are equal. */
  readonly rank: number;
}

const RANK: Readonly<Record<PiiType, number>> = {
  email: 0,
  'virtual-number': 1,
  'national-id': 2,
  uscc: 3,
  'bank-card': 4,
  mobile: 5,
  passport: 6,
};

interface Group {
  readonly start: number;
  /** Just past the last digit (a trailing X, if any, is at `end`). */
  readonly end: number;
  /** A check character `X`/`x` follows the digits and ends the token. */
  readonly xTail: boolean;
}

/** Runs of ASCII digits; a single `X`/`x` right after a run (and before a non-alphanumeric) is noted. */
function digitGroups(s: string): Group[] {
  const groups: Group[] = [];
  let i = 0;
  while (i < s.length) {
    if (!isDigit(s[i])) {
      i++;
      continue;
    }
    let j = i;
    while (isDigit(s[j])) j++;
    const xTail = (s[j] === 'X' || s[j] === 'x') && !isAlnum(s[j + 1]);
    groups.push({ start: i, end: j, xTail });
    i = xTail ? j + 1 : j;
  }
  return groups;
}

/** Groups joined by exactly one space or hyphen: `138 1234 5678`, `6222-0212-…`. */
function chains(s: string, groups: readonly Group[]): Group[][] {
  const out: Group[][] = [];
  let current: Group[] = [];
  for (const g of groups) {
    const prev = current[current.length - 1];
    if (
      prev !== undefined &&
      !prev.xTail &&
      g.start === prev.end + 1 &&
      (s[prev.end] === ' ' || s[prev.end] === '-')
    ) {
      current.push(g);
    } else {
      if (current.length > 0) out.push(current);
      current = [g];
    }
  }
  if (current.length > 0) out.push(current);
  return out;
}

const MOBILE_RE = /^1[3-9]\d{9}$/;
/** Network prefixes in use (regulation.md §9.1); other 1[3-9]x numbers are structurally weaker. */
const MOBILE_NETWORKS = new Set(
  [
    '130-139',
    '145-153',
    '155-159',
    '162',
    '165-167',
    '170-173',
    '175-178',
    '180-189',
    '190-193',
    '195-199',
  ].flatMap((r) => {
    const [from, to] = r.split('-').map(Number) as [number, number | undefined];
    const list: string[] = [];
    for (let n = from; n <= (to ?? from); n++) list.push(String(n));
    return list;
  }),
);

const MOBILE_LAYOUTS = ['11', '3,4,4', '3,8', '7,4', '4,4,3'];
const ID_LAYOUTS = ['18', '6,8,4', '6,4,4,4'];
const PROVINCES = new Set(RESIDENT_ID_PROVINCE_PREFIXES);
/** Resident ids in free text: any birth date in 1900–2099, independent of the clock. */
const SCAN_ID_OPTIONS = { earliest: '1900-01-01', today: '2099-12-31' } as const;
/** Birth years of living customers; ids outside keep a lower (still reportable) confidence. */
const PLAUSIBLE_BIRTH_YEARS = [1910, 2030] as const;
/** Letters that may label a number directly (`tel13812345678`, `ID110105…`). */
const LETTER_LABELS = new Set([
  'tel',
  'phone',
  'mobile',
  'mob',
  'cell',
  'no',
  'id',
  'card',
  'sfz',
  'acct',
  // WeChat ids are often the mobile itself: `加vx138…`, `wx138…`, `加V138…`.
  'v',
  'vx',
  'wx',
  'weixin',
  'wechat',
]);

function mobileBase(core: string): number {
  return MOBILE_NETWORKS.has(core.slice(0, 3)) ? 0.85 : 0.6;
}

/** Base confidence of a Luhn-valid 16–19 digit number by issuer prefix and length. */
function cardBase(digits: string): number {
  const n = digits.length;
  if (digits.startsWith('62')) return n === 16 || n === 19 ? 0.8 : 0.7;
  if (digits.startsWith('4')) return n === 16 ? 0.7 : 0.35;
  if (/^5[1-5]/.test(digits)) return n === 16 ? 0.7 : 0.35;
  if (/^2[2-7]/.test(digits)) return n === 16 ? 0.55 : 0.3;
  if (/^35/.test(digits)) return n === 16 ? 0.6 : 0.3;
  // Bank of China 60…, and ICBC / ABC legacy 19-digit 9558… / 9559… debit cards.
  if (/^(?:60|955[89])/.test(digits)) return n === 16 || n === 19 ? 0.6 : 0.35;
  return 0.3;
}

/** Is the character run before `at` acceptable next to a number (not part of an alphanumeric token)? */
function leftBoundaryOk(s: string, at: number): boolean {
  const c = s[at - 1];
  if (c === undefined) return true;
  if (c === '_' || c === '@') return false;
  if (c === '.' && isAlnum(s[at - 2])) return false;
  if (!isLetter(c)) return true;
  let i = at - 1;
  while (i > 0 && isLetter(s[i - 1])) i--;
  if (isDigit(s[i - 1]) || s[i - 1] === '_') return false;
  return LETTER_LABELS.has(s.slice(i, at).toLowerCase());
}

function rightBoundaryOk(s: string, at: number): boolean {
  const c = s[at];
  if (c === undefined) return true;
  if (isLetter(c) || c === '_' || c === '@') return false;
  if (c === '.' && isAlnum(s[at + 1])) return false;
  return true;
}

/** All structural candidates made of digit groups (mobiles, privacy numbers, ids, cards). */
function numericCandidates(s: string): Candidate[] {
  const out: Candidate[] = [];
  for (const chain of chains(s, digitGroups(s))) {
    const m = chain.length;
    for (let a = 0; a < m; a++) {
      for (let b = a; b < m && b - a < 6; b++) {
        evaluateRange(s, chain, a, b, out);
      }
    }
  }
  return out;
}

function evaluateRange(s: string, chain: readonly Group[], a: number, b: number, out: Candidate[]): void {
  const groups = chain.slice(a, b + 1);
  const first = groups[0]!;
  const last = groups[groups.length - 1]!;
  const lens = groups.map((g) => g.end - g.start);
  const layout = lens.join(',');
  const digits = groups.map((g) => s.slice(g.start, g.end)).join('');
  const before = a > 0 ? chain[a - 1] : undefined;
  const after = b < chain.length - 1 ? chain[b + 1] : undefined;
  // Hyphen-joined to other digits: probably one longer identifier.
  const hyphenJoined =
    (before !== undefined && s[before.end] === '-') || (after !== undefined && s[last.end] === '-');
  const joinedFactor = hyphenJoined ? 0.5 : 1;
  const push = (c: Omit<Candidate, 'rank' | 'layout'> & { layout?: number }): void => {
    out.push({ ...c, layout: c.layout ?? joinedFactor, rank: RANK[c.type] });
  };

  // Resident id: 17 digits + digit or X.
  if (
    ID_LAYOUTS.includes(last.xTail ? [...lens.slice(0, -1), lens[lens.length - 1]! + 1].join(',') : layout)
  ) {
    const id = last.xTail ? `${digits}X` : digits;
    const end = last.xTail ? last.end + 1 : last.end;
    if (
      id.length === 18 &&
      (a > 0 || leftBoundaryOk(s, first.start)) &&
      (after !== undefined || rightBoundaryOk(s, end)) &&
      isValidResidentId(id, SCAN_ID_OPTIONS)
    ) {
      const year = Number(id.slice(6, 10));
      const plausible = year >= PLAUSIBLE_BIRTH_YEARS[0] && year <= PLAUSIBLE_BIRTH_YEARS[1];
      push({ type: 'national-id', start: first.start, end, value: id, base: plausible ? 0.97 : 0.75 });
    }
  }
  if (last.xTail) return; // an X ends an id only; anything else would touch a letter

  const leftOk = a > 0 || leftBoundaryOk(s, first.start);
  const rightOk = after !== undefined || rightBoundaryOk(s, last.end);

  // Bank card: 16–19 digits, one run or groups of four with a shorter last group, Luhn.
  const grouped = lens.length >= 4 && lens.slice(0, -1).every((l) => l === 4) && lens[lens.length - 1]! <= 4;
  if (digits.length >= 16 && digits.length <= 19 && (lens.length === 1 || grouped) && leftOk && rightOk) {
    // A grouped card never leaves a group of up to four joined digits beside it (`6222 … 7893 445`).
    const strayNeighbour =
      grouped &&
      ((before !== undefined && before.end - before.start <= 4) ||
        (after !== undefined && after.end - after.start <= 4));
    if (!strayNeighbour && luhnValid(digits)) {
      push({
        type: 'bank-card',
        start: first.start,
        end: last.end,
        value: digits,
        base: Math.min(0.95, cardBase(digits) + (grouped ? 0.12 : 0)),
      });
    }
  }

  // Mobile, with or without a country prefix, and privacy numbers (mobile + `-ext` / `转ext`).
  const mobile = mobileAt(s, chain, a, b);
  if (mobile !== undefined && rightOk) {
    push({ type: 'mobile', start: mobile.start, end: last.end, value: mobile.core, base: mobile.base });
    const ext = /^转(\d{3,4})(?![0-9A-Za-z])/.exec(s.slice(last.end, last.end + 6));
    if (after === undefined && ext !== null) {
      push({
        type: 'virtual-number',
        start: mobile.start,
        end: last.end + ext[0].length,
        value: `${mobile.core}-${ext[1]!}`,
        base: 0.95,
        layout: 1,
      });
    }
  }
  if (
    b > a &&
    s[chain[b - 1]!.end] === '-' &&
    lens[lens.length - 1]! >= 3 &&
    lens[lens.length - 1]! <= 4 &&
    rightOk
  ) {
    const pool = mobileAt(s, chain, a, b - 1);
    if (pool !== undefined) {
      push({
        type: 'virtual-number',
        start: pool.start,
        end: last.end,
        value: `${pool.core}-${digits.slice(-lens[lens.length - 1]!)}`,
        base: 0.95,
        layout: after !== undefined && s[last.end] === '-' ? 0.5 : 1,
      });
    }
  }
}

/** The mobile number that groups a…b of a chain spell, prefix included, if they spell one. */
function mobileAt(
  s: string,
  chain: readonly Group[],
  a: number,
  b: number,
): { start: number; core: string; base: number } | undefined {
  const groups = chain.slice(a, b + 1);
  const lens = groups.map((g) => g.end - g.start);
  const texts = groups.map((g) => s.slice(g.start, g.end));
  const digits = texts.join('');
  let core: string | undefined;
  let prefixed = false;
  let prefixGroup = false; // the country code is a group of its own: `+86 138…`, `0086-138…`
  if (MOBILE_LAYOUTS.includes(lens.join(','))) core = digits;
  else if (lens.length === 1 && digits.length === 13 && digits.startsWith('86')) {
    core = digits.slice(2);
    prefixed = true;
  } else if (lens.length === 1 && digits.length === 15 && digits.startsWith('0086')) {
    core = digits.slice(4);
    prefixed = true;
  } else if (
    lens.length > 1 &&
    (texts[0] === '86' || texts[0] === '0086') &&
    MOBILE_LAYOUTS.includes(lens.slice(1).join(','))
  ) {
    core = texts.slice(1).join('');
    prefixed = true;
    prefixGroup = true;
  }
  if (core === undefined || !MOBILE_RE.test(core)) return undefined;
  let start = groups[0]!.start;
  if (a === 0) {
    if (prefixed && s[start - 1] === '+') start--;
    else if (!prefixed) {
      const paren = /\(\+?(?:00)?86\) ?$/.exec(s.slice(Math.max(0, start - 8), start));
      if (paren !== null) {
        start -= paren[0].length;
        prefixed = true;
      }
    }
    if (!leftBoundaryOk(s, start)) return undefined;
  }
  const grouped = lens.length - (prefixGroup ? 1 : 0) > 1; // `138 1234 5678`
  const base = Math.min(0.95, mobileBase(core) + (prefixed ? 0.1 : 0) + (grouped ? 0.05 : 0));
  return { start, core, base };
}

const EMAIL_SCAN =
  /(?<![A-Za-z0-9_%+.-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const PASSPORT_SCAN = /(?<![A-Za-z0-9])(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7})(?![A-Za-z0-9])/g;
const USCC_SCAN = /(?<![A-Za-z0-9])[0-9A-Za-z]{18}(?![A-Za-z0-9])/g;
const USCC_AUTHORITIES = new Set('123456789ANY');

function textCandidates(s: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of s.matchAll(EMAIL_SCAN)) {
    const value = trimTrailingDotsAndHyphens(m[0]);
    if (isEmail(value)) {
      out.push({
        type: 'email',
        start: m.index,
        end: m.index + value.length,
        value,
        base: 0.97,
        layout: 1,
        rank: RANK.email,
      });
    }
  }
  for (const m of s.matchAll(PASSPORT_SCAN)) {
    out.push({
      type: 'passport',
      start: m.index,
      end: m.index + m[0].length,
      value: m[0],
      base: 0.6,
      layout: 1,
      rank: RANK.passport,
    });
  }
  for (const m of s.matchAll(USCC_SCAN)) {
    const upper = m[0].toUpperCase();
    if (!USCC_AUTHORITIES.has(upper[0]!) || !isValidUscc(upper)) continue;
    const region = upper.slice(2, 4);
    if (!PROVINCES.has(region) && region !== '10') continue;
    const allDigits = /^\d+$/.test(upper);
    if (allDigits && isValidResidentId(upper, SCAN_ID_OPTIONS)) continue;
    const base = (allDigits ? 0.35 : 0.9) * (upper === m[0] ? 1 : 0.8);
    out.push({
      type: 'uscc',
      start: m.index,
      end: m.index + 18,
      value: upper,
      base,
      layout: 1,
      rank: RANK.uscc,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Context words
// ---------------------------------------------------------------------------------------------

type ContextCategory = Exclude<PiiType, 'virtual-number'> | 'lookalike' | 'neutral';

interface Term {
  readonly category: ContextCategory;
  /** How far (UTF-16 units) before the value the term may end. */
  readonly before: number;
  /** How far after the value the term may start. */
  readonly after: number;
}

const POSITIVE_WINDOW = { before: 14, after: 6 } as const;
/** No window reaches further than this from a value. */
const MAX_REACH = 16;
const LOOKALIKE_WINDOW = { before: 6, after: 4 } as const;

function terms(
  category: ContextCategory,
  words: string,
  window: { before: number; after: number },
): [string, Term][] {
  return words.split(' ').map((w) => [w.toLowerCase(), { category, ...window }]);
}

/** Context vocabulary. Longest match over joined segments wins, so 会员卡号 is not 卡号. */
const LEXICON: ReadonlyMap<string, Term> = new Map<string, Term>([
  ...terms(
    'mobile',
    '手机 手机号 手机号码 电话 电话号码 打电话 联系电话 联系方式 联系 号码 手机尾号 新号 新号码 打 拨 拨打 请拨 ' +
      '致电 来电 短信 微信 微信号 微信同号 收件人 收货人 联系人 隐私号 虚拟号 虚拟号码 分机 分机号 tel phone mobile ' +
      'cell call 座机',
    POSITIVE_WINDOW,
  ),
  ...terms(
    'national-id',
    '身份证 身份证号 身份证号码 证件 证件号 证件号码 实名 实名认证 清关 报关 海关 公民身份号码 身份信息 sfz',
    POSITIVE_WINDOW,
  ),
  ...terms(
    'bank-card',
    '卡号 银行卡 银行卡号 账号 帐号 账户 帐户 开户 开户行 开户银行 储蓄卡 借记卡 信用卡 户名 银行 卡 ' +
      '工行 建行 农行 中行 招行 交行 工商银行 建设银行 农业银行 中国银行 招商银行 交通银行 邮储银行 浦发银行 ' +
      '兴业银行 中信银行 card',
    POSITIVE_WINDOW,
  ),
  ...terms('email', '邮箱 电子邮箱 邮件 email e-mail mail', POSITIVE_WINDOW),
  ...terms(
    'uscc',
    '信用代码 统一社会信用代码 社会信用代码 税号 纳税人识别号 识别号 营业执照 执照 专票 普票 增值税 开票 抬头 ' +
      '发票抬头 公司 有限公司 单位',
    POSITIVE_WINDOW,
  ),
  ...terms('passport', '护照 护照号 护照号码 passport 通行证 签证', POSITIVE_WINDOW),
  ...terms(
    'lookalike',
    '订单 订单号 订单编号 单号 运单 运单号 快递单号 物流单号 物流号 编号 流水号 交易号 交易单号 支付单号 ' +
      '退款编号 批次 批号 货号 款号 型号 条码 条形码 编码 商品编码 sku imei 串号 序列号 会员号 会员卡号 会员编号 ' +
      '工号 发票号 发票号码 发票代码 取件码 验证码 qq qq号 tid',
    LOOKALIKE_WINDOW,
  ),
  // Amounts and times label what they touch: `¥1288`, `1288元`, `下单时间2026…`, not `…确认时间`.
  ...terms('lookalike', '金额 实付 付款 价格 时间 日期', { before: 4, after: 0 }),
  ...terms('lookalike', '¥ ￥', { before: 1, after: 0 }),
  ...terms('lookalike', '元 块', { before: 0, after: 1 }),
  // Topic words: only a label when they touch the number.
  ...terms('lookalike', '物流 快递', { before: 2, after: 1 }),
  // Compounds that contain a context word but are not context: 手机壳 is a product.
  ...terms('neutral', '手机壳 手机膜 手机支架 手机套 卡片 贺卡 卡通 打包 打折 打开 联系客服', {
    before: 0,
    after: 0,
  }),
]);

const MAX_JOIN = 4;

interface Hit {
  readonly word: string;
  readonly start: number;
  readonly end: number;
  readonly term: Term;
}

let segmenter: Intl.Segmenter | undefined;

/** Text segmented around each candidate: more than any window plus the longest term. */
const SEGMENT_MARGIN = 24;
/** Windows grow by merging up to this size; Intl.Segmenter slows down superlinearly on long inputs. */
const MAX_SEGMENT_SPAN = 2048;

/** The stretches of `s` worth segmenting: around each candidate, merged, in text order. */
function windows(s: string, candidates: readonly Candidate[]): { start: number; end: number }[] {
  const spans = candidates
    .map((c) => ({
      start: Math.max(0, c.start - SEGMENT_MARGIN),
      end: Math.min(s.length, c.end + SEGMENT_MARGIN),
    }))
    .sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const span of spans) {
    const last = out[out.length - 1];
    if (last !== undefined && span.start <= last.end) {
      if (span.end - last.start <= MAX_SEGMENT_SPAN) last.end = Math.max(last.end, span.end);
      else if (span.end > last.end) out.push({ start: last.end, end: span.end });
    } else out.push({ ...span });
  }
  return out;
}

/** Context terms near the candidates: word segments, adjacent ones joined, matched longest first. */
function contextHits(s: string, candidates: readonly Candidate[]): Hit[] {
  segmenter ??= new Intl.Segmenter('zh-CN', { granularity: 'word' });
  const hits: Hit[] = [];
  for (const w of windows(s, candidates)) {
    const found = Array.from(segmenter.segment(s.slice(w.start, w.end)), (x) => ({
      text: x.segment,
      index: x.index + w.start,
    }));
    matchTerms(s, found, hits);
  }
  return hits;
}

function matchTerms(s: string, segments: readonly { text: string; index: number }[], hits: Hit[]): void {
  let i = 0;
  while (i < segments.length) {
    let matched = 0;
    let joined = '';
    let best: Term | undefined;
    for (let k = 0; k < MAX_JOIN && i + k < segments.length; k++) {
      joined += segments[i + k]!.text.toLowerCase();
      const term = LEXICON.get(joined);
      if (term !== undefined) {
        matched = k + 1;
        best = term;
      }
    }
    if (best === undefined) {
      const partial = partialHit(segments[i]!);
      if (partial !== undefined) hits.push(partial);
      i++;
      continue;
    }
    const first = segments[i]!;
    const lastSeg = segments[i + matched - 1]!;
    const end = lastSeg.index + lastSeg.text.length;
    if (best.category !== 'neutral')
      hits.push({ word: s.slice(first.index, end).toLowerCase(), start: first.index, end, term: best });
    i += matched;
  }
}

/** Segments such as 打电话 or 新手机 that begin or end with a context word of two or more characters. */
function partialHit(segment: { readonly text: string; readonly index: number }): Hit | undefined {
  const text = segment.text.toLowerCase();
  for (let len = text.length - 1; len >= 2; len--) {
    for (const [from, word] of [
      [text.length - len, text.slice(text.length - len)],
      [0, text.slice(0, len)],
    ] as const) {
      const term = LEXICON.get(word);
      if (term !== undefined && term.category !== 'neutral') {
        return { word, start: segment.index + from, end: segment.index + from + len, term };
      }
    }
  }
  return undefined;
}

/**
 * Between a look-alike label and the number it names, only separators: `订单号：6222…`,
 * `单号是6222…`. A look-alike word with other words in between (`订单没收到，138…`) names nothing.
 */
const LABEL_GAP = /^[\s:：#＃是为]*$/;

/** After a term: a number of its own follows (`订单4667…`, `手机：139…`), which the term labels. */
const LABELS_NEXT = /^[\s:：#＃是为]{0,2}[0-9A-Za-z+]/;

interface Scored {
  readonly confidence: number;
  readonly context: readonly string[];
}

/** Applies the nearest relevant context term to a candidate's base confidence. */
function score(s: string, c: Candidate, hits: readonly Hit[]): Scored {
  const own: ContextCategory = c.type === 'virtual-number' ? 'mobile' : c.type;
  let nearest: { hit: Hit; distance: number } | undefined;
  const seen: string[] = [];
  // Hits are in text order; only those around the candidate can be in a window.
  let lo = 0;
  let hi = hits.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hits[mid]!.end < c.start - MAX_REACH) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo; k < hits.length && hits[k]!.start <= c.end + MAX_REACH; k++) {
    const hit = hits[k]!;
    const { category } = hit.term;
    if (category !== own && category !== 'lookalike') continue;
    let distance: number;
    if (hit.end <= c.start) {
      const gap = c.start - hit.end;
      const between = s.slice(hit.end, c.start);
      // A term labels the nearest number after it: not ours when another number lies between.
      if (gap > hit.term.before || /\d/.test(between)) continue;
      if (category === 'lookalike' && !LABEL_GAP.test(between)) continue;
      distance = gap;
    } else if (hit.start >= c.end) {
      const gap = hit.start - c.end;
      if (
        gap > hit.term.after ||
        // A look-alike word after a value only labels it when it touches it (`99元`).
        (category === 'lookalike' && gap > 0) ||
        /\d/.test(s.slice(c.end, hit.start)) ||
        LABELS_NEXT.test(s.slice(hit.end, hit.end + 4))
      ) {
        continue;
      }
      distance = gap * 1.5 + 1;
    } else continue;
    if (!seen.includes(hit.word)) seen.push(hit.word);
    if (nearest === undefined || distance < nearest.distance) nearest = { hit, distance };
  }
  let confidence = c.base * c.layout;
  if (nearest !== undefined) {
    if (nearest.hit.term.category === 'lookalike') {
      // Checksummed ids stay reportable: an order number rarely passes region + date + MOD 11-2.
      confidence *= c.type === 'national-id' || c.type === 'email' ? 0.65 : 0.4;
    } else {
      confidence = 1 - (1 - confidence) * 0.2;
    }
  }
  return { confidence: Math.round(Math.min(1, Math.max(0, confidence)) * 100) / 100, context: seen };
}

function maskValue(type: PiiType, value: string): string {
  switch (type) {
    case 'mobile':
    case 'virtual-number':
      return maskPhone(value);
    case 'national-id':
      return maskNationalId(value);
    case 'bank-card':
      return maskBankCard(value);
    case 'email':
      return maskEmail(value);
    case 'uscc':
    case 'passport':
      return maskIdentifier(value);
  }
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Finds personal information in free text. Returns non-overlapping findings in text order, each
 * with its UTF-16 span, masked form and confidence, never the value itself.
 */
export function detectPii(text: string, options: DetectOptions = {}): PiiFinding[] {
  const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const wanted = options.types === undefined ? undefined : new Set(options.types);
  const s = normalize(text);
  const candidates = [...numericCandidates(s), ...textCandidates(s)];
  if (candidates.length === 0) return [];
  const hits = contextHits(s, candidates);
  const scored = candidates.map((c) => ({ c, ...score(s, c, hits) }));
  scored.sort(
    (x, y) =>
      y.c.end - y.c.start - (x.c.end - x.c.start) ||
      y.confidence - x.confidence ||
      x.c.rank - y.c.rank ||
      x.c.start - y.c.start,
  );
  // Candidates span a few dozen units at most: a per-unit mask makes overlap checks linear.
  const taken = new Uint8Array(s.length);
  const findings: PiiFinding[] = [];
  for (const { c, confidence, context } of scored) {
    if (taken.subarray(c.start, c.end).includes(1)) continue;
    taken.fill(1, c.start, c.end);
    if (confidence < minConfidence || (wanted !== undefined && !wanted.has(c.type))) continue;
    findings.push({
      type: c.type,
      start: c.start,
      end: c.end,
      masked: maskValue(c.type, c.value),
      confidence,
      ...(context.length > 0 ? { context } : {}),
    });
  }
  return findings.sort((x, y) => x.start - y.start);
}

/**
 * The text with every finding replaced by its masked form. Findings that overlap an earlier one
 * (in text order) are skipped; spans outside the text are clamped.
 */
export function maskPiiInText(
  text: string,
  findings: readonly Pick<PiiFinding, 'start' | 'end' | 'masked'>[],
): string {
  const ordered = [...findings].sort((x, y) => x.start - y.start || y.end - x.end);
  let out = '';
  let last = 0;
  for (const f of ordered) {
    const start = Math.max(0, Math.min(text.length, f.start));
    const end = Math.max(start, Math.min(text.length, f.end));
    if (start < last || end === start) continue;
    out += text.slice(last, start) + f.masked;
    last = end;
  }
  return out + text.slice(last);
}

/** What a free-text field does with personal information it is not declared to hold. */
export type FreeTextPolicy = 'mask' | 'reject' | 'flag';

export interface FreeTextPolicyOptions {
  /** The PII types the field is declared to hold; these are left alone and not reported. */
  readonly declared: readonly PiiType[];
  readonly policy: FreeTextPolicy;
  /** Default {@link DEFAULT_MIN_CONFIDENCE}. */
  readonly minConfidence?: number;
}

export interface FreeTextPolicyFinding {
  readonly type: PiiType;
  /** Span in the input text. */
  readonly start: number;
  readonly end: number;
  readonly masked: string;
  readonly confidence: number;
}

export interface FreeTextPolicyResult {
  /**
   * The text to store: with undeclared PII masked for `mask`; unchanged for `flag`; unchanged for
   * `reject`, which callers must not store when `action` is `rejected`.
   */
  readonly text: string;
  /** The undeclared PII found, spans relative to the input text. */
  readonly findings: readonly FreeTextPolicyFinding[];
  readonly action: 'masked' | 'rejected' | 'flagged' | 'clean';
}

/**
 * Applies a field's free-text policy: PII whose type the field does not declare is masked
 * (`mask`), makes the value rejected (`reject`) or is only reported (`flag`). Pure.
 */
export function applyFreeTextPolicy(text: string, options: FreeTextPolicyOptions): FreeTextPolicyResult {
  const declared = new Set(options.declared);
  const found = detectPii(
    text,
    options.minConfidence === undefined ? {} : { minConfidence: options.minConfidence },
  );
  const findings = found
    .filter((f) => !declared.has(f.type))
    .map(({ type, start, end, masked, confidence }) => ({ type, start, end, masked, confidence }));
  if (findings.length === 0) return { text, findings, action: 'clean' };
  switch (options.policy) {
    case 'mask':
      return { text: maskPiiInText(text, findings), findings, action: 'masked' };
    case 'reject':
      return { text, findings, action: 'rejected' };
    case 'flag':
      return { text, findings, action: 'flagged' };
  }
}
