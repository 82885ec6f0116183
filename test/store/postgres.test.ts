import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustodianError } from '../../src/domain/errors.js';
import { openStore } from '../../src/store/open.js';
import type { Repositories, Store } from '../../src/store/store.js';
import { freshDatabase, probePostgres, type FreshDatabase } from '../support/pg.js';
import { storeContract } from './contract.js';

const probe = await probePostgres();

if (probe.ok) {
  storeContract('postgres', async () => {
    const db = await freshDatabase();
    return { store: openStore({ engine: 'postgres', url: db.url, poolSize: 4 }), dispose: () => db.drop() };
  });

  describe('store [postgres]: a deadlock the server breaks', () => {
    let db: FreshDatabase;
    let store: Store;
    beforeAll(async () => {
      db = await freshDatabase();
      store = openStore({ engine: 'postgres', url: db.url, poolSize: 4 });
      await store.migrate();
    });
    afterAll(async () => {
      await store.close();
      await db.drop();
    });

    /** A promise and the function that resolves it. */
    const signal = (): { done: Promise<void>; fire: () => void } => {
      let fire!: () => void;
      const done = new Promise<void>((resolve) => (fire = resolve));
      return { done, fire };
    };

    it('answers ERR_STORE_CONFLICT, which collect and import retry, instead of a raw 40P01', async () => {
      const [a, b] = [randomBytes(16), randomBytes(16)];
      const identity = (subjectId: string, token: Buffer) => ({
        subjectId,
        kind: 'oaid',
        indexVersion: 1,
        token,
        sealed: randomBytes(40),
        keyVersion: 1,
        createdAt: '2026-03-01T00:00:00.000Z',
      });
      const hasFirst = [signal(), signal()];
      // Each unit of work inserts one new OAID, then waits until the other has inserted the other
      // one and inserts that too: each waits for the other's uncommitted row.
      const work = (me: 0 | 1, first: Buffer, second: Buffer) =>
        store.transaction(async (tx: Repositories) => {
          const id = `0193000${me}-0000-7000-8000-${randomBytes(6).toString('hex')}`;
          await tx.subjects.insert({ id, createdAt: '2026-03-01T00:00:00.000Z' });
          await tx.identities.insertMany([identity(id, first)]);
          hasFirst[me]!.fire();
          await hasFirst[1 - me]!.done;
          await tx.identities.insertMany([identity(id, second)]);
          return id;
        });
      const outcomes = await Promise.allSettled([work(0, a, b), work(1, b, a)]);
      const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(CustodianError);
      expect(lost[0]).toMatchObject({
        code: 'ERR_STORE_CONFLICT',
        message: 'the write conflicted with a concurrent one and was rolled back',
      });
      expect(((lost[0] as Error).cause as { code?: unknown }).code).toBe('40P01');
      // The survivor went on once the other rolled back.
      const owners = await store.identities.findSubjects(
        [a, b].map((token) => ({ kind: 'oaid', indexVersion: 1, token })),
      );
      expect(owners.map((o) => o.subjectId)).toEqual([won[0], won[0]]);
    });
  });
} else {
  describe('store contract [postgres]', () => {
    it.skip(`skipped: ${probe.reason}`, () => undefined);
  });
}
