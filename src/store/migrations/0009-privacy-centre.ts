import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../dialect.js';

/**
 * The privacy centre (issue 6 items 5-8): notices the privacy officer posts, one-time sign-in
 * codes, customers' sessions and their requests for a copy, a correction or deletion. No personal
 * data in clear: an identity is kept only as a keyed hash (`requester`), codes and session ids
 * only as hashes, requests as a kind and a status (no free text).
 */
export function privacyCentre(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('privacy_notices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('published_at', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('privacy_notices_published')
        .on('privacy_notices')
        .column('published_at')
        .execute();
      await db.schema
        .createTable('privacy_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('requester', types.bytes, (c) => c.notNull())
        .addColumn('subject_id', 'text')
        .addColumn('code_hash', types.bytes, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('attempts', types.bigint, (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema
        .createIndex('privacy_codes_requester')
        .on('privacy_codes')
        .columns(['requester', 'created_at'])
        .execute();
      await db.schema
        .createTable('privacy_sessions')
        .addColumn('id_hash', types.bytes, (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createIndex('privacy_sessions_subject')
        .on('privacy_sessions')
        .column('subject_id')
        .execute();
      await db.schema
        .createTable('privacy_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('privacy_requests_subject')
        .on('privacy_requests')
        .column('subject_id')
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('privacy_requests').execute();
      await db.schema.dropTable('privacy_sessions').execute();
      await db.schema.dropTable('privacy_codes').execute();
      await db.schema.dropTable('privacy_notices').execute();
    },
  };
}
