import type { AnomalyConfig } from '../config/schema.js';
import { AnomalyRuleSet, type AnomalyHit, type AnomalyRules } from '../domain/audit/anomaly.js';
import type { AuditEntry } from '../domain/audit/entry.js';
import type { IncidentRecord } from '../store/incidents.js';
import type { Store } from '../store/store.js';
import type { IncidentService } from './incidents.js';

/** Entries read per round trip while catching up. */
const PAGE = 2000;

export interface AnomalyDetectorOptions {
  readonly store: Store;
  readonly incidents: IncidentService;
  readonly config: AnomalyConfig;
}

export interface ScanResult {
  /** Entries consumed by this scan. */
  readonly entries: number;
  readonly hits: number;
  /** Incidents this scan opened (and tried to alert: see `IncidentRecord.alerted`). */
  readonly opened: readonly IncidentRecord[];
  /** The last `seq` consumed. */
  readonly cursor: number;
}

export function anomalyRules(config: AnomalyConfig): AnomalyRules {
  return {
    bulkRead: config.bulkRead,
    offHours: config.workingHours,
    repeatedDenied: config.repeatedDenied,
    breakGlass: config.breakGlass,
    exportSpike: config.exportSpike,
    maxSubjectRefs: config.maxSubjectRefs,
  };
}

/**
 * Tails the audit log by `seq`: every `pollSeconds` (and on demand with {@link scan}) it reads the
 * entries committed since its cursor, runs the anomaly rules, records hits as pending incidents
 * and moves the cursor in one unit of work, then alerts the incidents it opened. The cursor is
 * stored, so a restart neither re-alerts nor skips entries (the rules' sliding windows start
 * empty again after a restart). Where several processes share a database, the cursor moves by
 * compare-and-set, so each entry's hits are recorded by one of them. Hits whose unit of work
 * fails stay pending and are recorded by the next one; incidents whose alert did not reach every
 * channel are alerted again at the start of each scan.
 */
export class AnomalyDetector {
  readonly #o: AnomalyDetectorOptions;
  readonly #rules: AnomalyRuleSet;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** A background scan is queued or running: the timer adds no other behind it. */
  #busy = false;
  /** The last `seq` the rules have seen. */
  #observed = 0;
  /**
   * Hits the rules produced that no unit of work has recorded yet, by the `seq` of the entry that
   * produced them (ascending). The rules see each entry once, so hits whose unit of work failed
   * wait here for the next one that moves the cursor over their entry.
   */
  #pending: { readonly seq: number; readonly hits: readonly AnomalyHit[] }[] = [];
  /** The failure of the last background scan, if it failed. */
  lastError: unknown;

  constructor(options: AnomalyDetectorOptions) {
    this.#o = options;
    this.#rules = new AnomalyRuleSet(anomalyRules(options.config));
  }

  /** Consumes every entry committed so far; scans never overlap. */
  scan(): Promise<ScanResult> {
    const run = this.#queue.then(() => this.#scan());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Starts polling (never keeps the process alive); a no-op when disabled. */
  start(): void {
    if (!this.#o.config.enabled || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      // A scan slowed down (alert retries, a slow channel) is not joined by a growing queue.
      if (this.#busy) return;
      this.#busy = true;
      this.scan()
        .then(
          () => (this.lastError = undefined),
          (error: unknown) => (this.lastError = error),
        )
        .finally(() => (this.#busy = false));
    }, this.#o.config.pollSeconds * 1000);
    this.#timer.unref();
  }

  /** Stops polling and waits for a scan in flight. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#queue;
  }

  async #scan(): Promise<ScanResult> {
    const { store } = this.#o;
    // Incidents recorded earlier whose alert did not reach every channel (a channel was down, or
    // the process stopped between the commit and the alert) go out again first, oldest first.
    await this.#o.incidents.alertPending();
    let cursor = await store.incidents.cursor();
    const { size } = await store.audit.head();
    let entries = 0;
    let hitCount = 0;
    const opened: IncidentRecord[] = [];
    while (cursor < size) {
      const to = Math.min(size, cursor + PAGE);
      const rows = await store.audit.range(cursor + 1, to + 1);
      if (rows.length === 0) {
        // Entries pruned (retention) before the detector read them are gone: go on from where
        // the kept log starts, or the detector would stop here for good.
        const { prunedSize } = await store.audit.retention();
        if (cursor >= prunedSize) break;
        const moved = await this.#commit(cursor, prunedSize);
        if (moved === undefined) {
          cursor = await this.#lostCursor();
          continue;
        }
        hitCount += moved.hits;
        cursor = prunedSize;
        await this.#alert(moved.opened, opened);
        continue;
      }
      for (const row of rows) {
        // A failed unit of work reads these rows again; the windows have seen them already, and
        // their hits are still pending.
        if (row.seq <= this.#observed) continue;
        this.#observed = row.seq;
        const entry = JSON.parse(row.canonical.toString('utf8')) as AuditEntry;
        const hits = this.#rules.observe(row.seq, entry);
        if (hits.length > 0) this.#pending.push({ seq: row.seq, hits });
      }
      const next = rows.at(-1)!.seq;
      const batch = await this.#commit(cursor, next);
      if (batch === undefined) {
        cursor = await this.#lostCursor();
        continue;
      }
      entries += rows.length;
      hitCount += batch.hits;
      cursor = next;
      await this.#alert(batch.opened, opened);
    }
    return { entries, hits: hitCount, opened, cursor };
  }

  /**
   * Moves the cursor from `from` to `to` and records the pending hits of the entries in between,
   * in one unit of work. Those hits leave the pending list only once it has committed; undefined
   * when another detector moved the cursor first.
   */
  async #commit(from: number, to: number): Promise<{ hits: number; opened: IncidentRecord[] } | undefined> {
    // Hits of entries at or below `from` were recorded by whoever moved the cursor past them.
    this.#drop(from);
    const hits = this.#pending.filter((p) => p.seq <= to).flatMap((p) => p.hits);
    const opened = await this.#o.store.transaction(async (tx) => {
      if (!(await tx.incidents.advanceCursor(from, to))) return undefined;
      return hits.length === 0 ? [] : await this.#o.incidents.record(tx, hits);
    });
    if (opened === undefined) return undefined;
    this.#drop(to);
    return { hits: hits.length, opened };
  }

  /**
   * Another detector on this database moved the cursor first: it records the hits of the entries
   * it moved over, not us; ours for later entries stay pending.
   */
  async #lostCursor(): Promise<number> {
    const cursor = await this.#o.store.incidents.cursor();
    this.#drop(cursor);
    return cursor;
  }

  /** Forgets the pending hits of entries at or below `seq`. */
  #drop(seq: number): void {
    this.#pending = this.#pending.filter((p) => p.seq > seq);
  }

  async #alert(batch: readonly IncidentRecord[], opened: IncidentRecord[]): Promise<void> {
    if (batch.length === 0) return;
    opened.push(...batch);
    await this.#o.incidents.alert(batch);
  }
}
