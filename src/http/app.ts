import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from '../config/schema.js';
import { CustodianError } from '../domain/errors.js';
import type { AccessPolicy } from '../domain/access/engine.js';
import type { ConsentService } from '../services/consent.js';
import type { Oversight } from '../services/oversight.js';
import type { PrivacyCentre } from '../services/privacy-centre.js';
import type { Runtime } from '../services/runtime.js';
import type { StaffService } from '../services/staff.js';
import type { Principal } from '../services/tokens.js';
import type { Vault } from '../services/vault.js';
import type { Store } from '../store/store.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { handleError, problemFor, sendProblem } from './problem.js';
import { jwksRoutes } from './routes/consent.js';
import { privacyRoutes } from './routes/privacy.js';
import { systemRoutes } from './routes/system.js';
import { v1Routes } from './routes/v1.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the `/v1` authentication hook; `null` elsewhere. */
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Every route as registered, for the route-table tests (schemas, authorisation matrix). */
    readonly routeTable: readonly RouteEntry[];
  }
}

/** One registered route, as the route-table tests see it. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly hidden: boolean;
  readonly schema: Readonly<Record<string, unknown>> | undefined;
  /** The route's declared permission (`/v1` routes), or `public` for sign-in and sign-out. */
  readonly permission: string | undefined;
}

export interface AppOptions {
  readonly runtime: Runtime;
  readonly logger?: Logger;
  readonly now?: () => Date;
}

/** Everything a route module needs; routes stay thin and call services with it. */
export interface AppContext {
  readonly config: Config;
  readonly store: Store;
  readonly vault: Vault;
  readonly staff: StaffService;
  readonly policy: AccessPolicy;
  readonly oversight: Oversight;
  readonly consent: ConsentService;
  readonly privacyCentre: PrivacyCentre;
  readonly now: () => Date;
}

export type App = Awaited<ReturnType<typeof buildApp>>;

export const API_VERSION = '0.1.0';

/** Builds the HTTP app. Does not listen; `custodian serve` does. */
export async function buildApp(options: AppOptions) {
  const { config, store, vault, staff, policy, oversight } = options.runtime;
  const logger = options.logger ?? createLogger(config.log.level);
  const context: AppContext = {
    config,
    store,
    vault,
    staff,
    policy,
    oversight,
    consent: options.runtime.consent,
    privacyCentre: options.runtime.privacyCentre,
    now: options.now ?? (() => new Date()),
  };
  const metrics = createMetrics();

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // `true` trusts every X-Forwarded-For entry, and the client writes the left-most; a list of
    // the proxies' addresses trusts only what those proxies append (docs/access.md).
    trustProxy: Array.isArray(config.server.trustProxy)
      ? [...config.server.trustProxy]
      : config.server.trustProxy,
    bodyLimit: config.server.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problemFor('ERR_ROUTE_NOT_FOUND', request.id)),
  );
  app.decorateRequest('principal', null);
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const schema = route.schema as Record<string, unknown> | undefined;
      const config = route.config as { permission?: string; public?: boolean } | undefined;
      const permission = config?.public === true ? 'public' : config?.permission;
      routeTable.push({ method, url: route.url, hidden: schema?.['hide'] === true, schema, permission });
    }
  });

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.observe(request.method, route, reply.statusCode, seconds);
    // Route pattern only: a raw URL may carry an identity in its query (security invariant 1).
    request.log.info(
      { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
    done();
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  // Not `global: true`: that adds the check to each route's own hooks, which Fastify runs after
  // plugin-wide ones such as the `/v1` authentication hook, so a request refused for its
  // credentials would never be counted. The root hook below counts every request first.
  await app.register(rateLimit, {
    global: false,
    max: config.server.rateLimit.max,
    timeWindow: config.server.rateLimit.windowMs,
    errorResponseBuilder: (_request, context) =>
      new CustodianError(
        'ERR_RATE_LIMITED',
        `rate limit of ${context.max} requests exceeded; retry in ${context.after}`,
      ),
  });
  const limitAll = app.rateLimit();
  const routeLimits = new WeakMap<object, typeof limitAll>();
  // A route's own `config.rateLimit` replaces the server-wide limit, as with the plugin's
  // per-route hooks, which then see the request as counted and do nothing.
  const limitRequest: typeof limitAll = async function (request, reply) {
    const own = request.routeOptions.config.rateLimit;
    if (own === false) return;
    let limit = limitAll;
    if (own !== undefined) {
      limit = routeLimits.get(own) ?? app.rateLimit(own);
      routeLimits.set(own, limit);
    }
    await limit.call(this, request, reply);
  };
  app.addHook('onRequest', limitRequest);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Custodian API',
        version: API_VERSION,
        description:
          'Self-hosted vault for customer personal information. Every read names a purpose; errors are RFC 9457 problem details with a stable `code`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(cookie);
  await app.register(systemRoutes, { context, metrics });
  await app.register(privacyRoutes, {
    privacyPolicy: options.runtime.privacyPolicy,
    centre: options.runtime.privacyCentre,
    consent: options.runtime.consent,
    datamap: config.datamap,
  });
  await app.register(jwksRoutes, { consent: options.runtime.consent });
  await app.register(v1Routes, { context, prefix: '/v1' });
  return app;
}
