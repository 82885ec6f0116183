import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PrivacyCentre } from '../../services/privacy-centre.js';
import { principalOf } from '../permissions.js';
import { problemResponses } from '../problem.js';

export interface PrivacyAdminRouteOptions {
  readonly centre: PrivacyCentre;
}

const localized = z.strictObject({
  'zh-CN': z.string().trim().min(1),
  en: z.string().trim().min(1),
});

/** Staff and integration routes of the privacy centre, under /v1. */
export const privacyAdminRoutes: FastifyPluginAsyncZod<PrivacyAdminRouteOptions> = (app, { centre }) => {
  app.post(
    '/privacy/notices',
    {
      config: { permission: 'privacy.notices' },
      schema: {
        tags: ['privacy'],
        summary:
          'Posts a notice to the privacy centre’s notices-and-updates feed (both languages; no personal data)',
        body: z.strictObject({
          title: localized.refine(
            (t) => t['zh-CN'].length <= 200 && t.en.length <= 200,
            'at most 200 characters',
          ),
          body: localized.refine(
            (t) => t['zh-CN'].length <= 4000 && t.en.length <= 4000,
            'at most 4000 characters',
          ),
        }),
        response: {
          201: z.object({
            id: z.string(),
            publishedAt: z.string(),
            title: z.object({ 'zh-CN': z.string(), en: z.string() }),
            body: z.object({ 'zh-CN': z.string(), en: z.string() }),
          }),
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const notice = await centre.postNotice(principalOf(request), request.body);
      return reply
        .code(201)
        .send({ id: notice.id, publishedAt: notice.publishedAt, title: notice.title, body: notice.body });
    },
  );

  app.post(
    '/privacy/embed-tokens',
    {
      config: { permission: 'consent.record' },
      schema: {
        tags: ['privacy'],
        summary:
          'Mints a short-lived token with which the <custodian-consent> snippet may read and record this one subject’s consents',
        body: z.strictObject({ subjectId: z.uuid() }),
        response: { 201: z.object({ token: z.string(), expiresAt: z.string() }), ...problemResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await centre.mintEmbedToken(principalOf(request), request.body.subjectId)),
  );
  return Promise.resolve();
};
