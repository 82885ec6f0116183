import type { WalCheckpoints } from '../../src/store/wal-checkpointer.js';
import { parseArgs } from 'node:util';

export type SuiteId = 'aes-256-gcm' | 'sm4-gcm';
export type EngineId = 'sqlite' | 'postgres';

export const SUITES: readonly SuiteId[] = ['aes-256-gcm', 'sm4-gcm'];
export const ENGINES: readonly EngineId[] = ['sqlite', 'postgres'];
export type { WalCheckpoints };
export const WAL_CHECKPOINTS: readonly WalCheckpoints[] = ['background', 'inline'];

/** Flags shared by every benchmark; each one reads the flags it needs. */
export interface BenchOptions {
  /** Rows per timed run (ingest). */
  readonly rows: number;
  readonly suite: SuiteId;
  readonly engine: EngineId;
  /** Timed runs per side and case; the best of them is reported. */
  readonly rounds: number;
  /** Untimed rows per side and case before the first timed run. */
  readonly warmup: number;
  /** Rows per transaction in the batched case. */
  readonly batch: number;
  /** Seconds of measurement per operation (crypto). */
  readonly seconds: number;
  /** Keep the temporary folder (and PostgreSQL database) for inspection. */
  readonly keep: boolean;
  /** Exit with status 1 when a benchmark misses its floor. */
  readonly check: boolean;
  /** tmall-import: also measure SQLite alone writing the import's rows (the storage floor). */
  readonly floor: boolean;
  /** ingest: SQLite's WAL checkpoints in a thread of their own (as `serve` runs) or in the commit. */
  readonly walCheckpoints: WalCheckpoints;
}

export interface ParsedCommandLine {
  readonly names: readonly string[];
  readonly options: BenchOptions;
  readonly help: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function positiveInteger(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${flag} must be a positive integer`);
  return n;
}

function positiveNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${flag} must be a positive number`);
  return n;
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}`);
  return found;
}

/** Parses `[name ...] [--rows N] [--suite S] [--engine E] ...`; throws {@link UsageError}. */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        rows: { type: 'string' },
        suite: { type: 'string' },
        engine: { type: 'string' },
        rounds: { type: 'string' },
        warmup: { type: 'string' },
        batch: { type: 'string' },
        seconds: { type: 'string' },
        'wal-checkpoints': { type: 'string' },
        keep: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        floor: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  return {
    names: parsed.positionals,
    help: v.help,
    options: {
      rows: positiveInteger('rows', v.rows, 20_000),
      suite: oneOf('suite', v.suite, SUITES, 'aes-256-gcm'),
      engine: oneOf('engine', v.engine, ENGINES, 'sqlite'),
      rounds: positiveInteger('rounds', v.rounds, 3),
      warmup: positiveInteger('warmup', v.warmup, 1_000),
      batch: positiveInteger('batch', v.batch, 500),
      seconds: positiveNumber('seconds', v.seconds, 1.5),
      keep: v.keep,
      check: v.check,
      floor: v.floor,
      walCheckpoints: oneOf('wal-checkpoints', v['wal-checkpoints'], WAL_CHECKPOINTS, 'background'),
    },
  };
}
