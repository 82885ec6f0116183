import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config/schema.js';
import { CustodianError } from '../domain/errors.js';
import { KyselyStore } from './kysely-store.js';
import type { Store } from './store.js';
import type { Database } from './types.js';
import {
  BACKSTOP_PAGES,
  DEFAULT_AUTOCHECKPOINT_PAGES,
  WalCheckpointer,
  type WalCheckpoints,
} from './wal-checkpointer.js';

/** pg returns int8 as text by default; our 64-bit counters stay below 2^53. */
const INT8_OID = 20;
const parseInt8 = (value: string): number => Number(value);
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format: 'text' | 'binary' = 'text') =>
    oid === INT8_OID
      ? parseInt8
      : (pg.types.getTypeParser as (o: number, f: string) => unknown)(
          oid,
          format,
        )) as pg.CustomTypesConfig['getTypeParser'],
};

/** The longest pause between two tries at the write lock. */
const BUSY_PAUSE_MAX_MS = 25;

/**
 * Write transactions take SQLite's write lock up front (`BEGIN IMMEDIATE`). A deferred transaction
 * that reads and then writes fails at once with SQLITE_BUSY when another process (say, a key
 * rotation beside the server) committed in between; an immediate one waits its turn.
 *
 * It waits without blocking the process: SQLite's own busy handler sleeps in the calling thread,
 * which for better-sqlite3 is the event loop, so a server waiting on `custodian import`'s batches
 * would answer nothing, health checks included. The connection's `busy_timeout` is turned off for
 * the `BEGIN` alone and the lock asked for again after growing pauses (1, 2, 4 … 25 ms), for as
 * long as `busy_timeout` says; then SQLITE_BUSY goes up (`ERR_STORE_BUSY`).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  /** The connection's `busy_timeout` when the store was opened (its pragmas are set by then). */
  readonly #patienceMs: number;
  readonly #noWait: SqliteDatabase.Statement;
  readonly #wait: SqliteDatabase.Statement;
  constructor(config: SqliteDialectConfig, raw: SqliteDatabase.Database) {
    super(config);
    this.#patienceMs = Number(raw.pragma('busy_timeout', { simple: true }));
    // Prepared once: a `pragma()` call prepares its statement anew, some microseconds each time.
    this.#noWait = raw.prepare('pragma busy_timeout = 0');
    this.#wait = raw.prepare(`pragma busy_timeout = ${this.#patienceMs}`);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const deadline = Date.now() + this.#patienceMs;
    this.#noWait.run();
    try {
      for (let pause = 1; ; pause = Math.min(pause * 2, BUSY_PAUSE_MAX_MS)) {
        try {
          await connection.executeQuery(CompiledQuery.raw('begin immediate'));
          return;
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          const busy = typeof code === 'string' && code.startsWith('SQLITE_BUSY');
          if (!busy || Date.now() + pause > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, pause));
        }
      }
    } finally {
      this.#wait.run();
    }
  }
}

/** The SQLite dialect every store uses: immediate write transactions, cached statements. */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDialectConfig['database'];
  readonly #raw: SqliteDatabase.Database;
  constructor(database: SqliteDatabase.Database) {
    const cached = withStatementCache(database);
    super({ database: cached });
    this.#database = cached;
    this.#raw = database;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database }, this.#raw);
  }
}

/** Distinct statements kept prepared; multi-row inserts of varying widths make the set open-ended. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely prepares every query anew; preparing is a fifth of a collect's SQLite time. The same SQL
 * text reuses its prepared statement (better-sqlite3 statements are re-runnable; Kysely runs one
 * query at a time per connection and never streams here). Bounded, least recently used.
 */
function withStatementCache(database: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare: (sql: string) => {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      } else {
        cache.delete(sql);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

/**
 * What every SQLite connection of the store sets (the ingest benchmark's plain side sets the same).
 * WAL lets readers run beside the single writer; NORMAL sync is durable across process crashes.
 * Deleted content (an erased subject's wrapped keys) is overwritten, not left in free pages. The
 * page cache is 64 MiB instead of SQLite's 2 MiB: blind-index tokens are random, so identity
 * inserts land all over their B-trees, and a large import otherwise slows down as soon as those
 * outgrow the cache.
 */
export const SQLITE_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = NORMAL',
  'foreign_keys = ON',
  'busy_timeout = 5000',
  'secure_delete = ON',
  'cache_size = -65536',
  // Statement journals (a multi-row insert into a table with foreign keys keeps one, to undo the
  // statement alone) and temporary tables stay in memory: spilled to a temporary file they cost a
  // write call per page, 1.6 per imported order row. It also keeps copies of the store's pages out
  // of temporary files on disk. The price: a GROUP BY or DISTINCT over millions of rows (key
  // statistics) sorts in memory, some tens of bytes a row.
  'temp_store = MEMORY',
] as const;

/**
 * The pragmas a writing connection to the store's file sets: {@link SQLITE_PRAGMAS}, and while
 * the WAL is checkpointed in the background, the writers' own threshold raised to a backstop
 * (every writer to the file, or it would checkpoint for the others in its commits).
 */
export function sqlitePragmas(walCheckpoints: WalCheckpoints = 'inline'): readonly string[] {
  return walCheckpoints === 'background'
    ? [...SQLITE_PRAGMAS, `wal_autocheckpoint = ${BACKSTOP_PAGES}`]
    : SQLITE_PRAGMAS;
}

export interface OpenStoreOptions {
  /**
   * SQLite: `background` runs WAL checkpoints in a thread of their own ({@link WalCheckpointer})
   * instead of inside the commit that crosses the threshold (`inline`, SQLite's way and the
   * default here). PostgreSQL checkpoints in its own server processes and ignores this.
   */
  readonly walCheckpoints?: WalCheckpoints;
  /** Told when the checkpoint thread cannot start or stops; commits then checkpoint inline again. */
  readonly onCheckpointerFailure?: (error: unknown) => void;
}

/** How long {@link Store.scrub} keeps asking for the WAL while another connection checkpoints it. */
const SCRUB_ATTEMPTS = 400;
const SCRUB_PAUSE_MS = 5;

/**
 * Checkpoints the whole WAL into the file and truncates it (what an erasure's scrub needs). SQLite
 * takes the checkpoint lock without waiting: while another connection — the checkpoint thread, or
 * another process's — holds it, the pragma answers `busy` and truncates nothing, so this asks again.
 */
async function truncateWal(db: Kysely<Database>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    // Through Kysely, so the pragma waits its turn on the one connection: run beside an open unit
    // of work (a collect, a read), SQLite refuses it with SQLITE_LOCKED.
    const { rows } = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(db);
    const [result] = rows;
    if (result === undefined || result.busy === 0) return;
    if (attempt >= SCRUB_ATTEMPTS)
      throw new CustodianError(
        'ERR_STORE_UNAVAILABLE',
        'the SQLite WAL could not be truncated: another connection kept checkpointing it',
      );
    await new Promise((resolve) => setTimeout(resolve, SCRUB_PAUSE_MS));
  }
}

/** Opens the configured engine. Does not migrate; call {@link Store.migrate}. */
export function openStore(config: DatabaseConfig, options: OpenStoreOptions = {}): Store {
  if (config.engine === 'sqlite') {
    mkdirSync(dirname(config.path), { recursive: true });
    let database: SqliteDatabase.Database;
    try {
      database = new SqliteDatabase(config.path);
    } catch (cause) {
      throw new CustodianError('ERR_STORE_UNAVAILABLE', 'cannot open the SQLite database', { cause });
    }
    for (const pragma of sqlitePragmas(options.walCheckpoints)) database.pragma(pragma);
    let checkpointer: WalCheckpointer | undefined;
    if (options.walCheckpoints === 'background') {
      // The writer checkpoints for itself again, as without a checkpointer.
      const inline = (error: unknown): void => {
        if (database.open) database.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
        options.onCheckpointerFailure?.(error);
      };
      try {
        checkpointer = new WalCheckpointer({ path: config.path, onFailure: inline });
      } catch (error) {
        inline(error);
      }
    }
    const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(database) });
    return new KyselyStore('sqlite', db, {
      scrub: () => truncateWal(db),
      beforeClose: async () => {
        await checkpointer?.stop();
      },
    });
  }
  const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize, types: pgTypes });
  // An idle client's error must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  return new KyselyStore('postgres', new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
}
