import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  findPii,
  isBankCard,
  isCalendarDate,
  isEmail,
  isMainlandMobile,
  isPlatformMasked,
  isPostalCode,
  isValidResidentId,
  isValidUscc,
  isVirtualNumber,
  luhnCheckDigit,
  luhnValid,
  normalizeMobile,
  parseVirtualNumber,
  residentIdBirthDate,
  residentIdCheckDigit,
  residentIdSex,
  usccCheckChar,
} from '../../src/domain/pii/validators.js';

const TODAY = '2026-06-01';

describe('mainland mobile numbers (R32)', () => {
  it.each([
    ['13800138000', '13800138000'],
    ['+8613800138000', '13800138000'],
    ['+86 138 0013 8000', '13800138000'],
    ['008613800138000', '13800138000'],
    ['8613800138000', '13800138000'],
    ['86-138-0013-8000', '13800138000'],
    ['138-0013-8000', '13800138000'],
    [' 199 1234 5678 ', '19912345678'],
  ])('normalises %j', (input, expected) => {
    expect(normalizeMobile(input)).toBe(expected);
    expect(isMainlandMobile(input)).toBe(true);
  });

  it.each([
    '12800138000', // network digit 2
    '1380013800', // 10 digits
    '138001380001', // 12 digits
    '23800138000',
    '+1 13800138000',
    '138O0138000',
    '',
    '18877771111-123', // privacy number (R30)
    '18877771111-1234',
    '138****8000',
  ])('rejects %j', (input) => {
    expect(normalizeMobile(input)).toBeUndefined();
    expect(isMainlandMobile(input)).toBe(false);
  });

  it('accepts every 1[3-9] + 9 digits number, however it is spaced', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^1[3-9]\d{9}$/),
        fc.constantFrom('', '+86', '0086', '86', '+86 '),
        (n, prefix) => {
          const spaced = `${n.slice(0, 3)} ${n.slice(3, 7)}-${n.slice(7)}`;
          expect(normalizeMobile(prefix + n)).toBe(n);
          expect(normalizeMobile(prefix + spaced)).toBe(n);
        },
      ),
    );
  });
});

describe('Taobao privacy numbers (R30)', () => {
  it('parses number + extension', () => {
    expect(parseVirtualNumber('18877771111-123')).toEqual({ number: '18877771111', extension: '123' });
    expect(parseVirtualNumber('18877771111-1234')).toEqual({ number: '18877771111', extension: '1234' });
    expect(parseVirtualNumber('+86 18877771111-123')).toEqual({ number: '18877771111', extension: '123' });
    expect(parseVirtualNumber('18877771111转123')).toEqual({ number: '18877771111', extension: '123' });
    expect(isVirtualNumber('18877771111-123')).toBe(true);
  });

  it.each(['18877771111', '18877771111-12', '18877771111-12345', '12877771111-123', '188-7777-1111'])(
    'rejects %j',
    (input) => {
      expect(isVirtualNumber(input)).toBe(false);
    },
  );
});

describe('platform-masked values', () => {
  it.each(['138****1234', '张*', '张**', 'z***@qq.com', '110***********1234', '李＊'])(
    '%j is masked',
    (v) => {
      expect(isPlatformMasked(v)).toBe(true);
    },
  );
  it.each(['13812341234', '张三', 'zhang@qq.com', ''])('%j is not', (v) => {
    expect(isPlatformMasked(v)).toBe(false);
  });
});

describe('resident identity card numbers (GB 11643-1999)', () => {
  it('computes the ISO 7064 MOD 11-2 check character on the standard examples', () => {
    expect(residentIdCheckDigit('11010519491231002')).toBe('X');
    expect(residentIdCheckDigit('44052418800101001')).toBe('4');
    expect(() => residentIdCheckDigit('1101051949123100')).toThrow(RangeError);
    expect(() => residentIdCheckDigit('1101051949123100X')).toThrow(RangeError);
  });

  it('accepts the standard examples and rejects a wrong check digit', () => {
    expect(isValidResidentId('11010519491231002X', { today: TODAY })).toBe(true);
    expect(isValidResidentId('11010519491231002x', { today: TODAY })).toBe(true);
    // Born 1880: valid per GB 11643, outside the default 1900-01-01 lower bound.
    expect(isValidResidentId('440524188001010014', { today: TODAY, earliest: '1800-01-01' })).toBe(true);
    expect(isValidResidentId('440524188001010014', { today: TODAY })).toBe(false);
    expect(isValidResidentId('110105194912310021', { today: TODAY })).toBe(false);
  });

  it('reads the clock only when no date is given', () => {
    expect(isValidResidentId('11010519491231002X')).toBe(true);
    expect(isValidResidentId('11010519491231002X', { today: new Date('2026-06-01T00:00:00Z') })).toBe(true);
  });

  it('checks the province prefix', () => {
    // Same body with prefixes that are not province-level codes, each with a correct check digit.
    for (const prefix of [
      '10',
      '16',
      '20',
      '24',
      '30',
      '38',
      '40',
      '47',
      '55',
      '60',
      '66',
      '70',
      '72',
      '80',
      '84',
      '99',
    ]) {
      const first17 = `${prefix}010519491231002`;
      expect(isValidResidentId(first17 + residentIdCheckDigit(first17), { today: TODAY })).toBe(false);
    }
    for (const prefix of [
      '11',
      '15',
      '21',
      '23',
      '31',
      '37',
      '41',
      '46',
      '50',
      '54',
      '61',
      '65',
      '71',
      '81',
      '82',
      '83',
    ]) {
      const first17 = `${prefix}010519491231002`;
      expect(isValidResidentId(first17 + residentIdCheckDigit(first17), { today: TODAY })).toBe(true);
    }
  });

  it('checks the calendar date and its range', () => {
    const withCheck = (first17: string) => first17 + residentIdCheckDigit(first17);
    expect(isValidResidentId(withCheck('11010520000229001'), { today: TODAY })).toBe(true); // leap day
    expect(isValidResidentId(withCheck('11010519000229001'), { today: TODAY })).toBe(false); // 1900 not leap
    expect(isValidResidentId(withCheck('11010519910230001'), { today: TODAY })).toBe(false);
    expect(isValidResidentId(withCheck('11010519911301001'), { today: TODAY })).toBe(false);
    expect(isValidResidentId(withCheck('11010519910100001'), { today: TODAY })).toBe(false);
    expect(isValidResidentId(withCheck('11010518991231001'), { today: TODAY })).toBe(false);
    expect(isValidResidentId(withCheck('11010519000101001'), { today: TODAY })).toBe(true);
    expect(isValidResidentId(withCheck('11010520260601001'), { today: TODAY })).toBe(true);
    expect(isValidResidentId(withCheck('11010520260602001'), { today: TODAY })).toBe(false);
    // A Date is read as its day in UTC+8: 2026-06-01T16:30Z is already 2 June in Beijing.
    expect(
      isValidResidentId(withCheck('11010520260602001'), { today: new Date('2026-06-01T16:30:00Z') }),
    ).toBe(true);
  });

  it('rejects malformed input', () => {
    for (const s of [
      '',
      '11010519491231002',
      '11010519491231002XX',
      '1101051949123100 X',
      '11010519491231002Y',
    ]) {
      expect(isValidResidentId(s, { today: TODAY })).toBe(false);
    }
    expect(() => isValidResidentId('11010519491231002X', { today: '2026-13-01' })).toThrow(RangeError);
  });

  it('extracts birth date and sex', () => {
    expect(residentIdBirthDate('11010519491231002X', { today: TODAY })).toBe('1949-12-31');
    expect(residentIdSex('11010519491231002X', { today: TODAY })).toBe('female');
    expect(residentIdBirthDate('110105194912310021', { today: TODAY })).toBeUndefined();
    const first17 = '33010619900512123';
    expect(residentIdSex(first17 + residentIdCheckDigit(first17), { today: TODAY })).toBe('male');
  });

  it('detects every single-character substitution (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('110105', '330106', '440305', '510107', '610113'),
        fc.integer({ min: 0, max: 36_000 }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 0, max: 17 }),
        fc.integer({ min: 1, max: 10 }),
        (region, dayOffset, sequence, position, delta) => {
          const date = new Date(Date.UTC(1920, 0, 1) + dayOffset * 86_400_000)
            .toISOString()
            .slice(0, 10)
            .replaceAll('-', '');
          const first17 = `${region}${date}${String(sequence).padStart(3, '0')}`;
          const id = first17 + residentIdCheckDigit(first17);
          expect(isValidResidentId(id, { today: TODAY })).toBe(true);
          const alphabet = '0123456789X';
          const current = alphabet.indexOf(id[position]!);
          const replacement = alphabet[(current + delta) % 11]!;
          if (position < 17 && replacement === 'X') return;
          const changed = id.slice(0, position) + replacement + id.slice(position + 1);
          expect(isValidResidentId(changed, { today: TODAY })).toBe(false);
        },
      ),
    );
  });
});

describe('isCalendarDate', () => {
  it('knows leap years', () => {
    expect(isCalendarDate(2000, 2, 29)).toBe(true);
    expect(isCalendarDate(1900, 2, 29)).toBe(false);
    expect(isCalendarDate(2024, 2, 29)).toBe(true);
    expect(isCalendarDate(2025, 2, 29)).toBe(false);
    expect(isCalendarDate(2025, 4, 31)).toBe(false);
    expect(isCalendarDate(2025, 12, 31)).toBe(true);
  });
});

describe('bank cards (Luhn)', () => {
  it('validates the reference vectors', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('6212345678901232')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('')).toBe(false);
    expect(luhnValid('4111 1111 1111 1111')).toBe(false);
    expect(isBankCard('4111111111111111')).toBe(true);
    expect(isBankCard('6212345678901232')).toBe(true);
    expect(isBankCard('6212 3456 7890 1232')).toBe(true);
    expect(isBankCard('6212345678901233')).toBe(false);
    expect(isBankCard('79927398713')).toBe(false); // Luhn-valid, too short for a card
  });

  it('luhnCheckDigit completes any prefix, and one changed digit breaks it (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^62\d{13,16}$/),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (partial, at, delta) => {
          const card = partial + luhnCheckDigit(partial);
          expect(isBankCard(card)).toBe(true);
          const i = at % card.length;
          const changed = card.slice(0, i) + String((Number(card[i]) + delta) % 10) + card.slice(i + 1);
          expect(luhnValid(changed)).toBe(false);
        },
      ),
    );
  });
});

describe('Unified Social Credit Codes (GB 32100-2015)', () => {
  it('validates the reference vectors', () => {
    expect(isValidUscc('91350100M000100Y43')).toBe(true);
    expect(isValidUscc('91110000600037341L')).toBe(true);
    expect(usccCheckChar('91350100M000100Y4')).toBe('3');
    expect(usccCheckChar('91110000600037341')).toBe('L');
  });

  it('rejects wrong checks, forbidden characters and bad shapes', () => {
    expect(isValidUscc('91350100M000100Y44')).toBe(false);
    expect(isValidUscc('91110000600037341l')).toBe(false);
    expect(isValidUscc('9135010OM000100Y43')).toBe(false);
    expect(isValidUscc('91350100M000100Y4')).toBe(false);
    expect(isValidUscc('91A50100M000100Y43')).toBe(false);
    expect(() => usccCheckChar('91350100M000100I4')).toThrow(RangeError);
  });
});

describe('email and postal code', () => {
  it.each(['zhangsan@example.com', 'zhang.san+tmall@163.com', '123456@qq.com', 'a_b-c@mail.sub.example.cn'])(
    '%j is an email',
    (s) => {
      expect(isEmail(s)).toBe(true);
    },
  );
  it.each([
    'zhangsan',
    '@qq.com',
    'zhang@',
    'zhang@qq',
    'zhang..san@qq.com',
    '.zhang@qq.com',
    'zhang.@qq.com',
    'z***@qq.com',
    'zhang san@qq.com',
    'zhang@-qq.com',
    'zhang@qq.c0m',
    `${'a'.repeat(65)}@qq.com`,
  ])('%j is not', (s) => {
    expect(isEmail(s)).toBe(false);
  });

  it('postal codes are six digits', () => {
    expect(isPostalCode('310000')).toBe(true);
    expect(isPostalCode('31000')).toBe(false);
    expect(isPostalCode('3100000')).toBe(false);
  });
});

describe('findPii', () => {
  it('finds each kind in prose', () => {
    const text =
      '请放快递柜，电话13912345678；备用 +86 138 0013 8000，虚拟号18877771111-123，' +
      '身份证11010519491231002X，卡号6212 3456 7890 1232，邮箱zhang.san@qq.com。';
    expect(findPii(text).map((m) => [m.kind, m.value])).toEqual([
      ['mobile', '13912345678'],
      ['mobile', '+86 138 0013 8000'],
      ['virtual-number', '18877771111-123'],
      ['national-id', '11010519491231002X'],
      ['bank-card', '6212 3456 7890 1232'],
      ['email', 'zhang.san@qq.com'],
    ]);
    for (const m of findPii(text)) expect(text.slice(m.start, m.end)).toBe(m.value);
  });

  it('ignores look-alikes', () => {
    for (const text of [
      '订单号 3321456789012345679 请尽快发货', // fails Luhn, so not a card
      '数量12件，尺码170',
      '电话138****8000',
      '快递单号 SF1234567890123',
      '身份证110105194912310021',
      '12800138000',
      '13800138000123',
    ]) {
      expect(findPii(text)).toEqual([]);
    }
  });

  it('stays linear on long runs without a match', () => {
    const start = performance.now();
    expect(findPii('a'.repeat(200_000))).toEqual([]);
    expect(findPii('1'.repeat(200_000))).toEqual([]);
    expect(findPii('a.'.repeat(100_000))).toEqual([]);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('returns for 400,000 dots and hyphens inside an email-shaped match', () => {
    for (const run of ['-'.repeat(400_000), '.-'.repeat(200_000)]) {
      expect(findPii(`a@b.${run}c`)).toEqual([]);
      expect(findPii(`邮箱zhangsan@qq.com，a@b.${run}c`).map((m) => m.value)).toEqual(['zhangsan@qq.com']);
    }
  });

  it('prefers the longer and more specific match', () => {
    expect(findPii('13800138000@163.com').map((m) => m.kind)).toEqual(['email']);
    expect(findPii('tel:13800138000-1234').map((m) => m.kind)).toEqual(['virtual-number']);
    expect(findPii('GB 例子 440524188001010014').map((m) => m.kind)).toEqual(['national-id']);
  });
});
