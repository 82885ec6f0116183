/**
 * Retention: `AuditLog.prune` removes whole sealed segments once every entry in them is past its
 * retention, keeps every checkpoint and the nodes proofs need, audits itself; verification of the
 * pruned log starts at the boundary and still catches single-row tampering in the kept part,
 * including right after the boundary, and a prune faked to hide deletions.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion } from '../../src/crypto/merkle.js';
import { noteSigner } from '../../src/crypto/signed-note.js';
import type { AuditAction, AuditEntry } from '../../src/domain/audit/entry.js';
import { nodeCount, nodeId } from '../../src/domain/audit/tree.js';
import { keptNodeIds } from '../../src/domain/audit/retention.js';
import { appendAudit } from '../../src/services/audit.js';
import { AuditLog } from '../../src/services/audit-log.js';
import { verifyAuditLog, type VerifyReport } from '../../src/services/audit-log-verify.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../support/tmp.js';

const entry = (i: number, at: string, action: AuditAction = 'read'): AuditEntry => ({
  v: 1,
  at,
  action,
  actor: { id: `tok-${i % 3}`, role: 'operator' },
  subject: (i * 7919).toString(16).padStart(32, '0'),
  purpose: 'order-fulfilment',
  records: [`rec-${i}`],
});

/**
 * Segments (leaf ranges closed by a checkpoint) and when their entries were written; leaf 150 is
 * an export download (a provision record, kept three years).
 */
const SEGMENTS: { end: number; at: string; signed: string }[] = [
  { end: 37, at: '2025-01-05T00:00:00.000Z', signed: '2025-01-06T00:00:00.000Z' },
  { end: 100, at: '2025-01-20T00:00:00.000Z', signed: '2025-01-31T00:00:00.000Z' },
  { end: 200, at: '2025-02-10T00:00:00.000Z', signed: '2025-02-28T00:00:00.000Z' },
  { end: 250, at: '2025-12-10T00:00:00.000Z', signed: '2025-12-31T00:00:00.000Z' },
  { end: 300, at: '2026-02-10T00:00:00.000Z', signed: '2026-02-28T00:00:00.000Z' },
];
const EXPORT_LEAF = 150;

describe('audit log retention: pruning sealed segments', () => {
  const dir = tempDir('custodian-prune-');
  const path = join(dir.path, 'log.db');
  const key = noteSigner('tests.custodian.local/prune', generateKeyPairSync('ed25519').privateKey);
  let clock = new Date('2025-01-01T00:00:00.000Z');
  let store: Store;
  let log: AuditLog;
  let raw: SqliteDatabase.Database;

  const verify = (workers = 0): Promise<VerifyReport> =>
    verifyAuditLog(store, { key, batchSize: 16, workers, now: () => clock });

  /** Runs `change`, verifies (inline and in a worker: same report), and undoes. */
  async function caught(change: () => () => void): Promise<VerifyReport> {
    const undo = change();
    try {
      const inline = await verify(0);
      expect((await verify(1)).problems).toEqual(inline.problems);
      return inline;
    } finally {
      undo();
    }
  }

  beforeAll(async () => {
    store = openStore({ engine: 'sqlite', path });
    await store.migrate();
    log = new AuditLog({ store, signer: key, now: () => clock });
    let done = 0;
    for (const segment of SEGMENTS) {
      const entries = Array.from({ length: segment.end - done }, (_, k) =>
        entry(done + k, segment.at, done + k === EXPORT_LEAF ? 'export.download' : 'read'),
      );
      for (let i = 0; i < entries.length; i += 29)
        await store.transaction((tx) => appendAudit(tx, entries.slice(i, i + 29)));
      clock = new Date(segment.signed);
      expect((await log.checkpoint()).created).toBe(true);
      done = segment.end;
    }
    raw = new SqliteDatabase(path);
    clock = new Date('2026-03-01T00:00:00.000Z');
  });

  afterAll(async () => {
    raw.close();
    await store.close();
    dir.remove();
  });

  it('a dry run says which segments are due and which must stay, and changes nothing', async () => {
    const report = await log.prune({ dryRun: true });
    // Segments 1 and 2 are past six months; segment 3 holds an export download (three years).
    expect(report).toEqual({
      dryRun: true,
      from: 0,
      prunedSize: 100,
      segments: 2,
      entries: 100,
      keptNodes: keptNodeIds(100, [37, 100, 200, 250, 300]).length,
      next: { start: 100, end: 200, keepUntil: '2028-02-10T00:00:00.000Z' },
    });
    expect(await store.audit.count()).toBe(300);
    expect((await store.audit.retention()).prunedSize).toBe(0);
  });

  it('prunes whole segments, keeps every checkpoint, records the prune and still verifies', async () => {
    const rootBefore = (await log.latestCheckpoint())!.rootHash;
    const report = await log.prune();
    expect(report).toMatchObject({ dryRun: false, from: 0, prunedSize: 100, segments: 2, leafIndex: 300 });
    expect(await store.audit.count()).toBe(201);
    expect((await store.audit.range(1, 101)).length).toBe(0);
    expect(await store.audit.retention()).toEqual({
      prunedSize: 100,
      prunedAt: '2026-03-01T00:00:00.000Z',
      pruneSeq: 301,
    });
    const [recorded] = await store.audit.range(301, 302);
    expect(JSON.parse(recorded!.canonical.toString('utf8'))).toMatchObject({
      action: 'audit.prune',
      actor: { id: 'cli:log', role: 'security-admin' },
      subject: null,
      detail: { from: 0, prunedSize: 100, segments: 2, entries: 100 },
    });
    expect((await store.audit.checkpoints(0, 100)).map((c) => c.treeSize)).toEqual([37, 100, 200, 250, 300]);
    // Only the kept nodes remain below the boundary.
    const below = await store.audit.nodeRange(0, nodeCount(100));
    expect(below.map((n) => n.id)).toEqual(keptNodeIds(100, [37, 100, 200, 250, 300]));

    for (const workers of [0, 1]) {
      const clean = await verify(workers);
      expect(clean.problems).toEqual([]);
      expect(clean).toMatchObject({ ok: true, treeSize: 301, prunedSize: 100, checkpointsChecked: 5 });
    }
    // A new checkpoint extends the old ones, proven from the kept tree.
    expect((await log.checkpoint()).created).toBe(true);
    const proof = await log.consistencyProof(300, 301);
    expect(proof.firstRootHash.equals(rootBefore)).toBe(true);
    expect((await verify()).ok).toBe(true);
  });

  it('serves proofs for kept entries and kept checkpoints, and refuses pruned ones with ERR_AUDIT_PRUNED', async () => {
    const latest = (await log.latestCheckpoint())!;
    for (const leaf of [100, 101, 150, 255, 300]) {
      const p = await log.inclusionProof(leaf, latest.treeSize);
      expect(verifyInclusion(leaf, latest.treeSize, p.leafHash, p.auditPath, latest.rootHash)).toBe(true);
    }
    for (const first of [37, 100, 200, 250]) {
      const c = await log.consistencyProof(first, latest.treeSize);
      const signed = (await store.audit.checkpoints(first - 1, 1))[0]!;
      expect(c.firstRootHash.equals(signed.rootHash)).toBe(true);
      expect(verifyConsistency(first, latest.treeSize, c.firstRootHash, latest.rootHash, c.proof)).toBe(true);
    }
    expect((await log.entries(100, 102)).entries.map((e) => e.leafIndex)).toEqual([100, 101]);
    await expect(log.entries(0, 10)).rejects.toMatchObject({ code: 'ERR_AUDIT_PRUNED' });
    await expect(log.entries(99, 101)).rejects.toMatchObject({ code: 'ERR_AUDIT_PRUNED' });
    await expect(log.inclusionProof(99, latest.treeSize)).rejects.toMatchObject({
      code: 'ERR_AUDIT_PRUNED',
      details: { prunedSize: 100 },
    });
    await expect(log.consistencyProof(50, latest.treeSize)).rejects.toMatchObject({
      code: 'ERR_AUDIT_PRUNED',
    });
  });

  const seqRow = (seq: number) =>
    raw.prepare('select seq, subject_ref, canonical from audit_log where seq = ?').get(seq) as {
      seq: number;
      subject_ref: string | null;
      canonical: Buffer;
    };
  const putRow = (row: { seq: number; subject_ref: string | null; canonical: Buffer }) =>
    raw
      .prepare('insert into audit_log (seq, subject_ref, canonical) values (?, ?, ?)')
      .run(row.seq, row.subject_ref, row.canonical);

  it('catches the deletion of the kept entry right after the boundary, and of any kept entry', async () => {
    for (const leaf of [100, 101, 127, 199, 200, 300]) {
      const report = await caught(() => {
        const row = seqRow(leaf + 1);
        raw.prepare('delete from audit_log where seq = ?').run(leaf + 1);
        return () => putRow(row);
      });
      expect(report.ok).toBe(false);
      expect(report.firstBadLeaf, `delete at ${leaf}`).toBe(leaf);
      expect(report.problems).toContainEqual(
        expect.objectContaining({ kind: 'entry-missing', leafIndex: leaf }),
      );
      // Leaf 300 records the prune: without it the prune itself is unaccounted for.
      const others = report.problems.filter((p) => p.kind !== 'entry-missing').map((p) => p.kind);
      expect(others).toEqual(leaf === 300 ? ['prune-boundary'] : []);
    }
  });

  it('catches an edit of the kept entry right after the boundary', async () => {
    const report = await caught(() => {
      const original = seqRow(101).canonical;
      const edited = Buffer.from(original.toString('utf8').replace('rec-100', 'rec-900'));
      raw.prepare('update audit_log set canonical = ? where seq = 101').run(edited);
      return () => raw.prepare('update audit_log set canonical = ? where seq = 101').run(original);
    });
    expect(report.firstBadLeaf).toBe(100);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'entry-mismatch', leafIndex: 100 })]);
  });

  it('catches an entry put back into the pruned part', async () => {
    const report = await caught(() => {
      putRow({ seq: 42, subject_ref: null, canonical: seqRow(101).canonical });
      return () => raw.prepare('delete from audit_log where seq = 42').run();
    });
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'entry-unexpected', seq: 42 })]);
  });

  it('catches changes to the nodes kept below the boundary', async () => {
    const kept = keptNodeIds(100, [37, 100, 200, 250, 300]);
    const frontier = nodeId(6, 0); // leaves [0, 64): part of the boundary's root
    const forCheckpoint37 = kept.find(
      (id) => id !== frontier && id !== nodeId(5, 2) && id !== nodeId(2, 24),
    )!;
    const hashOf = (id: number) =>
      raw.prepare('select hash from audit_nodes where id = ?').pluck().get(id) as Buffer;
    const set = (id: number, hash: Buffer) =>
      raw.prepare('update audit_nodes set hash = ? where id = ?').run(hash, id);

    const edited = await caught(() => {
      const before = hashOf(frontier);
      set(frontier, Buffer.alloc(32, 7));
      return () => set(frontier, before);
    });
    expect(edited.ok).toBe(false);
    expect(edited.problems.map((p) => p.kind)).toContain('checkpoint-mismatch');
    expect(edited.problems).toContainEqual(
      expect.objectContaining({ kind: 'checkpoint-mismatch', treeSize: 100 }),
    );

    const other = await caught(() => {
      const before = hashOf(forCheckpoint37);
      set(forCheckpoint37, Buffer.alloc(32, 9));
      return () => set(forCheckpoint37, before);
    });
    expect(other.ok).toBe(false);
    expect(other.problems.map((p) => p.kind)).toContain('checkpoint-mismatch');

    const deleted = await caught(() => {
      const before = hashOf(frontier);
      raw.prepare('delete from audit_nodes where id = ?').run(frontier);
      return () => raw.prepare('insert into audit_nodes (id, hash) values (?, ?)').run(frontier, before);
    });
    expect(deleted.problems[0]).toMatchObject({ kind: 'node-missing', level: 6, index: 0 });

    const inserted = await caught(() => {
      raw.prepare('insert into audit_nodes (id, hash) values (?, ?)').run(nodeId(0, 5), Buffer.alloc(32));
      return () => raw.prepare('delete from audit_nodes where id = ?').run(nodeId(0, 5));
    });
    expect(inserted.problems).toEqual([
      expect.objectContaining({ kind: 'node-unexpected', level: 0, index: 5 }),
    ]);
  });

  it('catches a prune faked to hide deletions: no record of it, or entries younger than six months', async () => {
    const faked = (size: number) =>
      caught(() => {
        const rows = raw
          .prepare('select seq, subject_ref, canonical from audit_log where seq > 100 and seq <= ?')
          .all(size) as {
          seq: number;
          subject_ref: string | null;
          canonical: Buffer;
        }[];
        raw.prepare('delete from audit_log where seq > 100 and seq <= ?').run(size);
        raw.prepare('update audit_retention set pruned_size = ?').run(size);
        return () => {
          for (const row of rows) putRow(row);
          raw.prepare('update audit_retention set pruned_size = 100').run();
        };
      });
    // Extending the prune to the checkpoint at 200 (old enough): no entry records that prune.
    const hidden = await faked(200);
    expect(hidden.ok).toBe(false);
    expect(hidden.problems).toContainEqual(
      expect.objectContaining({
        kind: 'prune-boundary',
        message: expect.stringContaining('no entry of the log records'),
      }),
    );
    // To the checkpoint at 250, signed two months ago: too young to have been pruned.
    const young = await faked(250);
    expect(young.problems).toContainEqual(
      expect.objectContaining({
        kind: 'prune-boundary',
        message: expect.stringContaining('less than six months ago'),
      }),
    );
    // Not at a checkpoint at all.
    const between = await faked(120);
    expect(between.problems).toContainEqual(
      expect.objectContaining({
        kind: 'prune-boundary',
        message: expect.stringContaining('no valid checkpoint'),
      }),
    );
    // The record of the prune deleted.
    const unrecorded = await caught(() => {
      const row = seqRow(301);
      raw.prepare('delete from audit_log where seq = 301').run();
      return () => putRow(row);
    });
    expect(unrecorded.problems.map((p) => p.kind)).toEqual(
      expect.arrayContaining(['entry-missing', 'prune-boundary']),
    );
    expect((await verify()).ok).toBe(true);
  });

  it('prunes nothing while the next segment is due later, then prunes on once it is', async () => {
    const none = await log.prune();
    expect(none).toMatchObject({ from: 100, prunedSize: 100, segments: 0, entries: 0 });
    expect(none.leafIndex).toBeUndefined();
    expect(await store.audit.count()).toBe(201);

    clock = new Date('2028-02-10T00:00:00.001Z');
    const later = await log.prune();
    // Up to the latest checkpoint (301 includes the first prune's record): everything sealed.
    expect(later).toMatchObject({ from: 100, prunedSize: 301, segments: 4, entries: 201, leafIndex: 301 });
    expect(await store.audit.count()).toBe(1);
    const report = await verify();
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, prunedSize: 301, treeSize: 302 });
    expect((await log.checkpoint()).created).toBe(true);
    expect((await verify(1)).ok).toBe(true);
  });

  it('refuses to prune a log that does not verify, changing nothing', async () => {
    const original = seqRow(302).canonical;
    raw.prepare('update audit_log set canonical = ? where seq = 302').run(Buffer.from('{}'));
    try {
      clock = new Date('2040-01-01T00:00:00.000Z');
      await expect(log.prune()).rejects.toMatchObject({ code: 'ERR_CHECK_FAILED' });
      expect((await store.audit.retention()).prunedSize).toBe(301);
    } finally {
      raw.prepare('update audit_log set canonical = ? where seq = 302').run(original);
    }
  });

  it('lets an anomaly detector that lagged behind the pruned boundary go on from the kept log', async () => {
    const { AnomalyDetector } = await import('../../src/services/anomaly.js');
    const { IncidentService } = await import('../../src/services/incidents.js');
    const { configSchema } = await import('../../src/config/schema.js');
    const alerts: unknown[] = [];
    const incidentOptions = {
      store,
      notifier: {
        notify: (alert: unknown) => {
          alerts.push(alert);
          return Promise.resolve([]);
        },
      },
      now: () => clock,
      maxSubjectRefs: 10,
    };
    const incidents = new IncidentService(incidentOptions);
    const config = configSchema.shape.audit.parse({}).anomaly;
    // The cursor still points into the pruned part (at 0, the detector never ran).
    expect(await store.incidents.cursor()).toBe(0);
    const scan = await new AnomalyDetector({ store, incidents, config }).scan();
    const head = await store.audit.head();
    expect(scan.cursor).toBe(head.size);
    expect(scan.entries).toBe(head.size - (await store.audit.retention()).prunedSize);
    expect(await store.incidents.cursor()).toBe(head.size);

    // A whole page (2,000 entries) of the detector's lag pruned: it skips to the kept log.
    const big = openStore({ engine: 'sqlite', path: join(dir.path, 'big.db') });
    try {
      await big.migrate();
      let at = new Date('2025-01-01T00:00:00.000Z');
      const bigLog = new AuditLog({ store: big, signer: key, now: () => at });
      await big.transaction((tx) =>
        appendAudit(
          tx,
          Array.from({ length: 2100 }, (_, i) => entry(i, at.toISOString())),
        ),
      );
      await bigLog.checkpoint();
      at = new Date('2026-01-01T00:00:00.000Z');
      expect(await bigLog.prune()).toMatchObject({ prunedSize: 2100, leafIndex: 2100 });
      const bigIncidents = new IncidentService({ ...incidentOptions, store: big });
      const skipped = await new AnomalyDetector({ store: big, incidents: bigIncidents, config }).scan();
      expect(skipped).toMatchObject({ cursor: 2101, entries: 1 });
      expect(await big.incidents.cursor()).toBe(2101);
    } finally {
      await big.close();
    }
  });

  it('refuses to prune without the signing key', async () => {
    await expect(new AuditLog({ store }).prune()).rejects.toMatchObject({ code: 'ERR_KEY_UNAVAILABLE' });
  });
});
