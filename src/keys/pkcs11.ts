import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import type * as GrapheneModule from 'graphene-pk11';
import type { Module, SecretKey, Session, SessionFlag, Slot } from 'graphene-pk11';
import type { RootKeyConfig } from '../config/schema.js';
import { CustodianError, type ErrorCode } from '../domain/errors.js';
import { ROOT_KEY_BYTES } from './file.js';
import { WRAP_MIN_BYTES, WRAP_NONCE_BYTES, WRAP_TAG_BYTES, decryptionFailed } from './file-provider.js';
import type { RootKeyProvider } from './provider.js';

/**
 * A root key that lives in a PKCS#11 token (an HSM, or SoftHSM2 for development and tests).
 *
 * The key is an AES-256 secret key object with `CKA_TOKEN`, `CKA_SENSITIVE` and
 * `CKA_EXTRACTABLE = false`: its value never leaves the token. Wrap and unwrap are AES-GCM
 * operations performed inside the token, and produce the same blob layout as the file provider
 * (`nonce(12) ‖ ciphertext ‖ tag(16)`, see `file-provider.ts`); only `keyId` differs.
 *
 * graphene-pk11 (and its native binding pkcs11js) is imported lazily, so installations that use
 * the file provider work where the native module is missing.
 *
 * Notes on the PKCS#11 model that shape this code:
 * - A library is initialised once per process, and login state is per token per process, shared
 *   by every session: one session's C_Logout logs all of them out, and C_Finalize ends every
 *   session. Modules and logins are therefore reference-counted in a process-wide registry, so
 *   closing one provider never breaks another one on the same token.
 * - A session runs one cryptographic operation at a time, so each provider serialises its calls.
 *   The operation itself (C_Encrypt/C_Decrypt) runs on the libuv thread pool and does not block
 *   the event loop; the library is initialised with CKF_OS_LOCKING_OK for that reason.
 */

export type Pkcs11RootKeyOptions = Pick<
  Extract<RootKeyConfig, { provider: 'pkcs11' }>,
  'library' | 'tokenLabel' | 'pin' | 'keyLabel'
>;

/** What {@link Pkcs11RootKeyProvider.ensureKey} did. */
export interface EnsureKeyResult {
  readonly keyId: string;
  /** True when the key was generated now, false when it existed already. */
  readonly created: boolean;
}

type Graphene = typeof GrapheneModule;

/** CK_C_INITIALIZE_ARGS flag: the library may use the OS's locking primitives. */
const CKF_OS_LOCKING_OK = 0x2;

/** Return values that mean the token, session or key is gone, not that the data is bad. */
const UNAVAILABLE_CKRS: ReadonlySet<string> = new Set([
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_DEVICE_REMOVED',
  'CKR_FUNCTION_CANCELED',
  'CKR_HOST_MEMORY',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_USER_NOT_LOGGED_IN',
]);

// ---------------------------------------------------------------------------------------------
// Lazy binding

let graphenePromise: Promise<Graphene> | undefined;

function loadGraphene(): Promise<Graphene> {
  graphenePromise ??= import('graphene-pk11').then(
    // graphene-pk11 is CommonJS: Node exposes module.exports as `default` (named exports too).
    (namespace) => (namespace as Graphene & { default?: Graphene }).default ?? namespace,
    (cause: unknown) => {
      graphenePromise = undefined;
      throw new CustodianError(
        'ERR_KEY_UNAVAILABLE',
        'The PKCS#11 binding (graphene-pk11 and its native module pkcs11js) cannot be loaded',
        { cause },
      );
    },
  );
  return graphenePromise;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The `CKR_*` name of a pkcs11js error, if it is one. */
function ckrOf(error: unknown): string | undefined {
  return error instanceof Error && /^CKR_[A-Z0-9_]+$/.test(error.message) ? error.message : undefined;
}

function keyError(
  code: ErrorCode,
  message: string,
  cause?: unknown,
  details: Record<string, unknown> = {},
): CustodianError {
  const ckr = ckrOf(cause);
  const allDetails = ckr === undefined ? details : { ...details, ckr };
  return new CustodianError(code, message, {
    ...(cause === undefined ? {} : { cause }),
    ...(Object.keys(allDetails).length === 0 ? {} : { details: allDetails }),
  });
}

// ---------------------------------------------------------------------------------------------
// Process-wide registry of loaded modules and token logins

interface LoginEntry {
  refs: number;
  readonly pinDigest: Buffer;
}

interface ModuleEntry {
  readonly path: string;
  readonly module: Module;
  refs: number;
  /** Logins by slot handle (hex). */
  readonly logins: Map<string, LoginEntry>;
}

const modules = new Map<string, ModuleEntry>();

/** Salt for comparing PINs in memory without keeping them; never leaves the process. */
const PIN_SALT = randomBytes(32);

function pinDigest(pin: string): Buffer {
  return createHmac('sha256', PIN_SALT).update(pin, 'utf8').digest();
}

function acquireModule(g: Graphene, library: string): ModuleEntry {
  let path: string;
  try {
    // Keyed by the real path: two spellings of one library share one dlopen handle and one
    // C_Initialize, so they must share one reference count too.
    path = realpathSync(library);
  } catch (cause) {
    throw keyError('ERR_KEY_UNAVAILABLE', `${library}: the PKCS#11 library does not exist`, cause, {
      library,
    });
  }
  let entry = modules.get(path);
  if (entry === undefined) {
    let module: Module;
    try {
      module = g.Module.load(path);
    } catch (cause) {
      throw keyError('ERR_KEY_UNAVAILABLE', `${library}: cannot load the PKCS#11 library`, cause, {
        library,
      });
    }
    try {
      module.initialize({ flags: CKF_OS_LOCKING_OK });
    } catch (cause) {
      closeQuietly(() => {
        module.close();
      });
      throw keyError('ERR_KEY_UNAVAILABLE', `${library}: cannot initialise the PKCS#11 library`, cause, {
        library,
      });
    }
    entry = { path, module, refs: 0, logins: new Map() };
    modules.set(path, entry);
  }
  entry.refs += 1;
  return entry;
}

function releaseModule(entry: ModuleEntry): void {
  entry.refs -= 1;
  if (entry.refs > 0) return;
  modules.delete(entry.path);
  closeQuietly(() => {
    entry.module.finalize();
  });
  closeQuietly(() => {
    entry.module.close();
  });
}

function closeQuietly(step: () => void): void {
  try {
    step();
  } catch {
    // Best effort while tearing down: the token may be gone already.
  }
}

function findSlot(entry: ModuleEntry, tokenLabel: string, library: string): Slot {
  const matches: Slot[] = [];
  let slots;
  try {
    slots = entry.module.getSlots(true);
  } catch (cause) {
    throw keyError('ERR_KEY_UNAVAILABLE', `${library}: cannot list the PKCS#11 slots`, cause, { library });
  }
  for (let i = 0; i < slots.length; i++) {
    try {
      const slot = slots.items(i);
      if (slot.getToken().label === tokenLabel) matches.push(slot);
    } catch {
      // A slot whose token cannot be read is not the one we are looking for.
    }
  }
  const [slot, ...others] = matches;
  if (slot === undefined) {
    throw keyError('ERR_KEY_UNAVAILABLE', `No PKCS#11 token is labelled '${tokenLabel}'`, undefined, {
      library,
      tokenLabel,
    });
  }
  if (others.length > 0) {
    throw keyError(
      'ERR_KEY_UNAVAILABLE',
      `${matches.length} PKCS#11 tokens are labelled '${tokenLabel}'; labels must be unique`,
      undefined,
      { library, tokenLabel },
    );
  }
  return slot;
}

/**
 * One logged-in session on a token, holding references on the module and on the token login.
 * Not safe for concurrent operations: callers serialise.
 */
class TokenSession {
  #session: Session;
  #open = true;

  private constructor(
    readonly g: Graphene,
    private readonly entry: ModuleEntry,
    private readonly slot: Slot,
    private readonly flags: SessionFlag,
    session: Session,
  ) {
    this.#session = session;
  }

  get session(): Session {
    return this.#session;
  }

  static async open(options: Pkcs11RootKeyOptions, readWrite: boolean): Promise<TokenSession> {
    const g = await loadGraphene();
    const entry = acquireModule(g, options.library);
    let session: Session | undefined;
    try {
      const slot = findSlot(entry, options.tokenLabel, options.library);
      // graphene types the flags as one enum member; they are a bit mask (CKF_SERIAL_SESSION | CKF_RW_SESSION).
      // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
      const flags = (g.SessionFlag.SERIAL_SESSION |
        (readWrite ? g.SessionFlag.RW_SESSION : 0)) as SessionFlag;
      try {
        session = slot.open(flags);
      } catch (cause) {
        throw keyError(
          'ERR_KEY_UNAVAILABLE',
          `Cannot open a session with PKCS#11 token '${options.tokenLabel}'`,
          cause,
          { tokenLabel: options.tokenLabel },
        );
      }
      login(g, entry, slot, session, options);
      return new TokenSession(g, entry, slot, flags, session);
    } catch (error) {
      const opened = session;
      if (opened !== undefined) {
        closeQuietly(() => {
          opened.close();
        });
      }
      releaseModule(entry);
      throw error;
    }
  }

  /**
   * Replaces the session with a fresh one, e.g. after an error that may have left an operation
   * active (SoftHSM keeps a decrypt active after CKR_ARGUMENTS_BAD or CKR_BUFFER_TOO_SMALL, and
   * every later C_*Init then fails with CKR_OPERATION_ACTIVE). The new session is opened before
   * the old one closes, so the token stays logged in. Object handles stay valid across sessions.
   */
  renew(): void {
    const fresh = this.slot.open(this.flags);
    const stale = this.#session;
    this.#session = fresh;
    closeQuietly(() => {
      stale.close();
    });
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    const slotKey = this.slot.handle.toString('hex');
    const loginEntry = this.entry.logins.get(slotKey);
    if (loginEntry !== undefined) {
      loginEntry.refs -= 1;
      if (loginEntry.refs <= 0) {
        this.entry.logins.delete(slotKey);
        closeQuietly(() => {
          this.#session.logout();
        });
      }
    }
    closeQuietly(() => {
      this.#session.close();
    });
    releaseModule(this.entry);
  }
}

function login(
  g: Graphene,
  entry: ModuleEntry,
  slot: Slot,
  session: Session,
  options: Pkcs11RootKeyOptions,
): void {
  const slotKey = slot.handle.toString('hex');
  const digest = pinDigest(options.pin);
  const failed = (cause?: unknown): CustodianError =>
    keyError('ERR_KEY_UNAVAILABLE', `Cannot log in to PKCS#11 token '${options.tokenLabel}'`, cause, {
      tokenLabel: options.tokenLabel,
    });
  const existing = entry.logins.get(slotKey);
  if (existing !== undefined) {
    // The token is logged in for this process already (login state is per process, and
    // C_Login would answer CKR_USER_ALREADY_LOGGED_IN whatever the PIN): accept only the same PIN.
    if (!timingSafeEqual(existing.pinDigest, digest)) {
      throw keyError(
        'ERR_KEY_UNAVAILABLE',
        `Cannot log in to PKCS#11 token '${options.tokenLabel}': the PIN differs from the one this process is logged in with`,
        undefined,
        { tokenLabel: options.tokenLabel },
      );
    }
    existing.refs += 1;
    return;
  }
  try {
    session.login(options.pin, g.UserType.USER);
  } catch (cause) {
    throw failed(cause);
  }
  entry.logins.set(slotKey, { refs: 1, pinDigest: digest });
}

/** Finds the one AES secret key with the label and checks it is fit to be a root key. */
function findRootKey(ts: TokenSession, options: Pkcs11RootKeyOptions): SecretKey | undefined {
  const { g, session } = ts;
  const where = { tokenLabel: options.tokenLabel, keyLabel: options.keyLabel };
  let found;
  try {
    found = session.find({ class: g.ObjectClass.SECRET_KEY, token: true, label: options.keyLabel });
  } catch (cause) {
    throw keyError(
      'ERR_KEY_UNAVAILABLE',
      `Cannot search PKCS#11 token '${options.tokenLabel}'`,
      cause,
      where,
    );
  }
  if (found.length === 0) return undefined;
  if (found.length > 1) {
    throw keyError(
      'ERR_KEY_INVALID',
      `${found.length} secret keys on PKCS#11 token '${options.tokenLabel}' are labelled '${options.keyLabel}'`,
      undefined,
      where,
    );
  }
  const key = found.items(0).toType<SecretKey>();
  let attributes;
  try {
    attributes = key.getAttribute({
      keyType: null,
      valueLen: null,
      sensitive: null,
      encrypt: null,
      decrypt: null,
    }) as { keyType: number; valueLen: number; sensitive: boolean; encrypt: boolean; decrypt: boolean };
  } catch (cause) {
    throw keyError(
      'ERR_KEY_UNAVAILABLE',
      `Cannot read the attributes of key '${options.keyLabel}'`,
      cause,
      where,
    );
  }
  const problems: string[] = [];
  if (attributes.keyType !== g.KeyType.AES) problems.push('not an AES key');
  if (attributes.valueLen !== ROOT_KEY_BYTES) problems.push(`not ${ROOT_KEY_BYTES * 8} bits`);
  if (!attributes.sensitive) problems.push('not sensitive (CKA_SENSITIVE is false)');
  if (!attributes.encrypt || !attributes.decrypt) problems.push('not allowed to encrypt and decrypt');
  if (problems.length > 0) {
    throw keyError(
      'ERR_KEY_INVALID',
      `Key '${options.keyLabel}' on PKCS#11 token '${options.tokenLabel}' cannot be a root key: ${problems.join(', ')}`,
      undefined,
      where,
    );
  }
  return key;
}

function pkcs11KeyId(options: Pkcs11RootKeyOptions): string {
  return `pkcs11:${options.tokenLabel}/${options.keyLabel}`;
}

// ---------------------------------------------------------------------------------------------
// The provider

export class Pkcs11RootKeyProvider implements RootKeyProvider {
  readonly keyId: string;
  #token: TokenSession | undefined;
  readonly #key: SecretKey;
  /** Serialises operations on the one session (a session runs one operation at a time). */
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(options: Pkcs11RootKeyOptions, token: TokenSession, key: SecretKey) {
    this.keyId = pkcs11KeyId(options);
    this.#token = token;
    this.#key = key;
  }

  /**
   * Opens the module, finds the token by label, logs in as user and finds the root key by label.
   * Never creates a key (see {@link ensureKey}). Throws `ERR_KEY_UNAVAILABLE` when the library,
   * token or key cannot be reached or the login fails, `ERR_KEY_INVALID` when the key is unfit.
   */
  static async open(options: Pkcs11RootKeyOptions): Promise<Pkcs11RootKeyProvider> {
    const token = await TokenSession.open(options, false);
    try {
      const key = findRootKey(token, options);
      if (key === undefined) {
        throw keyError(
          'ERR_KEY_UNAVAILABLE',
          `PKCS#11 token '${options.tokenLabel}' holds no secret key labelled '${options.keyLabel}'; create it with the setup command`,
          undefined,
          { tokenLabel: options.tokenLabel, keyLabel: options.keyLabel },
        );
      }
      return new Pkcs11RootKeyProvider(options, token, key);
    } catch (error) {
      token.close();
      throw error;
    }
  }

  /**
   * Makes sure the root key exists, generating it inside the token when it does not: a
   * token-resident AES-256 key with CKA_SENSITIVE true and CKA_EXTRACTABLE false (so also
   * CKA_NEVER_EXTRACTABLE and CKA_ALWAYS_SENSITIVE), allowed to encrypt, decrypt, wrap and unwrap.
   * For setup and the CLI; concurrent first runs against one token could create two keys with one
   * label, which {@link open} then refuses (`ERR_KEY_INVALID`).
   */
  static async ensureKey(options: Pkcs11RootKeyOptions): Promise<EnsureKeyResult> {
    const token = await TokenSession.open(options, true);
    try {
      if (findRootKey(token, options) !== undefined) return { keyId: pkcs11KeyId(options), created: false };
      const { g, session } = token;
      try {
        session.generateKey(g.KeyGenMechanism.AES, {
          keyType: g.KeyType.AES,
          label: options.keyLabel,
          id: randomBytes(16),
          token: true,
          private: true,
          valueLen: ROOT_KEY_BYTES,
          sensitive: true,
          extractable: false,
          encrypt: true,
          decrypt: true,
          wrap: true,
          unwrap: true,
          sign: false,
          verify: false,
          derive: false,
        });
      } catch (cause) {
        throw keyError(
          'ERR_KEY_UNAVAILABLE',
          `Cannot generate key '${options.keyLabel}' on PKCS#11 token '${options.tokenLabel}'`,
          cause,
          { tokenLabel: options.tokenLabel, keyLabel: options.keyLabel },
        );
      }
      return { keyId: pkcs11KeyId(options), created: true };
    } finally {
      token.close();
    }
  }

  wrap(dataKey: Buffer, aad: Buffer): Promise<Buffer> {
    return this.#serialise(async () => {
      const token = this.#active();
      const nonce = randomBytes(WRAP_NONCE_BYTES);
      // A private copy: the caller's buffer could change while the token reads it.
      const plain = Buffer.from(dataKey);
      let sealed: Buffer;
      try {
        // C_EncryptInit (synchronous; the token copies the nonce and AAD).
        token.session.createCipher(this.#mechanism(nonce, aad), this.#key);
        sealed = await runOnce(token.session, 'C_Encrypt', plain, dataKey.length + WRAP_TAG_BYTES);
      } catch (cause) {
        this.#recover(cause);
        throw keyError('ERR_KEY_UNAVAILABLE', `Cannot wrap with root key ${this.keyId}`, cause);
      } finally {
        plain.fill(0);
      }
      return Buffer.concat([nonce, sealed]);
    });
  }

  unwrap(wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    return this.#serialise(async () => {
      const token = this.#active();
      // Checked before the token sees it: SoftHSM answers a too-short input with
      // CKR_ARGUMENTS_BAD and leaves the operation active.
      if (wrapped.length < WRAP_MIN_BYTES) throw decryptionFailed();
      const nonce = Buffer.from(wrapped.subarray(0, WRAP_NONCE_BYTES));
      const sealed = Buffer.from(wrapped.subarray(WRAP_NONCE_BYTES));
      try {
        // C_DecryptInit (synchronous).
        token.session.createDecipher(this.#mechanism(nonce, aad), this.#key);
      } catch (cause) {
        this.#recover(cause);
        throw keyError('ERR_KEY_UNAVAILABLE', `Cannot unwrap with root key ${this.keyId}`, cause);
      }
      try {
        // The output buffer must hold the whole input: SoftHSM checks against the input length,
        // not the plaintext length, and answers CKR_BUFFER_TOO_SMALL otherwise.
        return await runOnce(token.session, 'C_Decrypt', sealed, sealed.length);
      } catch (cause) {
        this.#recover(cause);
        const ckr = ckrOf(cause);
        if (ckr !== undefined && UNAVAILABLE_CKRS.has(ckr)) {
          throw keyError('ERR_KEY_UNAVAILABLE', `Cannot unwrap with root key ${this.keyId}`, cause);
        }
        // SoftHSM reports a failed tag check as CKR_GENERAL_ERROR; others use
        // CKR_ENCRYPTED_DATA_INVALID. Either way the blob is not authentic under this key and AAD.
        throw decryptionFailed(cause);
      }
    });
  }

  /** Waits for queued operations, then logs out (if last on the token) and finalises (if last). */
  close(): Promise<void> {
    return this.#serialise(() => {
      const token = this.#token;
      this.#token = undefined;
      token?.close();
      return Promise.resolve();
    });
  }

  #active(): TokenSession {
    if (this.#token === undefined) {
      throw new CustodianError('ERR_KEY_UNAVAILABLE', 'The root-key provider is closed');
    }
    return this.#token;
  }

  #mechanism(nonce: Buffer, aad: Buffer): GrapheneModule.IAlgorithm {
    // AesGcm240Params fills ulIvBits; the older AesGcmParams leaves it uninitialised in pkcs11js.
    return {
      name: 'AES_GCM',
      params: new (this.#active().g.AesGcm240Params)(nonce, aad, WRAP_TAG_BYTES * 8),
    };
  }

  /** After a failed operation, start over on a fresh session so no operation stays active. */
  #recover(cause: unknown): void {
    const ckr = ckrOf(cause);
    if (
      ckr === 'CKR_SESSION_HANDLE_INVALID' ||
      ckr === 'CKR_SESSION_CLOSED' ||
      ckr === 'CKR_DEVICE_REMOVED'
    ) {
      // Nothing to reset, or nothing to reset to; the next call reports the token unavailable.
      return;
    }
    closeQuietly(() => {
      this.#token?.renew();
    });
  }

  #serialise<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Runs the single-part C_Encrypt/C_Decrypt of an initialised operation on the libuv thread pool.
 * Calls pkcs11js directly rather than graphene's `once`, because pkcs11js's async worker keeps raw
 * pointers to the input and output without holding references (and graphene's Cipher.once passes
 * an unreferenced copy): both buffers stay referenced here until the callback runs.
 */
function runOnce(
  session: Session,
  fn: 'C_Encrypt' | 'C_Decrypt',
  input: Buffer,
  outputLength: number,
): Promise<Buffer> {
  const output = Buffer.alloc(outputLength);
  const lib = session.lib;
  // Keeps both buffers reachable until the native worker is done with them.
  const pinned: Buffer[] = [input, output];
  return new Promise((resolve, reject) => {
    lib[fn](session.handle, input, output, (error: Error | null, result: Buffer) => {
      pinned.length = 0;
      if (error) reject(error);
      else resolve(result);
    });
  });
}
