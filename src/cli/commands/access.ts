import type { Command } from 'commander';
import type { AccessReview } from '../../services/staff.js';
import type { CliIO } from '../io.js';
import { withRuntime } from '../shared.js';
import { table } from './staff.js';

export function accessCommand(program: Command, io: CliIO): void {
  const access = program.command('access').description('access control: the periodic access review');

  access
    .command('review')
    .description(
      'list staff and API keys with roles and last use; flag grants unused for 90 days, lapsed training and expired keys',
    )
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const review = await withRuntime(io, opts.config, (rt) => rt.staff.review());
      io.out(opts.json ? `${JSON.stringify(review)}\n` : render(review));
    });
}

function render(review: AccessReview): string {
  const day = (iso: string | null): string => (iso === null ? '-' : iso.slice(0, 10));
  const out = [`Access review, ${review.generatedAt}`, '', `Staff (${review.staff.length})`];
  out.push(
    review.staff.length === 0
      ? '  none\n'
      : table([
          ['USERNAME', 'ROLE', 'STATUS', 'MFA', 'LAST LOGIN', 'TRAINED UNTIL', 'FLAGS'],
          ...review.staff.map((s) => [
            s.username,
            s.role,
            s.status,
            s.mfaEnrolled ? 'yes' : 'no',
            day(s.lastLoginAt),
            day(s.trainingUntil),
            [s.unused ? 'unused' : '', s.status !== 'disabled' && s.trainingLapsed ? 'training-lapsed' : '']
              .filter(Boolean)
              .join(',') || '-',
          ]),
        ]),
  );
  out.push(`API keys (${review.apiKeys.length})`);
  out.push(
    review.apiKeys.length === 0
      ? '  none\n'
      : table([
          ['ID', 'NAME', 'ROLE', 'STATUS', 'LAST USED', 'EXPIRES', 'FLAGS'],
          ...review.apiKeys.map((k) => [
            k.id,
            k.name,
            k.role,
            k.status,
            day(k.lastUsedAt),
            day(k.expiresAt),
            k.unused ? 'unused' : '-',
          ]),
        ]),
  );
  out.push(`Findings (${review.findings.length})`);
  for (const f of review.findings)
    out.push(`  ${f.kind}: ${f.principal.kind} ${f.principal.name} (${f.principal.id}): ${f.message}`);
  if (review.findings.length === 0) out.push('  none');
  return `${out.join('\n')}\n`;
}
