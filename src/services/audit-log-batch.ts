import type { AuditEntry } from '../domain/audit/entry.js';
import { CustodianError, isCustodianError } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import { appendAudit, type AppendedEntry } from './audit.js';

interface Waiting {
  readonly entries: readonly AuditEntry[];
  resolve(rows: AppendedEntry[]): void;
  reject(error: unknown): void;
}

/** Entries per shared transaction at most; the rest wait for the next one. */
const MAX_BATCH = 2000;

/**
 * Group commit for the audit entries of reads and searches. A read changes nothing, so its entry
 * need not share the read's transaction; it must only be committed before the read returns any
 * data. Concurrent reads hand their entries here: one transaction appends all that are waiting
 * when it starts, and each read's promise settles when that transaction has committed — or
 * rejects with `ERR_AUDIT_WRITE_FAILED` when it failed, so none of those reads returns data
 * (fail closed). A read that finds nothing in flight commits its entry alone, at once.
 */
export class AuditGroupCommit {
  readonly #store: Store;
  #waiting: Waiting[] = [];
  #draining = false;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Resolves with the appended rows once they are committed. */
  append(entries: readonly AuditEntry[]): Promise<AppendedEntry[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ entries, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#waiting.length > 0) {
        let batch: Waiting[] = [];
        try {
          const rows = await this.#store.transaction((tx) => {
            // Taken when the transaction has begun: whatever arrived while it waited joins it.
            batch = this.#take();
            return appendAudit(
              tx,
              batch.flatMap((w) => w.entries),
            );
          });
          let at = 0;
          for (const waiting of batch) {
            waiting.resolve(rows.slice(at, at + waiting.entries.length));
            at += waiting.entries.length;
          }
        } catch (cause) {
          const error = isCustodianError(cause)
            ? cause
            : new CustodianError('ERR_AUDIT_WRITE_FAILED', 'the audit entry could not be written', { cause });
          // If the transaction never began, fail the waiting reads rather than retry forever.
          for (const waiting of batch.length > 0 ? batch : this.#take()) waiting.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #take(): Waiting[] {
    let count = 0;
    let n = 0;
    while (n < this.#waiting.length && (n === 0 || count + this.#waiting[n]!.entries.length <= MAX_BATCH)) {
      count += this.#waiting[n]!.entries.length;
      n++;
    }
    return this.#waiting.splice(0, n);
  }
}
