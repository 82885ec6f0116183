/**
 * Bulk import of Tmall orders into the vault: the seller centre's order export (CSV in GBK or
 * UTF-8, or XLSX) and, through the same writer, the TOP order sync (src/platforms/tmall/sync.ts).
 *
 * - Idempotent: an order is imported once per source (`import_orders (source, order_id)`; the
 *   order id is a non-personal reference the data map stores plain anyway). Importing a file
 *   again adds nothing.
 * - Resumable: rows are written in batches, each ONE unit of work holding the vault's records and
 *   audit entries, the imported order ids, the rejected rows and the run's checkpoint and counts.
 *   A run killed at any point (kill -9) leaves whole batches only; running the same file again
 *   with the same settings resumes after the last committed batch and ends with the same counts
 *   as an uninterrupted run.
 * - Rejected rows are recorded by line, column names and reason codes, never their values.
 */

import { basename } from 'node:path';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { uuidv7 } from '../crypto/uuid.js';
import { isSensitiveField, type Datamap } from '../domain/datamap/schema.js';
import { CustodianError, isCustodianError, type ErrorCode } from '../domain/errors.js';
import { planColumns, type ColumnPlan, type ImportMap } from '../platforms/tmall/mapping.js';
import {
  DROP_KINDS,
  rejectRow,
  type DropKind,
  type NormalisedRow,
  type OrderRow,
  type RejectedRow,
} from '../platforms/tmall/rows.js';
import { openOrderFile, sha256File } from '../platforms/tmall/source.js';
import type { EncodingChoice } from '../platforms/tmall/encoding.js';
import type { ImportRejectRecord, ImportRunRecord } from '../store/imports.js';
import type { Repositories, Store } from '../store/store.js';
import type { Principal } from './tokens.js';
import type { CollectMeta, CollectPlan, SealedBatch } from './collect-plan.js';
import { ImportThread } from './import-thread.js';
import { isKeyed, orderInputs, toRow } from './order-rows.js';
import type { OrderMeta, RowMeta } from './import-batch.js';
import type { CollectInput, CollectResult, Vault } from './vault.js';

/** The namespace order ids are unique in: Taobao/Tmall trade ids, whether from a file or TOP. */
export const TMALL_SOURCE = 'tmall';
/** `records.source` of what the export importer collects. */
export const EXPORT_RECORD_SOURCE = 'tmall:export';

export const DEFAULT_BATCH = 1000;

/** The principal of `custodian import` run without `CUSTODIAN_TOKEN`: fulfilment staff's role. */
export const IMPORTER: Principal = {
  kind: 'token',
  id: 'cli:import',
  name: 'custodian import',
  role: 'operator',
  trainingCurrent: true,
};

export interface ImporterDeps {
  readonly store: Store;
  readonly vault: Vault;
  readonly datamap: Datamap;
  readonly now: () => Date;
}

export interface ImportCounts {
  /** Data rows read (header excluded). */
  rows: number;
  /** Orders written to the vault. */
  imported: number;
  /** Orders already imported (earlier runs, or twice in this file). */
  duplicates: number;
  rejected: number;
  /** Vault records written (one per collection per row). */
  records: number;
  subjects: {
    /** Subjects created. */
    new: number;
    /** Rows attached to an existing subject by OAID or buyer_open_uid. */
    linked: number;
    /** Rows with neither: each got a subject of its own (never merged on nick or phone, R30). */
    unkeyed: number;
  };
  /** Values left out of imported rows, by kind. */
  dropped: Record<DropKind, number>;
  /** Records whose free text had personal data masked or flagged by the data map's policy. */
  screened: number;
  /** Fields stripped by `minimise: strip` collections. */
  stripped: number;
}

export function emptyCounts(): ImportCounts {
  return {
    rows: 0,
    imported: 0,
    duplicates: 0,
    rejected: 0,
    records: 0,
    subjects: { new: 0, linked: 0, unkeyed: 0 },
    dropped: Object.fromEntries(DROP_KINDS.map((k) => [k, 0])) as Record<DropKind, number>,
    screened: 0,
    stripped: 0,
  };
}

function addCounts(into: ImportCounts, d: ImportCounts): void {
  into.rows += d.rows;
  into.imported += d.imported;
  into.duplicates += d.duplicates;
  into.rejected += d.rejected;
  into.records += d.records;
  into.subjects.new += d.subjects.new;
  into.subjects.linked += d.subjects.linked;
  into.subjects.unkeyed += d.subjects.unkeyed;
  for (const k of DROP_KINDS) into.dropped[k] += d.dropped[k];
  into.screened += d.screened;
  into.stripped += d.stripped;
}

function parseCounts(json: string): ImportCounts {
  const base = emptyCounts();
  addCounts(base, { ...emptyCounts(), ...(JSON.parse(json) as Partial<ImportCounts>) });
  return base;
}

/** Vault refusals that concern one row: the row is rejected with the code, the import goes on. */
const ROW_LEVEL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_COLLECT_UNDECLARED_FIELDS',
  'ERR_COLLECT_FIELDS_NOT_NEEDED',
  'ERR_COLLECT_PII_REJECTED',
  'ERR_VALIDATION_FAILED',
  'ERR_SUBJECT_AMBIGUOUS',
  'ERR_IDENTITY_CONFLICT',
  'ERR_SUBJECT_ERASED',
  'ERR_SUBJECT_NOT_FOUND',
  'ERR_CONSENT_WITHDRAWN',
]);

/** Transient store failures a batch is written again after; the batch rolled back whole. */
const RETRIED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['ERR_STORE_CONFLICT', 'ERR_STORE_BUSY']);
/** Tries of one batch, and the first pause between tries (then doubling; with jitter, up to twice that). */
const WRITE_ATTEMPTS = 4;
const RETRY_PAUSE_MS = 50;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What the importer counts of an order it writes. */
interface OrderFacts {
  readonly orderId: string;
  /** Whether the row carried an OAID or buyer_open_uid. */
  readonly keyed: boolean;
  readonly drops: Readonly<Partial<Record<DropKind, number>>>;
}

/** A batch's rows sorted: orders to write, rejects, and orders already imported. */
interface SortedRows<O> {
  readonly fresh: readonly O[];
  readonly rejects: readonly RejectedRow[];
  readonly duplicates: number;
}

/** Orders not in `existing` (nor earlier in the batch) are fresh; `existing` grows with them. */
function sortRows<O extends { readonly kind: 'order'; readonly orderId: string }>(
  rows: readonly (O | RejectedRow)[],
  existing: Set<string>,
): SortedRows<O> {
  const fresh: O[] = [];
  const rejects: RejectedRow[] = [];
  let duplicates = 0;
  for (const r of rows) {
    if (r.kind === 'reject') rejects.push(r);
    else if (existing.has(r.orderId)) duplicates++;
    else {
      existing.add(r.orderId);
      fresh.push(r);
    }
  }
  return { fresh, rejects, duplicates };
}

/** A prepared batch planned ahead of its unit of work, while its records are sealed. */
export interface StagedBatch {
  readonly seq: number;
  readonly rows: readonly RowMeta[];
  /** Bytes of the file read when the batch was complete (for progress). */
  readonly bytesRead: number;
  readonly sorted: SortedRows<OrderMeta>;
  /** The records to write, fresh orders' only, with their joins. */
  readonly metas: readonly CollectMeta[];
  /** Where each of {@link metas} is among the batch's prepared records. */
  readonly positions: readonly number[];
  readonly orderAt: readonly number[];
  readonly plan: CollectPlan;
  /** The fresh order ids: the next batch counts them as imported. */
  readonly orders: ReadonlySet<string>;
}

export interface WriterOptions {
  readonly source: string;
  readonly recordSource: string;
  readonly plan: Pick<ColumnPlan, 'purpose' | 'orderCollection'>;
  /** The run whose checkpoint and counts move with each batch; undefined for a dry run. */
  readonly run: ImportRunRecord | undefined;
  readonly counts: ImportCounts;
}

/**
 * Writes normalised rows in units of work: the vault's records and audit entries, the imported
 * order ids, the rejects and the run's progress commit together or not at all.
 */
export class ImportWriter {
  readonly #d: ImporterDeps;
  readonly #principal: Principal;
  readonly #o: WriterOptions;
  /** Cumulative counts, as committed. */
  readonly counts: ImportCounts;
  /** Rejects of a dry run (a real run keeps them in the store). */
  readonly dryRejects: ImportRejectRecord[] = [];
  readonly #dryOrders = new Set<string>();
  /** Collections and purposes checked with the vault (staged batches). */
  readonly #checked = new Set<string>();

  constructor(deps: ImporterDeps, principal: Principal, options: WriterOptions) {
    this.#d = deps;
    this.#principal = principal;
    this.#o = options;
    this.counts = options.counts;
  }

  /**
   * Writes one batch, retrying conflicts and a busy store. When the vault refuses a row, the batch
   * is written again in halves, and each half that is refused in halves again, down to the refused
   * rows, which are rejected with the vault's code. One refused row in a batch of n costs about
   * 2·log₂(n) units of work instead of n. The halves commit in order, each with its own checkpoint,
   * so a run killed among them resumes after the last one committed.
   */
  async write(rows: readonly NormalisedRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.#o.run === undefined) return this.#dryRun(rows);
    const run = this.#o.run;
    for (let attempt = 1; ; attempt++) {
      try {
        const delta = await this.#d.store.transaction((tx) => this.#writeIn(tx, run, rows));
        addCounts(this.counts, delta);
        return;
      } catch (error) {
        if (!isCustodianError(error)) throw error;
        // A concurrent writer created the same buyer or imported the same order (the next attempt
        // sees its rows), PostgreSQL broke a deadlock, or another process held SQLite's write lock
        // (`custodian serve` beside this import): the batch rolled back whole, so it is tried
        // again after a short pause, and the import stops with the code only when that keeps up.
        if (RETRIED_CODES.has(error.code) && attempt < WRITE_ATTEMPTS) {
          await pause(RETRY_PAUSE_MS * 2 ** (attempt - 1) * (1 + Math.random()));
          continue;
        }
        if (!ROW_LEVEL_CODES.has(error.code)) throw error;
        if (rows.length > 1) {
          const half = Math.ceil(rows.length / 2);
          await this.write(rows.slice(0, half));
          await this.write(rows.slice(half));
          return;
        }
        const row = rows[0]!;
        if (row.kind !== 'order') throw error;
        return this.write([rejectRow(row.ordinal, row.line, [error.code])]);
      }
    }
  }

  async #writeIn(
    tx: Repositories,
    run: ImportRunRecord,
    rows: readonly NormalisedRow[],
  ): Promise<ImportCounts> {
    const { source, recordSource, plan } = this.#o;
    const orders = rows.filter((r): r is OrderRow => r.kind === 'order');
    const existing = new Set(
      await tx.imports.existingOrders(
        source,
        orders.map((o) => o.orderId),
      ),
    );
    const sorted = sortRows(rows, existing);
    // One call for the batch: each row's order record carries the identities and finds or creates
    // the buyer; the row's other records (the delivery address) join that buyer (`subjectOf`).
    const inputs: CollectInput[] = [];
    const orderAt: number[] = [];
    for (const o of sorted.fresh) {
      orderAt.push(inputs.length);
      inputs.push(...orderInputs(o, plan, recordSource, inputs.length));
    }
    const results = await this.#d.vault.collectManyIn(tx, this.#principal, inputs);
    const facts = sorted.fresh.map((o) => ({
      orderId: o.orderId,
      keyed: isKeyed(o),
      drops: o.drops,
    }));
    return this.#record(tx, run, rows, { ...sorted, fresh: facts }, results, orderAt);
  }

  /**
   * Plans a prepared batch ahead of its unit of work (the threaded import; see
   * {@link importTmallOrders}): which orders are new, and the vault's plan of their records, after
   * the batch `before`, which is planned but not yet committed.
   */
  async stage(
    seq: number,
    rows: readonly RowMeta[],
    bytesRead: number,
    before: StagedBatch | undefined,
  ): Promise<StagedBatch> {
    const orders = rows.filter((r): r is OrderMeta => r.kind === 'order');
    const existing = new Set(
      await this.#d.store.imports.existingOrders(
        this.#o.source,
        orders.map((o) => o.orderId),
      ),
    );
    if (before !== undefined)
      for (const o of orders) if (before.orders.has(o.orderId)) existing.add(o.orderId);
    const sorted = sortRows(rows, existing);
    const fresh = new Set(sorted.fresh);
    const metas: CollectMeta[] = [];
    const positions: number[] = [];
    const orderAt: number[] = [];
    let position = 0;
    for (const o of orders) {
      const at = metas.length;
      if (fresh.has(o)) orderAt.push(at);
      for (const [j, meta] of o.records.entries()) {
        if (fresh.has(o)) {
          positions.push(position);
          const checked = this.#checkMeta(meta);
          metas.push(j === 0 ? checked : { ...checked, subjectOf: at });
        }
        position++;
      }
    }
    const plan = await this.#d.vault.planCollect(this.#d.store, metas, {
      ahead: true,
      carry: before?.plan.carry,
    });
    return {
      seq,
      rows,
      bytesRead,
      sorted,
      metas,
      positions,
      orderAt,
      plan,
      orders: new Set(sorted.fresh.map((o) => o.orderId)),
    };
  }

  /**
   * A record as the import thread prepared it, checked here before the vault plans it: what the
   * vault checks before it prepares a record (the collection, and the purpose for this principal;
   * once per pair), and that the thread keeps to the data map: only declared fields, clear values
   * only of `protection: plain` fields. Whether it holds sensitive personal information is decided
   * here from the data map (the `sensitive_pi` consent check rests on it).
   */
  #checkMeta(meta: CollectMeta): CollectMeta {
    const key = `${meta.collection}|${meta.purpose}`;
    if (!this.#checked.has(key)) {
      this.#d.vault.checkCollect(this.#principal, meta.collection, meta.purpose);
      this.#checked.add(key);
    }
    const fields = this.#d.datamap.collections[meta.collection]!.fields;
    const plain = Object.keys(meta.plain ?? {});
    if (
      meta.fieldNames.some((f) => !Object.hasOwn(fields, f)) ||
      plain.some((f) => !meta.fieldNames.includes(f) || fields[f]!.protection !== 'plain')
    )
      throw new Error('the import thread prepared a record the data map does not allow');
    return { ...meta, sensitive: meta.fieldNames.some((f) => isSensitiveField(fields[f]!)) };
  }

  /**
   * Writes a staged batch with its sealed records in one unit of work, the vault checking its plan
   * again. Any refusal or store failure is thrown: the caller then collects the batch's rows with
   * {@link write}.
   */
  async commitStaged(staged: StagedBatch, sealed: SealedBatch): Promise<void> {
    const run = this.#o.run;
    if (run === undefined) throw new TypeError('a dry run stages nothing');
    const delta = await this.#d.store.transaction(async (tx) => {
      const results = await this.#d.vault.commitCollect(
        tx,
        this.#principal,
        staged.metas,
        staged.plan,
        sealed,
      );
      return this.#record(tx, run, staged.rows, staged.sorted, results, staged.orderAt);
    });
    addCounts(this.counts, delta);
  }

  /** Counts a written batch and writes its bookkeeping: imported order ids, rejects, the run's checkpoint. */
  async #record(
    tx: Repositories,
    run: ImportRunRecord,
    rows: readonly { readonly ordinal: number }[],
    sorted: SortedRows<OrderFacts>,
    results: readonly CollectResult[],
    orderAt: readonly number[],
  ): Promise<ImportCounts> {
    const { source } = this.#o;
    const delta = emptyCounts();
    delta.rows = rows.length;
    delta.duplicates = sorted.duplicates;
    sorted.fresh.forEach((o, i) => {
      if (!o.keyed) delta.subjects.unkeyed++;
      if (results[orderAt[i]!]!.created) delta.subjects.new++;
      else delta.subjects.linked++;
      for (const [kind, n] of Object.entries(o.drops) as [DropKind, number][]) delta.dropped[kind] += n;
    });
    delta.records = results.length;
    delta.screened = results.filter((r) => r.screened.length > 0).length;
    delta.stripped = results.reduce((n, r) => n + r.stripped.length, 0);
    delta.imported = sorted.fresh.length;
    delta.rejected = sorted.rejects.length;
    const at = this.#d.now().toISOString();
    await tx.imports.insertOrders(
      sorted.fresh.map((o) => ({ source, orderId: o.orderId, runId: run.id, importedAt: at })),
    );
    await tx.imports.insertRejects(
      sorted.rejects.map((r) => ({
        runId: run.id,
        ordinal: r.ordinal,
        line: r.line,
        columns: r.columns,
        reasons: r.reasons,
      })),
    );
    const total = structuredClone(this.counts);
    addCounts(total, delta);
    await tx.imports.updateRun(run.id, {
      checkpoint: rows.at(-1)!.ordinal,
      counts: JSON.stringify(total),
      updatedAt: at,
    });
    return delta;
  }

  /** A dry run: the same decisions, nothing written. Duplicates are checked against the store. */
  async #dryRun(rows: readonly NormalisedRow[]): Promise<void> {
    const delta = emptyCounts();
    delta.rows = rows.length;
    const orders = rows.filter((r): r is OrderRow => r.kind === 'order');
    const existing = new Set(
      await this.#d.store.imports.existingOrders(
        this.#o.source,
        orders.map((o) => o.orderId),
      ),
    );
    for (const o of orders) if (this.#dryOrders.has(o.orderId)) existing.add(o.orderId);
    const sorted = sortRows(rows, existing);
    delta.duplicates = sorted.duplicates;
    delta.imported = sorted.fresh.length;
    delta.rejected = sorted.rejects.length;
    for (const o of sorted.fresh) {
      this.#dryOrders.add(o.orderId);
      delta.records += o.records.size;
      for (const [kind, n] of Object.entries(o.drops) as [DropKind, number][]) delta.dropped[kind] += n;
    }
    for (const r of sorted.rejects)
      this.dryRejects.push({
        runId: '',
        ordinal: r.ordinal,
        line: r.line,
        columns: r.columns,
        reasons: r.reasons,
      });
    addCounts(this.counts, delta);
  }
}

export interface ImportProgress {
  /** Data rows read so far (skipped ones of a resume included). */
  readonly rows: number;
  readonly bytesRead: number;
  readonly bytesTotal: number;
}

/** Rows expected in all, estimated from the bytes read so far (for a progress bar's ETA). */
export function estimateTotalRows(p: ImportProgress): number {
  if (p.bytesRead <= 0 || p.bytesRead >= p.bytesTotal) return Math.max(p.rows, 1);
  return Math.max(p.rows, Math.round((p.rows * p.bytesTotal) / p.bytesRead));
}

export interface TmallImportOptions {
  readonly file: string;
  readonly encoding?: EncodingChoice | undefined;
  readonly map?: ImportMap | undefined;
  readonly dryRun?: boolean | undefined;
  /** Rows per unit of work (default 1000). */
  readonly batchSize?: number | undefined;
  /** Where the rejects go (JSON lines); default `<file>.rejects.jsonl`; `null` for none. */
  readonly rejectsFile?: string | null | undefined;
  readonly onProgress?: ((progress: ImportProgress) => void) | undefined;
  /**
   * Read, prepare and seal in a second thread while this one writes (default: when the machine
   * has more than one CPU). Dry runs use one thread.
   */
  readonly threads?: boolean | undefined;
}

export interface RejectLine {
  /** Line of the file (CSV: where the record starts; XLSX: the sheet row). */
  readonly line: number;
  /** Data row number (header excluded), from 1. */
  readonly row: number;
  readonly columns: readonly string[];
  readonly reasons: readonly string[];
}

export interface ImportSummary {
  /** The run (null for a dry run): rerun the same file to resume it if it was interrupted. */
  readonly runId: string | null;
  readonly file: string;
  readonly sha256: string;
  readonly format: 'csv' | 'xlsx';
  readonly encoding: string;
  readonly encodingDetectedBy: string;
  readonly purpose: string;
  readonly dryRun: boolean;
  /** True when this run picked up an interrupted one. */
  readonly resumed: boolean;
  readonly counts: ImportCounts;
  readonly rejectsFile: string | null;
  /** The first rejects (all are in the rejects file). */
  readonly rejects: readonly RejectLine[];
  /** Headers nothing reads: their columns are not imported. */
  readonly ignoredColumns: readonly string[];
  /** Default fields the data map does not declare for the purpose, so not imported. */
  readonly unavailableFields: readonly string[];
  readonly seconds: number;
  /** Rows processed by this invocation per second. */
  readonly rowsPerSecond: number;
}

const SAMPLE_REJECTS = 20;

/** What must be equal for a rerun to resume a run: the map, the encoding asked for, the purpose. */
function settingsOf(options: TmallImportOptions, purpose: string): string {
  return JSON.stringify({ v: 1, encoding: options.encoding ?? 'auto', map: options.map ?? {}, purpose });
}

/** Imports a Tmall order export (CSV or XLSX) into the vault. See the module comment. */
export async function importTmallOrders(
  deps: ImporterDeps,
  principal: Principal,
  options: TmallImportOptions,
): Promise<ImportSummary> {
  const started = performance.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new CustodianError('ERR_USAGE_INVALID', 'the batch size is a positive integer');
  const map: ImportMap = options.map ?? { columns: {}, fields: {} };
  const dryRun = options.dryRun ?? false;
  const file = await openOrderFile(options.file, options.encoding ?? 'auto');
  const sha256 = await sha256File(options.file);

  let plan: ColumnPlan | undefined;
  let header: readonly string[] | undefined;
  let run: ImportRunRecord | undefined;
  let resumed = false;
  let writer: ImportWriter | undefined;
  let ordinal = 0;
  let processedHere = 0;
  let batch: NormalisedRow[] = [];
  /** Bytes the import thread read, when it read the file instead of this one. */
  let threadBytes: number | undefined;
  const progress = (): void =>
    options.onProgress?.({
      rows: ordinal,
      bytesRead: threadBytes ?? file.bytesRead(),
      bytesTotal: file.bytesTotal,
    });

  const sourceRows = file.rows();
  try {
    const first = await sourceRows.next();
    if (!first.done) {
      const source = first.value;
      if (source.cells === undefined)
        throw new CustodianError(
          'ERR_TMALL_IMPORT_INVALID',
          `the header row (line ${source.line}) is not readable CSV`,
        );
      header = source.cells;
      plan = planColumns(header, map, deps.datamap);
      ({ run, resumed } = await startRun(deps, {
        sha256,
        settings: settingsOf(options, plan.purpose),
        format: file.format,
        encoding: file.encoding,
        dryRun,
      }));
      writer = new ImportWriter(deps, principal, {
        source: TMALL_SOURCE,
        recordSource: EXPORT_RECORD_SOURCE,
        plan,
        run,
        counts: run === undefined ? emptyCounts() : parseCounts(run.counts),
      });
      progress();
    }
    const settings =
      run !== undefined && (options.threads ?? availableParallelism() > 1)
        ? deps.vault.threadSettings()
        : undefined;
    if (header !== undefined && plan !== undefined && writer !== undefined && run !== undefined && settings) {
      // A second thread reads, prepares and seals while this one plans and writes (see below).
      await sourceRows.return(undefined);
      const thread = new ImportThread({
        file: options.file,
        encoding: options.encoding ?? 'auto',
        map,
        datamap: deps.datamap,
        indexer: settings.indexer,
        suite: settings.suite,
        recordSource: EXPORT_RECORD_SOURCE,
        batchSize,
        checkpoint: run.checkpoint,
        header,
      });
      try {
        const done = await importThreaded(thread, writer, (rows, bytesRead) =>
          options.onProgress?.({ rows, bytesRead, bytesTotal: file.bytesTotal }),
        );
        ordinal = done.ordinal;
        processedHere = done.processed;
        threadBytes = done.bytesRead;
      } finally {
        await thread.close();
      }
    } else {
      for await (const source of sourceRows) {
        ordinal++;
        if (run !== undefined && ordinal <= run.checkpoint) {
          if (ordinal % 10_000 === 0) progress();
          continue;
        }
        processedHere++;
        batch.push(toRow(plan!, header!.length, ordinal, source, file.format));
        if (batch.length >= batchSize) {
          await writer!.write(batch);
          batch = [];
          progress();
        }
      }
    }
  } finally {
    // Closes the file when the header was refused, or when the thread reads it instead.
    await sourceRows.return(undefined);
  }
  if (header === undefined || plan === undefined || writer === undefined)
    throw new CustodianError('ERR_TMALL_IMPORT_INVALID', 'the export has no header row');
  await writer.write(batch);
  if (run !== undefined) {
    const finishedAt = deps.now().toISOString();
    await deps.store.transaction((tx) =>
      tx.imports.updateRun(run.id, {
        checkpoint: ordinal,
        counts: JSON.stringify(writer.counts),
        updatedAt: finishedAt,
        finishedAt,
      }),
    );
  }
  progress();

  const rejects = run === undefined ? writer.dryRejects : await deps.store.imports.rejects(run.id);
  const lines: RejectLine[] = rejects.map((r) => ({
    line: r.line,
    row: r.ordinal,
    columns: r.columns,
    reasons: r.reasons,
  }));
  const rejectsFile =
    options.rejectsFile === undefined ? `${options.file}.rejects.jsonl` : options.rejectsFile;
  if (rejectsFile !== null)
    await writeRejects(rejectsFile, lines).catch((cause: unknown) => {
      throw new CustodianError(
        'ERR_USAGE_INVALID',
        `${basename(rejectsFile)}: cannot write the rejects file (the import itself is complete); name another with --rejects`,
        { cause },
      );
    });
  const seconds = (performance.now() - started) / 1000;
  return {
    runId: run?.id ?? null,
    file: basename(options.file),
    sha256,
    format: file.format,
    encoding: file.encoding,
    encodingDetectedBy: file.detectedBy,
    purpose: plan.purpose,
    dryRun,
    resumed,
    counts: writer.counts,
    rejectsFile,
    rejects: lines.slice(0, SAMPLE_REJECTS),
    ignoredColumns: plan.ignored,
    unavailableFields: plan.unavailable,
    seconds: Math.round(seconds * 1000) / 1000,
    rowsPerSecond: Math.round(processedHere / Math.max(seconds, 0.001)),
  };
}

/**
 * The import with a second thread (src/services/import-worker.ts), batch by batch:
 *
 * - the worker reads, normalises and prepares batch n + 1 while this thread plans batch n
 *   (existing orders, subjects, keys: `ImportWriter.stage`), after batch n - 1, which is planned
 *   but not yet committed;
 * - the worker then seals batch n while this thread writes batch n - 1 in its unit of work, the
 *   vault checking the plan again (`ImportWriter.commitStaged`).
 *
 * The rows of a batch the worker could not prepare, or that the vault refused when planned or
 * written, are collected again in one unit of work, as without the thread (`ImportWriter.write`:
 * retried, halved down to the refused rows); a batch planned after one written that way is too,
 * as its plan assumed the other's.
 */
async function importThreaded(
  thread: ImportThread,
  writer: ImportWriter,
  progress: (rows: number, bytesRead: number) => void,
): Promise<{ ordinal: number; processed: number; bytesRead: number }> {
  let processed = 0;
  let staged: { batch: StagedBatch; sealed: Promise<SealedBatch> } | undefined;
  const again = async (seq: number, ordinal: number, bytesRead: number): Promise<void> => {
    await writer.write(await thread.rows(seq));
    thread.done(seq);
    progress(ordinal, bytesRead);
  };
  /** Writes the staged batch; false when it had to be collected again. */
  const commit = async (): Promise<boolean> => {
    if (staged === undefined) return true;
    const { batch, sealed } = staged;
    staged = undefined;
    const last = batch.rows.at(-1)!.ordinal;
    try {
      await writer.commitStaged(batch, await sealed);
    } catch (error) {
      if (!isCustodianError(error)) throw error;
      await again(batch.seq, last, batch.bytesRead);
      return false;
    }
    thread.done(batch.seq);
    progress(last, batch.bytesRead);
    return true;
  };
  for (;;) {
    const event = await thread.next();
    if (event.type === 'skipped') {
      progress(event.ordinal, event.bytesRead);
      continue;
    }
    if (event.type === 'end') {
      await commit();
      return { ordinal: event.ordinal, processed, bytesRead: event.bytesRead };
    }
    const rows = event.meta ?? event.rows ?? [];
    processed += rows.length;
    const last = rows.at(-1)?.ordinal ?? 0;
    if (event.meta === undefined) {
      await commit();
      await writer.write(event.rows ?? []);
      thread.done(event.seq);
      progress(last, event.bytesRead);
      continue;
    }
    let next: StagedBatch;
    try {
      next = await writer.stage(event.seq, event.meta, event.bytesRead, staged?.batch);
    } catch (error) {
      if (!isCustodianError(error)) throw error;
      await commit();
      await again(event.seq, last, event.bytesRead);
      continue;
    }
    const sealed = thread.seal(next.seq, next.positions, next.plan);
    // Awaited later; a failed thread fails every pending call, and this one must not go unhandled.
    sealed.catch(() => undefined);
    if (!(await commit())) {
      await sealed;
      await again(next.seq, last, next.bytesRead);
      continue;
    }
    staged = { batch: next, sealed };
  }
}

async function startRun(
  deps: ImporterDeps,
  o: { sha256: string; settings: string; format: string; encoding: string; dryRun: boolean },
): Promise<{ run: ImportRunRecord | undefined; resumed: boolean }> {
  if (o.dryRun) return { run: undefined, resumed: false };
  const unfinished = await deps.store.imports.unfinishedRun(TMALL_SOURCE, o.sha256, o.settings);
  if (unfinished !== undefined) return { run: unfinished, resumed: true };
  const at = deps.now().toISOString();
  const run: ImportRunRecord = {
    id: uuidv7(),
    source: TMALL_SOURCE,
    fileSha256: o.sha256,
    settings: o.settings,
    format: o.format,
    encoding: o.encoding,
    startedAt: at,
    updatedAt: at,
    finishedAt: null,
    checkpoint: 0,
    counts: JSON.stringify(emptyCounts()),
  };
  await deps.store.transaction((tx) => tx.imports.insertRun(run));
  return { run, resumed: false };
}

/** The rejects as JSON lines: line, row, column names and reason codes; never a value. */
async function writeRejects(path: string, rejects: readonly RejectLine[]): Promise<void> {
  const out = createWriteStream(path, { mode: 0o640 });
  for (const r of rejects) if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}
