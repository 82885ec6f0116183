/**
 * `ingest`: the same synthetic rows inserted plain and through `collect`, same process, same
 * engine. See BENCHMARKS.md for the design and how to read the ratio.
 */
import type { Insertable, Kysely } from 'kysely';
import type { Principal } from '../../src/services/tokens.js';
import type { Vault } from '../../src/services/vault.js';
import type { BenchOptions } from '../lib/cli.js';
import { chunks, timed } from '../lib/clock.js';
import { environment, note, perSec, ratio } from '../lib/out.js';
import { RowSource, type IngestRow } from './rows.js';
import { openTarget, type IngestTarget, type PlainDatabase } from './targets.js';

/** The ratio the vault aims for, and the one it must not fall below. */
export const INGEST_GOAL = 0.5;
export const INGEST_FLOOR = 0.25;

const PRINCIPAL: Principal = { kind: 'token', id: 'bench-ingest', name: 'bench', role: 'operator' };

type Side = 'plain' | 'encrypted';
type Mode = 'perRow' | 'batched';

interface Case {
  readonly mode: Mode;
  readonly run: Record<Side, (rows: readonly IngestRow[]) => Promise<void>>;
}

function plainRow(row: IngestRow, at: string): Insertable<PlainDatabase['customers_plain']> {
  return { ...row.plain, created_at: at };
}

function cases(plain: Kysely<PlainDatabase>, vault: Vault, batch: number): Case[] {
  return [
    {
      mode: 'perRow',
      run: {
        // One transaction per row on both sides: BEGIN, the insert(s), COMMIT.
        async plain(rows) {
          for (const row of rows) {
            const at = new Date().toISOString();
            await plain
              .transaction()
              .execute((trx) => trx.insertInto('customers_plain').values(plainRow(row, at)).execute());
          }
        },
        async encrypted(rows) {
          for (const row of rows) await vault.collect(PRINCIPAL, row.input);
        },
      },
    },
    {
      mode: 'batched',
      run: {
        // `batch` rows per transaction on both sides; the plain side as one multi-row INSERT.
        async plain(rows) {
          for (const slice of chunks(rows, batch)) {
            const at = new Date().toISOString();
            await plain.transaction().execute((trx) =>
              trx
                .insertInto('customers_plain')
                .values(slice.map((r) => plainRow(r, at)))
                .execute(),
            );
          }
        },
        async encrypted(rows) {
          for (const slice of chunks(rows, batch)) {
            await vault.collectMany(
              PRINCIPAL,
              slice.map((r) => r.input),
            );
          }
        },
      },
    },
  ];
}

/** Per side: rows/s by the wall clock, and CPU microseconds per row, one entry per timed run. */
interface Samples {
  plain: number[];
  encrypted: number[];
  plainCpuUs: number[];
  encryptedCpuUs: number[];
}

function emptySamples(): Samples {
  return { plain: [], encrypted: [], plainCpuUs: [], encryptedCpuUs: [] };
}

/** Best run of each side: highest rows/s, and separately the lowest CPU time per row. */
function summary(
  samples: Samples,
  cpuScope: string,
): {
  plainPerSec: number;
  encryptedPerSec: number;
  ratio: number;
  cpu: { scope: string; plainUsPerRow: number; encryptedUsPerRow: number; ratio: number };
} {
  const plainPerSec = Math.max(...samples.plain);
  const encryptedPerSec = Math.max(...samples.encrypted);
  const plainUsPerRow = Math.min(...samples.plainCpuUs);
  const encryptedUsPerRow = Math.min(...samples.encryptedCpuUs);
  return {
    plainPerSec,
    encryptedPerSec,
    ratio: ratio(encryptedPerSec, plainPerSec),
    // CPU-bound throughput ratio: plain CPU per row over encrypted CPU per row.
    cpu: {
      scope: cpuScope,
      plainUsPerRow,
      encryptedUsPerRow,
      ratio: ratio(plainUsPerRow, encryptedUsPerRow),
    },
  };
}

async function measure(
  target: IngestTarget,
  source: RowSource,
  options: BenchOptions,
): Promise<{ samples: Record<Mode, Samples>; inserted: number }> {
  const all = cases(target.plain, target.runtime.vault, options.batch);
  let inserted = 0;

  // Warm-up: both sides, both modes, on rows that are not timed (JIT, statement paths, page cache).
  for (const c of all) {
    const rows = source.take(options.warmup);
    for (const side of ['plain', 'encrypted'] as const) await c.run[side](rows);
    inserted += rows.length;
  }
  note(`ingest: warmed up with ${options.warmup} rows per side and mode`);

  const samples: Record<Mode, Samples> = { perRow: emptySamples(), batched: emptySamples() };
  for (const c of all) {
    for (let round = 0; round < options.rounds; round++) {
      // Both sides get the same customers; the order alternates (P,E then E,P) against drift.
      const rows = source.take(options.rows);
      const order: readonly Side[] = round % 2 === 0 ? ['plain', 'encrypted'] : ['encrypted', 'plain'];
      for (const side of order) {
        await target.settle();
        const cost = await timed(() => c.run[side](rows));
        const rate = perSec(rows.length, cost.seconds);
        const cpuUs = Math.round((cost.cpuSeconds * 1e6) / rows.length);
        samples[c.mode][side].push(rate);
        samples[c.mode][side === 'plain' ? 'plainCpuUs' : 'encryptedCpuUs'].push(cpuUs);
        note(
          `ingest: ${c.mode} ${side} round ${round + 1}: ${rate} rows/s, ${cpuUs} us CPU/row (${cost.seconds.toFixed(2)} s)`,
        );
      }
      inserted += rows.length;
    }
  }
  return { samples, inserted };
}

/** Both sides must hold every row sent, else the figures measure something else. */
async function verify(target: IngestTarget, inserted: number): Promise<number> {
  const subjects = await target.runtime.store.subjects.count();
  const plainRows = await target.plainCount();
  const auditEntries = await target.runtime.store.audit.count();
  if (subjects.active !== inserted || plainRows !== inserted || auditEntries !== inserted) {
    throw new Error(
      `row counts disagree: sent ${inserted}, subjects ${subjects.active}, plain ${plainRows}, audit ${auditEntries}`,
    );
  }
  return auditEntries;
}

export async function ingest(options: BenchOptions): Promise<Record<string, unknown>> {
  const target = await openTarget(options);
  try {
    note(
      `ingest: ${options.rows} rows x ${options.rounds} rounds per side and mode, suite ${options.suite}, batch ${options.batch}`,
    );
    const source = new RowSource('bench-ingest');
    const { samples, inserted } = await measure(target, source, options);
    const auditEntries = await verify(target, inserted);
    note(`ingest: verified ${inserted} rows on each side, ${auditEntries} audit entries`);
    // SQLite runs inside this process, so its CPU time covers the engine; PostgreSQL's does not.
    const scope = target.engine === 'sqlite' ? 'process+engine' : 'client-only';
    const perRow = summary(samples.perRow, scope);
    const batched = summary(samples.batched, scope);
    return {
      bench: 'ingest',
      engine: target.engine,
      suite: options.suite,
      rows: options.rows,
      ...perRow,
      batched: { size: options.batch, ...batched },
      goal: INGEST_GOAL,
      floor: INGEST_FLOOR,
      meetsFloor: perRow.ratio >= INGEST_FLOOR,
      rounds: options.rounds,
      warmup: options.warmup,
      samples,
      ...target.facts,
      ...environment(),
    };
  } finally {
    await target.close();
  }
}
