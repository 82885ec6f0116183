/**
 * Anomaly rules over the audit stream (docs/audit-log.md, "Anomaly detection"). Pure: entries go
 * in one at a time, in `seq` order; hits come out. The state is a sliding window per actor, so
 * memory is bounded by the entries inside the longest window. Hits carry pseudonyms, counts and
 * `seq` ranges only — never personal data (entries hold none).
 */
import type { AuditEntry } from './entry.js';

export type AnomalyRule = 'bulk-read' | 'off-hours' | 'repeated-denied' | 'break-glass' | 'export-spike';
export type AnomalySeverity = 'info' | 'warning' | 'critical';

export interface WorkingHours {
  /** `HH:MM`, local time in `timezone`. */
  readonly start: string;
  /** `HH:MM`, exclusive. */
  readonly end: string;
  /** IANA time zone, e.g. `Asia/Shanghai`. */
  readonly timezone: string;
  /** Working days, 0 = Sunday … 6 = Saturday. */
  readonly days: readonly number[];
}

export interface AnomalyRules {
  readonly bulkRead: { readonly windowMinutes: number; readonly maxSubjects: number };
  readonly offHours: WorkingHours & { readonly enabled: boolean };
  readonly repeatedDenied: { readonly windowMinutes: number; readonly maxAttempts: number };
  readonly breakGlass: { readonly enabled: boolean };
  readonly exportSpike: { readonly windowMinutes: number; readonly maxSubjects: number };
  /** At most this many subject pseudonyms are kept as evidence per hit. */
  readonly maxSubjectRefs: number;
}

export const DEFAULT_ANOMALY_RULES: AnomalyRules = {
  bulkRead: { windowMinutes: 10, maxSubjects: 200 },
  offHours: {
    enabled: true,
    start: '08:00',
    end: '20:00',
    timezone: 'Asia/Shanghai',
    days: [1, 2, 3, 4, 5, 6],
  },
  repeatedDenied: { windowMinutes: 10, maxAttempts: 20 },
  breakGlass: { enabled: true },
  exportSpike: { windowMinutes: 60, maxSubjects: 1000 },
  maxSubjectRefs: 50,
};

export interface AnomalyHit {
  readonly rule: AnomalyRule;
  readonly severity: AnomalySeverity;
  readonly actor: string;
  readonly role: string;
  /** The window the count covers (ISO-8601); for single events both ends are the event's time. */
  readonly window: { readonly start: string; readonly end: string };
  /** How long a later hit of the same rule and actor still belongs to the same incident. */
  readonly windowMinutes: number;
  readonly count: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Subject pseudonyms (hex keyed hashes), at most `maxSubjectRefs`. */
  readonly subjectRefs: readonly string[];
  /**
   * repeated-denied: how many of the attempts in the window withheld fields for each reason
   * (`no-consent`, `training-expired` …); an attempt with several reasons counts for each.
   */
  readonly reasons?: Readonly<Record<string, number>>;
}

/** Actions that disclose a subject's data to the actor. */
const ACCESS_ACTIONS = new Set<string>(['read', 'search', 'export']);
/** Actions the off-hours rule watches. */
const OFF_HOURS_ACTIONS = new Set<string>(['read', 'search', 'export', 'export.request', 'export.download']);
const EXPORT_ACTIONS = new Set<string>(['export.request', 'export.download']);

interface Event {
  readonly seq: number;
  readonly ms: number;
  readonly subject: string | null;
  readonly weight: number;
  readonly reasons?: readonly string[];
}

/** Events of one actor inside a window, oldest first, with distinct subjects counted. */
class Window {
  readonly events: Event[] = [];
  readonly subjects = new Map<string, number>();
  /** Withhold reasons of the events inside the window, counted. */
  readonly reasons = new Map<string, number>();
  total = 0;
  #head = 0;
  constructor(readonly ms: number) {}

  add(event: Event): void {
    this.events.push(event);
    this.total += event.weight;
    if (event.subject !== null) this.subjects.set(event.subject, (this.subjects.get(event.subject) ?? 0) + 1);
    for (const reason of event.reasons ?? []) this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    while (this.#head < this.events.length && this.events[this.#head]!.ms <= event.ms - this.ms) {
      const old = this.events[this.#head++]!;
      this.total -= old.weight;
      if (old.subject !== null) {
        const n = (this.subjects.get(old.subject) ?? 1) - 1;
        if (n <= 0) this.subjects.delete(old.subject);
        else this.subjects.set(old.subject, n);
      }
      for (const reason of old.reasons ?? []) {
        const n = (this.reasons.get(reason) ?? 1) - 1;
        if (n <= 0) this.reasons.delete(reason);
        else this.reasons.set(reason, n);
      }
    }
    if (this.#head > 1024 && this.#head * 2 > this.events.length) {
      this.events.splice(0, this.#head);
      this.#head = 0;
    }
  }

  get first(): Event {
    return this.events[this.#head]!;
  }

  get empty(): boolean {
    return this.#head >= this.events.length;
  }
}

/** `HH:MM` as minutes after midnight. */
export function clockMinutes(hhmm: string): number {
  const match = /^([01]\d|2[0-4]):([0-5]\d)$/u.exec(hhmm);
  if (match === null) throw new RangeError(`not a time of day: ${hhmm}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

const WEEKDAYS: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Whether `at` falls inside the working hours (local time in their zone). */
export function withinWorkingHours(at: Date, hours: WorkingHours, format?: Intl.DateTimeFormat): boolean {
  const parts = (
    format ??
    new Intl.DateTimeFormat('en-US', {
      timeZone: hours.timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
  ).formatToParts(at);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAYS[part('weekday')];
  if (day === undefined || !hours.days.includes(day)) return false;
  const minutes = Number(part('hour')) * 60 + Number(part('minute'));
  return minutes >= clockMinutes(hours.start) && minutes < clockMinutes(hours.end);
}

/** Sliding-window anomaly rules; feed entries in `seq` order with {@link observe}. */
export class AnomalyRuleSet {
  readonly #rules: AnomalyRules;
  readonly #bulk = new Map<string, Window>();
  readonly #denied = new Map<string, Window>();
  readonly #exports = new Map<string, Window>();
  /** Actor → the UTC hour (ms) of its last off-hours hit. */
  readonly #offHours = new Map<string, number>();
  readonly #format: Intl.DateTimeFormat;

  constructor(rules: AnomalyRules = DEFAULT_ANOMALY_RULES) {
    this.#rules = rules;
    clockMinutes(rules.offHours.start);
    clockMinutes(rules.offHours.end);
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone: rules.offHours.timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }

  /** The hits `entry` (at position `seq`) causes, given everything observed before it. */
  observe(seq: number, entry: AuditEntry): AnomalyHit[] {
    const hits: AnomalyHit[] = [];
    const ms = Date.parse(entry.at);
    if (!Number.isFinite(ms)) return hits;
    const { id: actor, role } = entry.actor;
    const r = this.#rules;
    const single = (rule: AnomalyRule, severity: AnomalySeverity, windowMinutes: number): AnomalyHit => ({
      rule,
      severity,
      actor,
      role,
      window: { start: entry.at, end: entry.at },
      windowMinutes,
      count: 1,
      firstSeq: seq,
      lastSeq: seq,
      subjectRefs: entry.subject === null ? [] : [entry.subject],
    });

    if (ACCESS_ACTIONS.has(entry.action) && entry.subject !== null) {
      const w = this.#window(this.#bulk, actor, r.bulkRead.windowMinutes);
      w.add({ seq, ms, subject: entry.subject, weight: 1 });
      if (w.subjects.size > r.bulkRead.maxSubjects)
        hits.push(this.#windowHit('bulk-read', 'critical', actor, role, w, seq, entry.at, w.subjects.size));

      const d = entry.decision;
      if (d !== undefined && d.withheld.length > 0 && d.clear.length === 0 && d.masked.length === 0) {
        const dw = this.#window(this.#denied, actor, r.repeatedDenied.windowMinutes);
        // Entries written before the reasons were recorded count as `unrecorded`.
        const reasons = d.withheldReasons?.length ? d.withheldReasons : ['unrecorded'];
        dw.add({ seq, ms, subject: entry.subject, weight: 1, reasons });
        if (dw.total >= r.repeatedDenied.maxAttempts)
          hits.push(this.#windowHit('repeated-denied', 'warning', actor, role, dw, seq, entry.at, dw.total));
      }
    }

    if (EXPORT_ACTIONS.has(entry.action)) {
      const n = entry.detail?.['subjects'];
      const weight = typeof n === 'number' && n > 0 ? n : 1;
      const ew = this.#window(this.#exports, actor, r.exportSpike.windowMinutes);
      ew.add({ seq, ms, subject: null, weight });
      if (ew.total > r.exportSpike.maxSubjects)
        hits.push(this.#windowHit('export-spike', 'critical', actor, role, ew, seq, entry.at, ew.total));
    }

    if (r.offHours.enabled && OFF_HOURS_ACTIONS.has(entry.action)) {
      const at = new Date(ms);
      if (!withinWorkingHours(at, r.offHours, this.#format)) {
        const hour = Math.floor(ms / 3_600_000) * 3_600_000;
        if (this.#offHours.get(actor) !== hour) {
          this.#offHours.set(actor, hour);
          hits.push(single('off-hours', 'warning', 60));
        }
      }
    }

    if (r.breakGlass.enabled && entry.action === 'break-glass.grant')
      hits.push(single('break-glass', 'critical', 0));
    return hits;
  }

  #window(map: Map<string, Window>, actor: string, minutes: number): Window {
    let w = map.get(actor);
    if (w === undefined) {
      w = new Window(minutes * 60_000);
      map.set(actor, w);
    }
    return w;
  }

  #windowHit(
    rule: AnomalyRule,
    severity: AnomalySeverity,
    actor: string,
    role: string,
    w: Window,
    seq: number,
    at: string,
    count: number,
  ): AnomalyHit {
    const first = w.empty ? { seq, ms: Date.parse(at) } : w.first;
    const refs: string[] = [];
    for (const subject of w.subjects.keys()) {
      if (refs.length >= this.#rules.maxSubjectRefs) break;
      refs.push(subject);
    }
    return {
      rule,
      severity,
      actor,
      role,
      window: { start: new Date(first.ms).toISOString(), end: at },
      windowMinutes: w.ms / 60_000,
      count,
      firstSeq: first.seq,
      lastSeq: seq,
      subjectRefs: refs,
      ...(w.reasons.size > 0
        ? { reasons: Object.fromEntries([...w.reasons].sort(([a], [b]) => (a < b ? -1 : 1))) }
        : {}),
    };
  }
}
