import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CustodianError, ERROR_CODES, type ErrorCode } from '../domain/errors.js';
import { safeError } from '../services/logger.js';

/** RFC 9457 problem details, as every error response of the API carries them. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  requestId: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});

export type Problem = z.infer<typeof problemSchema>;

/** The error responses a `/v1` route can give, for its response schema (and OpenAPI). */
export const problemResponses = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  410: problemSchema,
  422: problemSchema,
} as const;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The stable `type` URI of a code; `/problems/{code}` serves its description. */
export function problemType(code: ErrorCode): string {
  return `/problems/${code}`;
}

export function problemFor(
  code: ErrorCode,
  requestId: string,
  extra: {
    detail?: string;
    errors?: Problem['errors'];
    details?: Readonly<Record<string, unknown>> | undefined;
  } = {},
): Problem {
  const spec = ERROR_CODES[code];
  return {
    type: problemType(code),
    title: spec.title,
    status: spec.status,
    code,
    requestId,
    ...(extra.detail === undefined ? {} : { detail: extra.detail }),
    ...(extra.errors === undefined ? {} : { errors: extra.errors }),
    ...(extra.details === undefined ? {} : { details: { ...extra.details } }),
  };
}

export function sendProblem(
  reply: FastifyReply,
  problem: Problem,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(problem.status)
    .headers(headers)
    .type(PROBLEM_CONTENT_TYPE)
    .serializer(JSON.stringify)
    .send(problem);
}

/**
 * The problem an error answers with. Known errors keep their code; validation errors list paths,
 * never the input values; everything else becomes an opaque 500 with only a request id (aesthetics
 * habit 5). Logs what must be logged, once.
 */
export function problemOf(
  error: FastifyError | Error,
  request: FastifyRequest,
): { problem: Problem; headers: Record<string, string> } {
  const requestId = request.id;
  if (error instanceof CustodianError) {
    const headers: Record<string, string> =
      error.code === 'ERR_AUTH_REQUIRED' || error.code === 'ERR_AUTH_INVALID'
        ? { 'www-authenticate': 'Bearer' }
        : // Another process holds SQLite's write lock (an import batch): worth asking again soon.
          error.code === 'ERR_STORE_BUSY'
          ? { 'retry-after': '1' }
          : {};
    if (error.status >= 500) request.log.error({ err: safeError(error) }, 'request failed');
    return {
      problem: problemFor(error.code, requestId, { detail: error.message, details: error.details }),
      headers,
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'body';
    const errors = error.validation.map((v) => ({
      path: [where, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'invalid',
    }));
    return {
      problem: problemFor('ERR_VALIDATION_FAILED', requestId, {
        detail: `the ${where} does not match its schema`,
        errors,
      }),
      headers: {},
    };
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: safeError(error) }, 'response did not match its schema');
    return { problem: problemFor('ERR_SERVER_INTERNAL', requestId), headers: {} };
  }
  const status = (error as FastifyError).statusCode;
  const fastifyCode = (error as FastifyError).code;
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return { problem: problemFor('ERR_PAYLOAD_TOO_LARGE', requestId), headers: {} };
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return { problem: problemFor('ERR_MEDIA_TYPE_UNSUPPORTED', requestId), headers: {} };
  if (status !== undefined && status >= 400 && status < 500) {
    // Malformed JSON, bad content length and the like: the client's fault, described without echoing input.
    return {
      problem: problemFor('ERR_VALIDATION_FAILED', requestId, { detail: 'the request could not be parsed' }),
      headers: {},
    };
  }
  request.log.error({ err: safeError(error) }, 'unexpected error');
  return { problem: problemFor('ERR_SERVER_INTERNAL', requestId), headers: {} };
}

/** The one error handler: every error as problem+json. */
export function handleError(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const { problem, headers } = problemOf(error, request);
  return sendProblem(reply, problem, headers);
}
