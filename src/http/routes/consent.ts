import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CONSENT_ACTIONS,
  CONSENT_CHANNELS,
  CONSENT_KINDS,
  GUARDIAN_RELATIONSHIPS,
} from '../../domain/consent/model.js';
import { LEGAL_BASES } from '../../domain/datamap/schema.js';
import type { ConsentService } from '../../services/consent.js';
import type { AppContext } from '../app.js';
import { principalOf } from '../permissions.js';
import { problemResponses } from '../problem.js';

export interface ConsentRouteOptions {
  readonly context: AppContext;
}

const errors = problemResponses;

const localized = z.object({ 'zh-CN': z.string(), en: z.string() });

const claimsSchema = z.object({
  iss: z.string(),
  sub: z.string().describe('the subject’s keyed pseudonym, never its id'),
  jti: z.string().describe('the receipt id'),
  iat: z.number().int(),
  version: z.string(),
  jurisdiction: z.literal('CN'),
  controller: z.object({ name: z.string(), contact: z.string() }),
  action: z.enum(CONSENT_ACTIONS),
  kind: z.enum(CONSENT_KINDS),
  channel: z.enum(CONSENT_CHANNELS),
  language: z.string().optional(),
  policyVersion: z.number().int(),
  policyUrl: z.string(),
  purposes: z.array(z.object({ id: z.string(), name: localized, legalBasis: z.enum(LEGAL_BASES) })),
  separateConsents: z.record(z.string(), z.boolean()),
  recipient: z
    .object({
      id: z.string(),
      name: z.union([z.string(), localized]),
      contact: z.string(),
      country: z.string(),
    })
    .optional(),
  guardian: z.object({ relationship: z.enum(GUARDIAN_RELATIONSHIPS) }).optional(),
  eventId: z.string(),
});

const currentSchema = z.object({
  purpose: z.string(),
  kind: z.enum(CONSENT_KINDS),
  recipient: z.string().nullable(),
  state: z.enum(CONSENT_ACTIONS),
  policyVersion: z.number().int(),
  at: z.string(),
  eventId: z.string(),
  channel: z.string(),
  guardian: z.boolean(),
  minor: z.boolean(),
  effective: z.boolean(),
  needsReconsent: z.boolean(),
});

const historySchema = z.object({
  eventId: z.string(),
  receiptId: z.string(),
  purpose: z.string(),
  kind: z.enum(CONSENT_KINDS),
  recipient: z.string().nullable(),
  action: z.enum(CONSENT_ACTIONS),
  policyVersion: z.number().int(),
  channel: z.enum(CONSENT_CHANNELS),
  at: z.string(),
  minor: z.boolean(),
  guardian: z.enum(GUARDIAN_RELATIONSHIPS).nullable(),
  evidence: z.object({
    uiVersion: z.string().nullable(),
    locale: z.string().nullable(),
    ip: z.boolean(),
    userAgent: z.boolean(),
  }),
  recordedBy: z.string(),
  receipt: z.string(),
});

const purposeStatusSchema = z.object({
  purpose: z.string(),
  granted: z.boolean(),
  sensitive: z.boolean(),
  needsReconsent: z.boolean(),
  requiredVersion: z.number().int(),
  mayAsk: z.boolean(),
  askAfter: z.string().nullable(),
});

/**
 * The consent ledger over HTTP (docs/consent.md). Recording is not bound to the caller's own
 * purposes: customer service relays a customer's marketing consent without acting for marketing.
 */
export const consentRoutes: FastifyPluginAsyncZod<ConsentRouteOptions> = (app, { context }) => {
  const { consent } = context;

  app.post(
    '/subjects/:id/consents',
    {
      config: { permission: 'consent.record' },
      schema: {
        tags: ['consent'],
        summary: 'Record a grant, withdrawal or refusal; answers with the signed receipt (compact JWS)',
        params: z.object({ id: z.uuid() }),
        body: z.strictObject({
          purpose: z.string().min(1).max(64),
          action: z.enum(CONSENT_ACTIONS),
          channel: z.enum(CONSENT_CHANNELS),
          kind: z.enum(CONSENT_KINDS).default('purpose'),
          recipient: z.string().min(1).max(64).optional(),
          policyVersion: z.number().int().min(1).optional(),
          guardian: z
            .strictObject({
              name: z.string().min(1).max(100),
              relationship: z.enum(GUARDIAN_RELATIONSHIPS),
            })
            .optional()
            .describe(
              'a parent or guardian acting for a child under 14; the name is stored only as a keyed hash',
            ),
          birthDate: z
            .string()
            .max(10)
            .optional()
            .describe('a birth date the customer declared (YYYY-MM-DD); not stored, only whether under 14'),
          evidence: z
            .strictObject({
              uiVersion: z.string().min(1).max(64).optional(),
              locale: z.string().min(2).max(35).optional(),
              ip: z
                .string()
                .min(1)
                .max(64)
                .optional()
                .describe('the customer’s; stored only as a keyed hash'),
              userAgent: z
                .string()
                .min(1)
                .max(1000)
                .optional()
                .describe('the customer’s; stored only as a keyed hash'),
            })
            .optional(),
        }),
        response: { 201: z.object({ receipt: z.string(), claims: claimsSchema }), ...errors },
      },
    },
    async (request, reply) => {
      const { receipt, claims } = await consent.record(principalOf(request), request.params.id, request.body);
      return reply.code(201).send({ receipt, claims: { ...claims, purposes: [...claims.purposes] } });
    },
  );

  app.get(
    '/subjects/:id/consents',
    {
      config: { permission: 'consent.read' },
      schema: {
        tags: ['consent'],
        summary: 'Where the subject’s consents stand, and their history with receipts (no personal data)',
        params: z.object({ id: z.uuid() }),
        response: {
          200: z.object({
            subjectRef: z.string(),
            minor: z.boolean(),
            purposes: z.array(purposeStatusSchema),
            current: z.array(currentSchema),
            history: z.array(historySchema),
          }),
          ...errors,
        },
      },
    },
    (request) => consent.list(principalOf(request), request.params.id),
  );
  return Promise.resolve();
};

export interface JwksRouteOptions {
  readonly consent: Pick<ConsentService, 'jwks'>;
}

/** `/.well-known/jwks.json`: the public keys that verify consent receipts. Public, no personal data. */
export const jwksRoutes: FastifyPluginAsyncZod<JwksRouteOptions> = (app, { consent }) => {
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['consent'],
        summary:
          'The Ed25519 public keys (JWK Set, RFC 7517) that verify consent receipts; kid = RFC 7638 thumbprint',
        security: [],
        response: {
          200: z.object({
            keys: z.array(
              z.object({
                kty: z.string(),
                crv: z.string().optional(),
                x: z.string().optional(),
                kid: z.string(),
                alg: z.literal('EdDSA'),
                use: z.literal('sig'),
              }),
            ),
          }),
        },
      },
    },
    async (_request, reply) =>
      reply
        .header('cache-control', 'public, max-age=3600')
        .header('access-control-allow-origin', '*')
        .send({ keys: consent.jwks.keys.map((k) => ({ ...k })) }),
  );
  return Promise.resolve();
};
