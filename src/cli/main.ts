import { Command, CommanderError } from 'commander';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isCustodianError } from '../domain/errors.js';
import { API_VERSION } from '../http/app.js';
import { accessCommand } from './commands/access.js';
import { apikeyCommand } from './commands/apikey.js';
import { datamapCommand } from './commands/datamap.js';
import { demoCommand } from './commands/demo.js';
import { importCommand } from './commands/import.js';
import { incidentCommand } from './commands/incident.js';
import { noticeCommand } from './commands/notice.js';
import { initCommand } from './commands/init.js';
import { keysCommand } from './commands/keys.js';
import { logCommand } from './commands/log.js';
import { migrateCommand } from './commands/migrate.js';
import { oversightCommands } from './commands/oversight.js';
import { piiCommand } from './commands/pii.js';
import { policyCommand } from './commands/policy.js';
import { serveCommand } from './commands/serve.js';
import { staffCommand } from './commands/staff.js';
import { processIO, type CliIO } from './io.js';

/** Exit codes for every command: 0 success, 1 a check found a problem, 2 bad usage or input. */
export const EXIT = { ok: 0, problem: 1, usage: 2 } as const;

export function buildProgram(io: CliIO): Command {
  const program = new Command('custodian')
    .description('Custodian: a self-hosted, PIPL-native vault for customer personal information')
    .version(API_VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run custodian --help for usage)');
  initCommand(program, io);
  serveCommand(program, io);
  migrateCommand(program, io);
  demoCommand(program, io);
  importCommand(program, io);
  keysCommand(program, io);
  logCommand(program, io);
  datamapCommand(program, io);
  piiCommand(program, io);
  policyCommand(program, io);
  oversightCommands(program, io);
  staffCommand(program, io);
  apikeyCommand(program, io);
  accessCommand(program, io);
  incidentCommand(program, io);
  noticeCommand(program, io);
  for (const command of allCommands(program))
    command.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Runs the CLI and returns its exit code. Never calls `process.exit`. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; every parse error is bad usage.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isCustodianError(error)) {
      io.err(`custodian: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(
      `custodian: internal error (${error instanceof Error ? error.constructor.name : typeof error}); see the log\n`,
    );
    return EXIT.problem;
  }
}

const invokedDirectly = ((): boolean => {
  try {
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
