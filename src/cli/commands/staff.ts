import type { Command } from 'commander';
import type { Actor, StaffSummary } from '../../services/staff.js';
import type { CliIO } from '../io.js';
import { usage, withRuntime } from '../shared.js';

/** Who the audit trail names for changes made at the command line (whoever holds the key files). */
export const CLI_ACTOR: Actor = { id: 'cli', role: 'security-admin' };

/** A calendar date (`2026-03-01`, midnight UTC) or a full ISO 8601 timestamp. */
export function parseDate(value: string, flag: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value)
    ? new Date(`${value}T00:00:00.000Z`)
    : /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(value)
      ? new Date(value)
      : undefined;
  if (date === undefined || Number.isNaN(date.getTime()))
    throw usage(`${flag}: expected a date such as 2026-03-01`);
  return date;
}

async function readPassword(io: CliIO): Promise<string> {
  const text = io.readStdin
    ? await io.readStdin()
    : await new Promise<string>((resolve, reject) => {
        let data = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (chunk: string) => (data += chunk));
        process.stdin.on('end', () => resolve(data));
        process.stdin.on('error', reject);
      });
  // One trailing newline is the shell's, not the password's.
  return text.replace(/\r?\n$/, '');
}

function day(iso: string | null): string {
  return iso === null ? '-' : iso.slice(0, 10);
}

function status(s: StaffSummary): string {
  return s.disabledAt !== null ? 'disabled' : s.lockedUntil !== null ? 'locked' : 'active';
}

export function staffCommand(program: Command, io: CliIO): void {
  const staff = program
    .command('staff')
    .description('staff accounts: password + TOTP sign-in, roles, training records');

  staff
    .command('add')
    .description('add a staff member; prints the TOTP enrolment (and a generated password) once')
    .argument('<username>', 'sign-in name: lower-case letters, digits, dot, hyphen, underscore')
    .requiredOption('--role <role>', 'a built-in or configured role')
    .option('--name <name>', 'display name, e.g. 张三')
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(
      async (
        username: string,
        opts: { role: string; name?: string; passwordStdin?: boolean; config?: string; json?: boolean },
      ) => {
        const password = opts.passwordStdin ? await readPassword(io) : undefined;
        const added = await withRuntime(io, opts.config, (rt) =>
          rt.staff.add({ username, role: opts.role, displayName: opts.name, password }, CLI_ACTOR),
        );
        if (opts.json) {
          io.out(
            `${JSON.stringify({
              id: added.staff.id,
              username: added.staff.username,
              name: added.staff.name,
              role: added.staff.role,
              ...(added.generatedPassword === undefined ? {} : { password: added.generatedPassword }),
              totp: added.totp,
            })}\n`,
          );
          return;
        }
        io.out(
          [
            `Added ${added.staff.username} (${added.staff.name}) with role ${added.staff.role}.`,
            ...(added.generatedPassword === undefined
              ? []
              : ['', 'Password (shown once; hand it over privately):', `  ${added.generatedPassword}`]),
            '',
            'TOTP secret (shown once; add it to an authenticator app now, or use the URI as a QR code):',
            `  ${added.totp.secret}`,
            `  ${added.totp.uri}`,
            '',
          ].join('\n'),
        );
      },
    );

  staff
    .command('list')
    .description('list staff members (never a secret)')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const all = await withRuntime(io, opts.config, (rt) => rt.staff.list());
      if (opts.json) {
        io.out(`${JSON.stringify(all)}\n`);
        return;
      }
      if (all.length === 0) {
        io.out('No staff members. Add one with: custodian staff add USERNAME --role ROLE\n');
        return;
      }
      const rows = [
        ['USERNAME', 'NAME', 'ROLE', 'STATUS', 'MFA', 'LAST LOGIN', 'TRAINED UNTIL'],
        ...all.map((s) => [
          s.username,
          s.name,
          s.role,
          status(s),
          s.mfaEnrolled ? 'yes' : 'no',
          day(s.lastLoginAt),
          day(s.trainingUntil),
        ]),
      ];
      io.out(table(rows));
    });

  staff
    .command('disable')
    .description('disable a staff member and end their sessions')
    .argument('<username>')
    .option('--config <file>', 'configuration file')
    .action(async (username: string, opts: { config?: string }) => {
      const { sessionsRevoked } = await withRuntime(io, opts.config, (rt) =>
        rt.staff.disable(username, CLI_ACTOR),
      );
      io.out(`Disabled ${username}; ${sessionsRevoked} session(s) ended.\n`);
    });

  staff
    .command('unlock')
    .description('lift a sign-in lockout before it runs out')
    .argument('<username>')
    .option('--config <file>', 'configuration file')
    .action(async (username: string, opts: { config?: string }) => {
      const { wasLocked } = await withRuntime(io, opts.config, (rt) => rt.staff.unlock(username, CLI_ACTOR));
      io.out(wasLocked ? `Unlocked ${username}.\n` : `${username} was not locked; failure count cleared.\n`);
    });

  staff
    .command('reset-mfa')
    .description('replace a staff member’s TOTP secret (printed once) and end their sessions')
    .argument('<username>')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (username: string, opts: { config?: string; json?: boolean }) => {
      const reset = await withRuntime(io, opts.config, (rt) => rt.staff.resetMfa(username, CLI_ACTOR));
      if (opts.json) {
        io.out(`${JSON.stringify(reset)}\n`);
        return;
      }
      io.out(
        [
          `New TOTP secret for ${username} (shown once); ${reset.sessionsRevoked} session(s) ended:`,
          `  ${reset.secret}`,
          `  ${reset.uri}`,
          '',
        ].join('\n'),
      );
    });

  staff
    .command('training')
    .description('record a completed training course (R18: at least yearly)')
    .argument('<username>')
    .requiredOption('--course <course>', 'course name')
    .option('--completed <date>', 'completion date (default: today)')
    .option('--expires <date>', 'when it lapses (default: completed + access.trainingValidity)')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(
      async (
        username: string,
        opts: { course: string; completed?: string; expires?: string; config?: string; json?: boolean },
      ) => {
        const completedAt =
          opts.completed === undefined ? undefined : parseDate(opts.completed, '--completed');
        const expiresAt = opts.expires === undefined ? undefined : parseDate(opts.expires, '--expires');
        const record = await withRuntime(io, opts.config, (rt) =>
          rt.staff.recordTraining(username, { course: opts.course, completedAt, expiresAt }, CLI_ACTOR),
        );
        if (opts.json) {
          io.out(`${JSON.stringify(record)}\n`);
          return;
        }
        io.out(
          `Recorded ${record.course} for ${username}: completed ${day(record.completedAt)}, current until ${day(record.expiresAt)}.\n`,
        );
      },
    );
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell))));
  return rows
    .map(
      (row) =>
        row
          .map((cell, i) =>
            i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - displayWidth(cell)),
          )
          .join('  ') + '\n',
    )
    .join('');
}

/** CJK characters take two terminal columns. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text)
    width +=
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(
        ch,
      )
        ? 2
        : 1;
  return width;
}
