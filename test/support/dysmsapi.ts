/**
 * A fake Alibaba Cloud SMS endpoint (dysmsapi 2017-05-25) on 127.0.0.1 for tests: it checks each
 * `SendSms` the way the real service does (common parameters, `Timestamp` format, a fresh
 * `SignatureNonce`, the HMAC-SHA1 signature recomputed here from the raw form independently of
 * src/platforms/aliyun/rpc.ts) and answers with Aliyun's JSON shapes and error codes. Accepted
 * messages are recorded so a test can read the code out of `TemplateParam`.
 */

import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SmsMessage {
  readonly phoneNumbers: string;
  readonly signName: string;
  readonly templateCode: string;
  readonly templateParam: Record<string, string>;
  readonly regionId: string;
  readonly timestamp: string;
  readonly nonce: string;
}

export interface Refusal {
  readonly code: string;
  readonly requestId: string;
}

export interface FakeDysmsapi {
  readonly url: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** Messages accepted with `Code: OK`. */
  readonly messages: SmsMessage[];
  /** Requests refused, with the code answered. */
  readonly refusals: Refusal[];
  /** Every request line's URL (path and query), to show no PI travels in it. */
  readonly urls: string[];
  /** Makes the next requests answer this (`Code` in a 200, as Aliyun does for isv.* errors). */
  failNext(code: string, times?: number): void;
  /** Holds each answer back this long (to test the client's timeout). */
  delayMs: number;
  /** Waits until `n` messages were accepted. */
  waitFor(n: number, timeoutMs?: number): Promise<SmsMessage[]>;
  stop(): Promise<void>;
}

/** RFC 3986 over UTF-8 bytes: unreserved kept, every other byte %XY. Written apart from the code under test. */
function encode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function stringToSign(params: Map<string, string>): string {
  const names = [...params.keys()].filter((n) => n !== 'Signature').sort();
  const canonical = names.map((n) => `${encode(n)}=${encode(params.get(n)!)}`).join('&');
  return `POST&${encode('/')}&${encode(canonical)}`;
}

function expectedSignature(params: Map<string, string>, secret: string): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign(params)).digest('base64');
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

export async function startFakeDysmsapi(
  options: { accessKeyId?: string; accessKeySecret?: string; maxSkewMinutes?: number } = {},
): Promise<FakeDysmsapi> {
  const accessKeyId = options.accessKeyId ?? 'LTAI-test-key';
  const accessKeySecret = options.accessKeySecret ?? 'fake-dysmsapi-secret';
  const messages: SmsMessage[] = [];
  const refusals: Refusal[] = [];
  const urls: string[] = [];
  const nonces = new Set<string>();
  let failures: { code: string; times: number } | undefined;
  const waiters: (() => void)[] = [];

  const answer = (res: ServerResponse, status: number, body: Record<string, string>): void => {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const refuse = (res: ServerResponse, status: number, code: string, message?: string): void => {
    const requestId = randomUUID().toUpperCase();
    refusals.push({ code, requestId });
    answer(res, status, {
      RequestId: requestId,
      HostId: 'dysmsapi.aliyuncs.com',
      Code: code,
      Message: message ?? `fake dysmsapi refused the request: ${code}`,
      Recommend: 'https://api.aliyun.com/troubleshoot',
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    urls.push(req.url ?? '');
    if (
      req.method !== 'POST' ||
      !(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    )
      return refuse(res, 400, 'UnsupportedHTTPMethod');
    // Any parameter in the query too, as Aliyun reads both.
    const params = new Map<string, string>();
    for (const [k, v] of new URL(req.url ?? '/', 'http://x').searchParams) params.set(k, v);
    for (const [k, v] of new URLSearchParams(raw)) params.set(k, v);
    const get = (name: string): string => params.get(name) ?? '';
    for (const name of [
      'AccessKeyId',
      'Action',
      'Format',
      'SignatureMethod',
      'SignatureNonce',
      'SignatureVersion',
      'Signature',
      'Timestamp',
      'Version',
    ])
      if (!params.has(name)) return refuse(res, 400, `MissingParameter`);
    if (get('SignatureMethod') !== 'HMAC-SHA1' || get('SignatureVersion') !== '1.0')
      return refuse(res, 400, 'InvalidSignatureMethod');
    if (!TIMESTAMP.test(get('Timestamp'))) return refuse(res, 400, 'InvalidTimeStamp.Format');
    const skew = Math.abs(Date.parse(get('Timestamp')) - Date.now());
    if (options.maxSkewMinutes !== undefined && skew > options.maxSkewMinutes * 60_000)
      return refuse(res, 400, 'InvalidTimeStamp.Expired');
    if (get('AccessKeyId') !== accessKeyId) return refuse(res, 404, 'InvalidAccessKeyId.NotFound');
    if (get('Signature') !== expectedSignature(params, accessKeySecret))
      // As Aliyun does, the message quotes the server's string to sign: the phone number with it.
      return refuse(
        res,
        400,
        'SignatureDoesNotMatch',
        `Specified signature is not matched with our calculation. server string to sign is:${stringToSign(params)}`,
      );
    if (nonces.has(get('SignatureNonce'))) return refuse(res, 400, 'SignatureNonceUsed');
    nonces.add(get('SignatureNonce'));
    if (get('Action') !== 'SendSms' || get('Version') !== '2017-05-25')
      return refuse(res, 400, 'InvalidAction');
    if (get('Format') !== 'JSON') return refuse(res, 400, 'InvalidParameter.Format');
    if (!/^1[3-9]\d{9}$/.test(get('PhoneNumbers'))) return refuse(res, 200, 'isv.MOBILE_NUMBER_ILLEGAL');
    let templateParam: Record<string, string>;
    try {
      templateParam = JSON.parse(get('TemplateParam')) as Record<string, string>;
    } catch {
      return refuse(res, 200, 'isv.INVALID_JSON_PARAM');
    }
    if (failures !== undefined && failures.times > 0) {
      failures.times--;
      return refuse(res, 200, failures.code);
    }
    messages.push({
      phoneNumbers: get('PhoneNumbers'),
      signName: get('SignName'),
      templateCode: get('TemplateCode'),
      templateParam,
      regionId: get('RegionId'),
      timestamp: get('Timestamp'),
      nonce: get('SignatureNonce'),
    });
    answer(res, 200, {
      Message: 'OK',
      RequestId: randomUUID().toUpperCase(),
      Code: 'OK',
      BizId: `${Date.now()}^0`,
    });
    for (const wake of waiters.splice(0)) wake();
  };

  const fake: FakeDysmsapi = {
    url: '',
    accessKeyId,
    accessKeySecret,
    messages,
    refusals,
    urls,
    delayMs: 0,
    failNext(code, times = 1) {
      failures = { code, times };
    },
    async waitFor(n, timeoutMs = 5_000) {
      const until = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > until) throw new Error(`fake dysmsapi: ${messages.length} of ${n} messages`);
        await new Promise<void>((wake) => {
          waiters.push(wake);
          setTimeout(wake, 50);
        });
      }
      return messages;
    },
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const go = (): void => handle(req, res, Buffer.concat(chunks).toString('utf8'));
      if (fake.delayMs > 0) setTimeout(go, fake.delayMs);
      else go();
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  (fake as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return fake;
}
