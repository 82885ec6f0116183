import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, type Generated } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { initProject } from '../../src/services/setup.js';
import { ImmediateSqliteDialect, sqlitePragmas } from '../../src/store/open.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import type { EngineId, SuiteId, WalCheckpoints } from '../lib/cli.js';
import { note } from '../lib/out.js';

/** The merchant's own table: the same columns in clear, searchable by phone and OAID. */
export interface PlainDatabase {
  customers_plain: {
    id: Generated<number>;
    oaid: string;
    recipient_name: string;
    phone: string;
    province: string;
    city: string;
    district: string;
    street: string;
    created_at: string;
  };
}

/** Where one ingest benchmark writes: the real runtime and, beside it, the plain table. */
export interface IngestTarget {
  readonly engine: EngineId;
  /** The SQLite file, for benchmarks that open a connection of their own. */
  readonly path?: string;
  readonly runtime: Runtime;
  readonly plain: Kysely<PlainDatabase>;
  /** Engine facts for the result line (journal mode, sync level, server version). */
  readonly facts: Readonly<Record<string, string | number>>;
  /** Called before every timed run so each starts from the same state (SQLite: an empty WAL). */
  settle(): Promise<void>;
  plainCount(): Promise<number>;
  close(): Promise<void>;
}

export interface TargetOptions {
  readonly engine: EngineId;
  readonly suite: SuiteId;
  readonly keep: boolean;
  /** SQLite: where the runtime checkpoints its WAL; default `background`, as `serve` does. */
  readonly walCheckpoints?: WalCheckpoints;
}

/** Where `--engine postgres` creates (and drops) its database; a role that may CREATE DATABASE. */
export const PG_ADMIN_URL =
  process.env['CUSTODIAN_BENCH_PG_URL'] ??
  process.env['CUSTODIAN_TEST_PG_URL'] ??
  'postgres://postgres@127.0.0.1:5432/postgres';

// The plain side runs on the store's own SQLite dialect (immediate transactions, cached
// statements), so both sides use the same stack.

async function createPlainTable(db: Kysely<PlainDatabase>, engine: EngineId): Promise<void> {
  const id = engine === 'sqlite' ? sql.raw('id integer primary key') : sql.raw('id bigserial primary key');
  await sql`create table customers_plain (
    ${id},
    oaid text not null,
    recipient_name text not null,
    phone text not null,
    province text not null,
    city text not null,
    district text not null,
    street text not null,
    created_at text not null
  )`.execute(db);
  await sql`create index customers_plain_phone on customers_plain (phone)`.execute(db);
  await sql`create index customers_plain_oaid on customers_plain (oaid)`.execute(db);
}

async function countPlain(db: Kysely<PlainDatabase>): Promise<number> {
  const row = await db
    .selectFrom('customers_plain')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A fresh working folder made by `custodian init` (keys, custodian.yaml, migrated SQLite file). */
async function initFolder(suite: SuiteId): Promise<{ dir: string; config: Config }> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-'));
  try {
    const { configPath } = await initProject({ dir: join(dir, 'project'), suite });
    const { config } = loadConfig({ explicit: configPath, env: {} });
    if (config.crypto.suite !== suite)
      throw new Error(`init wrote suite ${config.crypto.suite}, not ${suite}`);
    return { dir, config };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function sqliteTarget(options: TargetOptions): Promise<IngestTarget> {
  const { dir, config } = await initFolder(options.suite);
  if (config.database.engine !== 'sqlite') throw new Error('init must configure the embedded engine');
  const path = config.database.path;
  const walCheckpoints = options.walCheckpoints ?? 'background';
  const runtime = await openRuntime(config, { walCheckpoints });
  // A second connection to the same file, set up as openStore sets up its own, under the same
  // Kysely dialect: the plain side pays the same driver and query-builder costs as the vault.
  const database = new SqliteDatabase(path);
  // The pragmas `openStore` sets (`journal_mode` is stored in the file; the others hold per
  // connection, so the plain side's connection sets them too, checkpoint backstop included).
  for (const pragma of sqlitePragmas(walCheckpoints)) database.pragma(pragma);
  const plain = new Kysely<PlainDatabase>({ dialect: new ImmediateSqliteDialect(database) });
  await createPlainTable(plain, 'sqlite');
  const journal = String(database.pragma('journal_mode', { simple: true }));
  if (journal !== 'wal') throw new Error(`expected WAL, the database is in ${journal} mode`);
  const facts = {
    sqlite: (database.prepare('select sqlite_version() as v').get() as { v: string }).v,
    journalMode: journal,
    synchronous: Number(database.pragma('synchronous', { simple: true })),
    walCheckpoints,
  };
  note(`ingest: sqlite ${facts.sqlite} at ${path} (WAL, synchronous=NORMAL, ${walCheckpoints} checkpoints)`);
  return {
    engine: 'sqlite',
    path,
    runtime,
    plain,
    facts,
    settle() {
      database.pragma('wal_checkpoint(TRUNCATE)');
      return Promise.resolve();
    },
    plainCount: () => countPlain(plain),
    async close() {
      await plain.destroy();
      await runtime.close();
      if (options.keep) note(`ingest: kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresTarget(options: TargetOptions): Promise<IngestTarget> {
  const { dir, config } = await initFolder(options.suite);
  const name = `custodian_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  try {
    await admin(`create database ${name}`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL at ${PG_ADMIN_URL}: ${(error as Error).message}`, { cause: error });
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const poolSize = 10;
  const pgConfig: Config = { ...config, database: { engine: 'postgres', url: url.toString(), poolSize } };
  const drop = async (): Promise<void> => {
    if (options.keep) note(`ingest: kept database ${name} and ${dir}`);
    else {
      await admin(`drop database if exists ${name} with (force)`);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  let runtime: Runtime;
  try {
    runtime = await openRuntime(pgConfig);
  } catch (error) {
    await drop();
    throw error;
  }
  const plain = new Kysely<PlainDatabase>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: poolSize }) }),
  });
  await createPlainTable(plain, 'postgres');
  const settings = await sql<{ server_version: string; synchronous_commit: string }>`
    select current_setting('server_version') as server_version,
           current_setting('synchronous_commit') as synchronous_commit`.execute(plain);
  const facts = {
    postgres: settings.rows[0]?.server_version ?? 'unknown',
    synchronousCommit: settings.rows[0]?.synchronous_commit ?? 'unknown',
  };
  note(
    `ingest: postgres ${facts.postgres}, database ${name} (synchronous_commit=${facts.synchronousCommit})`,
  );
  return {
    engine: 'postgres',
    runtime,
    plain,
    facts,
    settle: () => Promise.resolve(),
    plainCount: () => countPlain(plain),
    async close() {
      await plain.destroy();
      await runtime.close();
      await drop();
    },
  };
}

export function openTarget(options: TargetOptions): Promise<IngestTarget> {
  return options.engine === 'sqlite' ? sqliteTarget(options) : postgresTarget(options);
}
