import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { SmsConfig } from '../../src/config/schema.js';
import { configTemplate } from '../../src/config/template.js';
import type { Recipient } from '../../src/domain/datamap/schema.js';
import { CustodianError } from '../../src/domain/errors.js';
import {
  codeDeliveryWarnings,
  createCodeSender,
  sendFailure,
  type CodeMessage,
} from '../../src/services/privacy-centre.js';
import { simpleParser } from 'mailparser';
import { startFakeDysmsapi, type FakeDysmsapi } from '../support/dysmsapi.js';
import { startSmtpSink } from '../support/smtp.js';
import { thrownBy as configError } from '../support/codes.js';

const PHONE = '13912345678';

const PROVIDER: Recipient = {
  id: 'aliyun-sms',
  name: 'Alibaba Cloud SMS',
  contact: '95187',
  role: 'processor',
  purposes: ['customer-service'],
  categories: ['contact.phone'],
  country: 'CN',
  crossBorder: false,
};

function capture(): { lines: string[]; log: Parameters<typeof createCodeSender>[2] } {
  const lines: string[] = [];
  const at = (level: string) => (obj: object, msg: string) =>
    lines.push(JSON.stringify({ level, ...obj, msg }));
  return { lines, log: { info: at('info'), debug: at('debug'), warn: at('warn') } };
}

describe('sign-in code delivery (codeChannel deliver)', () => {
  let fake: FakeDysmsapi;
  let sms: SmsConfig;
  const phone = (code: string, address = PHONE): CodeMessage => ({
    kind: 'phone',
    address,
    code,
    lang: 'zh-CN',
    validMinutes: 10,
  });

  beforeAll(async () => {
    fake = await startFakeDysmsapi();
    sms = {
      provider: 'aliyun',
      endpoint: fake.url,
      accessKeyId: fake.accessKeyId,
      accessKeySecret: fake.accessKeySecret,
      signName: '示例商店',
      templateCode: 'SMS_123456789',
      regionId: 'cn-hangzhou',
      timeoutMs: 2000,
      recipient: 'aliyun-sms',
    };
  });
  afterAll(() => fake.stop());

  it('texts a phone code through Alibaba Cloud SMS and logs it sent, masked', async () => {
    const { lines, log } = capture();
    const sender = createCodeSender('deliver', { sms, recipients: [PROVIDER] }, log);
    const before = fake.messages.length;
    expect(await sender.send(phone('384021'))).toBe('sent');
    expect(fake.messages.slice(before)).toEqual([
      expect.objectContaining({ phoneNumbers: PHONE, templateParam: { code: '384021' } }),
    ]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'info',
      channel: 'sms',
      to: '139****5678',
      provider: 'aliyun',
      msg: 'sign-in code sent',
    });
    expect(lines.join('\n')).not.toContain(PHONE);
    expect(lines.join('\n')).not.toContain('384021');
  });

  it("emails a code that states the configured validity, in the customer's language", async () => {
    const sink = await startSmtpSink();
    try {
      const smtp = {
        host: '127.0.0.1',
        port: sink.port,
        secure: false,
        requireTls: false,
        from: 'privacy@shop.example',
        to: ['dpo@shop.example'],
      };
      const { lines, log } = capture();
      const sender = createCodeSender('deliver', { smtp }, log);
      const email = (lang: CodeMessage['lang'], validMinutes: number, code: string): CodeMessage => ({
        kind: 'email',
        address: 'li.hua@example.cn',
        code,
        lang,
        validMinutes,
      });
      expect(await sender.send(email('zh-CN', 5, '246810'))).toBe('sent');
      expect(await sender.send(email('en', 1, '135791'))).toBe('sent');
      await sink.waitFor(2);
      const [zh, en] = await Promise.all(sink.messages.map((m) => simpleParser(m.raw)));
      expect(zh?.to).toMatchObject({ text: 'li.hua@example.cn' });
      expect(zh?.text).toContain('您的验证码是 246810，5 分钟内有效。');
      expect(zh?.text).toContain('It is valid for 5 minutes.');
      expect(en?.text).toContain('Your code is 135791. It is valid for 1 minute.');
      expect(`${zh?.text}${en?.text}`).not.toContain('10 分钟');
      // The log says a code went out, masked, and never the code.
      expect(lines.join('\n')).not.toMatch(/246810|135791|li\.hua@/);
    } finally {
      await sink.stop();
    }
  });

  it('on the log channel writes the code at debug level only, with the address masked', async () => {
    const { lines, log } = capture();
    expect(await createCodeSender('log', {}, log).send(phone('314159'))).toBe('logged');
    const logged = lines.map((l) => JSON.parse(l) as Record<string, string>);
    expect(logged).toEqual([
      expect.objectContaining({ level: 'info', channel: 'log', kind: 'phone', to: '139****5678' }),
      expect.objectContaining({ level: 'debug', channel: 'log', to: '139****5678', code: '314159' }),
    ]);
    expect(lines.join('\n')).not.toContain(PHONE);
  });

  it('treats the old name smtp as deliver', async () => {
    const { log } = capture();
    const before = fake.messages.length;
    const { privacyCentre } = parseConfig(
      `${configTemplate({ suite: 'aes-256-gcm', storeName: 'S' })}notify:\n  smtp:\n    host: smtp.example.com\n    from: a@example.com\n    to: [b@example.com]\nprivacyCentre:\n  codeChannel: smtp\n`,
      'custodian.yaml',
    );
    expect(privacyCentre.codeChannel).toBe('deliver');
    await createCodeSender(privacyCentre.codeChannel, { sms, recipients: [PROVIDER] }, log).send(
      phone('100200'),
    );
    expect(fake.messages.length).toBe(before + 1);
  });

  it('rejects with ERR_SMS_SEND_FAILED naming only the provider code and request id under a wrong secret', async () => {
    const { lines, log } = capture();
    const sender = createCodeSender(
      'deliver',
      { sms: { ...sms, accessKeySecret: 'wrong' }, recipients: [PROVIDER] },
      log,
    );
    const error = await sender.send(phone('771234')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CustodianError);
    expect((error as CustodianError).code).toBe('ERR_SMS_SEND_FAILED');
    const refused = fake.refusals.at(-1)!;
    expect(refused.code).toBe('SignatureDoesNotMatch');
    expect(sendFailure(error)).toEqual({
      error: 'CustodianError',
      code: 'ERR_SMS_SEND_FAILED',
      provider: 'aliyun',
      providerCode: 'SignatureDoesNotMatch',
      requestId: refused.requestId,
    });
    expect(lines).toEqual([]);
  });

  it('sends nothing, and says so masked, for a kind without a transport or a number that is not a mainland mobile', async () => {
    const before = fake.messages.length;
    const { lines, log } = capture();
    const outcomes = [
      await createCodeSender('deliver', { sms, recipients: [PROVIDER] }, log).send({
        kind: 'email',
        address: 'li.hua@example.cn',
        code: '123123',
        lang: 'en',
        validMinutes: 10,
      }),
      await createCodeSender('deliver', { sms, recipients: [PROVIDER] }, log).send(
        phone('456456', '02112345678'),
      ),
    ];
    const smtpOnly = {
      smtp: { host: '127.0.0.1', port: 9, secure: false, requireTls: false, from: 'a@b.cn', to: ['c@d.cn'] },
    };
    outcomes.push(await createCodeSender('deliver', smtpOnly, log).send(phone('789789')));
    expect(outcomes).toEqual(['not-sent', 'not-sent', 'not-sent']);
    expect(fake.messages.length).toBe(before);
    expect(lines.map((l) => JSON.parse(l) as Record<string, string>)).toEqual([
      expect.objectContaining({
        level: 'warn',
        kind: 'email',
        to: 'l***@example.cn',
        msg: 'no email channel: code not sent',
      }),
      expect.objectContaining({
        level: 'warn',
        kind: 'phone',
        msg: 'not a mainland mobile number: code not sent',
      }),
      expect.objectContaining({
        level: 'warn',
        kind: 'phone',
        to: '139****5678',
        msg: 'no SMS channel: code not sent',
      }),
    ]);
    const text = lines.join('\n');
    for (const secret of [PHONE, '02112345678', 'li.hua@example.cn', '123123', '456456', '789789'])
      expect(text).not.toContain(secret);
  });

  it('refuses to open with an SMS provider that is not a declared processor, or with no transport (R13)', () => {
    const { log } = capture();
    const missing = configError(() => createCodeSender('deliver', { sms, recipients: [] }, log));
    expect(missing.code).toBe('ERR_CONFIG_INVALID');
    expect(missing.details).toEqual({ key: 'privacyCentre.sms.recipient' });
    expect(missing.message).toContain(
      'privacyCentre.sms.recipient: no datamap.recipients entry "aliyun-sms"',
    );

    const third = configError(() =>
      createCodeSender('deliver', { sms, recipients: [{ ...PROVIDER, role: 'third-party' }] }, log),
    );
    expect(third.code).toBe('ERR_CONFIG_INVALID');
    expect(third.message).toContain('has role third-party');

    const noPhone = configError(() =>
      createCodeSender('deliver', { sms, recipients: [{ ...PROVIDER, categories: ['identity.name'] }] }, log),
    );
    expect(noPhone.code).toBe('ERR_CONFIG_INVALID');
    expect(noPhone.message).toContain('does not list category contact.phone');

    const none = configError(() => createCodeSender('deliver', {}, log));
    expect(none.code).toBe('ERR_CONFIG_INVALID');
    expect(none.details).toEqual({ key: 'privacyCentre.codeChannel' });
  });
});

describe('what serve says about code delivery', () => {
  const smtp = {
    host: 'smtp.example.com',
    port: 587,
    secure: false,
    requireTls: true,
    from: 'a@b.cn',
    to: ['c@d.cn'],
  };
  const sms = { recipient: 'aliyun-sms' } as unknown as SmsConfig;
  it('warns that the log channel reaches no customer', () => {
    const [only, ...rest] = codeDeliveryWarnings({
      privacyCentre: { codeChannel: 'log', sms },
      notify: { smtp },
    });
    expect(only).toContain('reach no customer');
    expect(rest).toEqual([]);
  });
  it('names the missing transport of deliver, and is silent with both', () => {
    expect(codeDeliveryWarnings({ privacyCentre: { codeChannel: 'deliver' }, notify: { smtp } })).toEqual([
      'privacyCentre.codeChannel is "deliver" without privacyCentre.sms: phone sign-in codes are not sent',
    ]);
    expect(codeDeliveryWarnings({ privacyCentre: { codeChannel: 'deliver', sms }, notify: {} })).toEqual([
      'privacyCentre.codeChannel is "deliver" without notify.smtp: email sign-in codes are not sent',
    ]);
    expect(
      codeDeliveryWarnings({ privacyCentre: { codeChannel: 'deliver', sms }, notify: { smtp } }),
    ).toEqual([]);
  });
});
