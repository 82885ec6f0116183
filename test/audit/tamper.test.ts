/**
 * Any single-row edit, deletion, insertion or swap in the audit log's tables is caught by
 * verification, which names what changed: the entry (leaf index) for entry rows, the tree node
 * for node rows, the head, the checkpoint. Tampering goes straight at the SQLite file through a
 * second connection, as an attacker with the file would; each case is undone before the next.
 */
import { generateKeyPairSync, randomInt } from 'node:crypto';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noteSigner } from '../../src/crypto/signed-note.js';
import type { AuditEntry } from '../../src/domain/audit/entry.js';
import { nodeAt, nodeCount } from '../../src/domain/audit/tree.js';
import { appendAudit } from '../../src/services/audit.js';
import { AuditLog } from '../../src/services/audit-log.js';
import { verifyAuditLog, type VerifyReport } from '../../src/services/audit-log-verify.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../support/tmp.js';

/** Odd, so the last leaf has no parent yet and only the head vouches for it. */
const SIZE = 301;
const CHECKPOINTS = [1, 64, 200, SIZE];

const entry = (i: number): AuditEntry => ({
  v: 1,
  at: new Date(1_767_225_600_000 + i * 1000).toISOString(),
  action: i % 3 === 0 ? 'collect' : 'read',
  actor: { id: `tok-${i % 5}`, role: 'operator' },
  subject: i % 11 === 0 ? null : (i * 7919).toString(16).padStart(32, '0'),
  purpose: 'order-fulfilment',
  records: [`rec-${i}`],
});

describe('tamper evidence: single-row changes are caught and named', () => {
  const dir = tempDir('custodian-tamper-');
  const path = join(dir.path, 'log.db');
  const key = noteSigner('tests.custodian.local/tamper', generateKeyPairSync('ed25519').privateKey);
  let store: Store;
  let raw: SqliteDatabase.Database;

  const verify = (workers?: number): Promise<VerifyReport> =>
    verifyAuditLog(store, { key, batchSize: 64, ...(workers === undefined ? {} : { workers }) });

  /** Runs `change`, verifies (hashing inline and in a worker thread: same report), and undoes. */
  async function caught(change: () => () => void): Promise<VerifyReport> {
    const undo = change();
    try {
      const inline = await verify(0);
      const pooled = await verify(1);
      expect(pooled.problems).toEqual(inline.problems);
      return inline;
    } finally {
      undo();
    }
  }

  beforeAll(async () => {
    store = openStore({ engine: 'sqlite', path });
    await store.migrate();
    const log = new AuditLog({ store, signer: key });
    let done = 0;
    for (const size of CHECKPOINTS) {
      const entries = Array.from({ length: size - done }, (_, i) => entry(done + i));
      // Several appends per stretch, of uneven sizes.
      for (let i = 0; i < entries.length; i += 37)
        await store.transaction((tx) => appendAudit(tx, entries.slice(i, i + 37)));
      done = size;
      expect((await log.checkpoint()).created).toBe(true);
    }
    raw = new SqliteDatabase(path);
    const clean = await verify();
    expect(clean.problems).toEqual([]);
    expect(clean).toMatchObject({ ok: true, treeSize: SIZE, checkpointsChecked: CHECKPOINTS.length });
  });

  afterAll(async () => {
    raw.close();
    await store.close();
    dir.remove();
  });

  const positions = (n: number): number[] => {
    const chosen = new Set([0, 1, 2, 63, 64, 65, 127, 128, 199, 200, n - 2, n - 1]);
    while (chosen.size < 18) chosen.add(randomInt(n));
    return [...chosen].sort((a, b) => a - b);
  };

  const canonicalOf = (seq: number) =>
    raw.prepare('select canonical from audit_log where seq = ?').pluck().get(seq) as Buffer;
  const rowOf = (seq: number) =>
    raw.prepare('select seq, subject_ref, canonical from audit_log where seq = ?').get(seq) as {
      seq: number;
      subject_ref: string | null;
      canonical: Buffer;
    };
  const putRow = (row: { seq: number; subject_ref: string | null; canonical: Buffer }) =>
    raw
      .prepare('insert into audit_log (seq, subject_ref, canonical) values (?, ?, ?)')
      .run(row.seq, row.subject_ref, row.canonical);
  const nodeOf = (id: number) =>
    raw.prepare('select hash from audit_nodes where id = ?').pluck().get(id) as Buffer;
  const setNode = (id: number, hash: Buffer) =>
    raw.prepare('update audit_nodes set hash = ? where id = ?').run(hash, id);

  it('names the entry whose bytes were edited', async () => {
    for (const c of positions(SIZE)) {
      const report = await caught(() => {
        const original = canonicalOf(c + 1);
        const edited = Buffer.from(original);
        // Change one character of the entry, e.g. a purpose or an id, keeping it valid JSON.
        const at = edited.indexOf('rec-') + 4;
        edited[at] = edited[at] === 0x39 ? 0x30 : edited[at]! + 1;
        raw.prepare('update audit_log set canonical = ? where seq = ?').run(edited, c + 1);
        return () => raw.prepare('update audit_log set canonical = ? where seq = ?').run(original, c + 1);
      });
      expect(report.ok).toBe(false);
      expect(report.firstBadLeaf, `edit at ${c}`).toBe(c);
      expect(report.problems[0]).toMatchObject({ kind: 'entry-mismatch', leafIndex: c, seq: c + 1 });
      expect(report.problems.filter((p) => p.kind !== 'entry-mismatch')).toEqual([]);
    }
  });

  it('names the entry whose subject column was edited', async () => {
    const values = ['f'.repeat(32), null, '-', '', 'a"b', 'x\\', 'é', 'a,b', 'a\u0000b'];
    for (const [i, c] of positions(SIZE).entries()) {
      const report = await caught(() => {
        const before = rowOf(c + 1).subject_ref;
        const value = values[i % values.length] === before ? 'f'.repeat(31) : values[i % values.length]!;
        raw.prepare('update audit_log set subject_ref = ? where seq = ?').run(value, c + 1);
        return () => raw.prepare('update audit_log set subject_ref = ? where seq = ?').run(before, c + 1);
      });
      expect(report.firstBadLeaf, `subject edit at ${c}`).toBe(c);
      expect(report.problems).toEqual([
        expect.objectContaining({ kind: 'entry-subject-mismatch', leafIndex: c }),
      ]);
    }
    // An entry about no one, given the marker that stands for null in batch scans.
    const report = await caught(() => {
      raw.prepare('update audit_log set subject_ref = ? where seq = 1').run('-');
      return () => raw.prepare('update audit_log set subject_ref = null where seq = 1').run();
    });
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'entry-subject-mismatch', leafIndex: 0 }),
    ]);
  });

  it('names the entry that was deleted', async () => {
    for (const c of positions(SIZE)) {
      const report = await caught(() => {
        const row = rowOf(c + 1);
        raw.prepare('delete from audit_log where seq = ?').run(c + 1);
        return () => putRow(row);
      });
      expect(report.firstBadLeaf, `delete at ${c}`).toBe(c);
      expect(report.problems).toEqual([
        expect.objectContaining({ kind: 'entry-missing', leafIndex: c, seq: c + 1 }),
      ]);
    }
  });

  it('names an inserted entry', async () => {
    for (const seq of [SIZE + 1, SIZE + 2, SIZE + 50, 0, -3]) {
      const report = await caught(() => {
        putRow({ seq, subject_ref: null, canonical: canonicalOf(1) });
        return () => raw.prepare('delete from audit_log where seq = ?').run(seq);
      });
      expect(report.firstBadLeaf, `insert at seq ${seq}`).toBe(seq - 1);
      expect(report.problems).toEqual([expect.objectContaining({ kind: 'entry-unexpected', seq })]);
    }
  });

  it('names the first of two entries that were swapped (reordered)', async () => {
    const pairs: [number, number][] = [
      [0, 1],
      [0, SIZE - 1],
      [63, 64],
      [100, 101],
      [SIZE - 2, SIZE - 1],
    ];
    while (pairs.length < 12) {
      const a = randomInt(SIZE - 1);
      pairs.push([a, a + 1 + randomInt(SIZE - a - 1)]);
    }
    for (const [a, b] of pairs) {
      const report = await caught(() => {
        const ra = rowOf(a + 1);
        const rb = rowOf(b + 1);
        const swap = raw.prepare('update audit_log set subject_ref = ?, canonical = ? where seq = ?');
        swap.run(rb.subject_ref, rb.canonical, a + 1);
        swap.run(ra.subject_ref, ra.canonical, b + 1);
        return () => {
          swap.run(ra.subject_ref, ra.canonical, a + 1);
          swap.run(rb.subject_ref, rb.canonical, b + 1);
        };
      });
      expect(report.firstBadLeaf, `swap ${a} and ${b}`).toBe(a);
      const named = report.problems.filter((p) => p.kind === 'entry-mismatch').map((p) => p.leafIndex);
      expect(named).toEqual([a, b]);
    }
  });

  it('names the tree node whose stored hash was edited, at every level', async () => {
    const total = nodeCount(SIZE);
    const ids = new Set([0, 1, 2, 3, 6, 7, 14, 15, 126, 127, 254, 255, total - 2, total - 1]);
    while (ids.size < 30) ids.add(randomInt(total));
    for (const id of ids) {
      const { level, index } = nodeAt(id);
      const report = await caught(() => {
        const original = nodeOf(id);
        const edited = Buffer.from(original);
        edited[randomInt(32)]! ^= 0x40;
        setNode(id, edited);
        return () => setNode(id, original);
      });
      expect(report.firstBadLeaf, `node ${id}`).toBeNull();
      expect(report.problems, `node ${id} (${level}, ${index})`).toEqual([
        expect.objectContaining({ kind: 'node-mismatch', level, index, leafIndex: index * 2 ** level }),
      ]);
    }
  });

  it('names a deleted, an inserted and two swapped tree nodes', async () => {
    const total = nodeCount(SIZE);
    for (const id of [0, 5, 7, 127, 300, total - 1]) {
      const { level, index } = nodeAt(id);
      const report = await caught(() => {
        const hash = nodeOf(id);
        raw.prepare('delete from audit_nodes where id = ?').run(id);
        return () => raw.prepare('insert into audit_nodes (id, hash) values (?, ?)').run(id, hash);
      });
      expect(report.problems, `deleted node ${id}`).toEqual([
        expect.objectContaining({ kind: 'node-missing', level, index }),
      ]);
    }
    for (const id of [total, total + 9, -1]) {
      const report = await caught(() => {
        raw.prepare('insert into audit_nodes (id, hash) values (?, ?)').run(id, Buffer.alloc(32, 7));
        return () => raw.prepare('delete from audit_nodes where id = ?').run(id);
      });
      expect(report.problems, `inserted node ${id}`).toEqual([
        expect.objectContaining({ kind: 'node-unexpected' }),
      ]);
    }
    // A leaf node swapped with its own parent is caught too, but which of the two rows moved is
    // then ambiguous; unrelated nodes are named exactly.
    const ancestorSwap = await caught(() => {
      const [h0, h2] = [nodeOf(0), nodeOf(2)];
      setNode(0, h2);
      setNode(2, h0);
      return () => {
        setNode(0, h0);
        setNode(2, h2);
      };
    });
    expect(ancestorSwap.ok).toBe(false);
    for (const [a, b] of [
      [0, 3],
      [3, 10],
      [40, total - 1],
    ] as const) {
      const report = await caught(() => {
        const ha = nodeOf(a);
        const hb = nodeOf(b);
        setNode(a, hb);
        setNode(b, ha);
        return () => {
          setNode(a, ha);
          setNode(b, hb);
        };
      });
      const kinds = report.problems.map((p) => p.kind);
      expect(
        kinds.every((k) => k === 'node-mismatch'),
        `swap nodes ${a}, ${b}`,
      ).toBe(true);
      expect(report.problems[0]).toMatchObject(nodeAt(a));
    }
  });

  it('notices an edited head', async () => {
    const head = raw.prepare('select size, frontier from audit_head where id = 1').get() as {
      size: number;
      frontier: Buffer;
    };
    const restore = () =>
      raw.prepare('update audit_head set size = ?, frontier = ? where id = 1').run(head.size, head.frontier);
    const frontier = Buffer.from(head.frontier);
    frontier[5]! ^= 1;
    for (const [size, f] of [
      [head.size, frontier],
      [head.size + 1, head.frontier],
      [head.size - 1, head.frontier],
    ] as const) {
      const report = await caught(() => {
        raw.prepare('update audit_head set size = ?, frontier = ? where id = 1').run(size, f);
        return restore;
      });
      expect(report.problems.map((p) => p.kind)).toContain('head-mismatch');
      expect(report.firstBadLeaf).toBeNull();
    }
  });

  it('notices edited, forged and truncated-away checkpoints', async () => {
    const cp = raw.prepare('select * from audit_checkpoints where tree_size = 200').get() as Record<
      string,
      unknown
    >;
    const restore = () => {
      raw.prepare('delete from audit_checkpoints where tree_size in (199, 200)').run();
      raw
        .prepare(
          'insert into audit_checkpoints (tree_size, root_hash, origin, signed_at, key_id, signature) values (?, ?, ?, ?, ?, ?)',
        )
        .run(cp['tree_size'], cp['root_hash'], cp['origin'], cp['signed_at'], cp['key_id'], cp['signature']);
    };
    const root = Buffer.from(cp['root_hash'] as Buffer);
    root[0]! ^= 1;
    let report = await caught(() => {
      raw.prepare('update audit_checkpoints set root_hash = ? where tree_size = 200').run(root);
      return restore;
    });
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'checkpoint-signature', treeSize: 200 }),
    ]);
    report = await caught(() => {
      raw.prepare('update audit_checkpoints set tree_size = 199 where tree_size = 200').run();
      return restore;
    });
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'checkpoint-signature', treeSize: 199 }),
    ]);
    report = await caught(() => {
      raw
        .prepare('update audit_checkpoints set signed_at = ? where tree_size = 200')
        .run('2030-01-01T00:00:00.000Z');
      return restore;
    });
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'checkpoint-signature', treeSize: 200 }),
    ]);
    report = await caught(() => {
      raw.prepare('update audit_checkpoints set key_id = key_id + 1 where tree_size = 200').run();
      return restore;
    });
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'checkpoint-unknown-key', treeSize: 200 }),
    ]);
  });

  it('catches a consistent rewrite of the whole tree through the signed checkpoints', async () => {
    // An attacker rewrites entry 150 and recomputes every node and the head: the tree is sound,
    // only the checkpoints signed after it disagree.
    const other = openStore({ engine: 'sqlite', path: join(dir.path, 'forged.db') });
    await other.migrate();
    const forged = Array.from({ length: SIZE }, (_, i) =>
      i === 150 ? { ...entry(i), purpose: 'marketing' } : entry(i),
    );
    await other.transaction((tx) => appendAudit(tx, forged));
    await other.scrub();
    await other.close();
    raw.exec(`attach database '${join(dir.path, 'forged.db')}' as forged`);
    raw.exec('create temp table keep_log as select * from main.audit_log');
    raw.exec('create temp table keep_nodes as select * from main.audit_nodes');
    raw.exec('create temp table keep_head as select * from main.audit_head');
    const swapIn = (from: string) =>
      raw.transaction(() => {
        for (const table of ['audit_log', 'audit_nodes', 'audit_head']) {
          raw.exec(`delete from main.${table}`);
          raw.exec(
            `insert into main.${table} select * from ${from === 'forged' ? `forged.${table}` : `temp.keep_${table.slice(6)}`}`,
          );
        }
      })();
    const report = await caught(() => {
      swapIn('forged');
      return () => swapIn('kept');
    });
    raw.exec('detach database forged');
    expect(report.firstBadLeaf).toBeNull();
    expect(report.problems.map((p) => [p.kind, p.treeSize])).toEqual([
      ['checkpoint-mismatch', 200],
      ['checkpoint-mismatch', SIZE],
    ]);
    expect((await verify()).ok).toBe(true);
  });

  it('catches entries removed from the end through the checkpoints', async () => {
    const log = new AuditLog({ store, signer: key });
    const latest = (await log.latestCheckpoint())!;
    // Drop the last 101 entries and rebuild a consistent tree of 200 from what remains.
    const other = openStore({ engine: 'sqlite', path: join(dir.path, 'short.db') });
    await other.migrate();
    await other.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 200 }, (_, i) => entry(i)),
      ),
    );
    await other.scrub();
    await other.close();
    raw.exec(`attach database '${join(dir.path, 'short.db')}' as short`);
    const swap = (source: string) =>
      raw.transaction(() => {
        for (const table of ['audit_log', 'audit_nodes', 'audit_head']) {
          raw.exec(`delete from main.${table}`);
          raw.exec(`insert into main.${table} select * from ${source}.${table}`);
        }
      })();
    raw.exec("attach database ':memory:' as kept");
    for (const table of ['audit_log', 'audit_nodes', 'audit_head'])
      raw.exec(`create table kept.${table} as select * from main.${table}`);
    const report = await caught(() => {
      swap('short');
      return () => swap('kept');
    });
    raw.exec('detach database short');
    raw.exec('detach database kept');
    expect(report.treeSize).toBe(200);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'checkpoint-beyond-log', treeSize: SIZE, leafIndex: 200 }),
    ]);
    expect(latest.treeSize).toBe(SIZE);
    expect((await verify()).ok).toBe(true);
  });
});
