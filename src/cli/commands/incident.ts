import type { Command } from 'commander';
import type { CliIO } from '../io.js';
import { withRuntime } from '../shared.js';
import { table } from './staff.js';

export function incidentCommand(program: Command, io: CliIO): void {
  const incident = program
    .command('incident')
    .description('incidents opened by anomaly detection over the audit log (no personal data)');

  incident
    .command('list')
    .description('list incidents, newest first')
    .option('--scan', 'consume new audit entries first (runs the anomaly rules and alerts)')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { scan?: boolean; config?: string; json?: boolean }) => {
      const incidents = await withRuntime(io, opts.config, async (rt) => {
        if (opts.scan) await rt.anomalies.scan();
        return rt.incidents.list();
      });
      if (opts.json) {
        io.out(`${JSON.stringify(incidents)}\n`);
        return;
      }
      if (incidents.length === 0) {
        io.out('No incidents.\n');
        return;
      }
      io.out(
        table([
          ['ID', 'STATUS', 'RULE', 'SEVERITY', 'DETECTED', 'ACTOR', 'ROLE', 'COUNT', 'SEQ', 'ALERTED'],
          ...incidents.map((i) => [
            i.id,
            i.status,
            i.rule,
            i.severity,
            i.detectedAt,
            i.actor,
            i.role,
            String(i.evidence.count),
            `${i.evidence.firstSeq}-${i.evidence.lastSeq}`,
            i.alerted ? 'yes' : 'no',
          ]),
        ]),
      );
    });
}
