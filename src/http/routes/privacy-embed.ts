import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Datamap } from '../../domain/datamap/schema.js';
import type { ConsentService } from '../../services/consent.js';
import type { PolicyService } from '../../services/policy.js';
import { EMBED_PRINCIPAL, type PrivacyCentre } from '../../services/privacy-centre.js';
import { LANGS } from '../../web/i18n.js';
import { EMBED_SCRIPT } from '../../web/embed.js';
import { problemSchema } from '../problem.js';

export interface PrivacyEmbedRouteOptions {
  readonly centre: PrivacyCentre;
  readonly consent: ConsentService;
  readonly privacyPolicy: PolicyService;
  readonly datamap: Datamap;
}

const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/;

/** Merchant pages on other origins load the script and call these routes: no cookies, bearer only. */
function cors(reply: FastifyReply): void {
  void reply
    .header('access-control-allow-origin', '*')
    .header('cross-origin-resource-policy', 'cross-origin')
    .header('vary', 'origin');
}

function bearer(request: FastifyRequest): string | undefined {
  return BEARER.exec(request.headers.authorization ?? '')?.[1];
}

const errors = {
  400: problemSchema,
  401: problemSchema,
  404: problemSchema,
  410: problemSchema,
  422: problemSchema,
};

/**
 * The `<custodian-consent>` snippet (src/web/embed.ts) and the three routes it calls. Reading the
 * consent-based purposes is public; reading or recording a customer's consents needs the embed
 * token the merchant's server minted for that customer (`POST /v1/privacy/embed-tokens`).
 */
export const privacyEmbedRoutes: FastifyPluginAsyncZod<PrivacyEmbedRouteOptions> = (app, options) => {
  const { centre, consent, privacyPolicy, datamap } = options;

  app.get(
    '/privacy/embed/consent.js',
    {
      schema: {
        tags: ['privacy'],
        summary: 'The <custodian-consent> web component, for merchant H5 pages',
        security: [],
        response: { 200: z.string() },
      },
    },
    async (_request, reply) => {
      cors(reply);
      return reply
        .type('text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
        .serializer((s) => s as string)
        .send(EMBED_SCRIPT);
    },
  );

  app.get(
    '/privacy/embed/purposes.json',
    {
      schema: {
        tags: ['privacy'],
        summary: 'The consent-based purposes of the current policy version (public, no personal data)',
        security: [],
        querystring: z.strictObject({ lang: z.enum(LANGS).default('zh-CN') }),
        response: {
          200: z.object({
            policyVersion: z.number().int(),
            purposes: z.array(z.object({ id: z.string(), name: z.string(), description: z.string() })),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const lang = request.query.lang;
      const version = await privacyPolicy.version();
      cors(reply);
      return reply.header('cache-control', 'public, max-age=300').send({
        policyVersion: version.number,
        purposes: datamap.purposes
          .filter((p) => p.legalBasis === 'consent')
          .map((p) => ({ id: p.id, name: p.name[lang], description: p.description?.[lang] ?? '' })),
      });
    },
  );

  app.options(
    '/privacy/embed/consents',
    {
      schema: {
        tags: ['privacy'],
        summary: 'CORS preflight for the snippet',
        security: [],
        response: { 204: z.null() },
      },
    },
    async (_request, reply) => {
      cors(reply);
      return reply
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '600')
        .code(204)
        .send(null);
    },
  );

  app.get(
    '/privacy/embed/consents',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'Where the token’s customer’s consent-based purposes stand (Authorization: Bearer <embed token>)',
        security: [],
        response: {
          200: z.object({ purposes: z.array(z.object({ purpose: z.string(), granted: z.boolean() })) }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      cors(reply);
      const subjectId = centre.verifyEmbedToken(bearer(request));
      const { purposes } = await consent.list(EMBED_PRINCIPAL, subjectId);
      return reply
        .header('cache-control', 'no-store')
        .send({ purposes: purposes.map((p) => ({ purpose: p.purpose, granted: p.granted })) });
    },
  );

  app.post(
    '/privacy/embed/consents',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'Records the token’s customer’s grant, withdrawal or refusal (channel h5) against a policy version; answers with the signed receipt',
        security: [],
        body: z.strictObject({
          purpose: z.string().min(1).max(64),
          action: z.enum(['grant', 'withdraw', 'refuse']),
          policyVersion: z.number().int().min(1).optional(),
          locale: z.enum(LANGS).optional(),
        }),
        response: { 201: z.object({ receipt: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      cors(reply);
      const subjectId = centre.verifyEmbedToken(bearer(request));
      const ua = request.headers['user-agent'];
      const { receipt } = await consent.record(EMBED_PRINCIPAL, subjectId, {
        purpose: request.body.purpose,
        action: request.body.action,
        channel: 'h5',
        policyVersion: request.body.policyVersion,
        evidence: {
          uiVersion: 'custodian-consent/1',
          locale: request.body.locale,
          ip: request.ip,
          ...(ua === undefined ? {} : { userAgent: ua.slice(0, 1000) }),
        },
      });
      return reply.code(201).header('cache-control', 'no-store').send({ receipt });
    },
  );
  return Promise.resolve();
};
