import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_NAMES, hasPermission, type Permission } from '../../src/domain/access/roles.js';
import { authenticate, issueToken, type Principal } from '../../src/services/tokens.js';
import { testApp, type TestApp } from '../support/app.js';
import { tester } from '../support/roles.js';

/**
 * The authorisation matrix, generated from the route table: every `/v1` route × every built-in
 * role × every purpose of the data map, with the outcome the policy predicts. A route without a
 * declared permission, or without a fixture here, fails this test — so no route ships unpoliced.
 */

interface Fixture {
  /** Whether the route acts for a purpose (then the role must be allowed that purpose too). */
  readonly purposeBound: boolean;
  /** Builds the request for `caller`, preparing whatever state it needs. */
  build(ctx: { caller: Principal; purpose: string; t: TestApp }): Promise<InjectOptions>;
  /** The status a permitted caller gets. */
  readonly ok: number;
  /** The error code a permitted caller gets instead, for purposes a business rule refuses. */
  readonly refused?: (purpose: string) => string | undefined;
}

/** Who receives an export for each purpose (R31): the registered processor or statutory recipient. */
const EXPORT_RECIPIENT: Readonly<Record<string, string>> = {
  'order-fulfilment': 'sf-express',
  'customs-clearance': 'china-customs',
};

async function subject(t: TestApp, purpose = 'order-fulfilment'): Promise<string> {
  const fields: Record<string, Record<string, string>> = {
    'order-fulfilment': { district: '西湖区' },
    'customer-service': { district: '西湖区' },
    'customs-clearance': { realName: '张三' },
    marketing: { name: '张三' },
  };
  const collection = {
    'order-fulfilment': 'address',
    'customer-service': 'address',
    'customs-clearance': 'customs',
    marketing: 'profile',
  }[purpose]!;
  const r = await t.runtime.vault.collect(tester, { collection, fields: fields[purpose]!, purpose });
  return r.subjectId;
}

const get = (url: string): Fixture => ({
  purposeBound: false,
  ok: 200,
  build: () => Promise.resolve({ method: 'GET', url }),
});

const FIXTURES: Readonly<Record<string, Fixture>> = {
  'GET /v1/audit-log/public-key': get('/v1/audit-log/public-key'),
  'GET /v1/audit-log/checkpoints/latest': {
    purposeBound: false,
    ok: 200,
    build: async ({ t }) => {
      await t.runtime.auditLog.checkpoint();
      return { method: 'GET', url: '/v1/audit-log/checkpoints/latest' };
    },
  },
  'GET /v1/audit-log/entries': get('/v1/audit-log/entries?start=0&end=2'),
  'GET /v1/audit-log/proofs/inclusion': get('/v1/audit-log/proofs/inclusion?leafIndex=0&treeSize=2'),
  'GET /v1/audit-log/proofs/consistency': get('/v1/audit-log/proofs/consistency?first=1&second=2'),
  'GET /v1/me': get('/v1/me'),
  'POST /v1/records': {
    purposeBound: true,
    ok: 201,
    build: ({ purpose }) =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/records',
        payload: {
          collection:
            purpose === 'marketing' ? 'profile' : purpose === 'customs-clearance' ? 'customs' : 'address',
          fields:
            purpose === 'marketing'
              ? { name: '李四' }
              : purpose === 'customs-clearance'
                ? { realName: '李四' }
                : { district: '上城区' },
          purpose,
        },
      }),
  },
  'GET /v1/subjects/:id': {
    purposeBound: true,
    ok: 200,
    build: async ({ purpose, t }) => ({
      method: 'GET',
      url: `/v1/subjects/${await subject(t, purpose)}?purpose=${purpose}`,
    }),
  },
  'GET /v1/subjects': {
    purposeBound: true,
    ok: 200,
    build: ({ purpose }) =>
      Promise.resolve({ method: 'GET', url: `/v1/subjects?oaid=nobody&purpose=${purpose}` }),
  },
  'DELETE /v1/subjects/:id': {
    purposeBound: false,
    ok: 200,
    build: async ({ t }) => ({ method: 'DELETE', url: `/v1/subjects/${await subject(t)}` }),
  },
  'POST /v1/break-glass': {
    purposeBound: true,
    ok: 201,
    build: async ({ purpose, t }) => ({
      method: 'POST',
      url: '/v1/break-glass',
      payload: {
        subjectId: await subject(t, purpose),
        purpose,
        justification: 'the matrix needs it',
        ticket: 'M-1',
        minutes: 5,
      },
    }),
  },
  'GET /v1/break-glass/reviews': {
    purposeBound: false,
    ok: 200,
    build: () => Promise.resolve({ method: 'GET', url: '/v1/break-glass/reviews' }),
  },
  'POST /v1/break-glass/:id/review': {
    purposeBound: false,
    ok: 200,
    build: async ({ t }) => {
      const grant = await t.runtime.oversight.requestBreakGlass(tester, {
        subjectId: await subject(t),
        purpose: 'order-fulfilment',
        justification: 'prepared for a review',
        ticket: 'M-2',
      });
      return {
        method: 'POST',
        url: `/v1/break-glass/${grant.id}/review`,
        payload: { outcome: 'justified', note: 'ok' },
      };
    },
  },
  'POST /v1/exports': {
    purposeBound: true,
    ok: 201,
    // R31: buyer data leaves only for a registered processor (fulfilment) or a statutory recipient.
    refused: (purpose) => (EXPORT_RECIPIENT[purpose] === undefined ? 'ERR_TMALL_EXPORT_REFUSED' : undefined),
    build: async ({ purpose, t }) => ({
      method: 'POST',
      url: '/v1/exports',
      payload: {
        purpose,
        subjectIds: [await subject(t, purpose)],
        recipient: { kind: 'passphrase' },
        ...(EXPORT_RECIPIENT[purpose] === undefined ? {} : { recipientId: EXPORT_RECIPIENT[purpose] }),
      },
    }),
  },
  'GET /v1/exports': {
    purposeBound: false,
    ok: 200,
    build: () => Promise.resolve({ method: 'GET', url: '/v1/exports?status=pending' }),
  },
  'POST /v1/exports/:id/decision': {
    purposeBound: false,
    ok: 200,
    build: async ({ t }) => {
      const ids = [await subject(t), await subject(t), await subject(t)];
      const e = await t.runtime.oversight.requestExport(tester, {
        purpose: 'order-fulfilment',
        subjectIds: ids,
        recipient: { kind: 'passphrase' },
        recipientId: 'sf-express',
      });
      return { method: 'POST', url: `/v1/exports/${e.id}/decision`, payload: { approve: true, note: 'ok' } };
    },
  },
  'POST /v1/exports/:id/download': {
    purposeBound: false,
    ok: 200,
    build: async ({ caller, t }) => {
      // The caller downloads its own export (only the requester may); the service does not check
      // permissions, the route does — so the request is filed directly.
      const purpose = 'order-fulfilment';
      const callerMayUse = t.runtime.policy.permitsPurpose(caller.role, purpose);
      const requester = callerMayUse ? caller : tester;
      const e = await t.runtime.oversight.requestExport(requester, {
        purpose,
        subjectIds: [await subject(t)],
        recipient: { kind: 'passphrase' },
        recipientId: 'sf-express',
      });
      return {
        method: 'POST',
        url: `/v1/exports/${e.id}/download`,
        payload: { passphrase: 'a long enough passphrase' },
      };
    },
  },
  // Recording a consent is not bound to the caller's purposes: customer service relays a
  // customer's marketing consent without acting for marketing.
  'POST /v1/subjects/:id/consents': {
    purposeBound: false,
    ok: 201,
    build: async ({ t }) => {
      await t.runtime.privacyPolicy.publish();
      return {
        method: 'POST',
        url: `/v1/subjects/${await subject(t)}/consents`,
        payload: { purpose: 'marketing', action: 'grant', channel: 'customer-service' },
      };
    },
  },
  'GET /v1/subjects/:id/consents': {
    purposeBound: false,
    ok: 200,
    build: async ({ t }) => ({ method: 'GET', url: `/v1/subjects/${await subject(t)}/consents` }),
  },
  'POST /v1/privacy/notices': {
    purposeBound: false,
    ok: 201,
    build: () =>
      Promise.resolve({
        method: 'POST',
        url: '/v1/privacy/notices',
        payload: { title: { 'zh-CN': '通知', en: 'Notice' }, body: { 'zh-CN': '正文', en: 'Body' } },
      }),
  },
  'POST /v1/privacy/embed-tokens': {
    purposeBound: false,
    ok: 201,
    build: async ({ t }) => ({
      method: 'POST',
      url: '/v1/privacy/embed-tokens',
      payload: { subjectId: await subject(t) },
    }),
  },
};

/**
 * Routes the matrix does not cover because no staff role reaches them: the public shell, the
 * customers' privacy centre (its own customer sessions and embed tokens) and staff sign-in and
 * sign-out. A new route must be added here on purpose, or get a `/v1` permission and a fixture.
 */
const OUTSIDE_THE_MATRIX = [
  'GET /healthz',
  'GET /metrics',
  'GET /openapi.json',
  'GET /problems/:code',
  'GET /.well-known/jwks.json',
  'GET /privacy',
  'GET /privacy/policy',
  'GET /privacy/versions',
  'GET /privacy/notices',
  'GET /privacy/notices.atom',
  'GET /privacy/sign-in',
  'POST /privacy/sign-in',
  'GET /privacy/sign-in/code',
  'POST /privacy/sign-in/code',
  'POST /privacy/sign-out',
  'GET /privacy/account',
  'POST /privacy/account/consents',
  'GET /privacy/account/receipts/:receiptId',
  'POST /privacy/account/requests',
  'GET /privacy/embed/consent.js',
  'GET /privacy/embed/purposes.json',
  'OPTIONS /privacy/embed/consents',
  'GET /privacy/embed/consents',
  'POST /privacy/embed/consents',
  'POST /v1/auth/sign-in',
  'POST /v1/auth/sign-out',
];

describe('authorisation matrix: every /v1 route × role × purpose', () => {
  let t: TestApp;
  const principals = new Map<string, { token: string; principal: Principal }>();
  beforeAll(async () => {
    t = await testApp({
      edit: (y) =>
        y
          .replace('max: 600 ', 'max: 1000000 ')
          .replace(
            'log:\n  level: info\n',
            'log:\n  level: info\naccess:\n  exportApproval:\n    threshold: 2\n',
          ),
    });
    for (const role of BUILT_IN_ROLE_NAMES) {
      const { token } = await issueToken(t.store, { name: `matrix-${role}`, role });
      principals.set(role, { token, principal: await authenticate(t.store, token) });
    }
  });
  afterAll(() => t.close());

  it('has a declared permission and a fixture for every /v1 route', () => {
    const routes = t.app.routeTable.filter((r) => r.url.startsWith('/v1/'));
    const missing = routes.filter((r) => r.permission === undefined).map((r) => `${r.method} ${r.url}`);
    expect(missing, 'routes without a permission').toEqual([]);
    const unfixtured = routes
      .filter((r) => r.permission !== 'public' && FIXTURES[`${r.method} ${r.url}`] === undefined)
      .map((r) => `${r.method} ${r.url}`);
    expect(unfixtured, 'routes without a matrix fixture').toEqual([]);
  });

  it('leaves out only the routes no staff role reaches, each named', () => {
    const outside = t.app.routeTable
      .filter((r) => !r.url.startsWith('/docs'))
      .filter((r) => !r.url.startsWith('/v1/') || r.permission === 'public')
      .map((r) => `${r.method} ${r.url}`);
    expect(outside.sort()).toEqual([...OUTSIDE_THE_MATRIX].sort());
    // The browsable docs are the only other routes: Swagger UI's pages and assets.
    for (const r of t.app.routeTable.filter((r) => r.url.startsWith('/docs'))) expect(r.method).toBe('GET');
  });

  it('gives every role exactly what the policy says', async () => {
    const purposes = t.config.datamap.purposes.map((p) => p.id);
    const routes = t.app.routeTable.filter(
      (r) => r.url.startsWith('/v1/') && r.permission !== undefined && r.permission !== 'public',
    );
    const mismatches: string[] = [];
    let cells = 0;
    for (const route of routes) {
      const fixture = FIXTURES[`${route.method} ${route.url}`];
      if (fixture === undefined) continue; // reported by the test above
      for (const role of BUILT_IN_ROLE_NAMES) {
        const { token, principal } = principals.get(role)!;
        for (const purpose of fixture.purposeBound ? purposes : ['order-fulfilment']) {
          const permitted =
            route.permission === 'authenticated' ||
            hasPermission(t.runtime.policy.roles, role, route.permission as Permission);
          const purposeOk = !fixture.purposeBound || t.runtime.policy.permitsPurpose(role, purpose);
          const expected = !permitted
            ? 'ERR_ACCESS_DENIED'
            : !purposeOk
              ? 'ERR_PURPOSE_NOT_PERMITTED'
              : (fixture.refused?.(purpose) ?? fixture.ok);
          const request = await fixture.build({ caller: principal, purpose, t });
          const res = await t.app.inject({
            ...request,
            headers: { ...request.headers, authorization: `Bearer ${token}` },
          });
          const got = res.statusCode >= 400 ? res.json<{ code: string }>().code : res.statusCode;
          cells++;
          if (got !== expected)
            mismatches.push(
              `${route.method} ${route.url} as ${role} for ${purpose}: expected ${expected}, got ${got}`,
            );
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(cells).toBeGreaterThan(100);
  });

  it('gives an auditor key no personal data, a marketing key no national id', async () => {
    const auditor = principals.get('auditor')!;
    const id = await subject(t, 'customs-clearance');
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects/${id}?purpose=customs-clearance`,
      headers: { authorization: `Bearer ${auditor.token}` },
    });
    expect(res.json()).toMatchObject({ code: 'ERR_ACCESS_DENIED' });
    await t.runtime.vault.collect(tester, {
      collection: 'customs',
      subjectId: id,
      fields: { nationalId: '11010519491231002X' },
      purpose: 'customs-clearance',
    });
    const marketing = principals.get('marketing')!;
    const view = await t.runtime.vault.read({ ...marketing.principal }, id, 'marketing');
    for (const record of view.records) {
      if (record.fields['nationalId']) expect(record.fields['nationalId'].access).toBe('withheld');
    }
    const json = JSON.stringify(view);
    expect(json).not.toContain('11010519491231002X');
  });
});
