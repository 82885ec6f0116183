import type { Kysely } from 'kysely';

/**
 * `index_roots`: the AEAD suite whose hash each blind-index root version uses (SHA-256 under
 * `aes-256-gcm`, SM3 under `sm4-gcm`), recorded the first time the version is used. Tokens cannot
 * be recomputed without the values, so a version keeps the hash it started with when
 * `crypto.suite` changes later; a new index version takes the suite of its day.
 */
export function indexRoots() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('index_roots')
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('suite', 'text', (c) => c.notNull())
        .addColumn('pinned_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('index_roots').execute();
    },
  };
}
