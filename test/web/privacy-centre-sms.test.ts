import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../support/app.js';
import { startFakeDysmsapi, type FakeDysmsapi } from '../support/dysmsapi.js';
import { tester } from '../support/roles.js';
import { ByteScanner } from '../support/scan.js';

const PHONE = '13912345678';
const UNKNOWN = '13811113333';
const SAME_SITE = { 'sec-fetch-site': 'same-origin' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The init config with codes delivered by a (fake) Alibaba Cloud SMS declared as a processor. */
function withSms(fake: FakeDysmsapi, secret = fake.accessKeySecret): (yaml: string) => string {
  return (yaml) =>
    yaml.replace(
      'log:\n  level: info\n',
      [
        'log:',
        '  level: info',
        'privacyCentre:',
        '  codeChannel: deliver',
        '  sms:',
        '    provider: aliyun',
        `    endpoint: ${fake.url}`,
        `    accessKeyId: ${fake.accessKeyId}`,
        `    accessKeySecret: ${secret}`,
        '    signName: 示例商店',
        '    templateCode: SMS_123456789',
        '    timeoutMs: 2000',
        '    recipient: aliyun-sms',
        '',
      ].join('\n'),
    ) +
    [
      '    - id: aliyun-sms',
      '      name: { zh-CN: 阿里云短信服务, en: Alibaba Cloud SMS }',
      "      contact: '95187'",
      '      role: processor',
      '      purposes: [customer-service]',
      '      categories: [contact.phone]',
      '',
    ].join('\n');
}

async function customerApp(edit: (yaml: string) => string, now?: () => Date): Promise<TestApp> {
  const t = await testApp({ edit, ...(now ? { now } : {}) });
  await t.runtime.privacyPolicy.publish();
  await t.runtime.vault.collect(tester, {
    collection: 'profile',
    fields: { phone: PHONE },
    identities: { phone: PHONE },
    purpose: 'customer-service',
  });
  return t;
}

const askCode = (t: TestApp, identity: string) =>
  t.app.inject({
    method: 'POST',
    url: '/privacy/sign-in',
    headers: { ...FORM, ...SAME_SITE },
    payload: new URLSearchParams({ kind: 'phone', identity }).toString(),
  });

const sendCode = (t: TestApp, challenge: string, code: string) =>
  t.app.inject({
    method: 'POST',
    url: '/privacy/sign-in/code',
    headers: { ...FORM, ...SAME_SITE, cookie: `custodian_privacy_challenge=${challenge}` },
    payload: `code=${code}`,
  });

/** What a customer sees of the answer: status, where it leads, which cookies it sets. */
const shape = (res: Awaited<ReturnType<typeof askCode>>) => ({
  status: res.statusCode,
  location: res.headers.location,
  cookies: res.cookies.map((c) => c.name).sort(),
  body: res.body,
});

async function waitForLog(t: TestApp, msg: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const line = t.logs.find((l) => (JSON.parse(l) as { msg?: string }).msg === msg);
    if (line) return JSON.parse(line) as Record<string, unknown>;
    await new Promise((wake) => setTimeout(wake, 20));
  }
  throw new Error(`no log line "${msg}"`);
}

describe('privacy centre sign-in by SMS (Alibaba Cloud, fake dysmsapi)', () => {
  let fake: FakeDysmsapi;
  let t: TestApp;
  let broken: TestApp;
  const codes: string[] = [];

  beforeAll(async () => {
    fake = await startFakeDysmsapi({ maxSkewMinutes: 15 });
    t = await customerApp(withSms(fake));
    broken = await customerApp(withSms(fake, 'a-secret-that-is-wrong'));
  });
  afterAll(async () => {
    await t.close();
    await broken.close();
    await fake.stop();
  });

  it('signs a customer in with the code texted to the phone on record', async () => {
    const asked = await askCode(t, `+86 ${PHONE}`);
    expect(asked.statusCode).toBe(303);
    const challenge = asked.cookies.find((c) => c.name === 'custodian_privacy_challenge')!.value;
    const [message] = await fake.waitFor(1);
    expect(message).toMatchObject({
      phoneNumbers: PHONE,
      signName: '示例商店',
      templateCode: 'SMS_123456789',
      regionId: 'cn-hangzhou',
    });
    const code = message!.templateParam['code']!;
    codes.push(code);
    expect(code).toMatch(/^\d{6}$/);
    const done = await sendCode(t, challenge, code);
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe('/privacy/account');
    const session = done.cookies.find((c) => c.name === 'custodian_privacy')!;
    const account = await t.app.inject({
      method: 'GET',
      url: '/privacy/account',
      headers: { cookie: `custodian_privacy=${session.value}` },
    });
    expect(account.statusCode).toBe(200);
    expect(await waitForLog(t, 'sign-in code sent')).toMatchObject({ channel: 'sms', to: '139****5678' });
  });

  it('answers an unknown phone the same, texts nothing, and that code never signs in', async () => {
    const sent = fake.messages.length;
    const known = await askCode(t, PHONE);
    await fake.waitFor(sent + 1);
    codes.push(fake.messages.at(-1)!.templateParam['code']!);
    const unknown = await askCode(t, UNKNOWN);
    expect(shape(unknown)).toEqual(shape(known));
    await new Promise((wake) => setTimeout(wake, 100));
    expect(fake.messages.length).toBe(sent + 1);
    const challenge = unknown.cookies.find((c) => c.name === 'custodian_privacy_challenge')!.value;
    const res = await sendCode(t, challenge, codes.at(-1)!);
    expect(res.statusCode).toBe(401);
    await expect(t.runtime.privacyCentre.verifySignIn(challenge, codes.at(-1)!)).rejects.toMatchObject({
      code: 'ERR_PRIVACY_CODE_INVALID',
    });
  });

  it('answers the customer the same when the provider refuses, and logs only its Code and RequestId', async () => {
    const reference = await askCode(t, UNKNOWN);
    const refusedBefore = fake.refusals.length;
    const asked = await askCode(broken, PHONE);
    expect(shape(asked)).toEqual(shape(reference));
    const failure = await waitForLog(broken, 'sign-in code delivery failed');
    const refusal = fake.refusals.slice(refusedBefore).find((r) => r.code === 'SignatureDoesNotMatch')!;
    expect(refusal).toBeDefined();
    expect(failure).toMatchObject({
      level: 50,
      code: 'ERR_SMS_SEND_FAILED',
      provider: 'aliyun',
      providerCode: 'SignatureDoesNotMatch',
      requestId: refusal.requestId,
    });
    // The privacy officer sees it in the audit log: who (by pseudonym), how, which failure; no number.
    let undelivered: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && undelivered === undefined; i++) {
      const rows = await broken.store.audit.range(1, 1_000_000);
      const row = rows.find((r) => r.action === 'privacy.code-undelivered');
      if (row) undelivered = JSON.parse(row.canonical.toString('utf8')) as Record<string, unknown>;
      else await new Promise((wake) => setTimeout(wake, 20));
    }
    expect(undelivered).toMatchObject({
      action: 'privacy.code-undelivered',
      subject: expect.stringMatching(/^[A-Za-z0-9_-]+$/) as unknown,
      detail: { kind: 'phone', code: 'ERR_SMS_SEND_FAILED', providerCode: 'SignatureDoesNotMatch' },
    });
    expect(JSON.stringify(undelivered)).not.toContain(PHONE);
    // No code went out, so none signs in.
    const challenge = asked.cookies.find((c) => c.name === 'custodian_privacy_challenge')!.value;
    expect((await sendCode(broken, challenge, '000000')).statusCode).toBe(401);
  });

  it('alerts the privacy officer at the first failed code, then once an hour with the failures between', async () => {
    let clock = Date.parse('2026-11-30T02:00:00Z');
    const app = await customerApp(withSms(fake, 'another-wrong-secret'), () => new Date(clock));
    type Line = { alert?: { kind: string; details: Record<string, unknown> }; msg: string };
    const alerts = () =>
      app.logs.map((l) => JSON.parse(l) as Line).filter((l) => l.alert?.kind === 'privacy.code-undelivered');
    const until = async (done: () => boolean | Promise<boolean>) => {
      for (let i = 0; i < 250 && !(await done()); i++) await new Promise((wake) => setTimeout(wake, 20));
      expect(await done()).toBe(true);
    };
    const audited = async () =>
      (await app.store.audit.range(1, 1_000_000)).filter((r) => r.action === 'privacy.code-undelivered')
        .length;
    try {
      await askCode(app, PHONE);
      await until(() => alerts().length === 1);
      expect(alerts()[0]).toMatchObject({
        msg: 'Privacy centre: 1 SMS sign-in code(s) could not be delivered',
        alert: {
          kind: 'privacy.code-undelivered',
          severity: 'warning',
          details: {
            kind: 'phone',
            failures: 1,
            code: 'ERR_SMS_SEND_FAILED',
            provider: 'aliyun',
            providerCode: 'SignatureDoesNotMatch',
          },
        },
      });
      // Two more failures inside the hour are audited, not alerted.
      await askCode(app, PHONE);
      await askCode(app, PHONE);
      await until(async () => (await audited()) === 3);
      clock += 61 * 60_000;
      await askCode(app, PHONE);
      await until(() => alerts().length === 2);
      await new Promise((wake) => setTimeout(wake, 100));
      expect(alerts().map((a) => a.alert?.details['failures'])).toEqual([1, 3]);
      expect(await audited()).toBe(4);
      // An alert names no customer, not even by pseudonym.
      for (const line of alerts())
        expect(Object.keys(line.alert?.details ?? {}).sort()).toEqual([
          'code',
          'failures',
          'kind',
          'provider',
          'providerCode',
        ]);
      expect(JSON.stringify(alerts())).not.toContain(PHONE);
    } finally {
      await app.close();
    }
  });

  it('left the phone number and the codes nowhere in clear: not in the logs, not in the database', () => {
    const scanner = new ByteScanner([PHONE, UNKNOWN].map((v) => ({ label: v, bytes: Buffer.from(v) })));
    for (const app of [t, broken]) {
      expect(scanner.scan(Buffer.from(app.logs.join('\n')))).toEqual(new Set());
      const dataDir = join(app.dir, 'data');
      for (const file of readdirSync(dataDir))
        expect(scanner.scan(readFileSync(join(dataDir, file))), file).toEqual(new Set());
    }
    // A 6-digit code could occur inside a timestamp by chance: look for it as a whole value.
    expect(codes.length).toBeGreaterThan(0);
    for (const line of [...t.logs, ...broken.logs]) {
      for (const code of codes) expect(line, code).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
    }
    // Nor did the phone travel in a URL to the provider.
    for (const url of fake.urls) expect(url).toBe('/');
  });
});
