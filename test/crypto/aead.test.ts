import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';

import fc from 'fast-check';
import { sm4 } from 'sm-crypto-v2';
import { describe, expect, it } from 'vitest';

import {
  AES_256_GCM,
  PooledNonceSource,
  RandomPool,
  ghash,
  hasNativeSm4Gcm,
  sm4GcmSuite,
  suiteByCode,
  suiteById,
  type AeadSuite,
} from '../../src/crypto/aead.js';
import { hex, thrownCode } from './helpers.js';
import { AES_256_GCM_VECTORS, GHASH_VECTORS } from './vectors/gcm-spec.js';
import { RFC8998_SM4_GCM } from './vectors/rfc8998.js';

const DECRYPTION_FAILED = expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' });

const FALLBACK = sm4GcmSuite('fallback');
const NATIVE_SM4 = hasNativeSm4Gcm();
/** Every SM4-GCM implementation this Node has. */
const SM4_SUITES: readonly AeadSuite[] = NATIVE_SM4 ? [FALLBACK, sm4GcmSuite('native')] : [FALLBACK];
const ALL_SUITES: readonly AeadSuite[] = [AES_256_GCM, ...SM4_SUITES];

function label(suite: AeadSuite): string {
  return `${suite.id} (${suite.implementation})`;
}

/** sm-crypto-v2's SM4-GCM, the independent oracle: returns ciphertext ‖ tag. */
function oracleSeal(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const { output, tag } = sm4.encrypt(plaintext, key, {
    mode: 'gcm',
    iv,
    associatedData: aad,
    output: 'array',
    outputTag: true,
    padding: 'none',
  });
  return Buffer.concat([output, tag!]);
}

describe('SM4-GCM (RFC 8998)', () => {
  const v = RFC8998_SM4_GCM;
  const key = createSecretKey(hex(v.key));

  it('the RFC 8998 Appendix A.1 vector matches the sm-crypto-v2 oracle', () => {
    const sealed = oracleSeal(hex(v.key), hex(v.iv), hex(v.plaintext), hex(v.aad));
    expect(sealed.toString('hex').toUpperCase()).toBe(v.ciphertext + v.tag);
  });

  describe.each(SM4_SUITES.map((suite) => [label(suite), suite] as const))('%s', (_name, suite) => {
    it('seals the RFC 8998 Appendix A.1 vector', () => {
      const sealed = suite.seal(key, hex(v.iv), hex(v.plaintext), hex(v.aad));
      expect(sealed.toString('hex').toUpperCase()).toBe(v.ciphertext + v.tag);
    });

    it('opens the RFC 8998 Appendix A.1 vector', () => {
      const opened = suite.open(key, hex(v.iv), hex(v.ciphertext + v.tag), hex(v.aad));
      expect(opened.toString('hex').toUpperCase()).toBe(v.plaintext);
    });

    it('has the R14 parameters: 16-byte key, 12-byte nonce, 16-byte tag, code 2, SM3', () => {
      expect(suite).toMatchObject({
        id: 'sm4-gcm',
        code: 2,
        keyLength: 16,
        nonceLength: 12,
        tagLength: 16,
        hash: 'sm3',
      });
    });
  });

  it.skipIf(!NATIVE_SM4)('native sm4-gcm and the fallback agree on random inputs', () => {
    const native = sm4GcmSuite('native');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 64 }),
        (rawKey, iv, plaintext, aad) => {
          const k = createSecretKey(rawKey);
          const a = native.seal(k, iv, plaintext, aad);
          expect(FALLBACK.seal(k, iv, plaintext, aad).equals(a)).toBe(true);
          expect(FALLBACK.open(k, iv, a, aad).equals(plaintext)).toBe(true);
        },
      ),
    );
  });

  it('auto picks native sm4-gcm exactly when OpenSSL has it', () => {
    expect(sm4GcmSuite().implementation).toBe(NATIVE_SM4 ? 'native' : 'fallback');
    if (!NATIVE_SM4) {
      expect(() => sm4GcmSuite('native')).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' }),
      );
    }
  });
});

describe('SM4-GCM fallback against sm-crypto-v2', () => {
  it('agrees on random lengths 0..300 with random AAD, and opens the oracle output', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 100 }),
        (rawKey, iv, plaintext, aad) => {
          const key = createSecretKey(rawKey);
          const expected = oracleSeal(rawKey, iv, plaintext, aad);
          expect(FALLBACK.seal(key, iv, plaintext, aad).toString('hex')).toBe(expected.toString('hex'));
          expect(FALLBACK.open(key, iv, expected, aad).equals(plaintext)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees on every length 0..64 (each partial-block boundary)', () => {
    const rawKey = randomBytes(16);
    const key = createSecretKey(rawKey);
    for (let n = 0; n <= 64; n++) {
      const iv = randomBytes(12);
      const plaintext = randomBytes(n);
      const aad = randomBytes(64 - n);
      expect(FALLBACK.seal(key, iv, plaintext, aad).equals(oracleSeal(rawKey, iv, plaintext, aad))).toBe(
        true,
      );
    }
  });

  it('agrees on a 64 KiB message', () => {
    const rawKey = randomBytes(16);
    const iv = randomBytes(12);
    const plaintext = randomBytes(65_536);
    const aad = randomBytes(33);
    const sealed = FALLBACK.seal(createSecretKey(rawKey), iv, plaintext, aad);
    expect(sealed.equals(oracleSeal(rawKey, iv, plaintext, aad))).toBe(true);
  });
});

describe('AES-256-GCM (McGrew-Viega test cases 13-16)', () => {
  it.each(AES_256_GCM_VECTORS.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const key = createSecretKey(hex(v.key));
    const sealed = AES_256_GCM.seal(key, hex(v.iv), hex(v.plaintext), hex(v.aad));
    expect(sealed.toString('hex')).toBe(v.ciphertext + v.tag);
    expect(AES_256_GCM.open(key, hex(v.iv), sealed, hex(v.aad)).toString('hex')).toBe(v.plaintext);
  });

  it('has code 1, a 32-byte key and SHA-256', () => {
    expect(AES_256_GCM).toMatchObject({ id: 'aes-256-gcm', code: 1, keyLength: 32, hash: 'sha256' });
  });
});

describe('GHASH (in-house, 4-bit tables)', () => {
  it.each(GHASH_VECTORS.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    expect(ghash(hex(v.h), hex(v.aad), hex(v.ciphertext)).toString('hex')).toBe(v.ghash);
  });

  it('equals tag XOR E(K, J0) of native AES-GCM on random inputs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 80 }),
        (rawKey, iv, plaintext, aad) => {
          const key = createSecretKey(rawKey);
          const sealed = AES_256_GCM.seal(key, iv, plaintext, aad);
          const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
          const h = ecb.update(Buffer.alloc(16));
          const mask = ecb.update(Buffer.concat([iv, Buffer.from([0, 0, 0, 1])]));
          const ciphertext = sealed.subarray(0, plaintext.length);
          const tag = sealed.subarray(plaintext.length);
          const expected = Buffer.from(tag.map((byte, i) => byte ^ mask[i]!));
          expect(ghash(h, aad, ciphertext).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe.each(ALL_SUITES.map((suite) => [label(suite), suite] as const))('%s rejects', (_name, suite) => {
  const rawKey = randomBytes(suite.keyLength);
  const key = createSecretKey(rawKey);
  const nonce = randomBytes(12);
  const plaintext = Buffer.from('13800138000');
  const aad = Buffer.from('context');
  const sealed = suite.seal(key, nonce, plaintext, aad);

  it('round-trips', () => {
    expect(suite.open(key, nonce, sealed, aad).equals(plaintext)).toBe(true);
  });

  it('ensure-any-flipped-bit-fails, in ciphertext or tag', () => {
    for (let i = 0; i < sealed.length * 8; i++) {
      const tampered = Buffer.from(sealed);
      tampered[i >> 3]! ^= 1 << (i & 7);
      expect(thrownCode(() => suite.open(key, nonce, tampered, aad))).toBe('ERR_CRYPTO_DECRYPTION_FAILED');
    }
  });

  it('ensure-wrong-key-fails', () => {
    const other = createSecretKey(randomBytes(suite.keyLength));
    expect(() => suite.open(other, nonce, sealed, aad)).toThrow(DECRYPTION_FAILED);
  });

  it('ensure-key-of-the-wrong-size-fails', () => {
    const other = createSecretKey(randomBytes(suite.keyLength === 32 ? 16 : 32));
    expect(() => suite.open(other, nonce, sealed, aad)).toThrow(DECRYPTION_FAILED);
  });

  it('ensure-wrong-aad-fails', () => {
    expect(() => suite.open(key, nonce, sealed, Buffer.from('contexT'))).toThrow(DECRYPTION_FAILED);
    expect(() => suite.open(key, nonce, sealed, Buffer.alloc(0))).toThrow(DECRYPTION_FAILED);
  });

  it('ensure-wrong-nonce-fails, including a nonce of another length', () => {
    expect(() => suite.open(key, randomBytes(12), sealed, aad)).toThrow(DECRYPTION_FAILED);
    expect(() => suite.open(key, nonce.subarray(0, 8), sealed, aad)).toThrow(DECRYPTION_FAILED);
  });

  it('ensure-truncated-input-fails, down to nothing', () => {
    for (let n = 0; n < sealed.length; n++) {
      expect(thrownCode(() => suite.open(key, nonce, sealed.subarray(0, n), aad))).toBe(
        'ERR_CRYPTO_DECRYPTION_FAILED',
      );
    }
  });

  it('a key of the wrong size when sealing, as ERR_KEY_INVALID', () => {
    const other = createSecretKey(randomBytes(suite.keyLength + 1));
    expect(() => suite.seal(other, nonce, plaintext, aad)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    );
  });

  it('a nonce that is not 12 bytes when sealing', () => {
    expect(() => suite.seal(key, randomBytes(16), plaintext, aad)).toThrow(TypeError);
  });
});

describe('suite lookup', () => {
  it('finds suites by name and by envelope code', () => {
    expect(suiteById('aes-256-gcm')).toBe(AES_256_GCM);
    expect(suiteByCode(1)).toBe(AES_256_GCM);
    expect(suiteById('sm4-gcm')).toBe(sm4GcmSuite());
    expect(suiteByCode(2)).toBe(sm4GcmSuite());
  });

  it('ensure-unknown-suites-fail with ERR_CRYPTO_UNSUPPORTED', () => {
    const unsupported = expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' });
    expect(() => suiteById('aes-128-gcm')).toThrow(unsupported);
    expect(() => suiteByCode(0)).toThrow(unsupported);
    expect(() => suiteByCode(3)).toThrow(unsupported);
  });
});

describe('PooledNonceSource', () => {
  it('hands out consecutive 12-byte slices and replaces a spent pool without touching old nonces', () => {
    let calls = 0;
    const source = new PooledNonceSource({
      poolSize: 2,
      random: (size) => {
        calls += 1;
        return Buffer.alloc(size, calls);
      },
    });
    const a = source.next();
    const b = source.next();
    const c = source.next();
    expect([a.length, b.length, c.length]).toEqual([12, 12, 12]);
    expect(calls).toBe(2);
    expect(a.equals(Buffer.alloc(12, 1))).toBe(true);
    expect(c.equals(Buffer.alloc(12, 2))).toBe(true);
    expect(a.buffer === b.buffer && a.byteOffset !== b.byteOffset).toBe(true);
  });

  it('does not repeat across many draws', () => {
    const source = new PooledNonceSource({ poolSize: 64 });
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(source.next().toString('hex'));
    expect(seen.size).toBe(10_000);
  });

  it('ensure-bad-pool-size-fails', () => {
    expect(() => new PooledNonceSource({ poolSize: 0 })).toThrow(TypeError);
  });
});

describe('RandomPool', () => {
  const counting = (): { random: (size: number) => Buffer; calls: () => number } => {
    let calls = 0;
    return {
      random: (size) => {
        calls += 1;
        return Buffer.alloc(size, calls);
      },
      calls: () => calls,
    };
  };

  it('take() returns a private copy and zeroes the pool behind it', () => {
    const source = counting();
    let drawn: Buffer | undefined;
    const pool = new RandomPool({
      size: 64,
      random: (size) => (drawn = source.random(size)),
    });
    const key = pool.take(32);
    expect(key.equals(Buffer.alloc(32, 1))).toBe(true);
    expect(key.buffer === drawn!.buffer).toBe(false);
    expect(drawn!.subarray(0, 32).equals(Buffer.alloc(32))).toBe(true);
    expect(drawn!.subarray(32).equals(Buffer.alloc(32, 1))).toBe(true);
    key.fill(0xff);
    expect(pool.take(32).equals(Buffer.alloc(32, 1))).toBe(true);
    expect(source.calls()).toBe(1);
  });

  it('hands every byte out once, and draws a new pool when what is left is too short', () => {
    const source = counting();
    const pool = new RandomPool({ size: 40, random: source.random });
    const a = pool.view(32);
    const b = pool.view(12);
    expect(source.calls()).toBe(2);
    expect(a.equals(Buffer.alloc(32, 1))).toBe(true);
    expect(b.equals(Buffer.alloc(12, 2))).toBe(true);
  });

  it('does not repeat across many draws from the real CSPRNG', () => {
    const pool = new RandomPool({ size: 1024 });
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) seen.add(pool.take(16).toString('hex'));
    expect(seen.size).toBe(10_000);
  });

  it('refuses lengths it cannot serve and a source that returns the wrong length', () => {
    const pool = new RandomPool({ size: 16 });
    for (const length of [0, -1, 1.5, 17]) expect(() => pool.take(length)).toThrow(RangeError);
    expect(() => new RandomPool({ size: 0 })).toThrow(TypeError);
    const short = new RandomPool({ size: 16, random: () => Buffer.alloc(8) });
    expect(() => short.view(4)).toThrow(TypeError);
  });
});
