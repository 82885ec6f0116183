import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CustodianError, ERROR_CODES, type ErrorCode } from '../../domain/errors.js';
import type { AppContext } from '../app.js';
import type { HttpMetrics } from '../metrics.js';
import { problemSchema } from '../problem.js';

export interface SystemRouteOptions {
  readonly context: AppContext;
  readonly metrics: HttpMetrics;
}

/** Unauthenticated operational routes. None of them returns personal data. */
export const systemRoutes: FastifyPluginAsyncZod<SystemRouteOptions> = (app, { context, metrics }) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness and store health',
        security: [],
        response: {
          200: z.object({ status: z.literal('ok'), store: z.literal('ok'), engine: z.string() }),
          503: problemSchema,
        },
      },
    },
    async () => {
      await context.store.ping();
      return { status: 'ok' as const, store: 'ok' as const, engine: context.store.engine };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics (text exposition format)',
        security: [],
        response: { 200: z.string() },
      },
    },
    async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply
        .type(metrics.registry.contentType)
        .serializer((s) => s as string)
        .send(body);
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: {
        hide: true,
        security: [],
        response: { 200: z.object({ openapi: z.string() }).loose() },
      },
    },
    () => app.swagger() as unknown as { openapi: string },
  );

  app.get(
    '/problems/:code',
    {
      schema: {
        tags: ['system'],
        summary: 'Describes an error code (the `type` of a problem document)',
        security: [],
        params: z.object({ code: z.string().max(64) }),
        response: {
          200: z.object({ code: z.string(), title: z.string(), status: z.number().int() }),
          404: problemSchema,
        },
      },
    },
    (request) => {
      const code = request.params.code;
      if (!Object.hasOwn(ERROR_CODES, code))
        throw new CustodianError('ERR_ROUTE_NOT_FOUND', 'no such error code');
      const spec = ERROR_CODES[code as ErrorCode];
      return { code, title: spec.title, status: spec.status };
    },
  );
  return Promise.resolve();
};
