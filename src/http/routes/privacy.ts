import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CONSENT_KINDS, GUARDIAN_RELATIONSHIPS } from '../../domain/consent/model.js';
import type { Datamap } from '../../domain/datamap/schema.js';
import { CustodianError, isCustodianError } from '../../domain/errors.js';
import type { ConsentService } from '../../services/consent.js';
import type { PolicyService } from '../../services/policy.js';
import { CUSTOMER_PRINCIPAL, type PrivacyCentre } from '../../services/privacy-centre.js';
import { PRIVACY_REQUEST_KINDS } from '../../store/privacy.js';
import { isLang, LANGS, type Lang, type MessageKey } from '../../web/i18n.js';
import {
  accountPage,
  codePage,
  errorPage,
  homePage,
  noticesAtom,
  noticesPage,
  signInPage,
  versionsPage,
  type PageContext,
} from '../../web/pages.js';
import { assertSameSite } from '../auth.js';
import { problemOf, problemSchema, sendProblem } from '../problem.js';
import { privacyEmbedRoutes } from './privacy-embed.js';

export interface PrivacyRouteOptions {
  readonly privacyPolicy: PolicyService;
  readonly centre: PrivacyCentre;
  readonly consent: ConsentService;
  readonly datamap: Datamap;
}

/** The customer's session in the privacy centre: httpOnly, SameSite=Strict, only under /privacy. */
export const PRIVACY_SESSION_COOKIE = 'custodian_privacy';
/** The pending sign-in challenge (its id only; the code never leaves the customer's phone or mailbox). */
export const CHALLENGE_COOKIE = 'custodian_privacy_challenge';
/** The chosen language, when the customer switched with `?lang=`. */
export const LANG_COOKIE = 'custodian_lang';

const HTML = 'text/html; charset=utf-8';
const langQuery = z.strictObject({ lang: z.enum(LANGS).optional() });
const page = {
  200: z.string(),
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
};
const redirect = {
  303: z.null(),
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  429: problemSchema,
};
const UI_VERSION = 'privacy-centre/1';

function cookieOptions(request: FastifyRequest, maxAge: number, sameSite: 'strict' | 'lax' = 'strict') {
  return { httpOnly: true, sameSite, path: '/privacy', secure: request.protocol === 'https', maxAge };
}

/**
 * The privacy centre at /privacy (practice 4; docs/privacy-centre.md): public pages (policy,
 * versions and diffs, notices and their Atom feed), sign-in by one-time code, and for a signed-in
 * customer the consent dashboard, receipts and requests. Server-rendered HTML forms: everything
 * works without JavaScript. Form posts prove their origin: sign-in by `Sec-Fetch-Site`/`Origin`
 * (login CSRF), signed-in forms by the session's CSRF token as well.
 */
export const privacyRoutes: FastifyPluginAsyncZod<PrivacyRouteOptions> = async (app, options) => {
  const { privacyPolicy, centre, consent, datamap } = options;
  const controller = { name: datamap.processor.name, contact: datamap.processor.contact };

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  /** `?lang=` wins and is remembered in a cookie; then the cookie; then zh-CN. */
  function langOf(request: FastifyRequest, reply: FastifyReply, explicit?: string): Lang {
    const query = (request.query as { lang?: unknown } | undefined)?.lang ?? explicit;
    if (isLang(query)) {
      if (request.cookies[LANG_COOKIE] !== query)
        void reply.setCookie(LANG_COOKIE, query, cookieOptions(request, 365 * 86_400, 'lax'));
      return query;
    }
    const cookie = request.cookies[LANG_COOKIE];
    return isLang(cookie) ? cookie : 'zh-CN';
  }

  async function sessionOf(request: FastifyRequest) {
    try {
      return await centre.authenticate(request.cookies[PRIVACY_SESSION_COOKIE]);
    } catch (error) {
      if (isCustodianError(error) && error.code === 'ERR_PRIVACY_SESSION_INVALID') return undefined;
      throw error;
    }
  }

  async function context(request: FastifyRequest, reply: FastifyReply, path: string, lang?: string) {
    const session = await sessionOf(request);
    const ctx: PageContext = {
      lang: langOf(request, reply, lang),
      path,
      signedIn: session !== undefined,
      csrf: session === undefined ? undefined : centre.csrfToken(session.idHash),
      controller,
    };
    return { ctx, session };
  }

  const send = (reply: FastifyReply, lang: Lang, body: string, status = 200) =>
    reply
      .code(status)
      .type(HTML)
      .header('content-language', lang)
      .header('cache-control', 'no-store')
      .serializer((s) => s as string)
      .send(body);

  // A person in a browser gets a page that says what happened and the way on (sign in again after
  // a lapsed session, go back after a refused form); scripts and the embed get problem+json.
  app.setErrorHandler((error, request, reply) => {
    const { problem, headers } = problemOf(
      error instanceof Error ? error : new Error('non-error thrown'),
      request,
    );
    if (!(request.headers.accept ?? '').includes('text/html')) return sendProblem(reply, problem, headers);
    const ctx: PageContext = { lang: langOf(request, reply), path: '/privacy', signedIn: false, controller };
    return send(
      reply.headers(headers),
      ctx.lang,
      errorPage(ctx, { status: problem.status, code: problem.code, requestId: problem.requestId }),
      problem.status,
    );
  });

  app.get(
    '/privacy',
    {
      schema: {
        tags: ['privacy'],
        summary: 'The privacy centre: the current policy, the latest notices, sign-in',
        security: [],
        querystring: langQuery,
        response: page,
      },
    },
    async (request, reply) => {
      const { ctx } = await context(request, reply, '/privacy');
      const latest = (await privacyPolicy.versions()).at(-1);
      const policyHtml =
        latest === undefined
          ? undefined
          : await privacyPolicy.render({ lang: ctx.lang, format: 'html', version: latest.number });
      return send(
        reply,
        ctx.lang,
        homePage(ctx, { policyHtml, version: latest, notices: await centre.notices(3) }),
      );
    },
  );

  app.get(
    '/privacy/policy',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'The published privacy policy (zh-CN by default, en on request), generated from the data map',
        security: [],
        querystring: z.strictObject({
          lang: z.enum(LANGS).default('zh-CN'),
          version: z.coerce.number().int().min(1).optional(),
          format: z.enum(['html', 'md']).default('html'),
        }),
        response: { 200: z.string(), 404: problemSchema },
      },
    },
    async (request, reply) => {
      const { lang, version, format } = request.query;
      const body = await privacyPolicy.render({ lang, format, version, document: true });
      return reply
        .type(format === 'html' ? HTML : 'text/markdown; charset=utf-8')
        .header('content-language', lang)
        .serializer((s) => s as string)
        .send(body);
    },
  );

  app.get(
    '/privacy/versions',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Every published policy version with what it changed',
        security: [],
        querystring: langQuery,
        response: page,
      },
    },
    async (request, reply) => {
      const { ctx } = await context(request, reply, '/privacy/versions');
      const versions = await privacyPolicy.versions();
      const items = [];
      for (const v of [...versions].reverse()) {
        const diff =
          v.number === 1
            ? undefined
            : (await privacyPolicy.diff(v.number - 1, v.number, ctx.lang, 'text')).text;
        items.push({
          number: v.number,
          publishedAt: v.publishedAt,
          requiresReconsent: v.requiresReconsent,
          diff,
        });
      }
      return send(reply, ctx.lang, versionsPage(ctx, items));
    },
  );

  app.get(
    '/privacy/notices',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Notices and updates from the privacy officer',
        security: [],
        querystring: langQuery,
        response: page,
      },
    },
    async (request, reply) => {
      const { ctx } = await context(request, reply, '/privacy/notices');
      return send(reply, ctx.lang, noticesPage(ctx, await centre.notices()));
    },
  );

  app.get(
    '/privacy/notices.atom',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Notices and updates as an Atom feed (RFC 4287)',
        security: [],
        querystring: langQuery,
        response: { 200: z.string(), 400: problemSchema },
      },
    },
    async (request, reply) => {
      const lang = request.query.lang ?? 'zh-CN';
      const base = `${request.protocol}://${request.host}`;
      return reply
        .type('application/atom+xml; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .serializer((s) => s as string)
        .send(noticesAtom(lang, base, controller, await centre.notices()));
    },
  );

  app.get(
    '/privacy/sign-in',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Sign-in form: a one-time code to the phone or email on record',
        security: [],
        querystring: langQuery,
        response: { ...page, 303: z.null() },
      },
    },
    async (request, reply) => {
      const { ctx, session } = await context(request, reply, '/privacy/sign-in');
      if (session !== undefined) return reply.code(303).redirect('/privacy/account');
      return send(reply, ctx.lang, signInPage(ctx, {}));
    },
  );

  app.post(
    '/privacy/sign-in',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'Sends a 6-digit code if a customer has this phone or email; the same answer either way (no enumeration)',
        security: [],
        body: z.strictObject({
          kind: z.enum(['phone', 'email']),
          identity: z.string().trim().min(3).max(254),
          lang: z.enum(LANGS).optional(),
        }),
        response: { ...redirect, 200: z.string(), 429: z.string() },
      },
    },
    async (request, reply) => {
      assertSameSite(request);
      const { ctx } = await context(request, reply, '/privacy/sign-in', request.body.lang);
      let challenge: string;
      try {
        ({ challenge } = await centre.startSignIn(request.body.kind, request.body.identity, ctx.lang));
      } catch (error) {
        if (isCustodianError(error) && error.code === 'ERR_PRIVACY_CODE_RATE_LIMITED') {
          const retry = error.details?.['retryAfterSeconds'];
          void reply.header('retry-after', typeof retry === 'number' ? String(retry) : '900');
          return send(
            reply,
            ctx.lang,
            signInPage(ctx, { error: 'signIn.rateLimited', kind: request.body.kind }),
            429,
          );
        }
        throw error;
      }
      void reply.setCookie(CHALLENGE_COOKIE, challenge, cookieOptions(request, centre.codeSeconds));
      return reply.code(303).redirect('/privacy/sign-in/code');
    },
  );

  app.get(
    '/privacy/sign-in/code',
    {
      schema: {
        tags: ['privacy'],
        summary: 'The form for the one-time code',
        security: [],
        querystring: langQuery,
        response: page,
      },
    },
    async (request, reply) => {
      const { ctx } = await context(request, reply, '/privacy/sign-in/code');
      const error: MessageKey | undefined =
        request.cookies[CHALLENGE_COOKIE] === undefined ? 'signIn.noChallenge' : undefined;
      return send(reply, ctx.lang, codePage(ctx, { error, minutes: centre.codeSeconds / 60 }));
    },
  );

  app.post(
    '/privacy/sign-in/code',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Checks the code and opens the customer session (httpOnly, SameSite=Strict cookie)',
        security: [],
        body: z.strictObject({ code: z.string().trim().max(12) }),
        response: { ...redirect, 401: z.string() },
      },
    },
    async (request, reply) => {
      assertSameSite(request);
      const { ctx } = await context(request, reply, '/privacy/sign-in/code');
      let token: string;
      try {
        ({ token } = await centre.verifySignIn(request.cookies[CHALLENGE_COOKIE] ?? '', request.body.code));
      } catch (error) {
        if (isCustodianError(error) && error.code === 'ERR_PRIVACY_CODE_INVALID') {
          return send(
            reply,
            ctx.lang,
            codePage(ctx, { error: 'signIn.codeInvalid', minutes: centre.codeSeconds / 60 }),
            401,
          );
        }
        throw error;
      }
      void reply
        .clearCookie(CHALLENGE_COOKIE, cookieOptions(request, 0))
        .setCookie(PRIVACY_SESSION_COOKIE, token, cookieOptions(request, centre.sessionSeconds));
      return reply.code(303).redirect('/privacy/account');
    },
  );

  app.post(
    '/privacy/sign-out',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Ends the customer session',
        security: [],
        body: z.strictObject({ csrf: z.string().max(100) }),
        response: redirect,
      },
    },
    async (request, reply) => {
      const session = await centre.authenticate(request.cookies[PRIVACY_SESSION_COOKIE]);
      centre.checkCsrf(session.idHash, request.body.csrf);
      await centre.signOut(request.cookies[PRIVACY_SESSION_COOKIE]);
      void reply.clearCookie(PRIVACY_SESSION_COOKIE, cookieOptions(request, 0));
      return reply.code(303).redirect('/privacy');
    },
  );

  const flashes = {
    saved: 'account.saved',
    requested: 'account.requestReceived',
  } as const satisfies Record<string, MessageKey>;

  app.get(
    '/privacy/account',
    {
      schema: {
        tags: ['privacy'],
        summary: 'The signed-in customer’s consents, receipts and requests',
        security: [],
        querystring: z.strictObject({
          lang: z.enum(LANGS).optional(),
          done: z.enum(['saved', 'requested']).optional(),
          id: z.uuid().optional(),
        }),
        response: { ...page, 303: z.null() },
      },
    },
    async (request, reply) => {
      const { ctx, session } = await context(request, reply, '/privacy/account');
      if (session === undefined) return reply.code(303).redirect('/privacy/sign-in');
      const consents = await consent.list(CUSTOMER_PRINCIPAL, session.subjectId);
      const done = request.query.done;
      return send(
        reply,
        ctx.lang,
        accountPage(ctx, {
          purposes: datamap.purposes,
          consents,
          requests: await centre.requests(session.subjectId),
          flash: done === undefined ? undefined : flashes[done],
          flashParams: { id: request.query.id ?? '' },
        }),
      );
    },
  );

  app.post(
    '/privacy/account/consents',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Grants or withdraws a consent (channel h5) and issues a signed receipt (R4: one click)',
        security: [],
        body: z.strictObject({
          csrf: z.string().max(100),
          purpose: z.string().min(1).max(64),
          action: z.enum(['grant', 'withdraw']),
          kind: z.enum(CONSENT_KINDS).optional(),
          recipient: z.string().min(1).max(64).optional(),
          // R3: a parent or guardian consenting for a child under 14.
          guardianRelationship: z.enum(GUARDIAN_RELATIONSHIPS).optional(),
          guardianName: z.string().trim().min(1).max(50).optional(),
          guardianConfirm: z.literal('yes').optional(),
        }),
        response: { ...redirect, 404: problemSchema, 410: problemSchema, 422: problemSchema },
      },
    },
    async (request, reply) => {
      const session = await centre.authenticate(request.cookies[PRIVACY_SESSION_COOKIE]);
      centre.checkCsrf(session.idHash, request.body.csrf);
      const lang = langOf(request, reply);
      const ua = request.headers['user-agent'];
      const { guardianRelationship, guardianName, guardianConfirm } = request.body;
      const guardianGiven = [guardianRelationship, guardianName, guardianConfirm].filter(
        (v) => v !== undefined,
      );
      if (guardianGiven.length > 0 && guardianGiven.length < 3) {
        // A guardian says who they are, gives their name and confirms they act for the child: all or none.
        throw new CustodianError(
          'ERR_CONSENT_INVALID',
          'the consent request is not valid: guardian-incomplete',
          {
            details: { reason: 'guardian-incomplete', purpose: request.body.purpose },
          },
        );
      }
      await consent.record(CUSTOMER_PRINCIPAL, session.subjectId, {
        purpose: request.body.purpose,
        action: request.body.action,
        channel: 'h5',
        kind: request.body.kind,
        recipient: request.body.recipient,
        guardian:
          guardianRelationship === undefined || guardianName === undefined
            ? undefined
            : { relationship: guardianRelationship, name: guardianName },
        evidence: {
          uiVersion: UI_VERSION,
          locale: lang,
          ip: request.ip,
          ...(ua === undefined ? {} : { userAgent: ua.slice(0, 1000) }),
        },
      });
      return reply.code(303).redirect('/privacy/account?done=saved');
    },
  );

  app.get(
    '/privacy/account/receipts/:receiptId',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'Downloads one of the customer’s consent receipts (compact JWS, verify with /.well-known/jwks.json)',
        security: [],
        params: z.object({ receiptId: z.uuid() }),
        response: { 200: z.string(), 401: problemSchema, 404: problemSchema },
      },
    },
    async (request, reply) => {
      const session = await centre.authenticate(request.cookies[PRIVACY_SESSION_COOKIE]);
      const { history } = await consent.list(CUSTOMER_PRINCIPAL, session.subjectId);
      const item = history.find((h) => h.receiptId === request.params.receiptId);
      if (item === undefined)
        throw new CustodianError('ERR_ROUTE_NOT_FOUND', 'no such receipt for this customer');
      return reply
        .type('application/jose; charset=utf-8')
        .header('content-disposition', `attachment; filename="consent-receipt-${item.receiptId}.jws"`)
        .header('cache-control', 'no-store')
        .serializer((s) => s as string)
        .send(item.receipt);
    },
  );

  app.post(
    '/privacy/account/requests',
    {
      schema: {
        tags: ['privacy'],
        summary: 'Asks for a copy, a correction or deletion; recorded as received and acknowledged',
        security: [],
        body: z.strictObject({ csrf: z.string().max(100), kind: z.enum(PRIVACY_REQUEST_KINDS) }),
        response: { ...redirect, 404: problemSchema, 410: problemSchema },
      },
    },
    async (request, reply) => {
      const session = await centre.authenticate(request.cookies[PRIVACY_SESSION_COOKIE]);
      centre.checkCsrf(session.idHash, request.body.csrf);
      const received = await centre.submitRequest(session.subjectId, request.body.kind);
      return reply.code(303).redirect(`/privacy/account?done=requested&id=${received.id}`);
    },
  );

  await app.register(privacyEmbedRoutes, { centre, consent, privacyPolicy, datamap });
};
