/**
 * The file importer's second thread (src/services/importer.ts, `importTmallOrders`). It reads the
 * export, normalises its rows and prepares their records ({@link prepareCollect}: minimised,
 * screened, tokenised) batch by batch, ahead of the main thread; and it seals each batch once the
 * main thread has planned it (subjects, keys and record ids: `Vault.planCollect`), while the main
 * thread writes the batch before. The main thread gets only what holds no personal value (names,
 * tokens, counts, the data map's plain fields) and the sealed envelopes.
 *
 * Messages, in order per batch: `batch` (or `rows`, the batch's normalised rows whole, when a
 * record could not be prepared), then the main thread's `seal` and this thread's `sealed`, and the
 * main thread's `done`. It can also ask for a batch's rows (`rows`), to collect them in one unit of
 * work after all. At most {@link AHEAD} batches are kept until `done`.
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { PooledNonceSource, suiteById, type AeadSuiteId } from '../crypto/aead.js';
import { BlindIndexer, type BlindIndexerOptions } from '../crypto/blind-index.js';
import type { Datamap } from '../domain/datamap/schema.js';
import { CustodianError, isCustodianError } from '../domain/errors.js';
import { planColumns, type ImportMap } from '../platforms/tmall/mapping.js';
import type { NormalisedRow } from '../platforms/tmall/rows.js';
import { openOrderFile } from '../platforms/tmall/source.js';
import type { EncodingChoice } from '../platforms/tmall/encoding.js';
import {
  collectionSpec,
  prepareCollect,
  sealPlanned,
  type PackedSealed,
  type PreparedCollect,
  type SealOrder,
} from './collect-plan.js';
import { encodeRows, type EncodedRows, type RowMeta } from './import-batch.js';
import { isKeyed, orderInputs, toRow } from './order-rows.js';

/** Batches prepared and not yet done: the one being written, the one being sealed, the next. */
const AHEAD = 3;

export interface ImportWorkerData {
  readonly file: string;
  readonly encoding: EncodingChoice;
  readonly map: ImportMap;
  readonly datamap: Datamap;
  readonly indexer: BlindIndexerOptions;
  readonly suite: AeadSuiteId;
  readonly recordSource: string;
  readonly batchSize: number;
  /** Data rows already imported (a resumed run): read, not prepared. */
  readonly checkpoint: number;
  /** The header the main thread planned with; the thread checks it reads the same. */
  readonly header: readonly string[];
}

export type FromWorker =
  | {
      readonly type: 'batch';
      readonly seq: number;
      /** The batch prepared: its rows as the main thread needs them ({@link encodeRows}). */
      readonly encoded?: EncodedRows;
      /** Or, when a record could not be prepared, its rows whole. */
      readonly rows?: readonly NormalisedRow[];
      readonly bytesRead: number;
    }
  | { readonly type: 'rows'; readonly seq: number; readonly rows: readonly NormalisedRow[] }
  | { readonly type: 'sealed'; readonly seq: number; readonly sealed: PackedSealed }
  | { readonly type: 'skipped'; readonly ordinal: number; readonly bytesRead: number }
  | { readonly type: 'end'; readonly ordinal: number; readonly bytesRead: number }
  | {
      readonly type: 'failed';
      readonly code: string | undefined;
      /** A CustodianError's message and details are free of personal data by contract. */
      readonly message: string;
      readonly details: Readonly<Record<string, unknown>> | undefined;
    };

export type ToWorker =
  | {
      readonly type: 'seal';
      readonly seq: number;
      /** The batch's records to seal, by position among its orders' records (duplicates left out). */
      readonly positions: readonly number[];
      readonly order: SealOrder;
    }
  | { readonly type: 'rows'; readonly seq: number }
  | { readonly type: 'done'; readonly seq: number };

interface Held {
  readonly rows: readonly NormalisedRow[];
  readonly prepared: readonly PreparedCollect[];
}

async function run(data: ImportWorkerData, port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (message: FromWorker): void => port.postMessage(message);
  const indexer = new BlindIndexer(data.indexer);
  const settings = { suite: suiteById(data.suite), nonces: new PooledNonceSource() };
  const held = new Map<number, Held>();
  let wake: (() => void) | undefined;
  port.on('message', (message: ToWorker) => {
    try {
      const batch = held.get(message.seq);
      if (message.type === 'done') {
        held.delete(message.seq);
        wake?.();
      } else if (batch === undefined) {
        throw new Error(`batch ${message.seq} is not held`);
      } else if (message.type === 'rows') {
        post({ type: 'rows', seq: message.seq, rows: batch.rows });
      } else {
        const prepared = message.positions.map((i) => batch.prepared[i]!);
        post({ type: 'sealed', seq: message.seq, sealed: sealPlanned(prepared, message.order, settings) });
      }
    } catch (error) {
      fail(error);
    }
  });
  const fail = (error: unknown): void => post(failure(error));

  const file = await openOrderFile(data.file, data.encoding);
  const datamap = data.datamap;
  let plan: ReturnType<typeof planColumns> | undefined;
  let ordinal = 0;
  let seq = 0;
  let rows: NormalisedRow[] = [];
  const flush = async (): Promise<void> => {
    if (rows.length === 0) return;
    const batch = prepareBatch(rows);
    held.set(seq, batch.held);
    post(
      batch.meta === undefined
        ? { type: 'batch', seq, rows, bytesRead: file.bytesRead() }
        : { type: 'batch', seq, encoded: encodeRows(batch.meta), bytesRead: file.bytesRead() },
    );
    seq++;
    rows = [];
    // Let the main thread's messages in (a seal waits for at most one batch), and stay at most
    // AHEAD batches in front of it.
    await new Promise((resolve) => setImmediate(resolve));
    while (held.size >= AHEAD) await new Promise<void>((resolve) => (wake = resolve));
  };
  const prepareBatch = (batch: readonly NormalisedRow[]): { held: Held; meta: RowMeta[] | undefined } => {
    const prepared: PreparedCollect[] = [];
    const meta: RowMeta[] = [];
    try {
      for (const row of batch) {
        if (row.kind === 'reject') {
          meta.push(row);
          continue;
        }
        const records = orderInputs(row, plan!, data.recordSource, 0).map((input) => {
          const p = prepareCollect(datamap, indexer, collectionSpec(datamap, input.collection), input);
          prepared.push(p);
          // Its meta: encodeRows reads CollectMeta's fields alone, never the values to seal.
          return p;
        });
        meta.push({
          kind: 'order',
          ordinal: row.ordinal,
          orderId: row.orderId,
          keyed: isKeyed(row),
          drops: row.drops,
          records,
        });
      }
      return { held: { rows: batch, prepared }, meta };
    } catch (error) {
      // A record the vault refuses: the main thread collects the batch's rows itself, and a
      // refusal then rejects its row with the vault's code, as without this thread. Anything
      // else is a failure of the import.
      if (!isCustodianError(error)) throw error;
      return { held: { rows: batch, prepared: [] }, meta: undefined };
    }
  };

  for await (const source of file.rows()) {
    if (plan === undefined) {
      if (source.cells === undefined || source.cells.join('\u0000') !== data.header.join('\u0000'))
        throw new CustodianError(
          'ERR_TMALL_IMPORT_INVALID',
          'the export changed while it was imported: its header row is not the same',
        );
      plan = planColumns(source.cells, data.map, datamap);
      continue;
    }
    ordinal++;
    if (ordinal <= data.checkpoint) {
      if (ordinal % 10_000 === 0) post({ type: 'skipped', ordinal, bytesRead: file.bytesRead() });
      continue;
    }
    rows.push(toRow(plan, data.header.length, ordinal, source, file.format));
    if (rows.length >= data.batchSize) await flush();
  }
  await flush();
  post({ type: 'end', ordinal, bytesRead: file.bytesRead() });
}

/**
 * A failure as the main thread reports it. Only a CustodianError's text goes across (free of
 * personal data by contract); anything else is named by its class and a system error's code
 * (`EACCES`, `EIO`) alone, as values may be in its message.
 */
function failure(error: unknown): FromWorker {
  if (isCustodianError(error))
    return { type: 'failed', code: error.code, message: error.message, details: error.details };
  const system = (error as { code?: unknown } | undefined)?.code;
  const name = error instanceof Error ? error.name : typeof error;
  return {
    type: 'failed',
    code: undefined,
    message: typeof system === 'string' && /^E[A-Z]+$/.test(system) ? `${name} ${system}` : name,
    details: undefined,
  };
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  run(workerData as ImportWorkerData, port).catch((error: unknown) => port.postMessage(failure(error)));
}
