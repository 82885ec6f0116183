import { sql, type Kysely } from 'kysely';
import type { ColumnTypes } from '../dialect.js';

/**
 * The vault: subjects, their wrapped data keys (a table of its own, so key backups can keep a
 * shorter retention than data backups), blind-index identities, sealed records and the
 * hash-chained audit trail. Every table that holds personal data carries `subject_id`.
 */
export function vault(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('subjects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('erased_at', 'text')
        .execute();

      await db.schema
        .createTable('subject_keys')
        .addColumn('subject_id', 'text', (c) => c.notNull().references('subjects.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('suite', 'text', (c) => c.notNull())
        .addColumn('root_key_id', 'text', (c) => c.notNull())
        .addColumn('wrapped', types.bytes, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('subject_keys_pk', ['subject_id', 'version'])
        .execute();
      await db.schema
        .createIndex('subject_keys_root')
        .on('subject_keys')
        .columns(['root_key_id', 'subject_id'])
        .execute();

      await db.schema
        .createTable('identities')
        .addColumn('subject_id', 'text', (c) => c.notNull().references('subjects.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('index_version', 'integer', (c) => c.notNull())
        .addColumn('token', types.bytes, (c) => c.notNull())
        // The normalised value sealed under the subject key, so an index-key rotation can recompute tokens.
        .addColumn('sealed', types.bytes, (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('identities_pk', ['kind', 'index_version', 'token', 'subject_id'])
        .execute();
      await db.schema.createIndex('identities_subject').on('identities').column('subject_id').execute();
      // A platform identity (OAID, member id) belongs to one customer: two concurrent collects for a
      // new buyer cannot both create a subject (R30). Phones and emails may be shared.
      await db.schema
        .createIndex('identities_strong_unique')
        .on('identities')
        .columns(['kind', 'index_version', 'token'])
        .unique()
        .where(sql.ref('kind'), 'in', ['oaid', 'memberId'])
        .execute();

      await db.schema
        .createTable('records')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull().references('subjects.id'))
        .addColumn('collection', 'text', (c) => c.notNull())
        .addColumn('key_version', 'integer', (c) => c.notNull())
        // Field envelopes, each sealed with its own context (see src/crypto/envelope.ts).
        .addColumn('sealed', types.bytes, (c) => c.notNull())
        // Fields declared `protection: plain` (non-PI: order totals, statuses).
        .addColumn('plain', 'text')
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('records_subject')
        .on('records')
        .columns(['subject_id', 'created_at'])
        .execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('seq', types.bigint, (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        // Keyed pseudonym of the subject: erasing a customer never requires deleting a log entry.
        .addColumn('subject_ref', 'text')
        .addColumn('canonical', types.bytes, (c) => c.notNull())
        .addColumn('prev_hash', types.bytes, (c) => c.notNull())
        .addColumn('hash', types.bytes, (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_log_subject')
        .on('audit_log')
        .columns(['subject_ref', 'seq'])
        .execute();

      // One row: the chain's head. Appending updates it first, which serialises appenders on every engine.
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', types.bigint, (c) => c.notNull())
        .addColumn('hash', types.bytes, (c) => c.notNull())
        .execute();
      await (db as Kysely<{ audit_head: { id: number; seq: number; hash: Buffer } }>)
        .insertInto('audit_head')
        .values({ id: 1, seq: 0, hash: Buffer.alloc(32) })
        .execute();

      await db.schema
        .createTable('key_rotations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('cutoff', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('processed', types.bigint, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'key_rotations',
        'audit_head',
        'audit_log',
        'records',
        'identities',
        'subject_keys',
        'subjects',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
