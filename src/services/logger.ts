import { pino, type DestinationStream, type Logger } from 'pino';
import { CustodianError } from '../domain/errors.js';

export type { Logger };

/**
 * The service logger. Request logging is ours (see `app.ts`): it records the route pattern,
 * never the raw URL (search queries carry identities), headers or bodies. Redaction below is a
 * second line of defence only (security invariant 1).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'custodian' },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.cookie',
          'body',
          'req.body',
          // Node's HTTP parser errors carry the raw request bytes (query, Authorization header);
          // Fastify's default client-error handler logs them at trace level as `{ err }`.
          'err.rawPacket',
          'error.rawPacket',
          'rawPacket',
        ],
        censor: '[REDACTED]',
      },
      serializers: { req: () => undefined, res: () => undefined },
    },
    destination,
  );
}

/**
 * What of an error may be logged. A foreign error's message can quote bound parameters or
 * input (a driver's "Key (phone)=(…) exists"), so only its class, code and stack frames are kept.
 */
export function safeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((l) => l.trimStart().startsWith('at '))
    .slice(0, 12);
  const code = (error as { code?: unknown }).code;
  const base: Record<string, unknown> = { type: error.constructor.name, stack: frames.join('\n') };
  if (typeof code === 'string') base['code'] = code;
  if (error instanceof CustodianError) base['message'] = error.message;
  if (error.cause !== undefined) base['cause'] = safeError(error.cause);
  return base;
}
