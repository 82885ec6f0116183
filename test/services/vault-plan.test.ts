import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { collectionSpec, prepareCollect, type PreparedCollect } from '../../src/services/collect-plan.js';
import type { CollectInput } from '../../src/services/vault.js';
import { testApp, type TestApp } from '../support/app.js';
import { tester } from '../support/roles.js';
import { codeOf } from '../support/codes.js';

const [alice, bob] = generateCustomers('vault-plan', 2);

/**
 * The three steps of a collect run apart, as the threaded importer runs them: planned ahead of the
 * unit of work (after a batch planned but not yet committed), sealed, then committed with the plan
 * checked again.
 */
describe('a collect planned ahead of its unit of work', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
    await t.runtime.privacyPolicy.publish();
  });
  afterAll(() => t.close());

  const prepare = (inputs: readonly CollectInput[]): PreparedCollect[] => {
    const datamap = t.runtime.vault.datamap;
    return inputs.map((input) => {
      t.runtime.vault.checkCollect(tester, input.collection, input.purpose);
      return prepareCollect(datamap, t.runtime.indexer, collectionSpec(datamap, input.collection), input);
    });
  };
  const order = (c: typeof alice, orderId: string): CollectInput => ({
    collection: 'order',
    identities: { oaid: c!.oaid },
    fields: { orderId, buyerNick: c!.nick },
    purpose: 'order-fulfilment',
  });
  const address = (c: typeof alice, at: number): CollectInput => ({
    collection: 'address',
    subjectOf: at,
    fields: { recipientName: c!.name, phone: c!.mobile, street: c!.address.street },
    purpose: 'order-fulfilment',
  });
  const records = async (subjectId: string): Promise<number> =>
    (await t.store.records.listForSubject(subjectId)).length;
  const subjects = async (): Promise<number> => (await t.store.subjects.count()).active;

  it('finds the buyer a batch planned before it makes, before that batch commits', async () => {
    const vault = t.runtime.vault;
    const first = prepare([order(alice, '1001'), address(alice, 0)]);
    const second = prepare([order(alice, '1002'), address(alice, 0), order(bob, '1003')]);
    const plan1 = await vault.planCollect(t.store, first, { ahead: true });
    const plan2 = await vault.planCollect(t.store, second, { ahead: true, carry: plan1.carry });
    expect(plan1.created).toHaveLength(1);
    // Alice is the first batch's new subject, with its key; Bob is new.
    expect(plan2.subjects[0]!.subjectId).toBe(plan1.subjects[0]!.subjectId);
    expect(plan2.subjects[0]!.created).toBe(false);
    expect(plan2.subjects[0]!.key).toBe(plan1.subjects[0]!.key);
    expect(plan2.created).toEqual([plan2.subjects[2]!.subjectId]);
    // Alice's OAID is written by the first batch only.
    expect(plan2.writes.filter((w) => w.record === 0)).toEqual([]);

    const before = await subjects();
    await t.store.transaction((tx) =>
      vault.commitCollect(tx, tester, first, plan1, vault.sealPlan(first, plan1)),
    );
    const results = await t.store.transaction((tx) =>
      vault.commitCollect(tx, tester, second, plan2, vault.sealPlan(second, plan2)),
    );
    expect(results.map((r) => r.created)).toEqual([false, false, true]);
    expect(await subjects()).toBe(before + 2);
    const [view] = await vault.search(tester, 'oaid', alice!.oaid, 'order-fulfilment');
    expect(
      view!.records.filter((r) => r.collection === 'order').map((r) => r.fields['orderId']?.value),
    ).toEqual(['1001', '1002']);
    expect(view!.records.some((r) => r.fields['recipientName']?.value === alice!.name)).toBe(true);
  });

  it('refuses a value that is not well-formed Unicode where the record is prepared, naming the field', () => {
    const datamap = t.runtime.vault.datamap;
    let refused: unknown;
    try {
      prepareCollect(datamap, t.runtime.indexer, collectionSpec(datamap, 'order'), {
        ...order(alice, '1005'),
        fields: { orderId: '1005', buyerNick: 'nick\ud800' },
      });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({
      code: 'ERR_VALIDATION_FAILED',
      details: { collection: 'order', fields: ['buyerNick'] },
    });
  });

  it('refuses the commit, writing nothing, when a known subject was erased, rekeyed or its consent withdrawn since', async () => {
    const vault = t.runtime.vault;
    const [known] = await vault.search(tester, 'oaid', bob!.oaid, 'order-fulfilment');
    const subjectId = known!.subjectId;
    const stored = await records(subjectId);

    // Consent withdrawn for a consent-based purpose (R4).
    await t.runtime.consent.record(tester, subjectId, {
      purpose: 'marketing',
      action: 'grant',
      channel: 'customer-service',
    });
    const profile = prepare([
      { collection: 'profile', subjectId, fields: { name: bob!.name }, purpose: 'marketing' },
    ]);
    const marketing = await vault.planCollect(t.store, profile, { ahead: true });
    await t.runtime.consent.record(tester, subjectId, {
      purpose: 'marketing',
      action: 'withdraw',
      channel: 'customer-service',
    });
    expect(
      await codeOf(
        t.store.transaction((tx) =>
          vault.commitCollect(tx, tester, profile, marketing, vault.sealPlan(profile, marketing)),
        ),
      ),
    ).toBe('ERR_CONSENT_WITHDRAWN');
    expect(await records(subjectId)).toBe(stored);

    // A new key version: the plan's envelopes would be under the old one.
    const again = prepare([order(bob, '1004')]);
    const rekeyed = await vault.planCollect(t.store, again, { ahead: true });
    await t.runtime.rotation.rotateSubjects({ olderThan: new Date(Date.now() + 60_000) });
    expect(
      await codeOf(
        t.store.transaction((tx) =>
          vault.commitCollect(tx, tester, again, rekeyed, vault.sealPlan(again, rekeyed)),
        ),
      ),
    ).toBe('ERR_STORE_CONFLICT');
    expect(await records(subjectId)).toBe(stored);

    // Erased.
    const erased = await vault.planCollect(t.store, again, { ahead: true });
    await vault.erase(tester, subjectId);
    expect(
      await codeOf(
        t.store.transaction((tx) =>
          vault.commitCollect(tx, tester, again, erased, vault.sealPlan(again, erased)),
        ),
      ),
    ).toBe('ERR_SUBJECT_ERASED');
    expect(await records(subjectId)).toBe(0);
  });
});

describe('a record with a platform identity in a declared field', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({
      edit: (yaml) =>
        yaml.replace(
          '\n    address:\n',
          `
        memberNo:
          category: identity.platform-id
          identity: memberId
          purposes: { customer-service: clear }
          retention: { keep: 3y, from: last-activity }

    address:
`,
        ),
    });
  });
  afterAll(() => t.close());

  it('is never merged into a subject by the email given beside it (R30)', async () => {
    const email = 'li.lei@example.com';
    const first = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      identities: { email },
      fields: { email },
      purpose: 'customer-service',
    });
    // A platform identity (a declared memberId field) is in the record: a phone or an email alone
    // no longer decides whose it is, so it makes a subject of its own.
    const second = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      identities: { email },
      fields: { memberNo: 'M-000123' },
      purpose: 'customer-service',
    });
    expect(second.created).toBe(true);
    expect(second.subjectId).not.toBe(first.subjectId);
  });
});
