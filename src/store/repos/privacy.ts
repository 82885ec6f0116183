import type { Kysely } from 'kysely';
import type {
  CustomerSessionRecord,
  LocalizedText,
  NoticeRecord,
  PrivacyCentreRepository,
  PrivacyRequestKind,
  PrivacyRequestRecord,
  SignInCodeRecord,
} from '../privacy.js';
import type { Database } from '../types.js';

export class KyselyPrivacyCentreRepository implements PrivacyCentreRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertNotice(n: NoticeRecord): Promise<void> {
    await this.#db
      .insertInto('privacy_notices')
      .values({
        id: n.id,
        published_at: n.publishedAt,
        author: n.author,
        title: JSON.stringify(n.title),
        body: JSON.stringify(n.body),
      })
      .execute();
  }

  async listNotices(limit: number): Promise<NoticeRecord[]> {
    const rows = await this.#db
      .selectFrom('privacy_notices')
      .selectAll()
      .orderBy('published_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      publishedAt: r.published_at,
      author: r.author,
      title: JSON.parse(r.title) as LocalizedText,
      body: JSON.parse(r.body) as LocalizedText,
    }));
  }

  async insertCode(c: SignInCodeRecord): Promise<void> {
    await this.#db
      .insertInto('privacy_codes')
      .values({
        id: c.id,
        requester: c.requester,
        subject_id: c.subjectId,
        code_hash: c.codeHash,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
        attempts: c.attempts,
        used_at: c.usedAt,
      })
      .execute();
  }

  async code(id: string): Promise<SignInCodeRecord | undefined> {
    const r = await this.#db.selectFrom('privacy_codes').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      r && {
        id: r.id,
        requester: Buffer.from(r.requester),
        subjectId: r.subject_id,
        codeHash: Buffer.from(r.code_hash),
        createdAt: r.created_at,
        expiresAt: r.expires_at,
        attempts: Number(r.attempts),
        usedAt: r.used_at,
      }
    );
  }

  async countCodesSince(requester: Buffer, since: string): Promise<number> {
    const row = await this.#db
      .selectFrom('privacy_codes')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('requester', '=', requester)
      .where('created_at', '>=', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async deleteCodesBefore(before: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('privacy_codes')
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async claimAttempt(id: string, max: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('privacy_codes')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('attempts', '<', max)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async useCode(id: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('privacy_codes')
      .set({ used_at: at })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async insertSession(s: CustomerSessionRecord): Promise<void> {
    await this.#db
      .insertInto('privacy_sessions')
      .values({
        id_hash: s.idHash,
        subject_id: s.subjectId,
        created_at: s.createdAt,
        expires_at: s.expiresAt,
        revoked_at: s.revokedAt,
      })
      .execute();
  }

  async session(idHash: Buffer): Promise<CustomerSessionRecord | undefined> {
    const r = await this.#db
      .selectFrom('privacy_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return (
      r && {
        idHash: Buffer.from(r.id_hash),
        subjectId: r.subject_id,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
        revokedAt: r.revoked_at,
      }
    );
  }

  async revokeSession(idHash: Buffer, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('privacy_sessions')
      .set({ revoked_at: at })
      .where('id_hash', '=', idHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async deleteSignInsFor(subjectId: string): Promise<number> {
    const codes = await this.#db
      .deleteFrom('privacy_codes')
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    const sessions = await this.#db
      .deleteFrom('privacy_sessions')
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return Number(codes.numDeletedRows) + Number(sessions.numDeletedRows);
  }

  async insertRequest(r: PrivacyRequestRecord): Promise<void> {
    await this.#db
      .insertInto('privacy_requests')
      .values({
        id: r.id,
        subject_id: r.subjectId,
        kind: r.kind,
        received_at: r.receivedAt,
        status: r.status,
      })
      .execute();
  }

  async listRequests(subjectId: string): Promise<PrivacyRequestRecord[]> {
    const rows = await this.#db
      .selectFrom('privacy_requests')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .orderBy('received_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      subjectId: r.subject_id,
      kind: r.kind as PrivacyRequestKind,
      receivedAt: r.received_at,
      status: 'received' as const,
    }));
  }
}
