import type {
  BreakGlassRepository,
  ExportRepository,
  SessionRepository,
  StaffRepository,
  TrainingRepository,
} from './access.js';
import type { Engine, StoreCapabilities } from './dialect.js';
import type { ConsentRepository } from './consent.js';
import type { ImportRepository } from './imports.js';
import type { IncidentRepository } from './incidents.js';
import type { PolicyRepository } from './policy.js';
import type { PrivacyCentreRepository } from './privacy.js';

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
  /** Several subjects in few statements (a collect batch). */
  insertMany(subjects: readonly { readonly id: string; readonly createdAt: string }[]): Promise<void>;
  get(id: string): Promise<SubjectRecord | undefined>;
  /** The subjects among `ids` that exist, in any order. */
  getMany(ids: readonly string[]): Promise<SubjectRecord[]>;
  /**
   * Locks the subject's row for the rest of the unit of work where the engine has row locks, so a
   * key rotation, an erasure and a collect for the same subject never interleave. (SQLite has one
   * writer at a time, which serialises them already.)
   */
  lock(id: string): Promise<void>;
  /** {@link lock} for several subjects, taken in id order so two batches never deadlock. */
  lockMany(ids: readonly string[]): Promise<void>;
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
  insertMany(keys: readonly SubjectKeyRecord[]): Promise<void>;
  /** The newest version of a subject's key. */
  current(subjectId: string): Promise<SubjectKeyRecord | undefined>;
  /** The newest key version of each subject among `subjectIds` that has one, in any order. */
  currentMany(subjectIds: readonly string[]): Promise<SubjectKeyRecord[]>;
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

/** One blind-index token to look up. */
export interface IdentityLookup {
  readonly kind: string;
  readonly indexVersion: number;
  readonly token: Buffer;
}

export interface IdentityMatch extends IdentityLookup {
  readonly subjectId: string;
}

export interface IdentityRepository {
  /** Inserts identities; an identical (kind, version, token, subject) row is kept once. */
  insertMany(rows: readonly IdentityRecord[]): Promise<void>;
  /** Identity rows that match any of the lookups: which subject, under which lookup. */
  findSubjects(lookups: readonly IdentityLookup[]): Promise<IdentityMatch[]>;
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
  insertMany(records: readonly RecordRow[]): Promise<void>;
  listForSubject(subjectId: string): Promise<RecordRow[]>;
  /** Replaces a record's ciphertexts (subject-key rotation). */
  reseal(id: string, keyVersion: number, sealed: Buffer, at: string): Promise<boolean>;
  deleteForSubject(subjectId: string): Promise<number>;
}

/**
 * One audit entry: its canonical bytes (its leaf in the Merkle log) and the subject pseudonym
 * (an indexed column, checked against the canonical bytes by verification). `at`, `action` and
 * `actor` are read from the canonical bytes, not stored apart.
 */
export interface AuditRow {
  /** 1-based position; the entry's leaf index is `seq - 1`. */
  readonly seq: number;
  readonly at: string;
  readonly action: string;
  readonly actor: string;
  readonly subjectRef: string | null;
  /** Exactly the bytes the leaf hash covers (canonical JSON, UTF-8). */
  readonly canonical: Buffer;
}

/**
 * The Merkle log's head: its size and frontier, the roots of the perfect subtrees that make up
 * the whole tree (one per set bit of `size`, largest first, 32 bytes each, concatenated).
 */
export interface AuditHead {
  readonly size: number;
  readonly frontier: Buffer;
}

/** A perfect subtree's hash under its post-order storage id (see `src/domain/audit/tree.ts`). */
export interface AuditNode {
  readonly id: number;
  readonly hash: Buffer;
}

/** A signed checkpoint as stored; the signed note text is rebuilt from these columns. */
export interface AuditCheckpointRecord {
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly origin: string;
  /** ISO-8601 signing time (the checkpoint's `time` line). */
  readonly signedAt: string;
  /** The signed-note key id (uint32) of the signing key. */
  readonly keyId: number;
  /** The 64-byte Ed25519 signature. */
  readonly signature: Buffer;
}

/** Consecutive entries for bulk verification, without an object per row. */
export interface AuditEntryBatch {
  readonly count: number;
  /**
   * In sequence order, each entry's canonical bytes, one 0x01 byte and its `subjectRef` as
   * `=<value>` (or `-` for null); entries joined by one 0x00 byte. Canonical JSON never holds a
   * raw 0x00 or 0x01 byte (control characters are escaped), so the bytes split unambiguously
   * unless a row was tampered with — which verification then examines row by row.
   */
  readonly bytes: Buffer;
}

/** Consecutive stored nodes (post-order ids), hashes concatenated in id order. */
export interface AuditNodeBatch {
  readonly count: number;
  readonly bytes: Buffer;
}

export interface AuditTableStats {
  readonly count: number;
  readonly min: number | null;
  readonly max: number | null;
}

/** How far the audit log has been pruned (docs/audit-log.md, "Retention"). */
export interface AuditRetentionState {
  /** Leaves `[0, prunedSize)` (entries with `seq <= prunedSize`) were pruned; 0 when never. */
  readonly prunedSize: number;
  readonly prunedAt: string | null;
  /** The `seq` of the entry that records the latest prune, or null. */
  readonly pruneSeq: number | null;
}

export interface AuditRepository {
  /**
   * Takes the log's head for this unit of work: on engines with concurrent writers the row lock
   * is held until commit, so appenders are serialised and the tree cannot fork.
   */
  lockHead(): Promise<AuditHead>;
  /** The head as last committed, without a lock. */
  head(): Promise<AuditHead>;
  /**
   * The head this process last read or wrote, if any: only a guess (another process may have
   * appended since, or that unit of work rolled back), to be confirmed by {@link swapHead}.
   */
  headHint(): AuditHead | undefined;
  /**
   * Replaces the head with `next` if it still equals `expected` (size and frontier), taking the
   * head's lock like {@link lockHead}; false, changing nothing, when it does not.
   */
  swapHead(expected: AuditHead, next: AuditHead): Promise<boolean>;
  setHead(head: AuditHead): Promise<void>;
  /** Stores entries; only `seq`, `subjectRef` and `canonical` are written (the rest is in the canonical bytes). */
  insertMany(rows: readonly AuditRow[]): Promise<void>;
  insertNodes(nodes: readonly AuditNode[]): Promise<void>;
  /** Entries with `from <= seq < to`, in order. */
  range(from: number, to: number): Promise<AuditRow[]>;
  count(): Promise<number>;
  /** The stored nodes among `ids` (missing ones are absent from the map). */
  nodes(ids: readonly number[]): Promise<Map<number, Buffer>>;
  /** Stored nodes with `from <= id < to`, in order. */
  nodeRange(from: number, to: number): Promise<AuditNode[]>;
  /** Entries with `from <= seq < to` as one batch (verification). */
  scanEntries(from: number, to: number): Promise<AuditEntryBatch>;
  /** Nodes with `from <= id < to` as one batch (verification). */
  scanNodes(from: number, to: number): Promise<AuditNodeBatch>;
  /** Count, lowest and highest `seq` of the entries and `id` of the nodes (those with `id >= nodesFrom`). */
  stats(nodesFrom?: number): Promise<{ readonly entries: AuditTableStats; readonly nodes: AuditTableStats }>;
  /**
   * Entries whose `seq` is outside `[prunedSize + 1, size]` and nodes whose id is outside
   * `[0, nodeCount)`.
   */
  strays(
    size: number,
    nodeCount: number,
    limit: number,
    prunedSize?: number,
  ): Promise<{ seqs: number[]; nodeIds: number[] }>;
  /** The pruning state; `prunedSize` 0 when the log was never pruned. */
  retention(): Promise<AuditRetentionState>;
  /**
   * Prunes the prefix of `state.prunedSize` leaves: deletes the entries with `seq <= prunedSize`
   * and the nodes with `id < nodesBelow` except `keep`, and records `state`. Within the caller's
   * unit of work, which holds the head's lock.
   */
  prune(state: AuditRetentionState, nodesBelow: number, keep: readonly number[]): Promise<void>;
  /** Stores a checkpoint; false when one for that tree size exists already. */
  insertCheckpoint(checkpoint: AuditCheckpointRecord): Promise<boolean>;
  latestCheckpoint(): Promise<AuditCheckpointRecord | undefined>;
  /** Checkpoints with `treeSize > after`, smallest first. */
  checkpoints(after: number, limit: number): Promise<AuditCheckpointRecord[]>;
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
  /**
   * Records `suite` as the suite whose hash blind-index version `version` uses, unless one is
   * recorded already; returns the recorded one (a version keeps its hash when `crypto.suite` changes).
   */
  pinIndexSuite(version: number, suite: string, at: string): Promise<string>;
  /** The suite recorded for blind-index version `version`, if any. */
  indexSuite(version: number): Promise<string | undefined>;
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
  readonly imports: ImportRepository;
  readonly consents: ConsentRepository;
  readonly incidents: IncidentRepository;
  readonly privacy: PrivacyCentreRepository;
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
