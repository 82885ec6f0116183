import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  findPii,
  isBankCard,
  isEmail,
  isMainlandMobile,
  isPostalCode,
  isValidResidentId,
  residentIdBirthDate,
  residentIdSex,
} from '../../src/domain/pii/validators.js';
import {
  PROVINCES,
  ORDER_STATUSES,
  createRng,
  customerStream,
  generateCustomers,
  generateOrders,
  orderStream,
  type SyntheticCustomer,
} from '../../src/domain/synthetic/index.js';

const REFERENCE = '2026-01-01';

/** Whole years between a `YYYY-MM-DD` birth date and a `YYYY-MM-DD` reference date. */
function age(birth: string, on: string): number {
  const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = on.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

function take<T>(iterable: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  if (n <= 0) return out;
  for (const item of iterable) {
    out.push(item);
    if (out.length === n) break;
  }
  return out;
}

describe('createRng', () => {
  it('is deterministic per seed and label', () => {
    const draw = (seed: number | string, label?: string) => {
      const r = createRng(seed, label);
      return Array.from({ length: 8 }, () => r.uint32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw('abc')).toEqual(draw('abc'));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(1)).not.toEqual(draw('1'));
    expect(draw(1, 'a')).not.toEqual(draw(1, 'b'));
  });

  it('stays in range and is roughly uniform', () => {
    const r = createRng('uniform');
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const v = r.float();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
      buckets[Math.floor(v * 10)]! += 1;
    }
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
    for (let i = 0; i < 1000; i++) {
      const v = r.between(3, 7);
      expect(v >= 3 && v <= 7 && Number.isInteger(v)).toBe(true);
    }
    expect(r.digits(12)).toMatch(/^\d{12}$/);
    expect(() => r.pick([])).toThrow(RangeError);
  });
});

describe('generateCustomers', () => {
  it('is deterministic: same seed → same customers, different seed → different', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.string()), fc.integer({ min: 1, max: 30 }), (seed, n) => {
        expect(generateCustomers(seed, n)).toEqual(generateCustomers(seed, n));
        const other = typeof seed === 'number' ? seed + 1 : `${seed}!`;
        expect(generateCustomers(other, n)).not.toEqual(generateCustomers(seed, n));
      }),
      { numRuns: 50 },
    );
  });

  it('is a prefix of the stream, whatever the count', () => {
    const all = generateCustomers(7, 50);
    expect(generateCustomers(7, 20)).toEqual(all.slice(0, 20));
    expect(take(customerStream(7), 50)).toEqual(all);
    expect(generateCustomers(7, 0)).toEqual([]);
    expect(() => generateCustomers(7, -1)).toThrow(RangeError);
    expect(() => generateCustomers(7, 1.5)).toThrow(RangeError);
  });

  it('pins a known output, so accidental changes to the generator are noticed', () => {
    expect(generateCustomers(42, 1)[0]).toMatchObject({
      index: 0,
      id: 'syn-00000001',
      name: '邹宁晓',
      birthDate: '2006-07-10',
      nationalId: '440605200607107123',
      mobile: '19306349971',
    });
  });

  it('produces valid, internally consistent customers (property)', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        for (const c of generateCustomers(seed, 50)) expectValidCustomer(c, REFERENCE);
      }),
      { numRuns: 40 },
    );
  });

  it('honours another reference date', () => {
    for (const c of generateCustomers('ref', 500, { referenceDate: '2030-06-15' })) {
      expectValidCustomer(c, '2030-06-15');
    }
    expect(() => generateCustomers(1, 1, { referenceDate: '2030-02-30' })).toThrow(RangeError);
  });

  it('covers the age range edges and both sexes', () => {
    const customers = generateCustomers('spread', 20_000);
    const ages = customers.map((c) => age(c.birthDate, REFERENCE));
    expect(Math.min(...ages)).toBe(16);
    expect(Math.max(...ages)).toBe(75);
    const males = customers.filter((c) => c.gender === 'male').length;
    expect(males / customers.length).toBeGreaterThan(0.45);
    expect(males / customers.length).toBeLessThan(0.55);
    const provinces = new Set(customers.map((c) => c.address.province));
    expect(provinces.size).toBe(PROVINCES.length);
    expect(customers.some((c) => c.surname.length === 2)).toBe(true);
    expect(new Set(customers.map((c) => c.email.split('@')[1])).size).toBeGreaterThanOrEqual(7);
    expect(new Set(customers.map((c) => c.mobile)).size).toBeGreaterThan(19_990);
    expect(new Set(customers.map((c) => c.oaid)).size).toBe(customers.length);
  });

  it('is fast enough for benchmarks (well over 100k customers/s on a normal machine)', () => {
    const start = performance.now();
    let n = 0;
    for (const c of customerStream('speed')) {
      n += c.name.length;
      if (c.index === 49_999) break;
    }
    const seconds = (performance.now() - start) / 1000;
    expect(n).toBeGreaterThan(0);
    // Generous bound so that slow CI runners do not flake: 50k customers in under 2 s.
    expect(seconds).toBeLessThan(2);
  });
});

function expectValidCustomer(c: SyntheticCustomer, reference: string): void {
  expect(isValidResidentId(c.nationalId, { today: reference })).toBe(true);
  expect(residentIdBirthDate(c.nationalId, { today: reference })).toBe(c.birthDate);
  expect(residentIdSex(c.nationalId, { today: reference })).toBe(c.gender);
  expect(c.nationalId.slice(0, 6)).toBe(c.address.regionCode);
  const years = age(c.birthDate, reference);
  expect(years).toBeGreaterThanOrEqual(16);
  expect(years).toBeLessThanOrEqual(75);

  expect(isMainlandMobile(c.mobile)).toBe(true);
  expect(c.mobile).toMatch(/^1[3-9]\d{9}$/);
  expect(c.mobile.startsWith('154')).toBe(false);
  expect(isEmail(c.email)).toBe(true);
  expect(isBankCard(c.bankCard)).toBe(true);
  expect(c.bankCard.startsWith('62')).toBe(true);

  expect(c.name).toBe(c.surname + c.givenName);
  expect(c.name).toMatch(/^\p{Script=Han}{2,4}$/u);
  expect(isPostalCode(c.address.postalCode)).toBe(true);
  expect(c.address.regionCode).toMatch(/^\d{6}$/);
  expect(c.address.full.startsWith(c.address.province)).toBe(true);
  expect(c.address.full.endsWith(c.address.street)).toBe(true);
  expect(c.address.full).toContain(c.address.district);
  expect(c.oaid).toMatch(/^[0-9A-Za-z]{32}$/);
  expect(c.buyerOpenUid).toMatch(/^AAH[0-9A-Za-z]{21}$/);
  expect(c.memberId).toMatch(/^[1-9]\d{11}$/);
  expect(c.nick.length).toBeGreaterThan(3);
}

describe('regions', () => {
  it('has consistent GB/T 2260 codes', () => {
    expect(PROVINCES.length).toBeGreaterThanOrEqual(15);
    const codes = new Set<string>();
    for (const province of PROVINCES) {
      expect(province.code).toMatch(/^\d{2}$/);
      expect(province.cities.length).toBeGreaterThanOrEqual(1);
      for (const city of province.cities) {
        expect(isPostalCode(city.postalCode)).toBe(true);
        for (const district of city.districts) {
          expect(district.code.startsWith(province.code)).toBe(true);
          expect(codes.has(district.code)).toBe(false);
          codes.add(district.code);
        }
      }
    }
    const multiCity = PROVINCES.filter((p) => p.cities.length >= 2);
    expect(multiCity.length).toBeGreaterThanOrEqual(15);
  });
});

describe('generateOrders', () => {
  const customers = generateCustomers('orders', 3000);
  const orders = generateOrders('orders', customers);

  it('is deterministic and stream-equivalent', () => {
    expect(generateOrders('orders', customers.slice(0, 100))).toEqual(
      generateOrders('orders', customers.slice(0, 100)),
    );
    expect(generateOrders('other', customers.slice(0, 100))).not.toEqual(
      generateOrders('orders', customers.slice(0, 100)),
    );
    expect(take(orderStream('orders', customers), 200)).toEqual(orders.slice(0, 200));
    // Works on an endless customer stream.
    expect(take(orderStream(1, customerStream(1)), 10)).toHaveLength(10);
  });

  it('produces Tmall-like orders', () => {
    const byCustomer = new Map<string, number>();
    for (const o of orders) {
      expect(o.orderId).toMatch(/^[1-9]\d{17,18}$/);
      expect(o.amount).toMatch(/^\d+\.\d{2}$/);
      expect(o.unitPrice).toMatch(/^\d+\.\d{2}$/);
      const cents = (s: string) => Math.round(Number(s) * 100);
      expect(cents(o.amount)).toBe(cents(o.unitPrice) * o.quantity);
      expect(ORDER_STATUSES[o.statusCode]).toBe(o.status);
      expect(o.createdAt).toMatch(/^2025-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(o.itemTitle.length).toBeGreaterThan(5);
      byCustomer.set(o.customerId, (byCustomer.get(o.customerId) ?? 0) + 1);
    }
    for (const n of byCustomer.values()) expect(n >= 1 && n <= 3).toBe(true);
    expect(byCustomer.size).toBe(customers.length);
    expect(new Set(orders.map((o) => o.orderId)).size).toBe(orders.length);
    expect(new Set(orders.map((o) => o.status))).toEqual(
      new Set(['交易成功', '卖家已发货', '买家已付款', '等待买家付款', '交易关闭']),
    );
    expect(generateOrders(1, customers.slice(0, 10), { perCustomer: 4 })).toHaveLength(40);
    expect(generateOrders(1, customers.slice(0, 10), { perCustomer: 0 })).toEqual([]);
    expect(() => generateOrders(1, customers, { perCustomer: { min: 3, max: 1 } })).toThrow(RangeError);
  });

  it('mostly has messages without PI, and some with each kind', () => {
    const withPii = orders.filter((o) => o.embeddedPii.length > 0).length;
    expect(withPii / orders.length).toBeGreaterThan(0.1);
    expect(withPii / orders.length).toBeLessThan(0.2);
    const kinds = new Set(orders.flatMap((o) => o.embeddedPii.map((p) => p.kind)));
    expect(kinds).toEqual(new Set(['mobile', 'virtual-number', 'national-id', 'email', 'bank-card']));
    expect(orders.filter((o) => o.buyerMessage === '').length / orders.length).toBeGreaterThan(0.3);
  });

  it('labels embedded PI exactly as findPii detects it (ground truth for detectors)', () => {
    for (const o of generateOrders('truth', customers, { piiRate: 0.6 })) {
      const found = findPii(o.buyerMessage).map((m) => ({ kind: m.kind, value: m.value }));
      expect(found).toEqual(o.embeddedPii);
      for (const p of o.embeddedPii) expect(o.buyerMessage).toContain(p.value);
    }
  });
});
