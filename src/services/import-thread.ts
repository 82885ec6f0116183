/**
 * The main thread's side of the importer's worker (src/services/import-worker.ts): starts it,
 * hands out its batches in order, and turns its answers back into Buffers the store can bind.
 */

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CustodianError, isErrorCode } from '../domain/errors.js';
import type { NormalisedRow } from '../platforms/tmall/rows.js';
import { unpackSealed, type SealedBatch, type SealOrder } from './collect-plan.js';
import { decodeRows, type RowMeta } from './import-batch.js';
import type { FromWorker, ImportWorkerData, ToWorker } from './import-worker.js';

/** A message of the batch stream, in the order the worker sent them; a batch's rows decoded. */
export type WorkerEvent =
  | (Omit<Extract<FromWorker, { type: 'batch' }>, 'encoded'> & { readonly meta?: readonly RowMeta[] })
  | Extract<FromWorker, { type: 'skipped' | 'end' }>;

interface Pending<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Loads TypeScript sources in the thread: tsx's loader, registered there first (a thread does not
 * inherit the loader hooks of `node --import tsx`, and vitest's transform does not reach it).
 */
const SOURCE_BOOT = `
const { workerData } = require('node:worker_threads');
import(workerData.boot.tsx).then((tsx) => {
  tsx.register();
  return import(workerData.boot.entry);
});
`;

/**
 * Starts the worker beside this module: the built `.js`, or the `.ts` source where the sources
 * run (tests, benchmarks).
 */
function start(data: ImportWorkerData): Worker {
  if (!fileURLToPath(import.meta.url).endsWith('.ts'))
    return new Worker(new URL('./import-worker.js', import.meta.url), { workerData: data });
  // The ESM build of tsx's API (`tsx/esm/api` for `import`), found from its package file.
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsx = pathToFileURL(join(dirname(tsxPackage), 'dist', 'esm', 'api', 'index.mjs')).href;
  const entry = new URL('./import-worker.ts', import.meta.url).href;
  return new Worker(SOURCE_BOOT, { eval: true, workerData: { ...data, boot: { tsx, entry } } });
}

export class ImportThread {
  readonly #worker: Worker;
  readonly #events: WorkerEvent[] = [];
  #waiting: Pending<WorkerEvent> | undefined;
  readonly #sealing = new Map<number, Pending<SealedBatch>>();
  readonly #rows = new Map<number, Pending<readonly NormalisedRow[]>>();
  #failure: Error | undefined;
  /** Set by {@link close}: the thread's exit is expected from then on. */
  #closing = false;

  constructor(data: ImportWorkerData) {
    this.#worker = start(data);
    this.#worker.on('message', (message: FromWorker) => this.#receive(message));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(new Error(`the import thread stopped (exit code ${code})`));
    });
  }

  /** The next batch, resume progress or the end of the file. */
  next(): Promise<WorkerEvent> {
    const event = this.#events.shift();
    if (event !== undefined) return Promise.resolve(event);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }));
  }

  /** The records of batch `seq` at `positions`, sealed as `order` says. */
  seal(seq: number, positions: readonly number[], order: SealOrder): Promise<SealedBatch> {
    const sealed = new Promise<SealedBatch>((resolve, reject) => this.#sealing.set(seq, { resolve, reject }));
    this.#post({
      type: 'seal',
      seq,
      positions,
      order: { subjects: order.subjects, recordIds: order.recordIds, writes: order.writes },
    });
    return sealed;
  }

  /** Batch `seq`'s normalised rows, to collect them in one unit of work after all. */
  rows(seq: number): Promise<readonly NormalisedRow[]> {
    const rows = new Promise<readonly NormalisedRow[]>((resolve, reject) =>
      this.#rows.set(seq, { resolve, reject }),
    );
    this.#post({ type: 'rows', seq });
    return rows;
  }

  /** Batch `seq` is written: the worker lets it go and may read further. */
  done(seq: number): void {
    this.#post({ type: 'done', seq });
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#worker.terminate();
  }

  #post(message: ToWorker): void {
    if (this.#failure !== undefined) throw this.#failure;
    this.#worker.postMessage(message);
  }

  #receive(message: FromWorker): void {
    switch (message.type) {
      case 'sealed': {
        const pending = this.#take(this.#sealing, message.seq);
        let sealed: SealedBatch;
        try {
          sealed = unpackSealed(message.sealed);
        } catch (error) {
          pending?.reject(error);
          this.#fail(error as Error);
          return;
        }
        pending?.resolve(sealed);
        return;
      }
      case 'rows':
        this.#take(this.#rows, message.seq)?.resolve(message.rows);
        return;
      case 'failed':
        this.#fail(
          message.code !== undefined && isErrorCode(message.code)
            ? new CustodianError(
                message.code,
                message.message,
                message.details === undefined ? {} : { details: message.details },
              )
            : new Error(`the import thread failed: ${message.message}`),
        );
        return;
      case 'batch': {
        const { seq, encoded, rows, bytesRead } = message;
        if (encoded === undefined) {
          this.#emit({ type: 'batch', seq, rows: rows ?? [], bytesRead });
          return;
        }
        let meta: RowMeta[];
        try {
          meta = decodeRows(encoded);
        } catch (error) {
          this.#fail(error as Error);
          return;
        }
        this.#emit({ type: 'batch', seq, meta, bytesRead });
        return;
      }
      case 'end':
      case 'skipped':
        this.#emit(message);
        return;
    }
  }

  #emit(event: WorkerEvent): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    if (waiting !== undefined) waiting.resolve(event);
    else this.#events.push(event);
  }

  #take<T>(map: Map<number, Pending<T>>, seq: number): Pending<T> | undefined {
    const pending = map.get(seq);
    map.delete(seq);
    return pending;
  }

  #fail(error: Error): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#waiting?.reject(error);
    this.#waiting = undefined;
    for (const map of [this.#sealing, this.#rows] as Map<number, Pending<never>>[]) {
      for (const pending of map.values()) pending.reject(error);
      map.clear();
    }
    void this.#worker.terminate();
  }
}
