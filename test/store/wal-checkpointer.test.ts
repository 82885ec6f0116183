import { existsSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { WalCheckpointer } from '../../src/store/wal-checkpointer.js';
import { tempDir } from '../support/tmp.js';

const PAGE = 4096;

/** Waits until `done()` holds, for at most `ms`. */
async function until(done: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/**
 * A migrated store with background checkpoints, and beside it a raw connection that never
 * checkpoints, to write filler pages that only the store's thread can move into the file.
 */
async function storeWithFiller(path: string): Promise<{
  store: Store;
  raw: Database.Database;
  insert: Database.Statement<[Buffer]>;
}> {
  const store = openStore({ engine: 'sqlite', path }, { walCheckpoints: 'background' });
  await store.migrate();
  const raw = new Database(path);
  raw.pragma('wal_autocheckpoint = 0');
  raw.exec('create table filler (v blob)');
  return { store, raw, insert: raw.prepare<[Buffer]>('insert into filler values (?)') };
}

describe('WAL checkpoints in a thread of their own', () => {
  const dir = tempDir('custodian-walcp-');
  afterAll(() => dir.remove());

  it('moves committed pages into the database file while the writer never checkpoints', async () => {
    const path = join(dir.path, 'a.db');
    const writer = new Database(path);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0'); // this connection never checkpoints
    writer.exec('create table t (id integer primary key, v blob)');
    const insert = writer.prepare('insert into t (v) values (?)');
    for (let i = 0; i < 2000; i++) insert.run(Buffer.alloc(3000, i % 251)); // ~2,000 pages, one per commit
    const before = statSync(path).size;
    expect(before).toBeLessThan(100 * PAGE); // the rows are in the WAL only
    const failures: unknown[] = [];
    const checkpointer = new WalCheckpointer({ path, intervalMs: 5, onFailure: (e) => failures.push(e) });
    // A second process's checkpointer on the same file (a CLI command beside `serve`) is no failure.
    const other = new WalCheckpointer({ path, intervalMs: 1, onFailure: (e) => failures.push(e) });
    expect(await until(() => statSync(path).size > 1900 * PAGE)).toBe(true);
    // More commits while it runs land in the file as well.
    for (let i = 0; i < 500; i++) insert.run(Buffer.alloc(3000, 7));
    expect(await until(() => statSync(path).size > 2400 * PAGE)).toBe(true);
    await Promise.all([checkpointer.stop(), other.stop()]);
    await checkpointer.stop(); // idempotent
    expect(failures).toEqual([]);
    expect((writer.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(2500);
    writer.close();
  });

  it('looks at an idle WAL less often, and at full pace again once commits come', async () => {
    const path = join(dir.path, 'idle.db');
    const writer = new Database(path);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    writer.pragma('synchronous = OFF'); // commits as fast as the test asks, on any disk
    writer.exec('create table t (id integer primary key, v blob)');
    const insert = writer.prepare('insert into t (v) values (?)');
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const checkpointer = new WalCheckpointer({ path, intervalMs: 5, onFailure: () => undefined });
    // 1.5 s idle: 300 looks at full pace; backed off after 50 (250 ms), then one per 50 ms: ~75.
    await sleep(1500);
    const size = statSync(path).size;
    writer.transaction(() => {
      for (let i = 0; i < 300; i++) insert.run(Buffer.alloc(3000, 1));
    })();
    // The commit after the idle spell reaches the file within the backed-off interval.
    expect(await until(() => statSync(path).size > size + 250 * PAGE, 1000)).toBe(true);
    // 1.5 s of steady commits: full pace again (~300 looks), not one per 50 ms (~30).
    for (const end = Date.now() + 1500; Date.now() < end;) {
      insert.run(Buffer.alloc(100, 2));
      await sleep(5);
    }
    const { ticks } = await checkpointer.stop();
    // Idle and busy at full pace: ~600; backed off and stuck there: ~110; as meant: ~375.
    expect(ticks).toBeGreaterThan(160);
    expect(ticks).toBeLessThan(500);
    writer.close();
  });

  it('reports a thread that cannot open the database once, and creates nothing', async () => {
    const path = join(dir.path, 'missing', 'b.db');
    const failures: unknown[] = [];
    const checkpointer = new WalCheckpointer({ path, onFailure: (e) => failures.push(e) });
    expect(await until(() => failures.length > 0)).toBe(true);
    await checkpointer.stop();
    expect(failures).toHaveLength(1);
    expect(existsSync(join(dir.path, 'missing'))).toBe(false);
  });

  it("an erasure's scrub still truncates the WAL while the thread checkpoints beside it", async () => {
    const path = join(dir.path, 'scrub', 'd.db');
    const { store, raw, insert } = await storeWithFiller(path);
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 40; i++) insert.run(Buffer.alloc(3000, round));
      raw.exec('delete from filler');
      await store.scrub();
      // SQLite answers "busy" while the thread holds the checkpoint lock; scrub asks until it is done.
      expect(statSync(`${path}-wal`).size).toBe(0);
    }
    raw.close();
    await store.close();
  });

  it("a store whose checkpoint thread fails checkpoints in its own commits again, at SQLite's 1,000 pages", async () => {
    const folder = join(dir.path, 'fallback');
    const moved = join(dir.path, 'fallback-moved');
    const path = join(folder, 'f.db');
    const failures: unknown[] = [];
    const store = openStore(
      { engine: 'sqlite', path },
      { walCheckpoints: 'background', onCheckpointerFailure: (e) => failures.push(e) },
    );
    // The thread opens the file by its path once it has started; moved away, it cannot.
    renameSync(folder, moved);
    expect(await until(() => failures.length > 0)).toBe(true);
    renameSync(moved, folder);
    await store.migrate();
    // 1,500 pages in the WAL that only a checkpoint moves into the file (this connection never
    // checkpoints), then one small commit by the store.
    const raw = new Database(path);
    raw.pragma('wal_autocheckpoint = 0');
    raw.exec('create table filler (v blob)');
    const insert = raw.prepare<[Buffer]>('insert into filler values (?)');
    raw.transaction(() => {
      for (let i = 0; i < 1500; i++) insert.run(Buffer.alloc(3000, 1));
    })();
    const before = statSync(path).size;
    expect(before).toBeLessThan(200 * PAGE);
    await store.transaction((tx) =>
      tx.subjects.insertMany([{ id: 'subject-fallback', createdAt: new Date(0).toISOString() }]),
    );
    // With the 1 GiB backstop the thread's writers keep, that commit would have left them in the WAL.
    expect(statSync(path).size).toBeGreaterThan(1400 * PAGE);
    expect(failures).toHaveLength(1);
    raw.close();
    await store.close();
  });

  it('a store with background checkpoints keeps the WAL short and closes cleanly', async () => {
    const path = join(dir.path, 'store', 'c.db');
    const { store, raw, insert } = await storeWithFiller(path);
    for (let i = 0; i < 1500; i++) insert.run(Buffer.alloc(3000, 1));
    raw.close();
    // Nobody but the store's checkpointer copies these pages into the file.
    expect(await until(() => statSync(path).size > 1400 * PAGE)).toBe(true);
    expect(await store.audit.count()).toBe(0);
    await store.close();
  });
});
