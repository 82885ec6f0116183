/**
 * Storage port for bulk imports: runs with their checkpoint, the orders already imported (the
 * idempotency key) and rejected rows. Nothing here is personal data (see migration 0007).
 */

/** One import of one file (or one TOP sync window) with the settings it ran with. */
export interface ImportRunRecord {
  readonly id: string;
  /** The idempotency namespace, e.g. `tmall`: order ids are unique within it. */
  readonly source: string;
  /** Hex SHA-256 of the imported file's bytes. */
  readonly fileSha256: string;
  /** Canonical JSON of what changes the outcome (map, encoding, purpose); a resume needs the same. */
  readonly settings: string;
  readonly format: string;
  readonly encoding: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt: string | null;
  /** Source records (data rows) fully processed, in file order: a resume skips these. */
  readonly checkpoint: number;
  /** Canonical JSON of the run's cumulative counters. */
  readonly counts: string;
}

export interface ImportRunProgress {
  readonly checkpoint: number;
  readonly counts: string;
  readonly updatedAt: string;
  readonly finishedAt?: string | undefined;
}

export interface ImportedOrderRecord {
  readonly source: string;
  readonly orderId: string;
  readonly runId: string;
  readonly importedAt: string;
}

/** A row the import refused: where it is and why, never what it holds. */
export interface ImportRejectRecord {
  readonly runId: string;
  /** Position among the file's data rows, from 1. */
  readonly ordinal: number;
  /** Line of the file (CSV: where the record starts; XLSX: the sheet row). */
  readonly line: number;
  /** Header names of the offending columns (may be empty for a row-level problem). */
  readonly columns: readonly string[];
  /** Stable reason codes, e.g. `date-invalid`, `column-count`. */
  readonly reasons: readonly string[];
}

export interface ImportRepository {
  insertRun(run: ImportRunRecord): Promise<void>;
  getRun(id: string): Promise<ImportRunRecord | undefined>;
  /** The newest unfinished run of this file with these settings: what a rerun resumes. */
  unfinishedRun(source: string, fileSha256: string, settings: string): Promise<ImportRunRecord | undefined>;
  /** Moves the checkpoint and counters (in the unit of work that wrote the rows they cover). */
  updateRun(id: string, progress: ImportRunProgress): Promise<void>;
  /** The order ids among `orderIds` imported already under `source`. */
  existingOrders(source: string, orderIds: readonly string[]): Promise<string[]>;
  insertOrders(rows: readonly ImportedOrderRecord[]): Promise<void>;
  countOrders(source: string): Promise<number>;
  insertRejects(rows: readonly ImportRejectRecord[]): Promise<void>;
  /** A run's rejects in file order. */
  rejects(runId: string): Promise<ImportRejectRecord[]>;
}
