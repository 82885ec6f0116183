/**
 * Alibaba Cloud Short Message Service (dysmsapi, API version 2017-05-25), action `SendSms`, signed
 * as an RPC request (./rpc.ts). The request is a POST with a form body, so the phone number never
 * sits in a URL that a proxy might log. Nothing here logs; errors carry only the provider's error
 * `Code` and `RequestId`, never the phone number, the template parameters or the provider's
 * free-text `Message`.
 */

import { randomUUID } from 'node:crypto';
import { CustodianError } from '../../domain/errors.js';
import { encodeForm, rpcSignature, rpcTimestamp } from './rpc.js';

export const DYSMSAPI_VERSION = '2017-05-25';

export interface AliyunSmsOptions {
  /** e.g. `https://dysmsapi.aliyuncs.com/` */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  /** The approved SMS signature (签名名称). */
  readonly signName: string;
  /** The approved template (模板 CODE), e.g. `SMS_123456789`, with a `${code}` variable. */
  readonly templateCode: string;
  readonly regionId: string;
  readonly timeoutMs: number;
  readonly now?: () => Date;
  /** A fresh `SignatureNonce` per request (default: a random UUID). */
  readonly nonce?: () => string;
  readonly fetch?: typeof fetch;
}

export interface SmsReceipt {
  readonly requestId: string;
  readonly bizId: string;
}

/** A provider code or request id as text, if it looks like one (nothing else reaches a log line). */
function token(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9._:-]{1,128}$/u.test(value) ? value : undefined;
}

/** `ERR_SMS_SEND_FAILED` with what may be logged: the provider's code and request id, nothing sent. */
function failed(
  message: string,
  details: { providerCode?: string | undefined; requestId?: string | undefined; status?: number },
  cause?: unknown,
): CustodianError {
  const clean = Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined));
  return new CustodianError('ERR_SMS_SEND_FAILED', message, {
    details: { provider: 'aliyun', ...clean },
    ...(cause === undefined ? {} : { cause }),
  });
}

export class AliyunSms {
  readonly #o: AliyunSmsOptions;

  constructor(options: AliyunSmsOptions) {
    this.#o = options;
  }

  /** The signed parameters of one `SendSms`, ready to post. */
  signedParams(
    phoneNumbers: string,
    templateParam: Readonly<Record<string, string>>,
  ): Record<string, string> {
    const params: Record<string, string> = {
      AccessKeyId: this.#o.accessKeyId,
      Action: 'SendSms',
      Format: 'JSON',
      RegionId: this.#o.regionId,
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: (this.#o.nonce ?? randomUUID)(),
      SignatureVersion: '1.0',
      Timestamp: rpcTimestamp((this.#o.now ?? (() => new Date()))()),
      Version: DYSMSAPI_VERSION,
      PhoneNumbers: phoneNumbers,
      SignName: this.#o.signName,
      TemplateCode: this.#o.templateCode,
      TemplateParam: JSON.stringify(templateParam),
    };
    params['Signature'] = rpcSignature('POST', params, this.#o.accessKeySecret);
    return params;
  }

  /**
   * Sends the template to one phone. Anything but `{"Code":"OK"}` is `ERR_SMS_SEND_FAILED` with
   * `details.providerCode` (e.g. `SignatureDoesNotMatch`, `isv.BUSINESS_LIMIT_CONTROL`) and
   * `details.requestId`.
   */
  async send(phoneNumber: string, templateParam: Readonly<Record<string, string>>): Promise<SmsReceipt> {
    const body = encodeForm(this.signedParams(phoneNumber, templateParam));
    const doFetch = this.#o.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(this.#o.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
    } catch (cause) {
      const timedOut = (cause as Error | undefined)?.name === 'TimeoutError';
      throw failed(timedOut ? 'Aliyun SMS did not answer in time' : 'Aliyun SMS is unreachable', {}, cause);
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (cause) {
      throw failed(
        `Aliyun SMS answered HTTP ${response.status} without JSON`,
        { status: response.status },
        cause,
      );
    }
    const root = (json !== null && typeof json === 'object' ? json : {}) as Record<string, unknown>;
    const providerCode = token(root['Code']);
    const requestId = token(root['RequestId']);
    if (providerCode !== 'OK' || !response.ok) {
      throw failed(
        `Aliyun SMS refused SendSms: ${providerCode ?? 'no Code'}${requestId ? ` (RequestId ${requestId})` : ''}`,
        { providerCode, requestId, status: response.status },
      );
    }
    return {
      requestId: requestId ?? '',
      bizId: typeof root['BizId'] === 'string' ? root['BizId'].slice(0, 64) : '',
    };
  }
}
