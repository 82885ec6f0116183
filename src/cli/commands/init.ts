import type { Command } from 'commander';
import { resolve } from 'node:path';
import { initProject } from '../../services/setup.js';
import type { CliIO } from '../io.js';
import { usage } from '../shared.js';

export function initCommand(program: Command, io: CliIO): void {
  program
    .command('init')
    .description('create a folder with custodian.yaml, key files, the database and a bootstrap admin token')
    .argument('[dir]', 'folder to create or fill', '.')
    .option('--json', 'print {"adminToken", "configPath"} as JSON')
    .option('--suite <suite>', 'AEAD suite for new ciphertexts: aes-256-gcm or sm4-gcm', 'aes-256-gcm')
    .action(async (dir: string, opts: { json?: boolean; suite: string }) => {
      if (opts.suite !== 'aes-256-gcm' && opts.suite !== 'sm4-gcm') {
        throw usage(`--suite: expected aes-256-gcm or sm4-gcm`);
      }
      const result = await initProject({ dir: resolve(io.cwd, dir), suite: opts.suite });
      if (opts.json) {
        io.out(`${JSON.stringify({ adminToken: result.adminToken, configPath: result.configPath })}\n`);
        return;
      }
      io.out(
        [
          `Created ${result.configPath}`,
          '',
          'Bootstrap admin token (shown once; store it in your secret manager):',
          `  ${result.adminToken}`,
          '',
          `Next: custodian serve --config ${result.configPath}`,
          '',
        ].join('\n'),
      );
    });
}
