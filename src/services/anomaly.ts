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
  /** Incidents this scan opened (and alerted). */
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
 * compare-and-set, so each entry's hits are recorded by one of them.
 */
export class AnomalyDetector {
  readonly #o: AnomalyDetectorOptions;
  readonly #rules: AnomalyRuleSet;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** The last `seq` the rules have seen. */
  #observed = 0;
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
      this.scan().then(
        () => (this.lastError = undefined),
        (error: unknown) => (this.lastError = error),
      );
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
        const from = cursor;
        const moved = await store.transaction((tx) => tx.incidents.advanceCursor(from, prunedSize));
        cursor = moved ? prunedSize : await store.incidents.cursor();
        continue;
      }
      const hits: AnomalyHit[] = [];
      for (const row of rows) {
        // A failed unit of work reads these rows again; the windows have seen them already.
        if (row.seq <= this.#observed) continue;
        this.#observed = row.seq;
        const entry = JSON.parse(row.canonical.toString('utf8')) as AuditEntry;
        hits.push(...this.#rules.observe(row.seq, entry));
      }
      const next = rows.at(-1)!.seq;
      const from = cursor;
      const batch = await store.transaction(async (tx) => {
        // Another detector on this database got there first: it records these hits, not us.
        if (!(await tx.incidents.advanceCursor(from, next))) return undefined;
        return hits.length === 0 ? [] : await this.#o.incidents.record(tx, hits);
      });
      if (batch === undefined) {
        cursor = await store.incidents.cursor();
        continue;
      }
      entries += rows.length;
      hitCount += hits.length;
      cursor = next;
      if (batch.length > 0) {
        await this.#o.incidents.alert(batch);
        opened.push(...batch);
      }
    }
    return { entries, hits: hitCount, opened, cursor };
  }
}
