import type { Kysely, Selectable } from 'kysely';
import type {
  ImportedOrderRecord,
  ImportRejectRecord,
  ImportRepository,
  ImportRunProgress,
  ImportRunRecord,
} from '../imports.js';
import type { Database, ImportRejectTable, ImportRunTable } from '../types.js';
import { chunks, keyChunks, ROWS_PER_STATEMENT } from './chunks.js';
import { BulkInsert } from './insert.js';

export class KyselyImportRepository implements ImportRepository {
  readonly #db: Kysely<Database>;
  readonly #insertOrders: BulkInsert<'import_orders', ImportedOrderRecord>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#insertOrders = new BulkInsert(db, {
      table: 'import_orders',
      columns: ['source', 'order_id', 'run_id', 'imported_at'],
      values: (r) => [r.source, r.orderId, r.runId, r.importedAt],
    });
  }

  async insertRun(run: ImportRunRecord): Promise<void> {
    await this.#db
      .insertInto('import_runs')
      .values({
        id: run.id,
        source: run.source,
        file_sha256: run.fileSha256,
        settings: run.settings,
        format: run.format,
        encoding: run.encoding,
        started_at: run.startedAt,
        updated_at: run.updatedAt,
        finished_at: run.finishedAt,
        checkpoint: run.checkpoint,
        counts: run.counts,
      })
      .execute();
  }

  async getRun(id: string): Promise<ImportRunRecord | undefined> {
    const row = await this.#db.selectFrom('import_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRun(row);
  }

  async unfinishedRun(
    source: string,
    fileSha256: string,
    settings: string,
  ): Promise<ImportRunRecord | undefined> {
    const row = await this.#db
      .selectFrom('import_runs')
      .selectAll()
      .where('source', '=', source)
      .where('file_sha256', '=', fileSha256)
      .where('settings', '=', settings)
      .where('finished_at', 'is', null)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toRun(row);
  }

  async updateRun(id: string, progress: ImportRunProgress): Promise<void> {
    await this.#db
      .updateTable('import_runs')
      .set({
        checkpoint: progress.checkpoint,
        counts: progress.counts,
        updated_at: progress.updatedAt,
        ...(progress.finishedAt === undefined ? {} : { finished_at: progress.finishedAt }),
      })
      .where('id', '=', id)
      .execute();
  }

  async existingOrders(source: string, orderIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const slice of keyChunks(orderIds)) {
      const rows = await this.#db
        .selectFrom('import_orders')
        .select('order_id')
        .where('source', '=', source)
        .where('order_id', 'in', slice)
        .execute();
      for (const r of rows) found.push(r.order_id);
    }
    return found;
  }

  async insertOrders(rows: readonly ImportedOrderRecord[]): Promise<void> {
    await this.#insertOrders.run(rows);
  }

  async countOrders(source: string): Promise<number> {
    const row = await this.#db
      .selectFrom('import_orders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('source', '=', source)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertRejects(rows: readonly ImportRejectRecord[]): Promise<void> {
    for (const slice of chunks(rows, ROWS_PER_STATEMENT / 5)) {
      await this.#db
        .insertInto('import_rejects')
        .values(
          slice.map((r) => ({
            run_id: r.runId,
            ordinal: r.ordinal,
            line: r.line,
            columns: JSON.stringify(r.columns),
            reasons: JSON.stringify(r.reasons),
          })),
        )
        .execute();
    }
  }

  async rejects(runId: string): Promise<ImportRejectRecord[]> {
    const rows = await this.#db
      .selectFrom('import_rejects')
      .selectAll()
      .where('run_id', '=', runId)
      .orderBy('ordinal')
      .execute();
    return rows.map(toReject);
  }
}

function toRun(r: Selectable<ImportRunTable>): ImportRunRecord {
  return {
    id: r.id,
    source: r.source,
    fileSha256: r.file_sha256,
    settings: r.settings,
    format: r.format,
    encoding: r.encoding,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    checkpoint: Number(r.checkpoint),
    counts: r.counts,
  };
}

function toReject(r: Selectable<ImportRejectTable>): ImportRejectRecord {
  return {
    runId: r.run_id,
    ordinal: Number(r.ordinal),
    line: Number(r.line),
    columns: JSON.parse(r.columns) as string[],
    reasons: JSON.parse(r.reasons) as string[],
  };
}
