import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  writeSyntheticExport,
  type SyntheticExportResult,
} from '../../src/platforms/tmall/synthetic-export.js';
import { IMPORTER, importTmallOrders, type ImportSummary } from '../../src/services/importer.js';
import { tmallEnv, type TmallEnv } from './helpers.js';

const ROWS = 5000;

function cli(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface Tally {
  readonly orders: number;
  readonly orderRecords: number;
  readonly addressRecords: number;
  readonly subjects: number;
  readonly audit: number;
}

function tally(env: TmallEnv): Tally {
  const one = (sql: string): number => env.query<{ n: number }>(sql)[0]!.n;
  return {
    orders: one("select count(*) as n from import_orders where source = 'tmall'"),
    orderRecords: one("select count(*) as n from records where collection = 'order'"),
    addressRecords: one("select count(*) as n from records where collection = 'address'"),
    subjects: one('select count(*) as n from subjects'),
    audit: one('select count(*) as n from audit_log'),
  };
}

/**
 * Acceptance: an import killed with SIGKILL at some point after it started committing, then run
 * again, ends with exactly what an uninterrupted import of the same file gives, and at no point
 * holds half a row (an order without its address, an order id without its records).
 */
describe('an import killed with SIGKILL and run again', () => {
  let killed: TmallEnv;
  let reference: TmallEnv;
  let file: string;
  let written: SyntheticExportResult;
  let expected: ImportSummary;

  beforeAll(async () => {
    killed = await tmallEnv();
    reference = await tmallEnv();
    file = join(killed.dir, 'orders-export.csv');
    written = await writeSyntheticExport(file, { seed: 'kill-9', rows: ROWS, malformedEvery: 400 });
    const copy = join(reference.dir, 'orders-export.csv');
    copyFileSync(file, copy);
    expected = await importTmallOrders(reference.deps, IMPORTER, { file: copy, batchSize: 50 });
  }, 180_000);
  afterAll(async () => {
    await killed.close();
    await reference.close();
  });

  it('finishes with exact counts and no half records', async () => {
    const child = cli([
      'import',
      'tmall-orders',
      file,
      '--config',
      killed.configPath,
      '--batch',
      '50',
      '--json',
    ]);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    const progressed = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: string) => {
        stderr += d;
        // The first line is printed at the header; a later one means batches have committed.
        if (/importing rows: [1-9]\d*\//.test(stderr)) resolve();
      });
    });
    const exited = once(child, 'exit');
    await Promise.race([progressed, exited]);
    child.kill('SIGKILL');
    const [, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect(signal).toBe('SIGKILL');

    const partial = tally(killed);
    expect(partial.orders).toBeGreaterThan(0);
    expect(partial.orders).toBeLessThan(written.good);
    // Whole rows only: every imported order has its order record and its address record.
    expect(partial.orderRecords).toBe(partial.orders);
    expect(partial.addressRecords).toBe(partial.orders);

    const rerun = cli([
      'import',
      'tmall-orders',
      file,
      '--config',
      killed.configPath,
      '--batch',
      '50',
      '--json',
    ]);
    let stdout = '';
    rerun.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const [code] = (await once(rerun, 'exit')) as [number | null];
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as ImportSummary;
    expect(summary.resumed).toBe(true);
    expect(summary.counts).toEqual(expected.counts);
    expect(summary.counts).toMatchObject({
      rows: ROWS,
      imported: written.good,
      rejected: written.malformed.length,
    });
    expect(summary.rejects).toEqual(expected.rejects);
    expect(readFileSync(`${file}.rejects.jsonl`, 'utf8')).toBe(
      readFileSync(join(reference.dir, 'orders-export.csv.rejects.jsonl'), 'utf8'),
    );
    expect(tally(killed)).toEqual(tally(reference));
  }, 240_000);
});
