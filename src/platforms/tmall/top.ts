/**
 * A client of the Taobao Open Platform (TOP) REST gateway: request signing exactly as R29 and the
 * official SDK (`TaobaoUtils.signTopRequest`) do it, GMT+8 timestamps, paged incremental order
 * sync and OAID decryption gated by scene and purpose (R30). It uses the global `fetch` and never
 * logs a request or response body: responses carry buyer data.
 */

import { createHash, createHmac } from 'node:crypto';
import { CustodianError } from '../../domain/errors.js';
import { assertScenePurpose, type SceneCode } from './rules.js';

export const SIGN_METHODS = ['md5', 'hmac', 'hmac-sha256'] as const;
export type SignMethod = (typeof SIGN_METHODS)[number];

export type TopParams = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * The TOP signature of a request (R29, regulation.md §7.1): every parameter except `sign` whose
 * name and value are non-empty, sorted by name in byte order, concatenated as `name` + `value`
 * with no separators or URL-encoding (UTF-8), then the body if one is signed; digested as
 * `MD5(secret + s + secret)` (md5), `HMAC-MD5(secret, s)` (hmac) or `HMAC-SHA256(secret, s)`;
 * upper-case hex.
 */
export function topSignature(params: TopParams, secret: string, method: SignMethod, body?: string): string {
  const names = Object.keys(params)
    .filter((name) => {
      const value = params[name];
      return name !== 'sign' && name !== '' && value !== undefined && value !== null && String(value) !== '';
    })
    // Byte order of the UTF-8 names: code-unit order is the same for the ASCII names TOP uses.
    .sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  let text = '';
  for (const name of names) text += name + String(params[name]);
  if (body !== undefined) text += body;
  switch (method) {
    case 'md5':
      return createHash('md5')
        .update(secret + text + secret, 'utf8')
        .digest('hex')
        .toUpperCase();
    case 'hmac':
      return createHmac('md5', Buffer.from(secret, 'utf8')).update(text, 'utf8').digest('hex').toUpperCase();
    case 'hmac-sha256':
      return createHmac('sha256', Buffer.from(secret, 'utf8'))
        .update(text, 'utf8')
        .digest('hex')
        .toUpperCase();
  }
}

/** `yyyy-MM-dd HH:mm:ss` in China Standard Time (GMT+8), as TOP expects whatever the host's zone. */
export function topTimestamp(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** A TOP trade as `taobao.trades.sold.get` / `…increment.get` return it (fields Custodian reads). */
export interface TopTrade {
  /** A JSON number: inexact above 2^53 once parsed, as today's 18–19 digit ids are. */
  readonly tid?: string | number;
  /** `tid` as a string (TOP's documented string form): the order id the sync uses. */
  readonly tid_str?: string;
  readonly status?: string;
  readonly created?: string;
  readonly modified?: string;
  readonly pay_time?: string;
  readonly payment?: string;
  readonly total_fee?: string;
  readonly title?: string;
  readonly buyer_message?: string;
  /** Masked after the privacy reform (`t**1`); stored only if it is not. */
  readonly buyer_nick?: string;
  readonly buyer_open_uid?: string;
  readonly oaid?: string;
  readonly receiver_name?: string;
  readonly receiver_mobile?: string;
  readonly receiver_phone?: string;
  readonly receiver_state?: string;
  readonly receiver_city?: string;
  readonly receiver_district?: string;
  readonly receiver_town?: string;
  readonly receiver_address?: string;
}

/** A page of trades. */
export interface TradePage {
  readonly pageNo: number;
  readonly trades: readonly TopTrade[];
  readonly hasNext: boolean;
  readonly totalResults: number | undefined;
}

/** One receiver as `taobao.top.oaid.decrypt` returns it. */
export interface TopReceiver {
  readonly oaid: string;
  readonly tid: string;
  readonly name?: string;
  readonly mobile?: string;
  readonly phone?: string;
  readonly state?: string;
  readonly city?: string;
  readonly district?: string;
  readonly town?: string;
  readonly address_detail?: string;
  readonly country?: string;
  readonly matched?: boolean;
  /** True when `mobile` is a privacy (virtual) number `18877771111-123`. */
  readonly privacy_protection?: boolean;
  readonly secret_no_expire_time?: string;
  readonly desensitize_rule?: string;
}

export interface DecryptQuery {
  readonly oaid: string;
  readonly tid: string;
  readonly scene: SceneCode;
  /** Binding days of a privacy number, if one is wanted. */
  readonly secretNoDays?: number;
}

/** At most this many receivers per `taobao.top.oaid.decrypt` call (API limit). */
export const DECRYPT_BATCH = 20;

/** Fields the incremental sync asks for (`tid_str`: the exact order id, see `tradeOrderId`). */
export const TRADE_FIELDS = [
  'tid',
  'tid_str',
  'status',
  'created',
  'modified',
  'pay_time',
  'payment',
  'title',
  'buyer_message',
  'buyer_nick',
  'buyer_open_uid',
  'oaid',
  'receiver_name',
  'receiver_mobile',
  'receiver_phone',
  'receiver_state',
  'receiver_city',
  'receiver_district',
  'receiver_town',
  'receiver_address',
].join(',');

export interface TopClientOptions {
  readonly gateway: string;
  readonly appKey: string;
  readonly appSecret: string;
  readonly signMethod: SignMethod;
  /** The seller's session key for APIs that need authorisation. */
  readonly session?: string | undefined;
  /** Scene → purpose (`tmall.scenes`). */
  readonly scenes: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
}

function topError(message: string, details: Record<string, unknown> = {}, cause?: unknown): CustodianError {
  return new CustodianError('ERR_TMALL_TOP_FAILED', message, {
    details,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A code or message of an error response as text (anything else: empty). */
function scalar(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** TOP wraps lists as `{ trade: [...] }` (`simplify=false`) or sends the array itself. */
function listOf<T>(value: unknown, key: string): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value !== null && typeof value === 'object') {
    const inner = (value as Record<string, unknown>)[key];
    if (Array.isArray(inner)) return inner as T[];
  }
  return [];
}

export class TopClient {
  readonly #o: TopClientOptions;

  constructor(options: TopClientOptions) {
    this.#o = options;
  }

  /** The signed parameters of a call (system and business), ready to send. */
  signedParams(method: string, params: TopParams): Record<string, string> {
    const all: Record<string, string> = {};
    const add = (name: string, value: string | number | boolean | null | undefined): void => {
      if (value !== undefined && value !== null && String(value) !== '') all[name] = String(value);
    };
    add('method', method);
    add('app_key', this.#o.appKey);
    add('session', this.#o.session);
    add('timestamp', topTimestamp((this.#o.now ?? (() => new Date()))()));
    add('format', 'json');
    add('v', '2.0');
    add('sign_method', this.#o.signMethod);
    for (const [name, value] of Object.entries(params)) add(name, value);
    all['sign'] = topSignature(all, this.#o.appSecret, this.#o.signMethod);
    return all;
  }

  /**
   * Calls `method` and returns its `<method>_response` object. An `error_response` becomes
   * `ERR_TMALL_TOP_FAILED` with TOP's code and sub-code (never the request's values).
   */
  async call(method: string, params: TopParams = {}): Promise<Record<string, unknown>> {
    const body = new URLSearchParams(this.signedParams(method, params));
    const doFetch = this.#o.fetch ?? fetch;
    let response: Response;
    try {
      response = await doFetch(this.#o.gateway, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' },
        body,
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 15_000),
      });
    } catch (cause) {
      throw topError(`TOP gateway unreachable for ${method}`, { method }, cause);
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (cause) {
      throw topError(
        `TOP answered ${method} with HTTP ${response.status} and no JSON`,
        { method, status: response.status },
        cause,
      );
    }
    const root = (json ?? {}) as Record<string, unknown>;
    const failure = root['error_response'] as
      | { code?: unknown; msg?: unknown; sub_code?: unknown; sub_msg?: unknown; request_id?: unknown }
      | undefined;
    if (failure !== undefined) {
      throw topError(`TOP refused ${method}: ${scalar(failure.code) || '?'} ${scalar(failure.msg)}`.trim(), {
        method,
        code: failure.code,
        subCode: failure.sub_code,
        requestId: failure.request_id,
      });
    }
    const key = `${method.replace(/^taobao\./u, '').replaceAll('.', '_')}_response`;
    const payload = root[key];
    if (payload === null || typeof payload !== 'object')
      throw topError(`TOP answered ${method} without ${key}`, { method });
    return payload as Record<string, unknown>;
  }

  /**
   * One page of trades modified in `[start, end)` (`taobao.trades.sold.increment.get`: the
   * incremental form of `taobao.trades.sold.get`, same trade shape; TOP limits a window to a day).
   */
  async tradesPage(window: { start: Date; end: Date }, pageNo: number, pageSize = 100): Promise<TradePage> {
    const response = await this.call('taobao.trades.sold.increment.get', {
      fields: TRADE_FIELDS,
      start_modified: topTimestamp(window.start),
      end_modified: topTimestamp(window.end),
      page_no: pageNo,
      page_size: pageSize,
      use_has_next: true,
      include_oaid: true,
    });
    const total = response['total_results'];
    return {
      pageNo,
      trades: listOf<TopTrade>(response['trades'], 'trade'),
      hasNext: response['has_next'] === true || response['has_next'] === 'true',
      totalResults: typeof total === 'number' ? total : total === undefined ? undefined : Number(total),
    };
  }

  /** Every page of the window, in order, until `has_next` is false. */
  async *trades(window: { start: Date; end: Date }, pageSize = 100): AsyncGenerator<TradePage> {
    for (let pageNo = 1; ; pageNo++) {
      const page = await this.tradesPage(window, pageNo, pageSize);
      yield page;
      if (!page.hasNext || page.trades.length === 0) return;
    }
  }

  /**
   * Decrypts receivers by OAID for `purpose` (`taobao.top.oaid.decrypt`, 20 per call). Every
   * query's scene must serve `purpose` (R30), checked before anything is sent: otherwise
   * `ERR_TMALL_SCENE_PURPOSE`. The result is buyer data in clear: hand it to the vault, nowhere else.
   */
  async decryptOaid(purpose: string, queries: readonly DecryptQuery[]): Promise<TopReceiver[]> {
    for (const q of queries) assertScenePurpose(q.scene, purpose, this.#o.scenes);
    const receivers: TopReceiver[] = [];
    for (let i = 0; i < queries.length; i += DECRYPT_BATCH) {
      const batch = queries.slice(i, i + DECRYPT_BATCH).map((q) => ({
        oaid: q.oaid,
        tid: q.tid,
        scene: String(q.scene),
        ...(q.secretNoDays === undefined ? {} : { secret_no_days: q.secretNoDays }),
      }));
      const response = await this.call('taobao.top.oaid.decrypt', { query_list: JSON.stringify(batch) });
      receivers.push(...listOf<TopReceiver>(response['receiver_list'], 'receiver'));
    }
    return receivers;
  }
}
