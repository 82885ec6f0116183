import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { leafHash, nodeHash } from '../../crypto/merkle.js';
import { nodeCount } from '../../domain/audit/tree.js';
import type { ColumnTypes } from '../dialect.js';

/** The tables this migration reads and writes, before and after. */
interface Tables {
  audit_log: {
    seq: number;
    at?: string;
    action?: string;
    actor?: string;
    subject_ref: string | null;
    canonical: Buffer;
    prev_hash?: Buffer;
    hash?: Buffer;
  };
  audit_head: { id: number; seq?: number; hash?: Buffer; size?: number; frontier?: Buffer };
  audit_nodes: { id: number; hash: Buffer };
}

const BATCH = 2000;

/**
 * The audit trail becomes an RFC 9162 Merkle log (docs/audit-log.md): every perfect subtree is
 * stored in `audit_nodes`, the head keeps the size and frontier, signed checkpoints get a table,
 * and the linear hash chain (`prev_hash`, `hash`) goes. Existing entries are carried over only
 * after their chain verifies, so tampering from before the upgrade cannot be laundered into the
 * new tree; a broken chain fails the migration and names the first bad entry.
 */
export function auditMerkle(types: ColumnTypes) {
  return {
    async up(untyped: Kysely<unknown>): Promise<void> {
      const db = untyped as Kysely<Tables>;
      await db.schema
        .createTable('audit_nodes')
        .addColumn('id', types.bigint, (c) => c.primaryKey())
        .addColumn('hash', types.bytes, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('tree_size', types.bigint, (c) => c.primaryKey())
        .addColumn('root_hash', types.bytes, (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('signed_at', 'text', (c) => c.notNull())
        .addColumn('key_id', types.bigint, (c) => c.notNull())
        .addColumn('signature', types.bytes, (c) => c.notNull())
        .execute();

      const old = await db
        .selectFrom('audit_head')
        .select(['seq', 'hash'])
        .where('id', '=', 1)
        .executeTakeFirst();
      let prev = Buffer.alloc(32);
      let size = 0;
      let nextId = 0;
      const stack: Buffer[] = [];
      for (;;) {
        const rows = await db
          .selectFrom('audit_log')
          .select(['seq', 'canonical', 'prev_hash', 'hash'])
          .where('seq', '>', size)
          .orderBy('seq')
          .limit(BATCH)
          .execute();
        if (rows.length === 0) break;
        const nodes: { id: number; hash: Buffer }[] = [];
        for (const row of rows) {
          const canonical = Buffer.from(row.canonical);
          const chained = createHash('sha256').update(prev).update(canonical).digest();
          if (
            Number(row.seq) !== size + 1 ||
            !Buffer.from(row.prev_hash ?? []).equals(prev) ||
            !Buffer.from(row.hash ?? []).equals(chained)
          ) {
            throw new Error(`the audit hash chain is broken at seq ${size + 1}; refusing to carry it over`);
          }
          prev = chained;
          let h = leafHash(canonical);
          nodes.push({ id: nextId++, hash: h });
          for (let c = size; c % 2 === 1; c = (c - 1) / 2) {
            h = nodeHash(stack.pop()!, h);
            nodes.push({ id: nextId++, hash: h });
          }
          stack.push(h);
          size++;
        }
        for (let i = 0; i < nodes.length; i += BATCH)
          await db
            .insertInto('audit_nodes')
            .values(nodes.slice(i, i + BATCH))
            .execute();
      }
      if (old !== undefined && (Number(old.seq) !== size || !Buffer.from(old.hash ?? []).equals(prev))) {
        throw new Error(`the audit chain head does not match its ${size} entries; refusing to carry it over`);
      }
      if (nextId !== nodeCount(size)) throw new Error('internal error: node count');

      await db.schema.dropTable('audit_head').execute();
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('size', types.bigint, (c) => c.notNull())
        .addColumn('frontier', types.bytes, (c) => c.notNull())
        .execute();
      await db
        .insertInto('audit_head')
        .values({ id: 1, size, frontier: Buffer.concat(stack) })
        .execute();
      // The chain goes, and so do copies of what the canonical bytes say (at, action, actor): a
      // column outside the hashed bytes is one more thing to tamper with. subject_ref stays as
      // the index for a subject's entries; verification checks it against the canonical bytes.
      for (const column of ['prev_hash', 'hash', 'at', 'action', 'actor'])
        await db.schema.alterTable('audit_log').dropColumn(column).execute();
    },

    async down(untyped: Kysely<unknown>): Promise<void> {
      const db = untyped as Kysely<Tables>;
      // The columns come back nullable: SQLite cannot add NOT NULL columns to a filled table.
      for (const column of ['at', 'action', 'actor'])
        await db.schema.alterTable('audit_log').addColumn(column, 'text').execute();
      await db.schema.alterTable('audit_log').addColumn('prev_hash', types.bytes).execute();
      await db.schema.alterTable('audit_log').addColumn('hash', types.bytes).execute();
      let prev = Buffer.alloc(32);
      let seq = 0;
      for (;;) {
        const rows = await db
          .selectFrom('audit_log')
          .select(['seq', 'canonical'])
          .where('seq', '>', seq)
          .orderBy('seq')
          .limit(BATCH)
          .execute();
        if (rows.length === 0) break;
        for (const r of rows) {
          const hash = createHash('sha256').update(prev).update(r.canonical).digest();
          const entry = JSON.parse(Buffer.from(r.canonical).toString('utf8')) as {
            at: string;
            action: string;
            actor: { id: string };
          };
          await db
            .updateTable('audit_log')
            .set({ prev_hash: prev, hash, at: entry.at, action: entry.action, actor: entry.actor.id })
            .where('seq', '=', r.seq)
            .execute();
          prev = hash;
          seq = Number(r.seq);
        }
      }
      await db.schema.dropTable('audit_head').execute();
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', types.bigint, (c) => c.notNull())
        .addColumn('hash', types.bytes, (c) => c.notNull())
        .execute();
      await db.insertInto('audit_head').values({ id: 1, seq, hash: prev }).execute();
      await db.schema.dropTable('audit_checkpoints').execute();
      await db.schema.dropTable('audit_nodes').execute();
    },
  };
}
