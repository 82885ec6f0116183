import { createSecretKey, type KeyObject } from 'node:crypto';
import { CustodianError } from '../domain/errors.js';
import type { SubjectKeyRecord } from '../store/store.js';
import { Lru } from './lru.js';
import type { RootKeyProvider } from './provider.js';

export type SuiteId = 'aes-256-gcm' | 'sm4-gcm';

const KEY_BYTES: Readonly<Record<SuiteId, number>> = { 'aes-256-gcm': 32, 'sm4-gcm': 16 };

export interface KeyringOptions {
  /** Wraps new keys. */
  readonly root: RootKeyProvider;
  /** Unwraps keys made under earlier roots until they are rewrapped. */
  readonly retired?: readonly RootKeyProvider[];
  /** Suite of new subject keys (`crypto.suite`). */
  readonly suite: SuiteId;
  /** Unwrapped keys kept in memory. */
  readonly cacheSize: number;
  /** Random bytes for new keys (injectable for tests). */
  readonly random: (size: number) => Buffer;
}

/** An unwrapped subject key, ready for the AEAD suite it was made for. */
export interface SubjectKey {
  readonly subjectId: string;
  readonly version: number;
  readonly suite: SuiteId;
  readonly key: KeyObject;
}

/** One subject's wraps and unwraps still awaiting the root-key provider. */
interface InFlight {
  pending: number;
  /** Set by `forget`: what these calls unwrap must not enter the cache. */
  forgotten: boolean;
}

/**
 * The per-subject data keys: random, wrapped by the root key with the owner bound as associated
 * data, stored apart from the data, unwrapped on demand into a bounded LRU of `KeyObject`s.
 */
export class Keyring {
  readonly #root: RootKeyProvider;
  readonly #byId: ReadonlyMap<string, RootKeyProvider>;
  readonly #cache: Lru<string, SubjectKey>;
  /**
   * Subjects with a wrap or unwrap awaiting the provider (async: PKCS#11). `forget` marks their
   * entry so a key that arrives after an erasure committed is returned to its caller but never
   * cached (docs/vault.md: dropped on erasure). An entry lives only while a call is in flight,
   * so the map is bounded by the calls in progress.
   */
  readonly #inFlight = new Map<string, InFlight>();
  readonly #random: (size: number) => Buffer;
  readonly suite: SuiteId;

  constructor(options: KeyringOptions) {
    this.#root = options.root;
    this.#byId = new Map([options.root, ...(options.retired ?? [])].map((p) => [p.keyId, p]));
    this.#cache = new Lru(options.cacheSize);
    this.#random = options.random;
    this.suite = options.suite;
  }

  /** The id of the root key that wraps new keys. */
  get rootKeyId(): string {
    return this.#root.keyId;
  }

  /** Makes a new key version for a subject; the caller stores the record in the same unit of work. */
  async create(
    subjectId: string,
    version: number,
    createdAt: string,
  ): Promise<{ record: SubjectKeyRecord; key: SubjectKey }> {
    const raw = this.#random(KEY_BYTES[this.suite]);
    const flight = this.#enter(subjectId);
    try {
      const wrapped = await this.#root.wrap(raw, wrapContext(subjectId, version, this.suite));
      const key: SubjectKey = { subjectId, version, suite: this.suite, key: createSecretKey(raw) };
      if (!flight.forgotten) this.#cache.set(cacheKey(subjectId, version), key);
      return {
        record: { subjectId, version, suite: this.suite, rootKeyId: this.#root.keyId, wrapped, createdAt },
        key,
      };
    } finally {
      raw.fill(0);
      this.#leave(subjectId, flight);
    }
  }

  /** Unwraps a stored key (cached). Fails closed with ERR_KEY_UNAVAILABLE when its root is not configured. */
  async unwrap(record: SubjectKeyRecord): Promise<SubjectKey> {
    const id = cacheKey(record.subjectId, record.version);
    const cached = this.#cache.get(id);
    if (cached !== undefined) return cached;
    const suite = asSuite(record.suite);
    const provider = this.#provider(record.rootKeyId);
    // Noted before the provider is awaited: an erasure may commit (and `forget` run) meanwhile.
    const flight = this.#enter(record.subjectId);
    try {
      const raw = await provider.unwrap(record.wrapped, wrapContext(record.subjectId, record.version, suite));
      try {
        if (raw.length !== KEY_BYTES[suite]) {
          throw new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', 'a subject key could not be unwrapped');
        }
        const key: SubjectKey = {
          subjectId: record.subjectId,
          version: record.version,
          suite,
          key: createSecretKey(raw),
        };
        if (!flight.forgotten) this.#cache.set(id, key);
        return key;
      } finally {
        raw.fill(0);
      }
    } finally {
      this.#leave(record.subjectId, flight);
    }
  }

  /** Rewraps a stored key under the current root (root rotation); the key itself does not change. */
  async rewrap(record: SubjectKeyRecord): Promise<SubjectKeyRecord> {
    const suite = asSuite(record.suite);
    const context = wrapContext(record.subjectId, record.version, suite);
    const raw = await this.#provider(record.rootKeyId).unwrap(record.wrapped, context);
    try {
      const wrapped = await this.#root.wrap(raw, context);
      return { ...record, wrapped, rootKeyId: this.#root.keyId };
    } finally {
      raw.fill(0);
    }
  }

  /** Drops a subject's keys from memory (after erasure or rotation). */
  forget(subjectId: string): void {
    this.#cache.deleteWhere((key) => key.startsWith(`${subjectId}:`));
    // Calls already awaiting the provider finish uncached; later calls start a fresh entry.
    const flight = this.#inFlight.get(subjectId);
    if (flight !== undefined) {
      flight.forgotten = true;
      this.#inFlight.delete(subjectId);
    }
  }

  #enter(subjectId: string): InFlight {
    let flight = this.#inFlight.get(subjectId);
    if (flight === undefined) {
      flight = { pending: 0, forgotten: false };
      this.#inFlight.set(subjectId, flight);
    }
    flight.pending += 1;
    return flight;
  }

  #leave(subjectId: string, flight: InFlight): void {
    flight.pending -= 1;
    if (flight.pending === 0 && this.#inFlight.get(subjectId) === flight) this.#inFlight.delete(subjectId);
  }

  #provider(rootKeyId: string): RootKeyProvider {
    const provider = this.#byId.get(rootKeyId);
    if (provider === undefined) {
      throw new CustodianError(
        'ERR_KEY_UNAVAILABLE',
        `root key ${rootKeyId} is not configured (keys.root or keys.retiredRoots)`,
      );
    }
    return provider;
  }
}

function cacheKey(subjectId: string, version: number): string {
  return `${subjectId}:${version}`;
}

/** Binds a wrapped key to its owner, version and suite: a wrapped key moved to another subject fails to unwrap. */
function wrapContext(subjectId: string, version: number, suite: SuiteId): Buffer {
  return Buffer.from(`custodian/subject-key/v1\0${subjectId}\0${version}\0${suite}`, 'utf8');
}

function asSuite(value: string): SuiteId {
  if (value === 'aes-256-gcm' || value === 'sm4-gcm') return value;
  throw new CustodianError('ERR_CRYPTO_UNSUPPORTED', `unknown suite ${value}`);
}
