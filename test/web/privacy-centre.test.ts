import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../support/app.js';
import { tester } from '../support/roles.js';
import { ByteScanner } from '../support/scan.js';

const PHONE = '13912345678';
const EMAIL = 'li.hua@example.cn';
const NAME = '李华';
const CHILD_PHONE = '13655554444';
const CHILD_NAME = '王小明';
const GUARDIAN_NAME = '王建国';
const SAME_SITE = { 'sec-fetch-site': 'same-origin' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function cookiesOf(res: { cookies: { name: string; value: string }[] }): Record<string, string> {
  return Object.fromEntries(res.cookies.map((c) => [c.name, c.value]));
}

function cookieHeader(jar: Record<string, string>): string {
  return Object.entries(jar)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}

describe('privacy centre (HTTP)', () => {
  let t: TestApp;
  let subjectId: string;
  beforeAll(async () => {
    t = await testApp();
    await t.runtime.privacyPolicy.publish();
    ({ subjectId } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: NAME, phone: PHONE, email: EMAIL },
      identities: { phone: PHONE, email: EMAIL },
      purpose: 'marketing',
    }));
  });
  afterAll(() => t.close());

  const codeFromLog = (): string => {
    for (const line of [...t.logs].reverse()) {
      const entry = JSON.parse(line) as { msg?: string; code?: string };
      if (entry.msg?.startsWith('sign-in code (log channel') && entry.code) return entry.code;
    }
    throw new Error('no code logged');
  };

  const askCode = (identity: string, kind = 'phone', headers: Record<string, string> = SAME_SITE) =>
    t.app.inject({
      method: 'POST',
      url: '/privacy/sign-in',
      headers: { ...FORM, ...headers },
      payload: new URLSearchParams({ kind, identity }).toString(),
    });

  const sendCode = (challenge: string, code: string) =>
    t.app.inject({
      method: 'POST',
      url: '/privacy/sign-in/code',
      headers: { ...FORM, ...SAME_SITE, cookie: `custodian_privacy_challenge=${challenge}` },
      payload: `code=${code}`,
    });

  async function signIn(identity = PHONE, kind = 'phone'): Promise<Record<string, string>> {
    const asked = await askCode(identity, kind);
    expect(asked.statusCode).toBe(303);
    const challenge = cookiesOf(asked)['custodian_privacy_challenge']!;
    const done = await sendCode(challenge, codeFromLog());
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/privacy/account');
    const set = done.cookies.find((c) => c.name === 'custodian_privacy')!;
    expect(set).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/privacy' });
    return { custodian_privacy: set.value };
  }

  const csrfOf = (page: string): string => /name="csrf" value="([^"]+)"/.exec(page)![1]!;

  it('serves the public pages in zh-CN by default and in English on request, each under 50 KB', async () => {
    for (const url of [
      '/privacy',
      '/privacy/versions',
      '/privacy/notices',
      '/privacy/sign-in',
      '/privacy/policy',
    ]) {
      const zh = await t.app.inject({ method: 'GET', url });
      expect(zh.statusCode, url).toBe(200);
      expect(zh.headers['content-type']).toContain('text/html');
      expect(zh.body).toContain('lang="zh-CN"');
      expect(Buffer.byteLength(zh.body), url).toBeLessThan(50 * 1024);
      const en = await t.app.inject({ method: 'GET', url: `${url}?lang=en` });
      expect(en.body).toContain('lang="en"');
      expect(Buffer.byteLength(en.body), url).toBeLessThan(50 * 1024);
    }
    const home = await t.app.inject({ method: 'GET', url: '/privacy?lang=en' });
    expect(home.body).toContain('Privacy centre');
    const cookie = home.cookies.find((c) => c.name === 'custodian_lang');
    expect(cookie?.value).toBe('en');
    const remembered = await t.app.inject({
      method: 'GET',
      url: '/privacy',
      headers: { cookie: 'custodian_lang=en' },
    });
    expect(remembered.body).toContain('lang="en"');
  });

  it('answers the same for an identity nobody has, and that code never signs in', async () => {
    const known = await askCode('13811112222');
    const unknown = await askCode('13811113333');
    expect(known.statusCode).toBe(303);
    expect(unknown.statusCode).toBe(303);
    expect(unknown.headers.location).toBe(known.headers.location);
    const challenge = cookiesOf(unknown)['custodian_privacy_challenge']!;
    for (const code of ['000000', '123456']) {
      const res = await sendCode(challenge, code);
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain('验证码不正确');
    }
    await expect(t.runtime.privacyCentre.verifySignIn(challenge, '000001')).rejects.toMatchObject({
      code: 'ERR_PRIVACY_CODE_INVALID',
    });
  });

  it('signs in with the code sent to the phone on record, then the code is spent', async () => {
    const asked = await askCode(`+86 ${PHONE}`);
    const challenge = cookiesOf(asked)['custodian_privacy_challenge']!;
    const code = codeFromLog();
    expect(code).toMatch(/^\d{6}$/);
    const wrong = code === '999999' ? '999998' : '999999';
    expect((await sendCode(challenge, wrong)).statusCode).toBe(401);
    const ok = await sendCode(challenge, code);
    expect(ok.statusCode).toBe(303);
    const again = await sendCode(challenge, code);
    expect(again.statusCode).toBe(401);
    await expect(t.runtime.privacyCentre.verifySignIn(challenge, code)).rejects.toMatchObject({
      code: 'ERR_PRIVACY_CODE_INVALID',
    });
  });

  it('locks a code after the allowed attempts, even the right one', async () => {
    const asked = await askCode(EMAIL, 'email');
    const challenge = cookiesOf(asked)['custodian_privacy_challenge']!;
    const code = codeFromLog();
    const wrong = code === '111111' ? '222222' : '111111';
    for (let i = 0; i < t.config.privacyCentre.maxAttempts; i++)
      expect((await sendCode(challenge, wrong)).statusCode).toBe(401);
    expect((await sendCode(challenge, code)).statusCode).toBe(401);
  });

  it('counts tries sent at once, so a burst of guesses cannot outrun the limit', async () => {
    // A customer of its own, so this test's code does not use up the others' send window.
    const email = 'burst.guess@example.com';
    await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: NAME, email },
      identities: { email },
      purpose: 'marketing',
    });
    const asked = await askCode(email, 'email');
    const challenge = cookiesOf(asked)['custodian_privacy_challenge']!;
    const code = codeFromLog();
    const max = t.config.privacyCentre.maxAttempts;
    const guesses = Array.from({ length: max * 8 }, (_, i) =>
      String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'),
    );
    const results = await Promise.allSettled(
      [...guesses, code].map((g) => t.runtime.privacyCentre.verifySignIn(challenge, g)),
    );
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_PRIVACY_CODE_INVALID' });
    }
    expect((await t.store.privacy.code(challenge))?.attempts).toBe(max);
  });

  it('rate-limits codes per identity, whether or not anyone has it', async () => {
    const identity = '13700009999';
    for (let i = 0; i < t.config.privacyCentre.sendsPerWindow; i++)
      expect((await askCode(identity)).statusCode).toBe(303);
    const limited = await askCode(identity);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    await expect(t.runtime.privacyCentre.startSignIn('phone', identity, 'zh-CN')).rejects.toMatchObject({
      code: 'ERR_PRIVACY_CODE_RATE_LIMITED',
    });
  });

  it('deletes codes once neither their lifetime nor the send window needs them (R10)', async () => {
    const stale = {
      id: '0190f0f0-0000-7000-8000-00000000c0de',
      requester: Buffer.alloc(32, 7),
      subjectId,
      codeHash: Buffer.alloc(32, 1),
      createdAt: new Date(Date.now() - 3_600_000).toISOString(),
      expiresAt: new Date(Date.now() - 3_000_000).toISOString(),
      attempts: 0,
      usedAt: null,
    };
    await t.store.privacy.insertCode(stale);
    expect(await t.store.privacy.code(stale.id)).toBeDefined();
    await askCode('13800007777');
    expect(await t.store.privacy.code(stale.id)).toBeUndefined();
  });

  it('refuses a cross-site sign-in post (login CSRF)', async () => {
    const res = await askCode(PHONE, 'phone', { origin: 'https://evil.example' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'ERR_CSRF_REJECTED' });
  });

  it('rejects a bad sign-in form with a validation problem', async () => {
    const res = await askCode('x', 'fax');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'ERR_VALIDATION_FAILED' });
  });

  it('shows the consent dashboard, withdraws with one click and serves the signed receipt', async () => {
    await t.runtime.consent.record(tester, subjectId, {
      purpose: 'marketing',
      action: 'grant',
      channel: 'tmall-store',
    });
    const jar = await signIn();
    const page = await t.app.inject({
      method: 'GET',
      url: '/privacy/account',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(page.statusCode).toBe(200);
    expect(Buffer.byteLength(page.body)).toBeLessThan(50 * 1024);
    expect(page.body).toContain('已同意');
    expect(page.body).toContain('必要用途');
    expect(page.body).not.toContain(PHONE);
    const csrf = csrfOf(page.body);

    const forged = await t.app.inject({
      method: 'POST',
      url: '/privacy/account/consents',
      headers: { ...FORM, cookie: cookieHeader(jar) },
      payload: 'csrf=nope&purpose=marketing&action=withdraw',
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ code: 'ERR_CSRF_REJECTED' });

    const necessary = await t.app.inject({
      method: 'POST',
      url: '/privacy/account/consents',
      headers: { ...FORM, cookie: cookieHeader(jar) },
      payload: `csrf=${csrf}&purpose=order-fulfilment&action=withdraw`,
    });
    expect(necessary.json()).toMatchObject({ code: 'ERR_CONSENT_NOT_APPLICABLE' });

    const withdrawn = await t.app.inject({
      method: 'POST',
      url: '/privacy/account/consents',
      headers: { ...FORM, cookie: cookieHeader(jar) },
      payload: `csrf=${csrf}&purpose=marketing&action=withdraw`,
    });
    expect(withdrawn.statusCode).toBe(303);
    const list = await t.runtime.consent.list(tester, subjectId);
    expect(list.purposes.find((p) => p.purpose === 'marketing')?.granted).toBe(false);
    const last = list.history.at(-1)!;
    expect(last).toMatchObject({ action: 'withdraw', channel: 'h5', recordedBy: 'privacy-centre' });

    const after = await t.app.inject({
      method: 'GET',
      url: '/privacy/account?done=saved',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(after.body).toContain(`/privacy/account/receipts/${last.receiptId}`);
    const receipt = await t.app.inject({
      method: 'GET',
      url: `/privacy/account/receipts/${last.receiptId}`,
      headers: { cookie: cookieHeader(jar) },
    });
    expect(receipt.statusCode).toBe(200);
    expect(receipt.headers['content-disposition']).toContain('attachment');
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<JSONWebKeySet>();
    const { payload } = await jwtVerify(receipt.body, createLocalJWKSet(jwks));
    expect(payload).toMatchObject({ action: 'withdraw', channel: 'h5' });

    const anonymous = await t.app.inject({
      method: 'GET',
      url: `/privacy/account/receipts/${last.receiptId}`,
    });
    expect(anonymous.json()).toMatchObject({ code: 'ERR_PRIVACY_SESSION_INVALID' });
    const notMine = await t.app.inject({
      method: 'GET',
      url: `/privacy/account/receipts/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`,
      headers: { cookie: cookieHeader(jar) },
    });
    expect(notMine.json()).toMatchObject({ code: 'ERR_ROUTE_NOT_FOUND' });
  });

  it('records a request for deletion as received and acknowledges it', async () => {
    const jar = await signIn(EMAIL, 'email');
    const page = await t.app.inject({
      method: 'GET',
      url: '/privacy/account?lang=en',
      headers: { cookie: cookieHeader(jar) },
    });
    const res = await t.app.inject({
      method: 'POST',
      url: '/privacy/account/requests',
      headers: { ...FORM, cookie: cookieHeader(jar) },
      payload: `csrf=${csrfOf(page.body)}&kind=deletion`,
    });
    expect(res.statusCode).toBe(303);
    const [request] = await t.store.privacy.listRequests(subjectId);
    expect(request).toMatchObject({ subjectId, kind: 'deletion', status: 'received' });
    // The privacy officer is alerted, with the request's id and kind only.
    const alert = t.logs
      .map((l) => JSON.parse(l) as { alert?: { kind: string; details: Record<string, unknown> } })
      .find((l) => l.alert?.kind === 'privacy.request');
    expect(alert?.alert?.details).toEqual({ request: request!.id, kind: 'deletion' });
    const ack = await t.app.inject({
      method: 'GET',
      url: res.headers.location as string,
      headers: { cookie: cookieHeader(jar) },
    });
    expect(ack.body).toContain(request!.id);
    const bad = await t.app.inject({
      method: 'POST',
      url: '/privacy/account/requests',
      headers: { ...FORM, cookie: cookieHeader(jar) },
      payload: `csrf=${csrfOf(page.body)}&kind=gossip`,
    });
    expect(bad.json()).toMatchObject({ code: 'ERR_VALIDATION_FAILED' });
    expect(await t.store.privacy.listRequests(subjectId)).toHaveLength(1);
  });

  it('signs out, and the session no longer works', async () => {
    const jar = await signIn();
    const page = await t.app.inject({
      method: 'GET',
      url: '/privacy/account',
      headers: { cookie: cookieHeader(jar) },
    });
    const out = await t.app.inject({
      method: 'POST',
      url: '/privacy/sign-out',
      headers: { ...FORM, cookie: cookieHeader(jar) },
      payload: `csrf=${csrfOf(page.body)}`,
    });
    expect(out.statusCode).toBe(303);
    const after = await t.app.inject({
      method: 'GET',
      url: '/privacy/account',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toBe('/privacy/sign-in');
  });

  it('lets the privacy officer post notices, shown on the page and in the Atom feed', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v1/privacy/notices',
      headers: { authorization: `Bearer ${t.testerToken}` },
      payload: {
        title: { 'zh-CN': '隐私政策更新', en: 'Privacy policy updated' },
        body: { 'zh-CN': '我们更新了营销用途的说明。<b>', en: 'We clarified the marketing purpose. <b>' },
      },
    });
    expect(res.statusCode).toBe(201);
    const page = await t.app.inject({ method: 'GET', url: '/privacy/notices' });
    expect(page.body).toContain('隐私政策更新');
    expect(page.body).toContain('&lt;b&gt;');
    const atom = await t.app.inject({ method: 'GET', url: '/privacy/notices.atom?lang=en' });
    expect(atom.headers['content-type']).toContain('application/atom+xml');
    expect(atom.body).toContain('<feed xmlns="http://www.w3.org/2005/Atom"');
    expect(atom.body).toContain('Privacy policy updated');
    const empty = await t.app.inject({
      method: 'POST',
      url: '/v1/privacy/notices',
      headers: { authorization: `Bearer ${t.testerToken}` },
      payload: { title: { 'zh-CN': '', en: 'x' }, body: { 'zh-CN': 'x', en: 'x' } },
    });
    expect(empty.json()).toMatchObject({ code: 'ERR_VALIDATION_FAILED' });
    const anonymous = await t.app.inject({ method: 'POST', url: '/v1/privacy/notices', payload: {} });
    expect(anonymous.json()).toMatchObject({ code: 'ERR_AUTH_REQUIRED' });
  });

  it('lets the consent snippet record consent only with a token minted for that subject', async () => {
    const script = await t.app.inject({ method: 'GET', url: '/privacy/embed/consent.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
    expect(script.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(script.body).toContain("customElements.define('custodian-consent'");
    const purposes = await t.app.inject({ method: 'GET', url: '/privacy/embed/purposes.json?lang=en' });
    expect(purposes.json()).toMatchObject({
      policyVersion: 1,
      purposes: [{ id: 'marketing', name: 'Member marketing' }],
    });
    expect(purposes.headers['access-control-allow-origin']).toBe('*');
    const preflight = await t.app.inject({ method: 'OPTIONS', url: '/privacy/embed/consents' });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');

    const post = (token: string | undefined) =>
      t.app.inject({
        method: 'POST',
        url: '/privacy/embed/consents',
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        payload: { purpose: 'marketing', action: 'grant', policyVersion: 1 },
      });
    expect((await post(undefined)).json()).toMatchObject({ code: 'ERR_PRIVACY_EMBED_TOKEN_INVALID' });
    const minted = await t.app.inject({
      method: 'POST',
      url: '/v1/privacy/embed-tokens',
      headers: { authorization: `Bearer ${t.testerToken}` },
      payload: { subjectId },
    });
    expect(minted.statusCode).toBe(201);
    const { token } = minted.json<{ token: string }>();
    const [payload, mac] = token.split('.') as [string, string];
    const other = Buffer.from(
      JSON.stringify({ s: '0190f0f0-0000-7000-8000-000000000000', e: Date.now() + 600_000 }),
    ).toString('base64url');
    expect((await post(`${other}.${mac}`)).json()).toMatchObject({ code: 'ERR_PRIVACY_EMBED_TOKEN_INVALID' });
    expect((await post(`${payload}.${mac.slice(0, -2)}AA`)).json()).toMatchObject({
      code: 'ERR_PRIVACY_EMBED_TOKEN_INVALID',
    });
    const ok = await post(token);
    expect(ok.statusCode).toBe(201);
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<JSONWebKeySet>();
    const { payload: claims } = await jwtVerify(
      ok.json<{ receipt: string }>().receipt,
      createLocalJWKSet(jwks),
    );
    expect(claims).toMatchObject({ action: 'grant', channel: 'h5', policyVersion: 1 });
    const state = await t.app.inject({
      method: 'GET',
      url: '/privacy/embed/consents',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(state.json()).toEqual({ purposes: [{ purpose: 'marketing', granted: true }] });
    const noSubject = await t.app.inject({
      method: 'POST',
      url: '/v1/privacy/embed-tokens',
      headers: { authorization: `Bearer ${t.testerToken}` },
      payload: { subjectId: '0190f0f0-0000-7000-8000-000000000000' },
    });
    expect(noSubject.json()).toMatchObject({ code: 'ERR_SUBJECT_NOT_FOUND' });
  });

  it('ends an erased customer’s session and deletes their sign-in codes', async () => {
    const { subjectId: other } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { phone: '13522223333' },
      identities: { phone: '13522223333' },
      purpose: 'marketing',
    });
    const jar = await signIn('13522223333');
    const before = await t.app.inject({
      method: 'GET',
      url: '/privacy/account',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(before.statusCode).toBe(200);
    await t.runtime.vault.erase(tester, other);
    expect(await t.store.privacy.deleteSignInsFor(other)).toBe(0);
    const after = await t.app.inject({
      method: 'GET',
      url: '/privacy/account',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(after.statusCode).toBe(303);
    await expect(t.runtime.privacyCentre.authenticate(jar['custodian_privacy'])).rejects.toMatchObject({
      code: 'ERR_PRIVACY_SESSION_INVALID',
    });
    // The same phone now belongs to nobody: the same answer, and no code arrives.
    const asked = await askCode('13522223333');
    expect(asked.statusCode).toBe(303);
  });

  it('answers a browser whose form post fails with a page, and a script with problem+json', async () => {
    const BROWSER = { ...FORM, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const lapsed = await t.app.inject({
      method: 'POST',
      url: '/privacy/account/consents',
      headers: BROWSER,
      payload: 'csrf=x&purpose=marketing&action=withdraw',
    });
    expect(lapsed.statusCode).toBe(401);
    expect(lapsed.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(lapsed.body).toContain('您的登录已过期或尚未登录');
    expect(lapsed.body).toContain('href="/privacy/sign-in"');
    expect(lapsed.body).toContain('ERR_PRIVACY_SESSION_INVALID');

    const jar = await signIn(EMAIL, 'email');
    const recorded = (await t.runtime.consent.list(tester, subjectId)).history.length;
    const forged = await t.app.inject({
      method: 'POST',
      url: '/privacy/account/consents?lang=en',
      headers: { ...BROWSER, cookie: cookieHeader(jar) },
      payload: 'csrf=nope&purpose=marketing&action=withdraw',
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['content-language']).toBe('en');
    expect(forged.body).toContain('nothing was changed');
    expect(forged.body).toContain('ERR_CSRF_REJECTED');
    expect(forged.body).toContain('href="/privacy"');
    // Nothing the customer sent comes back (no reflected input), and the request changed nothing.
    expect(forged.body).not.toContain('nope');
    expect((await t.runtime.consent.list(tester, subjectId)).history).toHaveLength(recorded);

    const script = await t.app.inject({
      method: 'POST',
      url: '/privacy/account/consents',
      headers: { ...FORM, accept: 'application/json' },
      payload: 'csrf=x&purpose=marketing&action=withdraw',
    });
    expect(script.statusCode).toBe(401);
    expect(script.headers['content-type']).toContain('application/problem+json');
    expect(script.json()).toMatchObject({ code: 'ERR_PRIVACY_SESSION_INVALID' });
  });

  it('lets a parent or guardian give a child’s consents, and no one else (R3)', async () => {
    const { subjectId: child } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: CHILD_NAME, phone: CHILD_PHONE, birthDate: '2017-03-09' },
      identities: { phone: CHILD_PHONE },
      purpose: 'marketing',
    });
    const jar = await signIn(CHILD_PHONE);
    const headers = { ...FORM, cookie: cookieHeader(jar) };
    const page = await t.app.inject({
      method: 'GET',
      url: '/privacy/account',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(page.body).toContain('不满 14 周岁');
    expect(page.body).toContain('name="guardianName"');
    const csrf = csrfOf(page.body);
    const ledger = async () => (await t.runtime.consent.list(tester, child)).history.length;
    /** A consent form post as the child's browser sends it. */
    const post = (form: Record<string, string>, accept = 'application/json') =>
      t.app.inject({
        method: 'POST',
        url: '/privacy/account/consents',
        headers: { ...headers, accept },
        payload: new URLSearchParams({ csrf, purpose: 'marketing', ...form }).toString(),
      });

    const alone = await post({ action: 'grant' }, 'text/html');
    expect(alone.statusCode).toBe(422);
    expect(alone.body).toContain('ERR_CONSENT_GUARDIAN_REQUIRED');
    expect(alone.body).toContain('需要由父母或其他监护人');
    const unconfirmed = await post({
      action: 'grant',
      guardianRelationship: 'parent',
      guardianName: GUARDIAN_NAME,
    });
    expect(unconfirmed.statusCode).toBe(422);
    expect(unconfirmed.json()).toMatchObject({
      code: 'ERR_CONSENT_INVALID',
      details: { reason: 'guardian-incomplete' },
    });
    expect(await ledger()).toBe(0);

    const guardian = { guardianRelationship: 'parent', guardianName: GUARDIAN_NAME, guardianConfirm: 'yes' };
    const granted = await post({ action: 'grant', ...guardian });
    expect(granted.statusCode).toBe(303);
    let list = await t.runtime.consent.list(tester, child);
    expect(list.history.at(-1)).toMatchObject({
      kind: 'purpose',
      minor: true,
      guardian: 'parent',
      channel: 'h5',
    });
    // The purpose consent alone shows nothing of a child's data: the separate consent is asked next.
    expect(list.purposes.find((p) => p.purpose === 'marketing')).toMatchObject({
      granted: true,
      sensitive: false,
    });
    const next = await t.app.inject({
      method: 'GET',
      url: '/privacy/account',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(next.body).toContain('value="sensitive_pi"');
    const separate = await post({ action: 'grant', kind: 'sensitive_pi', ...guardian });
    expect(separate.statusCode).toBe(303);
    list = await t.runtime.consent.list(tester, child);
    expect(list.purposes.find((p) => p.purpose === 'marketing')).toMatchObject({
      granted: true,
      sensitive: true,
    });
    expect(
      (await t.runtime.vault.read(tester, child, 'marketing')).records[0]?.fields['phone']?.access,
    ).not.toBe('withheld');

    // Withdrawing never needs the guardian (R4).
    const withdrawn = await post({ action: 'withdraw' });
    expect(withdrawn.statusCode).toBe(303);
    list = await t.runtime.consent.list(tester, child);
    expect(list.purposes.find((p) => p.purpose === 'marketing')?.granted).toBe(false);
  });

  it('left no phone, email or name in clear in the database or the logs', () => {
    const scanner = new ByteScanner(
      [
        PHONE,
        EMAIL,
        NAME,
        CHILD_PHONE,
        CHILD_NAME,
        GUARDIAN_NAME,
        '13811112222',
        '13811113333',
        '13700009999',
        '13522223333',
        '13800007777',
      ].map((v) => ({
        label: v,
        bytes: Buffer.from(v),
      })),
    );
    const dataDir = join(t.dir, 'data');
    for (const file of readdirSync(dataDir))
      expect(scanner.scan(readFileSync(join(dataDir, file))), file).toEqual(new Set());
    expect(scanner.scan(Buffer.from(t.logs.join('\n')))).toEqual(new Set());
  });
});

describe('privacy centre expiry', () => {
  let t: TestApp;
  let clock = new Date('2026-07-01T02:00:00.000Z');
  let subjectId: string;
  const later = (minutes: number) => (clock = new Date(clock.getTime() + minutes * 60_000));
  beforeAll(async () => {
    t = await testApp({ now: () => clock });
    await t.runtime.privacyPolicy.publish();
    ({ subjectId } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { phone: '13766667777' },
      identities: { phone: '13766667777' },
      purpose: 'marketing',
    }));
  });
  afterAll(() => t.close());

  const lastCode = (): string => {
    const line = [...t.logs].reverse().find((l) => l.includes('sign-in code (log channel'))!;
    return (JSON.parse(line) as { code: string }).code;
  };

  it('refuses a code after its lifetime', async () => {
    const { challenge } = await t.runtime.privacyCentre.startSignIn('phone', '13766667777', 'zh-CN');
    later(t.config.privacyCentre.codeTtlMinutes);
    await expect(t.runtime.privacyCentre.verifySignIn(challenge, lastCode())).rejects.toMatchObject({
      code: 'ERR_PRIVACY_CODE_INVALID',
    });
  });

  it('ends a session after its lifetime', async () => {
    later(t.config.privacyCentre.sendWindowMinutes);
    const { challenge } = await t.runtime.privacyCentre.startSignIn('phone', '13766667777', 'zh-CN');
    const { token } = await t.runtime.privacyCentre.verifySignIn(challenge, lastCode());
    await expect(t.runtime.privacyCentre.authenticate(token)).resolves.toMatchObject({ subjectId });
    later(t.config.privacyCentre.sessionMinutes);
    await expect(t.runtime.privacyCentre.authenticate(token)).rejects.toMatchObject({
      code: 'ERR_PRIVACY_SESSION_INVALID',
    });
    await expect(t.runtime.privacyCentre.authenticate('not-a-token')).rejects.toMatchObject({
      code: 'ERR_PRIVACY_SESSION_INVALID',
    });
  });

  it('refuses an embed token after its lifetime', async () => {
    const { token } = await t.runtime.privacyCentre.mintEmbedToken(tester, subjectId);
    expect(t.runtime.privacyCentre.verifyEmbedToken(token)).toBe(subjectId);
    later(t.config.privacyCentre.embedTokenMinutes);
    expect(() => t.runtime.privacyCentre.verifyEmbedToken(token)).toThrow(
      expect.objectContaining({ code: 'ERR_PRIVACY_EMBED_TOKEN_INVALID' }),
    );
    for (const bad of ['', 'a.b.c', 'notbase64.sig', 'x'.repeat(600)])
      expect(() => t.runtime.privacyCentre.verifyEmbedToken(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_PRIVACY_EMBED_TOKEN_INVALID' }),
      );
  });
});
