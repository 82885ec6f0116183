/**
 * `tmall-import`: a Tmall order export generated and imported end to end. The export is the
 * synthetic GBK 订单报表 (Chinese headers, OAID columns, masked and privacy numbers, one malformed
 * row in a thousand); the import is the real one (`importTmallOrders`: streaming decode and
 * parse, the vault's collect with its audit entries, the import bookkeeping, one unit of work per
 * batch) on a fresh `init` folder (SQLite, AES-256-GCM).
 *
 *   node --import tsx bench/tmall-import.ts [--rows 1000000] [--batch 1000] [--keep]
 *
 * prints one JSON line. Goal: 1,000,000 rows in 60 s or less; it must stay within 180 s on a
 * 2-core machine.
 */

import { realpathSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { writeSyntheticExport } from '../src/platforms/tmall/synthetic-export.js';
import { IMPORTER, importTmallOrders } from '../src/services/importer.js';
import { openRuntime } from '../src/services/runtime.js';
import { initProject } from '../src/services/setup.js';
import { environment, note, perSec } from './lib/out.js';

export const TMALL_IMPORT_GOAL_SECONDS = 60;
export const TMALL_IMPORT_CEILING_SECONDS = 180;
const FULL = 1_000_000;

export interface TmallImportBenchOptions {
  /** Data rows in the export (default 1,000,000). */
  readonly rows?: number;
  /** Rows per unit of work (default 1000). */
  readonly batch?: number;
  /** Keep the temporary folder. */
  readonly keep?: boolean;
  readonly seed?: string;
}

export interface TmallImportResult {
  readonly bench: 'tmall-import';
  readonly rows: number;
  readonly batch: number;
  readonly exportBytes: number;
  readonly imported: number;
  readonly rejected: number;
  readonly records: number;
  readonly subjects: number;
  readonly generateSeconds: number;
  readonly importSeconds: number;
  readonly rowsPerSecond: number;
  /** Process CPU per row during the import (the SQLite engine runs in-process). */
  readonly cpuUsPerRow: number;
  /** The import time scaled to 1,000,000 rows (equal to `importSeconds` at that size). */
  readonly projected1MSeconds: number;
  readonly goalSeconds: number;
  readonly ceilingSeconds: number;
  readonly meetsGoal: boolean;
  readonly meetsCeiling: boolean;
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpus: number;
  readonly load1: number;
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Generates a GBK export of `rows` rows and imports it; returns the figures. */
export async function tmallImport(options: TmallImportBenchOptions = {}): Promise<TmallImportResult> {
  const rows = options.rows ?? FULL;
  const batch = options.batch ?? 1000;
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-tmall-'));
  try {
    const { configPath } = await initProject({ dir });
    const file = join(dir, 'orders-export.csv');
    let t = performance.now();
    const written = await writeSyntheticExport(file, {
      seed: options.seed ?? 'bench-tmall',
      rows,
      encoding: 'gbk',
      malformedEvery: 1000,
    });
    const generateSeconds = (performance.now() - t) / 1000;
    note(
      `tmall-import: wrote ${rows} rows (${(written.bytes / 1e6).toFixed(1)} MB GBK) in ${generateSeconds.toFixed(1)} s`,
    );

    const { config } = loadConfig({ explicit: configPath, env: {} });
    const runtime = await openRuntime(config);
    try {
      let lastNote = performance.now();
      const cpu = process.cpuUsage();
      t = performance.now();
      const summary = await importTmallOrders(
        { store: runtime.store, vault: runtime.vault, datamap: config.datamap, now: () => new Date() },
        IMPORTER,
        {
          file,
          batchSize: batch,
          rejectsFile: null,
          onProgress: (p) => {
            const now = performance.now();
            if (now - lastNote < 10_000) return;
            lastNote = now;
            note(`tmall-import: ${p.rows} rows, ${perSec(p.rows, (now - t) / 1000)}/s`);
          },
        },
      );
      const importSeconds = (performance.now() - t) / 1000;
      const used = process.cpuUsage(cpu);
      if (summary.counts.imported !== written.good || summary.counts.rejected !== written.malformed.length)
        throw new Error(
          `tmall-import: imported ${summary.counts.imported}/${written.good}, rejected ${summary.counts.rejected}/${written.malformed.length}`,
        );
      const projected = (importSeconds * FULL) / rows;
      return {
        bench: 'tmall-import',
        rows,
        batch,
        exportBytes: written.bytes,
        imported: summary.counts.imported,
        rejected: summary.counts.rejected,
        records: summary.counts.records,
        subjects: summary.counts.subjects.new,
        generateSeconds: round(generateSeconds),
        importSeconds: round(importSeconds),
        rowsPerSecond: perSec(rows, importSeconds),
        cpuUsPerRow: Math.round((used.user + used.system) / rows),
        projected1MSeconds: round(projected, 1),
        goalSeconds: TMALL_IMPORT_GOAL_SECONDS,
        ceilingSeconds: TMALL_IMPORT_CEILING_SECONDS,
        meetsGoal: projected <= TMALL_IMPORT_GOAL_SECONDS,
        meetsCeiling: projected <= TMALL_IMPORT_CEILING_SECONDS,
        ...environment(),
      };
    } finally {
      await runtime.close();
    }
  } finally {
    if (options.keep) note(`tmall-import: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
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
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      batch: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const count = (value: string | undefined, fallback: number): number => {
    const n = value === undefined ? fallback : Number(value.replaceAll('_', ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new Error('--rows and --batch are positive integers');
    return n;
  };
  const result = await tmallImport({
    rows: count(values.rows, FULL),
    batch: count(values.batch, 1000),
    keep: values.keep,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
