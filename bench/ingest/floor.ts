/**
 * `ingest-floor`: what SQLite alone charges for the rows one `collect` must write, against the
 * plain row, with no crypto, no Kysely and no vault code. Each level adds one part of the vault's
 * write set to the one before and runs it through raw better-sqlite3 with cached statements on the
 * migrated schema, one transaction per customer (the per-row `ingest` mode). Its ratio is the
 * best `ingest` ratio any implementation of `collect` could reach on this schema and these
 * durability settings. See BENCHMARKS.md, "`ingest-floor`".
 */
import { randomBytes } from 'node:crypto';
import SqliteDatabase, { type Database, type Statement } from 'better-sqlite3';
import type { BenchOptions } from '../lib/cli.js';
import { timedSync } from '../lib/clock.js';
import { environment, note, ratio } from '../lib/out.js';
import { openTarget } from './targets.js';
import { sqlitePragmas } from '../../src/store/open.js';

/** Byte sizes of what `collect` stores for one synthetic customer (read off a bench database). */
const SIZES = { wrappedKey: 60, recordSealed: 377, identitySealed: 67, canonical: 412, frontier: 200 };

/** One level of the write set; each includes the levels above it. */
const LEVELS = ['plain', 'subject+key', '+record', '+identities', '+audit'] as const;
type Level = (typeof LEVELS)[number];

/**
 * Random bytes drawn before timing, so the figures hold SQLite's cost and not the generator's.
 * `take` hands out the next slice and wraps around at the end; `unique` is for values that must
 * not repeat (keys under a unique index).
 */
class BytePool {
  readonly #bytes: Buffer;
  #offset = 0;
  #issued = 0;
  constructor(size: number) {
    this.#bytes = randomBytes(size);
  }
  take(length: number): Buffer {
    if (this.#offset + length > this.#bytes.length) this.#offset = 0;
    const out = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }
  /** Random bytes whose last four count up, unique even after the pool wraps around. */
  unique(length: number): Buffer {
    const out = Buffer.from(this.take(length));
    out.writeUInt32BE(this.#issued++ >>> 0, length - 4);
    return out;
  }
}

/** A time-ordered id like the vault's UUIDv7s, so primary-key inserts land where the vault's do. */
function idFactory(pool: BytePool): () => string {
  let counter = 0;
  return () => {
    const id = Buffer.from(pool.take(16));
    id.writeUIntBE(Date.now(), 0, 6);
    id.writeUInt16BE(counter++ & 0xffff, 6);
    return id.toString('hex');
  };
}

interface Writer {
  /** Writes `count` customers at `level` in one transaction. */
  write(level: Level, first: number, count: number): void;
  /** Starts the next timed run from an empty WAL, as `ingest` does. */
  settle(): void;
}

function writer(db: Database): Writer {
  const pool = new BytePool(64 << 20);
  const nextId = idFactory(pool);
  const q = (text: string): Statement => db.prepare(text);
  const begin = q('begin immediate');
  const commit = q('commit');
  const plain = q(
    `insert into customers_plain (oaid, recipient_name, phone, province, city, district, street, created_at)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const lookup = q(
    `select subject_id from identities where kind = 'oaid' and index_version = 1 and token = ?`,
  );
  const subject = q('insert into subjects (id, created_at, erased_at) values (?, ?, null)');
  const key = q(
    `insert into subject_keys (subject_id, version, suite, root_key_id, wrapped, created_at)
     values (?, 1, 'aes-256-gcm', 'file:bench', ?, ?)`,
  );
  const record = q(
    `insert into records (id, subject_id, collection, key_version, sealed, plain, purpose, source, created_at, updated_at)
     values (?, ?, 'address', 1, ?, null, 'order-fulfilment', null, ?, ?)`,
  );
  const identities = q(
    `insert into identities (subject_id, kind, index_version, token, sealed, key_version, created_at)
     values (?, 'oaid', 1, ?, ?, 1, ?), (?, 'phone', 1, ?, ?, 1, ?)`,
  );
  const head = q('update audit_head set size = size + 1, frontier = ? where id = 1 returning size');
  const entry = q('insert into audit_log (seq, subject_ref, canonical) values (?, ?, ?)');
  const node = q('insert into audit_nodes (id, hash) values (?, ?)');
  const next = (text: string): number => (db.prepare(text).get() as { n: number | null }).n ?? 0;
  let seq = next('select max(seq) + 1 as n from audit_log');
  let nodes = next('select max(id) + 1 as n from audit_nodes');

  const one = (level: Level, depth: number, customer: number): void => {
    const at = new Date().toISOString();
    if (level === 'plain') {
      plain.run(
        // As in `ingest`, the OAID and the phone are random per customer, so the plain table's two
        // indexes take inserts all over their B-trees just as the blind index does.
        pool.unique(12).toString('base64url'),
        '张三丰',
        `138${String(pool.take(4).readUInt32BE(0) % 1e8).padStart(8, '0')}`,
        '浙江省',
        '杭州市',
        '余杭区',
        `文一西路 ${customer} 号`,
        at,
      );
    } else {
      const oaid = pool.unique(16);
      lookup.get(oaid);
      const id = nextId();
      subject.run(id, at);
      key.run(id, pool.take(SIZES.wrappedKey), at);
      if (depth >= 2) record.run(nextId(), id, pool.take(SIZES.recordSealed), at, at);
      if (depth >= 3) {
        const sealed = SIZES.identitySealed;
        identities.run(id, oaid, pool.take(sealed), at, id, pool.take(16), pool.take(sealed), at);
      }
      if (depth >= 4) {
        const { size } = head.get(pool.take(SIZES.frontier)) as { size: number };
        entry.run(seq++, pool.take(16).toString('hex'), pool.take(SIZES.canonical));
        // RFC 9162: appending leaf `size - 1` completes one internal node per trailing 1 bit.
        for (let i = size; i % 2 === 0; i /= 2) node.run(nodes++, pool.take(32));
      }
    }
  };
  return {
    settle() {
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    write(level, first, count) {
      const depth = LEVELS.indexOf(level);
      begin.run();
      for (let i = 0; i < count; i++) one(level, depth, first + i);
      commit.run();
    },
  };
}

interface LevelResult {
  readonly level: Level;
  readonly cpuUsPerRow: number;
  readonly perSec: number;
  /** plain CPU per row ÷ this level's CPU per row: the best `ingest` CPU ratio at this level. */
  readonly ratio: number;
}

type Mode = 'perRow' | 'batched';

/** Best of `rounds` runs per level in one mode: one customer per transaction, or `batch`. */
function measure(write: Writer, options: BenchOptions, mode: Mode, start: number): LevelResult[] {
  const perTransaction = mode === 'perRow' ? 1 : options.batch;
  let customer = start;
  const run = (level: Level, rows: number): void => {
    for (let done = 0; done < rows; done += perTransaction) {
      const count = Math.min(perTransaction, rows - done);
      write.write(level, customer, count);
      customer += count;
    }
  };
  for (const level of LEVELS) run(level, options.warmup);

  const best = new Map<Level, { cpu: number; rate: number }>();
  for (let round = 0; round < options.rounds; round++) {
    // Alternate the order per round so drift over the run does not favour one level.
    const order = round % 2 === 0 ? LEVELS : [...LEVELS].reverse();
    for (const level of order) {
      write.settle();
      const cost = timedSync(() => run(level, options.rows));
      const cpu = (cost.cpuSeconds * 1e6) / options.rows;
      const rate = options.rows / cost.seconds;
      const prior = best.get(level);
      best.set(level, { cpu: Math.min(cpu, prior?.cpu ?? cpu), rate: Math.max(rate, prior?.rate ?? rate) });
      note(
        `ingest-floor: ${mode} ${level} round ${round + 1}: ${Math.round(rate)} rows/s, ${cpu.toFixed(1)} us CPU/row`,
      );
    }
  }
  const plainCpu = best.get('plain')?.cpu ?? Number.NaN;
  return LEVELS.map((level) => {
    const { cpu, rate } = best.get(level) ?? { cpu: Number.NaN, rate: Number.NaN };
    return {
      level,
      cpuUsPerRow: Math.round(cpu * 10) / 10,
      perSec: Math.round(rate),
      ratio: ratio(plainCpu, cpu),
    };
  });
}

export async function ingestFloor(options: BenchOptions): Promise<Record<string, unknown>> {
  const target = await openTarget({
    engine: 'sqlite',
    suite: options.suite,
    keep: options.keep,
    walCheckpoints: options.walCheckpoints,
  });
  const db = target.path === undefined ? undefined : new SqliteDatabase(target.path);
  try {
    if (db === undefined) throw new Error('the floor is measured on SQLite');
    // As the store's writers and the plain side set them (checkpoint backstop included).
    for (const pragma of sqlitePragmas(options.walCheckpoints)) db.pragma(pragma);
    const write = writer(db);
    note(
      `ingest-floor: ${options.rows} customers x ${options.rounds} rounds per level and mode, batch ${options.batch}`,
    );
    const perRow = measure(write, options, 'perRow', 0);
    const batched = measure(write, options, 'batched', 1e9);
    return {
      bench: 'ingest-floor',
      engine: 'sqlite',
      rows: options.rows,
      rounds: options.rounds,
      perRow,
      batched: { size: options.batch, levels: batched },
      // The whole write set of one new-customer collect: no implementation of `collect` on this
      // schema, with its audit entry in the same transaction, can beat these ratios.
      ceiling: { perRow: perRow.at(-1)?.ratio, batched: batched.at(-1)?.ratio },
      ...target.facts,
      ...environment(),
    };
  } finally {
    db?.close();
    await target.close();
  }
}
