import type {
  BreakGlassRepository,
  ExportRepository,
  SessionRepository,
  StaffRepository,
  TrainingRepository,
} from './access.js';
import type { Engine, StoreCapabilities } from './dialect.js';
import type { PolicyRepository } from './policy.js';

/** An API token as the services see it; the token itself is never stored, only its hash. */
export interface ApiTokenRecord {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly tokenHash: Buffer;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
}

export interface TokenRepository {
  insert(token: Omit<ApiTokenRecord, 'revokedAt' | 'lastUsedAt'>): Promise<void>;
  findByHash(tokenHash: Buffer): Promise<ApiTokenRecord | undefined>;
  list(): Promise<ApiTokenRecord[]>;
  /** Records a use; returns false when no such token exists. */
  touch(id: string, at: string): Promise<boolean>;
  /** Revokes a token; returns false when it does not exist or was revoked already. */
  revoke(id: string, at: string): Promise<boolean>;
}

export interface SubjectRecord {
  readonly id: string;
  readonly createdAt: string;
  readonly erasedAt: string | null;
}

export interface SubjectRepository {
  insert(subject: { readonly id: string; readonly createdAt: string }): Promise<void>;
  get(id: string): Promise<SubjectRecord | undefined>;
  /**
   * Locks the subject's row for the rest of the unit of work where the engine has row locks, so a
   * key rotation, an erasure and a collect for the same subject never interleave. (SQLite has one
   * writer at a time, which serialises them already.)
   */
  lock(id: string): Promise<void>;
  /** Marks the tombstone; returns false when the subject is unknown or erased already. */
  markErased(id: string, at: string): Promise<boolean>;
  count(): Promise<{ active: number; erased: number }>;
  /** Active subjects in id order after `after`, for batched jobs. */
  activeAfter(after: string, limit: number): Promise<SubjectRecord[]>;
}

/** A subject's data key as stored: wrapped by a root key, never in clear. */
export interface SubjectKeyRecord {
  readonly subjectId: string;
  readonly version: number;
  readonly suite: string;
  readonly rootKeyId: string;
  readonly wrapped: Buffer;
  readonly createdAt: string;
}

export interface KeyStats {
  readonly keys: number;
  readonly subjects: number;
  readonly byRoot: readonly { readonly rootKeyId: string; readonly keys: number }[];
  readonly bySuite: readonly { readonly suite: string; readonly keys: number }[];
  readonly byVersion: readonly { readonly version: number; readonly keys: number }[];
  readonly oldest: string | null;
  readonly newest: string | null;
}

export interface SubjectKeyRepository {
  insert(key: SubjectKeyRecord): Promise<void>;
  /** The newest version of a subject's key. */
  current(subjectId: string): Promise<SubjectKeyRecord | undefined>;
  get(subjectId: string, version: number): Promise<SubjectKeyRecord | undefined>;
  /** Replaces the wrapping of one key version (root rotation). */
  rewrap(subjectId: string, version: number, wrapped: Buffer, rootKeyId: string): Promise<boolean>;
  /** Keys not wrapped by `rootKeyId`, in subject order after `after` (resumable batches). */
  wrappedByOtherRoots(rootKeyId: string, after: string, limit: number): Promise<SubjectKeyRecord[]>;
  deleteVersion(subjectId: string, version: number): Promise<number>;
  /** Crypto-shredding: destroys every key version of a subject. */
  deleteForSubject(subjectId: string): Promise<number>;
  stats(): Promise<KeyStats>;
}

export interface IdentityRecord {
  readonly subjectId: string;
  readonly kind: string;
  readonly indexVersion: number;
  readonly token: Buffer;
  readonly sealed: Buffer;
  readonly keyVersion: number;
  readonly createdAt: string;
}

export interface IdentityRepository {
  /** Inserts identities; an identical (kind, version, token, subject) row is kept once. */
  insertMany(rows: readonly IdentityRecord[]): Promise<void>;
  /** Subjects whose identities match any of the lookups. */
  findSubjects(
    lookups: readonly { readonly kind: string; readonly indexVersion: number; readonly token: Buffer }[],
  ): Promise<{ readonly subjectId: string; readonly kind: string }[]>;
  listForSubject(subjectId: string): Promise<IdentityRecord[]>;
  deleteForSubject(subjectId: string): Promise<number>;
  /** Replaces a subject's identity rows (key or index rotation). */
  replaceForSubject(subjectId: string, rows: readonly IdentityRecord[]): Promise<void>;
  /** Identity rows per index-key version. */
  versionCounts(): Promise<{ readonly indexVersion: number; readonly rows: number }[]>;
  /** Subjects that still have rows under an index version other than `current`, in id order. */
  subjectsOnOtherVersions(current: number, after: string, limit: number): Promise<string[]>;
}

export interface RecordRow {
  readonly id: string;
  readonly subjectId: string;
  readonly collection: string;
  readonly keyVersion: number;
  readonly sealed: Buffer;
  readonly plain: Readonly<Record<string, string>> | null;
  readonly purpose: string;
  readonly source: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface RecordRepository {
  insert(record: RecordRow): Promise<void>;
  listForSubject(subjectId: string): Promise<RecordRow[]>;
  /** Replaces a record's ciphertexts (subject-key rotation). */
  reseal(id: string, keyVersion: number, sealed: Buffer, at: string): Promise<boolean>;
  deleteForSubject(subjectId: string): Promise<number>;
}

/** One audit entry as stored: the canonical bytes and their place in the hash chain. */
export interface AuditRow {
  readonly seq: number;
  readonly at: string;
  readonly action: string;
  readonly actor: string;
  readonly subjectRef: string | null;
  readonly canonical: Buffer;
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

export interface AuditRepository {
  /**
   * Takes the chain's head for this unit of work: on engines with concurrent writers the row
   * lock is held until commit, so appenders are serialised and the chain cannot fork.
   * Returns the last sequence number and hash.
   */
  lockHead(): Promise<{ readonly seq: number; readonly hash: Buffer }>;
  insertMany(rows: readonly AuditRow[]): Promise<void>;
  setHead(seq: number, hash: Buffer): Promise<void>;
  /** Entries with `from <= seq < to`, in order. */
  range(from: number, to: number): Promise<AuditRow[]>;
  count(): Promise<number>;
}

export interface RotationRecord {
  readonly id: string;
  readonly kind: string;
  readonly cutoff: string;
  readonly target: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly processed: number;
}

export interface RotationRepository {
  insert(rotation: RotationRecord): Promise<void>;
  /** The unfinished rotation of this kind, if a previous run stopped midway. */
  unfinished(kind: string): Promise<RotationRecord | undefined>;
  progress(id: string, processed: number, finishedAt: string | null): Promise<void>;
}

/** Everything a unit of work can touch. One instance per transaction. */
export interface Repositories {
  readonly policies: PolicyRepository;
  readonly staff: StaffRepository;
  readonly sessions: SessionRepository;
  readonly training: TrainingRepository;
  readonly breakGlass: BreakGlassRepository;
  readonly exports: ExportRepository;
  readonly tokens: TokenRepository;
  readonly subjects: SubjectRepository;
  readonly keys: SubjectKeyRepository;
  readonly identities: IdentityRepository;
  readonly records: RecordRepository;
  readonly audit: AuditRepository;
  readonly rotations: RotationRepository;
}

export interface MigrationOutcome {
  readonly applied: readonly string[];
  readonly current: string | undefined;
}

/**
 * The one storage port. Services call repositories and {@link Store.transaction}; they never
 * see SQL or which engine runs underneath.
 */
export interface Store extends Repositories {
  readonly engine: Engine;
  readonly capabilities: StoreCapabilities;
  /**
   * Runs `work` as one atomic unit: every write inside commits together, or — when `work`
   * throws — none does. Later issues append the audit entry inside the same unit (fail closed).
   */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Applies pending migrations. */
  migrate(): Promise<MigrationOutcome>;
  /** Rolls back the most recent migration (operators and tests only). */
  migrateDown(): Promise<MigrationOutcome>;
  /** Names of applied migrations, oldest first. */
  migrations(): Promise<string[]>;
  /**
   * Makes deleted rows unrecoverable from the database files where the engine allows it: SQLite
   * zeroes freed pages (`secure_delete`) and this truncates the WAL that still holds old pages.
   * PostgreSQL reclaims dead tuples with (auto)vacuum; key-backup rotation covers the rest.
   */
  scrub(): Promise<void>;
  /** Throws `ERR_STORE_UNAVAILABLE` when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
