import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiTokenRecord, Store } from '../../src/store/store.js';

export interface StoreHarness {
  readonly store: Store;
  /** Removes the database the harness created. */
  dispose(): Promise<void>;
}

/**
 * The store contract: every engine passes these same tests (aesthetics habit 2). A skip must
 * name its reason; there are none today.
 */
export function storeContract(engine: string, open: () => Promise<StoreHarness>): void {
  describe(`store contract [${engine}]`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeAll(async () => {
      harness = await open();
      store = harness.store;
      await store.migrate();
    });
    afterAll(async () => {
      await store.close();
      await harness.dispose();
    });

    const token = (
      overrides: Partial<ApiTokenRecord> = {},
    ): Omit<ApiTokenRecord, 'revokedAt' | 'lastUsedAt'> => ({
      id: randomUUID(),
      name: 'contract',
      role: 'operator',
      tokenHash: randomBytes(32),
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: null,
      ...overrides,
    });

    it('reports its engine and answers a ping', async () => {
      expect(store.engine).toBe(engine);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('applies every migration on a fresh database, and migrating again is a no-op', async () => {
      const applied = await store.migrations();
      expect(applied).toContain('0001-foundation');
      const again = await store.migrate();
      expect(again.applied).toEqual([]);
      expect(again.current).toBe(applied.at(-1));
    });

    it('rolls the latest migration back and forward again', async () => {
      const before = await store.migrations();
      const down = await store.migrateDown();
      expect(down.current).toBe(before.at(-2));
      const up = await store.migrate();
      expect(up.applied).toEqual([before.at(-1)]);
    });

    it('stores a token and finds it by hash with bytes intact', async () => {
      const t = token({ expiresAt: '2027-01-01T00:00:00.000Z' });
      await store.tokens.insert(t);
      const found = await store.tokens.findByHash(t.tokenHash);
      expect(found).toEqual({ ...t, revokedAt: null, lastUsedAt: null });
      expect(Buffer.isBuffer(found?.tokenHash)).toBe(true);
      expect(await store.tokens.findByHash(randomBytes(32))).toBeUndefined();
    });

    it('refuses a second token with the same hash', async () => {
      const t = token();
      await store.tokens.insert(t);
      await expect(store.tokens.insert(token({ tokenHash: t.tokenHash }))).rejects.toThrow();
    });

    it('touches and revokes, reporting whether anything changed', async () => {
      const t = token();
      await store.tokens.insert(t);
      expect(await store.tokens.touch(t.id, '2026-02-01T00:00:00.000Z')).toBe(true);
      expect(await store.tokens.revoke(t.id, '2026-02-02T00:00:00.000Z')).toBe(true);
      expect(await store.tokens.revoke(t.id, '2026-02-03T00:00:00.000Z')).toBe(false);
      expect(await store.tokens.touch(randomUUID(), '2026-02-01T00:00:00.000Z')).toBe(false);
      const found = await store.tokens.findByHash(t.tokenHash);
      expect(found?.lastUsedAt).toBe('2026-02-01T00:00:00.000Z');
      expect(found?.revokedAt).toBe('2026-02-02T00:00:00.000Z');
    });

    it('commits every write of a unit of work together', async () => {
      const a = token();
      const b = token();
      const result = await store.transaction(async (tx) => {
        await tx.tokens.insert(a);
        await tx.tokens.insert(b);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await store.tokens.findByHash(a.tokenHash)).toBeDefined();
      expect(await store.tokens.findByHash(b.tokenHash)).toBeDefined();
    });

    it('leaves nothing behind when a unit of work throws midway', async () => {
      const a = token();
      await expect(
        store.transaction(async (tx) => {
          await tx.tokens.insert(a);
          expect(await tx.tokens.findByHash(a.tokenHash)).toBeDefined();
          throw new Error('crash after the first write');
        }),
      ).rejects.toThrow('crash after the first write');
      expect(await store.tokens.findByHash(a.tokenHash)).toBeUndefined();
    });

    it('rolls back a unit of work whose later write violates a constraint', async () => {
      const existing = token();
      await store.tokens.insert(existing);
      const fresh = token();
      await expect(
        store.transaction(async (tx) => {
          await tx.tokens.insert(fresh);
          await tx.tokens.insert(token({ tokenHash: existing.tokenHash }));
        }),
      ).rejects.toThrow();
      expect(await store.tokens.findByHash(fresh.tokenHash)).toBeUndefined();
    });

    it('lists tokens oldest first', async () => {
      const early = token({ createdAt: '2000-01-01T00:00:00.000Z', name: 'early' });
      await store.tokens.insert(early);
      const list = await store.tokens.list();
      expect(list[0]?.name).toBe('early');
      expect(list.length).toBeGreaterThan(3);
    });
  });
}
