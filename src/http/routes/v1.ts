import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CustodianError } from '../../domain/errors.js';
import { authenticate } from '../../services/tokens.js';
import type { AppContext } from '../app.js';
import { problemFor, problemSchema, sendProblem } from '../problem.js';
import { vaultRoutes } from './vault.js';

export interface V1RouteOptions {
  readonly context: AppContext;
}

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * Everything under `/v1` requires a bearer token (fail closed): the hook runs before any
 * handler, and unknown `/v1` paths answer 401 to an anonymous caller rather than revealing
 * which routes exist.
 */
export const v1Routes: FastifyPluginAsyncZod<V1RouteOptions> = async (app, { context }) => {
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header === undefined)
      throw new CustodianError('ERR_AUTH_REQUIRED', 'send Authorization: Bearer <token>');
    const match = BEARER.exec(header);
    if (!match?.[1])
      throw new CustodianError('ERR_AUTH_INVALID', 'the Authorization header is not a bearer token');
    request.principal = await authenticate(context.store, match[1], context.now());
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemFor('ERR_ROUTE_NOT_FOUND', request.id)),
  );

  app.get(
    '/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The calling principal',
        response: {
          200: z.object({ kind: z.enum(['token', 'staff']), id: z.string(), name: z.string(), role: z.string() }),
          401: problemSchema,
        },
      },
    },
    (request) => {
      const principal = request.principal;
      if (principal === null) throw new CustodianError('ERR_AUTH_REQUIRED', 'no principal');
      return principal;
    },
  );
  await app.register(vaultRoutes, { context });
};
