import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CustodianError } from '../../domain/errors.js';
import { openRuntime, type Runtime } from '../../services/runtime.js';
import type { CliIO } from '../io.js';
import { progress } from '../progress.js';
import { loadFor, openOutput, usage } from '../shared.js';

interface VerifyOptions {
  config?: string;
  fromCheckpoint?: string;
  json?: boolean;
  batch: string;
}

interface PruneOptions {
  config?: string;
  dryRun?: boolean;
  json?: boolean;
}

interface CheckpointOptions {
  config?: string;
  export?: string;
  json?: boolean;
}

export function logCommand(program: Command, io: CliIO): void {
  const log = program
    .command('log')
    .description('the tamper-evident audit log: verify it, sign and export checkpoints (docs/audit-log.md)');

  log
    .command('verify')
    .description(
      'recompute the Merkle tree from every stored entry and check the stored nodes, the head and every checkpoint; exit 1 naming the first bad entry',
    )
    .option('--config <file>', 'configuration file')
    .option(
      '--from-checkpoint <file>',
      'also check a checkpoint kept off-site: its signature, and that the log still extends it',
    )
    .option('--batch <n>', 'entries per batch', '16384')
    .option('--json', 'print the report as JSON')
    .action(async (opts: VerifyOptions) => {
      if (!/^\d{1,7}$/.test(opts.batch) || Number(opts.batch) < 2)
        throw usage('--batch: expected an integer of 2 or more');
      let offsite: string | undefined;
      if (opts.fromCheckpoint !== undefined) {
        const path = resolve(io.cwd, opts.fromCheckpoint);
        try {
          offsite = readFileSync(path, 'utf8');
        } catch (cause) {
          throw new CustodianError('ERR_USAGE_INVALID', `--from-checkpoint: cannot read ${path}`, { cause });
        }
      }
      const runtime = await openRuntime(loadFor(io, opts.config).config, { checkpoints: false });
      const bar = progress(io, 'verifying audit log');
      try {
        const report = await runtime.auditLog.verify({
          batchSize: Number(opts.batch),
          ...(offsite === undefined ? {} : { offsite }),
          onProgress: (p) => bar.update(p.done, p.total),
        });
        bar.stop();
        if (opts.json) io.out(`${JSON.stringify(report)}\n`);
        else {
          const rate = report.seconds > 0 ? Math.round(report.treeSize / report.seconds) : report.treeSize;
          const lines = [
            `entries      ${report.treeSize}${report.prunedSize > 0 ? ` (leaves before ${report.prunedSize} pruned; verified from there)` : ''}`,
            `root         ${report.rootHash}`,
            `nodes        ${report.nodesChecked} checked`,
            `checkpoints  ${report.checkpointsChecked} checked${report.signaturesChecked ? ', signatures verified' : ''}`,
            ...(report.offsite
              ? [
                  `off-site     size ${report.offsite.treeSize}: ${report.offsite.ok ? 'signed, and the log extends it' : 'FAILED'}`,
                ]
              : []),
            `time         ${report.seconds.toFixed(2)} s (${rate} entries/s)`,
            ...report.problems.map((p) => `PROBLEM      ${p.message}`),
            ...(report.moreProblems > 0 ? [`             … and ${report.moreProblems} more`] : []),
            report.ok ? 'The audit log verifies.' : 'The audit log does NOT verify.',
          ];
          io.out(`${lines.join('\n')}\n`);
        }
        const first = report.problems[0];
        if (first !== undefined) {
          throw new CustodianError('ERR_CHECK_FAILED', `audit log verification failed: ${first.message}`, {
            details: {
              problems: report.problems.length + report.moreProblems,
              ...(report.firstBadLeaf === null ? {} : { firstBadLeaf: report.firstBadLeaf }),
            },
          });
        }
      } finally {
        bar.stop();
        await runtime.close();
      }
    });

  log
    .command('checkpoint')
    .description(
      'sign a checkpoint of the log as it is now (unless the latest one covers it) and print it; --export writes it to a file to keep off-site',
    )
    .option('--config <file>', 'configuration file')
    .option('--export <file>', 'write the signed checkpoint (C2SP signed note) to this file')
    .option('--json', 'print the checkpoint as JSON')
    .action(async (opts: CheckpointOptions) => {
      const { config } = loadFor(io, opts.config);
      // Open the export file before signing, so a bad path is a usage error that changes nothing.
      const out =
        opts.export === undefined
          ? undefined
          : openOutput(io, '--export', opts.export, { mode: 0o644, replace: true });
      let runtime: Runtime | undefined;
      try {
        runtime = await openRuntime(config, { checkpoints: false });
        const { checkpoint, created } = await runtime.auditLog.checkpoint();
        out?.write(checkpoint.note);
        if (opts.json) {
          io.out(
            `${JSON.stringify({
              origin: checkpoint.origin,
              treeSize: checkpoint.treeSize,
              rootHash: checkpoint.rootHash.toString('hex'),
              time: checkpoint.time,
              keyId: checkpoint.keyId.toString(16).padStart(8, '0'),
              created,
              note: checkpoint.note,
            })}\n`,
          );
        } else if (opts.export !== undefined) {
          io.out(
            `${created ? 'Signed' : 'Exported the latest'} checkpoint at size ${checkpoint.treeSize} to ${resolve(io.cwd, opts.export)}.\nKeep it off-site; check it later with: custodian log verify --from-checkpoint <file>\n`,
          );
        } else io.out(checkpoint.note);
      } catch (error) {
        out?.discard();
        throw error;
      } finally {
        await runtime?.close();
      }
    });

  log
    .command('prune')
    .description(
      'remove the oldest whole sealed segments whose entries are all past their retention (audit.retention), keeping every checkpoint; the log must verify first, and the prune is itself audited',
    )
    .option('--config <file>', 'configuration file')
    .option('--dry-run', 'say what would be pruned, change nothing')
    .option('--json', 'print the report as JSON')
    .action(async (opts: PruneOptions) => {
      const runtime = await openRuntime(loadFor(io, opts.config).config, { checkpoints: false });
      try {
        const report = await runtime.auditLog.prune({ dryRun: opts.dryRun ?? false });
        if (opts.json) io.out(`${JSON.stringify(report)}\n`);
        else {
          const verb = report.dryRun ? 'Would prune' : 'Pruned';
          const lines = [
            report.prunedSize === report.from
              ? `Nothing to prune: the kept log starts at leaf ${report.from}.`
              : `${verb} ${report.segments} sealed segment(s): ${report.entries} entries, leaves ${report.from} to ${report.prunedSize - 1}; ${report.keptNodes} tree nodes kept for proofs.`,
            ...(report.next
              ? [
                  `The segment of leaves ${report.next.start} to ${report.next.end - 1} is kept until ${report.next.keepUntil}.`,
                ]
              : []),
            ...(report.leafIndex === undefined ? [] : [`The prune is recorded as leaf ${report.leafIndex}.`]),
          ];
          io.out(`${lines.join('\n')}\n`);
        }
      } finally {
        await runtime.close();
      }
    });
}
