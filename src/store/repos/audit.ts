import { CompiledQuery, PostgresAdapter, sql, type Kysely, type Selectable } from 'kysely';
import type {
  AuditCheckpointRecord,
  AuditEntryBatch,
  AuditHead,
  AuditNode,
  AuditNodeBatch,
  AuditRepository,
  AuditRetentionState,
  AuditRow,
  AuditTableStats,
} from '../store.js';
import type { AuditCheckpointTable, AuditLogTable, Database } from '../types.js';
import { BulkInsert } from './insert.js';

/** Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const INSERT_CHUNK = 2000;
const ZERO = Buffer.from([0]);
const ONE = Buffer.from([1]);

/**
 * The batch scans concatenate a range of rows into one value, so a verifier reads a million
 * entries without a million row objects — one aggregate per batch, which costs SQLite about half
 * of three separate ones (bytes, lengths, subjects). The aggregate differs between engines:
 * SQLite's `group_concat` yields text (cast back to a blob, byte for byte) and follows the
 * ordered subquery; PostgreSQL's `string_agg` over bytea takes its own `ORDER BY`.
 */
function entryScan(pg: boolean, from: number, to: number) {
  return pg
    ? sql<{ bytes: Buffer | null; n: number | string }>`
        select string_agg(canonical || '\\x01'::bytea || convert_to(coalesce('=' || subject_ref, '-'), 'UTF8'),
                          '\\x00'::bytea order by seq) as bytes,
               count(*) as n
        from audit_log where seq >= ${from} and seq < ${to}`
    : sql<{ bytes: Buffer | null; n: number }>`
        select cast(group_concat(canonical || ${ONE} || ifnull('=' || subject_ref, '-'), ${ZERO}) as blob) as bytes,
               count(*) as n
        from (select canonical, subject_ref from audit_log where seq >= ${from} and seq < ${to} order by seq)`;
}

function nodeScan(pg: boolean, from: number, to: number) {
  return pg
    ? sql<{ bytes: Buffer | null; n: number | string }>`
        select string_agg(hash, ''::bytea order by id) as bytes, count(*) as n
        from audit_nodes where id >= ${from} and id < ${to}`
    : sql<{ bytes: Buffer | null; n: number }>`
        select cast(group_concat(hash, '') as blob) as bytes, count(*) as n
        from (select hash from audit_nodes where id >= ${from} and id < ${to} order by id)`;
}

function asBuffer(value: Buffer | null | undefined): Buffer {
  if (value === null || value === undefined) return Buffer.alloc(0);
  return Buffer.isBuffer(value) ? value : Buffer.from(value);
}

/** The last head a process saw (shared by the repositories of one store); a guess, never trusted. */
export class AuditHeadHint {
  value: AuditHead | undefined;
}

/**
 * The append path runs hand-written statements: Kysely's builder and compiler cost more than
 * the writes themselves, and every PI operation pays for this path.
 */
export class KyselyAuditRepository implements AuditRepository {
  readonly #db: Kysely<Database>;
  readonly #pg: boolean;
  readonly #hint: AuditHeadHint;
  readonly #insertEntries: BulkInsert<'audit_log', AuditRow>;
  readonly #insertNodes: BulkInsert<'audit_nodes', AuditNode>;
  constructor(db: Kysely<Database>, hint: AuditHeadHint = new AuditHeadHint()) {
    this.#db = db;
    this.#pg = db.getExecutor().adapter instanceof PostgresAdapter;
    this.#hint = hint;
    this.#insertEntries = new BulkInsert(db, {
      table: 'audit_log',
      columns: ['seq', 'subject_ref', 'canonical'],
      values: (r) => [r.seq, r.subjectRef, r.canonical],
      rowsPerStatement: INSERT_CHUNK,
    });
    this.#insertNodes = new BulkInsert(db, {
      table: 'audit_nodes',
      columns: ['id', 'hash'],
      values: (n) => [n.id, n.hash],
      rowsPerStatement: INSERT_CHUNK,
    });
  }

  /** `?` for SQLite, `$n` for PostgreSQL, numbered from `first`. */
  #params(count: number, first = 1): string[] {
    return Array.from({ length: count }, (_, i) => (this.#pg ? `$${first + i}` : '?'));
  }

  async #run<R>(text: string, parameters: readonly unknown[]) {
    return this.#db.executeQuery<R>(CompiledQuery.raw(text, [...parameters]));
  }

  #remember(head: AuditHead): AuditHead {
    this.#hint.value = { size: head.size, frontier: Buffer.from(head.frontier) };
    return head;
  }

  async lockHead(): Promise<AuditHead> {
    // A no-op UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) for this transaction.
    const { rows } = await this.#run<{ size: number | string; frontier: Buffer }>(
      'update audit_head set size = size where id = 1 returning size, frontier',
      [],
    );
    const row = rows[0];
    if (row === undefined) throw new Error('the audit head row is missing');
    return this.#remember({ size: Number(row.size), frontier: Buffer.from(row.frontier) });
  }

  async head(): Promise<AuditHead> {
    const row = await this.#db
      .selectFrom('audit_head')
      .select(['size', 'frontier'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return { size: Number(row.size), frontier: Buffer.from(row.frontier) };
  }

  headHint(): AuditHead | undefined {
    return this.#hint.value;
  }

  async swapHead(expected: AuditHead, next: AuditHead): Promise<boolean> {
    const [a, b, c, d] = this.#params(4);
    const result = await this.#run(
      `update audit_head set size = ${a}, frontier = ${b} where id = 1 and size = ${c} and frontier = ${d}`,
      [next.size, next.frontier, expected.size, expected.frontier],
    );
    const swapped = (result.numAffectedRows ?? 0n) > 0n;
    if (swapped) this.#remember(next);
    else this.#hint.value = undefined;
    return swapped;
  }

  async setHead(head: AuditHead): Promise<void> {
    const [a, b] = this.#params(2);
    await this.#run(`update audit_head set size = ${a}, frontier = ${b} where id = 1`, [
      head.size,
      head.frontier,
    ]);
    this.#remember(head);
  }

  async insertMany(rows: readonly AuditRow[]): Promise<void> {
    await this.#insertEntries.run(rows);
  }

  async insertNodes(nodes: readonly AuditNode[]): Promise<void> {
    await this.#insertNodes.run(nodes);
  }

  async range(from: number, to: number): Promise<AuditRow[]> {
    const rows = await this.#db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', from)
      .where('seq', '<', to)
      .orderBy('seq')
      .execute();
    return rows.map(toAudit);
  }

  async count(): Promise<number> {
    const row = await this.#db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async nodes(ids: readonly number[]): Promise<Map<number, Buffer>> {
    const found = new Map<number, Buffer>();
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += INSERT_CHUNK) {
      const rows = await this.#db
        .selectFrom('audit_nodes')
        .select(['id', 'hash'])
        .where('id', 'in', unique.slice(i, i + INSERT_CHUNK))
        .execute();
      for (const r of rows) found.set(Number(r.id), Buffer.from(r.hash));
    }
    return found;
  }

  async nodeRange(from: number, to: number): Promise<AuditNode[]> {
    const rows = await this.#db
      .selectFrom('audit_nodes')
      .select(['id', 'hash'])
      .where('id', '>=', from)
      .where('id', '<', to)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: Number(r.id), hash: Buffer.from(r.hash) }));
  }

  async scanEntries(from: number, to: number): Promise<AuditEntryBatch> {
    const { rows } = await entryScan(this.#pg, from, to).execute(this.#db);
    const row = rows[0];
    return { count: Number(row?.n ?? 0), bytes: asBuffer(row?.bytes) };
  }

  async scanNodes(from: number, to: number): Promise<AuditNodeBatch> {
    const { rows } = await nodeScan(this.#pg, from, to).execute(this.#db);
    const row = rows[0];
    return { count: Number(row?.n ?? 0), bytes: asBuffer(row?.bytes) };
  }

  /**
   * Count, min and max as separate statements: alone, `min` and `max` are one seek at either end
   * of the primary key, while one statement with all three scans the table (a quarter second per
   * million rows).
   */
  async stats(nodesFrom?: number): Promise<{ entries: AuditTableStats; nodes: AuditTableStats }> {
    const entries = this.#db.selectFrom('audit_log');
    const nodes = this.#db
      .selectFrom('audit_nodes')
      .$if(nodesFrom !== undefined, (qb) => qb.where('id', '>=', nodesFrom!));
    const [n, lo, hi, nodeN, nodeLo, nodeHi] = await Promise.all([
      entries.select((eb) => eb.fn.countAll<number>().as('v')).executeTakeFirstOrThrow(),
      entries.select((eb) => eb.fn.min('seq').as('v')).executeTakeFirstOrThrow(),
      entries.select((eb) => eb.fn.max('seq').as('v')).executeTakeFirstOrThrow(),
      nodes.select((eb) => eb.fn.countAll<number>().as('v')).executeTakeFirstOrThrow(),
      nodes.select((eb) => eb.fn.min('id').as('v')).executeTakeFirstOrThrow(),
      nodes.select((eb) => eb.fn.max('id').as('v')).executeTakeFirstOrThrow(),
    ]);
    const stat = (count: { v: unknown }, min: { v: unknown }, max: { v: unknown }): AuditTableStats => ({
      count: Number(count.v),
      min: min.v === null ? null : Number(min.v),
      max: max.v === null ? null : Number(max.v),
    });
    return { entries: stat(n, lo, hi), nodes: stat(nodeN, nodeLo, nodeHi) };
  }

  /** Each side of the range is its own seek: an `or` of the two makes SQLite scan the table. */
  async strays(
    size: number,
    nodeCount: number,
    limit: number,
    prunedSize = 0,
  ): Promise<{ seqs: number[]; nodeIds: number[] }> {
    const seqs = this.#db.selectFrom('audit_log').select('seq').orderBy('seq').limit(limit);
    const ids = this.#db.selectFrom('audit_nodes').select('id').orderBy('id').limit(limit);
    const [below, above, nodesBelow, nodesAbove] = await Promise.all([
      seqs.where('seq', '<=', prunedSize).execute(),
      seqs.where('seq', '>', size).execute(),
      ids.where('id', '<', 0).execute(),
      ids.where('id', '>=', nodeCount).execute(),
    ]);
    return {
      seqs: [...below, ...above].slice(0, limit).map((r) => Number(r.seq)),
      nodeIds: [...nodesBelow, ...nodesAbove].slice(0, limit).map((r) => Number(r.id)),
    };
  }

  async retention(): Promise<AuditRetentionState> {
    const row = await this.#db
      .selectFrom('audit_retention')
      .selectAll()
      .where('id', '=', 1)
      .executeTakeFirst();
    if (row === undefined) return { prunedSize: 0, prunedAt: null, pruneSeq: null };
    return {
      prunedSize: Number(row.pruned_size),
      prunedAt: row.pruned_at,
      pruneSeq: Number(row.prune_seq),
    };
  }

  async prune(state: AuditRetentionState, nodesBelow: number, keep: readonly number[]): Promise<void> {
    // The nodes that stay are read, the whole range deleted in one statement, and they go back.
    const kept = await this.nodes(keep);
    if (kept.size !== new Set(keep).size) throw new Error('a node the pruned log must keep is missing');
    await this.#db.deleteFrom('audit_log').where('seq', '<=', state.prunedSize).execute();
    await this.#db.deleteFrom('audit_nodes').where('id', '<', nodesBelow).execute();
    await this.insertNodes([...kept].map(([id, hash]) => ({ id, hash })));
    const values = {
      pruned_size: state.prunedSize,
      pruned_at: state.prunedAt ?? '',
      prune_seq: state.pruneSeq ?? 0,
    };
    await this.#db
      .insertInto('audit_retention')
      .values({ id: 1, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
  }

  async insertCheckpoint(c: AuditCheckpointRecord): Promise<boolean> {
    const result = await this.#db
      .insertInto('audit_checkpoints')
      .values({
        tree_size: c.treeSize,
        root_hash: c.rootHash,
        origin: c.origin,
        signed_at: c.signedAt,
        key_id: c.keyId,
        signature: c.signature,
      })
      .onConflict((oc) => oc.column('tree_size').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async latestCheckpoint(): Promise<AuditCheckpointRecord | undefined> {
    const row = await this.#db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .orderBy('tree_size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toCheckpoint(row);
  }

  async checkpoints(after: number, limit: number): Promise<AuditCheckpointRecord[]> {
    const rows = await this.#db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .where('tree_size', '>', after)
      .orderBy('tree_size')
      .limit(limit)
      .execute();
    return rows.map(toCheckpoint);
  }
}

function toAudit(row: Selectable<AuditLogTable>): AuditRow {
  const canonical = Buffer.from(row.canonical);
  let parsed: { at?: unknown; action?: unknown; actor?: { id?: unknown } } = {};
  try {
    parsed = JSON.parse(canonical.toString('utf8')) as typeof parsed;
  } catch {
    // A damaged entry still reads; verification reports it.
  }
  const text = (value: unknown): string => (typeof value === 'string' ? value : '');
  return {
    seq: Number(row.seq),
    at: text(parsed.at),
    action: text(parsed.action),
    actor: text(parsed.actor?.id),
    subjectRef: row.subject_ref,
    canonical,
  };
}

function toCheckpoint(row: Selectable<AuditCheckpointTable>): AuditCheckpointRecord {
  return {
    treeSize: Number(row.tree_size),
    rootHash: Buffer.from(row.root_hash),
    origin: row.origin,
    signedAt: row.signed_at,
    keyId: Number(row.key_id),
    signature: Buffer.from(row.signature),
  };
}
