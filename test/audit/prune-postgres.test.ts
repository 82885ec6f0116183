/**
 * Retention on PostgreSQL: the same prune, verification from the boundary, proofs and tamper
 * detection right after the boundary as on SQLite (test/audit/prune.test.ts), through `pg`.
 */
import { generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion } from '../../src/crypto/merkle.js';
import { noteSigner } from '../../src/crypto/signed-note.js';
import type { AuditEntry } from '../../src/domain/audit/entry.js';
import { appendAudit } from '../../src/services/audit.js';
import { AuditLog } from '../../src/services/audit-log.js';
import { verifyAuditLog } from '../../src/services/audit-log-verify.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { freshDatabase, probePostgres, type FreshDatabase } from '../support/pg.js';

const probe = await probePostgres();

const entry = (i: number, at: string): AuditEntry => ({
  v: 1,
  at,
  action: i === 70 ? 'export.download' : 'read',
  actor: { id: `tok-${i % 3}`, role: 'operator' },
  subject: i % 5 === 0 ? null : (i * 7919).toString(16).padStart(32, '0'),
  purpose: 'order-fulfilment',
});

if (probe.ok) {
  describe('audit log retention [postgres]', () => {
    let db: FreshDatabase;
    let store: Store;
    let client: pg.Client;
    let clock = new Date('2025-01-01T00:00:00.000Z');
    const key = noteSigner('tests.custodian.local/prune-pg', generateKeyPairSync('ed25519').privateKey);
    let log: AuditLog;
    const verify = (workers = 0) => verifyAuditLog(store, { key, batchSize: 16, workers, now: () => clock });

    beforeAll(async () => {
      db = await freshDatabase();
      store = openStore({ engine: 'postgres', url: db.url, poolSize: 4 });
      await store.migrate();
      log = new AuditLog({ store, signer: key, now: () => clock });
      // Segments [0, 30) and [30, 60) in January 2025, [60, 90) with an export in February.
      for (const [start, end, at, signed] of [
        [0, 30, '2025-01-05T00:00:00.000Z', '2025-01-06T00:00:00.000Z'],
        [30, 60, '2025-01-10T00:00:00.000Z', '2025-01-11T00:00:00.000Z'],
        [60, 90, '2025-02-10T00:00:00.000Z', '2025-02-11T00:00:00.000Z'],
      ] as const) {
        await store.transaction((tx) =>
          appendAudit(
            tx,
            Array.from({ length: end - start }, (_, k) => entry(start + k, at)),
          ),
        );
        clock = new Date(signed);
        await log.checkpoint();
      }
      client = new pg.Client({ connectionString: db.url });
      await client.connect();
      clock = new Date('2026-03-01T00:00:00.000Z');
    });

    afterAll(async () => {
      await client.end();
      await store.close();
      await db.drop();
    });

    it('prunes whole segments past their period and verifies from the boundary', async () => {
      const report = await log.prune();
      expect(report).toMatchObject({ from: 0, prunedSize: 60, segments: 2, leafIndex: 90 });
      expect(report.next).toEqual({ start: 60, end: 90, keepUntil: '2028-02-10T00:00:00.000Z' });
      expect(await store.audit.count()).toBe(31);
      for (const workers of [0, 1]) {
        const clean = await verify(workers);
        expect(clean.problems).toEqual([]);
        expect(clean).toMatchObject({ ok: true, prunedSize: 60, treeSize: 91 });
      }
      await log.checkpoint();
      const latest = (await log.latestCheckpoint())!;
      const p = await log.inclusionProof(60, latest.treeSize);
      expect(verifyInclusion(60, latest.treeSize, p.leafHash, p.auditPath, latest.rootHash)).toBe(true);
      const c = await log.consistencyProof(30, latest.treeSize);
      expect(verifyConsistency(30, latest.treeSize, c.firstRootHash, latest.rootHash, c.proof)).toBe(true);
      await expect(log.inclusionProof(59, latest.treeSize)).rejects.toMatchObject({
        code: 'ERR_AUDIT_PRUNED',
      });
    });

    it('catches the deletion or edit of the kept entry right after the boundary', async () => {
      const { rows } = await client.query<{ subject_ref: string | null; canonical: Buffer }>(
        'select subject_ref, canonical from audit_log where seq = 61',
      );
      const row = rows[0]!;
      await client.query('delete from audit_log where seq = 61');
      try {
        const report = await verify();
        expect(report.firstBadLeaf).toBe(60);
        expect(report.problems).toEqual([expect.objectContaining({ kind: 'entry-missing', leafIndex: 60 })]);
      } finally {
        await client.query('insert into audit_log (seq, subject_ref, canonical) values (61, $1, $2)', [
          row.subject_ref,
          row.canonical,
        ]);
      }
      await client.query('update audit_log set canonical = $1 where seq = 61', [
        Buffer.from(row.canonical.toString('utf8').replace('tok-0', 'tok-9')),
      ]);
      try {
        const report = await verify(1);
        expect(report.problems).toEqual([expect.objectContaining({ kind: 'entry-mismatch', leafIndex: 60 })]);
      } finally {
        await client.query('update audit_log set canonical = $1 where seq = 61', [row.canonical]);
      }
      expect((await verify()).ok).toBe(true);
    });
  });
} else {
  describe('audit log retention [postgres]', () => {
    it.skip(`skipped: ${probe.reason}`, () => undefined);
  });
}
