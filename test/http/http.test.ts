import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustodianError, ERROR_CODES } from '../../src/domain/errors.js';
import { issueToken } from '../../src/services/tokens.js';
import { testApp, type TestApp } from '../support/app.js';

describe('HTTP shell', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  it('answers /healthz after checking the store', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', store: 'ok', engine: 'sqlite' });
  });

  it('answers /healthz with 503 problem+json when the store is down', async () => {
    const down = await testApp();
    await down.store.close();
    const res = await down.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({
      code: 'ERR_STORE_UNAVAILABLE',
      status: 503,
      type: '/problems/ERR_STORE_UNAVAILABLE',
    });
    await down.app.close();
  });

  it('publishes OpenAPI 3.1 describing the routes', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/healthz', '/v1/me']));
  });

  it('serves browsable docs at /docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('swagger-ui');
  });

  it('answers a busy store with 503 and Retry-After', async () => {
    const store = t.store as { transaction: typeof t.store.transaction };
    store.transaction = () =>
      Promise.reject(new CustodianError('ERR_STORE_BUSY', 'another connection holds the write lock'));
    try {
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/subjects/01890000-0000-7000-8000-000000000000?purpose=customer-service',
        headers: auth(t.testerToken),
      });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json()).toMatchObject({ code: 'ERR_STORE_BUSY' });
    } finally {
      delete (store as { transaction?: unknown }).transaction;
    }
  });

  it('refuses /v1 without a token with a 401 problem', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    const body = res.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      type: '/problems/ERR_AUTH_REQUIRED',
      code: 'ERR_AUTH_REQUIRED',
      status: 401,
    });
    expect(body['requestId']).toBe(res.headers['x-request-id']);
  });

  it('refuses unknown /v1 paths to anonymous callers with 401, not 404', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/does-not-exist' });
    expect(res.statusCode).toBe(401);
    const known = await t.app.inject({ method: 'GET', url: '/v1/does-not-exist', headers: auth(t.token) });
    expect(known.statusCode).toBe(404);
    expect(known.json()).toMatchObject({ code: 'ERR_ROUTE_NOT_FOUND' });
  });

  it('accepts the bootstrap token and reports the principal', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(t.token) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'token', name: 'bootstrap', role: 'security-admin' });
  });

  it('rejects malformed, unknown, revoked and expired tokens alike', async () => {
    const expired = await issueToken(t.store, {
      name: 'old',
      role: 'operator',
      expiresAt: new Date(Date.now() - 1000),
    });
    const revoked = await issueToken(t.store, { name: 'gone', role: 'operator' });
    await t.store.tokens.revoke(revoked.record.id, new Date().toISOString());
    const cases = [
      { authorization: 'Basic abc' },
      auth('not-a-token'),
      auth(`cst_${'A'.repeat(43)}`),
      auth(expired.token),
      auth(revoked.token),
    ];
    for (const headers of cases) {
      const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
    }
  });

  it('stores tokens only as hashes', async () => {
    const tokens = await t.store.tokens.list();
    expect(tokens.length).toBeGreaterThan(0);
    const { readFileSync } = await import('node:fs');
    const db = readFileSync(t.config.database.engine === 'sqlite' ? t.config.database.path : '');
    expect(db.includes(Buffer.from(t.token))).toBe(false);
  });

  it('sends security headers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
  });

  it('describes every error code at its problem type', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/problems/ERR_AUTH_REQUIRED' });
    expect(res.json()).toEqual({
      code: 'ERR_AUTH_REQUIRED',
      title: ERROR_CODES.ERR_AUTH_REQUIRED.title,
      status: 401,
    });
    expect((await t.app.inject({ method: 'GET', url: '/problems/ERR_NOPE' })).statusCode).toBe(404);
  });

  it('exposes Prometheus metrics labelled by route pattern', async () => {
    await t.app.inject({ method: 'GET', url: '/v1/me?phone=13800138000', headers: auth(t.token) });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('custodian_http_requests_total{method="GET",route="/v1/me",status="200"}');
    expect(res.body).not.toContain('13800138000');
  });

  it('logs route patterns and never headers, tokens or query strings', async () => {
    await t.app.inject({ method: 'GET', url: '/v1/me?phone=13912345678', headers: auth(t.token) });
    const all = t.logs.join('\n');
    expect(all).toContain('"route":"/v1/me"');
    expect(all).not.toContain('13912345678');
    expect(all).not.toContain(t.token);
    expect(all.toLowerCase()).not.toContain('authorization');
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ERR_ROUTE_NOT_FOUND' });
  });
});

describe('HTTP shell: rules every route follows', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  // The Swagger UI plugin serves static assets; they are not API routes and carry no data.
  const isDocsAsset = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

  it('declares a response schema (an allow-list) on every route', () => {
    const routes = t.app.routeTable.filter((r) => !isDocsAsset(r.url));
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['GET /healthz', 'GET /v1/me']),
    );
    for (const route of routes) {
      expect(route.schema?.['response'], `${route.method} ${route.url} has no response schema`).toBeDefined();
    }
  });

  it('declares request schemas for every input a route takes', () => {
    for (const route of t.app.routeTable.filter((r) => !isDocsAsset(r.url))) {
      const where = `${route.method} ${route.url}`;
      if (route.url.includes(':'))
        expect(route.schema?.['params'], `${where} has no params schema`).toBeDefined();
      if (['POST', 'PUT', 'PATCH'].includes(route.method))
        expect(route.schema?.['body'], `${where} has no body schema`).toBeDefined();
    }
  });

  it('turns validation failures into 400 problems that name paths, never values', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/problems/${'X'.repeat(80)}` });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ code: string; errors: { path: string; message: string }[] }>();
    expect(body.code).toBe('ERR_VALIDATION_FAILED');
    expect(body.errors[0]?.path).toBe('params.code');
    expect(res.body).not.toContain('X'.repeat(80));
  });
});

describe('HTTP shell: failures', () => {
  it('hides unexpected errors behind an opaque 500 with only a request id', async () => {
    const t = await testApp();
    const secret = 'Key (phone)=(13800138000) already exists';
    const failing = Object.create(t.store) as typeof t.store;
    Object.defineProperty(failing, 'ping', { value: () => Promise.reject(new Error(secret)) });
    const { buildApp } = await import('../../src/http/app.js');
    const { createLogger } = await import('../../src/http/logger.js');
    const lines: string[] = [];
    const { Writable } = await import('node:stream');
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { openRuntime } = await import('../../src/services/runtime.js');
    const runtime = await openRuntime(t.config, { store: failing, migrate: false });
    const app = await buildApp({ runtime, logger: createLogger('info', sink) });
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(500);
    const body = res.json<Record<string, unknown>>();
    expect(Object.keys(body).sort()).toEqual(['code', 'requestId', 'status', 'title', 'type']);
    expect(body['code']).toBe('ERR_SERVER_INTERNAL');
    expect(res.body).not.toContain('13800138000');
    expect(lines.join('')).toContain('unexpected error');
    expect(lines.join('')).not.toContain('13800138000');
    await app.close();
    await t.close();
  });

  it('rate-limits with a 429 problem', async () => {
    const t = await testApp({ edit: (y) => y.replace('max: 600 ', 'max: 3 ') });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.json()).toMatchObject({ code: 'ERR_RATE_LIMITED', status: 429 });
    expect(res.headers['retry-after']).toBeDefined();
    await t.close();
  });
});
