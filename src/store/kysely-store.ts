import { Migrator, sql, type Kysely, type MigrationResultSet } from 'kysely';
import { CustodianError } from '../domain/errors.js';
import { CAPABILITIES, COLUMN_TYPES, type Engine, type StoreCapabilities } from './dialect.js';
import { migrationProvider } from './migrations/index.js';
import { AuditHeadHint, KyselyAuditRepository } from './repos/audit.js';
import { KyselyIdentityRepository, KyselyRecordRepository } from './repos/records.js';
import {
  KyselyRotationRepository,
  KyselySubjectKeyRepository,
  KyselySubjectRepository,
} from './repos/subjects.js';
import {
  KyselyBreakGlassRepository,
  KyselyExportRepository,
  KyselySessionRepository,
  KyselyStaffRepository,
  KyselyTrainingRepository,
} from './repos/access.js';
import { KyselyConsentRepository } from './repos/consent.js';
import { KyselyImportRepository } from './repos/imports.js';
import { KyselyIncidentRepository } from './repos/incidents.js';
import { KyselyPolicyRepository } from './repos/policy.js';
import { KyselyPrivacyCentreRepository } from './repos/privacy.js';
import { KyselyTokenRepository } from './repos/tokens.js';
import type { ConsentRepository } from './consent.js';
import type { ImportRepository } from './imports.js';
import type { IncidentRepository } from './incidents.js';
import type { PolicyRepository } from './policy.js';
import type { PrivacyCentreRepository } from './privacy.js';
import type {
  BreakGlassRepository,
  ExportRepository,
  SessionRepository,
  StaffRepository,
  TrainingRepository,
} from './access.js';
import type {
  AuditRepository,
  IdentityRepository,
  MigrationOutcome,
  RecordRepository,
  Repositories,
  RotationRepository,
  Store,
  SubjectKeyRepository,
  SubjectRepository,
  TokenRepository,
} from './store.js';
import type { Database } from './types.js';

function repositories(
  db: Kysely<Database>,
  capabilities: StoreCapabilities,
  auditHint: AuditHeadHint,
): Repositories {
  return {
    policies: new KyselyPolicyRepository(db),
    staff: new KyselyStaffRepository(db),
    sessions: new KyselySessionRepository(db),
    training: new KyselyTrainingRepository(db),
    breakGlass: new KyselyBreakGlassRepository(db),
    exports: new KyselyExportRepository(db),
    tokens: new KyselyTokenRepository(db),
    subjects: new KyselySubjectRepository(db, capabilities.rowLocks),
    keys: new KyselySubjectKeyRepository(db),
    identities: new KyselyIdentityRepository(db),
    records: new KyselyRecordRepository(db),
    audit: new KyselyAuditRepository(db, auditHint),
    rotations: new KyselyRotationRepository(db),
    imports: new KyselyImportRepository(db),
    consents: new KyselyConsentRepository(db),
    incidents: new KyselyIncidentRepository(db),
    privacy: new KyselyPrivacyCentreRepository(db),
  };
}

/** What an engine adds to the store's own behaviour. */
export interface StoreHooks {
  /** {@link Store.scrub} (default: nothing to do). */
  readonly scrub?: () => Promise<void>;
  /** Runs before the connections close (a background thread stops first). */
  readonly beforeClose?: () => Promise<void>;
}

/** The {@link Store} over any Kysely dialect; engine differences stay in `dialect.ts`. */
export class KyselyStore implements Store {
  readonly engine: Engine;
  readonly capabilities: StoreCapabilities;
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
  readonly #db: Kysely<Database>;
  readonly #migrator: Migrator;
  /** The last audit head this process saw: a hint that saves a round trip per append. */
  readonly #auditHint = new AuditHeadHint();

  readonly #scrub: () => Promise<void>;
  readonly #beforeClose: () => Promise<void>;

  constructor(engine: Engine, db: Kysely<Database>, hooks: StoreHooks = {}) {
    this.#scrub = hooks.scrub ?? (() => Promise.resolve());
    this.#beforeClose = hooks.beforeClose ?? (() => Promise.resolve());
    this.engine = engine;
    this.capabilities = CAPABILITIES[engine];
    this.#db = db;
    this.#migrator = new Migrator({ db, provider: migrationProvider(COLUMN_TYPES[engine]) });
    const repos = repositories(db, this.capabilities, this.#auditHint);
    this.policies = repos.policies;
    this.staff = repos.staff;
    this.sessions = repos.sessions;
    this.training = repos.training;
    this.breakGlass = repos.breakGlass;
    this.exports = repos.exports;
    this.tokens = repos.tokens;
    this.subjects = repos.subjects;
    this.keys = repos.keys;
    this.identities = repos.identities;
    this.records = repos.records;
    this.audit = repos.audit;
    this.rotations = repos.rotations;
    this.imports = repos.imports;
    this.consents = repos.consents;
    this.incidents = repos.incidents;
    this.privacy = repos.privacy;
  }

  async transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    try {
      return await this.#db
        .transaction()
        .execute((trx) => work(repositories(trx, this.capabilities, this.#auditHint)));
    } catch (error) {
      // The driver's message may quote the conflicting values; only the fact of the failure leaves.
      // A unit of work rolled back whole may well succeed run again, so callers that retry (the
      // vault's collect, the importer's batches) get codes they retry on.
      switch (storeFailure(error)) {
        case 'unique':
          throw new CustodianError('ERR_STORE_CONFLICT', 'the write conflicts with existing data', {
            cause: error,
          });
        case 'conflict':
          throw new CustodianError(
            'ERR_STORE_CONFLICT',
            'the write conflicted with a concurrent one and was rolled back',
            { cause: error },
          );
        case 'busy':
          throw new CustodianError(
            'ERR_STORE_BUSY',
            'another connection holds the database write lock; try again shortly',
            { cause: error },
          );
        default:
          throw error;
      }
    }
  }

  async migrate(): Promise<MigrationOutcome> {
    return this.#outcome(await this.#migrator.migrateToLatest());
  }

  async migrateDown(): Promise<MigrationOutcome> {
    return this.#outcome(await this.#migrator.migrateDown());
  }

  async migrations(): Promise<string[]> {
    const all = await this.#migrator.getMigrations();
    return all.filter((m) => m.executedAt !== undefined).map((m) => m.name);
  }

  scrub(): Promise<void> {
    return this.#scrub();
  }

  async ping(): Promise<void> {
    try {
      await sql`select 1`.execute(this.#db);
    } catch (cause) {
      throw new CustodianError('ERR_STORE_UNAVAILABLE', 'the database does not answer', { cause });
    }
  }

  async close(): Promise<void> {
    await this.#beforeClose();
    await this.#db.destroy();
  }

  async #outcome(result: MigrationResultSet): Promise<MigrationOutcome> {
    if (result.error !== undefined) {
      const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new CustodianError('ERR_STORE_MIGRATION_FAILED', `migration ${failed} failed`, {
        cause: result.error,
        details: { migration: failed },
      });
    }
    const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    const done = await this.migrations();
    return { applied, current: done.at(-1) };
  }
}

/**
 * What a failed unit of work ran into, when the store answers it with a code of its own:
 * - `unique`: a unique violation (PostgreSQL `23505`, SQLite `SQLITE_CONSTRAINT_UNIQUE` /
 *   `_PRIMARYKEY`), of the error itself;
 * - `conflict`: PostgreSQL aborted it to break a deadlock (`40P01`) or could not serialise it
 *   (`40001`);
 * - `busy`: SQLite's write lock stayed with another connection (another process: `custodian
 *   import` beside `custodian serve`) past the busy timeout (`SQLITE_BUSY`, `SQLITE_LOCKED` and
 *   their extended codes).
 * The last two are looked for through the causes a service wraps a driver error in (`appendAudit`
 * wraps it in `ERR_AUDIT_WRITE_FAILED`).
 */
function storeFailure(error: unknown): 'unique' | 'conflict' | 'busy' | undefined {
  const own = (error as { code?: unknown } | null)?.code;
  if (own === '23505' || own === 'SQLITE_CONSTRAINT_UNIQUE' || own === 'SQLITE_CONSTRAINT_PRIMARYKEY')
    return 'unique';
  for (let at = error, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) {
    const code = (at as { code?: unknown }).code;
    if (code === '40P01' || code === '40001') return 'conflict';
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')))
      return 'busy';
  }
  return undefined;
}
