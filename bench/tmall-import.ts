/**
 * `tmall-import`: a Tmall order export generated and imported end to end. The export is the
 * synthetic GBK 订单报表 (Chinese headers, OAID columns, masked and privacy numbers, one malformed
 * row in a thousand); the import is the real one (`importTmallOrders`: streaming decode and
 * parse, the vault's collect with its audit entries, the import bookkeeping, one unit of work per
 * batch) on a fresh `init` folder (SQLite, AES-256-GCM).
 *
 *   node --import tsx bench/tmall-import.ts [--rows 1000000] [--batch 1000] [--keep] [--floor]
 *
 * prints one JSON line. `--floor` adds `storageFloor`: the same rows written again by SQLite alone
 * in the same transactions (see {@link storageFloor}). Goal: 1,000,000 rows in 60 s or less; it
 * must stay within 180 s on a 2-core machine.
 */

import SqliteDatabase from 'better-sqlite3';
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
import { SQLITE_PRAGMAS } from '../src/store/open.js';
import { timedSync } from './lib/clock.js';
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
  /** Import with the second thread (`true`), without it (`false`), or as the importer chooses. */
  readonly threads?: boolean;
  /** Also measure the storage floor: SQLite alone writing the import's rows, batch by batch. */
  readonly floor?: boolean;
  readonly seed?: string;
}

export interface TmallImportResult {
  readonly bench: 'tmall-import';
  readonly rows: number;
  readonly batch: number;
  /** Whether the import asked for the second thread: on, off, or left to the importer (auto). */
  readonly threads: 'on' | 'off' | 'auto';
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
  /**
   * The main thread's busy time per row (its event loop's active time: JavaScript, SQLite, the
   * messages of the import thread): the part no other thread can take.
   */
  readonly mainBusyUsPerRow: number;
  /** The import time scaled to 1,000,000 rows (equal to `importSeconds` at that size). */
  readonly projected1MSeconds: number;
  readonly goalSeconds: number;
  readonly ceilingSeconds: number;
  readonly meetsGoal: boolean;
  readonly meetsCeiling: boolean;
  readonly storageFloor?: StorageFloor;
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpus: number;
  readonly load1: number;
}

/** What SQLite alone took to write the rows the import wrote, in the import's batches. */
export interface StorageFloor {
  readonly seconds: number;
  readonly cpuUsPerRow: number;
  readonly projected1MSeconds: number;
  /** Rows replayed per table. */
  readonly tables: Readonly<Record<string, number>>;
}

/** Tables written once per run (or per batch, as one row): copied before timing, touched per batch. */
const SINGLE_ROW = new Set(['audit_head', 'import_runs']);
const NOT_REPLAYED = new Set([
  'kysely_migration',
  'kysely_migration_lock',
  'api_tokens',
  'audit_checkpoints',
]);

/**
 * The storage floor of an import: a fresh database with the imported one's exact schema (tables
 * and indexes, from `sqlite_master`), the store's pragmas, and the imported rows of every table
 * inserted again in the import's order, split into as many transactions as the import had
 * batches, each transaction taking the next slice of every table (and rewriting the single-row
 * tables, as each batch does). The inserts run as `INSERT … SELECT` inside SQLite, with no
 * JavaScript, crypto or driver per row, so this is a lower bound on what any importer writing
 * these rows in these transactions can cost.
 */
function storageFloor(source: string, rows: number, batches: number): StorageFloor {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-floor-'));
  const db = new SqliteDatabase(join(dir, 'floor.db'));
  try {
    for (const pragma of SQLITE_PRAGMAS) db.pragma(pragma);
    db.prepare('attach database ? as old').run(source);
    const schema = db
      .prepare(
        `select type, name, sql from old.sqlite_master
         where sql is not null and name not like 'sqlite_%' order by rowid`,
      )
      .all() as { type: string; name: string; sql: string }[];
    for (const item of schema) db.exec(item.sql);
    const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;
    const tables = schema.filter((t) => t.type === 'table' && !NOT_REPLAYED.has(t.name)).map((t) => t.name);
    for (const name of tables.filter((t) => SINGLE_ROW.has(t)))
      db.exec(`insert into main.${quoted(name)} select * from old.${quoted(name)}`);
    // Slices: a table with `created_at` (subjects and the rows that reference them) is cut at the
    // same instants as the records, so a row never lands in an earlier transaction than its
    // parent; the others are cut in proportion. Rows were written in rowid order by one writer.
    const hasCreatedAt = (name: string): boolean =>
      db.prepare(`select 1 from pragma_table_info(?, 'old') where name = 'created_at'`).get(name) !==
      undefined;
    const recordTimes = db
      .prepare('select created_at from old.records order by rowid')
      .pluck()
      .all() as string[];
    const cutoffs = Array.from({ length: batches }, (_, b) =>
      b === batches - 1
        ? '\uffff'
        : (recordTimes[Math.floor((recordTimes.length * (b + 1)) / batches) - 1] ?? ''),
    );
    const plans = tables
      .filter((name) => !SINGLE_ROW.has(name))
      .map((name) => {
        const timed = hasCreatedAt(name);
        const rows = db
          .prepare(
            `select rowid as id${timed ? ', created_at as at' : ''} from old.${quoted(name)} order by rowid`,
          )
          .all() as { id: number; at?: string }[];
        // bounds[b] = the first row of slice b.
        const bounds = [0];
        for (let b = 0; b < batches; b++) {
          if (!timed) bounds.push(Math.floor((rows.length * (b + 1)) / batches));
          else {
            let i = bounds[b]!;
            while (i < rows.length && rows[i]!.at! <= cutoffs[b]!) i++;
            bounds.push(i);
          }
        }
        return {
          name,
          ids: rows.map((r) => r.id),
          bounds,
          insert: db.prepare(
            `insert into main.${quoted(name)} select * from old.${quoted(name)} where rowid >= ? and rowid <= ? order by rowid`,
          ),
        };
      })
      .filter((plan) => plan.ids.length > 0);
    const touches = tables
      .filter((name) => SINGLE_ROW.has(name))
      .map((name) => {
        const column = (
          db.prepare(`select name from pragma_table_info(?) where pk = 0 limit 1`).get(name) as {
            name: string;
          }
        ).name;
        return db.prepare(`update main.${quoted(name)} set ${quoted(column)} = ${quoted(column)}`);
      });
    const begin = db.prepare('begin immediate');
    const commit = db.prepare('commit');
    const cost = timedSync(() => {
      for (let b = 0; b < batches; b++) {
        begin.run();
        for (const plan of plans) {
          const from = plan.bounds[b]!;
          const to = plan.bounds[b + 1]!;
          if (to > from) plan.insert.run(plan.ids[from], plan.ids[to - 1]);
        }
        for (const touch of touches) touch.run();
        commit.run();
      }
    });
    const copied: Record<string, number> = {};
    for (const plan of plans) {
      copied[plan.name] = (
        db.prepare(`select count(*) as n from main.${quoted(plan.name)}`).get() as { n: number }
      ).n;
      if (copied[plan.name] !== plan.ids.length)
        throw new Error(`storage floor: ${plan.name} copied ${copied[plan.name]}/${plan.ids.length}`);
    }
    return {
      seconds: round(cost.seconds),
      cpuUsPerRow: Math.round((cost.cpuSeconds * 1e6) / rows),
      projected1MSeconds: round((cost.seconds * FULL) / rows, 1),
      tables: copied,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
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
    let open = true;
    try {
      let lastNote = performance.now();
      const cpu = process.cpuUsage();
      const loop = performance.eventLoopUtilization();
      t = performance.now();
      const summary = await importTmallOrders(
        { store: runtime.store, vault: runtime.vault, datamap: config.datamap, now: () => new Date() },
        IMPORTER,
        {
          file,
          batchSize: batch,
          rejectsFile: null,
          threads: options.threads,
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
      const busy = performance.eventLoopUtilization(loop).active;
      if (summary.counts.imported !== written.good || summary.counts.rejected !== written.malformed.length)
        throw new Error(
          `tmall-import: imported ${summary.counts.imported}/${written.good}, rejected ${summary.counts.rejected}/${written.malformed.length}`,
        );
      const projected = (importSeconds * FULL) / rows;
      // The floor reads the imported database once the runtime has let it go.
      await runtime.close();
      open = false;
      let floor: StorageFloor | undefined;
      if (options.floor) {
        if (config.database.engine !== 'sqlite') throw new Error('the storage floor is measured on SQLite');
        floor = storageFloor(config.database.path, rows, Math.ceil(rows / batch));
      }
      if (floor !== undefined)
        note(
          `tmall-import: storage floor ${floor.seconds} s (${floor.projected1MSeconds} s per million rows)`,
        );
      return {
        bench: 'tmall-import',
        rows,
        batch,
        threads: options.threads === undefined ? 'auto' : options.threads ? 'on' : 'off',
        exportBytes: written.bytes,
        imported: summary.counts.imported,
        rejected: summary.counts.rejected,
        records: summary.counts.records,
        subjects: summary.counts.subjects.new,
        generateSeconds: round(generateSeconds),
        importSeconds: round(importSeconds),
        rowsPerSecond: perSec(rows, importSeconds),
        cpuUsPerRow: Math.round((used.user + used.system) / rows),
        mainBusyUsPerRow: Math.round((busy * 1000) / rows),
        projected1MSeconds: round(projected, 1),
        goalSeconds: TMALL_IMPORT_GOAL_SECONDS,
        ceilingSeconds: TMALL_IMPORT_CEILING_SECONDS,
        meetsGoal: projected <= TMALL_IMPORT_GOAL_SECONDS,
        meetsCeiling: projected <= TMALL_IMPORT_CEILING_SECONDS,
        ...(floor === undefined ? {} : { storageFloor: floor }),
        ...environment(),
      };
    } finally {
      if (open) await runtime.close();
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
      floor: { type: 'boolean', default: false },
      threads: { type: 'string' },
    },
  });
  if (values.threads !== undefined && values.threads !== 'on' && values.threads !== 'off')
    throw new Error('--threads is on or off');
  const count = (value: string | undefined, fallback: number): number => {
    const n = value === undefined ? fallback : Number(value.replaceAll('_', ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new Error('--rows and --batch are positive integers');
    return n;
  };
  const result = await tmallImport({
    rows: count(values.rows, FULL),
    batch: count(values.batch, 1000),
    keep: values.keep,
    floor: values.floor,
    ...(values.threads === undefined ? {} : { threads: values.threads === 'on' }),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
