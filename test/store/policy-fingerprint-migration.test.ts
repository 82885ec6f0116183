/**
 * Migration 0014 drops the unique constraint on `policy_versions.fingerprint` (a data map that
 * returns to older content publishes a new version with an older fingerprint, R5) and keeps every
 * published version; rolling back restores the constraint, or refuses when versions share one.
 */
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { COLUMN_TYPES, type Engine } from '../../src/store/dialect.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { freshKysely, probePostgres } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

interface Row {
  number: number;
  fingerprint: string;
  scope: string;
  published_at: string;
  requires_reconsent: number;
  reconsent_purposes: string;
}

interface Tables {
  policy_versions: Row;
}

const row = (number: number, fingerprint: string, overrides: Partial<Row> = {}): Row => ({
  number,
  fingerprint,
  scope: JSON.stringify({ v: number, processor: { name: '示例商店', contact: 'privacy@example.com' } }),
  published_at: `2026-0${number}-01T00:00:00.000Z`,
  requires_reconsent: number === 2 ? 1 : 0,
  reconsent_purposes: number === 2 ? '["marketing"]' : '[]',
  ...overrides,
});

const FP = (n: number): string => String(n).repeat(64);

interface Engines {
  readonly engine: Engine;
  readonly open: () => Promise<{
    db: Kysely<Tables>;
    store: () => Store;
    /** Names of the indexes on policy_versions that enforce uniqueness, apart from the primary key. */
    uniqueIndexes: () => Promise<string[]>;
    drop: () => Promise<void>;
  }>;
}

const probe = await probePostgres();
const dir = tempDir('custodian-migrate-policy-');
let n = 0;
const engines: Engines[] = [
  {
    engine: 'sqlite',
    open: () => {
      const path = join(dir.path, `m${n++}.db`);
      const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) });
      return Promise.resolve({
        db,
        store: () => openStore({ engine: 'sqlite', path }),
        uniqueIndexes: async () => {
          const { rows } = await sql<{
            name: string;
            unique: number;
            origin: string;
          }>`pragma index_list('policy_versions')`.execute(db);
          return rows.filter((r) => r.unique === 1 && r.origin !== 'pk').map((r) => r.name);
        },
        drop: () => db.destroy(),
      });
    },
  },
  ...(probe.ok
    ? [
        {
          engine: 'postgres' as const,
          open: async () => {
            const { db, url, drop } = await freshKysely<Tables>();
            return {
              db,
              store: () => openStore({ engine: 'postgres', url, poolSize: 2 }),
              uniqueIndexes: async () => {
                const { rows } = await sql<{ name: string }>`
                  select i.relname as name
                  from pg_index x
                  join pg_class i on i.oid = x.indexrelid
                  join pg_class t on t.oid = x.indrelid
                  where t.relname = 'policy_versions' and x.indisunique and not x.indisprimary`.execute(db);
                return rows.map((r) => r.name);
              },
              drop,
            };
          },
        },
      ]
    : []),
];

afterAll(() => dir.remove());

describe.each(engines)('migration 0014 [$engine]', ({ engine, open }) => {
  const migrator = (db: Kysely<Tables>) =>
    new Migrator({ db, provider: migrationProvider(COLUMN_TYPES[engine]) });
  const all = (db: Kysely<Tables>) =>
    db.selectFrom('policy_versions').selectAll().orderBy('number').execute();

  it('keeps every published version and lets a later one repeat an older fingerprint', async () => {
    const { db, store: makeStore, uniqueIndexes, drop } = await open();
    try {
      expect((await migrator(db).migrateTo('0013-index-roots')).error).toBeUndefined();
      const published = [row(1, FP(1)), row(2, FP(2)), row(3, FP(3), { scope: '{"a":"\\u0000 引号\\""}' })];
      await db.insertInto('policy_versions').values(published).execute();
      expect(await uniqueIndexes()).toHaveLength(1);
      // Before 0014 the revert is refused.
      await expect(
        db
          .insertInto('policy_versions')
          .values(row(4, FP(1)))
          .execute(),
      ).rejects.toThrow();

      expect((await migrator(db).migrateTo('0014-policy-fingerprint')).error).toBeUndefined();
      expect(await all(db)).toEqual(published);
      expect(await uniqueIndexes()).toEqual([]);
      await db
        .insertInto('policy_versions')
        .values(row(4, FP(1)))
        .execute();

      const store = makeStore();
      try {
        await store.migrate();
        expect((await store.policies.list()).map((v) => [v.number, v.fingerprint])).toEqual([
          [1, FP(1)],
          [2, FP(2)],
          [3, FP(3)],
          [4, FP(1)],
        ]);
        expect(await store.policies.byNumber(2)).toMatchObject({
          requiresReconsent: true,
          reconsentPurposes: ['marketing'],
        });
        // The number stays the primary key.
        await expect(
          store.transaction((tx) =>
            tx.policies.insert({
              number: 4,
              fingerprint: FP(5),
              scope: '{}',
              publishedAt: '2026-05-01T00:00:00.000Z',
              requiresReconsent: false,
              reconsentPurposes: [],
            }),
          ),
        ).rejects.toMatchObject({ code: 'ERR_STORE_CONFLICT' });
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  });

  it('rolls back to a unique fingerprint, and refuses while versions share one', async () => {
    const { db, uniqueIndexes, drop } = await open();
    try {
      expect((await migrator(db).migrateTo('0014-policy-fingerprint')).error).toBeUndefined();
      const published = [row(1, FP(1)), row(2, FP(2)), row(3, FP(1))];
      await db.insertInto('policy_versions').values(published).execute();

      const refused = await migrator(db).migrateTo('0013-index-roots');
      expect(String(refused.error)).toContain('policy versions 1, 3 share a fingerprint');
      expect(refused.results?.find((r) => r.status === 'Error')?.migrationName).toBe(
        '0014-policy-fingerprint',
      );
      expect(await all(db)).toEqual(published);
      expect(await uniqueIndexes()).toEqual([]);

      await db.deleteFrom('policy_versions').where('number', '=', 3).execute();
      expect((await migrator(db).migrateTo('0013-index-roots')).error).toBeUndefined();
      expect(await all(db)).toEqual(published.slice(0, 2));
      expect(await uniqueIndexes()).toHaveLength(1);
      expect((await migrator(db).migrateToLatest()).error).toBeUndefined();
      expect(await all(db)).toEqual(published.slice(0, 2));
    } finally {
      await drop();
    }
  });
});
