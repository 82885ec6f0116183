import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseX25519PublicKey } from '../../crypto/export-file.js';
import { CustodianError } from '../../domain/errors.js';
import { PAGE_DEFAULT, PAGE_MAX } from '../../services/oversight.js';
import type { ExportRecord, ExportSummary } from '../../store/access.js';
import type { AppContext } from '../app.js';
import { principalOf } from '../permissions.js';
import { problemResponses } from '../problem.js';

export interface OversightRouteOptions {
  readonly context: AppContext;
}

const errors = problemResponses;

const grantSchema = z.object({
  id: z.string(),
  principalId: z.string(),
  role: z.string(),
  subjectId: z.string(),
  purpose: z.string(),
  justification: z.string(),
  ticket: z.string(),
  grantedAt: z.string(),
  expiresAt: z.string(),
  reviewedBy: z.string().nullable(),
  reviewedAt: z.string().nullable(),
  reviewOutcome: z.enum(['justified', 'unjustified']).nullable(),
  reviewNote: z.string().nullable(),
});

const exportSchema = z.object({
  id: z.string(),
  requestedBy: z.string(),
  requesterRole: z.string(),
  purpose: z.string(),
  subjectCount: z.number().int(),
  recipient: z.enum(['passphrase', 'public-key']),
  recipientId: z.string().nullable(),
  status: z.enum(['pending', 'approved', 'denied', 'downloaded']),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionNote: z.string().nullable(),
  createdAt: z.string(),
  downloadedAt: z.string().nullable(),
});

function exportView(e: ExportSummary): z.infer<typeof exportSchema> {
  return {
    id: e.id,
    requestedBy: e.requestedBy,
    requesterRole: e.requesterRole,
    purpose: e.purpose,
    subjectCount: e.subjectCount,
    recipient: e.recipient.kind,
    recipientId: e.recipientId,
    status: e.status,
    decidedBy: e.decidedBy,
    decidedAt: e.decidedAt,
    decisionNote: e.decisionNote,
    createdAt: e.createdAt,
    downloadedAt: e.downloadedAt,
  };
}

function recordView(e: ExportRecord): z.infer<typeof exportSchema> {
  return exportView({ ...e, subjectCount: e.subjectIds.length });
}

/** Paging of the lists: newest first; `before` is the `next` of the previous page. */
const pageQuery = {
  limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(PAGE_DEFAULT),
  before: z.uuid().optional().describe('the `next` of the previous page'),
};
const nextSchema = z
  .string()
  .nullable()
  .describe('pass as `before` for the following page; null when this is the last');

/** Break-glass and export approval over HTTP (R15, R16). */
export const oversightRoutes: FastifyPluginAsyncZod<OversightRouteOptions> = (app, { context }) => {
  const { oversight } = context;

  app.post(
    '/break-glass',
    {
      config: { permission: 'breakglass.request' },
      schema: {
        tags: ['oversight'],
        summary: 'Ask for time-boxed clear access to one subject beyond policy; audited, alerted, reviewed',
        body: z.strictObject({
          subjectId: z.uuid(),
          purpose: z.string().min(1).max(64),
          justification: z.string().min(10).max(1000),
          ticket: z.string().min(1).max(64),
          minutes: z.number().int().min(1).max(1440).optional(),
        }),
        response: { 201: grantSchema, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await oversight.requestBreakGlass(principalOf(request), request.body)),
  );

  app.get(
    '/break-glass/reviews',
    {
      config: { permission: 'breakglass.review' },
      schema: {
        tags: ['oversight'],
        summary: 'Break-glass grants waiting for review, newest first, a page at a time',
        querystring: z.strictObject(pageQuery),
        response: { 200: z.object({ grants: z.array(grantSchema), next: nextSchema }), ...errors },
      },
    },
    async (request) => {
      const { items, next } = await oversight.pendingReviews(request.query);
      return { grants: items, next };
    },
  );

  app.post(
    '/break-glass/:id/review',
    {
      config: { permission: 'breakglass.review' },
      schema: {
        tags: ['oversight'],
        summary: 'Close a break-glass review (a second person)',
        params: z.object({ id: z.uuid() }),
        body: z.strictObject({
          outcome: z.enum(['justified', 'unjustified']),
          note: z.string().min(1).max(1000),
        }),
        response: { 200: grantSchema, ...errors },
      },
    },
    (request) =>
      oversight.reviewBreakGlass(
        principalOf(request),
        request.params.id,
        request.body.outcome,
        request.body.note,
      ),
  );

  app.post(
    '/exports',
    {
      config: { permission: 'export.request' },
      schema: {
        tags: ['oversight'],
        summary: 'Request an export; above the approval threshold a second person must approve',
        body: z.strictObject({
          purpose: z.string().min(1).max(64),
          subjectIds: z.array(z.uuid()).min(1).max(100_000),
          recipient: z.discriminatedUnion('kind', [
            z.strictObject({ kind: z.literal('passphrase') }),
            z.strictObject({ kind: z.literal('public-key'), publicKey: z.string().min(32).max(1000) }),
          ]),
          recipientId: z
            .string()
            .min(1)
            .max(64)
            .optional()
            .describe(
              'Who receives the file (a datamap.recipients id); required when it holds buyer data (R31)',
            ),
        }),
        response: { 201: exportSchema, ...errors },
      },
    },
    async (request, reply) => {
      if (request.body.recipient.kind === 'public-key')
        parseX25519PublicKey(request.body.recipient.publicKey);
      const record = await oversight.requestExport(principalOf(request), request.body);
      return reply.code(201).send(recordView(record));
    },
  );

  app.get(
    '/exports',
    {
      config: { permission: 'export.approve' },
      schema: {
        tags: ['oversight'],
        summary: 'Exports, optionally by status, newest first, a page at a time',
        querystring: z.strictObject({
          status: z.enum(['pending', 'approved', 'denied', 'downloaded']).optional(),
          ...pageQuery,
        }),
        response: { 200: z.object({ exports: z.array(exportSchema), next: nextSchema }), ...errors },
      },
    },
    async (request) => {
      const { items, next } = await oversight.listExports(request.query);
      return { exports: items.map(exportView), next };
    },
  );

  app.post(
    '/exports/:id/decision',
    {
      config: { permission: 'export.approve' },
      schema: {
        tags: ['oversight'],
        summary: 'Approve or deny a pending export (a second person)',
        params: z.object({ id: z.uuid() }),
        body: z.strictObject({ approve: z.boolean(), note: z.string().min(1).max(1000) }),
        response: { 200: exportSchema, ...errors },
      },
    },
    async (request) =>
      recordView(
        await oversight.decideExport(
          principalOf(request),
          request.params.id,
          request.body.approve,
          request.body.note,
        ),
      ),
  );

  app.post(
    '/exports/:id/download',
    {
      config: { permission: 'export.request' },
      schema: {
        tags: ['oversight'],
        summary: 'Download an approved export once, encrypted for its recipient (custodian-export/1 JSON)',
        params: z.object({ id: z.uuid() }),
        body: z.strictObject({
          passphrase: z.string().min(12).max(1000).optional(),
          publicKey: z.string().min(32).max(1000).optional(),
        }),
        response: { 200: z.string(), ...errors },
      },
    },
    async (request, reply) => {
      const { passphrase, publicKey } = request.body;
      if ((passphrase === undefined) === (publicKey === undefined)) {
        throw new CustodianError('ERR_VALIDATION_FAILED', 'give exactly one of passphrase or publicKey');
      }
      const to =
        passphrase !== undefined
          ? ({ kind: 'passphrase', passphrase } as const)
          : ({ kind: 'public-key', publicKey: parseX25519PublicKey(publicKey!) } as const);
      const { file } = await oversight.downloadExport(principalOf(request), request.params.id, to);
      return reply
        .type('application/json')
        .header('content-disposition', `attachment; filename="custodian-export-${request.params.id}.json"`)
        .header('cache-control', 'no-store')
        .serializer((s) => s as string)
        .send(file.toString('utf8'));
    },
  );
  return Promise.resolve();
};
