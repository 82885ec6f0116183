import type { FastifyRequest } from 'fastify';
import { hasPermission, type Permission } from '../domain/access/roles.js';
import { CustodianError } from '../domain/errors.js';
import type { Principal } from '../services/tokens.js';
import type { AppContext } from './app.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * What the caller's role must hold to reach the route (R16). Every `/v1` route declares one;
     * `'authenticated'` means any principal (e.g. `GET /v1/me`). A route without it is refused for
     * everyone, and the authorisation matrix test fails.
     */
    permission?: Permission | 'authenticated';
  }
}

/**
 * The route-level gate, run after authentication: default deny. Field-level decisions (purpose,
 * category, training, break-glass) happen in the services through the same decision engine.
 */
export function enforcePermission(context: AppContext) {
  return (request: FastifyRequest): Promise<void> => {
    const config = request.routeOptions.config;
    if (config.public === true || request.routeOptions.url === undefined) return Promise.resolve();
    const principal = request.principal;
    if (principal === null) return Promise.reject(new CustodianError('ERR_AUTH_REQUIRED', 'no principal'));
    const needed = config.permission;
    if (needed === 'authenticated') return Promise.resolve();
    if (needed === undefined || !hasPermission(context.policy.roles, principal.role, needed)) {
      return Promise.reject(
        new CustodianError(
          'ERR_ACCESS_DENIED',
          `role "${principal.role}" lacks ${needed ?? 'a declared permission for this route'}`,
          {
            details: { role: principal.role, ...(needed === undefined ? {} : { permission: needed }) },
          },
        ),
      );
    }
    return Promise.resolve();
  };
}

/** The authenticated caller of a `/v1` route; the hook has set it, so its absence is a failure. */
export function principalOf(request: { principal: Principal | null }): Principal {
  if (request.principal === null) throw new CustodianError('ERR_AUTH_REQUIRED', 'no principal');
  return request.principal;
}
