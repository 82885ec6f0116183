import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustodianError } from '../../src/domain/errors.js';
import { AliyunSms, type AliyunSmsOptions } from '../../src/platforms/aliyun/sms.js';
import { startFakeDysmsapi, type FakeDysmsapi } from '../support/dysmsapi.js';

const PHONE = '13912345678';

async function refusal(promise: Promise<unknown>): Promise<CustodianError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CustodianError);
    return error as CustodianError;
  }
  throw new Error('expected a refusal');
}

describe('Alibaba Cloud SMS client (against a fake dysmsapi)', () => {
  let fake: FakeDysmsapi;
  const client = (over: Partial<AliyunSmsOptions> = {}): AliyunSms =>
    new AliyunSms({
      endpoint: fake.url,
      accessKeyId: fake.accessKeyId,
      accessKeySecret: fake.accessKeySecret,
      signName: '示例商店',
      templateCode: 'SMS_123456789',
      regionId: 'cn-hangzhou',
      timeoutMs: 2_000,
      ...over,
    });

  beforeAll(async () => {
    fake = await startFakeDysmsapi({ maxSkewMinutes: 15 });
  });
  afterAll(() => fake.stop());

  it('sends SendSms signed so the service accepts it, with the code in TemplateParam', async () => {
    const before = fake.messages.length;
    const receipt = await client().send(PHONE, { code: '042917' });
    expect(receipt.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(receipt.bizId).not.toBe('');
    expect(fake.messages.slice(before)).toEqual([
      expect.objectContaining({
        phoneNumbers: PHONE,
        signName: '示例商店',
        templateCode: 'SMS_123456789',
        templateParam: { code: '042917' },
        regionId: 'cn-hangzhou',
      }),
    ]);
    // POSTed as a form: nothing about the customer in the request line.
    expect(fake.urls.at(-1)).toBe('/');
  });

  it('signs every request with a fresh nonce and a UTC timestamp without milliseconds', async () => {
    const before = fake.messages.length;
    const sms = client({ now: () => new Date('2030-01-02T03:04:05.678Z') });
    const params = sms.signedParams(PHONE, { code: '000000' });
    expect(params).toMatchObject({
      Action: 'SendSms',
      Version: '2017-05-25',
      Format: 'JSON',
      RegionId: 'cn-hangzhou',
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      Timestamp: '2030-01-02T03:04:05Z',
    });
    const sent = client();
    await Promise.all(Array.from({ length: 12 }, (_, i) => sent.send(PHONE, { code: String(100000 + i) })));
    const mine = fake.messages.slice(before);
    expect(mine).toHaveLength(12);
    expect(new Set(mine.map((m) => m.nonce)).size).toBe(12);
    for (const m of mine) expect(m.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('is refused with SignatureDoesNotMatch under a wrong secret, and says only the code and request id', async () => {
    const error = await refusal(
      client({ accessKeySecret: 'not-the-secret' }).send(PHONE, { code: '555111' }),
    );
    expect(error.code).toBe('ERR_SMS_SEND_FAILED');
    const last = fake.refusals.at(-1)!;
    expect(last.code).toBe('SignatureDoesNotMatch');
    expect(error.details).toEqual({
      provider: 'aliyun',
      providerCode: 'SignatureDoesNotMatch',
      requestId: last.requestId,
      status: 400,
    });
    // Aliyun's message quotes its string to sign, phone included: none of it is kept.
    expect(`${error.message}${JSON.stringify(error.details)}`).not.toContain(PHONE);
    expect(error.message).not.toContain('555111');
  });

  it('is refused when a nonce is used twice (replay)', async () => {
    const sms = client({ nonce: () => 'the-same-nonce' });
    await sms.send(PHONE, { code: '111111' });
    const error = await refusal(sms.send(PHONE, { code: '222222' }));
    expect(error.code).toBe('ERR_SMS_SEND_FAILED');
    expect(error.details).toMatchObject({ providerCode: 'SignatureNonceUsed' });
  });

  it('is refused with the provider code of an unknown key, a stale timestamp or a business limit', async () => {
    const unknown = await refusal(client({ accessKeyId: 'LTAI-nobody' }).send(PHONE, { code: '1' }));
    expect(unknown.code).toBe('ERR_SMS_SEND_FAILED');
    expect(unknown.details).toMatchObject({ providerCode: 'InvalidAccessKeyId.NotFound', status: 404 });

    const stale = await refusal(
      client({ now: () => new Date(Date.now() - 3_600_000) }).send(PHONE, { code: '1' }),
    );
    expect(stale.code).toBe('ERR_SMS_SEND_FAILED');
    expect(stale.details).toMatchObject({ providerCode: 'InvalidTimeStamp.Expired' });

    fake.failNext('isv.BUSINESS_LIMIT_CONTROL');
    const limited = await refusal(client().send(PHONE, { code: '1' }));
    expect(limited.code).toBe('ERR_SMS_SEND_FAILED');
    expect(limited.details).toMatchObject({ providerCode: 'isv.BUSINESS_LIMIT_CONTROL', status: 200 });
  });

  it('fails with ERR_SMS_SEND_FAILED when the service is slow, unreachable or answers no JSON', async () => {
    fake.delayMs = 300;
    try {
      const slow = await refusal(client({ timeoutMs: 50 }).send(PHONE, { code: '1' }));
      expect(slow.code).toBe('ERR_SMS_SEND_FAILED');
      expect(slow.message).toContain('in time');
    } finally {
      fake.delayMs = 0;
    }

    const down = await refusal(client({ endpoint: 'http://127.0.0.1:9/' }).send(PHONE, { code: '1' }));
    expect(down.code).toBe('ERR_SMS_SEND_FAILED');
    expect(down.details).toEqual({ provider: 'aliyun' });

    const html = await refusal(
      client({
        fetch: () => Promise.resolve(new Response('<html>gateway</html>', { status: 502 })),
      }).send(PHONE, { code: '1' }),
    );
    expect(html.code).toBe('ERR_SMS_SEND_FAILED');
    expect(html.details).toEqual({ provider: 'aliyun', status: 502 });

    const odd = await refusal(
      client({
        fetch: () => Promise.resolve(Response.json({ Code: `bad ${PHONE}`, RequestId: 'r-1' })),
      }).send(PHONE, { code: '1' }),
    );
    expect(odd.code).toBe('ERR_SMS_SEND_FAILED');
    // A "code" that is not a code token is not repeated.
    expect(odd.details).toEqual({ provider: 'aliyun', requestId: 'r-1', status: 200 });
  });
});
