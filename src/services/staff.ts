/**
 * Staff accounts: passwords (argon2id), mandatory TOTP, sign-in with back-off and lockout,
 * cookie sessions stored as hashes, training records (R18) and the periodic access review (R16).
 *
 * Secrets at rest: the password only as an argon2id PHC string, the TOTP secret sealed in an
 * AES-256-GCM envelope under the staff-secrets key (HKDF of the index root), the session id only
 * as its SHA-256. Nothing here ever returns or logs one of them after it was shown once.
 */
import { createHmac, createSecretKey, randomBytes, randomInt, type KeyObject } from 'node:crypto';
import { hash as argon2Hash, parseOptions as argon2Options, verify as argon2Verify } from '@node-rs/argon2';
import { generateSecret, generateURI, verify as verifyOtp } from 'otplib';
import type { AccessConfig } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { AES_256_GCM } from '../crypto/aead.js';
import { hkdf } from '../crypto/blind-index.js';
import { openField, sealField, type FieldContext } from '../crypto/envelope.js';
import { hashToken } from '../crypto/tokens.js';
import { uuidv7 } from '../crypto/uuid.js';
import type { RoleSpec } from '../domain/access/roles.js';
import { CustodianError } from '../domain/errors.js';
import { Lru } from '../keys/lru.js';
import type { StaffRecord, TrainingRecord } from '../store/access.js';
import type { Repositories, Store } from '../store/store.js';
import type { Principal } from './tokens.js';

// ---------------------------------------------------------------------------------------------
// Events: what an audit trail records about access administration and sign-in.

export type AccessEventName =
  | 'staff.add'
  | 'staff.disable'
  | 'staff.reset-mfa'
  | 'staff.unlock'
  | 'staff.training'
  | 'staff.sign-in'
  | 'staff.sign-in-failed'
  | 'staff.sign-out'
  | 'apikey.create'
  | 'apikey.revoke';

/** One security-relevant fact. PI-free and secret-free: ids, roles, counts, never a username or code. */
export interface AccessEvent {
  readonly name: AccessEventName;
  readonly at: string;
  readonly actor: { readonly id: string; readonly role: string };
  readonly detail: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Receives each event inside the unit of work that made the change, so a sink that appends to
 * the audit trail fails the change with it (fail closed).
 */
export type AccessEventSink = (tx: Repositories, event: AccessEvent) => Promise<void>;

/** Who runs an administrative change: a staff member, an API key, or the operator at the CLI. */
export interface Actor {
  readonly id: string;
  readonly role: string;
}

// ---------------------------------------------------------------------------------------------
// Passwords.

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

export type PasswordProblem = 'too-short' | 'too-long' | 'too-common' | 'contains-username' | 'too-simple';

/** Frequent long passwords, including the usual Chinese ones; compared lower-cased. */
const COMMON_PASSWORDS = new Set([
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'administrator',
  'administrator1',
  'admin1234567',
  'admin123456789',
  'qwertyuiopasdf',
  'qwertyuiop123',
  'qwerty123456',
  'qwertyuiop[]',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'zaq12wsxcde3',
  'zxcvbnm123456',
  'asdfghjkl123',
  'iloveyou1234',
  'abc123456789',
  'abcd12345678',
  'a12345678910',
  'welcome12345',
  'letmein12345',
  'changeme1234',
  'woaini1314520',
  'woaini5201314',
  '5201314woaini',
  'aini13145200',
  'wangyang123456',
  'zhang123456789',
  'custodian123',
  'custodian1234',
]);

/**
 * Checks a new staff password: 12 to 256 characters (code points, after NFC) and not easy to
 * guess. Returns the first rule it breaks, or null.
 */
export function passwordProblem(password: string, username = ''): PasswordProblem | null {
  const chars = Array.from(password.normalize('NFC'));
  if (chars.length < PASSWORD_MIN_LENGTH) return 'too-short';
  if (chars.length > PASSWORD_MAX_LENGTH) return 'too-long';
  const lower = password.normalize('NFC').toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return 'too-common';
  if (username.length >= 3 && lower.includes(username.toLowerCase())) return 'contains-username';
  if (new Set(chars).size < 6) return 'too-simple';
  // A short unit repeated ('abcabcabcabc') or a run of consecutive code points ('123456789012').
  if (/^(.{1,6}?)\1+$/u.test(lower)) return 'too-simple';
  let steps = 0;
  for (let i = 1; i < chars.length; i++) {
    const delta = chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!;
    if (delta === 1 || delta === -1) steps++;
  }
  if (steps >= (chars.length - 1) * 0.75) return 'too-simple';
  return null;
}

/** Throws `ERR_PASSWORD_WEAK` naming the rule, never the password. */
export function assertPasswordAcceptable(password: string, username = ''): void {
  const problem = passwordProblem(password, username);
  if (problem === null) return;
  const why: Record<PasswordProblem, string> = {
    'too-short': `a staff password has at least ${PASSWORD_MIN_LENGTH} characters`,
    'too-long': `a staff password has at most ${PASSWORD_MAX_LENGTH} characters`,
    'too-common': 'the password is one of the most common passwords',
    'contains-username': 'the password contains the username',
    'too-simple': 'the password is a repetition or a sequence; choose a longer passphrase',
  };
  throw new CustodianError('ERR_PASSWORD_WEAK', why[problem], {
    details: { reason: problem, minLength: PASSWORD_MIN_LENGTH },
  });
}

/** Unambiguous characters (no 0/O, 1/l/I): 57 symbols. */
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A random password of 24 characters from 57 symbols: about 140 bits. */
export function generatePassword(): string {
  let out = '';
  for (let i = 0; i < 24; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]!;
  return out;
}

/**
 * OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. The algorithm is the library's default,
 * argon2id (its `Algorithm` is an ambient const enum that isolated modules cannot name); the
 * tests check every hash starts `$argon2id$`.
 */
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2Hash(password.normalize('NFC'), ARGON2_OPTIONS);
}

async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await argon2Verify(phc, password.normalize('NFC'));
  } catch {
    return false;
  }
}

function needsRehash(phc: string): boolean {
  try {
    const o = argon2Options(phc);
    return (
      !phc.startsWith('$argon2id$') ||
      o.memoryCost < ARGON2_OPTIONS.memoryCost ||
      o.timeCost < ARGON2_OPTIONS.timeCost
    );
  } catch {
    return true;
  }
}

/** Verified against when the username is unknown, so that path costs what a real check costs. */
let dummyHash: Promise<string> | undefined;

/** Usernames without an account whose back-off is kept in memory, at most. */
const MAX_PHANTOMS = 10_000;

/**
 * The failure count after one more failure; a lockout that has run out starts afresh. Only for the
 * in-memory back-off of usernames without an account: an account's count is raised by the store
 * (`StaffRepository.recordFailure`), which applies the same rule atomically.
 */
function nextFailures(previous: number, maxFailures: number): number {
  return (previous >= maxFailures ? 0 : previous) + 1;
}

/** Until when the `failures`-th consecutive failure refuses attempts: 2^(n−1) s, then the lockout. */
function backOffUntil(
  at: Date,
  failures: number,
  lockout: { maxFailures: number; lockMinutes: number },
): Date {
  const locks = failures >= lockout.maxFailures;
  return new Date(at.getTime() + (locks ? lockout.lockMinutes * 60_000 : 2 ** (failures - 1) * 1000));
}

/** The answer to an attempt made while a back-off (429) or a lockout (423) runs. */
function refusedWhileLocked(locked: boolean, remainingMs: number): CustodianError {
  return new CustodianError(
    locked ? 'ERR_AUTH_LOCKED' : 'ERR_RATE_LIMITED',
    locked
      ? 'the account is locked after repeated failed sign-ins; try again later'
      : 'wait before trying to sign in again',
    { details: { retryAfterSeconds: Math.ceil(remainingMs / 1000) } },
  );
}

// ---------------------------------------------------------------------------------------------
// TOTP secrets, sealed.

export const TOTP_ISSUER = 'Custodian';
const TOTP_PERIOD = 30;
const TOTP_CODE = /^\d{6}$/;

/** The HKDF label of the staff-secrets key; distinct from every index and pseudonym label. */
export const STAFF_SECRETS_LABEL = 'custodian/staff-secrets/v1';

/** Derives the staff-secrets key from an index root (32 bytes). */
export function deriveStaffSecretsKey(indexRoot: Uint8Array): KeyObject {
  return createSecretKey(
    hkdf('sha256', indexRoot, Buffer.alloc(0), Buffer.from(STAFF_SECRETS_LABEL, 'utf8'), 32),
  );
}

/**
 * Seals staff secrets (TOTP) in field envelopes bound to the staff member's id. The envelope's key
 * version is the index root's version, so after an index-root rotation the retired roots still
 * open old envelopes, and the next sign-in reseals under the current one.
 */
export class StaffSecretBox {
  readonly #current: { readonly version: number; readonly key: KeyObject };
  readonly #keys: ReadonlyMap<number, KeyObject>;

  constructor(keys: {
    readonly current: { readonly version: number; readonly key: KeyObject };
    readonly previous?: readonly { readonly version: number; readonly key: KeyObject }[];
  }) {
    this.#current = keys.current;
    this.#keys = new Map([
      ...(keys.previous ?? []).map((k) => [k.version, k.key] as const),
      [keys.current.version, keys.current.key],
    ]);
  }

  seal(staffId: string, plaintext: Uint8Array): Buffer {
    return sealField(plaintext, {
      suite: AES_256_GCM,
      key: this.#current.key,
      keyVersion: this.#current.version,
      context: secretContext(staffId),
    });
  }

  /** @throws CustodianError `ERR_CRYPTO_DECRYPTION_FAILED` when the envelope is not authentic for this staff member. */
  open(staffId: string, envelope: Uint8Array): Buffer {
    return openField(envelope, {
      context: secretContext(staffId),
      resolveKey: (version) => this.#keys.get(version),
    });
  }
}

function secretContext(staffId: string): FieldContext {
  return { subjectId: staffId, collection: 'staff', recordId: staffId, field: 'totp' };
}

/** What the sealed TOTP envelope holds: the secret and the last accepted time step (replay guard). */
interface TotpState {
  readonly secret: string;
  readonly lastStep: number | null;
}

function encodeTotp(state: TotpState): Buffer {
  return Buffer.from(JSON.stringify({ s: state.secret, t: state.lastStep }), 'utf8');
}

function decodeTotp(bytes: Buffer): TotpState {
  const raw = JSON.parse(bytes.toString('utf8')) as { s: unknown; t: unknown };
  if (typeof raw.s !== 'string' || !(raw.t === null || Number.isSafeInteger(raw.t)))
    throw new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', 'the sealed TOTP state is malformed');
  return { secret: raw.s, lastStep: raw.t as number | null };
}

/**
 * Checks a code against the steps before, at and after `at` (±30 s of clock drift), skipping
 * steps at or before the last accepted one so a code works once. Returns the matched step.
 */
async function acceptTotp(state: TotpState, code: string, at: Date): Promise<number | null> {
  if (!TOTP_CODE.test(code)) return null;
  const epoch = Math.floor(at.getTime() / 1000);
  const newestStep = Math.floor((epoch + TOTP_PERIOD) / TOTP_PERIOD);
  // otplib throws when afterTimeStep lies beyond the window; every step in it is spent then.
  if (state.lastStep !== null && state.lastStep >= newestStep) return null;
  try {
    const result = await verifyOtp({
      secret: state.secret,
      token: code,
      epoch,
      period: TOTP_PERIOD,
      epochTolerance: TOTP_PERIOD,
      ...(state.lastStep === null ? {} : { afterTimeStep: state.lastStep }),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  } catch {
    return null;
  }
}

export interface TotpEnrolment {
  /** Base32; shown once. */
  readonly secret: string;
  /** `otpauth://totp/Custodian:<username>?…`, for a QR code; shown once. */
  readonly uri: string;
}

function newEnrolment(username: string): TotpEnrolment {
  const secret = generateSecret({ length: 20 });
  return { secret, uri: generateURI({ issuer: TOTP_ISSUER, label: username, secret }) };
}

// ---------------------------------------------------------------------------------------------
// Sessions.

/** Session ids are 256 bits from the CSPRNG, base64url; only their SHA-256 is stored. */
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** `last_seen_at` is written at most this often, so a busy session is not a write per request. */
const SESSION_TOUCH_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// The service.

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;
/** Grants not used for this long are flagged by the access review. */
export const UNUSED_AFTER_DAYS = 90;
const DAY_MS = 86_400_000;

export interface StaffSummary {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly role: string;
  readonly createdAt: string;
  readonly lastLoginAt: string | null;
  readonly disabledAt: string | null;
  readonly mfaEnrolled: boolean;
  /** Set while a lockout (not a short back-off) is in force. */
  readonly lockedUntil: string | null;
  /** The latest expiry over the person's training records, or null when none is recorded. */
  readonly trainingUntil: string | null;
}

export interface AddStaffInput {
  readonly username: string;
  readonly role: string;
  readonly displayName?: string | undefined;
  /** Omit to have a strong one generated and returned once. */
  readonly password?: string | undefined;
}

export interface AddedStaff {
  readonly staff: StaffSummary;
  /** Only when generated; shown once. */
  readonly generatedPassword?: string;
  readonly totp: TotpEnrolment;
}

export interface SignInInput {
  readonly username: string;
  readonly password: string;
  readonly totp?: string | undefined;
  /** The session token the browser still holds, if any: revoked, so sign-in always rotates. */
  readonly currentSession?: string | undefined;
}

export interface SignedIn {
  /** The new session id, for the cookie only; never in a response body. */
  readonly token: string;
  readonly expiresAt: string;
  readonly principal: Principal;
}

export interface TrainingInput {
  readonly course: string;
  readonly completedAt?: Date | undefined;
  readonly expiresAt?: Date | undefined;
}

export interface StaffReviewRow {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly role: string;
  readonly roleKnown: boolean;
  readonly status: 'active' | 'locked' | 'disabled';
  readonly mfaEnrolled: boolean;
  readonly createdAt: string;
  readonly lastLoginAt: string | null;
  /** Active, and neither signed in nor created within {@link UNUSED_AFTER_DAYS} days. */
  readonly unused: boolean;
  readonly trainingUntil: string | null;
  readonly trainingLapsed: boolean;
}

export interface ApiKeyReviewRow {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly roleKnown: boolean;
  readonly status: 'active' | 'expired' | 'revoked';
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly lastUsedAt: string | null;
  readonly unused: boolean;
}

export type ReviewFindingKind =
  'unused-grant' | 'training-lapsed' | 'expired-key' | 'unknown-role' | 'mfa-missing';

export interface ReviewFinding {
  readonly kind: ReviewFindingKind;
  readonly principal: { readonly kind: 'staff' | 'apikey'; readonly id: string; readonly name: string };
  readonly message: string;
}

export interface AccessReview {
  readonly generatedAt: string;
  readonly requireTraining: boolean;
  readonly unusedAfterDays: number;
  readonly staff: readonly StaffReviewRow[];
  readonly apiKeys: readonly ApiKeyReviewRow[];
  readonly findings: readonly ReviewFinding[];
}

export interface StaffServiceDeps {
  readonly store: Store;
  readonly access: AccessConfig;
  /** Built-ins plus configured roles (`resolveRoles`). */
  readonly roles: Readonly<Record<string, RoleSpec>>;
  readonly secrets: StaffSecretBox;
  readonly now: () => Date;
  readonly onEvent?: AccessEventSink | undefined;
}

/** Throws `ERR_ROLE_UNKNOWN` unless the role is built in or configured. */
export function assertRoleKnown(roles: Readonly<Record<string, RoleSpec>>, role: string): void {
  if (!Object.hasOwn(roles, role))
    throw new CustodianError(
      'ERR_ROLE_UNKNOWN',
      `role ${JSON.stringify(role)} is neither built in nor in access.roles`,
      {
        details: { known: Object.keys(roles) },
      },
    );
}

export class StaffService {
  readonly #d: StaffServiceDeps;
  /** Sign-ins of one username run one at a time in this process, so a TOTP code cannot be spent twice. */
  readonly #queues = new Map<string, Promise<unknown>>();
  /**
   * Back-off and lockout state of usernames that name no active account, in memory only, keyed by
   * an HMAC under a key of this process (what was typed is not kept). Such a username gets the
   * same 429 and 423 answers as an account would, so the answers do not tell who has an account.
   */
  readonly #phantoms = new Lru<string, { failedAttempts: number; lockedUntil: number }>(MAX_PHANTOMS);
  readonly #phantomKey = createSecretKey(randomBytes(32));

  constructor(deps: StaffServiceDeps) {
    this.#d = deps;
  }

  /** Creates a staff member with a password and an enrolled TOTP secret (both shown once). */
  async add(input: AddStaffInput, actor: Actor): Promise<AddedStaff> {
    const username = normaliseUsername(input.username);
    if (!USERNAME.test(username))
      throw new CustodianError(
        'ERR_USAGE_INVALID',
        'a username is 2-63 characters: lower-case letters, digits, dot, hyphen, underscore',
      );
    assertRoleKnown(this.#d.roles, input.role);
    const displayName = (input.displayName ?? username).trim();
    if (displayName.length === 0 || displayName.length > 120)
      throw new CustodianError('ERR_USAGE_INVALID', 'a display name has 1-120 characters');
    const generated = input.password === undefined ? generatePassword() : undefined;
    const password = input.password ?? generated!;
    assertPasswordAcceptable(password, username);
    const at = this.#d.now();
    const id = uuidv7(at.getTime());
    const totp = newEnrolment(username);
    const record: StaffRecord = {
      id,
      username,
      displayName,
      role: input.role,
      passwordHash: await hashPassword(password),
      totpSealed: this.#d.secrets.seal(id, encodeTotp({ secret: totp.secret, lastStep: null })),
      totpEnrolledAt: at.toISOString(),
      failedAttempts: 0,
      lockedUntil: null,
      disabledAt: null,
      createdAt: at.toISOString(),
      lastLoginAt: null,
    };
    await this.#d.store.transaction(async (tx) => {
      if (await tx.staff.byUsername(username))
        throw new CustodianError('ERR_STAFF_EXISTS', 'a staff member with that username exists already');
      await tx.staff.insert(record);
      await this.#emit(tx, 'staff.add', at, actor, { staff: id, role: input.role });
    });
    return {
      staff: summary(record, null),
      ...(generated === undefined ? {} : { generatedPassword: generated }),
      totp,
    };
  }

  async list(): Promise<StaffSummary[]> {
    const all = await this.#d.store.staff.list();
    const at = this.#d.now();
    return Promise.all(
      all.map(async (s) => summary(s, await this.#d.store.training.currentUntil(s.id), this.#locked(s, at))),
    );
  }

  /** Disables an account for good and ends its sessions. */
  async disable(username: string, actor: Actor): Promise<{ readonly sessionsRevoked: number }> {
    const at = this.#d.now();
    return this.#d.store.transaction(async (tx) => {
      const staff = await findStaff(tx, username);
      if (staff.disabledAt === null) await tx.staff.update(staff.id, { disabledAt: at.toISOString() });
      const sessionsRevoked = await tx.sessions.revokeForStaff(staff.id, at.toISOString());
      await this.#emit(tx, 'staff.disable', at, actor, { staff: staff.id, sessionsRevoked });
      return { sessionsRevoked };
    });
  }

  /**
   * Lifts a lockout or back-off before it runs out (the person proved who they are to an
   * administrator). Returns whether the account was locked. Disabled accounts stay disabled.
   */
  async unlock(username: string, actor: Actor): Promise<{ readonly wasLocked: boolean }> {
    const at = this.#d.now();
    return this.#d.store.transaction(async (tx) => {
      const staff = await findStaff(tx, username);
      const wasLocked = this.#locked(staff, at);
      await tx.staff.update(staff.id, { failedAttempts: 0, lockedUntil: null });
      await this.#emit(tx, 'staff.unlock', at, actor, { staff: staff.id, wasLocked });
      return { wasLocked };
    });
  }

  /** Replaces the TOTP secret (shown once) and ends every session of the account. */
  async resetMfa(
    username: string,
    actor: Actor,
  ): Promise<TotpEnrolment & { readonly sessionsRevoked: number }> {
    const at = this.#d.now();
    return this.#d.store.transaction(async (tx) => {
      const staff = await findStaff(tx, username);
      const totp = newEnrolment(staff.username);
      await tx.staff.update(staff.id, {
        totpSealed: this.#d.secrets.seal(staff.id, encodeTotp({ secret: totp.secret, lastStep: null })),
        totpEnrolledAt: at.toISOString(),
      });
      const sessionsRevoked = await tx.sessions.revokeForStaff(staff.id, at.toISOString());
      await this.#emit(tx, 'staff.reset-mfa', at, actor, { staff: staff.id, sessionsRevoked });
      return { ...totp, sessionsRevoked };
    });
  }

  /** Records a completed course; it stays current for `access.trainingValidity` unless told otherwise. */
  async recordTraining(username: string, input: TrainingInput, actor: Actor): Promise<TrainingRecord> {
    const at = this.#d.now();
    const course = input.course.trim();
    if (course.length === 0 || course.length > 200)
      throw new CustodianError('ERR_USAGE_INVALID', 'a course name has 1-200 characters');
    const completed = input.completedAt ?? at;
    if (completed.getTime() > at.getTime())
      throw new CustodianError('ERR_USAGE_INVALID', 'the completion date lies in the future');
    const validity = parseDuration(this.#d.access.trainingValidity)!;
    const expires = input.expiresAt ?? new Date(completed.getTime() + validity);
    if (expires.getTime() <= completed.getTime())
      throw new CustodianError('ERR_USAGE_INVALID', 'the expiry must come after the completion date');
    return this.#d.store.transaction(async (tx) => {
      const staff = await findStaff(tx, username);
      const record: TrainingRecord = {
        id: uuidv7(at.getTime()),
        staffId: staff.id,
        course,
        completedAt: completed.toISOString(),
        expiresAt: expires.toISOString(),
        recordedBy: actor.id,
      };
      await tx.training.insert(record);
      await this.#emit(tx, 'staff.training', at, actor, {
        staff: staff.id,
        training: record.id,
        expiresAt: record.expiresAt,
      });
      return record;
    });
  }

  /**
   * Signs a staff member in with password and TOTP. Every wrong username, password or code is the
   * same `ERR_AUTH_INVALID`. After a failure the account refuses attempts for 2^(n-1) seconds
   * (`ERR_RATE_LIMITED`); after `lockout.maxFailures` failures in a row, for `lockMinutes`
   * (`ERR_AUTH_LOCKED`). Success clears the count and rotates the session.
   */
  async signIn(input: SignInInput): Promise<SignedIn> {
    const username = normaliseUsername(input.username);
    return this.#serialised(username, () => this.#signIn(username, input));
  }

  async #signIn(username: string, input: SignInInput): Promise<SignedIn> {
    const { lockout, session } = this.#d.access;
    const at = this.#d.now();
    const invalid = (): CustodianError =>
      new CustodianError('ERR_AUTH_INVALID', 'the username, password or TOTP code is not valid');
    const staff = USERNAME.test(username) ? await this.#d.store.staff.byUsername(username) : undefined;
    if (staff === undefined || staff.disabledAt !== null) {
      // No active account: answered as one would be, back-off and lockout included.
      const actor = { id: staff?.id ?? 'anonymous', role: staff?.role ?? 'none' };
      const key = createHmac('sha256', this.#phantomKey).update(username).digest('base64url');
      const phantom = this.#phantoms.get(key);
      if (phantom !== undefined && phantom.lockedUntil > at.getTime()) {
        const locked = phantom.failedAttempts >= lockout.maxFailures;
        if (locked) await this.#emitAlone('staff.sign-in-failed', at, actor, { reason: 'locked' });
        throw refusedWhileLocked(locked, phantom.lockedUntil - at.getTime());
      }
      await verifyPassword(
        await (dummyHash ??= hashPassword(randomBytes(16).toString('hex'))),
        input.password,
      );
      const failures = nextFailures(phantom?.failedAttempts ?? 0, lockout.maxFailures);
      // Past the cap, the longest-untouched names go.
      this.#phantoms.set(key, {
        failedAttempts: failures,
        lockedUntil: backOffUntil(at, failures, lockout).getTime(),
      });
      await this.#emitAlone('staff.sign-in-failed', at, actor, {
        reason: staff === undefined ? 'unknown-user' : 'disabled',
      });
      throw invalid();
    }
    const actor = { id: staff.id, role: staff.role };
    if (staff.lockedUntil !== null && Date.parse(staff.lockedUntil) > at.getTime()) {
      const locked = staff.failedAttempts >= lockout.maxFailures;
      if (locked) await this.#emitAlone('staff.sign-in-failed', at, actor, { reason: 'locked' });
      throw refusedWhileLocked(locked, Date.parse(staff.lockedUntil) - at.getTime());
    }

    const passwordOk = await verifyPassword(staff.passwordHash, input.password);
    let totp: TotpState | undefined;
    let step: number | null = null;
    if (passwordOk && staff.totpSealed !== null) {
      totp = decodeTotp(this.#d.secrets.open(staff.id, staff.totpSealed));
      step = await acceptTotp(totp, input.totp ?? '', at);
    }

    if (totp === undefined || step === null) {
      await this.#d.store.transaction(async (tx) => {
        // Counted by the database, not from what was read above: other servers on the same
        // database may be recording failures of this account at the same moment.
        const recorded = await tx.staff.recordFailure(staff.id, {
          at: at.toISOString(),
          maxFailures: lockout.maxFailures,
          lockedUntil: (n) => backOffUntil(at, n, lockout).toISOString(),
        });
        // Undefined only if the row went away since it was read; the attempt is still audited.
        const failures = recorded?.failedAttempts ?? 0;
        await this.#emit(tx, 'staff.sign-in-failed', at, actor, {
          reason: passwordOk ? (staff.totpSealed === null ? 'mfa-not-enrolled' : 'totp') : 'password',
          failures,
          locked: failures >= lockout.maxFailures,
        });
      });
      throw invalid();
    }

    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(at.getTime() + session.absoluteHours * 3_600_000).toISOString();
    const rehash = needsRehash(staff.passwordHash) ? await hashPassword(input.password) : undefined;
    await this.#d.store.transaction(async (tx) => {
      // Compare-and-set on the sealed TOTP state: if another process (a second server on the same
      // PostgreSQL) accepted a code for this account since we read it, this code is not spent twice.
      const swapped = await tx.staff.update(
        staff.id,
        {
          failedAttempts: 0,
          lockedUntil: null,
          lastLoginAt: at.toISOString(),
          totpSealed: this.#d.secrets.seal(staff.id, encodeTotp({ secret: totp.secret, lastStep: step })),
          ...(rehash === undefined ? {} : { passwordHash: rehash }),
        },
        staff.totpSealed ?? undefined,
      );
      if (!swapped) throw invalid();
      let rotated = false;
      if (input.currentSession !== undefined && SESSION_TOKEN.test(input.currentSession))
        rotated = await tx.sessions.revoke(hashToken(input.currentSession), at.toISOString());
      await tx.sessions.insert({
        idHash: hashToken(token),
        staffId: staff.id,
        createdAt: at.toISOString(),
        lastSeenAt: at.toISOString(),
        expiresAt,
        revokedAt: null,
      });
      await this.#emit(tx, 'staff.sign-in', at, actor, { rotated });
    });
    return { token, expiresAt, principal: await this.#principal(staff, at) };
  }

  /** Ends a session; false when it was unknown or ended already. */
  async signOut(token: string): Promise<boolean> {
    if (!SESSION_TOKEN.test(token)) return false;
    const at = this.#d.now();
    const idHash = hashToken(token);
    return this.#d.store.transaction(async (tx) => {
      const session = await tx.sessions.byHash(idHash);
      if (session === undefined || !(await tx.sessions.revoke(idHash, at.toISOString()))) return false;
      const staff = await tx.staff.byId(session.staffId);
      await this.#emit(tx, 'staff.sign-out', at, { id: session.staffId, role: staff?.role ?? 'none' }, {});
      return true;
    });
  }

  /**
   * Resolves a session cookie to its staff principal. Unknown, revoked, expired and idle sessions,
   * and sessions of disabled accounts, are all `ERR_AUTH_INVALID`.
   */
  async authenticateSession(token: string): Promise<Principal> {
    const fail = (): CustodianError =>
      new CustodianError('ERR_AUTH_INVALID', 'the session is not valid; sign in again');
    if (!SESSION_TOKEN.test(token)) throw fail();
    const at = this.#d.now();
    const idHash = hashToken(token);
    const session = await this.#d.store.sessions.byHash(idHash);
    if (session === undefined || session.revokedAt !== null) throw fail();
    const idleMs = this.#d.access.session.idleMinutes * 60_000;
    if (
      Date.parse(session.expiresAt) <= at.getTime() ||
      Date.parse(session.lastSeenAt) + idleMs <= at.getTime()
    ) {
      await this.#d.store.sessions.revoke(idHash, at.toISOString());
      throw fail();
    }
    const staff = await this.#d.store.staff.byId(session.staffId);
    if (staff === undefined || staff.disabledAt !== null) throw fail();
    if (Date.parse(session.lastSeenAt) + SESSION_TOUCH_MS <= at.getTime())
      await this.#d.store.sessions.touch(idHash, at.toISOString());
    return this.#principal(staff, at);
  }

  /** Session idle timeout in seconds, for clients that want to warn before it ends. */
  get idleTimeoutSeconds(): number {
    return this.#d.access.session.idleMinutes * 60;
  }

  /** Session absolute lifetime in seconds: the cookie's Max-Age. */
  get sessionLifetimeSeconds(): number {
    return this.#d.access.session.absoluteHours * 3600;
  }

  /**
   * The access review (R16): every person and API key with role, last use, grants unused for
   * {@link UNUSED_AFTER_DAYS} days, lapsed training and expired keys.
   */
  async review(): Promise<AccessReview> {
    const at = this.#d.now();
    const unusedBefore = at.getTime() - UNUSED_AFTER_DAYS * DAY_MS;
    const findings: ReviewFinding[] = [];
    const staff: StaffReviewRow[] = [];
    for (const s of await this.#d.store.staff.list()) {
      const trainingUntil = await this.#d.store.training.currentUntil(s.id);
      const status = s.disabledAt !== null ? 'disabled' : this.#locked(s, at) ? 'locked' : 'active';
      const row: StaffReviewRow = {
        id: s.id,
        username: s.username,
        name: s.displayName,
        role: s.role,
        roleKnown: Object.hasOwn(this.#d.roles, s.role),
        status,
        mfaEnrolled: s.totpSealed !== null,
        createdAt: s.createdAt,
        lastLoginAt: s.lastLoginAt,
        unused: status !== 'disabled' && Date.parse(s.lastLoginAt ?? s.createdAt) <= unusedBefore,
        trainingUntil,
        trainingLapsed: trainingUntil === null || Date.parse(trainingUntil) <= at.getTime(),
      };
      staff.push(row);
      if (status === 'disabled') continue;
      const who = { kind: 'staff', id: s.id, name: s.username } as const;
      if (!row.roleKnown)
        findings.push({ kind: 'unknown-role', principal: who, message: `role ${s.role} is not defined` });
      if (!row.mfaEnrolled)
        findings.push({ kind: 'mfa-missing', principal: who, message: 'no TOTP secret: cannot sign in' });
      if (row.unused)
        findings.push({
          kind: 'unused-grant',
          principal: who,
          message: `no sign-in for ${UNUSED_AFTER_DAYS} days or more: disable the account if it is not needed`,
        });
      if (row.trainingLapsed)
        findings.push({
          kind: 'training-lapsed',
          principal: who,
          message:
            trainingUntil === null
              ? 'no training recorded'
              : `training lapsed on ${trainingUntil.slice(0, 10)}`,
        });
    }
    const apiKeys: ApiKeyReviewRow[] = [];
    for (const k of await this.#d.store.tokens.list()) {
      const status =
        k.revokedAt !== null
          ? 'revoked'
          : k.expiresAt !== null && Date.parse(k.expiresAt) <= at.getTime()
            ? 'expired'
            : 'active';
      const row: ApiKeyReviewRow = {
        id: k.id,
        name: k.name,
        role: k.role,
        roleKnown: Object.hasOwn(this.#d.roles, k.role),
        status,
        createdAt: k.createdAt,
        expiresAt: k.expiresAt,
        lastUsedAt: k.lastUsedAt,
        unused: status === 'active' && Date.parse(k.lastUsedAt ?? k.createdAt) <= unusedBefore,
      };
      apiKeys.push(row);
      const who = { kind: 'apikey', id: k.id, name: k.name } as const;
      if (status === 'expired')
        findings.push({ kind: 'expired-key', principal: who, message: 'expired: revoke it to tidy up' });
      if (status !== 'active') continue;
      if (!row.roleKnown)
        findings.push({ kind: 'unknown-role', principal: who, message: `role ${k.role} is not defined` });
      if (row.unused)
        findings.push({
          kind: 'unused-grant',
          principal: who,
          message: `not used for ${UNUSED_AFTER_DAYS} days or more: revoke it if it is not needed`,
        });
    }
    return {
      generatedAt: at.toISOString(),
      requireTraining: this.#d.access.requireTraining,
      unusedAfterDays: UNUSED_AFTER_DAYS,
      staff,
      apiKeys,
      findings,
    };
  }

  /** A lockout is in force (a short back-off after one failure is not a lockout). */
  #locked(s: StaffRecord, at: Date): boolean {
    return (
      s.lockedUntil !== null &&
      Date.parse(s.lockedUntil) > at.getTime() &&
      s.failedAttempts >= this.#d.access.lockout.maxFailures
    );
  }

  async #principal(staff: StaffRecord, at: Date): Promise<Principal> {
    let trainingCurrent = true;
    if (this.#d.access.requireTraining) {
      const until = await this.#d.store.training.currentUntil(staff.id);
      trainingCurrent = until !== null && Date.parse(until) > at.getTime();
    }
    return { kind: 'staff', id: staff.id, name: staff.displayName, role: staff.role, trainingCurrent };
  }

  async #emit(
    tx: Repositories,
    name: AccessEventName,
    at: Date,
    actor: Actor,
    detail: AccessEvent['detail'],
  ): Promise<void> {
    if (this.#d.onEvent) await this.#d.onEvent(tx, { name, at: at.toISOString(), actor, detail });
  }

  /** An event with no other write: its own unit of work, only when someone listens. */
  async #emitAlone(
    name: AccessEventName,
    at: Date,
    actor: Actor,
    detail: AccessEvent['detail'],
  ): Promise<void> {
    if (this.#d.onEvent) await this.#d.store.transaction((tx) => this.#emit(tx, name, at, actor, detail));
  }

  async #serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.#queues.get(key) === settled) this.#queues.delete(key);
    }
  }
}

function normaliseUsername(username: string): string {
  return username.normalize('NFKC').trim().toLowerCase();
}

async function findStaff(tx: Pick<Repositories, 'staff'>, username: string): Promise<StaffRecord> {
  const staff = await tx.staff.byUsername(normaliseUsername(username));
  if (staff === undefined)
    throw new CustodianError('ERR_STAFF_NOT_FOUND', 'no staff member has that username');
  return staff;
}

function summary(s: StaffRecord, trainingUntil: string | null, locked = false): StaffSummary {
  return {
    id: s.id,
    username: s.username,
    name: s.displayName,
    role: s.role,
    createdAt: s.createdAt,
    lastLoginAt: s.lastLoginAt,
    disabledAt: s.disabledAt,
    mfaEnrolled: s.totpSealed !== null,
    lockedUntil: locked ? s.lockedUntil : null,
    trainingUntil,
  };
}
