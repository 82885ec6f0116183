import type { Kysely } from 'kysely';

/** The table this migration rebuilds, as 0003 made it. */
interface Tables {
  policy_versions: {
    number: number;
    fingerprint: string;
    scope: string;
    published_at: string;
    requires_reconsent: number;
    reconsent_purposes: string;
  };
  policy_versions_0014: Tables['policy_versions'];
}

const COLUMNS = [
  'number',
  'fingerprint',
  'scope',
  'published_at',
  'requires_reconsent',
  'reconsent_purposes',
] as const;

/**
 * `policy_versions.fingerprint` stops being unique. A data map that returns to an older version's
 * content (a recipient added, then removed again) publishes a new version with that older
 * fingerprint: customers who consented in between saw the newer text, so the return is a change
 * they must be told of and is diffed against the version before it (R5, R6). The unique
 * constraint refused that insert, and `serve`, which publishes before it listens, could not start.
 *
 * Nothing looks a version up by fingerprint (only by number, or the latest), so no index replaces
 * the constraint. SQLite cannot drop a column's UNIQUE (its autoindex), so the table is rebuilt the
 * same way on both engines — copy aside, drop, create as 0003 did without UNIQUE, copy back — which
 * also keeps PostgreSQL's constraint names (`policy_versions_pkey`) as they were. Every column and
 * row is kept. It runs in one transaction: Kysely's migrator wraps a migration in one only where its
 * adapter reports transactional DDL (PostgreSQL), not on SQLite, so there the migration opens its
 * own and a failure part-way leaves the old table untouched.
 */
export function nonUniquePolicyFingerprint() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await inTransaction(db as Kysely<Tables>, (trx) => rebuild(trx, { uniqueFingerprint: false }));
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await inTransaction(db as Kysely<Tables>, async (trx) => {
        // Versions that share a fingerprint cannot go back under the constraint, and dropping one
        // would erase a version customers were shown (R5): refuse, naming them.
        const shared = await trx
          .selectFrom('policy_versions')
          .select('fingerprint')
          .groupBy('fingerprint')
          .having((eb) => eb.fn.countAll(), '>', 1)
          .execute();
        if (shared.length > 0) {
          const numbers = await trx
            .selectFrom('policy_versions')
            .select('number')
            .where(
              'fingerprint',
              'in',
              shared.map((s) => s.fingerprint),
            )
            .orderBy('number')
            .execute();
          throw new Error(
            `policy versions ${numbers.map((n) => n.number).join(', ')} share a fingerprint; ` +
              'the unique constraint of 0003 cannot be restored without deleting published versions',
          );
        }
        await rebuild(trx, { uniqueFingerprint: true });
      });
    },
  };
}

async function inTransaction(
  db: Kysely<Tables>,
  work: (trx: Kysely<Tables>) => Promise<void>,
): Promise<void> {
  if (db.isTransaction) await work(db);
  else await db.transaction().execute(work);
}

async function rebuild(db: Kysely<Tables>, options: { uniqueFingerprint: boolean }): Promise<void> {
  await db.schema
    .createTable('policy_versions_0014')
    .as(db.selectFrom('policy_versions').select(COLUMNS))
    .execute();
  await db.schema.dropTable('policy_versions').execute();
  await db.schema
    .createTable('policy_versions')
    .addColumn('number', 'integer', (c) => c.primaryKey())
    .addColumn('fingerprint', 'text', (c) => (options.uniqueFingerprint ? c.notNull().unique() : c.notNull()))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text', (c) => c.notNull())
    .addColumn('requires_reconsent', 'integer', (c) => c.notNull())
    .addColumn('reconsent_purposes', 'text', (c) => c.notNull())
    .execute();
  await db
    .insertInto('policy_versions')
    .columns(COLUMNS)
    .expression(db.selectFrom('policy_versions_0014').select(COLUMNS))
    .execute();
  await db.schema.dropTable('policy_versions_0014').execute();
}
