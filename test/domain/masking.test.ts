import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { MaskStyle } from '../../src/domain/datamap/taxonomy.js';
import { CATEGORIES } from '../../src/domain/datamap/taxonomy.js';
import { FULL_MASK, mask } from '../../src/domain/masking.js';
import { findPii } from '../../src/domain/pii/validators.js';
import { generateCustomers, generateOrders } from '../../src/domain/synthetic/index.js';

const PERSONAL_STYLES: readonly MaskStyle[] = [
  'name',
  'phone',
  'email',
  'national-id',
  'bank-card',
  'street',
  'date',
  'identifier',
  'full',
];

describe('mask: the documented examples', () => {
  it.each<[MaskStyle, string, string]>([
    ['phone', '13812341234', '138****1234'],
    ['phone', '+86 138 1234 1234', '138****1234'],
    ['phone', '+8613812341234', '138****1234'],
    ['phone', '0086-138-1234-1234', '138****1234'],
    ['phone', '18877771111-123', '188****1111-***'],
    ['phone', '18877771111-1234', '188****1111-****'],
    ['phone', '0571-88886666', '0571-****6666'],
    ['phone', '010 12345678-806', '010-****5678-***'],
    ['phone', '+1 415 555 2671', '+14****2671'],
    ['phone', '138****1234', '138****1234'],
    ['name', '张三', '张*'],
    ['name', '张三丰', '张**'],
    ['name', '王小明', '王**'],
    ['name', '欧阳娜娜', '欧阳**'],
    ['name', '司马懿', '司马*'],
    ['name', '诸葛孔明', '诸葛**'],
    ['name', '欧阳', '欧*'],
    ['name', '迪丽热巴·迪力木拉提', '迪***·*****'],
    ['name', 'Zhang Wei', 'Z***'],
    ['name', 'john', 'j***'],
    ['national-id', '110105194912311234', '110***********1234'],
    ['national-id', '11010519491231002X', '110***********002X'],
    ['national-id', '110105491231123', '110********1123'],
    ['bank-card', '6222021234567893445', '622202*********3445'],
    ['bank-card', '4111 1111 1111 1111', '411111******1111'],
    ['bank-card', '12345678', '****5678'],
    ['email', 'zhangsan@example.com', 'z***@example.com'],
    ['email', 'z@example.com', '***@example.com'],
    ['email', '  li.si@163.com ', 'l***@163.com'],
    ['street', '文三路 478 号 3 幢 1201 室', '****'],
    ['region', '浙江省', '浙江省'],
    ['region', '西湖区', '西湖区'],
    ['date', '1990-05-12', '1990-**-**'],
    ['date', '1990/5/12', '1990-**-**'],
    ['date', '19900512', '1990-**-**'],
    ['date', '1990年5月12日', '1990-**-**'],
    ['date', '1990-05-12T08:00:00+08:00', '1990-**-**'],
    ['identifier', 'AAHk5d9bQ3xZ', 'AA****xZ'],
    ['identifier', '1ZruaEhq4bdw0icdTZ1Qd4ibiaUjhnic', '1Z****ic'],
    ['identifier', 'tb12345678', 'tb****78'],
    ['free-text', '请联系13800138000', '请联系138****8000'],
    ['free-text', '请放快递柜，电话139 1234 5678，谢谢', '请放快递柜，电话139****5678，谢谢'],
    ['free-text', '清关身份证11010519491231002X', '清关身份证110***********002X'],
    ['free-text', '发票发到zhangsan@qq.com谢谢', '发票发到z***@qq.com谢谢'],
    ['free-text', '退到卡 6222021234567893445', '退到卡 622202*********3445'],
    ['free-text', '号码18877771111-123打不通', '号码188****1111-***打不通'],
    ['free-text', '请尽快发货，谢谢', '请尽快发货，谢谢'],
    ['free-text', '订单号 3321456789012345679', '订单号 3321456789012345679'],
    // A Luhn-valid 19-digit number cannot be told from a bank card: it is masked (over-masking is safe).
    ['free-text', '订单号 3321456789012345678', '订单号 332145*********5678'],
    ['full', '1, Some Street', '******'],
    ['full', '', '******'],
    ['none', '3321456789012345678', '3321456789012345678'],
  ])('%s %j → %j', (style, input, expected) => {
    expect(mask(style, input)).toBe(expected);
  });
});

describe('mask: free text is masked with the context-aware detector', () => {
  it.each<[string, string]>([
    ['请打电话１３８００１３８０００', '请打电话138****8000'],
    ['身份证110105 19491231 002X', '身份证110***********002X'],
    ['身份证１１０１０５１９４９１２３１００２Ｘ', '身份证110***********002X'],
    ['邮箱ｚｈａｎｇｓａｎ＠ｑｑ．ｃｏｍ', '邮箱z***@qq.com'],
    ['邮箱zhangsan＠qq.com', '邮箱z***@qq.com'],
    ['订单没收到，13800138000', '订单没收到，138****8000'],
    ['加vx13800138000', '加vx138****8000'],
    ['护照号E12345678', '护照号******'],
  ])('%j → %j', (input, expected) => {
    expect(mask('free-text', input)).toBe(expected);
  });

  it('masks every candidate, however low its confidence', () => {
    // A 19-digit Visa-shaped number after 编号 scores far below the detector's default threshold.
    expect(mask('free-text', '编号4111111111111111110')).toBe('编号411111*********1110');
  });
});

describe('mask: values too short to mask', () => {
  it.each<[MaskStyle, string]>([
    ['phone', '110'],
    ['phone', '12345'],
    ['phone', ''],
    ['name', '张'],
    ['name', 'J'],
    ['name', ''],
    ['email', 'zhangsan'],
    ['email', 'zhang@'],
    ['national-id', '1101051990'],
    ['bank-card', '1234567'],
    ['date', 'yesterday'],
    ['identifier', 'abc123'],
    ['identifier', 'E12345678'],
  ])('%s %j → fixed stars', (style, input) => {
    expect(mask(style, input)).toBe(FULL_MASK);
  });

  it('never hands a personal value back unchanged (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PERSONAL_STYLES), fc.string({ maxLength: 40 }), (style, value) => {
        const masked = mask(style, value);
        // Only an already-masked value may come back as it is.
        if (masked === value) expect(value).toMatch(/\*/);
      }),
    );
  });

  it('full masking hides the length', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        expect(mask('full', value)).toBe(FULL_MASK);
      }),
    );
  });

  it('covers every style the taxonomy uses', () => {
    for (const spec of Object.values(CATEGORIES)) {
      expect(typeof mask(spec.mask, 'x')).toBe('string');
    }
  });
});

describe('mask: generated customers (property)', () => {
  const customers = generateCustomers('masking', 2000);

  it('never reveals a full phone, id, email, bank card or name', () => {
    fc.assert(
      fc.property(fc.constantFrom(...customers), (c) => {
        const phone = mask('phone', c.mobile);
        expect(phone).toMatch(/^1\d{2}\*{4}\d{4}$/);
        expect(phone).not.toContain(c.mobile);

        const id = mask('national-id', c.nationalId);
        expect(id).toHaveLength(18);
        expect(id).not.toContain(c.nationalId);
        expect(id).not.toContain(c.birthDate.replaceAll('-', ''));
        expect(id).not.toContain(c.address.regionCode);

        const email = mask('email', c.email);
        expect(email).not.toContain(c.email);
        expect(email.endsWith(`@${c.email.split('@')[1]!}`)).toBe(true);

        const card = mask('bank-card', c.bankCard);
        expect(card).toHaveLength(c.bankCard.length);
        expect(card).not.toContain(c.bankCard);

        const name = mask('name', c.name);
        expect(name).not.toContain(c.name);
        expect(name).not.toContain(c.givenName);
        expect(name.startsWith(c.surname)).toBe(true);

        expect(mask('street', c.address.street)).toBe('****');
        expect(mask('date', c.birthDate)).toBe(`${c.birthDate.slice(0, 4)}-**-**`);
        for (const identifier of [c.oaid, c.buyerOpenUid, c.memberId]) {
          expect(mask('identifier', identifier)).not.toContain(identifier);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('free-text masking removes every piece of PI a buyer message embeds', () => {
    const orders = generateOrders('masking', customers, { perCustomer: 2, piiRate: 0.5 });
    const withPii = orders.filter((o) => o.embeddedPii.length > 0);
    expect(withPii.length).toBeGreaterThan(1000);
    for (const order of orders) {
      const masked = mask('free-text', order.buyerMessage);
      for (const pii of order.embeddedPii) {
        expect(masked).not.toContain(pii.value);
        const digits = pii.value.replace(/\D/g, '');
        if (pii.kind !== 'email') expect(masked.replace(/[^\d*]/g, '')).not.toContain(digits.slice(-11));
      }
      expect(findPii(masked)).toEqual([]);
      if (order.embeddedPii.length === 0) expect(masked).toBe(order.buyerMessage);
    }
  });
});
