import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../dialect.js';

/**
 * Incidents opened by the anomaly detector, and the detector's cursor over the audit log (the
 * last `seq` it consumed, so a restart neither re-alerts nor skips). No personal data: actors
 * are principal ids, evidence is counts, `seq` ranges and subject pseudonyms.
 */
export function incidents(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('incidents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('detected_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('window_end', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addColumn('alerted', types.bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('incidents_open')
        .on('incidents')
        .columns(['rule', 'actor', 'status', 'window_end'])
        .execute();
      await db.schema
        .createTable('anomaly_cursor')
        .addColumn('id', types.bigint, (c) => c.primaryKey())
        .addColumn('last_seq', types.bigint, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('anomaly_cursor').execute();
      await db.schema.dropTable('incidents').execute();
    },
  };
}
