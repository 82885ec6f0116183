import type { ColumnDataType, Expression } from 'kysely';
import { sql } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

/**
 * What differs between the engines, declared once. Shared code reads these flags; it never
 * branches on the engine name (aesthetics habit 1).
 */
export interface StoreCapabilities {
  /** `SELECT … FOR UPDATE SKIP LOCKED` is available for job queues. */
  readonly skipLocked: boolean;
  /** Several processes may write at once (false for the embedded engine: one writer). */
  readonly concurrentWriters: boolean;
  /** `INSERT … RETURNING` is supported. */
  readonly returning: boolean;
  /** `SELECT … FOR UPDATE` row locks exist (false: the engine serialises writers instead). */
  readonly rowLocks: boolean;
}

/** Column types that differ between engines, for migrations. */
export interface ColumnTypes {
  readonly bytes: ColumnDataType | Expression<unknown>;
  readonly json: ColumnDataType | Expression<unknown>;
  readonly bigint: ColumnDataType | Expression<unknown>;
  /** Auto-incrementing 64-bit primary key. */
  readonly serial: ColumnDataType | Expression<unknown>;
}

export const COLUMN_TYPES: Readonly<Record<Engine, ColumnTypes>> = {
  sqlite: { bytes: 'blob', json: 'text', bigint: 'integer', serial: 'integer' },
  postgres: { bytes: 'bytea', json: 'jsonb', bigint: 'bigint', serial: sql`bigserial` },
};

export const CAPABILITIES: Readonly<Record<Engine, StoreCapabilities>> = {
  sqlite: { skipLocked: false, concurrentWriters: false, returning: true, rowLocks: false },
  postgres: { skipLocked: true, concurrentWriters: true, returning: true, rowLocks: true },
};
