import type { Kysely } from 'kysely';

/**
 * Who an export is for: the `datamap.recipients` id (R31: buyer order data leaves only for a
 * registered processor serving fulfilment, or a recipient the law requires). Null for exports
 * made before this migration and for exports that hold no buyer data.
 */
export function exportReceiver() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('exports').addColumn('recipient_id', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('exports').dropColumn('recipient_id').execute();
    },
  };
}
