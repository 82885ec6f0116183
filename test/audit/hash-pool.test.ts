import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeCount } from '../../src/domain/audit/tree.js';
import { appendAudit } from '../../src/services/audit.js';
import { hashBatch, HashPool, inlineSha, type HashJob } from '../../src/services/audit-log-hash.js';
import { openStore } from '../../src/store/open.js';
import { tempDir } from '../support/tmp.js';

describe('batch hashing in worker threads', () => {
  const dir = tempDir('custodian-hash-pool-');
  afterAll(() => dir.remove());

  it('gives the same answer in a worker as inline, and a closed pool refuses work', async () => {
    const store = openStore({ engine: 'sqlite', path: join(dir.path, 'log.db') });
    await store.migrate();
    await store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 40 }, (_, i) => ({
          v: 1 as const,
          at: new Date(1_767_225_600_000 + i).toISOString(),
          action: 'read' as const,
          actor: { id: 'a', role: 'r' },
          subject: i % 2 ? null : 'ab'.repeat(16),
        })),
      ),
    );
    const job = async (s: number, e: number): Promise<HashJob> => {
      const entries = await store.audit.scanEntries(s + 1, e + 1);
      const nodes = await store.audit.scanNodes(nodeCount(s), nodeCount(e));
      return { s, e, ...entries, nodes: nodes.bytes, rootSizes: [s + 1, e] };
    };
    const pool = new HashPool(1);
    for (const [s, e] of [
      [0, 32],
      [32, 40],
    ] as const) {
      const inline = hashBatch(await job(s, e), inlineSha);
      expect(inline.ok).toBe(true);
      expect(await pool.run(await job(s, e))).toEqual(inline);
    }
    // A batch that does not start on its own subtree, or whose nodes were changed, fails.
    const bad = await job(0, 32);
    const nodes = Buffer.from(bad.nodes);
    nodes[100]! ^= 1;
    expect(hashBatch({ ...bad, nodes }, inlineSha).ok).toBe(false);
    expect((await pool.run({ ...bad, nodes })).ok).toBe(false);
    await pool.close();
    await expect(pool.run(await job(0, 32))).rejects.toThrow();
    await store.close();
  });
});
