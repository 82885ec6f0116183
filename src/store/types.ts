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

export interface Database {
  api_tokens: ApiTokenTable;
  subjects: SubjectTable;
  subject_keys: SubjectKeyTable;
  identities: IdentityTable;
  records: RecordTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  key_rotations: KeyRotationTable;
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

export interface AuditLogTable {
  seq: number;
  at: string;
  action: string;
  actor: string;
  subject_ref: string | null;
  canonical: Buffer;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: Buffer;
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
