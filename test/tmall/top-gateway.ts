import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A TOP-compatible gateway for tests (node:http on 127.0.0.1:0): it checks every request's
 * signature and timestamp the way the platform does, independently of the client's code, and
 * answers `taobao.trades.sold.increment.get` and `taobao.top.oaid.decrypt` in the documented
 * shapes (`<method>_response`, lists wrapped as `{ trade: [...] }`, errors as `error_response`).
 * A trade carries only the `fields` asked for, `tid` as a JSON number written with all its digits
 * (which `JSON.parse` rounds above 2^53, as it does with the real gateway's answers) and `tid_str`
 * as its string form.
 */
export interface FakeTrade {
  /** The order id's digits: sent as a JSON number `tid` and as the string `tid_str`. */
  readonly tid: string;
  readonly [field: string]: unknown;
}

export interface FakeReceiver {
  readonly oaid: string;
  readonly tid: string;
  readonly name: string;
  readonly mobile: string;
  readonly state: string;
  readonly city: string;
  readonly district: string;
  readonly address_detail: string;
  readonly privacy_protection?: boolean;
  readonly matched?: boolean;
  readonly desensitize_rule?: string;
}

export interface GatewayCall {
  readonly method: string;
  readonly params: Readonly<Record<string, string>>;
}

export interface TopGateway {
  readonly url: string;
  readonly calls: GatewayCall[];
  /** Requests refused, by TOP error code. */
  readonly refused: number[];
  close(): Promise<void>;
}

/** Marks a string to be written as a bare JSON number (`JSON.stringify` cannot, past 2^53). */
const NUMBER = '@@top-number@@';

function toWire(body: unknown): string {
  return JSON.stringify(body).replace(new RegExp(`"${NUMBER}(-?\\d+)"`, 'gu'), '$1');
}

/** A trade as TOP sends it: the requested fields only, `tid` a number and `tid_str` a string. */
function wireTrade(trade: FakeTrade, fields: readonly string[] | undefined, tidStr: boolean): unknown {
  const tid = /^\d+$/u.test(trade.tid) ? `${NUMBER}${trade.tid}` : trade.tid;
  const all: Record<string, unknown> = { ...trade, tid };
  if (tidStr) all['tid_str'] = trade.tid;
  if (fields === undefined) return all;
  return Object.fromEntries(Object.entries(all).filter(([name]) => fields.includes(name)));
}

function sign(params: Record<string, string>, secret: string, method: string): string {
  const text = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== '')
    .sort()
    .map((k) => `${k}${params[k]}`)
    .join('');
  if (method === 'md5')
    return createHash('md5').update(`${secret}${text}${secret}`).digest('hex').toUpperCase();
  return createHmac(method === 'hmac' ? 'md5' : 'sha256', secret)
    .update(text)
    .digest('hex')
    .toUpperCase();
}

async function formOf(request: IncomingMessage): Promise<Record<string, string>> {
  let body = '';
  request.setEncoding('utf8');
  for await (const chunk of request) body += chunk as string;
  const params: Record<string, string> = {};
  const url = new URL(request.url ?? '/', 'http://gateway');
  for (const [k, v] of url.searchParams) params[k] = v;
  for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  return params;
}

export async function startTopGateway(options: {
  readonly appKey: string;
  readonly appSecret: string;
  readonly trades?: readonly FakeTrade[];
  readonly receivers?: readonly FakeReceiver[];
  readonly now?: () => Date;
  /** Whether trades carry `tid_str` when asked for it (default true). */
  readonly tidStr?: boolean;
}): Promise<TopGateway> {
  const calls: GatewayCall[] = [];
  const refused: number[] = [];
  const error = (code: number, msg: string, sub?: string): unknown => {
    refused.push(code);
    return { error_response: { code, msg, ...(sub ? { sub_code: sub } : {}), request_id: 'fake' } };
  };
  const handle = (p: Record<string, string>): unknown => {
    if (p['app_key'] !== options.appKey) return error(29, 'Invalid app Key');
    const method = p['sign_method'] ?? 'md5';
    if (!['md5', 'hmac', 'hmac-sha256'].includes(method)) return error(25, 'Invalid signature');
    if (p['sign'] !== sign(p, options.appSecret, method)) return error(25, 'Invalid signature');
    // ±10 minutes around the gateway's clock, the timestamp read as GMT+8.
    const at = Date.parse(`${(p['timestamp'] ?? '').replace(' ', 'T')}+08:00`);
    if (!Number.isFinite(at) || Math.abs(at - (options.now ?? (() => new Date()))().getTime()) > 600_000)
      return error(43, 'Invalid timestamp');
    calls.push({ method: p['method'] ?? '', params: p });
    switch (p['method']) {
      case 'taobao.trades.sold.increment.get': {
        const size = Number(p['page_size'] ?? 40);
        const page = Number(p['page_no'] ?? 1);
        const all = options.trades ?? [];
        const fields = p['fields']?.split(',').map((f) => f.trim());
        const slice = all
          .slice((page - 1) * size, page * size)
          .map((t) => wireTrade(t, fields, options.tidStr ?? true));
        return {
          trades_sold_increment_get_response: {
            total_results: all.length,
            has_next: page * size < all.length,
            trades: { trade: slice },
          },
        };
      }
      case 'taobao.top.oaid.decrypt': {
        const queries = JSON.parse(p['query_list'] ?? '[]') as { oaid: string; tid: string; scene: string }[];
        if (queries.length > 20) return error(40, 'Invalid arguments', 'isv.invalid-parameter:query_list');
        const receiver = queries.flatMap((q) => {
          const r = options.receivers?.find((x) => x.oaid === q.oaid && x.tid === q.tid);
          return r ? [r] : [];
        });
        return { top_oaid_decrypt_response: { receiver_list: { receiver }, request_id: 'fake' } };
      }
      default:
        return error(22, 'Invalid method');
    }
  };
  const server: Server = createServer((request, response) => {
    formOf(request)
      .then((params) => {
        response.setHeader('content-type', 'application/json;charset=UTF-8');
        response.end(toWire(handle(params)));
      })
      .catch(() => {
        response.statusCode = 500;
        response.end();
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/router/rest`,
    calls,
    refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
