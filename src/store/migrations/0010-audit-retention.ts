import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../dialect.js';

interface Tables {
  audit_retention: { id: number; pruned_size: number | string };
}

/**
 * Retention of the audit log (docs/audit-log.md, "Retention"): one row, id 1, once the log has
 * been pruned: the size of the pruned prefix (a signed checkpoint's tree size: whole sealed
 * segments only), when, and the `seq` of the entry that records the prune. No row: never pruned.
 */
export function auditRetention(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('audit_retention')
        .addColumn('id', types.bigint, (c) => c.primaryKey())
        .addColumn('pruned_size', types.bigint, (c) => c.notNull())
        .addColumn('pruned_at', 'text', (c) => c.notNull())
        .addColumn('prune_seq', types.bigint, (c) => c.notNull())
        .execute();
    },
    async down(untyped: Kysely<unknown>): Promise<void> {
      const db = untyped as Kysely<Tables>;
      const row = await db.selectFrom('audit_retention').select('pruned_size').executeTakeFirst();
      // Earlier code cannot read a pruned log: going back would make it look tampered with.
      if (row !== undefined && Number(row.pruned_size) > 0)
        throw new Error('the audit log has been pruned; this migration cannot be rolled back');
      await db.schema.dropTable('audit_retention').execute();
    },
  };
}
