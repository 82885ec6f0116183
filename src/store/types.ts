/**
 * Row types of the tables, as Kysely sees them. Timestamps are ISO-8601 UTC text
 * (`Date#toISOString()`), which sorts correctly and means the same on every engine.
 * Byte columns come back as `Buffer` from both drivers.
 */
import type { Generated } from 'kysely';

export interface ApiTokenTable {
  id: string;
  name: string;
  role: string;
  /** SHA-256 of the token; the token itself is never stored. */
  token_hash: Buffer;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface Database extends AccessTables {
  api_tokens: ApiTokenTable;
  subjects: SubjectTable;
  subject_keys: SubjectKeyTable;
  identities: IdentityTable;
  records: RecordTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  audit_nodes: AuditNodeTable;
  audit_checkpoints: AuditCheckpointTable;
  audit_retention: AuditRetentionTable;
  key_rotations: KeyRotationTable;
  index_roots: IndexRootTable;
  import_runs: ImportRunTable;
  import_orders: ImportOrderTable;
  import_rejects: ImportRejectTable;
  consent_events: ConsentEventTable;
  incidents: IncidentTable;
  anomaly_cursor: AnomalyCursorTable;
  privacy_notices: PrivacyNoticeTable;
  privacy_codes: PrivacyCodeTable;
  privacy_sessions: PrivacySessionTable;
  privacy_requests: PrivacyRequestTable;
}

/** Marks a column the database fills in. Re-exported so tables can use it without importing kysely. */
export type { Generated };

export interface SubjectTable {
  id: string;
  created_at: string;
  erased_at: string | null;
}

export interface SubjectKeyTable {
  subject_id: string;
  version: number;
  suite: string;
  root_key_id: string;
  wrapped: Buffer;
  created_at: string;
}

export interface IdentityTable {
  subject_id: string;
  kind: string;
  index_version: number;
  token: Buffer;
  sealed: Buffer;
  key_version: number;
  created_at: string;
}

export interface RecordTable {
  id: string;
  subject_id: string;
  collection: string;
  key_version: number;
  sealed: Buffer;
  plain: string | null;
  purpose: string;
  source: string | null;
  created_at: string;
  updated_at: string;
}

/** Audit entries: the canonical bytes are the Merkle leaves; `subject_ref` is an index over them. */
export interface AuditLogTable {
  seq: number;
  subject_ref: string | null;
  canonical: Buffer;
}

/** One row: the Merkle log's size and frontier. Appenders lock it first. */
export interface AuditHeadTable {
  id: number;
  size: number;
  frontier: Buffer;
}

/** Every perfect subtree of the Merkle log, by post-order id (see src/domain/audit/tree.ts). */
export interface AuditNodeTable {
  id: number;
  hash: Buffer;
}

/** Signed checkpoints (C2SP tlog-checkpoint), one per tree size. */
export interface AuditCheckpointTable {
  tree_size: number;
  root_hash: Buffer;
  origin: string;
  signed_at: string;
  key_id: number;
  signature: Buffer;
}

/** One row, id 1, once the audit log has been pruned (see migration 0010). */
export interface AuditRetentionTable {
  id: number;
  pruned_size: number | string;
  pruned_at: string;
  prune_seq: number | string;
}

export interface KeyRotationTable {
  id: string;
  kind: string;
  cutoff: string;
  target: string;
  started_at: string;
  finished_at: string | null;
  processed: number;
}

export interface IndexRootTable {
  version: number;
  suite: string;
  pinned_at: string;
}

export interface StaffTable {
  id: string;
  username: string;
  display_name: string;
  role: string;
  password_hash: string;
  totp_sealed: Buffer | null;
  totp_enrolled_at: string | null;
  failed_attempts: number;
  locked_until: string | null;
  disabled_at: string | null;
  created_at: string;
  last_login_at: string | null;
}

export interface StaffSessionTable {
  id_hash: Buffer;
  staff_id: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface TrainingTable {
  id: string;
  staff_id: string;
  course: string;
  completed_at: string;
  expires_at: string;
  recorded_by: string;
}

export interface BreakGlassTable {
  id: string;
  principal_id: string;
  role: string;
  subject_id: string;
  purpose: string;
  justification: string;
  ticket: string;
  granted_at: string;
  expires_at: string;
  revoked_at: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_outcome: string | null;
  review_note: string | null;
}

export interface ExportTable {
  id: string;
  requested_by: string;
  requester_role: string;
  purpose: string;
  subject_ids: string;
  subject_count: number;
  recipient: string;
  /** Migration 0011. */
  recipient_id: string | null;
  status: string;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  created_at: string;
  downloaded_at: string | null;
}

/** Tables added after the vault; merged into {@link Database}. */
export interface AccessTables {
  policy_versions: PolicyVersionTable;
  staff: StaffTable;
  staff_sessions: StaffSessionTable;
  training: TrainingTable;
  break_glass: BreakGlassTable;
  exports: ExportTable;
}

export interface PolicyVersionTable {
  number: number;
  fingerprint: string;
  scope: string;
  published_at: string;
  requires_reconsent: number;
  reconsent_purposes: string;
}

/** Bulk imports (migration 0007): runs with checkpoints, imported order ids, rejected rows. */
export interface ImportRunTable {
  id: string;
  source: string;
  file_sha256: string;
  settings: string;
  format: string;
  encoding: string;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
  checkpoint: number;
  counts: string;
}

export interface ImportOrderTable {
  source: string;
  order_id: string;
  run_id: string;
  imported_at: string;
}

export interface ImportRejectTable {
  run_id: string;
  ordinal: number;
  line: number;
  /** JSON array of header names. */
  columns: string;
  /** JSON array of reason codes. */
  reasons: string;
}

/** The consent ledger (migration 0006): append-only events; no personal data (see src/store/consent.ts). */
export interface ConsentEventTable {
  id: string;
  seq: number;
  subject_id: string | null;
  subject_ref: string;
  purpose: string;
  kind: string;
  recipient: string | null;
  action: string;
  policy_version: number;
  channel: string;
  ui_version: string | null;
  locale: string | null;
  ip_hash: Buffer | null;
  ua_hash: Buffer | null;
  guardian_relationship: string | null;
  guardian_hash: Buffer | null;
  minor: number;
  recorded_at: string;
  recorded_by: string;
  receipt_id: string;
  receipt: string;
}

/** Incidents opened by the anomaly detector (migration 0008); no personal data (see src/store/incidents.ts). */
export interface IncidentTable {
  id: string;
  status: string;
  rule: string;
  severity: string;
  detected_at: string;
  updated_at: string;
  actor: string;
  role: string;
  window_end: string;
  /** JSON: IncidentEvidence. */
  evidence: string;
  alerted: number;
}

/** The anomaly detector's position in the audit log: one row, id 1. */
export interface AnomalyCursorTable {
  id: number;
  last_seq: number | string;
}

export interface PrivacyNoticeTable {
  id: string;
  published_at: string;
  author: string;
  /** JSON `{ "zh-CN": …, "en": … }`. */
  title: string;
  body: string;
}

export interface PrivacyCodeTable {
  id: string;
  requester: Buffer;
  subject_id: string | null;
  code_hash: Buffer;
  created_at: string;
  expires_at: string;
  attempts: number | bigint;
  used_at: string | null;
}

export interface PrivacySessionTable {
  id_hash: Buffer;
  subject_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
}

export interface PrivacyRequestTable {
  id: string;
  subject_id: string;
  kind: string;
  received_at: string;
  status: string;
}
