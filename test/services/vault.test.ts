import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnomalyRuleSet, DEFAULT_ANOMALY_RULES } from '../../src/domain/audit/anomaly.js';
import { canonicalJson, type AuditEntry } from '../../src/domain/audit/entry.js';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { decodeSealedFields, encodeSealedFields } from '../../src/services/sealed-record.js';
import type { Principal } from '../../src/services/tokens.js';
import type { Vault } from '../../src/services/vault.js';
import { testApp, type TestApp } from '../support/app.js';
import { codeOf } from '../support/codes.js';

const operator: Principal = {
  kind: 'token',
  id: 'tok-operator',
  name: 'op',
  role: 'tester',
  trainingCurrent: true,
};
const [alice, bob] = generateCustomers('vault-tests', 2);

describe('vault service', () => {
  let t: TestApp;
  let vault: Vault;
  beforeAll(async () => {
    t = await testApp();
    vault = t.runtime.vault;
  });
  afterAll(() => t.close());

  const address = (c: typeof alice) => ({
    recipientName: c!.name,
    phone: c!.mobile,
    province: c!.address.province,
    city: c!.address.city,
    district: c!.address.district,
    street: c!.address.street,
  });

  it('collects and reads back per purpose: clear, masked or withheld', async () => {
    const { subjectId, created } = await vault.collect(operator, {
      collection: 'address',
      identities: { oaid: alice!.oaid },
      fields: address(alice),
      purpose: 'order-fulfilment',
    });
    expect(created).toBe(true);
    await vault.collect(operator, {
      collection: 'profile',
      subjectId,
      fields: { name: alice!.name, birthDate: alice!.birthDate, email: alice!.email },
      purpose: 'marketing',
    });

    const fulfil = await vault.read(operator, subjectId, 'order-fulfilment');
    const addr = fulfil.records.find((r) => r.collection === 'address')!;
    expect(addr.fields['recipientName']).toEqual({ access: 'clear', value: alice!.name });
    expect(addr.fields['phone']).toEqual({ access: 'clear', value: alice!.mobile });
    const profile = fulfil.records.find((r) => r.collection === 'profile')!;
    expect(profile.fields['birthDate']).toEqual({ access: 'withheld', reason: 'not-needed-for-purpose' });
    expect(profile.fields['name']).toEqual({ access: 'withheld', reason: 'not-needed-for-purpose' });

    const service = await vault.read(operator, subjectId, 'customer-service');
    const masked = service.records.find((r) => r.collection === 'address')!.fields;
    expect(masked['phone']).toEqual({
      access: 'masked',
      value: `${alice!.mobile.slice(0, 3)}****${alice!.mobile.slice(7)}`,
    });
    expect(masked['recipientName']?.access).toBe('masked');
    expect(masked['recipientName']?.value).toMatch(/^\p{Script=Han}{1,2}\*+$/u);
    expect(masked['district']).toEqual({ access: 'clear', value: alice!.address.district });
    expect(masked['street']?.access).toBe('masked');
    expect(masked['street']?.value).not.toContain(alice!.address.street);
    const email = service.records.find((r) => r.collection === 'profile')!.fields['email'];
    expect(email).toEqual({ access: 'masked', value: `${alice!.email[0]}***@${alice!.email.split('@')[1]}` });
  });

  it('refuses undeclared fields, naming them, and stores nothing', async () => {
    const before = { subjects: await t.store.subjects.count(), audit: await t.store.audit.count() };
    const error = (await vault
      .collect(operator, {
        collection: 'profile',
        identities: { oaid: 'oaid-undeclared' },
        fields: { name: '王五', wechat: 'wx_secret_handle', hobby: 'x' },
        purpose: 'marketing',
      })
      .catch((e: unknown) => e)) as { code: string; details: { fields: string[] }; message: string };
    expect(error.code).toBe('ERR_COLLECT_UNDECLARED_FIELDS');
    expect(error.details.fields).toEqual(['wechat', 'hobby']);
    expect(error.message).not.toContain('wx_secret_handle');
    expect(await t.store.subjects.count()).toEqual(before.subjects);
    expect(await t.store.audit.count()).toBe(before.audit);
  });

  it('fails closed on unknown collections and purposes', async () => {
    expect(
      await codeOf(
        vault.collect(operator, { collection: 'wishlist', fields: { a: 'b' }, purpose: 'marketing' }),
      ),
    ).toBe('ERR_COLLECT_UNKNOWN_COLLECTION');
    expect(
      await codeOf(
        vault.collect(operator, { collection: 'profile', fields: { name: 'x' }, purpose: 'resale' }),
      ),
    ).toBe('ERR_PURPOSE_UNKNOWN');
    const { subjectId } = await vault.collect(operator, {
      collection: 'profile',
      fields: { name: '赵六' },
      purpose: 'marketing',
    });
    expect(await codeOf(vault.read(operator, subjectId, 'resale'))).toBe('ERR_PURPOSE_UNKNOWN');
    expect(await codeOf(vault.read(operator, '01890000-0000-7000-8000-000000000000', 'marketing'))).toBe(
      'ERR_SUBJECT_NOT_FOUND',
    );
  });

  it('finds subjects by normalised identities through the blind index', async () => {
    const { subjectId } = await vault.collect(operator, {
      collection: 'profile',
      identities: { memberId: bob!.memberId },
      fields: { name: bob!.name, phone: bob!.mobile, email: bob!.email },
      purpose: 'customer-service',
    });
    const spaced = `+86 ${bob!.mobile.slice(0, 3)}-${bob!.mobile.slice(3, 7)} ${bob!.mobile.slice(7)}`;
    const byPhone = await vault.search(operator, 'phone', spaced, 'customer-service');
    expect(byPhone.map((s) => s.subjectId)).toEqual([subjectId]);
    const byEmail = await vault.search(
      operator,
      'email',
      ` ${bob!.email.toUpperCase()} `,
      'customer-service',
    );
    expect(byEmail.map((s) => s.subjectId)).toEqual([subjectId]);
    const byMember = await vault.search(operator, 'memberId', bob!.memberId, 'customer-service');
    expect(byMember[0]?.records[0]?.fields['phone']?.access).toBe('masked');
    expect(await vault.search(operator, 'phone', '13000000000', 'customer-service')).toEqual([]);
  });

  it('links records by OAID and never merges two buyers on a shared phone (R30)', async () => {
    const phone = '13912340000';
    const a = await vault.collect(operator, {
      collection: 'address',
      identities: { oaid: 'oaid-A', phone },
      fields: { phone },
      purpose: 'order-fulfilment',
    });
    const again = await vault.collect(operator, {
      collection: 'address',
      identities: { oaid: 'oaid-A' },
      fields: { city: '杭州市' },
      purpose: 'order-fulfilment',
    });
    expect(again.subjectId).toBe(a.subjectId);
    expect(again.created).toBe(false);
    const b = await vault.collect(operator, {
      collection: 'address',
      identities: { oaid: 'oaid-B', phone },
      fields: { phone },
      purpose: 'order-fulfilment',
    });
    expect(b.subjectId).not.toBe(a.subjectId);
    const both = await vault.search(operator, 'phone', phone, 'order-fulfilment');
    expect(both.map((s) => s.subjectId).sort()).toEqual([a.subjectId, b.subjectId].sort());
    expect(
      await codeOf(
        vault.collect(operator, {
          collection: 'profile',
          identities: { phone },
          fields: { name: '某' },
          purpose: 'marketing',
        }),
      ),
    ).toBe('ERR_SUBJECT_AMBIGUOUS');
  });

  it('resolves a batch as one collect after another would, in one unit of work', async () => {
    const known = await vault.collect(operator, {
      collection: 'address',
      identities: { oaid: 'batch-known' },
      fields: { city: '上海市' },
      purpose: 'order-fulfilment',
    });
    const phone = '13712345678';
    const order = (identities: Record<string, string>, city = '苏州市') => ({
      collection: 'address',
      identities,
      fields: { city },
      purpose: 'order-fulfilment',
    });
    const results = await vault.collectMany(operator, [
      order({ oaid: 'batch-new', phone }), // a new buyer
      order({ oaid: 'batch-new' }), // the same buyer's second order
      order({ phone }), // no platform id: the phone written just before finds them
      order({ oaid: 'batch-known' }), // a buyer stored before the batch
      { ...order({}), identities: undefined, subjectId: known.subjectId },
      order({ oaid: 'batch-other', phone }), // another buyer sharing the phone (R30)
    ]);
    const [first, second, byPhone, old, named, other] = results;
    expect(first!.created).toBe(true);
    expect([second!.subjectId, byPhone!.subjectId]).toEqual([first!.subjectId, first!.subjectId]);
    expect([second!.created, byPhone!.created]).toEqual([false, false]);
    expect([old!.subjectId, named!.subjectId]).toEqual([known.subjectId, known.subjectId]);
    expect([old!.created, named!.created]).toEqual([false, false]);
    expect(other!.created).toBe(true);
    expect(other!.subjectId).not.toBe(first!.subjectId);
    expect(new Set(results.map((r) => r.recordId)).size).toBe(6);
    expect((await vault.read(operator, first!.subjectId, 'order-fulfilment')).records).toHaveLength(3);
    expect((await vault.read(operator, known.subjectId, 'order-fulfilment')).records).toHaveLength(3);

    // A weak identity matching two buyers, even ones made in the same batch, refuses the whole batch.
    const before = await t.store.subjects.count();
    expect(
      await codeOf(
        vault.collectMany(operator, [
          order({ oaid: 'batch-x', phone: '13600001111' }),
          order({ oaid: 'batch-y', phone: '13600001111' }),
          order({ phone: '13600001111' }),
        ]),
      ),
    ).toBe('ERR_SUBJECT_AMBIGUOUS');
    expect(await t.store.subjects.count()).toEqual(before);
    expect(await vault.search(operator, 'oaid', 'batch-x', 'order-fulfilment')).toEqual([]);
    const erased = await vault.collect(operator, order({ oaid: 'batch-erased' }));
    await vault.erase(operator, erased.subjectId);
    expect(
      await codeOf(
        vault.collectMany(operator, [
          order({ oaid: 'batch-z' }),
          { ...order({}), identities: undefined, subjectId: erased.subjectId },
        ]),
      ),
    ).toBe('ERR_SUBJECT_ERASED');
    expect(await vault.search(operator, 'oaid', 'batch-z', 'order-fulfilment')).toEqual([]);
  });

  it('joins records to an earlier one of the batch and logs one collect entry per subject', async () => {
    const order = (oaid: string) => ({
      collection: 'address',
      identities: { oaid, phone: '13912345678' },
      fields: { city: '杭州市' },
      purpose: 'order-fulfilment',
    });
    const joins = (subjectOf: number) => ({
      collection: 'address',
      fields: { district: '西湖区' },
      purpose: 'order-fulfilment',
      subjectOf,
    });
    const known = await vault.collect(operator, order('join-known'));
    const identitiesBefore = await t.store.identities.listForSubject(known.subjectId);
    const logged = await t.store.audit.count();
    const results = await vault.collectMany(operator, [
      order('join-new'),
      joins(0),
      order('join-known'),
      joins(2),
      joins(1), // joins a record that itself joined: the same buyer
    ]);
    const ids = results.map((r) => r.subjectId);
    expect(ids).toEqual([ids[0], ids[0], known.subjectId, known.subjectId, ids[0]]);
    expect(results.map((r) => r.created)).toEqual([true, false, false, false, false]);

    const entries = (await t.store.audit.range(logged + 1, logged + 10)).map(
      (r) => JSON.parse(r.canonical.toString('utf8')) as Record<string, unknown>,
    );
    expect(entries.map((e) => [e['action'], (e['records'] as string[]).length])).toEqual([
      ['collect', 3],
      ['collect', 2],
    ]);
    expect(entries[0]).toMatchObject({
      records: [results[0]!.recordId, results[1]!.recordId, results[4]!.recordId],
      fields: ['address.city', 'address.district'],
      detail: { newSubject: true, identities: 2 },
    });
    expect(entries[1]).toMatchObject({ detail: { newSubject: false } });
    // The returning buyer's identities are the rows stored before, sealed then, not written again.
    expect(await t.store.identities.listForSubject(known.subjectId)).toEqual(identitiesBefore);
    expect((await vault.search(operator, 'oaid', 'join-known', 'order-fulfilment')).length).toBe(1);

    // A record may only join one before it in the same call; a bad batch stores nothing.
    const subjects = await t.store.subjects.count();
    const entriesBefore = await t.store.audit.count();
    for (const subjectOf of [1, 5, -1, 0.5])
      expect(await codeOf(vault.collectMany(operator, [order('join-bad'), joins(subjectOf)]))).toBe(
        'ERR_VALIDATION_FAILED',
      );
    expect(
      await codeOf(
        vault.collectMany(operator, [order('join-bad'), { ...joins(0), subjectId: known.subjectId }]),
      ),
    ).toBe('ERR_VALIDATION_FAILED');
    expect(await t.store.subjects.count()).toEqual(subjects);
    expect(await t.store.audit.count()).toBe(entriesBefore);
  });

  it('refuses a platform identity of another buyer on a record that names or joins its subject', async () => {
    const collect = (identities: Record<string, string>, more: Record<string, unknown> = {}) => ({
      collection: 'address',
      identities,
      fields: { city: '南京市' },
      purpose: 'order-fulfilment',
      ...more,
    });
    const a = await vault.collect(operator, collect({ oaid: 'conflict-a', phone: '13511112222' }));
    const b = await vault.collect(operator, collect({ oaid: 'conflict-b' }));
    const before = {
      subjects: await t.store.subjects.count(),
      entries: await t.store.audit.count(),
      a: await t.store.records.listForSubject(a.subjectId),
      identities: await t.store.identities.listForSubject(a.subjectId),
    };
    const refused = [
      // Named by id, with B's OAID.
      vault.collect(operator, collect({ oaid: 'conflict-b' }, { subjectId: a.subjectId })),
      // Joined to the record before it, which found A.
      vault.collectMany(operator, [
        collect({ oaid: 'conflict-a' }),
        collect({ oaid: 'conflict-b' }, { subjectOf: 0 }),
      ]),
      // Joined to a new buyer of the batch, with an OAID that an earlier record gave to another.
      vault.collectMany(operator, [
        collect({ oaid: 'conflict-new-1' }),
        collect({ oaid: 'conflict-new-2' }),
        collect({ oaid: 'conflict-new-1' }, { subjectOf: 1 }),
      ]),
    ];
    for (const attempt of refused) {
      const error = await attempt.then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; details: unknown },
      );
      expect(error).toMatchObject({ code: 'ERR_IDENTITY_CONFLICT', details: { identity: 'oaid' } });
      // Neither the message nor the details carry an identity's value.
      expect(`${error!.message} ${JSON.stringify(error!.details)}`).not.toMatch(/conflict-(a|b|new)/);
    }
    expect(await t.store.subjects.count()).toEqual(before.subjects);
    expect(await t.store.audit.count()).toBe(before.entries);
    expect(await t.store.records.listForSubject(a.subjectId)).toEqual(before.a);
    expect(await vault.search(operator, 'oaid', 'conflict-new-1', 'order-fulfilment')).toEqual([]);
    expect((await vault.search(operator, 'oaid', 'conflict-b', 'order-fulfilment'))[0]!.subjectId).toBe(
      b.subjectId,
    );

    // The subject's own identities are fine, and are not sealed and written again.
    const own = await vault.collect(
      operator,
      collect({ oaid: 'conflict-a', phone: '13511112222' }, { subjectId: a.subjectId }),
    );
    expect(own.subjectId).toBe(a.subjectId);
    expect(await t.store.identities.listForSubject(a.subjectId)).toEqual(before.identities);
    // A new platform identity for a named subject is added to it.
    await vault.collect(operator, collect({ memberId: 'conflict-a-member' }, { subjectId: a.subjectId }));
    expect(
      (await vault.search(operator, 'memberId', 'conflict-a-member', 'order-fulfilment'))[0]!.subjectId,
    ).toBe(a.subjectId);
  });

  it('logs a read refused for a purpose the role may not use, so repeated refusals count as denied', async () => {
    const { subjectId } = await vault.collect(operator, {
      collection: 'profile',
      fields: { name: '吴九', phone: '13900009999' },
      purpose: 'marketing',
    });
    const staffOperator: Principal = {
      kind: 'staff',
      id: 'staff-op',
      name: 'op',
      role: 'operator',
      trainingCurrent: true,
    };
    // The entries carry the real clock: off-hours is off, or the test would depend on the hour it runs.
    const rules = new AnomalyRuleSet({
      ...DEFAULT_ANOMALY_RULES,
      offHours: { ...DEFAULT_ANOMALY_RULES.offHours, enabled: false },
      repeatedDenied: { windowMinutes: 10, maxAttempts: 3 },
    });
    const hits: string[] = [];
    for (let i = 0; i < 3; i++) {
      expect(await codeOf(vault.read(staffOperator, subjectId, 'marketing'))).toBe(
        'ERR_PURPOSE_NOT_PERMITTED',
      );
      const last = (await t.store.audit.range(1, 1_000_000)).at(-1)!;
      const entry = JSON.parse(last.canonical.toString('utf8')) as AuditEntry;
      expect(entry).toMatchObject({
        action: 'read',
        actor: { id: 'staff-op', role: 'operator' },
        purpose: 'marketing',
        decision: { clear: [], masked: [], withheldReasons: ['purpose-not-permitted'] },
      });
      expect(entry.decision?.withheld).toContain('profile.phone');
      expect(last.canonical.toString('utf8')).not.toContain('吴九');
      hits.push(...rules.observe(last.seq, entry).map((h) => h.rule));
    }
    expect(hits).toEqual(['repeated-denied']);
    // An unknown purpose is the caller's mistake: refused, not logged.
    const count = await t.store.audit.count();
    expect(await codeOf(vault.read(staffOperator, subjectId, 'no-such-purpose'))).toBe('ERR_PURPOSE_UNKNOWN');
    expect(await t.store.audit.count()).toBe(count);
  });

  it('erases by crypto-shredding: receipt, 410 afterwards, gone from the index', async () => {
    const c = generateCustomers('erase', 1)[0]!;
    const { subjectId } = await vault.collect(operator, {
      collection: 'profile',
      identities: { oaid: c.oaid },
      fields: { name: c.name, phone: c.mobile },
      purpose: 'marketing',
    });
    const receipt = await vault.erase(operator, subjectId);
    expect(receipt).toMatchObject({
      subjectId,
      keyVersionsDestroyed: 1,
      recordsDeleted: 1,
      identitiesDeleted: 2,
    });
    expect(receipt.auditHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await codeOf(vault.read(operator, subjectId, 'marketing'))).toBe('ERR_SUBJECT_ERASED');
    expect(await codeOf(vault.erase(operator, subjectId))).toBe('ERR_SUBJECT_ERASED');
    expect(await vault.search(operator, 'oaid', c.oaid, 'marketing')).toEqual([]);
    expect(
      await codeOf(
        vault.collect(operator, {
          collection: 'profile',
          subjectId,
          fields: { name: 'x' },
          purpose: 'marketing',
        }),
      ),
    ).toBe('ERR_SUBJECT_ERASED');
  });

  it('returns the receipt of an erase that runs beside other work, and scrubs the WAL in turn', async () => {
    const [a, b] = generateCustomers('erase-beside', 2);
    const { subjectId } = await vault.collect(operator, {
      collection: 'profile',
      identities: { oaid: a!.oaid },
      fields: { name: a!.name },
      purpose: 'marketing',
    });
    // The scrub's checkpoint waits for the collect's unit of work instead of failing beside it.
    const [erased, collected] = await Promise.allSettled([
      vault.erase(operator, subjectId),
      vault.collect(operator, {
        collection: 'profile',
        identities: { oaid: b!.oaid },
        fields: { name: b!.name },
        purpose: 'marketing',
      }),
    ]);
    expect(erased).toMatchObject({ status: 'fulfilled', value: { subjectId, recordsDeleted: 1 } });
    expect(collected.status).toBe('fulfilled');
  });

  it('returns the receipt of a committed erase when its scrub fails, and scrubs again later', async () => {
    const c = generateCustomers('erase-scrub', 1)[0]!;
    const { subjectId } = await vault.collect(operator, {
      collection: 'profile',
      identities: { oaid: c.oaid },
      fields: { name: c.name },
      purpose: 'marketing',
    });
    const store = t.store as { scrub: typeof t.store.scrub };
    let scrubs = 0;
    const original = t.store.scrub.bind(t.store);
    store.scrub = () => (++scrubs === 1 ? Promise.reject(new Error('disk busy')) : original());
    try {
      const receipt = await vault.erase(operator, subjectId);
      expect(receipt).toMatchObject({ subjectId, recordsDeleted: 1 });
      expect(t.logs.some((l) => l.includes('an erasure committed, but its scrub failed'))).toBe(true);
      // The runtime tries again a second later, in the background.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(scrubs).toBe(2);
      expect(t.logs.some((l) => l.includes('succeeded on a later try'))).toBe(true);
    } finally {
      delete (store as { scrub?: unknown }).scrub;
    }
  });

  it('cannot decrypt a copy of the data taken before an erase, even with the root key', async () => {
    const c = generateCustomers('backup', 1)[0]!;
    const { subjectId } = await vault.collect(operator, {
      collection: 'profile',
      fields: { name: c.name },
      purpose: 'marketing',
    });
    const backup = await t.store.records.listForSubject(subjectId);
    const keyBackup = await t.store.keys.current(subjectId);
    expect(keyBackup).toBeDefined();
    await vault.erase(operator, subjectId);
    // Restore the data rows (a data backup), without the key table (its own, shorter retention).
    await t.store.transaction(async (tx) => {
      await tx.records.insert(backup[0]!);
    });
    expect(await t.store.keys.current(subjectId)).toBeUndefined();
    expect(await codeOf(vault.read(operator, subjectId, 'marketing'))).toBe('ERR_SUBJECT_ERASED');
    // Even bypassing the tombstone, no key can be found for the envelope.
    const { openField } = await import('../../src/crypto/envelope.js');
    const [name, envelope] = [...decodeSealedFields(backup[0]!.sealed)][0]!;
    expect(() =>
      openField(envelope, {
        context: { subjectId, collection: 'profile', recordId: backup[0]!.id, field: name },
        resolveKey: () => undefined,
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' }));
  });

  it('keeps a hash chain over every operation, with pseudonyms instead of personal data', async () => {
    const rows = await t.store.audit.range(1, 1_000_000);
    expect(rows.length).toBeGreaterThan(10);
    expect(await t.runtime.auditLog.verify()).toMatchObject({
      ok: true,
      treeSize: rows.length,
      problems: [],
    });
    const actions = new Set(rows.map((r) => r.action));
    expect([...actions].sort()).toEqual(['collect', 'erase', 'read', 'search']);
    const text = rows.map((r) => r.canonical.toString('utf8')).join('\n');
    for (const c of [alice!, bob!]) {
      for (const value of [c.name, c.mobile, c.email, c.oaid, c.memberId, c.address.street])
        expect(text).not.toContain(value);
    }
    const entry = JSON.parse(rows.find((r) => r.action === 'read')!.canonical.toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(canonicalJson(entry as never)).toBe(
      rows.find((r) => r.action === 'read')!.canonical.toString('utf8'),
    );
    expect(entry['subject']).toMatch(/^[0-9a-f]{32}$/);
    expect(entry['decision']).toBeDefined();
  });
});

describe('vault integrity', () => {
  let t: TestApp;
  let vault: Vault;
  beforeAll(async () => {
    t = await testApp();
    vault = t.runtime.vault;
  });
  afterAll(() => t.close());

  async function seed(name: string) {
    const { subjectId, recordId } = await vault.collect(operator, {
      collection: 'address',
      fields: { recipientName: name, phone: '13800138000', street: '文三路 1 号' },
      purpose: 'order-fulfilment',
    });
    return { subjectId, recordId };
  }
  const rawRecord = async (subjectId: string) => (await t.store.records.listForSubject(subjectId))[0]!;
  const overwrite = (id: string, sealed: Buffer) =>
    t.store.transaction(async (tx) => {
      await tx.records.reseal(id, 1, sealed, new Date().toISOString());
    });

  it('detects any flipped byte of any stored ciphertext', async () => {
    const { subjectId } = await seed('张三');
    const original = (await rawRecord(subjectId)).sealed;
    const fields = decodeSealedFields(original);
    let checked = 0;
    for (const [name, envelope] of fields) {
      for (let i = 0; i < envelope.length; i += 3) {
        const tampered = Buffer.from(envelope);
        tampered[i] = tampered[i]! ^ 0x01;
        const copy = new Map(fields);
        copy.set(name, tampered);
        await overwrite((await rawRecord(subjectId)).id, encodeSealedFields(copy));
        expect(await codeOf(vault.read(operator, subjectId, 'order-fulfilment'))).toMatch(
          /^ERR_CRYPTO_(DECRYPTION_FAILED|UNSUPPORTED)$/,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
    await overwrite((await rawRecord(subjectId)).id, original);
    expect(
      (await vault.read(operator, subjectId, 'order-fulfilment')).records[0]!.fields['recipientName']?.value,
    ).toBe('张三');
  });

  it('fails when ciphertexts are swapped between two fields', async () => {
    const { subjectId } = await seed('李四');
    const record = await rawRecord(subjectId);
    const fields = decodeSealedFields(record.sealed);
    const swapped = new Map([
      ['recipientName', fields.get('street')!],
      ['phone', fields.get('phone')!],
      ['street', fields.get('recipientName')!],
    ]);
    await overwrite(record.id, encodeSealedFields(swapped));
    expect(await codeOf(vault.read(operator, subjectId, 'order-fulfilment'))).toBe(
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('fails when an encrypted field is replaced by a clear value', async () => {
    const { subjectId } = await seed('孙七');
    const record = await rawRecord(subjectId);
    const fields = decodeSealedFields(record.sealed);
    fields.delete('recipientName');
    await overwrite(record.id, encodeSealedFields(fields));
    if (t.config.database.engine !== 'sqlite') throw new Error('the test app runs on SQLite');
    const raw = new SqliteDatabase(t.config.database.path);
    try {
      raw
        .prepare('update records set plain = ? where id = ?')
        .run(JSON.stringify({ recipientName: '假名' }), record.id);
    } finally {
      raw.close();
    }
    // Only fields declared `protection: plain` are read from the clear column (invariant 3).
    expect(await codeOf(vault.read(operator, subjectId, 'order-fulfilment'))).toBe(
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('reads again, once, when a key version goes missing mid-read (a rotation committed meanwhile)', async () => {
    const { subjectId } = await seed('周八');
    const store = t.store as { transaction: typeof t.store.transaction };
    const original = t.store.transaction.bind(t.store);
    let misses = 0;
    // Each unit of work finds the subject's key gone `misses` times: what a read at READ
    // COMMITTED sees when a subject-key rotation commits between its statements.
    store.transaction = (work) =>
      original((tx) =>
        work({
          ...tx,
          keys: Object.assign(Object.create(tx.keys) as typeof tx.keys, {
            get: (id: string, version: number) =>
              misses-- > 0 ? Promise.resolve(undefined) : tx.keys.get(id, version),
          }),
        }),
      );
    try {
      const reads = async () => (await t.store.audit.range(1, 1_000_000)).filter((r) => r.action === 'read');
      const before = (await reads()).length;
      misses = 1;
      const view = await vault.read(operator, subjectId, 'order-fulfilment');
      expect(view.records[0]!.fields['recipientName']?.value).toBe('周八');
      // The first attempt rolled back: one read, one audit entry.
      expect(await reads()).toHaveLength(before + 1);
      misses = 2;
      expect(await codeOf(vault.read(operator, subjectId, 'order-fulfilment'))).toBe(
        'ERR_CRYPTO_DECRYPTION_FAILED',
      );
      expect(await reads()).toHaveLength(before + 1);
    } finally {
      delete (store as { transaction?: unknown }).transaction;
    }
  });

  it('fails when ciphertexts are swapped between two subjects', async () => {
    const a = await seed('王五');
    const b = await seed('赵六');
    const ra = await rawRecord(a.subjectId);
    const rb = await rawRecord(b.subjectId);
    await overwrite(ra.id, rb.sealed);
    await overwrite(rb.id, ra.sealed);
    expect(await codeOf(vault.read(operator, a.subjectId, 'order-fulfilment'))).toBe(
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
    expect(await codeOf(vault.read(operator, b.subjectId, 'order-fulfilment'))).toBe(
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('fails when a wrapped key is moved to another subject', async () => {
    const a = await seed('孙七');
    const b = await seed('周八');
    const ka = (await t.store.keys.current(a.subjectId))!;
    await t.store.transaction(async (tx) => {
      await tx.keys.rewrap(b.subjectId, 1, ka.wrapped, ka.rootKeyId);
    });
    t.runtime.keyring.forget(b.subjectId);
    expect(await codeOf(vault.read(operator, b.subjectId, 'order-fulfilment'))).toBe(
      'ERR_CRYPTO_DECRYPTION_FAILED',
    );
  });

  it('does nothing when the audit entry cannot be written (fail closed)', async () => {
    const store = t.store;
    const failing = Object.create(store) as typeof store;
    Object.defineProperty(failing, 'transaction', {
      value: <T>(work: (tx: Parameters<Parameters<typeof store.transaction>[0]>[0]) => Promise<T>) =>
        store.transaction((tx) =>
          work({
            ...tx,
            audit: {
              ...tx.audit,
              lockHead: tx.audit.lockHead.bind(tx.audit),
              setHead: tx.audit.setHead.bind(tx.audit),
              range: tx.audit.range.bind(tx.audit),
              count: tx.audit.count.bind(tx.audit),
              insertMany: () => Promise.reject(new Error('disk full')),
            },
          }),
        ),
    });
    const { Vault: VaultClass } = await import('../../src/services/vault.js');
    const { suiteById } = await import('../../src/crypto/aead.js');
    const broken = new VaultClass({
      store: failing,
      keyring: t.runtime.keyring,
      indexer: t.runtime.indexer,
      datamap: t.config.datamap,
      policy: t.runtime.policy,
      suite: suiteById('aes-256-gcm'),
      pseudonymize: t.runtime.pseudonymize,
      now: () => new Date(),
    });
    const before = await store.subjects.count();
    expect(
      await codeOf(
        broken.collect(operator, {
          collection: 'profile',
          identities: { oaid: 'fail-closed' },
          fields: { name: '钱九' },
          purpose: 'marketing',
        }),
      ),
    ).toBe('ERR_AUDIT_WRITE_FAILED');
    expect(await store.subjects.count()).toEqual(before);
    expect(await vault.search(operator, 'oaid', 'fail-closed', 'marketing')).toEqual([]);
    const { subjectId } = await seed('吴十');
    expect(await codeOf(broken.read(operator, subjectId, 'order-fulfilment'))).toBe('ERR_AUDIT_WRITE_FAILED');
  });
});
