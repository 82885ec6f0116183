/**
 * AEAD suites for field encryption: AES-256-GCM (the default) and SM4-GCM (RFC 8998), built on
 * `node:crypto` only.
 *
 * Node 20's OpenSSL has SM4 (`sm4-ecb`, `sm4-ctr`) but no `sm4-gcm`; Node 24 has it. Where it is
 * missing, SM4-GCM is assembled from native SM4 plus an in-house GHASH (NIST SP 800-38D). Both
 * paths produce identical bytes, which the tests check against RFC 8998 Appendix A.1, sm-crypto-v2
 * and, on Node 24, against each other.
 */
import {
  createCipheriv,
  createDecipheriv,
  getCiphers,
  randomBytes,
  timingSafeEqual,
  type CipherGCM,
  type CipherGCMOptions,
  type DecipherGCM,
  type KeyObject,
} from 'node:crypto';

import { CustodianError } from '../domain/errors.js';

/** Stable names of the AEAD suites, as they appear in configuration. */
export type AeadSuiteId = 'aes-256-gcm' | 'sm4-gcm';

/** One-byte numeric suite identifiers, as they appear in envelopes. Never reuse a retired code. */
export type AeadSuiteCode = 1 | 2;

/** How SM4-GCM is computed: OpenSSL's own `sm4-gcm`, or native SM4-CTR plus the in-house GHASH. */
export type Sm4GcmImplementation = 'native' | 'fallback';

/** The hash paired with a suite for HMAC and HKDF (RFC 8998 pairs SM4 with SM3). */
export type SuiteHash = 'sha256' | 'sm3';

/** GCM nonce length in bytes: 96-bit IVs only (SP 800-38D §8.2.2, RFC 8998 §3.1). */
export const NONCE_LENGTH = 12;

/** GCM tag length in bytes; never truncated. */
export const TAG_LENGTH = 16;

/**
 * An authenticated cipher with associated data. All methods are synchronous and allocation-light:
 * keys are `KeyObject`s (created once with `createSecretKey`) because `createCipheriv` with a
 * `KeyObject` costs about half as much as with a raw `Buffer`.
 */
export interface AeadSuite {
  readonly id: AeadSuiteId;
  readonly code: AeadSuiteCode;
  /** Key length in bytes: 32 for AES-256-GCM, 16 for SM4-GCM. */
  readonly keyLength: number;
  readonly nonceLength: typeof NONCE_LENGTH;
  readonly tagLength: typeof TAG_LENGTH;
  /** The suite's hash for HMAC/HKDF: SHA-256 with AES, SM3 with SM4. */
  readonly hash: SuiteHash;
  /** Which code path computes the cipher; `'native'` for AES-256-GCM. */
  readonly implementation: Sm4GcmImplementation;
  /**
   * Encrypts and returns `ciphertext ‖ tag`.
   *
   * @throws CustodianError `ERR_KEY_INVALID` if `key` is not a secret key of {@link keyLength} bytes.
   * @throws TypeError if the nonce is not {@link NONCE_LENGTH} bytes.
   */
  seal(key: KeyObject, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer;
  /**
   * Like {@link seal}, but writes `ciphertext ‖ tag` (`plaintext.length + 16` bytes) into `out` at
   * `offset`, so a caller that frames the result (an envelope) copies it only once.
   */
  sealInto(
    key: KeyObject,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): void;
  /**
   * Verifies and decrypts `ciphertext ‖ tag`.
   *
   * @throws CustodianError `ERR_CRYPTO_DECRYPTION_FAILED` for every cause (wrong key, key of the
   *   wrong size, bad tag, truncated input, wrong AAD), so failures are not an oracle.
   */
  open(key: KeyObject, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer;
}

const DECRYPTION_FAILED_MESSAGE = 'Decryption failed';

/**
 * The one error every decryption failure becomes. No cause is attached: the causes must not be
 * told apart, not even in logs that an attacker might later read.
 *
 * @internal Shared with the envelope and blind-index modules.
 */
export function decryptionFailed(): CustodianError {
  return new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', DECRYPTION_FAILED_MESSAGE);
}

function unsupported(what: string): CustodianError {
  return new CustodianError('ERR_CRYPTO_UNSUPPORTED', `Unsupported ${what}`);
}

function assertSealInputs(suite: AeadSuite, key: KeyObject, nonce: Uint8Array, plaintext: Uint8Array): void {
  if (key.type !== 'secret' || key.symmetricKeySize !== suite.keyLength) {
    throw new CustodianError(
      'ERR_KEY_INVALID',
      `A ${suite.id} key must be a ${suite.keyLength}-byte secret key`,
    );
  }
  if (nonce.length !== NONCE_LENGTH) {
    throw new TypeError(`${suite.id} nonces must be ${NONCE_LENGTH} bytes`);
  }
  // SP 800-38D §5.2.1.1: at most 2^39 - 256 bits, which also keeps the 32-bit counter from wrapping.
  if (plaintext.length > MAX_PLAINTEXT_LENGTH) {
    throw new RangeError('The plaintext is too long for GCM');
  }
}

const MAX_PLAINTEXT_LENGTH = 2 ** 36 - 32;

// Pins the tag size on both sides, so a truncated tag can never be accepted.
const GCM_OPTIONS: CipherGCMOptions = { authTagLength: TAG_LENGTH };

// ---------------------------------------------------------------------------------------------
// Native GCM (AES-256-GCM everywhere; SM4-GCM where OpenSSL provides it)

function nativeSealInto(
  algorithm: string,
  key: KeyObject,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  // The cast names the GCM overload; `sm4-gcm` is missing from @types/node's CipherGCMTypes.
  const cipher = createCipheriv(algorithm, key, nonce, GCM_OPTIONS) as CipherGCM;
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  out.set(body, offset);
  const rest = cipher.final();
  out.set(rest, offset + body.length);
  out.set(cipher.getAuthTag(), offset + body.length + rest.length);
}

function nativeOpen(
  algorithm: string,
  key: KeyObject,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Buffer {
  // GCM itself accepts IVs of any length; ours are always 96-bit.
  if (sealed.length < TAG_LENGTH || nonce.length !== NONCE_LENGTH) throw decryptionFailed();
  const split = sealed.length - TAG_LENGTH;
  let plaintext: Buffer | undefined;
  try {
    const decipher = createDecipheriv(algorithm, key, nonce, GCM_OPTIONS) as DecipherGCM;
    decipher.setAuthTag(sealed.subarray(split));
    decipher.setAAD(aad);
    plaintext = decipher.update(sealed.subarray(0, split));
    const rest = decipher.final();
    return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
  } catch {
    // OpenSSL releases plaintext before the tag check; wipe it so it cannot leak by accident.
    plaintext?.fill(0);
    throw decryptionFailed();
  }
}

// ---------------------------------------------------------------------------------------------
// GHASH (SP 800-38D §6.4) with Shoup's 4-bit tables.
//
// A block is four big-endian 32-bit words w0..w3; bit 0 of the GCM bit string is the top bit of
// w0, so multiplying by x (alpha) is a right shift with reduction by R = 0xE1 ‖ 0^120. The tables
// hold 16 multiples of H (256 bytes per key); lookups are key-dependent, the usual trade-off of
// table-driven GHASH, kept small so it spans few cache lines.

/** Reduction terms for the four bits shifted out by a multiply-by-x^4. */
const REM = buildRemTable();

function buildRemTable(): Int32Array {
  const rem = new Int32Array(16);
  for (let r = 0; r < 16; r++) {
    const v = new Int32Array([0, 0, 0, r]);
    for (let i = 0; i < 4; i++) mulAlpha(v);
    rem[r] = v[0]!;
  }
  return rem;
}

function mulAlpha(v: Int32Array): void {
  const lsb = v[3]! & 1;
  v[3] = (v[3]! >>> 1) | (v[2]! << 31);
  v[2] = (v[2]! >>> 1) | (v[1]! << 31);
  v[1] = (v[1]! >>> 1) | (v[0]! << 31);
  v[0] = (v[0]! >>> 1) ^ (lsb === 0 ? 0 : 0xe1000000);
}

function readWord(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}

/** Table entry `n` (4 words at `4n`) is `n · H`, where nibble `n` holds GCM bits 0..3 from its top bit down. */
function ghashTable(hashKey: Uint8Array): Int32Array {
  const table = new Int32Array(64);
  const v = new Int32Array([
    readWord(hashKey, 0),
    readWord(hashKey, 4),
    readWord(hashKey, 8),
    readWord(hashKey, 12),
  ]);
  for (let n = 8; n >= 1; n >>= 1) {
    table.set(v, n * 4);
    mulAlpha(v);
  }
  for (let n = 2; n < 16; n <<= 1) {
    for (let low = 1; low < n; low++) {
      for (let w = 0; w < 4; w++) table[(n + low) * 4 + w] = table[n * 4 + w]! ^ table[low * 4 + w]!;
    }
  }
  return table;
}

/** state ← state · H, processing the 32 nibbles from the last (highest power of x) to the first. */
function mulH(table: Int32Array, state: Int32Array): void {
  let z0 = 0;
  let z1 = 0;
  let z2 = 0;
  let z3 = 0;
  for (let w = 3; w >= 0; w--) {
    let word = state[w]!;
    for (let k = 0; k < 8; k++) {
      const r = z3 & 0xf;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ REM[r]!;
      const j = (word & 0xf) << 2;
      word >>>= 4;
      z0 ^= table[j]!;
      z1 ^= table[j + 1]!;
      z2 ^= table[j + 2]!;
      z3 ^= table[j + 3]!;
    }
  }
  state[0] = z0;
  state[1] = z1;
  state[2] = z2;
  state[3] = z3;
}

/** Absorbs `data` zero-padded to a whole number of blocks (the pad() of SP 800-38D §7.1). */
function ghashUpdate(table: Int32Array, state: Int32Array, data: Uint8Array): void {
  const whole = data.length & ~15;
  let i = 0;
  for (; i < whole; i += 16) {
    state[0]! ^= readWord(data, i);
    state[1]! ^= readWord(data, i + 4);
    state[2]! ^= readWord(data, i + 8);
    state[3]! ^= readWord(data, i + 12);
    mulH(table, state);
  }
  if (i < data.length) {
    for (let j = 0; i < data.length; i++, j++) {
      state[j >> 2]! ^= data[i]! << (24 - 8 * (j & 3));
    }
    mulH(table, state);
  }
}

function ghashInto(table: Int32Array, aad: Uint8Array, ciphertext: Uint8Array, state: Int32Array): void {
  state.fill(0);
  ghashUpdate(table, state, aad);
  ghashUpdate(table, state, ciphertext);
  // len64(A) ‖ len64(C) in bits; byte lengths below 2^53 / 8 split exactly into two 32-bit halves.
  state[0]! ^= Math.floor(aad.length / 2 ** 29);
  state[1]! ^= aad.length * 8;
  state[2]! ^= Math.floor(ciphertext.length / 2 ** 29);
  state[3]! ^= ciphertext.length * 8;
  mulH(table, state);
}

/**
 * GHASH_H(pad(A) ‖ pad(C) ‖ len64(A) ‖ len64(C)) per NIST SP 800-38D §6.4 and §7.1, step 5.
 *
 * @internal Exported for known-answer tests; the SM4-GCM fallback uses a per-key cached table.
 * @param hashKey H, the 16-byte hash subkey E(K, 0^128).
 */
export function ghash(hashKey: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Buffer {
  if (hashKey.length !== 16) throw new TypeError('The GHASH subkey must be 16 bytes');
  const state = new Int32Array(4);
  ghashInto(ghashTable(hashKey), aad, ciphertext, state);
  const out = Buffer.allocUnsafe(16);
  for (let w = 0; w < 4; w++) out.writeInt32BE(state[w]!, w * 4);
  return out;
}

// ---------------------------------------------------------------------------------------------
// SM4-GCM fallback: native SM4-ECB for H, native SM4-CTR for J0's keystream and the body.

const ZERO_BLOCK = Buffer.alloc(16);

/** Per-key GHASH tables, computed once per KeyObject and dropped with it. */
const sm4Tables = new WeakMap<KeyObject, Int32Array>();

function sm4Table(key: KeyObject): Int32Array {
  let table = sm4Tables.get(key);
  if (table === undefined) {
    const ecb = createCipheriv('sm4-ecb', key, null);
    ecb.setAutoPadding(false);
    const hashKey = ecb.update(ZERO_BLOCK);
    ecb.final();
    table = ghashTable(hashKey);
    hashKey.fill(0);
    sm4Tables.set(key, table);
  }
  return table;
}

/** J0 = IV ‖ 0^31 ‖ 1 (SP 800-38D §7.1, step 2, for 96-bit IVs). */
function counterBlock(nonce: Uint8Array): Buffer {
  const j0 = Buffer.allocUnsafe(16);
  j0.set(nonce, 0);
  j0.writeUInt32BE(1, 12);
  return j0;
}

// The first CTR block from J0 is E(K, J0), the tag mask; the body then starts at inc32(J0) = IV ‖ 2.
// OpenSSL's CTR increments all 128 bits, not just 32, but the two differ only after 2^32 - 2 blocks,
// beyond GCM's length limit, which assertSealInputs enforces.
function fallbackSealInto(
  key: KeyObject,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  const table = sm4Table(key);
  const ctr = createCipheriv('sm4-ctr', key, counterBlock(nonce));
  const mask = ctr.update(ZERO_BLOCK);
  const ciphertext = ctr.update(plaintext);
  ctr.final();
  out.set(ciphertext, offset);
  const state = new Int32Array(4);
  ghashInto(table, aad, ciphertext, state);
  let at = offset + ciphertext.length;
  for (let w = 0; w < 4; w++) {
    const s = state[w]!;
    out[at] = (s >>> 24) ^ mask[w * 4]!;
    out[at + 1] = (s >>> 16) ^ mask[w * 4 + 1]!;
    out[at + 2] = (s >>> 8) ^ mask[w * 4 + 2]!;
    out[at + 3] = s ^ mask[w * 4 + 3]!;
    at += 4;
  }
}

function fallbackOpen(key: KeyObject, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < TAG_LENGTH || nonce.length !== NONCE_LENGTH) throw decryptionFailed();
  const split = sealed.length - TAG_LENGTH;
  const ciphertext = sealed.subarray(0, split);
  try {
    const table = sm4Table(key);
    const ctr = createDecipheriv('sm4-ctr', key, counterBlock(nonce));
    const expected = ctr.update(ZERO_BLOCK);
    const state = new Int32Array(4);
    ghashInto(table, aad, ciphertext, state);
    for (let w = 0; w < 4; w++) expected.writeInt32BE(expected.readInt32BE(w * 4) ^ state[w]!, w * 4);
    // Verify before decrypting, so no unauthenticated plaintext ever exists.
    if (!timingSafeEqual(expected, sealed.subarray(split))) throw decryptionFailed();
    const plaintext = ctr.update(ciphertext);
    ctr.final();
    return plaintext;
  } catch {
    throw decryptionFailed();
  }
}

// ---------------------------------------------------------------------------------------------
// Suites

function sealWith(
  suite: AeadSuite,
  key: KeyObject,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + TAG_LENGTH);
  suite.sealInto(key, nonce, plaintext, aad, out, 0);
  return out;
}

function nativeSuite(id: AeadSuiteId, code: AeadSuiteCode, keyLength: number, hash: SuiteHash): AeadSuite {
  const suite: AeadSuite = {
    id,
    code,
    keyLength,
    nonceLength: NONCE_LENGTH,
    tagLength: TAG_LENGTH,
    hash,
    implementation: 'native',
    seal: (key, nonce, plaintext, aad) => sealWith(suite, key, nonce, plaintext, aad),
    sealInto(key, nonce, plaintext, aad, out, offset) {
      assertSealInputs(suite, key, nonce, plaintext);
      nativeSealInto(id, key, nonce, plaintext, aad, out, offset);
    },
    open: (key, nonce, sealed, aad) => nativeOpen(id, key, nonce, sealed, aad),
  };
  return Object.freeze(suite);
}

/** AES-256-GCM (NIST SP 800-38D): 32-byte key, 12-byte nonce, 16-byte tag. Suite code 1. */
export const AES_256_GCM: AeadSuite = nativeSuite('aes-256-gcm', 1, 32, 'sha256');

// Rule R14: the SM4 (GB/T 32907) option, as SM4-GCM per RFC 8998 with a 16-byte key, a 12-byte
// nonce and a 16-byte tag, tested against the RFC 8998 Appendix A.1 vector. Suite code 2.
const SM4_GCM_NATIVE: AeadSuite = nativeSuite('sm4-gcm', 2, 16, 'sm3');

const SM4_GCM_FALLBACK: AeadSuite = (() => {
  const suite: AeadSuite = {
    id: 'sm4-gcm',
    code: 2,
    keyLength: 16,
    nonceLength: NONCE_LENGTH,
    tagLength: TAG_LENGTH,
    hash: 'sm3',
    implementation: 'fallback',
    seal: (key, nonce, plaintext, aad) => sealWith(suite, key, nonce, plaintext, aad),
    sealInto(key, nonce, plaintext, aad, out, offset) {
      assertSealInputs(suite, key, nonce, plaintext);
      fallbackSealInto(key, nonce, plaintext, aad, out, offset);
    },
    open: fallbackOpen,
  };
  return Object.freeze(suite);
})();

let cipherNames: ReadonlySet<string> | undefined;

function hasCipher(name: string): boolean {
  cipherNames ??= new Set(getCiphers());
  return cipherNames.has(name);
}

/** True when this Node's OpenSSL provides `sm4-gcm` itself (Node 24 does, Node 20 does not). */
export function hasNativeSm4Gcm(): boolean {
  return hasCipher('sm4-gcm');
}

/**
 * The SM4-GCM suite (RFC 8998; rule R14's SM4 option).
 *
 * @param implementation `'auto'` (the default) picks OpenSSL's `sm4-gcm` when present and the
 *   fallback otherwise. `'fallback'` forces native SM4-CTR plus the in-house GHASH, so tests on
 *   Node 24 can compare the two; both yield identical bytes.
 * @throws CustodianError `ERR_CRYPTO_UNSUPPORTED` if this OpenSSL has no SM4 at all, or
 *   `'native'` is asked for where `sm4-gcm` is missing.
 */
export function sm4GcmSuite(implementation: 'auto' | Sm4GcmImplementation = 'auto'): AeadSuite {
  const native = hasNativeSm4Gcm();
  if (implementation === 'native' || (implementation === 'auto' && native)) {
    if (!native) throw unsupported('AEAD implementation: native sm4-gcm');
    return SM4_GCM_NATIVE;
  }
  if (!hasCipher('sm4-ecb') || !hasCipher('sm4-ctr')) throw unsupported('AEAD suite: sm4-gcm');
  return SM4_GCM_FALLBACK;
}

/**
 * Looks a suite up by its configuration name.
 *
 * @throws CustodianError `ERR_CRYPTO_UNSUPPORTED` for an unknown name.
 */
export function suiteById(id: string): AeadSuite {
  switch (id) {
    case 'aes-256-gcm':
      return AES_256_GCM;
    case 'sm4-gcm':
      return sm4GcmSuite();
    default:
      throw unsupported('AEAD suite');
  }
}

/**
 * Looks a suite up by its envelope code (1 = AES-256-GCM, 2 = SM4-GCM).
 *
 * @throws CustodianError `ERR_CRYPTO_UNSUPPORTED` for an unknown code.
 */
export function suiteByCode(code: number): AeadSuite {
  switch (code) {
    case 1:
      return AES_256_GCM;
    case 2:
      return sm4GcmSuite();
    default:
      throw unsupported('AEAD suite code');
  }
}

// ---------------------------------------------------------------------------------------------
// Nonces

/** A source of unique 12-byte GCM nonces. */
export interface NonceSource {
  /** A fresh nonce. The caller must not write to it. */
  next(): Buffer;
}

export interface PooledNonceSourceOptions {
  /** Nonces drawn per `randomBytes` call; default 4096 (48 KiB). */
  readonly poolSize?: number;
  /** The CSPRNG; injectable for tests. Must return `size` fresh random bytes. */
  readonly random?: (size: number) => Buffer;
}

/**
 * Random 96-bit nonces drawn from a {@link RandomPool}, because `randomBytes(12)` per call costs
 * about as much as the encryption itself.
 *
 * Random nonces are safe for up to 2^32 messages per key (SP 800-38D §8.3); data keys are per
 * subject, far below that.
 */
export class PooledNonceSource implements NonceSource {
  readonly #pool: RandomPool;

  constructor(options: PooledNonceSourceOptions = {}) {
    const poolSize = options.poolSize ?? 4096;
    if (!Number.isSafeInteger(poolSize) || poolSize < 1)
      throw new TypeError('poolSize must be a positive integer');
    this.#pool = new RandomPool({ size: poolSize * NONCE_LENGTH, random: options.random });
  }

  next(): Buffer {
    return this.#pool.view(NONCE_LENGTH);
  }
}

export interface RandomPoolOptions {
  /** Bytes drawn per `randomBytes` call; default 48 KiB. */
  readonly size?: number;
  /** The CSPRNG; injectable for tests. Must return `size` fresh random bytes. */
  readonly random?: ((size: number) => Buffer) | undefined;
}

/**
 * Fresh random bytes cut from one large `randomBytes` buffer. On OpenSSL 3 each `randomBytes`
 * call costs several microseconds whatever its size (7 µs for 32 bytes on the 2-vCPU machine
 * `BENCHMARKS.md` describes, 8 µs for 4 KiB), so drawing a pool once and cutting it up is the
 * difference between a data key per subject costing two draws and almost none.
 *
 * Every byte is handed out once. A spent pool is replaced, never refilled in place, so bytes
 * handed out earlier (views into the old pool) never change.
 */
export class RandomPool {
  readonly #size: number;
  readonly #random: (size: number) => Buffer;
  #pool: Buffer = Buffer.alloc(0);
  #offset = 0;

  constructor(options: RandomPoolOptions = {}) {
    const size = options.size ?? 48 * 1024;
    if (!Number.isSafeInteger(size) || size < 1) throw new TypeError('size must be a positive integer');
    this.#size = size;
    this.#random = options.random ?? randomBytes;
  }

  /**
   * A view of `length` fresh bytes, for values that are public once used (nonces). The caller
   * must not write to it.
   */
  view(length: number): Buffer {
    return this.#cut(length);
  }

  /**
   * A private copy of `length` fresh bytes, for secrets (data keys): the pool's copy is zeroed, so
   * the bytes live only in the returned buffer, which has its own memory for the caller to wipe.
   */
  take(length: number): Buffer {
    const bytes = this.#cut(length);
    const copy = Buffer.allocUnsafeSlow(length);
    copy.set(bytes);
    bytes.fill(0);
    return copy;
  }

  #cut(length: number): Buffer {
    if (!Number.isSafeInteger(length) || length < 1 || length > this.#size)
      throw new RangeError(`length must be between 1 and ${this.#size}`);
    if (this.#offset + length > this.#pool.length) {
      const pool = this.#random(this.#size);
      if (pool.length !== this.#size) throw new TypeError('The random source returned the wrong length');
      this.#pool = pool;
      this.#offset = 0;
    }
    const bytes = this.#pool.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return bytes;
  }
}
