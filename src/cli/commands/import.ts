import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CustodianError } from '../../domain/errors.js';
import { ENCODING_CHOICES, type EncodingChoice } from '../../platforms/tmall/encoding.js';
import { parseImportMap, type ImportMap } from '../../platforms/tmall/mapping.js';
import {
  DEFAULT_BATCH,
  estimateTotalRows,
  IMPORTER,
  importTmallOrders,
  type ImportSummary,
} from '../../services/importer.js';
import { openRuntime } from '../../services/runtime.js';
import type { CliIO } from '../io.js';
import { progress } from '../progress.js';
import { loadFor, principalFromEnv, usage } from '../shared.js';

interface ImportOptions {
  encoding: string;
  map?: string;
  dryRun?: boolean;
  batch: string;
  rejects?: string;
  config?: string;
  json?: boolean;
  threads: boolean;
}

function readMap(io: CliIO, file: string): ImportMap {
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CustodianError('ERR_TMALL_MAP_INVALID', `${file}: cannot be read`, { cause });
  }
  return parseImportMap(text, file);
}

/** The summary for people: counts, what was left out and where the rejects are. */
export function formatSummary(s: ImportSummary): string {
  const c = s.counts;
  const dropped = Object.entries(c.dropped)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`);
  const lines = [
    `${s.dryRun ? 'Dry run of' : 'Imported'} ${s.file} (${s.format}${s.format === 'csv' ? `, ${s.encoding} by ${s.encodingDetectedBy}` : ''}) for ${s.purpose}${s.resumed ? ', resuming an interrupted run' : ''}`,
    `  rows         ${c.rows}: ${c.imported} imported, ${c.duplicates} already imported, ${c.rejected} rejected`,
    ...(s.dryRun
      ? []
      : [
          `  subjects     ${c.subjects.new} new, ${c.subjects.linked} rows linked to existing subjects, ${c.subjects.unkeyed} rows without OAID/open_uid (kept apart)`,
          `  records      ${c.records}${c.screened > 0 ? ` (${c.screened} with personal data masked in free text)` : ''}`,
        ]),
    ...(dropped.length > 0 ? [`  left out     ${dropped.join(', ')}`] : []),
    ...(s.ignoredColumns.length > 0 ? [`  not imported ${s.ignoredColumns.join(', ')}`] : []),
    ...(s.unavailableFields.length > 0
      ? [`  not in the data map (not imported): ${s.unavailableFields.join(', ')}`]
      : []),
    ...s.rejects.map(
      (r) =>
        `  rejected line ${r.line}: ${r.reasons.join(', ')}${r.columns.length > 0 ? ` (${r.columns.join(', ')})` : ''}`,
    ),
    ...(c.rejected > s.rejects.length ? [`  … ${c.rejected - s.rejects.length} more`] : []),
    ...(s.rejectsFile !== null && c.rejected > 0 ? [`  rejects      ${s.rejectsFile}`] : []),
    `  time         ${s.seconds.toFixed(1)} s (${s.rowsPerSecond} rows/s)`,
  ];
  return `${lines.join('\n')}\n`;
}

export function importCommand(program: Command, io: CliIO): void {
  const command = program.command('import').description('import customer data from a marketplace export');

  command
    .command('tmall-orders')
    .description(
      'import a Tmall seller-centre order export (CSV in GBK or UTF-8, or XLSX): idempotent, resumable after an interruption',
    )
    .argument('<file>', 'the export file')
    .option('--encoding <encoding>', `text encoding of a CSV: ${ENCODING_CHOICES.join(', ')}`, 'auto')
    .option('--map <file>', 'header → field mapping (YAML or JSON) that overrides the defaults')
    .option('--dry-run', 'read and check every row, write nothing')
    .option('--batch <n>', 'rows per unit of work', String(DEFAULT_BATCH))
    .option('--rejects <file>', 'where to write the rejected rows (default: <file>.rejects.jsonl)')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print the summary as JSON')
    .option(
      '--no-threads',
      'read, prepare and seal in the writing thread too (by default a second thread does, when the machine has more than one CPU)',
    )
    .action(async (file: string, opts: ImportOptions) => {
      if (!(ENCODING_CHOICES as readonly string[]).includes(opts.encoding))
        throw usage(`--encoding: expected one of ${ENCODING_CHOICES.join(', ')}`);
      if (!/^\d{1,6}$/.test(opts.batch) || Number(opts.batch) < 1)
        throw usage('--batch: expected a positive integer');
      const map = opts.map === undefined ? undefined : readMap(io, opts.map);
      const runtime = await openRuntime(loadFor(io, opts.config).config);
      const bar = progress(io, 'importing rows');
      try {
        // Accountable: the caller's own API key when given, else the importer's CLI principal.
        const principal = io.env['CUSTODIAN_TOKEN'] ? await principalFromEnv(io, runtime.store) : IMPORTER;
        const summary = await importTmallOrders(
          {
            store: runtime.store,
            vault: runtime.vault,
            datamap: runtime.config.datamap,
            now: () => new Date(),
          },
          principal,
          {
            file: resolve(io.cwd, file),
            encoding: opts.encoding as EncodingChoice,
            map,
            dryRun: opts.dryRun ?? false,
            batchSize: Number(opts.batch),
            ...(opts.threads ? {} : { threads: false }),
            ...(opts.rejects === undefined ? {} : { rejectsFile: resolve(io.cwd, opts.rejects) }),
            // Rows are counted as read; the total is estimated from the bytes read so far.
            onProgress: (p) => {
              if (p.rows > 0) bar.update(p.rows, estimateTotalRows(p));
            },
          },
        );
        bar.stop();
        io.out(opts.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
      } finally {
        bar.stop();
        await runtime.close();
      }
    });
}
