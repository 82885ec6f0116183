import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AES_256_GCM, sm4GcmSuite, type AeadSuite, type NonceSource } from '../../src/crypto/aead.js';
import {
  ENVELOPE_FORMAT_VERSION,
  FieldSealer,
  openField,
  readEnvelopeHeader,
  sealField,
  type FieldContext,
  type RecordContext,
} from '../../src/crypto/envelope.js';
import { CustodianError } from '../../src/domain/errors.js';
import { thrownCode } from './helpers.js';

const DECRYPTION_FAILED = expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' });
const UNSUPPORTED = expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' });

const CONTEXT: FieldContext = {
  subjectId: '0190f5a4-7c2e-7b3a-9d1e-2f3a4b5c6d7e',
  collection: 'profile',
  recordId: '0190f5a4-7c2e-7b3a-9d1e-000000000001',
  field: 'phone',
};

interface Case {
  readonly suite: AeadSuite;
  readonly key: KeyObject;
}

const CASES: readonly (readonly [string, Case])[] = [AES_256_GCM, sm4GcmSuite('fallback'), sm4GcmSuite()].map(
  (suite) => [
    `${suite.id} (${suite.implementation})`,
    { suite, key: createSecretKey(randomBytes(suite.keyLength)) },
  ],
);

/** The associated data, built from the module's TSDoc description alone. */
function documentedAad(header: Uint8Array, context: FieldContext): Buffer {
  const part = (s: string): Buffer => {
    const bytes = Buffer.from(s, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  return Buffer.concat([
    Buffer.from('custodian.field'),
    header,
    part(context.subjectId),
    part(context.collection),
    part(context.recordId),
    part(context.field),
  ]);
}

function fixedNonces(nonce: Buffer): NonceSource {
  return { next: () => nonce };
}

const contextArb = fc.record({
  subjectId: fc.string({ unit: 'binary', maxLength: 40 }),
  collection: fc.string({ maxLength: 20 }),
  recordId: fc.string({ unit: 'binary', maxLength: 40 }),
  field: fc.string({ maxLength: 20 }),
});

describe.each(CASES)('envelope with %s', (_name, { suite, key }) => {
  const seal = (value: string | Uint8Array, context: FieldContext = CONTEXT, keyVersion = 7): Buffer =>
    sealField(value, { suite, key, keyVersion, context });
  const open = (envelope: Uint8Array, context: FieldContext = CONTEXT, keyVersion = 7): Buffer =>
    openField(envelope, { key, keyVersion, context });

  it('round-trips any string in any context', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), contextArb, (value, context) => {
        expect(open(seal(value, context), context).toString('utf8')).toBe(value);
      }),
    );
  });

  it('round-trips any bytes, and Chinese text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (value) => {
        expect(open(seal(value)).equals(value)).toBe(true);
      }),
    );
    expect(open(seal('浙江省杭州市西湖区文三路 90 号')).toString('utf8')).toBe(
      '浙江省杭州市西湖区文三路 90 号',
    );
  });

  it('writes the documented layout', () => {
    const nonce = randomBytes(12);
    const keyId = Buffer.from('a1b2c3', 'hex');
    const envelope = sealField('hello', {
      suite,
      key,
      keyVersion: 0xfedc_ba98,
      keyId,
      context: CONTEXT,
      nonces: fixedNonces(nonce),
    });
    expect(envelope.length).toBe(7 + 3 + 12 + 5 + 16);
    expect(envelope[0]).toBe(ENVELOPE_FORMAT_VERSION);
    expect(envelope[1]).toBe(suite.code);
    expect(envelope.readUInt32BE(2)).toBe(0xfedc_ba98);
    expect(envelope[6]).toBe(3);
    expect(envelope.subarray(7, 10).equals(keyId)).toBe(true);
    expect(envelope.subarray(10, 22).equals(nonce)).toBe(true);

    const aad = documentedAad(envelope.subarray(0, 10), CONTEXT);
    expect(envelope.subarray(22).equals(suite.seal(key, nonce, Buffer.from('hello'), aad))).toBe(true);
    expect(openField(envelope, { key, keyVersion: 0xfedc_ba98, context: CONTEXT }).toString()).toBe('hello');
  });

  it("seals a record's fields one after another in a caller's buffer, each in the documented layout", () => {
    const nonce = randomBytes(12);
    const record: RecordContext = {
      subjectId: CONTEXT.subjectId,
      collection: 'address',
      recordId: CONTEXT.recordId,
    };
    const sealer = new FieldSealer({
      suite,
      key,
      keyVersion: 7,
      context: record,
      nonces: fixedNonces(nonce),
    });
    const fields: [string, string | Uint8Array][] = [
      ['phone', '13800138000'],
      ['detail', '浙江省杭州市西湖区文三路 90 号'],
      ['note', ''],
      // Longer than the room the sealer first makes for a name in its associated data.
      [`收货${'x'.repeat(100)}`, 'a long field name'],
      ['bytes', Uint8Array.from([0, 1, 255])],
    ];
    const out = Buffer.alloc(3 + fields.reduce((n, [, value]) => n + sealer.length(value), 0) + 5, 0xee);
    let at = 3;
    for (const [field, value] of fields) {
      const plaintext = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
      expect(sealer.length(value)).toBe(7 + 12 + plaintext.length + 16);
      const end = sealer.sealInto(field, value, out, at);
      const envelope = out.subarray(at, end);
      expect(envelope.length).toBe(sealer.length(value));
      expect(envelope.subarray(0, 7).equals(Buffer.from([1, suite.code, 0, 0, 0, 7, 0]))).toBe(true);
      expect(envelope.subarray(7, 19).equals(nonce)).toBe(true);
      const aad = documentedAad(envelope.subarray(0, 7), { ...record, field });
      expect(envelope.subarray(19).equals(suite.seal(key, nonce, plaintext, aad))).toBe(true);
      expect(open(envelope, { ...record, field }).equals(plaintext)).toBe(true);
      at = end;
    }
    // Not a byte outside the envelopes is touched.
    expect(out.subarray(0, 3).equals(Buffer.alloc(3, 0xee))).toBe(true);
    expect(out.subarray(at).equals(Buffer.alloc(5, 0xee))).toBe(true);
  });

  it('uses a fresh nonce for every seal', () => {
    const a = seal('13800138000');
    const b = seal('13800138000');
    expect(a.subarray(7, 19).equals(b.subarray(7, 19))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('ensure-any-flipped-byte-fails (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 16 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (value, keyId, position, xor) => {
          const envelope = sealField(value, { suite, key, keyVersion: 7, keyId, context: CONTEXT });
          const index = position % envelope.length;
          envelope[index]! ^= xor;
          expect(thrownCode(() => open(envelope))).toBe('ERR_CRYPTO_DECRYPTION_FAILED');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('ensure-any-flipped-byte-fails (every position, every bit)', () => {
    const envelope = sealField('13800138000', {
      suite,
      key,
      keyVersion: 7,
      keyId: Buffer.from('k1'),
      context: CONTEXT,
    });
    for (let i = 0; i < envelope.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = Buffer.from(envelope);
        tampered[i]! ^= 1 << bit;
        expect(thrownCode(() => open(tampered))).toBe('ERR_CRYPTO_DECRYPTION_FAILED');
      }
    }
  });

  it('ensure-changed-context-fails: subject, collection, record or field', () => {
    const components = ['subjectId', 'collection', 'recordId', 'field'] as const;
    fc.assert(
      fc.property(
        contextArb,
        fc.constantFrom(...components),
        fc.string({ unit: 'binary', maxLength: 40 }),
        (context, component, replacement) => {
          fc.pre(replacement !== context[component]);
          const envelope = seal('13800138000', context);
          const moved = { ...context, [component]: replacement };
          expect(thrownCode(() => open(envelope, moved))).toBe('ERR_CRYPTO_DECRYPTION_FAILED');
        },
      ),
    );
  });

  it('ensure-shifted-context-boundaries-fail (length prefixes are unambiguous)', () => {
    const envelope = seal('x', { subjectId: 'ab', collection: 'c', recordId: 'r', field: 'f' });
    const shifted = { subjectId: 'a', collection: 'bc', recordId: 'r', field: 'f' };
    expect(() => open(envelope, shifted)).toThrow(DECRYPTION_FAILED);
  });

  it('ensure-changed-key-version-fails', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffff_ffff }), fc.nat({ max: 0xffff_ffff }), (sealedAs, openedAs) => {
        fc.pre(sealedAs !== openedAs);
        const envelope = seal('13800138000', CONTEXT, sealedAs);
        expect(open(envelope, CONTEXT, sealedAs).toString()).toBe('13800138000');
        expect(thrownCode(() => open(envelope, CONTEXT, openedAs))).toBe('ERR_CRYPTO_DECRYPTION_FAILED');
        // A resolver that hands out the same key for every version is still caught by the AAD.
        const relabelled = Buffer.from(envelope);
        relabelled.writeUInt32BE(openedAs, 2);
        expect(thrownCode(() => openField(relabelled, { context: CONTEXT, resolveKey: () => key }))).toBe(
          'ERR_CRYPTO_DECRYPTION_FAILED',
        );
      }),
      { numRuns: 50 },
    );
  });

  it('ensure-truncated-envelopes-fail, at every length', () => {
    const envelope = sealField('13800138000', {
      suite,
      key,
      keyVersion: 7,
      keyId: Buffer.from('k'),
      context: CONTEXT,
    });
    for (let n = 0; n < envelope.length; n++) {
      expect(thrownCode(() => open(envelope.subarray(0, n)))).toBe('ERR_CRYPTO_DECRYPTION_FAILED');
    }
  });

  it('ensure-extended-envelopes-fail', () => {
    const envelope = seal('13800138000');
    expect(() => open(Buffer.concat([envelope, Buffer.from([0])]))).toThrow(DECRYPTION_FAILED);
  });

  it('ensure-wrong-key-fails, with or without a resolver', () => {
    const envelope = seal('13800138000');
    const other = createSecretKey(randomBytes(suite.keyLength));
    expect(() => openField(envelope, { key: other, keyVersion: 7, context: CONTEXT })).toThrow(
      DECRYPTION_FAILED,
    );
    expect(() => openField(envelope, { resolveKey: () => other, context: CONTEXT })).toThrow(
      DECRYPTION_FAILED,
    );
    const otherSize = createSecretKey(randomBytes(suite.keyLength === 32 ? 16 : 32));
    expect(() => openField(envelope, { key: otherSize, keyVersion: 7, context: CONTEXT })).toThrow(
      DECRYPTION_FAILED,
    );
  });
});

describe('openField key resolution', () => {
  const v1 = createSecretKey(randomBytes(32));
  const v2 = createSecretKey(randomBytes(16));
  const keys = new Map([
    [1, v1],
    [2, v2],
  ]);
  const old = sealField('old', { suite: 'aes-256-gcm', key: v1, keyVersion: 1, context: CONTEXT });
  const current = sealField('new', {
    suite: 'sm4-gcm',
    key: v2,
    keyVersion: 2,
    keyId: Buffer.from('root-3'),
    context: CONTEXT,
  });

  it('resolves each envelope to its own key version and suite, and passes the header', () => {
    const seen: [number, string, string][] = [];
    const resolveKey = (
      version: number,
      header: { suite: AeadSuite; keyId: Buffer },
    ): KeyObject | undefined => {
      seen.push([version, header.suite.id, header.keyId.toString()]);
      return keys.get(version);
    };
    expect(openField(old, { resolveKey, context: CONTEXT }).toString()).toBe('old');
    expect(openField(current, { resolveKey, context: CONTEXT }).toString()).toBe('new');
    expect(seen).toEqual([
      [1, 'aes-256-gcm', ''],
      [2, 'sm4-gcm', 'root-3'],
    ]);
  });

  it('ensure-unknown-key-version-fails', () => {
    expect(() => openField(old, { resolveKey: () => undefined, context: CONTEXT })).toThrow(
      DECRYPTION_FAILED,
    );
  });

  it('lets errors from the resolver through unchanged', () => {
    const unavailable = new CustodianError('ERR_KEY_UNAVAILABLE', 'The key provider is unavailable');
    const resolveKey = (): KeyObject => {
      throw unavailable;
    };
    expect(() => openField(old, { resolveKey, context: CONTEXT })).toThrow(unavailable);
  });

  it('opens an envelope sealed by the SM4-GCM fallback with the default implementation', () => {
    const envelope = sealField('张三', {
      suite: sm4GcmSuite('fallback'),
      key: v2,
      keyVersion: 2,
      context: CONTEXT,
    });
    expect(openField(envelope, { key: v2, keyVersion: 2, context: CONTEXT }).toString()).toBe('张三');
  });
});

describe('readEnvelopeHeader', () => {
  const key = createSecretKey(randomBytes(32));
  const envelope = sealField('x', {
    suite: 'aes-256-gcm',
    key,
    keyVersion: 42,
    keyId: Buffer.from('kid'),
    context: CONTEXT,
  });

  it('reads the header without a key', () => {
    const header = readEnvelopeHeader(envelope);
    expect(header.formatVersion).toBe(1);
    expect(header.suite).toBe(AES_256_GCM);
    expect(header.keyVersion).toBe(42);
    expect(header.keyId.toString()).toBe('kid');
  });

  it('reports an unknown format version or suite code as ERR_CRYPTO_UNSUPPORTED, but openField does not', () => {
    for (const [index, value] of [
      [0, 2],
      [0, 0],
      [1, 3],
      [1, 0],
    ] as const) {
      const changed = Buffer.from(envelope);
      changed[index] = value;
      expect(() => readEnvelopeHeader(changed)).toThrow(UNSUPPORTED);
      expect(() => openField(changed, { key, keyVersion: 42, context: CONTEXT })).toThrow(DECRYPTION_FAILED);
    }
  });

  it('reports malformed headers as ERR_CRYPTO_DECRYPTION_FAILED', () => {
    expect(() => readEnvelopeHeader(Buffer.alloc(0))).toThrow(DECRYPTION_FAILED);
    expect(() => readEnvelopeHeader(envelope.subarray(0, 20))).toThrow(DECRYPTION_FAILED);
    const longKeyId = Buffer.from(envelope);
    longKeyId[6] = 17;
    expect(() => readEnvelopeHeader(longKeyId)).toThrow(DECRYPTION_FAILED);
  });
});

describe('sealField input checks', () => {
  const key = createSecretKey(randomBytes(32));
  const seal = (overrides: Partial<Parameters<typeof sealField>[1]>, value: string = 'x'): Buffer =>
    sealField(value, { suite: 'aes-256-gcm', key, keyVersion: 1, context: CONTEXT, ...overrides });

  it('ensure-bad-key-versions-fail', () => {
    for (const keyVersion of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => seal({ keyVersion })).toThrow(TypeError);
    }
    expect(seal({ keyVersion: 2 ** 32 - 1 }).readUInt32BE(2)).toBe(2 ** 32 - 1);
  });

  it('ensure-long-key-ids-fail', () => {
    expect(() => seal({ keyId: Buffer.alloc(17) })).toThrow(TypeError);
    expect(seal({ keyId: Buffer.alloc(16) })[6]).toBe(16);
  });

  it('ensure-unknown-suites-fail with ERR_CRYPTO_UNSUPPORTED', () => {
    expect(() =>
      sealField('x', { suite: 'des' as 'aes-256-gcm', key, keyVersion: 1, context: CONTEXT }),
    ).toThrow(UNSUPPORTED);
  });

  it('ensure-key-of-the-wrong-size-fails with ERR_KEY_INVALID', () => {
    expect(() => seal({ suite: 'sm4-gcm' })).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }));
  });

  it('ensure-lone-surrogates-fail rather than being silently replaced', () => {
    expect(() => seal({}, 'a\uD800b')).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION_FAILED' }));
    expect(() => seal({ context: { ...CONTEXT, recordId: '\uDC00' } })).toThrow(TypeError);
    expect(() =>
      openField(seal({}), { key, keyVersion: 1, context: { ...CONTEXT, field: '\uD800' } }),
    ).toThrow(TypeError);
  });
});

describe('FieldSealer input checks', () => {
  const key = createSecretKey(randomBytes(32));
  const record: RecordContext = {
    subjectId: CONTEXT.subjectId,
    collection: 'profile',
    recordId: CONTEXT.recordId,
  };
  const sealer = (options: Partial<ConstructorParameters<typeof FieldSealer>[0]> = {}): FieldSealer =>
    new FieldSealer({ suite: 'aes-256-gcm', key, keyVersion: 1, context: record, ...options });

  it('ensure-a-bad-key-version-key-id-or-context-fails when the sealer is made', () => {
    expect(() => sealer({ keyVersion: -1 })).toThrow(TypeError);
    expect(() => sealer({ keyId: Buffer.alloc(17) })).toThrow(TypeError);
    expect(() => sealer({ context: { ...record, collection: '\uD800' } })).toThrow(TypeError);
    expect(() => sealer({ suite: 'des' as 'aes-256-gcm' })).toThrow(UNSUPPORTED);
  });

  it('ensure-a-bad-value-or-field-name-fails and writes nothing', () => {
    const out = Buffer.alloc(64, 0xee);
    expect(thrownCode(() => sealer().sealInto('phone', 'a\uD800b', out, 0))).toBe('ERR_VALIDATION_FAILED');
    expect(() => sealer().sealInto('\uDC00', 'x', out, 0)).toThrow(TypeError);
    expect(out.equals(Buffer.alloc(64, 0xee))).toBe(true);
  });

  it('ensure-a-buffer-without-room-fails with RangeError and writes nothing', () => {
    const s = sealer();
    const out = Buffer.alloc(s.length('13800138000') - 1, 0xee);
    expect(() => s.sealInto('phone', '13800138000', out, 0)).toThrow(RangeError);
    expect(() => s.sealInto('phone', '1', Buffer.alloc(64), -1)).toThrow(RangeError);
    expect(out.equals(Buffer.alloc(out.length, 0xee))).toBe(true);
  });

  it('ensure-a-failed-seal-leaves-no-value-in-clear where its ciphertext was to go', () => {
    // The value is encoded in place before the suite checks the key: a key of the wrong size
    // (a 32-byte key for SM4) fails there, and the envelope's bytes are wiped.
    const s = sealer({ suite: 'sm4-gcm' });
    const out = Buffer.alloc(s.length('13800138000'), 0xee);
    expect(thrownCode(() => s.sealInto('phone', '13800138000', out, 0))).toBe('ERR_KEY_INVALID');
    expect(out.equals(Buffer.alloc(out.length))).toBe(true);
  });
});
