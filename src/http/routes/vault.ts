import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SCREEN_ACTIONS } from '../../domain/datamap/minimise.js';
import { IDENTITY_KINDS } from '../../services/vault.js';
import type { AppContext } from '../app.js';
import { principalOf } from '../permissions.js';
import { problemResponses } from '../problem.js';

export interface VaultRouteOptions {
  readonly context: AppContext;
}

const uuid = z.uuid();
const purpose = z.string().min(1).max(64).describe('The purpose of this access, declared in the data map');
const fieldValue = z.string().max(10_000);
const identitiesSchema = z.strictObject({
  phone: z.string().min(1).max(64).optional(),
  email: z.string().min(1).max(320).optional(),
  oaid: z.string().min(1).max(128).optional(),
  memberId: z.string().min(1).max(128).optional(),
});

const fieldViewSchema = z.object({
  access: z.enum(['clear', 'masked', 'withheld']),
  value: z.string().optional(),
  reason: z.string().optional(),
});
const subjectViewSchema = z.object({
  subjectId: z.string(),
  records: z.array(
    z.object({ recordId: z.string(), collection: z.string(), fields: z.record(z.string(), fieldViewSchema) }),
  ),
});
const receiptSchema = z.object({
  receiptId: z.string(),
  subjectId: z.string(),
  erasedAt: z.string(),
  keyVersionsDestroyed: z.number().int(),
  recordsDeleted: z.number().int(),
  identitiesDeleted: z.number().int(),
  auditSeq: z.number().int(),
  auditHash: z.string(),
});

const errors = problemResponses;

/** The vault over HTTP: thin handlers that validate, call the service and render. */
export const vaultRoutes: FastifyPluginAsyncZod<VaultRouteOptions> = (app, { context }) => {
  app.post(
    '/records',
    {
      config: { permission: 'vault.collect' },
      schema: {
        tags: ['vault'],
        summary: 'Collect a record: fields are checked against the data map, sealed and indexed',
        body: z.strictObject({
          collection: z.string().min(1).max(64),
          identities: identitiesSchema.optional(),
          subjectId: uuid.optional(),
          fields: z
            .record(z.string().min(1).max(64), fieldValue)
            .refine((f) => Object.keys(f).length > 0, 'at least one field'),
          purpose,
          source: z.string().min(1).max(120).optional(),
        }),
        response: {
          201: z.object({
            subjectId: z.string(),
            recordId: z.string(),
            created: z.boolean(),
            stripped: z
              .array(z.string())
              .describe('Fields dropped because the purpose does not need them (`minimise: strip`)'),
            screened: z
              .array(
                z.object({
                  field: z.string(),
                  action: z.enum(SCREEN_ACTIONS),
                  types: z.array(z.string()),
                }),
              )
              .describe(
                'Free-text fields in which personal data was found and masked or flagged; types only',
              ),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await context.vault.collect(principalOf(request), request.body);
      return reply.code(201).send(result);
    },
  );

  app.get(
    '/subjects/:id',
    {
      config: { permission: 'vault.read' },
      schema: {
        tags: ['vault'],
        summary: "Read a subject's records for a purpose; each field is clear, masked or withheld",
        params: z.object({ id: uuid }),
        querystring: z.strictObject({ purpose }),
        response: { 200: subjectViewSchema, ...errors },
      },
    },
    (request) => context.vault.read(principalOf(request), request.params.id, request.query.purpose),
  );

  app.get(
    '/subjects',
    {
      config: { permission: 'vault.search' },
      schema: {
        tags: ['vault'],
        summary: 'Find subjects by one identity through the blind index',
        querystring: identitiesSchema
          .extend({ purpose })
          .refine(
            (q) => IDENTITY_KINDS.filter((k) => q[k] !== undefined).length === 1,
            'give exactly one of phone, email, oaid, memberId',
          ),
        response: { 200: z.object({ subjects: z.array(subjectViewSchema) }), ...errors },
      },
    },
    async (request) => {
      const kind = IDENTITY_KINDS.find((k) => request.query[k] !== undefined)!;
      const subjects = await context.vault.search(
        principalOf(request),
        kind,
        request.query[kind]!,
        request.query.purpose,
      );
      return { subjects };
    },
  );

  app.delete(
    '/subjects/:id',
    {
      config: { permission: 'vault.erase' },
      schema: {
        tags: ['vault'],
        summary: 'Erase a subject by crypto-shredding; returns a receipt',
        params: z.object({ id: uuid }),
        response: { 200: z.object({ erased: z.literal(true), receipt: receiptSchema }), ...errors },
      },
    },
    async (request) => ({
      erased: true as const,
      receipt: await context.vault.erase(principalOf(request), request.params.id),
    }),
  );
  return Promise.resolve();
};
