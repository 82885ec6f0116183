import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { createKeyFile } from '../../src/keys/file.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { initProject } from '../../src/services/setup.js';
import type { Principal } from '../../src/services/tokens.js';
import { tempDir } from '../support/tmp.js';
import { TEST_ROLES } from '../support/roles.js';

const operator: Principal = { kind: 'token', id: 'tok', name: 'op', role: 'tester', trainingCurrent: true };

describe('key rotation', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function fixture(count = 30) {
    const dir = tempDir('custodian-rot-');
    cleanups.push(dir.remove);
    const { configPath } = await initProject({ dir: dir.path });
    const open = async (): Promise<Runtime> => {
      const rt = await openRuntime(loadConfig({ explicit: configPath, env: {} }).config, {
        roles: TEST_ROLES,
      });
      cleanups.push(() => rt.close());
      return rt;
    };
    const rt = await open();
    const customers = generateCustomers('rotation', count);
    const ids: string[] = [];
    for (const c of customers) {
      const { subjectId } = await rt.vault.collect(operator, {
        collection: 'profile',
        identities: { oaid: c.oaid },
        fields: { name: c.name, phone: c.mobile, email: c.email },
        purpose: 'customer-service',
      });
      ids.push(subjectId);
    }
    return { dir: dir.path, configPath, rt, open, customers, ids };
  }

  const editConfig = (path: string, edit: (y: string) => string) =>
    writeFileSync(path, edit(readFileSync(path, 'utf8')));

  /** A new index root as version 2, the first one retired: lookups use both until the rotation. */
  const newIndexKey = (f: { dir: string; configPath: string }) => {
    createKeyFile(join(f.dir, 'keys', 'index-2.key'));
    editConfig(f.configPath, (y) =>
      y.replace(
        '  index:\n    provider: file\n    path: keys/index.key\n',
        '  index:\n    provider: file\n    path: keys/index-2.key\n    version: 2\n  retiredIndexes:\n    - provider: file\n      path: keys/index.key\n      version: 1\n',
      ),
    );
  };

  it('rewraps every subject key under a new root; the old root can then be retired', async () => {
    const f = await fixture();
    const before = await f.rt.rotation.status();
    expect(before.keys.byRoot).toEqual([{ rootKeyId: before.currentRoot, keys: 30 }]);
    await f.rt.close();

    createKeyFile(join(f.dir, 'keys', 'root-2.key'));
    editConfig(f.configPath, (y) =>
      y.replace(
        '  root:\n    provider: file\n    path: keys/root.key\n',
        '  root:\n    provider: file\n    path: keys/root-2.key\n  retiredRoots:\n    - provider: file\n      path: keys/root.key\n',
      ),
    );
    const rt = await f.open();
    expect(rt.keyring.rootKeyId).not.toBe(before.currentRoot);
    // Still readable before the rotation: the retired root unwraps.
    const view = await rt.vault.read(operator, f.ids[0]!, 'customer-service');
    expect(view.records[0]?.fields['phone']?.access).toBe('masked');

    const seen: number[] = [];
    const outcome = await rt.rotation.rotateRoot({ batchSize: 7, onProgress: (p) => seen.push(p.done) });
    expect(outcome).toMatchObject({ kind: 'root', processed: 30, resumed: false });
    expect(seen).toEqual([7, 14, 21, 28, 30]);
    const after = await rt.rotation.status();
    expect(after.keys.byRoot).toEqual([{ rootKeyId: rt.keyring.rootKeyId, keys: 30 }]);
    await rt.close();

    // Drop the retired root entirely: everything still opens.
    editConfig(f.configPath, (y) =>
      y.replace('  retiredRoots:\n    - provider: file\n      path: keys/root.key\n', ''),
    );
    const rt2 = await f.open();
    for (const id of f.ids)
      expect((await rt2.vault.read(operator, id, 'customer-service')).records).toHaveLength(1);
    const rows = await rt2.store.audit.range(1, 1_000_000);
    expect((await rt2.auditLog.verify()).problems).toEqual([]);
    expect(rows.filter((r) => r.action === 'keys.rotate-root')).toHaveLength(5);
  });

  it('fails closed when a key was wrapped by a root that is no longer configured', async () => {
    const f = await fixture(2);
    await f.rt.close();
    createKeyFile(join(f.dir, 'keys', 'root-2.key'));
    editConfig(f.configPath, (y) => y.replace('path: keys/root.key', 'path: keys/root-2.key'));
    const rt = await f.open();
    await expect(rt.vault.read(operator, f.ids[0]!, 'customer-service')).rejects.toMatchObject({
      code: 'ERR_KEY_UNAVAILABLE',
    });
  });

  it('re-encrypts subjects under new key versions and destroys the old ones; a rerun resumes', async () => {
    const f = await fixture(20);
    const beforeRecord = (await f.rt.store.records.listForSubject(f.ids[0]!))[0]!;
    let calls = 0;
    await expect(
      f.rt.rotation.rotateSubjects({
        batchSize: 5,
        onProgress: () => {
          if (++calls === 2) throw new Error('killed midway');
        },
      }),
    ).rejects.toThrow('killed midway');
    const midway = await f.rt.rotation.status();
    expect(midway.keys.byVersion).toEqual([
      { version: 1, keys: 10 },
      { version: 2, keys: 10 },
    ]);
    const resumed = await f.rt.rotation.rotateSubjects({ batchSize: 5 });
    expect(resumed.resumed).toBe(true);
    const done = await f.rt.rotation.status();
    expect(done.keys.byVersion).toEqual([{ version: 2, keys: 20 }]);
    const afterRecord = (await f.rt.store.records.listForSubject(f.ids[0]!))[0]!;
    expect(afterRecord.keyVersion).toBe(2);
    expect(afterRecord.sealed.equals(beforeRecord.sealed)).toBe(false);
    for (const [i, id] of f.ids.entries()) {
      const view = await f.rt.vault.read(operator, id, 'customer-service');
      expect(view.records[0]?.fields['email']?.value?.endsWith(f.customers[i]!.email.split('@')[1]!)).toBe(
        true,
      );
    }
    // Identities were resealed under the new key: a later index rotation can still read them.
    expect(await f.rt.vault.search(operator, 'oaid', f.customers[3]!.oaid, 'customer-service')).toHaveLength(
      1,
    );
    const again = await f.rt.rotation.rotateSubjects({ batchSize: 5 });
    expect(again.resumed).toBe(false);
    expect((await f.rt.rotation.status()).keys.byVersion).toEqual([{ version: 3, keys: 20 }]);
  });

  it('tells keys made at the cutoff instant from its own when the clock stands still, and resumes exactly', async () => {
    const dir = tempDir('custodian-rot-still-');
    cleanups.push(dir.remove);
    const { configPath } = await initProject({ dir: dir.path });
    const still = new Date('2026-11-29T08:00:00.000Z');
    const rt = await openRuntime(loadConfig({ explicit: configPath, env: {} }).config, {
      roles: TEST_ROLES,
      now: () => still,
      checkpoints: false,
      anomalies: false,
    });
    cleanups.push(() => rt.close());
    for (const c of generateCustomers('rotation-still', 4))
      await rt.vault.collect(operator, {
        collection: 'profile',
        identities: { oaid: c.oaid },
        fields: { name: c.name },
        purpose: 'customer-service',
      });
    await expect(
      rt.rotation.rotateSubjects({
        batchSize: 2,
        onProgress: () => {
          throw new Error('killed midway');
        },
      }),
    ).rejects.toThrow('killed midway');
    await rt.rotation.rotateSubjects({ batchSize: 2 });
    expect((await rt.rotation.status()).keys.byVersion).toEqual([{ version: 2, keys: 4 }]);
  });

  it('rotates the blind-index key; lookups work during and after', async () => {
    const f = await fixture(12);
    await f.rt.close();
    newIndexKey(f);
    const rt = await f.open();
    // During the rotation: old tokens are still found through the retired version.
    expect(await rt.vault.search(operator, 'phone', f.customers[0]!.mobile, 'customer-service')).toHaveLength(
      1,
    );
    const outcome = await rt.rotation.rotateIndex({ batchSize: 5 });
    expect(outcome.processed).toBe(36); // oaid, phone and email per subject
    expect((await rt.rotation.status()).index.rows).toEqual([{ indexVersion: 2, rows: 36 }]);
    await rt.close();
    editConfig(f.configPath, (y) =>
      y.replace(
        '  retiredIndexes:\n    - provider: file\n      path: keys/index.key\n      version: 1\n',
        '',
      ),
    );
    const rt2 = await f.open();
    for (const c of f.customers) {
      expect(await rt2.vault.search(operator, 'phone', c.mobile, 'customer-service')).toHaveLength(1);
      expect(await rt2.vault.search(operator, 'oaid', c.oaid, 'customer-service')).toHaveLength(1);
    }
  });

  it('keeps the consent ledger in order across an index-key rotation, which changes pseudonyms', async () => {
    const f = await fixture(1);
    const subjectId = f.ids[0]!;
    await f.rt.privacyPolicy.publish();
    const record = (rt: Runtime, action: 'grant' | 'withdraw') =>
      rt.consent.record(operator, subjectId, { purpose: 'marketing', action, channel: 'customer-service' });
    await record(f.rt, 'grant');
    await record(f.rt, 'withdraw');
    await record(f.rt, 'grant');
    await f.rt.close();
    newIndexKey(f);
    const rt = await f.open();
    await rt.rotation.rotateIndex();
    await record(rt, 'withdraw');
    const ledger = await rt.store.consents.listForSubject(subjectId);
    expect(ledger.map((e) => [e.seq, e.action])).toEqual([
      [1, 'grant'],
      [2, 'withdraw'],
      [3, 'grant'],
      [4, 'withdraw'],
    ]);
    // The last word is the withdrawal made after the rotation, under the new pseudonym.
    expect(new Set(ledger.map((e) => e.subjectRef)).size).toBe(2);
    const facts = await rt.store.transaction((tx) =>
      rt.consent.facts(tx, subjectId, 'marketing', () => Promise.resolve(false)),
    );
    expect(facts.purpose).toBe(false);
    expect(await rt.store.transaction((tx) => rt.consent.declined(tx, subjectId, 'marketing'))).toBe(true);
  });

  it('keeps finding subjects by blind index after crypto.suite changes (each index version keeps its hash)', async () => {
    const f = await fixture(3);
    await f.rt.close();
    editConfig(f.configPath, (y) => y.replace(/suite: aes-256-gcm/u, 'suite: sm4-gcm'));
    expect(loadConfig({ explicit: f.configPath, env: {} }).config.crypto.suite).toBe('sm4-gcm');
    const rt = await f.open();
    for (const c of f.customers) {
      expect(await rt.vault.search(operator, 'oaid', c.oaid, 'customer-service')).toHaveLength(1);
      expect(await rt.vault.search(operator, 'phone', c.mobile, 'customer-service')).toHaveLength(1);
    }
    // The same platform identity finds its buyer again: no second subject (R30).
    const again = await rt.vault.collect(operator, {
      collection: 'profile',
      identities: { oaid: f.customers[0]!.oaid },
      fields: { name: f.customers[0]!.name },
      purpose: 'customer-service',
    });
    expect(again).toMatchObject({ subjectId: f.ids[0], created: false });
    // A new index version takes the suite of its day.
    await rt.close();
    newIndexKey(f);
    const rt2 = await f.open();
    expect(await rt2.store.rotations.indexSuite(1)).toBe('aes-256-gcm');
    expect(await rt2.store.rotations.indexSuite(2)).toBe('sm4-gcm');
    await rt2.rotation.rotateIndex();
    for (const c of f.customers)
      expect(await rt2.vault.search(operator, 'oaid', c.oaid, 'customer-service')).toHaveLength(1);
  });

  it('refuses an index root that others can read', async () => {
    const f = await fixture(1);
    await f.rt.close();
    chmodSync(join(f.dir, 'keys', 'index.key'), 0o644);
    await expect(f.open()).rejects.toMatchObject({ code: 'ERR_KEY_FILE_PERMISSIONS' });
  });
});
