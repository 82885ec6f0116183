/**
 * `npm run bench -- [name ...] [flags]`: runs the named benchmarks (all when none is named). Each
 * prints exactly one JSON line on stdout; progress goes to stderr. See BENCHMARKS.md.
 */
import { access, ACCESS_FLOOR } from './access.js';
import { run as auditLog } from './audit.js';
import { cores } from './cores.js';
import { crypto } from './crypto.js';
import { importBatchBench } from './import-batch.js';
import { runPiiQuality } from './pii-quality.js';
import { tmallImport } from './tmall-import.js';
import { ingestFloor } from './ingest/floor.js';
import { ingest, INGEST_FLOOR } from './ingest/index.js';
import { parseCommandLine, UsageError, type BenchOptions } from './lib/cli.js';
import { emit, note } from './lib/out.js';

interface Benchmark {
  readonly summary: string;
  readonly run: (options: BenchOptions) => Promise<Record<string, unknown>>;
  /** True when the result meets the benchmark's floor (checked with --check). */
  readonly ok?: (result: Readonly<Record<string, unknown>>) => boolean;
}

const BENCHMARKS: Readonly<Record<string, Benchmark>> = {
  ingest: {
    summary: 'rows/s inserted plain vs through vault.collect / collectMany, and their ratio',
    run: ingest,
    ok: (result) => typeof result['ratio'] === 'number' && result['ratio'] >= INGEST_FLOOR,
  },
  'ingest-floor': {
    summary:
      'SQLite alone writing what one collect writes (raw statements, no crypto), level by level, against the plain row',
    run: ingestFloor,
  },
  crypto: {
    summary: 'sealField/openField and blind-index tokens/s against raw createCipheriv AES-256-GCM',
    run: crypto,
  },
  cores: {
    summary:
      'SHA-256 pairs (leaf + parent, as log verify hashes) on 1 thread, then on every core at once: the speedup this machine delivers',
    run: cores,
  },
  access: {
    summary: 'access decisions/s (role × purpose × field) against bare Map lookups; floor 1M/s',
    run: access,
    ok: (result) =>
      typeof result['decisionsPerSec'] === 'number' && result['decisionsPerSec'] >= ACCESS_FLOOR,
  },
  audit: {
    summary:
      'audited vs unaudited reads, append commit cost, log verify entries/s (1M), proof p50/p99 at 10M entries (slow: ~5 min, ~5 GB temp)',
    run: (options) => auditLog({ keep: options.keep }),
  },
  'tmall-import': {
    summary:
      'a GBK Tmall order export generated and imported end to end; rows/s (goal 1M rows ≤ 60 s, ceiling 180 s)',
    run: async (o) => ({
      ...(await tmallImport({ rows: o.rows, batch: o.batch, keep: o.keep, floor: o.floor })),
    }),
    ok: (r) => r['meetsCeiling'] === true,
  },
  'import-batch': {
    summary:
      "the file importer's batches between its threads (prepared: columns vs objects; sealed: one buffer vs a Buffer each) and sealing in place vs field by field: µs per row",
    run: () => Promise.resolve(importBatchBench()),
  },
  'pii-quality': {
    summary: 'precision and recall of Chinese PII detection on a generated labelled corpus (5,000 snippets)',
    run: () => Promise.resolve({ ...runPiiQuality(), bench: 'pii-quality' }),
  },
};

const USAGE = `usage: npm run bench -- [${Object.keys(BENCHMARKS).join('|')} ...] [flags]

${Object.entries(BENCHMARKS)
  .map(([name, b]) => `  ${name.padEnd(8)} ${b.summary}`)
  .join('\n')}

flags:
  --rows N         rows per timed run (ingest; default 20000)
  --suite S        aes-256-gcm | sm4-gcm (ingest; default aes-256-gcm)
  --engine E       sqlite | postgres (ingest; default sqlite)
  --rounds N       timed runs per side and mode, best reported (ingest; default 3)
  --warmup N       untimed rows per side and mode (ingest; default 1000)
  --batch N        rows per transaction in the batched mode (ingest; default 500)
  --seconds S      measuring time per operation (crypto; default 1.5)
  --keep           keep the temporary folder / database
  --wal-checkpoints W
                   background | inline: SQLite WAL checkpoints in their own thread, as serve runs,
                   or inside commits (ingest, ingest-floor; default background)
  --floor          also time SQLite alone writing the import's rows in its batches (tmall-import)
  --check          exit 1 when a benchmark misses its floor (ingest: ratio >= ${INGEST_FLOOR})
`;

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
    const unknown = parsed.names.filter((n) => !Object.hasOwn(BENCHMARKS, n));
    if (unknown.length > 0) throw new UsageError(`unknown benchmark: ${unknown.join(', ')}`);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    note(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    note(USAGE);
    return 0;
  }
  const names = parsed.names.length > 0 ? parsed.names : Object.keys(BENCHMARKS);
  let status = 0;
  for (const name of names) {
    const bench = BENCHMARKS[name]!;
    const result = await bench.run(parsed.options);
    emit(result);
    if (parsed.options.check && bench.ok && !bench.ok(result)) {
      note(`${name}: below its floor`);
      status = 1;
    }
  }
  return status;
}

process.exitCode = await main(process.argv.slice(2));
