/**
 * Alibaba Cloud RPC-style request signing (signature method V2: `SignatureMethod=HMAC-SHA1`,
 * `SignatureVersion=1.0`), as the Alibaba Cloud "Request syntax and signature method V2 for RPC
 * APIs" documentation and the official SDKs do it:
 *
 *     CanonicalizedQueryString = the parameters except `Signature`, sorted by name,
 *                                percentEncode(name) + '=' + percentEncode(value), joined by '&'
 *     StringToSign = METHOD + '&' + percentEncode('/') + '&' + percentEncode(CanonicalizedQueryString)
 *     Signature    = Base64(HMAC-SHA1(AccessKeySecret + '&', UTF-8(StringToSign)))
 *
 * Pure functions over node:crypto: no I/O, no clock, no randomness (callers pass those in).
 */

import { createHmac } from 'node:crypto';

export type RpcParams = Readonly<Record<string, string>>;

/**
 * RFC 3986 percent-encoding of UTF-8 as Alibaba Cloud wants it: only `A-Z a-z 0-9 - _ . ~` stay;
 * everything else is `%XY` (upper-case hex), so a space is `%20` (never `+`) and `*` is `%2A`.
 * `encodeURIComponent` leaves `! ' ( ) *` alone, which this encodes too.
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The parameters except `Signature`, sorted by name (code-unit order; the names are ASCII), encoded. */
export function canonicalQuery(params: RpcParams): string {
  return Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name]!)}`)
    .join('&');
}

export function rpcStringToSign(method: 'GET' | 'POST', params: RpcParams): string {
  return `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
}

/** Base64 HMAC-SHA1 of the string to sign under `AccessKeySecret + '&'`. */
export function rpcSignature(method: 'GET' | 'POST', params: RpcParams, accessKeySecret: string): string {
  return createHmac('sha1', Buffer.from(`${accessKeySecret}&`, 'utf8'))
    .update(rpcStringToSign(method, params), 'utf8')
    .digest('base64');
}

/** ISO 8601 in UTC without milliseconds, `yyyy-MM-ddTHH:mm:ssZ`, as `Timestamp` must be. */
export function rpcTimestamp(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** A form body (or query) of already-signed parameters, encoded the same way as for signing. */
export function encodeForm(params: RpcParams): string {
  return Object.entries(params)
    .map(([name, value]) => `${percentEncode(name)}=${percentEncode(value)}`)
    .join('&');
}
