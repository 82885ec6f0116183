import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suiteById } from '../../src/crypto/aead.js';
import type { AuditEntry } from '../../src/domain/audit/entry.js';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { AuditGroupCommit } from '../../src/services/audit-log-batch.js';
import { Vault } from '../../src/services/vault.js';
import type { Repositories, Store } from '../../src/store/store.js';
import { tester } from '../support/roles.js';
import { testApp, type TestApp } from '../support/app.js';

/** The same store, with every audit insert failing ("disk full") and transactions counted. */
function breakable(store: Store): { store: Store; broken: { on: boolean }; transactions: { n: number } } {
  const broken = { on: false };
  const transactions = { n: 0 };
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'transaction')
        return <T>(work: (tx: Repositories) => Promise<T>) => {
          transactions.n++;
          return target.transaction((tx) =>
            work({
              ...tx,
              audit: new Proxy(tx.audit, {
                get(audit, name, r) {
                  if (broken.on && name === 'insertMany') return () => Promise.reject(new Error('disk full'));
                  const value: unknown = Reflect.get(audit, name, r);
                  return typeof value === 'function'
                    ? (value as (...a: unknown[]) => unknown).bind(audit)
                    : value;
                },
              }),
            }),
          );
        };
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: wrapped, broken, transactions };
}

describe('group commit of read audits', () => {
  let t: TestApp;
  const ids: string[] = [];
  beforeAll(async () => {
    t = await testApp();
    for (const c of generateCustomers('group-commit', 8)) {
      const { subjectId } = await t.runtime.vault.collect(tester, {
        collection: 'profile',
        identities: { oaid: c.oaid },
        fields: { name: c.name, phone: c.mobile },
        purpose: 'marketing',
      });
      ids.push(subjectId);
    }
  });
  afterAll(() => t.close());

  const vaultOver = (store: Store) =>
    new Vault({
      store,
      keyring: t.runtime.keyring,
      indexer: t.runtime.indexer,
      datamap: t.config.datamap,
      policy: t.runtime.policy,
      suite: suiteById('aes-256-gcm'),
      pseudonymize: t.runtime.pseudonymize,
      now: () => new Date(),
      readAudit: (entries) => new AuditGroupCommit(store).append(entries),
    });

  it('audits every concurrent read, in fewer transactions than reads', async () => {
    const b = breakable(t.store);
    const group = new AuditGroupCommit(b.store);
    const vault = new Vault({
      store: b.store,
      keyring: t.runtime.keyring,
      indexer: t.runtime.indexer,
      datamap: t.config.datamap,
      policy: t.runtime.policy,
      suite: suiteById('aes-256-gcm'),
      pseudonymize: t.runtime.pseudonymize,
      now: () => new Date(),
      readAudit: (entries) => group.append(entries),
    });
    const before = await t.store.audit.count();
    const views = await Promise.all(
      Array.from({ length: 40 }, (_, i) => vault.read(tester, ids[i % ids.length]!, 'marketing')),
    );
    expect(views.every((v) => v.records.length === 1)).toBe(true);
    expect(await t.store.audit.count()).toBe(before + 40);
    // 40 read transactions, and far fewer than 40 for their audit entries.
    expect(b.transactions.n).toBeLessThanOrEqual(40 + 5);
    const rows = await t.store.audit.range(before + 1, before + 41);
    expect(rows.every((r) => r.action === 'read')).toBe(true);
    const searches = await Promise.all(
      Array.from({ length: 6 }, () => vault.search(tester, 'phone', '13000000000', 'marketing')),
    );
    expect(searches.flat()).toEqual([]);
    expect(await t.store.audit.count()).toBe(before + 46);
    expect((await t.runtime.auditLog.verify()).problems).toEqual([]);
  });

  it('returns no data from any read whose audit entry cannot be committed (fail closed)', async () => {
    const b = breakable(t.store);
    const vault = vaultOver(b.store);
    b.broken.on = true;
    const before = await t.store.audit.count();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => vault.read(tester, ids[i % ids.length]!, 'marketing')),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    for (const r of results)
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_AUDIT_WRITE_FAILED' });
    const searched = await Promise.allSettled([
      vault.search(tester, 'phone', '13000000000', 'marketing'),
      vault.search(tester, 'phone', '13000000001', 'marketing'),
    ]);
    expect(searched.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await t.store.audit.count()).toBe(before);
    b.broken.on = false;
    expect((await vault.read(tester, ids[0]!, 'marketing')).records).toHaveLength(1);
  });

  it('fails every waiting append when the transaction cannot even begin', async () => {
    const down = new Proxy(t.store, {
      get(target, property, receiver) {
        if (property === 'transaction') return () => Promise.reject(new Error('database is locked'));
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const group = new AuditGroupCommit(down);
    const e: AuditEntry = {
      v: 1,
      at: new Date().toISOString(),
      action: 'read',
      actor: { id: 'x', role: 'r' },
      subject: null,
    };
    const settled = await Promise.allSettled([group.append([e]), group.append([e, e]), group.append([e])]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((settled[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_AUDIT_WRITE_FAILED' });
    expect(await group.append([])).toEqual([]);
  });
});
