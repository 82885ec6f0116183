import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import type { TotpEnrolment } from '../../src/services/staff.js';
import { testApp, type TestApp } from '../support/app.js';
import { MINUTE, SECOND, testClock, totpAt, trustingProxy, withAccess, type TestClock } from './helpers.js';

const ADMIN = { id: 'test-admin', role: 'security-admin' };
const PASSWORD = 'correct horse battery staple';
const CSRF = { 'x-custodian-csrf': '1' };

interface Account {
  readonly username: string;
  readonly totp: TotpEnrolment;
}

async function account(t: TestApp, username: string, role = 'operator'): Promise<Account> {
  const { totp } = await t.runtime.staff.add({ username, role, password: PASSWORD }, ADMIN);
  return { username, totp };
}

async function signIn(
  t: TestApp,
  clock: TestClock,
  who: Account,
  options: { headers?: Record<string, string>; cookie?: string; totp?: string } = {},
) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/auth/sign-in',
    headers: options.headers ?? CSRF,
    ...(options.cookie === undefined ? {} : { cookies: { custodian_session: options.cookie } }),
    payload: {
      username: who.username,
      password: PASSWORD,
      totp: options.totp ?? (await totpAt(who.totp.secret, clock.now())),
    },
  });
}

function sessionOf(res: { cookies: { name: string; value: string }[] }): string {
  const cookie = res.cookies.find((c) => c.name === 'custodian_session');
  if (!cookie) throw new Error('no session cookie');
  return cookie.value;
}

const me = (t: TestApp, session: string) =>
  t.app.inject({ method: 'GET', url: '/v1/me', cookies: { custodian_session: session } });

describe('staff sessions over HTTP', () => {
  let t: TestApp;
  let clock: TestClock;
  beforeAll(async () => {
    clock = testClock();
    t = await testApp({ now: clock.now });
  });
  afterAll(() => t.close());

  it('signs in and sets an httpOnly, SameSite=Strict session cookie (not Secure over plain HTTP)', async () => {
    const who = await account(t, 'cookie-monster');
    const res = await signIn(t, clock, who);
    expect(res.statusCode).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^custodian_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).toContain('Max-Age=43200');
    expect(setCookie).not.toContain('Secure');
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{
      principal: Record<string, unknown>;
      expiresAt: string;
      idleTimeoutSeconds: number;
    }>();
    expect(body.principal).toMatchObject({
      kind: 'staff',
      name: 'cookie-monster',
      role: 'operator',
      trainingCurrent: true,
    });
    expect(body.idleTimeoutSeconds).toBe(1800);
    expect(res.body).not.toContain(sessionOf(res));

    const who2 = await me(t, sessionOf(res));
    expect(who2.statusCode).toBe(200);
    expect(who2.json()).toEqual(body.principal);
  });

  it('refuses a sign-in without a valid TOTP code, with one code for every cause and no cookie', async () => {
    const who = await account(t, 'no-code');
    for (const totp of ['', '000000']) {
      clock.advance(20 * SECOND);
      const res = await signIn(t, clock, who, { totp });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    clock.advance(20 * SECOND);
    const missing = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/sign-in',
      headers: CSRF,
      payload: { username: who.username, password: PASSWORD },
    });
    expect(missing.json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/sign-in',
      headers: CSRF,
      payload: { username: 'nobody', password: PASSWORD, totp: '123456' },
    });
    expect(unknown.json()).toMatchObject({
      code: 'ERR_AUTH_INVALID',
      detail: missing.json<{ detail: string }>().detail,
    });
  });

  it('answers a retry inside the back-off with 429 and Retry-After, and a lockout with 423', async () => {
    const who = await account(t, 'hasty');
    const wrong = await signIn(t, clock, who, { totp: '000000' });
    expect(wrong.statusCode).toBe(401);
    const again = await signIn(t, clock, who);
    expect(again.statusCode).toBe(429);
    expect(again.json()).toMatchObject({ code: 'ERR_RATE_LIMITED', details: { retryAfterSeconds: 1 } });
    expect(again.headers['retry-after']).toBe('1');
    for (const wait of [1, 2, 4, 8]) {
      clock.advance(wait * SECOND);
      expect((await signIn(t, clock, who, { totp: '000000' })).statusCode).toBe(401);
    }
    const locked = await signIn(t, clock, who);
    expect(locked.statusCode).toBe(423);
    expect(locked.json()).toMatchObject({ code: 'ERR_AUTH_LOCKED', details: { retryAfterSeconds: 900 } });
    expect(locked.headers['retry-after']).toBe('900');
    clock.advance(15 * MINUTE);
    expect((await signIn(t, clock, who)).statusCode).toBe(200);
  });

  it('rotates the session at sign-in: the old cookie stops working', async () => {
    const who = await account(t, 'rotator');
    const first = sessionOf(await signIn(t, clock, who));
    expect((await me(t, first)).statusCode).toBe(200);
    clock.advance(30 * SECOND);
    const second = sessionOf(await signIn(t, clock, who, { cookie: first }));
    expect(second).not.toBe(first);
    const old = await me(t, first);
    expect(old.statusCode).toBe(401);
    expect(old.json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
    expect((await me(t, second)).statusCode).toBe(200);
  });

  it('signs out: the cookie is cleared and the session ends', async () => {
    const who = await account(t, 'leaver');
    const session = sessionOf(await signIn(t, clock, who));
    const out = await t.app.inject({
      method: 'POST',
      url: '/v1/auth/sign-out',
      headers: CSRF,
      cookies: { custodian_session: session },
    });
    expect(out.statusCode).toBe(200);
    expect(out.json()).toEqual({ signedOut: true });
    expect(String(out.headers['set-cookie'])).toMatch(
      /^custodian_session=; Max-Age=0; Path=\/; Expires=Thu, 01 Jan 1970/,
    );
    expect((await me(t, session)).json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
    const anonymous = await t.app.inject({ method: 'POST', url: '/v1/auth/sign-out' });
    expect(anonymous.json()).toEqual({ signedOut: false });
  });

  it('ends idle sessions and sessions past the absolute timeout', async () => {
    const who = await account(t, 'sleeper');
    const idle = sessionOf(await signIn(t, clock, who));
    clock.advance(29 * MINUTE);
    expect((await me(t, idle)).statusCode).toBe(200);
    clock.advance(30 * MINUTE);
    const expired = await me(t, idle);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });

    const busy = sessionOf(await signIn(t, clock, who));
    for (let i = 0; i < 47; i++) {
      clock.advance(15 * MINUTE);
      expect((await me(t, busy)).statusCode).toBe(200);
    }
    clock.advance(15 * MINUTE);
    expect((await me(t, busy)).json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
  });

  it('refuses the session of a disabled account', async () => {
    const who = await account(t, 'departed');
    const session = sessionOf(await signIn(t, clock, who));
    await t.runtime.staff.disable(who.username, ADMIN);
    expect((await me(t, session)).json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
  });

  it('protects cookie-authenticated unsafe requests against CSRF; bearer requests need no proof', async () => {
    const who = await account(t, 'csrf-target');
    const session = sessionOf(await signIn(t, clock, who));
    const post = (headers: Record<string, string>, cookie = true) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/records',
        headers,
        ...(cookie ? { cookies: { custodian_session: session } } : {}),
        payload: { collection: 'address', fields: { city: '杭州' }, purpose: 'order-fulfilment' },
      });
    for (const headers of [
      {},
      { 'x-custodian-csrf': '0' },
      { 'sec-fetch-site': 'cross-site' },
      { origin: 'https://evil.example' },
    ]) {
      const res = await post(headers);
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'ERR_CSRF_REJECTED' });
    }
    for (const headers of [CSRF, { 'sec-fetch-site': 'same-origin' }, { origin: 'http://localhost:80' }]) {
      const res = await post(headers);
      expect(res.json<{ code?: string }>().code).not.toBe('ERR_CSRF_REJECTED');
      expect(res.statusCode).not.toBe(401);
    }
    const bearer = await post({ authorization: `Bearer ${t.testerToken}` }, false);
    expect(bearer.statusCode).toBe(201);
    // A safe method needs no proof.
    expect((await me(t, session)).statusCode).toBe(200);
    // Login CSRF: sign-in itself needs the proof.
    const forged = await signIn(t, clock, who, { headers: {} });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ code: 'ERR_CSRF_REJECTED' });
  });

  it('keeps everything else under /v1 closed to anonymous callers', async () => {
    for (const [method, url] of [
      ['GET', '/v1/me'],
      ['GET', '/v1/auth/sign-in'],
      ['GET', '/v1/nope'],
      ['POST', '/v1/records'],
    ] as const) {
      const res = await t.app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json()).toMatchObject({ code: 'ERR_AUTH_REQUIRED' });
    }
    const junk = await me(t, 'not-a-session');
    expect(junk.json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
    // The bearer header wins over a cookie, and keeps working.
    const bearer = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${t.token}` },
      cookies: { custodian_session: 'not-a-session' },
    });
    expect(bearer.json()).toMatchObject({ kind: 'token', role: 'security-admin', trainingCurrent: true });
  });

  it('documents sign-in and sign-out in OpenAPI as needing no bearer token', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    }>();
    expect(doc.paths['/v1/auth/sign-in']?.['post']?.security).toEqual([]);
    expect(doc.paths['/v1/auth/sign-out']?.['post']?.security).toEqual([]);
    expect(doc.paths['/v1/me']).toBeDefined();
  });
});

describe('staff sessions behind a TLS-terminating proxy', () => {
  let t: TestApp;
  let clock: TestClock;
  beforeAll(async () => {
    clock = testClock();
    t = await testApp({ now: clock.now, edit: trustingProxy });
  });
  afterAll(() => t.close());

  it('marks the cookie Secure when the request arrived over HTTPS', async () => {
    const who = await account(t, 'secure');
    const res = await signIn(t, clock, who, { headers: { ...CSRF, 'x-forwarded-proto': 'https' } });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['set-cookie'])).toContain('; Secure');
    clock.advance(30 * SECOND);
    const plain = await signIn(t, clock, who);
    expect(String(plain.headers['set-cookie'])).not.toContain('Secure');
  });
});

describe('lapsed training over HTTP (access.requireTraining)', () => {
  let t: TestApp;
  let clock: TestClock;
  beforeAll(async () => {
    clock = testClock();
    t = await testApp({ now: clock.now, edit: withAccess('requireTraining: true') });
  });
  afterAll(() => t.close());

  it('withholds every personal field from staff whose training lapsed, until it is recorded', async () => {
    const [c] = generateCustomers('training-http', 1);
    const collected = await t.app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { authorization: `Bearer ${t.testerToken}` },
      payload: {
        collection: 'address',
        identities: { oaid: c!.oaid },
        fields: { recipientName: c!.name, phone: c!.mobile, city: c!.address.city },
        purpose: 'order-fulfilment',
      },
    });
    expect(collected.statusCode).toBe(201);
    const { subjectId } = collected.json<{ subjectId: string }>();
    const who = await account(t, 'untrained');
    const session = sessionOf(await signIn(t, clock, who));
    expect((await me(t, session)).json()).toMatchObject({ trainingCurrent: false });
    const read = () =>
      t.app.inject({
        method: 'GET',
        url: `/v1/subjects/${subjectId}?purpose=order-fulfilment`,
        cookies: { custodian_session: session },
      });
    type View = {
      records: { fields: Record<string, { access: string; reason?: string; value?: string }> }[];
    };
    const lapsed = (await read()).json<View>();
    const fields = Object.values(lapsed.records[0]!.fields);
    expect(fields.length).toBeGreaterThan(0);
    for (const f of fields) expect(f).toEqual({ access: 'withheld', reason: 'training-expired' });
    expect(JSON.stringify(lapsed)).not.toContain(c!.mobile);

    await t.runtime.staff.recordTraining(who.username, { course: 'PIPL basics' }, ADMIN);
    expect((await me(t, session)).json()).toMatchObject({ trainingCurrent: true });
    const current = (await read()).json<View>();
    for (const f of Object.values(current.records[0]!.fields)) expect(f.reason).not.toBe('training-expired');
  });
});
