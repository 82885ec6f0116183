/**
 * `audit`: the tamper-evident audit log.
 *
 * - `readOverhead`: a vault read with its audit entry against the same read with the append
 *   left out (same runtime, same subjects, same principal), one read at a time and with reads in
 *   flight concurrently. The unaudited side runs the identical read path over a store whose audit
 *   repository accepts and discards the append.
 * - `commitCost`: what each part of an append (head, entry with its subject index, nodes) adds to
 *   a short read transaction in SQLite itself, CPU µs per transaction.
 * - `verify`: entries per second of `verifyAuditLog` (what `custodian log verify` runs).
 * - `proofs`: inclusion and consistency proof latency (p50/p99, µs) over a log of `--entries`
 *   entries (default 10,000,000), generated in bulk: the same leaves, nodes and head the append
 *   path writes, inserted directly in large SQLite transactions.
 *
 * Standalone: `node --import tsx bench/audit.ts [--entries N] [--verify-entries N] [--reads N]
 * [--concurrency N] [--only readOverhead,commitCost,verify,proofs] [--keep]`; prints one JSON line per
 * sub-benchmark. From bench/run.ts: `run(options)` returns `{ bench: 'audit', results: [...] }`.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import SqliteDatabase from 'better-sqlite3';
import { loadConfig } from '../src/config/load.js';
import { suiteById } from '../src/crypto/aead.js';
import { FastHasher, verifyConsistency, verifyInclusion } from '../src/crypto/merkle.js';
import { canonicalEntry, type AuditEntry } from '../src/domain/audit/entry.js';
import { nodeCount } from '../src/domain/audit/tree.js';
import { generateCustomers } from '../src/domain/synthetic/index.js';
import { AuditLog } from '../src/services/audit-log.js';
import { verifyAuditLog } from '../src/services/audit-log-verify.js';
import { openRuntime, type Runtime } from '../src/services/runtime.js';
import { initProject } from '../src/services/setup.js';
import type { Principal } from '../src/services/tokens.js';
import { Vault } from '../src/services/vault.js';
import { openStore } from '../src/store/open.js';
import type { AuditRepository, Repositories, Store } from '../src/store/store.js';
import { addressFields } from './ingest/rows.js';
import { environment, note } from './lib/out.js';

export interface AuditBenchOptions {
  /** Entries in the generated log the proofs run over (default 10,000,000). */
  readonly entries: number;
  /** Entries the verification rate is measured on (default 1,000,000; at most `entries`). */
  readonly verifyEntries: number;
  /** Reads per timed round and side (default 3,000). */
  readonly reads: number;
  /** Reads in flight in the concurrent case (default 16). */
  readonly concurrency: number;
  /** Proofs of each kind sampled (default 2,000). */
  readonly proofs: number;
  /** Sub-benchmarks to run (default all). */
  readonly only: readonly SubBench[];
  readonly keep: boolean;
}

export type SubBench = 'readOverhead' | 'commitCost' | 'verify' | 'proofs';
const ALL: readonly SubBench[] = ['readOverhead', 'commitCost', 'verify', 'proofs'];

export const DEFAULTS: AuditBenchOptions = {
  entries: 10_000_000,
  verifyEntries: 1_000_000,
  reads: 3_000,
  concurrency: 16,
  proofs: 2_000,
  only: ALL,
  keep: false,
};

const OPERATOR: Principal = {
  kind: 'token',
  id: 'bench-audit',
  name: 'bench',
  role: 'operator',
  trainingCurrent: true,
};

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// (a) audited against unaudited reads

/** The store the unaudited side reads through: same engine and connection, the append discarded. */
function withoutAudit(store: Store): Store {
  const discard = (audit: AuditRepository): AuditRepository =>
    new Proxy(audit, {
      get(target, property, receiver) {
        if (property === 'lockHead') return () => Promise.resolve({ size: 0, frontier: Buffer.alloc(0) });
        if (property === 'headHint') return () => undefined;
        if (property === 'swapHead') return () => Promise.resolve(true);
        if (property === 'insertMany' || property === 'insertNodes' || property === 'setHead')
          return () => Promise.resolve();
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'transaction')
        return <T>(work: (tx: Repositories) => Promise<T>) =>
          target.transaction((tx) => work({ ...tx, audit: discard(tx.audit) }));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface ReadSample {
  readonly perSec: number;
  readonly cpuUsPerRead: number;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function readOverhead(options: AuditBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-audit-'));
  let runtime: Runtime | undefined;
  try {
    const { configPath } = await initProject({ dir: join(dir, 'project') });
    runtime = await openRuntime(loadConfig({ explicit: configPath, env: {} }).config, { checkpoints: false });
    const rt = runtime;
    const vaultOver = (store: Store) =>
      new Vault({
        store,
        keyring: rt.keyring,
        indexer: rt.indexer,
        datamap: rt.config.datamap,
        policy: rt.policy,
        suite: suiteById(rt.config.crypto.suite),
        pseudonymize: rt.pseudonymize,
        now: () => new Date(),
      });
    /** The runtime's vault: entries in the read's transaction when alone, group commit when not. */
    const audited = rt.vault;
    /** Every read appends inside its own transaction, concurrent or not. */
    const perRead = vaultOver(rt.store);
    const unaudited = vaultOver(withoutAudit(rt.store));
    const ids: string[] = [];
    for (const c of generateCustomers('bench-audit', 200)) {
      const { subjectId } = await audited.collect(OPERATOR, {
        collection: 'address',
        identities: { oaid: c.oaid },
        fields: addressFields(c),
        purpose: 'order-fulfilment',
      });
      ids.push(subjectId);
    }
    const run = async (vault: Vault, reads: number, inFlight: number): Promise<ReadSample> => {
      const cpu = cpuNow();
      const start = process.hrtime.bigint();
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < reads) {
            const i = next++;
            await vault.read(OPERATOR, ids[i % ids.length]!, 'order-fulfilment');
          }
        }),
      );
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      return {
        perSec: Math.round(reads / seconds),
        cpuUsPerRead: Math.round(((cpuNow() - cpu) * 1e6) / reads),
      };
    };
    const cases = {
      sequential: { inFlight: 1, sides: { unaudited, audited } },
      [`concurrent${options.concurrency}`]: {
        inFlight: options.concurrency,
        sides: { unaudited, audited, perRead },
      },
    };
    const results: Record<string, unknown> = {};
    for (const [name, { inFlight, sides }] of Object.entries(cases)) {
      const entries = Object.entries<Vault>(sides);
      for (const [, vault] of entries) await run(vault, Math.min(500, options.reads), inFlight);
      const samples: Record<string, ReadSample[]> = Object.fromEntries(entries.map(([side]) => [side, []]));
      // Rounds alternate the order of the sides, so drift and the page cache hit all alike.
      for (let round = 0; round < 6; round++) {
        const order = round % 2 === 0 ? entries : [...entries].reverse();
        for (const [side, vault] of order) {
          await rt.store.scrub();
          samples[side]!.push(await run(vault, options.reads, inFlight));
        }
      }
      const summary = (side: string) => ({
        perSec: median(samples[side]!.map((x) => x.perSec)),
        cpuUsPerRead: median(samples[side]!.map((x) => x.cpuUsPerRead)),
      });
      const base = summary('unaudited');
      const overhead = (side: string) => {
        const s = summary(side);
        return {
          ...s,
          overheadWallPct: Math.round((base.perSec / s.perSec - 1) * 1000) / 10,
          overheadCpuPct: Math.round((s.cpuUsPerRead / base.cpuUsPerRead - 1) * 1000) / 10,
        };
      };
      results[name] = {
        inFlight,
        unaudited: base,
        audited: overhead('audited'),
        ...(samples['perRead'] ? { perReadTransaction: overhead('perRead') } : {}),
        samples,
      };
      note(`audit: reads ${name}: ${JSON.stringify({ ...(results[name] as object), samples: undefined })}`);
    }
    return {
      bench: 'audit.readOverhead',
      engine: 'sqlite',
      reads: options.reads,
      statistic: 'median of 6 alternating rounds',
      target: 'overhead <= 15%',
      ...results,
    };
  } finally {
    await runtime?.close();
    if (options.keep) note(`audit: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// (a') where an append's cost lies: raw SQLite, the migrated schema, the store's pragmas

/**
 * One short read transaction (`BEGIN IMMEDIATE`, one indexed row, `COMMIT`) with successively
 * more of what an audit append writes: the head row, the entry (table and subject index), two
 * tree nodes. better-sqlite3 directly, so the differences are SQLite's own work — mostly the
 * commit writing each dirty page to the WAL — without Kysely or the services.
 */
async function commitCost(options: AuditBenchOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-commit-'));
  try {
    const path = join(dir, 'commit.db');
    const store = openStore({ engine: 'sqlite', path });
    await store.migrate();
    await store.close();
    const db = new SqliteDatabase(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('secure_delete = ON');
    const read = db.prepare('select size from audit_head where id = 1');
    const head = db.prepare('update audit_head set size = ?, frontier = ? where id = 1');
    const entry = db.prepare('insert into audit_log (seq, subject_ref, canonical) values (?, ?, ?)');
    const nodes = db.prepare('insert into audit_nodes (id, hash) values (?, ?), (?, ?)');
    const begin = db.prepare('begin immediate');
    const commit = db.prepare('commit');
    const canonical = Buffer.from(canonicalEntry(syntheticEntry(0)), 'utf8');
    const frontier = Buffer.alloc(32 * 8, 7);
    let seq = 0;
    let id = 0;
    const subject = (n: number): string => ((n * 2_654_435_761) % 2 ** 48).toString(16).padStart(32, '0');
    const steps: Record<string, () => void> = {
      readOnly: () => read.get(),
      plusHead: () => {
        read.get();
        head.run(++seq, frontier);
      },
      plusEntry: () => {
        read.get();
        head.run(++seq, frontier);
        entry.run(seq, subject(seq), canonical);
      },
      plusNodes: () => {
        read.get();
        head.run(++seq, frontier);
        entry.run(seq, subject(seq), canonical);
        nodes.run(id++, frontier.subarray(0, 32), id++, frontier.subarray(32, 64));
      },
    };
    const n = Math.max(2000, options.reads * 4);
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
    for (let round = 0; round < 4; round++) {
      for (const [name, step] of Object.entries(steps)) {
        const cpu = cpuNow();
        for (let i = 0; i < n; i++) {
          begin.run();
          step();
          commit.run();
        }
        samples[name]!.push(Math.round(((cpuNow() - cpu) * 1e6 * 10) / n) / 10);
      }
    }
    db.close();
    return {
      bench: 'audit.commitCost',
      engine: 'sqlite',
      transactions: n,
      statistic: 'median of 4 rounds, CPU µs per transaction',
      cpuUs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Bulk generation: the leaves, nodes and head the append path writes, without its per-append costs.

function syntheticEntry(i: number): AuditEntry {
  return {
    v: 1,
    at: new Date(1_767_225_600_000 + i * 250).toISOString(),
    action: i % 7 === 0 ? 'collect' : 'read',
    actor: { id: `tok-${(i % 97).toString().padStart(4, '0')}`, role: 'operator' },
    subject: ((i * 2_654_435_761) % 2 ** 48).toString(16).padStart(32, '0'),
    purpose: 'order-fulfilment',
    records: [`0190${(i % 65_536).toString(16).padStart(4, '0')}-0000-7000-8000-000000000000`],
    decision: {
      clear: ['address.city', 'address.phone', 'address.recipientName'],
      masked: [],
      withheld: ['profile.birthDate'],
    },
  };
}

/** Writes `count` entries (and their tree) into a migrated, empty SQLite log at `path`. */
export async function generateLog(path: string, count: number): Promise<void> {
  const store = openStore({ engine: 'sqlite', path });
  await store.migrate();
  await store.close();
  const db = new SqliteDatabase(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const h = new FastHasher();
  const stack: string[] = [];
  let nextId = 0;
  const CHUNK = 100_000;
  const ROWS = 200;
  const entryInsert = db.prepare(
    `insert into audit_log (seq, subject_ref, canonical) values ${Array(ROWS).fill('(?, ?, ?)').join(', ')}`,
  );
  const entryOne = db.prepare('insert into audit_log (seq, subject_ref, canonical) values (?, ?, ?)');
  const nodeInsert = db.prepare(
    `insert into audit_nodes (id, hash) values ${Array(ROWS).fill('(?, ?)').join(', ')}`,
  );
  const nodeOne = db.prepare('insert into audit_nodes (id, hash) values (?, ?)');
  const started = Date.now();
  for (let s = 0; s < count; s += CHUNK) {
    const e = Math.min(count, s + CHUNK);
    const entries: unknown[] = [];
    const nodes: unknown[] = [];
    for (let c = s; c < e; c++) {
      const entry = syntheticEntry(c);
      const canonical = Buffer.from(canonicalEntry(entry), 'utf8');
      let cur = h.leaf(canonical);
      entries.push(c + 1, entry.subject, canonical);
      nodes.push(nextId++, Buffer.from(cur, 'latin1'));
      for (let t = c; t % 2 === 1; t = (t - 1) / 2) {
        cur = h.node(stack.pop()!, cur);
        nodes.push(nextId++, Buffer.from(cur, 'latin1'));
      }
      stack.push(cur);
    }
    db.transaction(() => {
      let i = 0;
      for (; i + 3 * ROWS <= entries.length; i += 3 * ROWS) entryInsert.run(entries.slice(i, i + 3 * ROWS));
      for (; i < entries.length; i += 3) entryOne.run(entries.slice(i, i + 3));
      let j = 0;
      for (; j + 2 * ROWS <= nodes.length; j += 2 * ROWS) nodeInsert.run(nodes.slice(j, j + 2 * ROWS));
      for (; j < nodes.length; j += 2) nodeOne.run(nodes.slice(j, j + 2));
    })();
    if ((e / CHUNK) % 10 === 0 || e === count)
      note(`audit: generated ${e}/${count} entries (${Math.round(e / ((Date.now() - started) / 1000))}/s)`);
  }
  if (nextId !== nodeCount(count)) throw new Error('node count mismatch');
  db.prepare('update audit_head set size = ?, frontier = ? where id = 1').run(
    count,
    Buffer.from(stack.join(''), 'latin1'),
  );
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

// ---------------------------------------------------------------------------------------------
// (b) verification rate, (c) proof latency

async function verifyRate(path: string, entries: number): Promise<Record<string, unknown>> {
  const store = openStore({ engine: 'sqlite', path });
  try {
    const runs: { seconds: number; cpuSeconds: number }[] = [];
    for (let round = 0; round < 2; round++) {
      const cpu = cpuNow();
      const report = await verifyAuditLog(store);
      if (!report.ok || report.treeSize !== entries)
        throw new Error(`verification failed: ${JSON.stringify(report.problems[0])}`);
      runs.push({ seconds: report.seconds, cpuSeconds: cpuNow() - cpu });
      note(`audit: verified ${entries} entries in ${report.seconds.toFixed(2)} s`);
    }
    const best = Math.min(...runs.map((r) => r.seconds));
    const bestCpu = Math.min(...runs.map((r) => r.cpuSeconds));
    return {
      bench: 'audit.verify',
      engine: 'sqlite',
      entries,
      entriesPerSec: Math.round(entries / best),
      cpuNsPerEntry: Math.round((bestCpu * 1e9) / entries),
      target: '>= 1,000,000 entries/s',
      runs,
    };
  } finally {
    await store.close();
  }
}

function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: Math.round(at(0.5)), p99: Math.round(at(0.99)), max: Math.round(sorted.at(-1)!) };
}

async function proofLatency(
  path: string,
  entries: number,
  samples: number,
): Promise<Record<string, unknown>> {
  const store = openStore({ engine: 'sqlite', path });
  const log = new AuditLog({ store });
  const random = (n: number) => Math.floor(Math.random() * n);
  try {
    const inclusion: number[] = [];
    const consistency: number[] = [];
    for (let i = 0; i < samples + 200; i++) {
      const n = 1 + random(entries);
      const m = random(n);
      const t0 = process.hrtime.bigint();
      const proof = await log.inclusionProof(m, n);
      const t1 = process.hrtime.bigint();
      if (!verifyInclusion(m, n, proof.leafHash, proof.auditPath, proof.rootHash))
        throw new Error('bad inclusion proof');
      const first = 1 + random(n);
      const t2 = process.hrtime.bigint();
      const c = await log.consistencyProof(first, n);
      const t3 = process.hrtime.bigint();
      if (!verifyConsistency(first, n, c.firstRootHash, c.secondRootHash, c.proof))
        throw new Error('bad consistency proof');
      if (i >= 200) {
        inclusion.push(Number(t1 - t0) / 1000);
        consistency.push(Number(t3 - t2) / 1000);
      }
    }
    return {
      bench: 'audit.proofs',
      engine: 'sqlite',
      entries,
      samples,
      inclusionUs: percentiles(inclusion),
      consistencyUs: percentiles(consistency),
    };
  } finally {
    await store.close();
  }
}

export async function run(partial: Partial<AuditBenchOptions> = {}): Promise<Record<string, unknown>> {
  const options: AuditBenchOptions = { ...DEFAULTS, ...partial };
  const results: Record<string, unknown>[] = [];
  if (options.only.includes('readOverhead')) results.push(await readOverhead(options));
  if (options.only.includes('commitCost')) results.push(await commitCost(options));
  if (options.only.includes('verify') || options.only.includes('proofs')) {
    const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-auditlog-'));
    try {
      const verifyEntries = Math.min(options.verifyEntries, options.entries);
      if (options.only.includes('verify')) {
        const path = join(dir, 'verify.db');
        await generateLog(path, verifyEntries);
        results.push(await verifyRate(path, verifyEntries));
      }
      if (options.only.includes('proofs')) {
        const path = join(dir, 'proofs.db');
        await generateLog(path, options.entries);
        results.push(await proofLatency(path, options.entries, options.proofs));
      }
    } finally {
      if (options.keep) note(`audit: kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    }
  }
  return { bench: 'audit', results, ...environment() };
}

function parseCommandLine(argv: readonly string[]): AuditBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      entries: { type: 'string' },
      'verify-entries': { type: 'string' },
      reads: { type: 'string' },
      concurrency: { type: 'string' },
      proofs: { type: 'string' },
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const int = (value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value.replaceAll('_', ''));
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`expected a positive integer, got ${value}`);
    return n;
  };
  const only = values.only?.split(',').map((s) => s.trim()) ?? ALL;
  for (const name of only)
    if (!ALL.includes(name as SubBench)) throw new Error(`unknown sub-benchmark ${name}`);
  return {
    entries: int(values.entries, DEFAULTS.entries),
    verifyEntries: int(values['verify-entries'], DEFAULTS.verifyEntries),
    reads: int(values.reads, DEFAULTS.reads),
    concurrency: int(values.concurrency, DEFAULTS.concurrency),
    proofs: int(values.proofs, DEFAULTS.proofs),
    only: only as SubBench[],
    keep: values.keep,
  };
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
  const result = await run(parseCommandLine(process.argv.slice(2)));
  for (const line of result['results'] as Record<string, unknown>[])
    process.stdout.write(`${JSON.stringify({ ...line, ...environment() })}\n`);
}
