import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../app.js';
import { authenticateRequest } from '../auth.js';
import { enforcePermission } from '../permissions.js';
import { problemFor, sendProblem } from '../problem.js';
import { auditLogRoutes } from './audit-log.js';
import { authRoutes } from './auth.js';
import { consentRoutes } from './consent.js';
import { oversightRoutes } from './oversight.js';
import { privacyAdminRoutes } from './privacy-admin.js';
import { vaultRoutes } from './vault.js';

export interface V1RouteOptions {
  readonly context: AppContext;
}

/**
 * Everything under `/v1` requires a principal (fail closed): a bearer API key or a staff session
 * cookie (src/http/auth.ts). The hook runs before any handler; only routes marked
 * `config: { public: true }` (sign-in, sign-out) skip it, and unknown `/v1` paths answer 401 to
 * an anonymous caller rather than revealing which routes exist.
 */
export const v1Routes: FastifyPluginAsyncZod<V1RouteOptions> = async (app, { context }) => {
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public === true) return;
    request.principal = await authenticateRequest(context, request);
  });

  // Before validation: a caller without the permission learns nothing about the route's inputs.
  app.addHook('preValidation', enforcePermission(context));

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemFor('ERR_ROUTE_NOT_FOUND', request.id)),
  );

  await app.register(authRoutes, { context });
  await app.register(vaultRoutes, { context });
  await app.register(oversightRoutes, { context });
  await app.register(auditLogRoutes, { context });
  await app.register(consentRoutes, { context });
  await app.register(privacyAdminRoutes, { centre: context.privacyCentre });
};
