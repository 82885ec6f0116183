/**
 * Blind indexes: deterministic, keyed tokens of normalised identifiers (phone, email, Tmall OAID,
 * member id), so a subject can be found by exact match without storing the identifier in clear.
 *
 * token = truncate16(HMAC-H(K_kind, normalise(value))), with H = SHA-256 under the AES suite and
 * SM3 under the SM suite (rule R14's SM option), and K_kind = HKDF-H(index root, info) per index
 * name and index key version (RFC 5869). The index root is a separate 32-byte secret, not a data
 * key, so erasing a subject's data key does not touch the indexes and vice versa.
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

import { suiteById, type AeadSuiteId, type SuiteHash } from './aead.js';
import { hasLoneSurrogate } from './text.js';
import { CustodianError } from '../domain/errors.js';

/** Tokens are truncated to 128 bits: ample against collisions at any plausible table size. */
export const BLIND_INDEX_TOKEN_LENGTH = 16;

/** Index roots are 256-bit secrets. */
export const INDEX_ROOT_LENGTH = 32;

const HKDF_SALT = Buffer.from('custodian.blind-index.salt', 'latin1');
const HKDF_INFO_LABEL = Buffer.from('custodian.blind-index.v1', 'latin1');
const KIND_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/**
 * HKDF (RFC 5869) with SHA-256 or SM3, returning a `Buffer`.
 *
 * @param length output length in bytes, at most 255 × the hash length (RFC 5869 §2.3).
 */
export function hkdf(
  hash: SuiteHash,
  ikm: Uint8Array | KeyObject,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Buffer {
  return Buffer.from(hkdfSync(hash, ikm, salt, info, length));
}

// ---------------------------------------------------------------------------------------------
// Normalisation: one spelling per identifier, so '+86 138-0013-8000' and '13800138000' match.

const FULL_WIDTH = /[\uFF01-\uFF5E\u3000]/g;

/**
 * Maps full-width ASCII forms (U+FF01..U+FF5E, as typed by Chinese IMEs) to ASCII and the
 * ideographic space U+3000 to a space; everything else is unchanged.
 */
export function toHalfWidth(value: string): string {
  return value.replace(FULL_WIDTH, (c) =>
    c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

// Whitespace, ASCII and Unicode dashes, and parentheses (full-width ones are already ASCII here).
const PHONE_SEPARATORS = /[\s\-\u2010-\u2015\u2212()]/g;
// A mainland mobile (1[3-9] + 9 digits) behind the country code: +86, 0086 or a bare 86.
const CN_MOBILE_WITH_COUNTRY_CODE = /^(?:\+86|0086|86)(1[3-9]\d{9})$/;

/**
 * Normalises a phone number: full-width to half-width, drop spaces, dashes and parentheses, and
 * drop the +86 / 0086 / 86 country code in front of an 11-digit mainland mobile number. Other
 * numbers (landlines, foreign numbers) keep their prefix.
 *
 * @example normalizePhone('+86 138-0013-8000') === '13800138000'
 */
export function normalizePhone(value: string): string {
  const compact = toHalfWidth(value).replace(PHONE_SEPARATORS, '');
  return CN_MOBILE_WITH_COUNTRY_CODE.exec(compact)?.[1] ?? compact;
}

/**
 * Normalises an email address: NFKC (which also folds full-width forms), trim, lower-case. The
 * local part is lower-cased too: mailbox providers treat it case-insensitively in practice, and a
 * lookup that misses is worse than a rare false match that the decrypted value then rules out.
 *
 * @example normalizeEmail(' Zhang.San@Example.COM ') === 'zhang.san@example.com'
 */
export function normalizeEmail(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}

/** Normalises an opaque identifier (OAID, member id): full-width to half-width, trim; case kept. */
export function normalizeIdentifier(value: string): string {
  return toHalfWidth(value).trim();
}

export type Normalizer = (value: string) => string;

/** Normalisers by index name; any other index name uses {@link normalizeIdentifier}. */
export const DEFAULT_NORMALIZERS: Readonly<Record<string, Normalizer>> = Object.freeze({
  phone: normalizePhone,
  email: normalizeEmail,
});

// ---------------------------------------------------------------------------------------------
// Indexer

/** One version of the blind-index root key. */
export interface IndexRootKey {
  /** The index key version (uint32), stored next to each token. */
  readonly version: number;
  /** Selects the HMAC/HKDF hash: SHA-256 for `aes-256-gcm`, SM3 for `sm4-gcm`. */
  readonly suite: AeadSuiteId;
  /** The 32-byte root secret. */
  readonly secret: Uint8Array | KeyObject;
}

export interface BlindIndexerOptions {
  /** The version new tokens are computed with. */
  readonly current: IndexRootKey;
  /** Older versions still present in the index during a rotation; lookups query these too. */
  readonly previous?: readonly IndexRootKey[];
  /**
   * Extra normalisers by index name, merged over {@link DEFAULT_NORMALIZERS} (so adding one never
   * silently changes the phone or email tokens). Changing a normaliser changes its tokens: treat it
   * like an index key rotation.
   */
  readonly normalizers?: Readonly<Record<string, Normalizer>>;
}

/** A token together with the index key version that produced it. */
export interface BlindIndexToken {
  readonly version: number;
  readonly token: Buffer;
}

interface RootState {
  readonly version: number;
  readonly hash: SuiteHash;
  readonly secret: KeyObject;
  /** Per-index-name HMAC keys, derived on first use and kept. */
  readonly fieldKeys: Map<string, KeyObject>;
}

function rootState(root: IndexRootKey): RootState {
  if (!Number.isInteger(root.version) || root.version < 0 || root.version > 0xffff_ffff) {
    throw new TypeError('Index key versions must be integers from 0 to 2^32 - 1');
  }
  const hash = suiteById(root.suite).hash;
  const secret = root.secret instanceof Uint8Array ? createSecretKey(root.secret) : root.secret;
  if (secret.type !== 'secret' || secret.symmetricKeySize !== INDEX_ROOT_LENGTH) {
    throw new CustodianError(
      'ERR_KEY_INVALID',
      `Blind-index roots must be ${INDEX_ROOT_LENGTH}-byte secrets`,
    );
  }
  return { version: root.version, hash, secret, fieldKeys: new Map() };
}

/** info = label ‖ 0x00 ‖ u32 version ‖ u8 len ‖ index name: unambiguous, one key per (name, version). */
function hkdfInfo(version: number, kind: string): Buffer {
  const name = Buffer.from(kind, 'latin1');
  const info = Buffer.allocUnsafe(HKDF_INFO_LABEL.length + 6 + name.length);
  let at = HKDF_INFO_LABEL.copy(info, 0);
  info[at++] = 0;
  at = info.writeUInt32BE(version, at);
  info[at++] = name.length;
  name.copy(info, at);
  return info;
}

function fieldKey(root: RootState, kind: string): KeyObject {
  let key = root.fieldKeys.get(kind);
  if (key === undefined) {
    key = createSecretKey(hkdf(root.hash, root.secret, HKDF_SALT, hkdfInfo(root.version, kind), 32));
    root.fieldKeys.set(kind, key);
  }
  return key;
}

function computeToken(root: RootState, kind: string, normalized: string): Buffer {
  return createHmac(root.hash, fieldKey(root, kind))
    .update(normalized, 'utf8')
    .digest()
    .subarray(0, BLIND_INDEX_TOKEN_LENGTH);
}

/**
 * Computes blind-index tokens under a current index key and, during a rotation, previous ones.
 *
 * `token()` gives the current token to store; `lookupTokens()` gives one token per active version,
 * to query with `token IN (...)` until the rotation has rewritten every row.
 *
 * @example
 * ```ts
 * const indexer = new BlindIndexer({
 *   current: { version: 2, suite: 'sm4-gcm', secret: rootV2 },
 *   previous: [{ version: 1, suite: 'aes-256-gcm', secret: rootV1 }],
 * });
 * indexer.token('phone', '+86 138 0013 8000'); // 16 bytes, version 2
 * indexer.lookupTokens('phone', '13800138000'); // [{ version: 2, token }, { version: 1, token }]
 * ```
 */
export class BlindIndexer {
  readonly #current: RootState;
  readonly #all: readonly RootState[];
  readonly #normalizers: Readonly<Record<string, Normalizer>>;
  /** Set when only the default normalisers are used, which another thread can rebuild. */
  readonly #portable: BlindIndexerOptions | undefined;

  /**
   * @throws CustodianError `ERR_KEY_INVALID` for a root that is not 32 bytes,
   *   `ERR_CRYPTO_UNSUPPORTED` for an unknown suite.
   * @throws TypeError for a bad or repeated version.
   */
  constructor(options: BlindIndexerOptions) {
    this.#current = rootState(options.current);
    this.#all = [this.#current, ...(options.previous ?? []).map(rootState)];
    const versions = new Set(this.#all.map((root) => root.version));
    if (versions.size !== this.#all.length) throw new TypeError('Index key versions must be distinct');
    this.#normalizers = { ...DEFAULT_NORMALIZERS, ...options.normalizers };
    this.#portable =
      options.normalizers === undefined
        ? {
            current: { ...options.current, secret: this.#current.secret },
            previous: (options.previous ?? []).map((root, i) => ({
              ...root,
              secret: this.#all[i + 1]!.secret,
            })),
          }
        : undefined;
  }

  /**
   * The options of an equal indexer, for a worker thread of this process (`KeyObject`s pass to
   * threads by `postMessage`); undefined when custom normalisers (functions) were given.
   */
  portable(): BlindIndexerOptions | undefined {
    return this.#portable;
  }

  /** The version {@link token} computes with. */
  get currentVersion(): number {
    return this.#current.version;
  }

  /** Every active version, current first. */
  get versions(): readonly number[] {
    return this.#all.map((root) => root.version);
  }

  /**
   * Normalises `value` the way index `kind` does.
   *
   * @throws CustodianError `ERR_VALIDATION_FAILED` when nothing is left after normalising, or
   *   the value has a lone surrogate.
   * @throws TypeError for an index name outside `[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}`.
   */
  normalize(kind: string, value: string): string {
    if (!KIND_PATTERN.test(kind)) throw new TypeError('Invalid blind-index name');
    if (hasLoneSurrogate(value)) {
      throw new CustodianError(
        'ERR_VALIDATION_FAILED',
        'The value to index is not well-formed Unicode text',
        {
          details: { kind },
        },
      );
    }
    const normalized = (
      Object.hasOwn(this.#normalizers, kind) ? this.#normalizers[kind]! : normalizeIdentifier
    )(value);
    if (normalized.length === 0) {
      throw new CustodianError('ERR_VALIDATION_FAILED', 'The value to index is empty', { details: { kind } });
    }
    return normalized;
  }

  /** The 16-byte token of `value` in index `kind` under the current version, to store. */
  token(kind: string, value: string): Buffer {
    return computeToken(this.#current, kind, this.normalize(kind, value));
  }

  /** One token per active version (current first), to look `value` up during a rotation. */
  lookupTokens(kind: string, value: string): BlindIndexToken[] {
    return this.index(kind, value).tokens;
  }

  /**
   * Normalises `value` once and gives it with its token under every active version, current
   * first: what a write stores (`tokens[0]`) and what it looks up, without hashing twice.
   */
  index(kind: string, value: string): { normalized: string; tokens: BlindIndexToken[] } {
    const normalized = this.normalize(kind, value);
    return {
      normalized,
      tokens: this.#all.map((root) => ({
        version: root.version,
        token: computeToken(root, kind, normalized),
      })),
    };
  }
}
