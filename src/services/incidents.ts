import type { AnomalyHit } from '../domain/audit/anomaly.js';
import { uuidv7 } from '../crypto/uuid.js';
import type { IncidentEvidence, IncidentRecord, IncidentStatus } from '../store/incidents.js';
import type { Repositories, Store } from '../store/store.js';
import type { Alert, Notifier } from './notify.js';

export interface IncidentServiceOptions {
  readonly store: Store;
  readonly notifier: Notifier;
  readonly now: () => Date;
  /** Subject pseudonyms kept per incident. */
  readonly maxSubjectRefs: number;
}

const SEVERITY_RANK: Readonly<Record<string, number>> = { info: 0, warning: 1, critical: 2 };

/**
 * Pending incidents opened by anomaly hits. A hit of the same rule and actor within the rule's
 * window folds into the open incident (wider `seq` range, higher count) instead of opening a
 * new one. Each incident alerts until every configured channel has taken it (at least once: a
 * retry reaches the channels that took it before again). Each keeps what a reviewer needs: the
 * rule, the actor and role, and PI-free evidence pointing into the audit log.
 */
export class IncidentService {
  readonly #o: IncidentServiceOptions;
  constructor(options: IncidentServiceOptions) {
    this.#o = options;
  }

  list(
    options: { readonly status?: IncidentStatus; readonly limit?: number } = {},
  ): Promise<IncidentRecord[]> {
    return this.#o.store.incidents.list(options);
  }

  get(id: string): Promise<IncidentRecord | undefined> {
    return this.#o.store.incidents.get(id);
  }

  /**
   * Records hits inside the caller's unit of work; returns the incidents it opened (to alert
   * once the unit commits, see {@link alert}).
   */
  async record(tx: Repositories, hits: readonly AnomalyHit[]): Promise<IncidentRecord[]> {
    const at = this.#o.now().toISOString();
    const opened: IncidentRecord[] = [];
    for (const hit of mergeHits(hits, this.#o.maxSubjectRefs)) {
      const existing =
        hit.windowMinutes > 0
          ? await tx.incidents.openFor(
              hit.rule,
              hit.actor,
              new Date(Date.parse(hit.window.start) - hit.windowMinutes * 60_000).toISOString(),
            )
          : undefined;
      if (existing === undefined) {
        const incident: IncidentRecord = {
          id: uuidv7(),
          status: 'pending',
          rule: hit.rule,
          severity: hit.severity,
          detectedAt: at,
          updatedAt: at,
          actor: hit.actor,
          role: hit.role,
          evidence: evidenceOf(hit),
          alerted: false,
        };
        await tx.incidents.insert(incident);
        opened.push(incident);
        continue;
      }
      await tx.incidents.update(existing.id, {
        evidence: mergeEvidence(existing.evidence, evidenceOf(hit), this.#o.maxSubjectRefs),
        severity:
          (SEVERITY_RANK[hit.severity] ?? 0) > (SEVERITY_RANK[existing.severity] ?? 0)
            ? hit.severity
            : existing.severity,
        updatedAt: at,
        alerted: existing.alerted,
      });
    }
    return opened;
  }

  /**
   * Alerts each incident through the notifier and marks it alerted once every configured channel
   * took it; one that a channel refused stays unalerted, for {@link alertPending}. With
   * `stopOnFailure`, stops at the first incident that is not delivered (the rest would wait on the
   * same channel).
   */
  async alert(
    incidents: readonly IncidentRecord[],
    options: { readonly stopOnFailure?: boolean } = {},
  ): Promise<void> {
    for (const incident of incidents) {
      const failed = await this.#o.notifier.notify(alertOf(incident));
      if (failed.length === 0) await this.#o.store.incidents.markAlerted(incident.id);
      else if (options.stopOnFailure === true) return;
    }
  }

  /**
   * Alerts again the incidents that are not marked alerted — a channel failed, or the process
   * stopped between recording and alerting — oldest first, at most `limit`, stopping at the first
   * that fails again.
   */
  async alertPending(limit = RESEND_LIMIT): Promise<void> {
    const pending = await this.#o.store.incidents.unalerted(limit);
    if (pending.length > 0) await this.alert(pending, { stopOnFailure: true });
  }
}

/** Unalerted incidents one scan alerts again. */
const RESEND_LIMIT = 100;

function alertOf(incident: IncidentRecord): Alert {
  const e = incident.evidence;
  return {
    kind: `anomaly.${incident.rule}`,
    severity: incident.severity === 'critical' ? 'critical' : 'warning',
    summary: `Anomaly ${incident.rule}: ${incident.actor} (${incident.role}), ${e.count} in ${e.window.start} – ${e.window.end}`,
    at: incident.detectedAt,
    details: {
      incident: incident.id,
      rule: incident.rule,
      actor: incident.actor,
      role: incident.role,
      count: e.count,
      firstSeq: e.firstSeq,
      lastSeq: e.lastSeq,
      windowStart: e.window.start,
      windowEnd: e.window.end,
      ...(e.reasons === undefined
        ? {}
        : {
            reasons: Object.entries(e.reasons)
              .map(([reason, n]) => `${reason}:${n}`)
              .join(','),
          }),
    },
  };
}

function evidenceOf(hit: AnomalyHit): IncidentEvidence {
  return {
    window: hit.window,
    windowMinutes: hit.windowMinutes,
    count: hit.count,
    firstSeq: hit.firstSeq,
    lastSeq: hit.lastSeq,
    subjectRefs: hit.subjectRefs,
    ...(hit.reasons === undefined ? {} : { reasons: hit.reasons }),
    hits: 1,
  };
}

/** Reason counts of two overlapping windows: the larger count of each (like `count`). */
function mergeReasons(
  a: Readonly<Record<string, number>> | undefined,
  b: Readonly<Record<string, number>> | undefined,
): { reasons?: Readonly<Record<string, number>> } {
  if (a === undefined && b === undefined) return {};
  const merged: Record<string, number> = { ...a };
  for (const [reason, n] of Object.entries(b ?? {})) merged[reason] = Math.max(merged[reason] ?? 0, n);
  return { reasons: Object.fromEntries(Object.entries(merged).sort(([x], [y]) => (x < y ? -1 : 1))) };
}

function mergeEvidence(a: IncidentEvidence, b: IncidentEvidence, maxRefs: number): IncidentEvidence {
  const refs = [...new Set([...a.subjectRefs, ...b.subjectRefs])].slice(0, maxRefs);
  return {
    window: {
      start: a.window.start < b.window.start ? a.window.start : b.window.start,
      end: a.window.end > b.window.end ? a.window.end : b.window.end,
    },
    windowMinutes: Math.max(a.windowMinutes, b.windowMinutes),
    count: Math.max(a.count, b.count),
    firstSeq: Math.min(a.firstSeq, b.firstSeq),
    lastSeq: Math.max(a.lastSeq, b.lastSeq),
    subjectRefs: refs,
    ...mergeReasons(a.reasons, b.reasons),
    hits: a.hits + b.hits,
  };
}

/** Folds hits of one rule and actor whose windows lie within the rule's window of each other. */
function mergeHits(hits: readonly AnomalyHit[], maxRefs: number): AnomalyHit[] {
  const out: AnomalyHit[] = [];
  const last = new Map<string, number>();
  for (const hit of hits) {
    const key = `${hit.rule}\u0000${hit.actor}`;
    const index = hit.windowMinutes > 0 ? last.get(key) : undefined;
    const prev = index === undefined ? undefined : out[index];
    if (
      index !== undefined &&
      prev !== undefined &&
      Date.parse(hit.window.start) - Date.parse(prev.window.end) <= hit.windowMinutes * 60_000
    ) {
      out[index] = {
        ...prev,
        severity:
          (SEVERITY_RANK[hit.severity] ?? 0) > (SEVERITY_RANK[prev.severity] ?? 0)
            ? hit.severity
            : prev.severity,
        window: {
          start: prev.window.start < hit.window.start ? prev.window.start : hit.window.start,
          end: prev.window.end > hit.window.end ? prev.window.end : hit.window.end,
        },
        count: Math.max(prev.count, hit.count),
        firstSeq: Math.min(prev.firstSeq, hit.firstSeq),
        lastSeq: Math.max(prev.lastSeq, hit.lastSeq),
        subjectRefs: [...new Set([...prev.subjectRefs, ...hit.subjectRefs])].slice(0, maxRefs),
        ...mergeReasons(prev.reasons, hit.reasons),
      };
      continue;
    }
    last.set(key, out.length);
    out.push(hit);
  }
  return out;
}
