import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AES_256_GCM, sm4GcmSuite, type AeadSuite, type NonceSource } from '../../src/crypto/aead.js';
import {
  ENVELOPE_FORMAT_VERSION,
  openField,
  readEnvelopeHeader,
  sealField,
  type FieldContext,
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

    // The AAD, rebuilt here from the TSDoc description, reproduces ciphertext and tag.
    const part = (s: string): Buffer => {
      const bytes = Buffer.from(s, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return Buffer.concat([length, bytes]);
    };
    const aad = Buffer.concat([
      Buffer.from('custodian.field'),
      envelope.subarray(0, 10),
      part(CONTEXT.subjectId),
      part(CONTEXT.collection),
      part(CONTEXT.recordId),
      part(CONTEXT.field),
    ]);
    expect(envelope.subarray(22).equals(suite.seal(key, nonce, Buffer.from('hello'), aad))).toBe(true);
    expect(openField(envelope, { key, keyVersion: 0xfedc_ba98, context: CONTEXT }).toString()).toBe('hello');
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
