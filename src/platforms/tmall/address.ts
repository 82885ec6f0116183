/**
 * Splits the one-string 收货地址 of a Tmall order export into province, city, district and street.
 *
 * The seller centre writes the parts separated by spaces (`浙江省 杭州市 西湖区 文三路 478 号`,
 * `北京 北京市 朝阳区 …`); hand-edited files and other tools often run them together
 * (`浙江省杭州市西湖区文三路478号`). Both are handled: spaces first, then the suffix patterns of
 * the administrative levels (GB/T 2260): 省 / 自治区 / 直辖市 / 特别行政区; 市 / 自治州 / 州 / 盟 /
 * 地区; 区 / 县 / 旗 / 市. Pure: no I/O.
 */

/** The 34 province-level divisions: full name and the short form exports also use. */
const PROVINCES: readonly (readonly [full: string, short: string])[] = [
  ['北京市', '北京'],
  ['天津市', '天津'],
  ['上海市', '上海'],
  ['重庆市', '重庆'],
  ['河北省', '河北'],
  ['山西省', '山西'],
  ['辽宁省', '辽宁'],
  ['吉林省', '吉林'],
  ['黑龙江省', '黑龙江'],
  ['江苏省', '江苏'],
  ['浙江省', '浙江'],
  ['安徽省', '安徽'],
  ['福建省', '福建'],
  ['江西省', '江西'],
  ['山东省', '山东'],
  ['河南省', '河南'],
  ['湖北省', '湖北'],
  ['湖南省', '湖南'],
  ['广东省', '广东'],
  ['海南省', '海南'],
  ['四川省', '四川'],
  ['贵州省', '贵州'],
  ['云南省', '云南'],
  ['陕西省', '陕西'],
  ['甘肃省', '甘肃'],
  ['青海省', '青海'],
  ['台湾省', '台湾'],
  ['内蒙古自治区', '内蒙古'],
  ['广西壮族自治区', '广西'],
  ['西藏自治区', '西藏'],
  ['宁夏回族自治区', '宁夏'],
  ['新疆维吾尔自治区', '新疆'],
  ['香港特别行政区', '香港'],
  ['澳门特别行政区', '澳门'],
];

/** The four municipalities (直辖市): the city level repeats the province or reads 市辖区 / 县. */
const MUNICIPALITIES: ReadonlySet<string> = new Set(['北京市', '天津市', '上海市', '重庆市']);

/** Full names first, longest first, so `内蒙古自治区` wins over `内蒙古`. */
const PROVINCE_NAMES: readonly (readonly [text: string, full: string])[] = [
  ...PROVINCES.map(([full]) => [full, full] as const),
  ...PROVINCES.map(([full, short]) => [short, full] as const),
].sort((a, b) => b[0].length - a[0].length);

/** A generic province-level name for divisions missing from the table (future renames). */
const PROVINCE_SUFFIX = /^([^\s市区县]{2,8}?(?:省|自治区|特别行政区))/u;

/** Characters no division name contains: a street, building or room starts there. */
const NEVER = '\\s\\d０-９号室栋幢弄';
/** Street words; division names with them are rare enough to list ({@link GLUED_DISTRICTS}). */
const STREETISH = '路街巷村';

/** City-level names in run-together text, most specific suffix first (自治州 before 州, 地区 before 区). */
const CITY_PATTERNS: readonly RegExp[] = [
  new RegExp(`^([^${NEVER}${STREETISH}市区县旗]{1,12}?自治州)`, 'u'),
  new RegExp(`^([^${NEVER}${STREETISH}市区县旗]{1,10}?地区)`, 'u'),
  new RegExp(`^([^${NEVER}${STREETISH}市区县旗]{1,10}?盟)`, 'u'),
  new RegExp(`^([^${NEVER}${STREETISH}市区县旗]{1,10}?市)`, 'u'),
  new RegExp(`^([^${NEVER}${STREETISH}市区县旗]{1,10}?州)`, 'u'),
];

/**
 * District-level names in run-together text: 区, 县 (自治县), 旗 (自治旗), 市 (county-level
 * cities), 林区; 市中区 and 市南区 exist, so 市 may occur inside.
 */
const DISTRICT_PATTERN = new RegExp(`^([^${NEVER}${STREETISH}区县旗]{1,12}?(?:区|县|旗|市))`, 'u');
/** Districts whose names hold a street word, recognised run together too. */
const GLUED_DISTRICTS: readonly string[] = ['路南区', '路北区', '路桥区', '让胡路区'];
/** Place names ending like a district that are estates or parks, not districts. */
const NOT_A_DISTRICT = /(?:小区|社区|园区|校区|厂区|景区|营区|工业区|开发区)$/u;

/** A whole space-separated token of each level (the seller centre's spaced format). */
const CITY_TOKEN = new RegExp(`^[^${NEVER}]{1,14}(?:市|自治州|州|盟|地区)$`, 'u');
const DISTRICT_TOKEN = new RegExp(`^[^${NEVER}]{1,14}(?:区|县|旗|市)$`, 'u');

/** What a municipality's city level may read instead of the city itself. */
const MUNICIPAL_CITY = /^(?:市辖区|郊县|县(?=\s))/u;

export interface SplitAddress {
  readonly province: string;
  readonly city: string;
  readonly district: string;
  readonly street: string;
}

export type AddressSplit =
  | { readonly ok: true; readonly address: SplitAddress }
  /** Not recognisable: the whole text is the street, the region fields stay empty. */
  | { readonly ok: false; readonly street: string };

/** Full-width spaces, tabs and runs of spaces become one space; a trailing postal code goes. */
function tidy(text: string): string {
  return text
    .replace(/[\u3000\u00a0\t]/gu, ' ')
    .replace(/\s*[(（]\s*\d{6}\s*[)）]\s*$/u, '')
    .replace(/\s*[,，]\s*\d{6}\s*$/u, '')
    .replace(/ {2,}/gu, ' ')
    .trim();
}

function matchProvince(text: string): { full: string; rest: string } | undefined {
  for (const [name, full] of PROVINCE_NAMES) {
    if (text.startsWith(name)) return { full, rest: text.slice(name.length).trimStart() };
  }
  const m = PROVINCE_SUFFIX.exec(text);
  return m ? { full: m[1]!, rest: text.slice(m[1]!.length).trimStart() } : undefined;
}

/** Removes a leading token that is exactly `name` (followed by a space or nothing) or `name` glued. */
function take(text: string, pattern: RegExp): { value: string; rest: string } | undefined {
  const m = pattern.exec(text);
  if (!m) return undefined;
  return { value: m[1] ?? m[0], rest: text.slice(m[0].length).trimStart() };
}

/**
 * Splits a Chinese mainland (and HK/Macao/Taiwan) address into its four parts. Returns
 * `{ ok: false }` with the whole (tidied) text as the street when no province is recognised.
 */
export function splitAddress(raw: string): AddressSplit {
  const text = tidy(raw);
  if (text === '') return { ok: false, street: '' };
  const province = matchProvince(text);
  if (province === undefined) return { ok: false, street: text };
  let rest = province.rest;
  let city = '';
  if (MUNICIPALITIES.has(province.full)) {
    // 北京 北京市 朝阳区 … / 北京市朝阳区 … / 上海 上海市 市辖区 …
    city = province.full;
    const short = province.full.slice(0, -1);
    for (const repeat of [province.full, short]) {
      if (rest.startsWith(repeat)) {
        rest = rest.slice(repeat.length).trimStart();
        break;
      }
    }
    const municipal = take(rest, MUNICIPAL_CITY);
    if (municipal) rest = municipal.rest;
  } else {
    const tokens = rest.split(' ');
    // Spaced export format: the next token is the city when it has a city-level suffix.
    const spaced = tokens.length > 1 && CITY_TOKEN.test(tokens[0]!);
    const found = spaced
      ? { value: tokens[0]!, rest: tokens.slice(1).join(' ') }
      : CITY_PATTERNS.map((p) => take(rest, p)).find((t) => t !== undefined);
    if (found) {
      city = found.value;
      rest = found.rest;
    }
  }
  let district = '';
  const tokens = rest.split(' ');
  if (tokens.length > 1 && DISTRICT_TOKEN.test(tokens[0]!) && !NOT_A_DISTRICT.test(tokens[0]!)) {
    district = tokens[0]!;
    rest = tokens.slice(1).join(' ');
  } else {
    const known = GLUED_DISTRICTS.find((d) => rest.startsWith(d));
    const found = known
      ? { value: known, rest: rest.slice(known.length).trimStart() }
      : take(rest, DISTRICT_PATTERN);
    // A "district" that is the whole rest, or an estate (`某某小区`), is the street.
    if (found && found.rest !== '' && !NOT_A_DISTRICT.test(found.value)) {
      district = found.value;
      rest = found.rest;
    }
  }
  return { ok: true, address: { province: province.full, city, district, street: rest.trim() } };
}
