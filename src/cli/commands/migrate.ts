import type { Command } from 'commander';
import { openStore } from '../../store/open.js';
import type { CliIO } from '../io.js';
import { loadFor } from '../shared.js';

export function migrateCommand(program: Command, io: CliIO): void {
  program
    .command('migrate')
    .description('apply pending database migrations')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const { config } = loadFor(io, opts.config);
      const store = openStore(config.database);
      try {
        const outcome = await store.migrate();
        if (opts.json) io.out(`${JSON.stringify(outcome)}\n`);
        else if (outcome.applied.length === 0)
          io.out(`Database is up to date (${outcome.current ?? 'empty'}).\n`);
        else io.out(`Applied ${outcome.applied.join(', ')}; now at ${outcome.current ?? '-'}.\n`);
      } finally {
        await store.close();
      }
    });
}
