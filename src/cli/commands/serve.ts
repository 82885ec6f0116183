import type { Command } from 'commander';
import { buildApp } from '../../http/app.js';
import { codeDeliveryWarnings } from '../../services/privacy-centre.js';
import { openRuntime } from '../../services/runtime.js';
import type { CliIO } from '../io.js';
import { loadFor, parsePort } from '../shared.js';

export interface ServeOptions {
  readonly config?: string;
  readonly host?: string;
  readonly port?: string;
}

/** Loads the config, migrates, serves until SIGINT/SIGTERM, then closes cleanly. */
export async function serve(
  io: CliIO,
  opts: ServeOptions,
  onListening?: (url: string) => void,
): Promise<void> {
  const port = opts.port === undefined ? undefined : parsePort(opts.port);
  const { config } = loadFor(io, opts.config);
  const runtime = await openRuntime(config);
  try {
    // A data-map change that changes the policy publishes a new version (R5).
    const published = await runtime.privacyPolicy.publish();
    if (published.created) {
      io.err(
        `published privacy policy version ${published.version.number}${published.version.requiresReconsent ? ' (requires re-consent)' : ''}\n`,
      );
    }
    const app = await buildApp({ runtime });
    const url = await app.listen({ host: opts.host ?? config.server.host, port: port ?? config.server.port });
    io.err(`custodian listening on ${url}\n`);
    for (const warning of codeDeliveryWarnings(config)) io.err(`warning: ${warning}\n`);
    onListening?.(url);
    await new Promise<void>((done) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        done();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await app.close();
  } finally {
    await runtime.close();
  }
}

export function serveCommand(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('serve the HTTP API (migrates the database first)')
    .option('--config <file>', 'configuration file (default: $CUSTODIAN_CONFIG or ./custodian.yaml)')
    .option('--host <host>', 'address to bind (default from the config: 127.0.0.1)')
    .option('--port <port>', 'port to bind (default from the config: 8080)')
    .action((opts: ServeOptions) => serve(io, opts));
}
