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
}

/** Marks a column the database fills in. Re-exported so tables can use it without importing kysely. */
export type { Generated };
