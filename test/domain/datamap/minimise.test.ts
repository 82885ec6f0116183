import { describe, expect, it } from 'vitest';
import {
  fieldsNeeded,
  minimiseForPurpose,
  minimiseRecord,
  screenFreeText,
} from '../../../src/domain/datamap/minimise.js';
import { CustodianError } from '../../../src/domain/errors.js';
import { datamap, field } from './fixtures.js';

const MAP = datamap();
const STRIP = datamap((raw) => {
  raw.collections['profile']!.minimise = 'strip';
  raw.collections['order']!.minimise = 'strip';
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof CustodianError) return error.code;
    throw error;
  }
  throw new Error('expected a CustodianError');
}

describe('fieldsNeeded', () => {
  it('lists the fields a purpose needs, in declared order', () => {
    expect(fieldsNeeded(MAP, 'profile', 'customer-service')).toEqual(['name', 'phone', 'email']);
    expect(fieldsNeeded(MAP, 'profile', 'marketing')).toEqual(['name', 'phone', 'email', 'birthDate']);
    expect(fieldsNeeded(MAP, 'customs', 'marketing')).toEqual([]);
  });

  it('never lists a field the data map leaves incomplete', () => {
    const map = datamap((raw) => delete field(raw, 'profile', 'birthDate').retention);
    expect(fieldsNeeded(map, 'profile', 'marketing')).toEqual(['name', 'phone', 'email']);
  });
});

describe('minimiseForPurpose', () => {
  it('keeps what the purpose needs and refuses the rest (minimise: refuse, the default)', () => {
    expect(minimiseForPurpose(MAP, 'profile', 'customer-service', ['name', 'birthDate', 'phone'])).toEqual({
      keep: ['name', 'phone'],
      refused: ['birthDate'],
      stripped: [],
    });
  });

  it('strips the rest where the collection says minimise: strip', () => {
    expect(minimiseForPurpose(STRIP, 'profile', 'customer-service', ['name', 'birthDate', 'phone'])).toEqual({
      keep: ['name', 'phone'],
      refused: [],
      stripped: ['birthDate'],
    });
  });

  it('always refuses undeclared and incomplete fields, even when stripping', () => {
    const map = datamap((raw) => {
      raw.collections['profile']!.minimise = 'strip';
      delete field(raw, 'profile', 'birthDate').purposes;
    });
    expect(minimiseForPurpose(map, 'profile', 'marketing', ['name', 'nickname', 'birthDate'])).toEqual({
      keep: ['name'],
      refused: ['nickname', 'birthDate'],
      stripped: [],
    });
  });

  it('keeps everything a record for its own purpose carries', () => {
    const fields = ['recipientName', 'phone', 'province', 'city', 'district', 'street'];
    expect(minimiseForPurpose(MAP, 'address', 'order-fulfilment', fields)).toEqual({
      keep: fields,
      refused: [],
      stripped: [],
    });
  });

  it('fails closed on an unknown collection or purpose', () => {
    expect(codeOf(() => minimiseForPurpose(MAP, 'wishlist', 'marketing', ['x']))).toBe(
      'ERR_COLLECT_UNKNOWN_COLLECTION',
    );
    expect(codeOf(() => minimiseForPurpose(MAP, 'profile', 'profiling', ['name']))).toBe(
      'ERR_PURPOSE_UNKNOWN',
    );
    expect(codeOf(() => fieldsNeeded(MAP, 'profile', '__proto__'))).toBe('ERR_PURPOSE_UNKNOWN');
    expect(codeOf(() => fieldsNeeded(MAP, 'constructor', 'marketing'))).toBe(
      'ERR_COLLECT_UNKNOWN_COLLECTION',
    );
  });
});

describe('free text', () => {
  const MOBILE = '13800138000';
  const ID = '11010519491231002X';

  it('reports every PI type found, privacy numbers as mobile, never values', () => {
    const text = `电话${MOBILE}，虚拟号18877771111-123，身份证${ID}，统一社会信用代码91350100M000100Y43，邮箱a.b@example.com`;
    const outcome = screenFreeText({ pii: 'reject', declares: [] }, text);
    expect(outcome).toEqual({ action: 'rejected', types: ['mobile', 'national-id', 'email', 'uscc'] });
    expect(
      screenFreeText({ pii: 'reject', declares: [] }, '订单号 3851234567890124 快递 SF1234567890'),
    ).toEqual({
      action: 'clean',
      value: '订单号 3851234567890124 快递 SF1234567890',
      types: [],
    });
  });

  it('mask: masks undeclared PI in place and keeps the rest of the text', () => {
    expect(screenFreeText({ pii: 'mask', declares: [] }, `请联系${MOBILE}，谢谢`)).toEqual({
      action: 'masked',
      value: '请联系138****8000，谢谢',
      types: ['mobile'],
    });
  });

  it('reject: refuses a text with undeclared PI, naming types only', () => {
    const outcome = screenFreeText({ pii: 'reject', declares: [] }, `身份证${ID}`);
    expect(outcome).toEqual({ action: 'rejected', types: ['national-id'] });
    expect(JSON.stringify(outcome)).not.toContain(ID);
  });

  it('flag: stores the text as written and reports the types', () => {
    expect(screenFreeText({ pii: 'flag', declares: [] }, `打${MOBILE}`)).toEqual({
      action: 'flagged',
      value: `打${MOBILE}`,
      types: ['mobile'],
    });
  });

  it('keeps PI of the declared types and applies the policy to the others only', () => {
    expect(screenFreeText({ pii: 'reject', declares: ['mobile'] }, `打${MOBILE}`)).toEqual({
      action: 'clean',
      value: `打${MOBILE}`,
      types: [],
    });
    expect(screenFreeText({ pii: 'mask', declares: ['mobile'] }, `打${MOBILE} 或 ${ID}`)).toEqual({
      action: 'masked',
      value: `打${MOBILE} 或 110***********002X`,
      types: ['national-id'],
    });
  });

  it('leaves a text without PI alone', () => {
    expect(screenFreeText({ pii: 'reject', declares: [] }, '请周末送货，放门卫')).toEqual({
      action: 'clean',
      value: '请周末送货，放门卫',
      types: [],
    });
  });
});

describe('minimiseRecord', () => {
  const order = { orderId: 'T1', amount: '99.00', status: 'paid', buyerMessage: '到了打13912345678' };

  it('keeps the needed fields and masks free text under pii: mask', () => {
    expect(minimiseRecord(MAP, 'order', 'order-fulfilment', order)).toEqual({
      keep: ['orderId', 'amount', 'status', 'buyerMessage'],
      refused: [],
      stripped: [],
      fields: { ...order, buyerMessage: '到了打139****5678' },
      screened: [{ field: 'buyerMessage', action: 'masked', types: ['mobile'] }],
      failed: false,
    });
  });

  it('fails and stores nothing when a field is refused', () => {
    const result = minimiseRecord(MAP, 'profile', 'customer-service', {
      name: '张三',
      birthDate: '1990-01-01',
    });
    expect(result).toMatchObject({ refused: ['birthDate'], fields: {}, failed: true });
  });

  it('strips and stores the rest under minimise: strip', () => {
    const result = minimiseRecord(STRIP, 'profile', 'customer-service', {
      name: '张三',
      birthDate: '1990-01-01',
    });
    expect(result).toMatchObject({ stripped: ['birthDate'], fields: { name: '张三' }, failed: false });
  });

  it('fails and stores nothing when a free-text policy rejects', () => {
    const map = datamap((raw) => (field(raw, 'order', 'buyerMessage').freeText = { pii: 'reject' }));
    const result = minimiseRecord(map, 'order', 'order-fulfilment', order);
    expect(result).toMatchObject({
      fields: {},
      failed: true,
      screened: [{ field: 'buyerMessage', action: 'rejected', types: ['mobile'] }],
    });
  });

  it('does not screen a field it strips', () => {
    const result = minimiseRecord(STRIP, 'order', 'marketing', order);
    expect(result).toMatchObject({
      keep: [],
      stripped: ['orderId', 'amount', 'status', 'buyerMessage'],
      screened: [],
      fields: {},
      failed: false,
    });
  });
});
