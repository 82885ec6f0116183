import * as crypto from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * The hashing half of log verification, for one batch of consecutive leaves `[s, e)` that starts
 * on a multiple of its (power-of-two) capacity: it recomputes every leaf and every node inside
 * the batch's own subtree, checks each entry's subject column against its bytes, and compares
 * all of it with the stored nodes in one memcmp. Nodes above the batch (completed by its last
 * leaf together with earlier batches) are left to the caller, which owns the log's frontier.
 *
 * Being independent of everything before the batch, batches hash in parallel: in worker threads
 * when there are cores to spare, inline otherwise.
 */
export interface HashJob {
  readonly s: number;
  readonly e: number;
  /** The entries as {@link AuditEntryBatch} joins them: canonical, 0x01, subject column; 0x00 between. */
  readonly bytes: Uint8Array;
  /** The stored nodes with ids `[nodeCount(s), nodeCount(e))`, 32 bytes each. */
  readonly nodes: Uint8Array;
  /** Sizes in `(s, e]` at which the batch's own perfect roots are wanted (checkpoints). */
  readonly rootSizes: readonly number[];
}

export interface HashResult {
  /** False when anything differs (the caller then looks closer, node by node). */
  readonly ok: boolean;
  /** The batch's perfect subtree roots after its last leaf, largest first, latin1, concatenated. */
  readonly local: string;
  /** The same at each requested size. */
  readonly roots: readonly (readonly [size: number, local: string])[];
}

/**
 * Self-contained: worker threads run it from its source text, so it uses nothing but its
 * arguments and the language (no imports, no helper functions). `sha` is SHA-256 → latin1.
 *
 * Per entry it finds the two separators with native `indexOf`, hashes the canonical bytes in
 * place (the 0x00 before them is the leaf prefix), compares the subject column with the bytes'
 * tail with native `compare`, and writes the leaf and the parents it completes next to the stored
 * ones; one memcmp at the end compares them all.
 */
export function hashBatch(job: HashJob, sha: (data: Uint8Array) => string): HashResult {
  const failed = { ok: false, local: '', roots: [] };
  const bytes = job.bytes;
  const count = job.e - job.s;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = Buffer.from(job.nodes.buffer, job.nodes.byteOffset, job.nodes.byteLength);
  const out = Buffer.alloc(stored.length) as Latin1Buffer;
  const pair = Buffer.alloc(65) as Latin1Buffer;
  pair[0] = 1;
  // The subject column must say what the hashed bytes say: their last member but "v".
  const before = Buffer.from(',"subject":"', 'latin1');
  const after = Buffer.from('","v":1}', 'latin1');
  const none = Buffer.from(',"subject":null,"v":1}', 'latin1');
  const stack: string[] = [];
  const roots: [number, string][] = [];
  let wanted = 0;
  let w = 0;
  let off = 0;
  for (let k = 0; k < count; k++) {
    const sep = buffer.indexOf(1, off);
    const end = k === count - 1 ? buffer.length : buffer.indexOf(0, sep + 1);
    if (sep < 0 || end < 0) return failed;
    let cur: string;
    if (off === 0) {
      const first = Buffer.alloc(sep + 1);
      buffer.copy(first, 1, 0, sep);
      cur = sha(first);
    } else cur = sha(buffer.subarray(off - 1, sep));
    if (end === sep + 2 && buffer[sep + 1] === 45) {
      if (sep - off < none.length || buffer.compare(none, 0, none.length, sep - none.length, sep) !== 0)
        return failed;
    } else {
      // "=" then the value; one with a quote, backslash or control byte would need JSON escaping:
      // the slow path compares those.
      if (buffer[sep + 1] !== 61) return failed;
      const ref = end - sep - 2;
      for (let i = sep + 2; i < end; i++) {
        const b = buffer[i]!;
        if (b === 34 || b === 92 || b < 32) return failed;
      }
      const at = sep - after.length - ref - before.length;
      if (
        at < off ||
        buffer.compare(before, 0, before.length, at, at + before.length) !== 0 ||
        buffer.compare(buffer, sep + 2, end, at + before.length, at + before.length + ref) !== 0 ||
        buffer.compare(after, 0, after.length, sep - after.length, sep) !== 0
      )
        return failed;
    }
    off = end + 1;
    if (w + 32 > out.length) return failed;
    out.latin1Write(cur, w, 32);
    w += 32;
    // Parents inside the batch: one per trailing 1-bit of the batch-relative index.
    let j = k;
    while (j % 2 === 1) {
      pair.latin1Write(stack.pop()!, 1, 32);
      pair.latin1Write(cur, 33, 32);
      cur = sha(pair);
      if (w + 32 > out.length) return failed;
      out.latin1Write(cur, w, 32);
      w += 32;
      j = (j - 1) / 2;
    }
    stack.push(cur);
    // Parents above the batch (only after a full batch's last leaf): the caller checks them.
    let c = job.s + k;
    let t = 0;
    while (c % 2 === 1) {
      t++;
      c = (c - 1) / 2;
    }
    let local = 0;
    j = k;
    while (j % 2 === 1) {
      local++;
      j = (j - 1) / 2;
    }
    for (let extra = t - local; extra > 0; extra--) {
      if (w + 32 > out.length) return failed;
      stored.copy(out, w, w, w + 32);
      w += 32;
    }
    while (wanted < job.rootSizes.length && job.rootSizes[wanted] === job.s + k + 1) {
      roots.push([job.s + k + 1, stack.join('')]);
      wanted++;
    }
  }
  if (off - 1 !== bytes.length || w !== out.length || !out.equals(stored)) return failed;
  return { ok: true, local: stack.join(''), roots };
}

type Sha = (data: Uint8Array) => string;

/** Node's undocumented one-byte string fast paths (`write`/`toString` with 'latin1' end in them). */
type Latin1Buffer = Buffer & {
  latin1Slice(start: number, end: number): string;
  latin1Write(text: string, offset: number, length: number): number;
};

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const sha = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'latin1')
  : (data) => crypto.createHash('sha256').update(data).digest('latin1');
const hashBatch = (${hashBatch.toString()});
parentPort.on('message', (job) => parentPort.postMessage(hashBatch(job, sha)));
`;

interface Waiting {
  resolve(result: HashResult): void;
  reject(error: unknown): void;
}

/**
 * Worker threads that hash batches; results come back in the order jobs were given to each. A
 * worker that fails rejects its jobs (the caller hashes them inline) and takes no more.
 */
export class HashPool {
  readonly #workers: { worker: Worker; waiting: Waiting[]; failed: unknown }[] = [];
  #next = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      const slot: { worker: Worker; waiting: Waiting[]; failed: unknown } = {
        worker,
        waiting: [],
        failed: undefined,
      };
      worker.on('message', (result: HashResult) => slot.waiting.shift()?.resolve(result));
      const fail = (error: unknown): void => {
        slot.failed ??= error ?? new Error('hash worker stopped');
        for (const w of slot.waiting.splice(0)) w.reject(slot.failed);
      };
      worker.on('error', fail);
      worker.on('exit', () => fail(undefined));
      this.#workers.push(slot);
    }
  }

  /** Workers worth starting on this machine: the cores beyond the one that reads (at most 4). */
  static defaultSize(): number {
    return Math.max(0, Math.min(4, availableParallelism() - 1));
  }

  /** Jobs handed to the workers and not answered yet. */
  get pending(): number {
    let n = 0;
    for (const slot of this.#workers) n += slot.waiting.length;
    return n;
  }

  run(job: HashJob): Promise<HashResult> {
    const slot = this.#workers[this.#next++ % this.#workers.length]!;
    if (slot.failed !== undefined)
      return Promise.reject(slot.failed instanceof Error ? slot.failed : new Error('hash worker failed'));
    // Hand the buffers over without copying when they are the job's alone.
    const transfer = [job.bytes, job.nodes]
      .filter(
        (v) => v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && v.buffer instanceof ArrayBuffer,
      )
      .map((v) => v.buffer as ArrayBuffer);
    return new Promise((resolve, reject) => {
      slot.waiting.push({ resolve, reject });
      slot.worker.postMessage(job, [...new Set(transfer)]);
    });
  }

  async close(): Promise<void> {
    for (const slot of this.#workers) slot.failed ??= new Error('hash pool closed');
    await Promise.all(this.#workers.map((w) => w.worker.terminate()));
  }
}

/** SHA-256 → latin1 for inline hashing, by the fastest means this Node has. */
export const inlineSha: Sha =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) =>
        (crypto.hash as unknown as (a: string, d: Uint8Array, e: 'latin1') => string)(
          'sha256',
          data,
          'latin1',
        )
    : (data) => crypto.createHash('sha256').update(data).digest('binary');
