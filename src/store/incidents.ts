/**
 * Storage port for incidents opened by the anomaly detector (docs/audit-log.md). A row holds no
 * personal data: the actor is a principal id, the evidence names subjects by keyed pseudonym only.
 */

export type IncidentStatus = 'pending';

export interface IncidentEvidence {
  /** The window the count covers (ISO-8601). */
  readonly window: { readonly start: string; readonly end: string };
  readonly windowMinutes: number;
  readonly count: number;
  /** The audit log range (`seq`, inclusive) the evidence rests on. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Subject pseudonyms, capped. */
  readonly subjectRefs: readonly string[];
  /** repeated-denied: attempts per withhold reason (`no-consent`, `training-expired` …). */
  readonly reasons?: Readonly<Record<string, number>>;
  /** How many hits were folded into this incident. */
  readonly hits: number;
}

export interface IncidentRecord {
  /** UUIDv7. */
  readonly id: string;
  readonly status: IncidentStatus;
  readonly rule: string;
  readonly severity: string;
  readonly detectedAt: string;
  readonly updatedAt: string;
  readonly actor: string;
  readonly role: string;
  readonly evidence: IncidentEvidence;
  readonly alerted: boolean;
}

export interface IncidentRepository {
  insert(incident: IncidentRecord): Promise<void>;
  /** Replaces the evidence, severity and alert flag of an incident; false when it does not exist. */
  update(
    id: string,
    change: Pick<IncidentRecord, 'evidence' | 'severity' | 'updatedAt' | 'alerted'>,
  ): Promise<boolean>;
  /** The newest pending incident of `rule` and `actor` whose evidence ends at or after `since`. */
  openFor(rule: string, actor: string, since: string): Promise<IncidentRecord | undefined>;
  /** Marks an incident alerted, changing nothing else; false when it does not exist. */
  markAlerted(id: string): Promise<boolean>;
  /** Incidents not marked alerted, oldest (detection time, then id) first, at most `limit`. */
  unalerted(limit: number): Promise<IncidentRecord[]>;
  get(id: string): Promise<IncidentRecord | undefined>;
  /** Newest first. */
  list(options?: { readonly status?: IncidentStatus; readonly limit?: number }): Promise<IncidentRecord[]>;
  /** The last audit `seq` the detector has consumed (0 when none). */
  cursor(): Promise<number>;
  setCursor(seq: number): Promise<void>;
  /**
   * Moves the cursor from `from` to `to` if it is still at `from`; false, changing nothing, when
   * another detector moved it first.
   */
  advanceCursor(from: number, to: number): Promise<boolean>;
}
