import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { initProject } from '../../src/services/setup.js';

/** Where the tests find a PostgreSQL server that lets them create databases. */
export const PG_ADMIN_URL =
  process.env['CUSTODIAN_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface FreshDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Probes the server once. Locally a missing server skips the PostgreSQL suites with this reason;
 * in CI (`CI=true`) it is a failure, so a green run always covers both engines.
 */
export async function probePostgres(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true };
  } catch (error) {
    const reason = `PostgreSQL not reachable at ${PG_ADMIN_URL} (${(error as Error).message}); set CUSTODIAN_TEST_PG_URL or start it`;
    if (process.env['CI'] === 'true') throw new Error(`CI requires PostgreSQL: ${reason}`);
    return { ok: false, reason };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A new, empty database for one suite; dropped afterwards. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const name = `custodian_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      client.on('error', () => undefined);
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * A fresh database with a raw Kysely on it (for migration tests that write tables as an older
 * schema had them): the handle, its URL for `openStore`, and `drop`, which closes the handle and
 * drops the database.
 */
export async function freshKysely<T>(): Promise<{
  db: Kysely<T>;
  url: string;
  drop: () => Promise<void>;
}> {
  const fresh = await freshDatabase();
  const pool = new pg.Pool({ connectionString: fresh.url, max: 2 });
  // Dropping the database ends any connection left; that is expected, not an error.
  pool.on('error', () => undefined);
  const db = new Kysely<T>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    url: fresh.url,
    drop: async () => {
      await db.destroy();
      await fresh.drop();
    },
  };
}

/**
 * A working folder made by `init`, switched to a fresh PostgreSQL database: the loaded config and
 * the function that drops the database afterwards.
 */
export async function postgresProject(dir: string): Promise<{ config: Config; drop: () => Promise<void> }> {
  const db = await freshDatabase();
  const { configPath } = await initProject({ dir });
  writeFileSync(
    configPath,
    readFileSync(configPath, 'utf8').replace(
      'database:\n  engine: sqlite\n  path: data/custodian.db',
      `database:\n  engine: postgres\n  url: \${env:TEST_DATABASE_URL}`,
    ),
  );
  const { config } = loadConfig({ explicit: configPath, env: { TEST_DATABASE_URL: db.url } });
  return { config, drop: () => db.drop() };
}
