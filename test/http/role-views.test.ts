import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLES } from '../../src/domain/access/roles.js';
import { issueToken } from '../../src/services/tokens.js';
import { withAccess } from '../access/helpers.js';
import { testApp, type TestApp } from '../support/app.js';
import { tester } from '../support/roles.js';

/**
 * Issue 5 acceptance, end to end: what an API key of each built-in role gets over HTTP. The values
 * are synthetic; no assertion message prints one.
 */
const PHONE = '13812341234';
const NATIONAL_ID = '11010519491231002X';
const NAME = '张三丰';
const REAL_NAME = '张君宝';
const OAID = 'role-views-oaid';

type FieldView = { access: string; value?: string; reason?: string };
type View = { records: { collection: string; fields: Record<string, FieldView> }[] };

/** One buyer with an address, a profile and a customs declaration; returns the subject id. */
async function buyer(t: TestApp): Promise<string> {
  const { vault } = t.runtime;
  const { subjectId } = await vault.collect(tester, {
    collection: 'address',
    identities: { oaid: OAID },
    fields: { recipientName: NAME, phone: PHONE, district: '西湖区' },
    purpose: 'order-fulfilment',
  });
  await vault.collect(tester, {
    collection: 'profile',
    subjectId,
    fields: { name: NAME, phone: PHONE },
    purpose: 'marketing',
  });
  await vault.collect(tester, {
    collection: 'customs',
    subjectId,
    fields: { realName: REAL_NAME, nationalId: NATIONAL_ID },
    purpose: 'customs-clearance',
  });
  return subjectId;
}

/** Every field of every record named `field`, across collections. */
function fieldsNamed(view: View, field: string): FieldView[] {
  return view.records.flatMap((r) => (r.fields[field] === undefined ? [] : [r.fields[field]]));
}

/** Whether the body holds the value in clear; a boolean, so a failure prints no value. */
const holds = (body: string, value: string): boolean => body.includes(value);

describe('what each role’s API key sees over HTTP', () => {
  let t: TestApp;
  let subjectId: string;
  const keys = new Map<string, string>();
  const as = (role: string, url: string, method: 'GET' | 'POST' = 'GET', payload?: object) =>
    t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${keys.get(role)!}` },
      ...(payload === undefined ? {} : { payload }),
    });

  beforeAll(async () => {
    t = await testApp();
    subjectId = await buyer(t);
    for (const role of ['operator', 'marketing', 'auditor']) {
      keys.set(role, (await issueToken(t.store, { name: `views-${role}`, role })).token);
    }
  });
  afterAll(() => t.close());

  it('an operator key reading for order-fulfilment sees the phone as 138****1234', async () => {
    const res = await as('operator', `/v1/subjects/${subjectId}?purpose=order-fulfilment`);
    expect(res.statusCode).toBe(200);
    const view = res.json<View>();
    const address = view.records.find((r) => r.collection === 'address')!;
    expect(address.fields['phone']).toEqual({ access: 'masked', value: '138****1234' });
    expect(address.fields['district']).toEqual({ access: 'clear', value: '西湖区' });
    expect(holds(res.body, PHONE)).toBe(false);
    // The same through a search by identity.
    const found = await as('operator', `/v1/subjects?oaid=${OAID}&purpose=order-fulfilment`);
    expect(found.statusCode).toBe(200);
    expect(holds(found.body, PHONE)).toBe(false);
    expect(found.body).toContain('138****1234');
  });

  it('a marketing key gets no national id, for its own purpose or any other', async () => {
    const res = await as('marketing', `/v1/subjects/${subjectId}?purpose=marketing`);
    expect(res.statusCode).toBe(200);
    const view = res.json<View>();
    // The customs record is there, its identity fields withheld: not merely missing from the view.
    const ids = fieldsNamed(view, 'nationalId');
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatchObject({ access: 'withheld' });
    expect(ids[0]!.value).toBeUndefined();
    expect(fieldsNamed(view, 'realName').every((f) => f.access === 'withheld' && f.value === undefined)).toBe(
      true,
    );
    // Neither in clear nor masked (110***********002X), nor any run of its digits.
    expect(holds(res.body, NATIONAL_ID)).toBe(false);
    expect(holds(res.body, NATIONAL_ID.slice(-4))).toBe(false);
    expect(holds(res.body, NATIONAL_ID.slice(0, 6))).toBe(false);
    for (const purpose of ['customs-clearance', 'order-fulfilment', 'customer-service']) {
      const other = await as('marketing', `/v1/subjects/${subjectId}?purpose=${purpose}`);
      expect(other.statusCode, purpose).toBe(403);
      expect(other.json(), purpose).toMatchObject({ code: 'ERR_PURPOSE_NOT_PERMITTED' });
      expect(holds(other.body, NATIONAL_ID.slice(-4)), purpose).toBe(false);
    }
  });

  it('an auditor key gets no personal data from any route, and an audit log without it', async () => {
    const purposes = t.config.datamap.purposes.map((p) => p.id);
    const attempts = purposes.flatMap((purpose) => [
      as('auditor', `/v1/subjects/${subjectId}?purpose=${purpose}`),
      as('auditor', `/v1/subjects?oaid=${OAID}&purpose=${purpose}`),
      as('auditor', `/v1/subjects?phone=${PHONE}&purpose=${purpose}`),
      as('auditor', '/v1/exports', 'POST', {
        purpose,
        subjectIds: [subjectId],
        recipient: { kind: 'passphrase' },
      }),
      as('auditor', '/v1/break-glass', 'POST', {
        subjectId,
        purpose,
        justification: 'an auditor wants to look',
        ticket: 'A-1',
      }),
    ]);
    attempts.push(as('auditor', `/v1/subjects/${subjectId}/consents`));
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    }

    // What the auditor may read: the audit log, which records every touch above without values.
    const entries = await as('auditor', '/v1/audit-log/entries?start=0');
    expect(entries.statusCode).toBe(200);
    const page = entries.json<{ treeSize: number; entries: { canonical: string }[] }>();
    // The whole log fits this page; the three collects are in it.
    expect(page.entries).toHaveLength(page.treeSize);
    expect(page.treeSize).toBeGreaterThanOrEqual(3);
    const log = page.entries.map((e) => Buffer.from(e.canonical, 'base64').toString('utf8')).join('\n');
    expect(log.match(/"action":"collect"/g)).toHaveLength(3);
    for (const value of [PHONE, NATIONAL_ID, NAME, REAL_NAME, OAID]) expect(holds(log, value)).toBe(false);
    expect(BUILT_IN_ROLES['auditor']!.purposes).toEqual([]);
  });
});

describe('an operator key when the policy grants the phone in clear', () => {
  it('sees the phone in clear for order-fulfilment, still masked for customer-service', async () => {
    const operator = BUILT_IN_ROLES['operator']!;
    const t = await testApp({
      edit: withAccess(
        [
          'roles:',
          '  operator:',
          `    permissions: [${operator.permissions.join(', ')}]`,
          `    purposes: [${operator.purposes.join(', ')}]`,
          "    grants: { 'contact.phone': clear, 'location.region': clear }",
        ].join('\n'),
      ),
    });
    try {
      const subjectId = await buyer(t);
      const { token } = await issueToken(t.store, { name: 'generous-operator', role: 'operator' });
      const read = async (purpose: string) =>
        (
          await t.app.inject({
            method: 'GET',
            url: `/v1/subjects/${subjectId}?purpose=${purpose}`,
            headers: { authorization: `Bearer ${token}` },
          })
        ).json<View>();
      const fulfilment = (await read('order-fulfilment')).records.find((r) => r.collection === 'address')!;
      expect(fulfilment.fields['phone']?.access).toBe('clear');
      expect(fulfilment.fields['phone']?.value === PHONE).toBe(true);
      // The data map gives customer service the phone masked; no role grant lifts that.
      const service = (await read('customer-service')).records.find((r) => r.collection === 'address')!;
      expect(service.fields['phone']).toEqual({ access: 'masked', value: '138****1234' });
    } finally {
      await t.close();
    }
  });
});
