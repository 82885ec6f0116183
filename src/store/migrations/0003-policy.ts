import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../dialect.js';

/**
 * Published privacy-policy versions. Each keeps the scope it was rendered from, so an old version
 * re-renders exactly and two versions can be diffed; a version that widens consent-based
 * processing records which purposes need re-consent (R5).
 */
export function policy(_types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('policy_versions')
        .addColumn('number', 'integer', (c) => c.primaryKey())
        .addColumn('fingerprint', 'text', (c) => c.notNull().unique())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('published_at', 'text', (c) => c.notNull())
        .addColumn('requires_reconsent', 'integer', (c) => c.notNull())
        .addColumn('reconsent_purposes', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('policy_versions').execute();
    },
  };
}
