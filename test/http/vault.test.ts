import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { testApp, type TestApp } from '../support/app.js';

/** `POST /v1/records` as the test app's tester. */
const postRecord = (t: TestApp, payload: object) =>
  t.app.inject({
    method: 'POST',
    url: '/v1/records',
    headers: { authorization: `Bearer ${t.testerToken}` },
    payload,
  });

describe('vault over HTTP', () => {
  let t: TestApp;
  let headers: Record<string, string>;
  const [c] = generateCustomers('http-vault', 1);
  beforeAll(async () => {
    t = await testApp();
    headers = { authorization: `Bearer ${t.testerToken}` };
  });
  afterAll(() => t.close());

  const post = (payload: unknown) => postRecord(t, payload as object);

  it('collects a record (201) and reads it back per purpose', async () => {
    const res = await post({
      collection: 'address',
      identities: { oaid: c!.oaid },
      fields: { recipientName: c!.name, phone: c!.mobile, city: c!.address.city, street: c!.address.street },
      purpose: 'order-fulfilment',
      source: 'tmall-store',
    });
    expect(res.statusCode).toBe(201);
    const { subjectId, recordId, created } = res.json<{
      subjectId: string;
      recordId: string;
      created: boolean;
    }>();
    expect(created).toBe(true);
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects/${subjectId}?purpose=customer-service`,
      headers,
    });
    expect(read.statusCode).toBe(200);
    const body = read.json<{
      subjectId: string;
      records: { recordId: string; collection: string; fields: Record<string, unknown> }[];
    }>();
    expect(body.subjectId).toBe(subjectId);
    expect(body.records[0]?.recordId).toBe(recordId);
    expect(body.records[0]?.fields['phone']).toEqual({
      access: 'masked',
      value: `${c!.mobile.slice(0, 3)}****${c!.mobile.slice(7)}`,
    });
    expect(body.records[0]?.fields['city']).toEqual({ access: 'clear', value: c!.address.city });
    const marketing = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects/${subjectId}?purpose=marketing`,
      headers,
    });
    expect(marketing.json<typeof body>().records[0]?.fields['street']).toEqual({
      access: 'withheld',
      reason: 'not-needed-for-purpose',
    });
  });

  it('searches by exactly one identity', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects?oaid=${c!.oaid}&purpose=order-fulfilment`,
      headers,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ subjects: unknown[] }>().subjects).toHaveLength(1);
    const both = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects?oaid=x&phone=y&purpose=order-fulfilment`,
      headers,
    });
    expect(both.statusCode).toBe(400);
    expect(both.json()).toMatchObject({ code: 'ERR_VALIDATION_FAILED' });
  });

  it('requires a purpose for reads and searches', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/v1/subjects?oaid=${c!.oaid}`, headers });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toContain(
      'querystring.purpose',
    );
    const unknown = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects?oaid=${c!.oaid}&purpose=resale`,
      headers,
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'ERR_PURPOSE_UNKNOWN' });
  });

  it('refuses undeclared fields with 422 naming them, and stores nothing', async () => {
    const before = await t.store.subjects.count();
    const res = await post({
      collection: 'profile',
      identities: { oaid: 'new-oaid' },
      fields: { name: '王五', idCardPhoto: 'data' },
      purpose: 'marketing',
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      code: 'ERR_COLLECT_UNDECLARED_FIELDS',
      details: { fields: ['idCardPhoto'] },
    });
    expect(await t.store.subjects.count()).toEqual(before);
  });

  it('refuses fields the stated purpose does not need with 422 naming them, and stores nothing', async () => {
    // A known subject, so "nothing stored" means no record added to it, not just no new subject.
    const first = await post({
      collection: 'profile',
      identities: { oaid: 'minimise-oaid' },
      fields: { name: '王五' },
      purpose: 'customer-service',
    });
    expect(first.statusCode).toBe(201);
    const { subjectId } = first.json<{ subjectId: string }>();
    const subjects = await t.store.subjects.count();
    const records = (await t.store.records.listForSubject(subjectId)).length;

    // birthDate is declared, but only marketing needs it; customer service does not.
    const res = await post({
      collection: 'profile',
      subjectId,
      fields: { name: '王五', birthDate: '1990-01-01' },
      purpose: 'customer-service',
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'ERR_COLLECT_FIELDS_NOT_NEEDED',
      details: { fields: ['birthDate'] },
    });
    expect(res.body).not.toContain('1990-01-01');
    expect(await t.store.subjects.count()).toEqual(subjects);
    expect(await t.store.records.listForSubject(subjectId)).toHaveLength(records);
  });

  it('reports masked free text in the response, by type and never by value', async () => {
    const id = '11010519491231002X';
    const res = await post({
      collection: 'order',
      fields: { orderId: 'T2026000000001', buyerMessage: `开发票用，身份证号${id}` },
      purpose: 'order-fulfilment',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      stripped: [],
      screened: [{ field: 'buyerMessage', action: 'masked', types: ['national-id'] }],
    });
    expect(res.body).not.toContain(id);
  });

  it('answers malformed bodies with a 400 problem and changes nothing', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { ...headers, 'content-type': 'application/json' },
      payload: '{"collection":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    const extra = await post({
      collection: 'profile',
      fields: { name: 'x' },
      purpose: 'marketing',
      admin: true,
    });
    expect(extra.statusCode).toBe(400);
    const proto = await t.app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { ...headers, 'content-type': 'application/json' },
      payload:
        '{"collection":"profile","fields":{"name":"x"},"purpose":"marketing","__proto__":{"polluted":true}}',
    });
    expect(proto.statusCode).toBe(400);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('erases a subject, returns a receipt, and answers 410 afterwards', async () => {
    const res = await post({ collection: 'profile', fields: { name: '赵六' }, purpose: 'marketing' });
    const { subjectId } = res.json<{ subjectId: string }>();
    const del = await t.app.inject({ method: 'DELETE', url: `/v1/subjects/${subjectId}`, headers });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({
      erased: true,
      receipt: { subjectId, keyVersionsDestroyed: 1, recordsDeleted: 1 },
    });
    const gone = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects/${subjectId}?purpose=marketing`,
      headers,
    });
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ code: 'ERR_SUBJECT_ERASED', type: '/problems/ERR_SUBJECT_ERASED' });
    const missing = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects/01890000-0000-7000-8000-000000000000?purpose=marketing`,
      headers,
    });
    expect(missing.statusCode).toBe(404);
    const notUuid = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects/not-a-uuid?purpose=marketing`,
      headers,
    });
    expect(notUuid.statusCode).toBe(400);
  });

  it('describes the vault routes in OpenAPI', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(Object.keys(doc.paths['/v1/records'] ?? {})).toContain('post');
    expect(Object.keys(doc.paths['/v1/subjects/{id}'] ?? {}).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths['/v1/subjects'] ?? {})).toContain('get');
  });
});

describe('vault over HTTP: minimise: strip', () => {
  it('drops the fields the purpose does not need, stores the rest and reports what it dropped', async () => {
    const t = await testApp({
      edit: (y) =>
        y.replace(
          "    profile:\n      description: The customer's own account details.\n",
          "    profile:\n      description: The customer's own account details.\n      minimise: strip\n",
        ),
    });
    try {
      expect(t.config.datamap.collections['profile']?.minimise).toBe('strip');
      const res = await postRecord(t, {
        collection: 'profile',
        fields: { name: '王五', birthDate: '1990-01-01' },
        purpose: 'customer-service',
      });
      expect(res.statusCode).toBe(201);
      const body = res.json<{ subjectId: string; stripped: string[]; screened: unknown[] }>();
      expect(body).toMatchObject({ stripped: ['birthDate'], screened: [] });
      const view = await t.app.inject({
        method: 'GET',
        url: `/v1/subjects/${body.subjectId}?purpose=marketing`,
        headers: { authorization: `Bearer ${t.testerToken}` },
      });
      const fields = view.json<{ records: { fields: Record<string, unknown> }[] }>().records[0]!.fields;
      expect(Object.keys(fields)).toEqual(['name']);
    } finally {
      await t.close();
    }
  });
});
