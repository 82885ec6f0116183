/**
 * Migration 0004 carries a hash-chained audit trail over into the Merkle log (after checking the
 * chain), refuses a broken chain, and rolls back to a valid chain.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalEntry } from '../../src/domain/audit/entry.js';
import { appendAudit } from '../../src/services/audit.js';
import { verifyAuditLog } from '../../src/services/audit-log-verify.js';
import { COLUMN_TYPES, type Engine } from '../../src/store/dialect.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { freshKysely, probePostgres } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

interface OldTables {
  audit_log: {
    seq: number;
    at: string;
    action: string;
    actor: string;
    subject_ref: string | null;
    canonical: Buffer;
    prev_hash: Buffer;
    hash: Buffer;
  };
  audit_head: { id: number; seq: number | string; hash: Buffer };
}

const entry = (i: number) => ({
  v: 1 as const,
  at: new Date(1_767_225_600_000 + i * 1000).toISOString(),
  action: 'collect' as const,
  actor: { id: `tok-${i % 3}`, role: 'operator' },
  subject: (i * 977).toString(16).padStart(32, '0'),
  purpose: 'marketing',
});

async function chained(db: Kysely<OldTables>, count: number, breakAt?: number): Promise<Buffer[]> {
  let prev = Buffer.alloc(32);
  const canonicals: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const e = entry(i);
    const canonical = Buffer.from(canonicalEntry(e), 'utf8');
    let hash = createHash('sha256').update(prev).update(canonical).digest();
    if (i + 1 === breakAt) hash = Buffer.alloc(32, 1);
    await db
      .insertInto('audit_log')
      .values({
        seq: i + 1,
        at: e.at,
        action: e.action,
        actor: e.actor.id,
        subject_ref: e.subject,
        canonical,
        prev_hash: prev,
        hash,
      })
      .execute();
    canonicals.push(canonical);
    prev = hash;
  }
  await db.updateTable('audit_head').set({ seq: count, hash: prev }).where('id', '=', 1).execute();
  return canonicals;
}

interface Engines {
  readonly engine: Engine;
  readonly open: () => Promise<{ db: Kysely<OldTables>; store: () => Store; drop: () => Promise<void> }>;
}

const probe = await probePostgres();
const dir = tempDir('custodian-migrate-audit-');
let n = 0;
const engines: Engines[] = [
  {
    engine: 'sqlite',
    open: () => {
      const path = join(dir.path, `m${n++}.db`);
      const db = new Kysely<OldTables>({
        dialect: new SqliteDialect({ database: new SqliteDatabase(path) }),
      });
      return Promise.resolve({
        db,
        store: () => openStore({ engine: 'sqlite', path }),
        drop: () => db.destroy(),
      });
    },
  },
  ...(probe.ok
    ? [
        {
          engine: 'postgres' as const,
          open: async () => {
            const { db, url, drop } = await freshKysely<OldTables>();
            return {
              db,
              store: () => openStore({ engine: 'postgres', url, poolSize: 2 }),
              drop,
            };
          },
        },
      ]
    : []),
];

afterAll(() => dir.remove());

describe.each(engines)('migration 0004 [$engine]', ({ engine, open }) => {
  const migrator = (db: Kysely<OldTables>) =>
    new Migrator({ db, provider: migrationProvider(COLUMN_TYPES[engine]) });

  it('carries a valid chain over into the Merkle log, and rolls back to a valid chain', async () => {
    const { db, store: makeStore, drop } = await open();
    try {
      expect((await migrator(db).migrateTo('0003-policy')).error).toBeUndefined();
      const canonicals = await chained(db, 25);
      expect((await migrator(db).migrateTo('0004-audit-merkle')).error).toBeUndefined();
      const store = makeStore();
      await store.migrate();
      const report = await verifyAuditLog(store);
      expect(report).toMatchObject({ ok: true, treeSize: 25 });
      const rows = await store.audit.range(1, 100);
      expect(rows.map((r) => r.canonical.toString())).toEqual(canonicals.map((c) => c.toString()));
      expect(rows[3]).toMatchObject({
        seq: 4,
        action: 'collect',
        actor: 'tok-0',
        at: entry(3).at,
        subjectRef: entry(3).subject,
      });
      await store.transaction((tx) => appendAudit(tx, [entry(25), entry(26)]));
      expect((await verifyAuditLog(store)).problems).toEqual([]);
      await store.close();

      expect((await migrator(db).migrateTo('0003-policy')).error).toBeUndefined();
      const back = await db.selectFrom('audit_log').selectAll().orderBy('seq').execute();
      expect(back).toHaveLength(27);
      let prev = Buffer.alloc(32);
      for (const row of back) {
        expect(Buffer.from(row.prev_hash).equals(prev)).toBe(true);
        prev = createHash('sha256').update(prev).update(row.canonical).digest();
        expect(Buffer.from(row.hash).equals(prev)).toBe(true);
      }
      expect(back[26]).toMatchObject({ action: 'collect', actor: 'tok-2', subject_ref: entry(26).subject });
      const head = await db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow();
      expect(Number(head.seq)).toBe(27);
      expect(Buffer.from(head.hash).equals(prev)).toBe(true);
      expect((await migrator(db).migrateToLatest()).error).toBeUndefined();
    } finally {
      await drop();
    }
  });

  it('refuses to carry over a broken chain, naming where it breaks', async () => {
    const { db, drop } = await open();
    try {
      await migrator(db).migrateTo('0003-policy');
      await chained(db, 10, 7);
      const result = await migrator(db).migrateTo('0004-audit-merkle');
      expect(String(result.error)).toContain('broken at seq 7');
      expect(result.results?.find((r) => r.status === 'Error')?.migrationName).toBe('0004-audit-merkle');
    } finally {
      await drop();
    }
  });
});
