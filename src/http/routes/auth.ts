import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CustodianError, isCustodianError } from '../../domain/errors.js';
import type { AppContext } from '../app.js';
import { assertSameSite, SESSION_COOKIE, sessionCookieOptions } from '../auth.js';
import { problemSchema } from '../problem.js';

export interface AuthRouteOptions {
  readonly context: AppContext;
}

const principalSchema = z.object({
  kind: z.enum(['token', 'staff']),
  id: z.string(),
  name: z.string(),
  role: z.string(),
  /** R18: false when training is required and this person's has lapsed. */
  trainingCurrent: z.boolean(),
});

/** Tells the client when to retry after a back-off or lockout. */
function withRetryAfter(reply: FastifyReply, error: unknown): unknown {
  if (isCustodianError(error)) {
    const seconds = error.details?.['retryAfterSeconds'];
    if (typeof seconds === 'number') void reply.header('retry-after', String(seconds));
  }
  return error;
}

/**
 * Staff sign-in and sign-out (reachable without a principal) and `me`. The session id travels only
 * in the httpOnly cookie, never in a response body.
 */
export const authRoutes: FastifyPluginAsyncZod<AuthRouteOptions> = (app, { context }) => {
  app.post(
    '/auth/sign-in',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Staff sign-in with password and TOTP code; sets the session cookie',
        description:
          'Send x-custodian-csrf: 1. Every wrong username, password or code answers the same 401; failures back off (429) and then lock the account (423).',
        security: [],
        body: z.strictObject({
          username: z.string().min(1).max(128),
          password: z.string().min(1).max(1024),
          totp: z.string().max(16).optional().describe('The 6-digit code from the authenticator app'),
        }),
        response: {
          200: z.object({
            principal: principalSchema,
            expiresAt: z.string(),
            idleTimeoutSeconds: z.number().int(),
          }),
          400: problemSchema,
          401: problemSchema,
          403: problemSchema,
          423: problemSchema,
          429: problemSchema,
        },
      },
    },
    async (request, reply) => {
      // Login CSRF: a cross-site page must not sign the browser in to someone else's account.
      assertSameSite(request);
      const { username, password, totp } = request.body;
      try {
        const signedIn = await context.staff.signIn({
          username,
          password,
          totp,
          currentSession: request.cookies[SESSION_COOKIE],
        });
        void reply
          .header('cache-control', 'no-store')
          .setCookie(
            SESSION_COOKIE,
            signedIn.token,
            sessionCookieOptions(request, context.staff.sessionLifetimeSeconds),
          );
        return {
          principal: { ...signedIn.principal, trainingCurrent: signedIn.principal.trainingCurrent ?? true },
          expiresAt: signedIn.expiresAt,
          idleTimeoutSeconds: context.staff.idleTimeoutSeconds,
        };
      } catch (error) {
        throw withRetryAfter(reply, error);
      }
    },
  );

  app.post(
    '/auth/sign-out',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Ends the staff session and clears its cookie',
        security: [],
        body: z.strictObject({}).nullish().describe('No body, or {}'),
        response: { 200: z.object({ signedOut: z.boolean() }), 403: problemSchema },
      },
    },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token === undefined) return { signedOut: false };
      assertSameSite(request);
      const signedOut = await context.staff.signOut(token);
      void reply.clearCookie(SESSION_COOKIE, sessionCookieOptions(request, 0));
      return { signedOut };
    },
  );

  app.get(
    '/me',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'The calling principal',
        response: { 200: principalSchema, 401: problemSchema },
      },
    },
    (request) => {
      const principal = request.principal;
      if (principal === null) throw new CustodianError('ERR_AUTH_REQUIRED', 'no principal');
      return { ...principal, trainingCurrent: principal.trainingCurrent ?? true };
    },
  );
  return Promise.resolve();
};
