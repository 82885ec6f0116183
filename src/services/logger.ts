import { pino, type DestinationStream, type Logger } from 'pino';

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
        ],
        censor: '[REDACTED]',
      },
      serializers: { req: () => undefined, res: () => undefined },
    },
    destination,
  );
}
