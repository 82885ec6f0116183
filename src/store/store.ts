import type { Engine, StoreCapabilities } from './dialect.js';

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

/** Everything a unit of work can touch. One instance per transaction. */
export interface Repositories {
  readonly tokens: TokenRepository;
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
  /** Throws `ERR_STORE_UNAVAILABLE` when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
