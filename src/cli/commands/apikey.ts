import type { Command } from 'commander';
import { parseDuration } from '../../config/duration.js';
import type { CliIO } from '../io.js';
import { usage } from '../shared.js';
import { withRuntime } from '../shared.js';
import { CLI_ACTOR, table } from './staff.js';

export function apikeyCommand(program: Command, io: CliIO): void {
  const apikey = program
    .command('apikey')
    .description('API keys for integrations: bearer tokens with one role, stored only as hashes');

  apikey
    .command('create')
    .description('create an API key; the token is printed once and never stored')
    .requiredOption('--role <role>', 'a built-in or configured role')
    .option('--name <name>', 'what the key is for, e.g. "Tmall order sync"')
    .option('--expires <duration>', 'lifetime, e.g. 30d, 12h (default: does not expire)')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print {"token","id","role","expiresAt"} as JSON')
    .action(
      async (opts: { role: string; name?: string; expires?: string; config?: string; json?: boolean }) => {
        let expiresInMs: number | undefined;
        if (opts.expires !== undefined) {
          expiresInMs = parseDuration(opts.expires);
          if (expiresInMs === undefined)
            throw usage('--expires: expected a duration such as 30d, 12h or 90m');
        }
        const created = await withRuntime(io, opts.config, (rt) =>
          rt.apiKeys.create({ role: opts.role, name: opts.name, expiresInMs }, CLI_ACTOR),
        );
        if (opts.json) {
          const { token, id, role, expiresAt } = created;
          io.out(`${JSON.stringify({ token, id, role, expiresAt })}\n`);
          return;
        }
        io.out(
          [
            `Created API key ${created.id} "${created.name}" with role ${created.role}, ${created.expiresAt === null ? 'no expiry' : `expires ${created.expiresAt}`}.`,
            '',
            'Token (shown once; store it in your secret manager):',
            `  ${created.token}`,
            '',
          ].join('\n'),
        );
      },
    );

  apikey
    .command('list')
    .description('list API keys (never a token)')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const keys = await withRuntime(io, opts.config, (rt) => rt.apiKeys.list());
      if (opts.json) {
        io.out(`${JSON.stringify(keys)}\n`);
        return;
      }
      const day = (iso: string | null): string => (iso === null ? '-' : iso.slice(0, 10));
      io.out(
        table([
          ['ID', 'NAME', 'ROLE', 'STATUS', 'CREATED', 'EXPIRES', 'LAST USED'],
          ...keys.map((k) => [
            k.id,
            k.name,
            k.role,
            k.status,
            day(k.createdAt),
            day(k.expiresAt),
            day(k.lastUsedAt),
          ]),
        ]),
      );
    });

  apikey
    .command('revoke')
    .description('revoke an API key at once')
    .argument('<id>', 'the key id from apikey list')
    .option('--config <file>', 'configuration file')
    .action(async (id: string, opts: { config?: string }) => {
      await withRuntime(io, opts.config, (rt) => rt.apiKeys.revoke(id, CLI_ACTOR));
      io.out(`Revoked API key ${id}.\n`);
    });
}
