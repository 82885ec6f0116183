import type { Kysely } from 'kysely';

/**
 * Drops `subject_keys_root (root_key_id, subject_id)`. The one query it was made for,
 * `wrappedByOtherRoots` (`root_key_id <> ? and subject_id > ? order by subject_id, version`),
 * never seeks on it — a `<>` predicate cannot — and walks the primary key instead on both engines,
 * while every collect paid a B-tree write for it (BENCHMARKS.md, "Where the time goes").
 */
export function dropUnusedKeyIndex() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('subject_keys_root').ifExists().execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createIndex('subject_keys_root')
        .ifNotExists()
        .on('subject_keys')
        .columns(['root_key_id', 'subject_id'])
        .execute();
    },
  };
}
