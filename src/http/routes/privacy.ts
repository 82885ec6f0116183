import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { PolicyService } from '../../services/policy.js';
import { problemSchema } from '../problem.js';

export interface PrivacyRouteOptions {
  readonly privacyPolicy: PolicyService;
}

/** Public pages for customers. No authentication, no personal data. */
export const privacyRoutes: FastifyPluginAsyncZod<PrivacyRouteOptions> = (app, { privacyPolicy }) => {
  app.get(
    '/privacy/policy',
    {
      schema: {
        tags: ['privacy'],
        summary:
          'The published privacy policy (zh-CN by default, en on request), generated from the data map',
        security: [],
        querystring: z.strictObject({
          lang: z.enum(['zh-CN', 'en']).default('zh-CN'),
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
        .type(format === 'html' ? 'text/html; charset=utf-8' : 'text/markdown; charset=utf-8')
        .header('content-language', lang)
        .serializer((s) => s as string)
        .send(body);
    },
  );
  return Promise.resolve();
};
