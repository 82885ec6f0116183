import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { CustodianError } from '../../src/domain/errors.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { ImmediateSqliteDialect, openStore, SQLITE_PRAGMAS } from '../../src/store/open.js';
import type { Database } from '../../src/store/types.js';
import type { Store } from '../../src/store/store.js';
import type { WalCheckpoints } from '../../src/store/wal-checkpointer.js';
import { tempDir } from '../support/tmp.js';
import { storeContract } from './contract.js';

// SQLite's own checkpoints (`openStore`'s default) and a thread of their own (what `openRuntime`,
// and so `serve`, runs).
for (const walCheckpoints of ['inline', 'background'] as const satisfies readonly WalCheckpoints[]) {
  storeContract(
    'sqlite',
    () => {
      const dir = tempDir(`custodian-sqlite-${walCheckpoints}-`);
      return Promise.resolve({
        store: openStore({ engine: 'sqlite', path: join(dir.path, 'db', 'test.db') }, { walCheckpoints }),
        dispose: () => Promise.resolve(dir.remove()),
      });
    },
    `${walCheckpoints} WAL checkpoints`,
  );
}

describe('store [sqlite]: another connection holds the write lock', () => {
  /** Something small to write. */
  const apiToken = (name: string) => ({
    id: randomUUID(),
    name,
    role: 'operator',
    tokenHash: randomBytes(32),
    createdAt: '2026-01-01T00:00:00.000Z',
    expiresAt: null,
  });

  /**
   * A store on a fresh migrated file (`open` makes it from the path), another connection to the
   * same file (another process's writer, say `custodian import` beside `custodian serve`) and a
   * token to write; both closed and the folder removed afterwards.
   */
  const withOtherWriter = async (
    name: string,
    open: (path: string) => Promise<Store>,
    body: (store: Store, other: SqliteDatabase.Database, token: ReturnType<typeof apiToken>) => Promise<void>,
  ): Promise<void> => {
    const dir = tempDir(`custodian-sqlite-${name}-`);
    const path = join(dir.path, `${name}.db`);
    const store = await open(path);
    const other = new SqliteDatabase(path);
    try {
      await body(store, other, apiToken(name));
    } finally {
      if (other.inTransaction) other.exec('rollback');
      other.close();
      await store.close();
      dir.remove();
    }
  };

  it('answers ERR_STORE_BUSY instead of a raw SQLITE_BUSY, and writes once the lock is released', () =>
    withOtherWriter(
      'busy',
      async (path) => {
        const migrated = openStore({ engine: 'sqlite', path });
        await migrated.migrate();
        await migrated.close();
        // The store's own pragmas, but a busy timeout of 50 ms instead of 5 s.
        const database = new SqliteDatabase(path);
        for (const pragma of SQLITE_PRAGMAS) database.pragma(pragma);
        database.pragma('busy_timeout = 50');
        return new KyselyStore(
          'sqlite',
          new Kysely<Database>({ dialect: new ImmediateSqliteDialect(database) }),
        );
      },
      async (store, other, token) => {
        other.exec('begin immediate');
        const refused = await store.transaction((tx) => tx.tokens.insert(token)).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(CustodianError);
        expect(refused).toMatchObject({ code: 'ERR_STORE_BUSY', status: 503, exitCode: 1 });
        expect(((refused as Error).cause as { code?: unknown }).code).toMatch(/^SQLITE_BUSY/);
        // Readers go on beside the writer (WAL); nothing was written.
        expect(await store.tokens.findByHash(token.tokenHash)).toBeUndefined();
        other.exec('rollback');
        await store.transaction((tx) => tx.tokens.insert(token));
        expect((await store.tokens.findByHash(token.tokenHash))?.id).toBe(token.id);
      },
    ));

  it('waits for the write lock without blocking the process', () =>
    withOtherWriter(
      'wait',
      async (path) => {
        const store = openStore({ engine: 'sqlite', path });
        await store.migrate();
        return store;
      },
      async (store, other, token) => {
        other.exec('begin immediate');
        // Released by a timer of this same thread: a busy wait that sleeps in the thread would hold
        // the timer back until the busy timeout ran out, and the write would fail.
        setTimeout(() => other.exec('rollback'), 100);
        await store.transaction((tx) => tx.tokens.insert(token));
        expect((await store.tokens.findByHash(token.tokenHash))?.id).toBe(token.id);
      },
    ));
});
