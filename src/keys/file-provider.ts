import { createCipheriv, createDecipheriv, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { PooledNonceSource } from '../crypto/aead.js';
import { CustodianError } from '../domain/errors.js';
import { ROOT_KEY_BYTES, readKeyFile } from './file.js';
import type { RootKeyProvider } from './provider.js';

/**
 * The wrapped-key layout shared by every root-key provider (file and PKCS#11), so a blob never
 * depends on where the root key lives, only on which key it is (recorded by `keyId`):
 *
 * ```
 * offset 0                 12                          12+n                    12+n+16
 *        | nonce (12 bytes) | ciphertext (n = |dataKey|) | GCM tag (16 bytes)    |
 * ```
 *
 * AES-256-GCM with a fresh random 96-bit nonce per wrap, the caller's AAD, and a 128-bit tag.
 */
export const WRAP_NONCE_BYTES = 12;
export const WRAP_TAG_BYTES = 16;
/** The shortest well-formed blob (an empty data key). Anything shorter is rejected untouched. */
export const WRAP_MIN_BYTES = WRAP_NONCE_BYTES + WRAP_TAG_BYTES;

const KEY_ID_LABEL = 'custodian/root-key-id';

/** The single error every failed unwrap turns into, whatever the cause (length, tag, AAD, key). */
export function decryptionFailed(cause?: unknown): CustodianError {
  return new CustodianError(
    'ERR_CRYPTO_DECRYPTION_FAILED',
    'The wrapped key could not be unwrapped: it is malformed, was altered, or belongs to another owner or root key',
    cause === undefined ? {} : { cause },
  );
}

/**
 * A root key held in a local 32-byte key file (mode 0600). The key is loaded once into a
 * {@link KeyObject} and the file buffer is zeroed; wrap/unwrap run in-process with Node's crypto.
 */
export class FileRootKeyProvider implements RootKeyProvider {
  readonly keyId: string;
  #key: KeyObject | undefined;
  /** One nonce per wrap, cut from a pool: a `randomBytes` call per new subject cost 7 µs. */
  readonly #nonces = new PooledNonceSource();

  private constructor(key: KeyObject) {
    this.#key = key;
    this.keyId = fileKeyId(key);
  }

  /**
   * Opens the key file at `path`. Throws `ERR_KEY_UNAVAILABLE` (cannot read it),
   * `ERR_KEY_FILE_PERMISSIONS` (group/world readable) or `ERR_KEY_INVALID` (not 32 bytes).
   */
  static open(path: string): FileRootKeyProvider {
    const raw = readKeyFile(path);
    try {
      return new FileRootKeyProvider(createSecretKey(raw));
    } finally {
      raw.fill(0);
    }
  }

  /** A provider over raw key bytes (copied; the caller keeps ownership of `key`). For tests and tools. */
  static fromKey(key: Buffer): FileRootKeyProvider {
    if (key.length !== ROOT_KEY_BYTES) {
      throw new CustodianError('ERR_KEY_INVALID', `A root key holds exactly ${ROOT_KEY_BYTES} bytes`);
    }
    return new FileRootKeyProvider(createSecretKey(Buffer.from(key)));
  }

  wrap(dataKey: Buffer, aad: Buffer): Promise<Buffer> {
    return settle(() => {
      const nonce = this.#nonces.next();
      const cipher = createCipheriv('aes-256-gcm', this.#active(), nonce, { authTagLength: WRAP_TAG_BYTES });
      cipher.setAAD(aad);
      const ciphertext = cipher.update(dataKey);
      const final = cipher.final();
      return Buffer.concat([nonce, ciphertext, final, cipher.getAuthTag()]);
    });
  }

  unwrap(wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    return settle(() => {
      const key = this.#active();
      if (wrapped.length < WRAP_MIN_BYTES) throw decryptionFailed();
      const nonce = wrapped.subarray(0, WRAP_NONCE_BYTES);
      const ciphertext = wrapped.subarray(WRAP_NONCE_BYTES, wrapped.length - WRAP_TAG_BYTES);
      const tag = wrapped.subarray(wrapped.length - WRAP_TAG_BYTES);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: WRAP_TAG_BYTES });
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        const head = decipher.update(ciphertext);
        const tail = decipher.final();
        return tail.length === 0 ? head : Buffer.concat([head, tail]);
      } catch (cause) {
        throw decryptionFailed(cause);
      }
    });
  }

  /** Drops the key reference; later calls fail with `ERR_KEY_UNAVAILABLE`. Idempotent. */
  close(): Promise<void> {
    this.#key = undefined;
    return Promise.resolve();
  }

  #active(): KeyObject {
    if (this.#key === undefined) {
      throw new CustodianError('ERR_KEY_UNAVAILABLE', 'The root-key provider is closed');
    }
    return this.#key;
  }
}

/** Runs a synchronous step and reports its result or error through a promise, never by throwing. */
function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * `file:` + the first 8 hex digits of HMAC-SHA256(rootKey, "custodian/root-key-id"). A keyed MAC
 * rather than a hash of the key, so the id reveals nothing usable about the key (no offline
 * "hash of the key" oracle) while staying stable for the same key.
 */
function fileKeyId(key: KeyObject): string {
  return `file:${createHmac('sha256', key).update(KEY_ID_LABEL, 'utf8').digest('hex').slice(0, 8)}`;
}
