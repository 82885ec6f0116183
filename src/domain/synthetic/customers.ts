/**
 * Deterministic synthetic Chinese customers for tests, the demo and benchmarks. Every value is
 * generated from a seed; nothing comes from real people. Randomly drawn mobile and card numbers
 * can still coincide with real ones, so never dial, message or charge them.
 */

import { luhnCheckDigit, residentIdCheckDigit } from '../pii/validators.js';
import { civilFromDays, isoDate, pad2, parseIsoDate, yearsBefore } from './calendar.js';
import { createRng, type Rng, type Seed } from './prng.js';
import { PLACES } from './regions.js';
import {
  CARD_IINS,
  EMAIL_DOMAINS,
  ESTATE_PREFIXES,
  ESTATE_SUFFIXES,
  FEMALE_GIVEN,
  MALE_GIVEN,
  MOBILE_PREFIXES,
  NICK_NOUNS,
  NICK_WORDS,
  ROADS,
  SURNAMES,
  type Syllable,
} from './vocabulary.js';

/** The reference date ages are computed against unless a caller passes another. */
export const DEFAULT_REFERENCE_DATE = '2026-01-01';
/** Youngest and oldest age, in whole years on the reference date. */
export const MIN_AGE = 16;
export const MAX_AGE = 75;

export interface SyntheticAddress {
  /** Province-level division, e.g. `浙江省`, `上海市`. */
  readonly province: string;
  /** City, e.g. `杭州市`; equal to the province for the four municipalities. */
  readonly city: string;
  /** District, e.g. `西湖区`. */
  readonly district: string;
  /** Six-digit GB/T 2260 code of the district; the first six digits of the customer's resident id. */
  readonly regionCode: string;
  /** The city's main six-digit postal code. */
  readonly postalCode: string;
  /** Street, house number, building and room, e.g. `文三路 478 号 3 幢 1201 室`. */
  readonly street: string;
  /** The whole address as a buyer types it: province, city, district and street. */
  readonly full: string;
}

export interface SyntheticCustomer {
  /** Position in the stream, from 0. */
  readonly index: number;
  /** Stable synthetic key, `syn-00000001` for index 0. */
  readonly id: string;
  readonly name: string;
  readonly surname: string;
  readonly givenName: string;
  readonly gender: 'male' | 'female';
  /** `YYYY-MM-DD`; the customer is 16–75 years old on the reference date. */
  readonly birthDate: string;
  /** 18-character resident id: region code of the address, birth date, sequence (odd = male), GB 11643 check. */
  readonly nationalId: string;
  /** 11-digit mainland mobile number with a real network prefix. */
  readonly mobile: string;
  readonly email: string;
  /** 16- or 19-digit UnionPay-style card number (62…) that passes the Luhn check. */
  readonly bankCard: string;
  readonly address: SyntheticAddress;
  /** Tmall OAID (收件人ID): an opaque 32-character string. */
  readonly oaid: string;
  /** buyer_open_uid: the stable per-app buyer identifier. */
  readonly buyerOpenUid: string;
  /** Shop membership number (12 digits). */
  readonly memberId: string;
  /** Taobao nick, e.g. `tb583920174`, `zhangwei88`, `爱吃橘子123`. */
  readonly nick: string;
}

export interface CustomerOptions {
  /** `YYYY-MM-DD`; customers are 16–75 years old on this date. Defaults to {@link DEFAULT_REFERENCE_DATE}. */
  readonly referenceDate?: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** A random mainland mobile number with a real network prefix. */
export function randomMobile(r: Rng): string {
  return r.pick(MOBILE_PREFIXES) + r.digits(8);
}

class CustomerFactory {
  private readonly rng: Rng;
  private readonly earliestBirth: number;
  private readonly latestBirth: number;

  constructor(seed: Seed, options: CustomerOptions) {
    this.rng = createRng(seed, 'customers');
    const reference = parseIsoDate(options.referenceDate ?? DEFAULT_REFERENCE_DATE, 'referenceDate');
    // Age MIN_AGE: born on or before the MIN_AGE-th anniversary. Age MAX_AGE: born after the (MAX_AGE+1)-th.
    this.latestBirth = yearsBefore(reference, MIN_AGE);
    this.earliestBirth = yearsBefore(reference, MAX_AGE + 1) + 1;
  }

  make(index: number): SyntheticCustomer {
    const r = this.rng;
    const gender = r.chance(0.5) ? 'male' : 'female';
    const surname = r.pick(SURNAMES);
    const pool = gender === 'male' ? MALE_GIVEN : FEMALE_GIVEN;
    const given: Syllable[] = r.chance(0.75) ? [r.pick(pool), r.pick(pool)] : [r.pick(pool)];
    const givenName = given.map((s) => s.han).join('');
    const givenPinyin = given.map((s) => s.pinyin).join('');

    const birthDay = this.earliestBirth + r.int(this.latestBirth - this.earliestBirth + 1);
    const [year, month, day] = civilFromDays(birthDay);

    const place = r.pick(PLACES);
    const sequence = gender === 'male' ? 2 * r.int(500) + 1 : 2 * (1 + r.int(499));
    const first17 = `${place.district.code}${year}${pad2(month)}${pad2(day)}${String(sequence).padStart(3, '0')}`;

    const street = randomStreet(r);
    const city = place.city.name === place.province.name ? '' : place.city.name;

    return {
      index,
      id: `syn-${String(index + 1).padStart(8, '0')}`,
      name: surname.han + givenName,
      surname: surname.han,
      givenName,
      gender,
      birthDate: isoDate(birthDay),
      nationalId: first17 + residentIdCheckDigit(first17),
      mobile: randomMobile(r),
      email: randomEmail(r, surname, given, year),
      bankCard: randomBankCard(r),
      address: {
        province: place.province.name,
        city: place.city.name,
        district: place.district.name,
        regionCode: place.district.code,
        postalCode: place.city.postalCode,
        street,
        full: `${place.province.name}${city}${place.district.name}${street}`,
      },
      oaid: r.chars(BASE62, 32),
      buyerOpenUid: `AAH${r.chars(BASE62, 21)}`,
      memberId: `${r.between(1, 9)}${r.digits(11)}`,
      nick: randomNick(r, surname.pinyin + givenPinyin),
    };
  }
}

function randomStreet(r: Rng): string {
  const road = r.pick(ROADS);
  const number = r.between(1, 999);
  const room = `${r.between(1, 32)}${pad2(r.between(1, 6))}`;
  switch (r.int(4)) {
    case 0:
      return `${road} ${number} 号`;
    case 1:
      return `${road} ${number} 号 ${r.between(1, 30)} 幢 ${room} 室`;
    case 2:
      return `${r.pick(ESTATE_PREFIXES)}${r.pick(ESTATE_SUFFIXES)} ${r.between(1, 40)} 栋 ${r.between(1, 4)} 单元 ${room}`;
    default:
      return `${road} ${number} 弄 ${r.between(1, 60)} 号 ${room} 室`;
  }
}

function randomEmail(r: Rng, surname: Syllable, given: readonly Syllable[], birthYear: number): string {
  const roll = r.int(100);
  if (roll < 20) return `${r.between(1, 9)}${r.digits(r.between(4, 9))}@qq.com`; // a QQ number
  const givenPinyin = given.map((s) => s.pinyin).join('');
  let local: string;
  if (roll < 55) local = `${surname.pinyin}${givenPinyin}${r.digits(r.between(2, 4))}`;
  else if (roll < 65) local = `${surname.pinyin}.${givenPinyin}`;
  else if (roll < 75) local = `${surname.pinyin[0]!}${given.map((s) => s.pinyin[0]!).join('')}${birthYear}`;
  else if (roll < 85) local = `${givenPinyin}_${surname.pinyin}${r.digits(2)}`;
  else local = r.chars(LOWER, r.between(6, 10));
  return `${local}@${r.pick(EMAIL_DOMAINS)}`;
}

function randomBankCard(r: Rng): string {
  const length = r.chance(0.75) ? 19 : 16;
  const partial = r.pick(CARD_IINS) + r.digits(length - 7);
  return partial + luhnCheckDigit(partial);
}

function randomNick(r: Rng, pinyin: string): string {
  const roll = r.int(10);
  if (roll < 4) return `tb${r.between(1, 9)}${r.digits(8)}`;
  if (roll < 7) return `${pinyin}${r.digits(r.between(2, 4))}`;
  return `${r.pick(NICK_WORDS)}${r.pick(NICK_NOUNS)}${r.digits(3)}`;
}

function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
}

/**
 * An endless, lazily generated stream of customers. The same seed (and options) always yields
 * the same sequence; `generateCustomers(seed, n)` is its first `n` elements.
 */
export function* customerStream(
  seed: Seed,
  options: CustomerOptions = {},
): Generator<SyntheticCustomer, never, undefined> {
  const factory = new CustomerFactory(seed, options);
  for (let index = 0; ; index++) yield factory.make(index);
}

/** The first `count` customers of {@link customerStream}`(seed, options)`. */
export function generateCustomers(
  seed: Seed,
  count: number,
  options: CustomerOptions = {},
): SyntheticCustomer[] {
  checkCount(count);
  const factory = new CustomerFactory(seed, options);
  const out: SyntheticCustomer[] = [];
  for (let index = 0; index < count; index++) out.push(factory.make(index));
  return out;
}
