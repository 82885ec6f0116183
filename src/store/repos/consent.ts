import type { Kysely, Selectable } from 'kysely';
import type {
  ConsentAction,
  ConsentChannel,
  ConsentKind,
  GuardianRelationship,
} from '../../domain/consent/model.js';
import type { ConsentEventRecord, ConsentRepository } from '../consent.js';
import type { ConsentEventTable, Database } from '../types.js';

export class KyselyConsentRepository implements ConsentRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(e: ConsentEventRecord): Promise<void> {
    await this.#db
      .insertInto('consent_events')
      .values({
        id: e.id,
        seq: e.seq,
        subject_id: e.subjectId,
        subject_ref: e.subjectRef,
        purpose: e.purpose,
        kind: e.kind,
        recipient: e.recipient,
        action: e.action,
        policy_version: e.policyVersion,
        channel: e.channel,
        ui_version: e.uiVersion,
        locale: e.locale,
        ip_hash: e.ipHash,
        ua_hash: e.userAgentHash,
        guardian_relationship: e.guardianRelationship,
        guardian_hash: e.guardianHash,
        minor: e.minor ? 1 : 0,
        recorded_at: e.recordedAt,
        recorded_by: e.recordedBy,
        receipt_id: e.receiptId,
        receipt: e.receipt,
      })
      .execute();
  }

  async listForSubject(subjectId: string): Promise<ConsentEventRecord[]> {
    const rows = await this.#db
      .selectFrom('consent_events')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .orderBy('seq')
      .execute();
    return rows.map(toEvent);
  }

  async lastSeq(subjectId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('consent_events')
      .select((eb) => eb.fn.max('seq').as('last'))
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return Number(row?.last ?? 0);
  }

  async byReceiptId(receiptId: string): Promise<ConsentEventRecord | undefined> {
    const row = await this.#db
      .selectFrom('consent_events')
      .selectAll()
      .where('receipt_id', '=', receiptId)
      .executeTakeFirst();
    return row && toEvent(row);
  }

  async unlinkSubject(subjectId: string): Promise<number> {
    const result = await this.#db
      .updateTable('consent_events')
      .set({ subject_id: null, ip_hash: null, ua_hash: null, guardian_hash: null })
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

function toEvent(r: Selectable<ConsentEventTable>): ConsentEventRecord {
  return {
    id: r.id,
    seq: Number(r.seq),
    subjectId: r.subject_id,
    subjectRef: r.subject_ref,
    purpose: r.purpose,
    kind: r.kind as ConsentKind,
    recipient: r.recipient,
    action: r.action as ConsentAction,
    policyVersion: Number(r.policy_version),
    channel: r.channel as ConsentChannel,
    uiVersion: r.ui_version,
    locale: r.locale,
    ipHash: r.ip_hash,
    userAgentHash: r.ua_hash,
    guardianRelationship: r.guardian_relationship as GuardianRelationship | null,
    guardianHash: r.guardian_hash,
    minor: Number(r.minor) === 1,
    recordedAt: r.recorded_at,
    recordedBy: r.recorded_by,
    receiptId: r.receipt_id,
    receipt: r.receipt,
  };
}
