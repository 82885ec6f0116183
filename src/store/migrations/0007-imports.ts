import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../dialect.js';

/**
 * Bulk imports (Tmall order exports, the TOP order sync): a run per file with its checkpoint and
 * counts, the orders imported so far (the idempotency key), and the rejected rows of each run.
 * None of these tables holds personal data: order ids are non-personal references (the data map
 * declares `order.orderId` as `order.reference`, stored plain), rejects name lines, columns and
 * reason codes only.
 */
export function imports(types: ColumnTypes) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('import_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('file_sha256', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('encoding', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('checkpoint', types.bigint, (c) => c.notNull())
        .addColumn('counts', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('import_runs_file')
        .on('import_runs')
        .columns(['source', 'file_sha256', 'finished_at'])
        .execute();
      await db.schema
        .createTable('import_orders')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('order_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('imported_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('import_orders_pk', ['source', 'order_id'])
        .execute();
      await db.schema
        .createTable('import_rejects')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('ordinal', types.bigint, (c) => c.notNull())
        .addColumn('line', types.bigint, (c) => c.notNull())
        .addColumn('columns', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('import_rejects_pk', ['run_id', 'ordinal'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('import_rejects').execute();
      await db.schema.dropTable('import_orders').execute();
      await db.schema.dropTable('import_runs').execute();
    },
  };
}
