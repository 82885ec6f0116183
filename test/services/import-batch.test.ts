import { createSecretKey, randomBytes } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AES_256_GCM } from '../../src/crypto/aead.js';
import { openField } from '../../src/crypto/envelope.js';
import { uuidv7 } from '../../src/crypto/uuid.js';
import { generateCustomers, type SyntheticCustomer } from '../../src/domain/synthetic/index.js';
import { rejectRow } from '../../src/platforms/tmall/rows.js';
import {
  collectionSpec,
  identityContext,
  lookupKey,
  prepareCollect,
  sealPlanned,
  unpackSealed,
  type CollectMeta,
  type IdentityMeta,
  type KeyedLookup,
  type PackedSealed,
} from '../../src/services/collect-plan.js';
import { decodeRows, encodeRows, type EncodedRows, type RowMeta } from '../../src/services/import-batch.js';
import { decodeSealedFields } from '../../src/services/sealed-record.js';
import { testApp, type TestApp } from '../support/app.js';
import { ByteScanner } from '../support/scan.js';

const keyed = (kind: IdentityMeta['kind'], indexVersion: number, fill: number): KeyedLookup => {
  const lookup = { kind, indexVersion, token: Buffer.alloc(16, fill) };
  return { ...lookup, key: lookupKey(lookup) };
};

const identity = (kind: IdentityMeta['kind'], ...lookups: KeyedLookup[]): IdentityMeta => ({
  kind,
  current: lookups[0]!,
  lookups,
});

const orderRecord = (orderId: string, fill: number): CollectMeta => ({
  collection: 'order',
  purpose: 'order-fulfilment',
  source: 'tmall:export',
  subjectId: undefined,
  subjectOf: undefined,
  given: ['oaid', 'memberId'],
  identities: [
    identity('oaid', keyed('oaid', 1, fill)),
    identity('memberId', keyed('memberId', 1, fill + 1)),
  ],
  fieldNames: ['orderId', 'amount', 'buyerNick'],
  plain: { orderId, amount: '12.50' },
  sensitive: false,
  stripped: [],
  screened: [],
});

const addressRecord = (fill: number): CollectMeta => ({
  collection: 'address',
  purpose: 'order-fulfilment',
  source: 'tmall:export',
  subjectId: undefined,
  subjectOf: 0,
  given: [],
  identities: [identity('phone', keyed('phone', 1, fill))],
  fieldNames: ['recipientName', 'phone', 'street'],
  plain: null,
  sensitive: false,
  stripped: [],
  screened: [],
});

/** A batch with every kind of row and record the importer sends. */
function batch(): RowMeta[] {
  return [
    {
      kind: 'order',
      ordinal: 1,
      orderId: '1001',
      keyed: true,
      drops: {},
      records: [orderRecord('1001', 1), addressRecord(3)],
    },
    rejectRow(2, 3, ['date-invalid', 'amount-invalid'], ['订单创建时间']),
    {
      kind: 'order',
      ordinal: 3,
      orderId: '1003',
      keyed: false,
      drops: { masked: 2, privacyNumberDropped: 1 },
      records: [
        {
          ...orderRecord('1003', 4),
          // During an index-key rotation: looked up under versions 2 and 1, stored under 2.
          identities: [identity('oaid', keyed('oaid', 2, 5), keyed('oaid', 1, 6))],
          given: ['oaid'],
          stripped: ['buyerMessage'],
          screened: [{ field: 'buyerMessage', action: 'masked', types: ['phone', 'email'] }],
          sensitive: true,
        },
        { ...addressRecord(7), subjectOf: 2, subjectId: '01890a5d-ac96-774b-bcce-b302099a8057', plain: {} },
      ],
    },
    {
      kind: 'order',
      ordinal: 4,
      orderId: '1004',
      keyed: true,
      drops: {},
      records: [orderRecord('1004', 8), addressRecord(9)],
    },
  ];
}

/** Across threads, as a worker's message arrives: structured clone, Buffers as plain Uint8Arrays. */
function posted<T>(message: T): T {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(message);
  const received = receiveMessageOnPort(port2)!.message as T;
  port1.close();
  return received;
}

describe('a batch of the import worker as it crosses threads', () => {
  it('decodes to the rows encoded, tokens as Buffers and lookup keys as before', () => {
    const rows = batch();
    const decoded = decodeRows(posted(encodeRows(rows)));

    expect(decoded).toEqual(rows);
    const record = (decoded[2] as Extract<RowMeta, { kind: 'order' }>).records[0]!;
    expect(Buffer.isBuffer(record.identities[0]!.lookups[1]!.token)).toBe(true);
    expect(record.identities[0]!.current).toBe(record.identities[0]!.lookups[0]);
    expect(record.identities[0]!.lookups.map((l) => l.key)).toEqual([
      `oaid|2|${'05'.repeat(16)}`,
      `oaid|1|${'06'.repeat(16)}`,
    ]);
  });

  it('sends each record shape once per batch, and per row only what varies', () => {
    const rows: RowMeta[] = Array.from({ length: 1000 }, (_, i) => ({
      kind: 'order',
      ordinal: i + 1,
      orderId: String(5000 + i),
      keyed: true,
      drops: {},
      records: [orderRecord(String(5000 + i), i % 200), addressRecord((i + 7) % 200)],
    }));
    const encoded = encodeRows(rows);

    expect(encoded.shapes).toHaveLength(2);
    // Per row: a tag, ordinal, keyed, record count, and shape and subjectOf per record.
    expect(encoded.numbers).toHaveLength(1000 * 8);
    // Per row: order id, drops, and the order record's two plain values.
    expect(encoded.strings).toHaveLength(1000 * 4);
    expect(encoded.tokens).toHaveLength(1000 * 3 * 16);
    expect(decodeRows(posted(encoded))).toEqual(rows);
  });

  it('tells apart records of one collection whose fields differ, in which or in their order', () => {
    const base = orderRecord('7001', 1);
    const variants: CollectMeta[] = [
      base,
      { ...base, fieldNames: ['orderId', 'buyerNick'], plain: { orderId: '7002' } },
      { ...base, plain: { amount: '99.00', orderId: '7003' } },
      { ...base, plain: { orderId: '7004', amount: '1.00', status: '交易成功' } },
      { ...base, plain: null, fieldNames: ['buyerNick'] },
      { ...base, given: ['oaid'], identities: [base.identities[0]!] },
      { ...base, purpose: 'marketing' },
      base,
    ];
    const rows: RowMeta[] = variants.map((record, i) => ({
      kind: 'order',
      ordinal: i + 1,
      orderId: String(7001 + i),
      keyed: true,
      drops: {},
      records: [record],
    }));
    const encoded = encodeRows(rows);

    expect(encoded.shapes).toHaveLength(7);
    const decoded = decodeRows(posted(encoded)) as Extract<RowMeta, { kind: 'order' }>[];
    expect(decoded).toEqual(rows);
    expect(decoded.map((r) => Object.keys(r.records[0]!.plain ?? {}))).toEqual(
      variants.map((v) => Object.keys(v.plain ?? {})),
    );
  });

  it('refuses to encode a row ordinal beyond 2^31 - 1 rather than wrap it', () => {
    const [row] = batch() as [Extract<RowMeta, { kind: 'order' }>];
    expect(() => encodeRows([{ ...row, ordinal: 2 ** 31 - 1 }])).not.toThrow();
    expect(() => encodeRows([{ ...row, ordinal: 2 ** 31 }])).toThrow(RangeError);
  });

  it('refuses a batch that does not read to its end', () => {
    const encoded = encodeRows(batch());
    const cases: EncodedRows[] = [
      { ...encoded, numbers: encoded.numbers.subarray(0, encoded.numbers.length - 1) },
      { ...encoded, strings: encoded.strings.slice(0, -1) },
      { ...encoded, strings: [...encoded.strings, 'extra'] },
      { ...encoded, tokens: encoded.tokens.subarray(0, encoded.tokens.length - 1) },
      { ...encoded, tokens: Buffer.concat([encoded.tokens, Buffer.alloc(16)]) },
      { ...encoded, rejects: [] },
      { ...encoded, shapes: encoded.shapes.slice(0, 1) },
      { ...encoded, numbers: Int32Array.from([7, ...encoded.numbers]) },
    ];
    for (const bad of cases)
      expect(() => decodeRows(bad)).toThrow('the import thread sent a malformed batch');
  });
});

/** A customer's personal values, labelled by field, so a failure names what leaked, never the value. */
function personalValues(c: SyntheticCustomer): ByteScanner {
  return new ByteScanner(
    Object.entries({
      oaid: c.oaid,
      nick: c.nick,
      name: c.name,
      mobile: c.mobile,
      street: c.address.street,
    }).map(([label, value]) => ({ label, bytes: Buffer.from(value) })),
  );
}

describe('a prepared record given as the batch meta', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  it('crosses without its personal values: only its names, plain fields and tokens', () => {
    const [c] = generateCustomers('import-batch', 1);
    const datamap = t.runtime.vault.datamap;
    const prepare = (input: Parameters<typeof prepareCollect>[3]) =>
      prepareCollect(datamap, t.runtime.indexer, collectionSpec(datamap, input.collection), input);
    const order = prepare({
      collection: 'order',
      identities: { oaid: c!.oaid, memberId: c!.nick },
      fields: { orderId: '3477832381887116968', buyerNick: c!.nick },
      purpose: 'order-fulfilment',
      source: 'tmall:export',
    });
    const address = prepare({
      collection: 'address',
      subjectOf: 0,
      fields: { recipientName: c!.name, phone: c!.mobile, street: c!.address.street },
      purpose: 'order-fulfilment',
      source: 'tmall:export',
    });
    const rows: RowMeta[] = [
      {
        kind: 'order',
        ordinal: 1,
        orderId: '3477832381887116968',
        keyed: true,
        drops: {},
        records: [order, address],
      },
    ];
    const encoded = posted(encodeRows(rows));

    const scanner = personalValues(c!);
    const crossed = Buffer.concat([
      Buffer.from(JSON.stringify({ ...encoded, tokens: undefined })),
      Buffer.from(encoded.tokens),
    ]);
    expect([...scanner.scan(crossed)]).toEqual([]);
    const [decoded] = decodeRows(encoded) as [Extract<RowMeta, { kind: 'order' }>];
    expect(decoded.records.map((r) => 'sealed' in r)).toEqual([false, false]);
    expect(decoded.records[1]!.identities.map((i) => 'normalized' in i)).toEqual([false]);
    expect(decoded.records[0]!.identities.map((i) => i.current.key)).toEqual(
      order.identities.map((i) => i.current.key),
    );
  });

  it('is sealed in one buffer of its own, which opens field by field once it has crossed', () => {
    const [c] = generateCustomers('import-batch-sealed', 1);
    const datamap = t.runtime.vault.datamap;
    const prepare = (input: Parameters<typeof prepareCollect>[3]) =>
      prepareCollect(datamap, t.runtime.indexer, collectionSpec(datamap, input.collection), input);
    const prepared = [
      prepare({
        collection: 'order',
        identities: { oaid: c!.oaid, memberId: c!.buyerOpenUid },
        fields: { orderId: '3477832381887116968', amount: '12.50', buyerNick: c!.nick },
        purpose: 'order-fulfilment',
      }),
      prepare({
        collection: 'address',
        subjectOf: 0,
        fields: { recipientName: c!.name, phone: c!.mobile, street: c!.address.street },
        purpose: 'order-fulfilment',
      }),
    ];
    const subjectId = uuidv7();
    const key = {
      subjectId,
      version: 3,
      suite: 'aes-256-gcm' as const,
      key: createSecretKey(randomBytes(32)),
    };
    const subject = { subjectId, key, created: true };
    const recordIds = [uuidv7(), uuidv7()];
    const writes = prepared.flatMap((p, record) => p.identities.map((_, identity) => ({ record, identity })));
    const packed = sealPlanned(
      prepared,
      { subjects: [subject, subject], recordIds, writes },
      { suite: AES_256_GCM },
    );

    // Its own memory: posting it copies the batch and nothing else.
    expect(packed.bytes.buffer.byteLength).toBe(packed.bytes.byteLength);
    const crossed = posted(packed);
    const scanner = personalValues(c!);
    expect([...scanner.scan(Buffer.from(crossed.bytes))]).toEqual([]);

    const sealed = unpackSealed(crossed);
    const opened = sealed.records.map((value, i) => {
      const context = { subjectId, collection: prepared[i]!.collection, recordId: recordIds[i]! };
      return Object.fromEntries(
        [...decodeSealedFields(value)].map(([field, envelope]) => [
          field,
          openField(envelope, { key: key.key, keyVersion: 3, context: { ...context, field } }).toString(
            'utf8',
          ),
        ]),
      );
    });
    expect(opened).toEqual(prepared.map((p) => p.sealed));
    expect(opened[0]).toEqual({ buyerNick: c!.nick });
    expect(
      sealed.identities.map((envelope, n) => {
        const identity = prepared[writes[n]!.record]!.identities[writes[n]!.identity]!;
        const context = identityContext(subjectId, identity.kind, identity.current.token);
        return openField(envelope, { key: key.key, keyVersion: 3, context }).toString('utf8');
      }),
    ).toEqual(writes.map((w) => prepared[w.record]!.identities[w.identity]!.normalized));
  });
});

describe('a sealed batch as it crosses back', () => {
  const sealed = {
    records: [Buffer.from('first record'), Buffer.alloc(0), Buffer.from('third')],
    identities: [Buffer.from('identity one'), Buffer.from('identity two')],
  };
  // The records' values, then the identities' envelopes, one after the other, and where each ends.
  const packed: PackedSealed = {
    bytes: Buffer.from('first recordthirdidentity oneidentity two'),
    ends: Uint32Array.from([12, 12, 17, 29, 41]),
    records: 3,
  };
  it('comes back as the envelopes sealed, in order, as Buffers', () => {
    const unpacked = unpackSealed(posted(packed));

    expect(unpacked).toEqual(sealed);
    expect(unpacked.records.every((b) => Buffer.isBuffer(b))).toBe(true);
    expect(unpackSealed(posted({ bytes: Buffer.alloc(0), ends: new Uint32Array(0), records: 0 }))).toEqual({
      records: [],
      identities: [],
    });
  });

  it('refuses ends that do not cover its bytes in order', () => {
    const cases: PackedSealed[] = [
      { ...packed, records: packed.ends.length + 1 },
      { ...packed, bytes: packed.bytes.subarray(0, packed.bytes.length - 1) },
      { ...packed, ends: Uint32Array.from([5, 3, ...packed.ends.subarray(2)]) },
      { ...packed, ends: new Uint32Array(0) },
    ];
    for (const bad of cases)
      expect(() => unpackSealed(bad)).toThrow('a sealed batch does not read to its end');
  });
});
