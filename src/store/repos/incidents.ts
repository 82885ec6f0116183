import type { Kysely, Selectable } from 'kysely';
import type { IncidentEvidence, IncidentRecord, IncidentRepository, IncidentStatus } from '../incidents.js';
import type { Database, IncidentTable } from '../types.js';

export class KyselyIncidentRepository implements IncidentRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(i: IncidentRecord): Promise<void> {
    await this.#db
      .insertInto('incidents')
      .values({
        id: i.id,
        status: i.status,
        rule: i.rule,
        severity: i.severity,
        detected_at: i.detectedAt,
        updated_at: i.updatedAt,
        actor: i.actor,
        role: i.role,
        window_end: i.evidence.window.end,
        evidence: JSON.stringify(i.evidence),
        alerted: i.alerted ? 1 : 0,
      })
      .execute();
  }

  async update(
    id: string,
    change: Pick<IncidentRecord, 'evidence' | 'severity' | 'updatedAt' | 'alerted'>,
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('incidents')
      .set({
        severity: change.severity,
        updated_at: change.updatedAt,
        window_end: change.evidence.window.end,
        evidence: JSON.stringify(change.evidence),
        alerted: change.alerted ? 1 : 0,
      })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async openFor(rule: string, actor: string, since: string): Promise<IncidentRecord | undefined> {
    const row = await this.#db
      .selectFrom('incidents')
      .selectAll()
      .where('rule', '=', rule)
      .where('actor', '=', actor)
      .where('status', '=', 'pending')
      .where('window_end', '>=', since)
      .orderBy('window_end', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return row && toIncident(row);
  }

  async markAlerted(id: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('incidents')
      .set({ alerted: 1 })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async unalerted(limit: number): Promise<IncidentRecord[]> {
    const rows = await this.#db
      .selectFrom('incidents')
      .selectAll()
      .where('alerted', '=', 0)
      .orderBy('detected_at', 'asc')
      .orderBy('id', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toIncident);
  }

  async get(id: string): Promise<IncidentRecord | undefined> {
    const row = await this.#db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toIncident(row);
  }

  async list(options: { readonly status?: IncidentStatus; readonly limit?: number } = {}) {
    let query = this.#db.selectFrom('incidents').selectAll();
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    const rows = await query
      .orderBy('detected_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit ?? 1000)
      .execute();
    return rows.map(toIncident);
  }

  async cursor(): Promise<number> {
    const row = await this.#db
      .selectFrom('anomaly_cursor')
      .select('last_seq')
      .where('id', '=', 1)
      .executeTakeFirst();
    return Number(row?.last_seq ?? 0);
  }

  async setCursor(seq: number): Promise<void> {
    await this.#db
      .insertInto('anomaly_cursor')
      .values({ id: 1, last_seq: seq })
      .onConflict((oc) => oc.column('id').doUpdateSet({ last_seq: seq }))
      .execute();
  }

  async advanceCursor(from: number, to: number): Promise<boolean> {
    const moved = await this.#db
      .updateTable('anomaly_cursor')
      .set({ last_seq: to })
      .where('id', '=', 1)
      .where('last_seq', '=', from)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) > 0) return true;
    if (from !== 0) return false;
    const inserted = await this.#db
      .insertInto('anomaly_cursor')
      .values({ id: 1, last_seq: to })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
}

function toIncident(r: Selectable<IncidentTable>): IncidentRecord {
  return {
    id: r.id,
    status: r.status as IncidentStatus,
    rule: r.rule,
    severity: r.severity,
    detectedAt: r.detected_at,
    updatedAt: r.updated_at,
    actor: r.actor,
    role: r.role,
    evidence: JSON.parse(r.evidence) as IncidentEvidence,
    alerted: Number(r.alerted) === 1,
  };
}
