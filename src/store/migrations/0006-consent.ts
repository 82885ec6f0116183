import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../dialect.js';

/**
 * The consent ledger (docs/consent.md): append-only grant, withdrawal and refusal events per
 * subject × purpose × kind (× recipient), each with its signed receipt. No personal data: the
 * evidence (IP address, user agent) and the guardian's name are keyed hashes; `subject_id` is
 * nulled and the hashes dropped when the subject is erased, `subject_ref` (the keyed pseudonym)
 * keeps the events as proof of consent.
 */
export function consent(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('consent_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('subject_id', 'text')
        .addColumn('subject_ref', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('recipient', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('policy_version', 'integer', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('ui_version', 'text')
        .addColumn('locale', 'text')
        .addColumn('ip_hash', types.bytes)
        .addColumn('ua_hash', types.bytes)
        .addColumn('guardian_relationship', 'text')
        .addColumn('guardian_hash', types.bytes)
        .addColumn('minor', 'integer', (c) => c.notNull())
        .addColumn('recorded_at', 'text', (c) => c.notNull())
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .addColumn('receipt_id', 'text', (c) => c.notNull().unique())
        .addColumn('receipt', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('consent_events_subject')
        .on('consent_events')
        .columns(['subject_id', 'recorded_at'])
        .execute();
      // The ledger's order per subject; also refuses two events in the same place.
      await db.schema
        .createIndex('consent_events_ref_seq')
        .on('consent_events')
        .columns(['subject_ref', 'seq'])
        .unique()
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('consent_events').execute();
    },
  };
}
