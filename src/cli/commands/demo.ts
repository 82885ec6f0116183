import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initProject } from '../../services/setup.js';
import type { CliIO } from '../io.js';
import { serve } from './serve.js';

/**
 * The demo store: a folder on the embedded database, created on first run, then served.
 * `npm start` runs this.
 */
export function demoCommand(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description('create (first run) and serve a demo store on the embedded SQLite database')
    .option('--dir <dir>', 'demo folder', 'demo')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to bind', '8080')
    .action(async (opts: { dir: string; host: string; port: string }) => {
      const dir = resolve(io.cwd, opts.dir);
      const configPath = join(dir, 'custodian.yaml');
      if (!existsSync(configPath)) {
        const result = await initProject({ dir, storeName: 'Custodian Demo Tmall Store' });
        io.out(`Created the demo store in ${dir}\nAdmin token (shown once): ${result.adminToken}\n\n`);
      }
      await serve(io, { config: configPath, host: opts.host, port: opts.port });
    });
}
