/**
 * Request authentication for `/v1`: an integration's bearer API key, or a staff member's session
 * cookie. Cookies ride along on cross-site requests, so a cookie-authenticated unsafe request must
 * also prove it came from this site (CSRF); a bearer token is never sent implicitly and needs no
 * such proof.
 */
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import { CustodianError } from '../domain/errors.js';
import { authenticate } from '../services/tokens.js';
import type { Principal } from '../services/tokens.js';
import type { AppContext } from './app.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers without a principal (sign-in, sign-out); everything else under /v1 needs one. */
    public?: boolean;
  }
}

/** The session cookie: httpOnly, SameSite=Strict, Path=/, Secure under TLS. */
export const SESSION_COOKIE = 'custodian_session';

/** The header a cookie-authenticated script sends on unsafe methods; a cross-site page cannot (CORS). */
export const CSRF_HEADER = 'x-custodian-csrf';

const BEARER = /^Bearer ([^\s]+)$/i;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Establishes the principal: `Authorization: Bearer` first (an API key), else the session cookie
 * (a staff member). Neither is `ERR_AUTH_REQUIRED`.
 */
export async function authenticateRequest(context: AppContext, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match?.[1])
      throw new CustodianError('ERR_AUTH_INVALID', 'the Authorization header is not a bearer token');
    return authenticate(context.store, match[1], context.now());
  }
  const session = request.cookies[SESSION_COOKIE];
  if (session === undefined || session === '')
    throw new CustodianError(
      'ERR_AUTH_REQUIRED',
      'send Authorization: Bearer <api key>, or sign in at /v1/auth/sign-in',
    );
  const principal = await context.staff.authenticateSession(session);
  if (!SAFE_METHODS.has(request.method)) assertSameSite(request);
  return principal;
}

/**
 * CSRF defence for cookie-authenticated unsafe requests: accepts `x-custodian-csrf: 1` (a custom
 * header a cross-site page cannot send without a CORS preflight this server never grants),
 * `Sec-Fetch-Site: same-origin`, or an `Origin` equal to this server's own.
 */
export function assertSameSite(request: FastifyRequest): void {
  if (request.headers[CSRF_HEADER] === '1') return;
  if (request.headers['sec-fetch-site'] === 'same-origin') return;
  const origin = request.headers.origin;
  if (origin !== undefined && origin === `${request.protocol}://${request.host}`) return;
  throw new CustodianError(
    'ERR_CSRF_REJECTED',
    `a cookie-authenticated ${request.method} must send ${CSRF_HEADER}: 1 or come from this origin`,
  );
}

/** Cookie attributes; `Secure` when the request arrived over HTTPS (directly or via a trusted proxy). */
export function sessionCookieOptions(request: FastifyRequest, maxAgeSeconds: number): CookieSerializeOptions {
  return {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    secure: request.protocol === 'https',
    maxAge: maxAgeSeconds,
  };
}
