import type { Kysely, Selectable } from 'kysely';
import type {
  BreakGlassRecord,
  BreakGlassRepository,
  ExportRecord,
  ExportRepository,
  ExportStatus,
  ExportSummary,
  FailurePolicy,
  PageQuery,
  RecordedFailure,
  SessionRecord,
  SessionRepository,
  StaffRecord,
  StaffRepository,
  TrainingRecord,
  TrainingRepository,
} from '../access.js';
import type { BreakGlassTable, Database, ExportTable, StaffTable } from '../types.js';

export class KyselyStaffRepository implements StaffRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(s: StaffRecord): Promise<void> {
    await this.#db
      .insertInto('staff')
      .values({
        id: s.id,
        username: s.username,
        display_name: s.displayName,
        role: s.role,
        password_hash: s.passwordHash,
        totp_sealed: s.totpSealed,
        totp_enrolled_at: s.totpEnrolledAt,
        failed_attempts: s.failedAttempts,
        locked_until: s.lockedUntil,
        disabled_at: s.disabledAt,
        created_at: s.createdAt,
        last_login_at: s.lastLoginAt,
      })
      .execute();
  }

  async byId(id: string): Promise<StaffRecord | undefined> {
    const row = await this.#db.selectFrom('staff').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toStaff(row);
  }

  async byUsername(username: string): Promise<StaffRecord | undefined> {
    const row = await this.#db
      .selectFrom('staff')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return row && toStaff(row);
  }

  async list(): Promise<StaffRecord[]> {
    return (await this.#db.selectFrom('staff').selectAll().orderBy('username').execute()).map(toStaff);
  }

  async update(
    id: string,
    patch: Partial<Omit<StaffRecord, 'id' | 'username' | 'createdAt'>>,
    ifTotpSealed?: Buffer,
  ): Promise<boolean> {
    const set: Partial<Selectable<StaffTable>> = {};
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.role !== undefined) set.role = patch.role;
    if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash;
    if (patch.totpSealed !== undefined) set.totp_sealed = patch.totpSealed;
    if (patch.totpEnrolledAt !== undefined) set.totp_enrolled_at = patch.totpEnrolledAt;
    if (patch.failedAttempts !== undefined) set.failed_attempts = patch.failedAttempts;
    if (patch.lockedUntil !== undefined) set.locked_until = patch.lockedUntil;
    if (patch.disabledAt !== undefined) set.disabled_at = patch.disabledAt;
    if (patch.lastLoginAt !== undefined) set.last_login_at = patch.lastLoginAt;
    if (Object.keys(set).length === 0) return (await this.byId(id)) !== undefined;
    let query = this.#db.updateTable('staff').set(set).where('id', '=', id);
    if (ifTotpSealed !== undefined) query = query.where('totp_sealed', '=', ifTotpSealed);
    const result = await query.executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async recordFailure(id: string, policy: FailurePolicy): Promise<RecordedFailure | undefined> {
    const record = async (db: Kysely<Database>): Promise<RecordedFailure | undefined> => {
      // The count is raised by the database itself, in a statement that writes before anything is
      // read: it takes the row lock (PostgreSQL) or the write lock (SQLite) first, so a concurrent
      // failure from another process waits for this transaction and then counts on from its result.
      const row = await db
        .updateTable('staff')
        .set((eb) => ({
          failed_attempts: eb
            .case()
            .when(
              eb.and([
                eb('failed_attempts', '>=', policy.maxFailures),
                eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', policy.at)]),
              ]),
            )
            .then(eb.lit(1))
            .when('failed_attempts', '>=', policy.maxFailures)
            .then(eb.val(policy.maxFailures))
            .else(eb('failed_attempts', '+', eb.lit(1)))
            .end(),
        }))
        .where('id', '=', id)
        .returning(['failed_attempts', 'locked_until'])
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const failedAttempts = Number(row.failed_attempts);
      const wanted = policy.lockedUntil(failedAttempts);
      // The row is still locked by this transaction: nobody else wrote in between. A refusal that
      // still runs and ends later than this one (set by a server whose clock is ahead) is kept.
      const running = row.locked_until !== null && row.locked_until > policy.at ? row.locked_until : null;
      const lockedUntil = running !== null && running > wanted ? running : wanted;
      await db.updateTable('staff').set({ locked_until: lockedUntil }).where('id', '=', id).execute();
      return { failedAttempts, lockedUntil };
    };
    return this.#db.isTransaction ? record(this.#db) : this.#db.transaction().execute(record);
  }
}

function toStaff(r: Selectable<StaffTable>): StaffRecord {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    role: r.role,
    passwordHash: r.password_hash,
    totpSealed: r.totp_sealed === null ? null : Buffer.from(r.totp_sealed),
    totpEnrolledAt: r.totp_enrolled_at,
    failedAttempts: Number(r.failed_attempts),
    lockedUntil: r.locked_until,
    disabledAt: r.disabled_at,
    createdAt: r.created_at,
    lastLoginAt: r.last_login_at,
  };
}

export class KyselySessionRepository implements SessionRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(s: SessionRecord): Promise<void> {
    await this.#db
      .insertInto('staff_sessions')
      .values({
        id_hash: s.idHash,
        staff_id: s.staffId,
        created_at: s.createdAt,
        last_seen_at: s.lastSeenAt,
        expires_at: s.expiresAt,
        revoked_at: s.revokedAt,
      })
      .execute();
  }

  async byHash(idHash: Buffer): Promise<SessionRecord | undefined> {
    const r = await this.#db
      .selectFrom('staff_sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return (
      r && {
        idHash: Buffer.from(r.id_hash),
        staffId: r.staff_id,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.expires_at,
        revokedAt: r.revoked_at,
      }
    );
  }

  async touch(idHash: Buffer, at: string): Promise<void> {
    await this.#db
      .updateTable('staff_sessions')
      .set({ last_seen_at: at })
      .where('id_hash', '=', idHash)
      .execute();
  }

  async revoke(idHash: Buffer, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('staff_sessions')
      .set({ revoked_at: at })
      .where('id_hash', '=', idHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeForStaff(staffId: string, at: string): Promise<number> {
    const result = await this.#db
      .updateTable('staff_sessions')
      .set({ revoked_at: at })
      .where('staff_id', '=', staffId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

export class KyselyTrainingRepository implements TrainingRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(t: TrainingRecord): Promise<void> {
    await this.#db
      .insertInto('training')
      .values({
        id: t.id,
        staff_id: t.staffId,
        course: t.course,
        completed_at: t.completedAt,
        expires_at: t.expiresAt,
        recorded_by: t.recordedBy,
      })
      .execute();
  }

  async listForStaff(staffId: string): Promise<TrainingRecord[]> {
    const rows = await this.#db
      .selectFrom('training')
      .selectAll()
      .where('staff_id', '=', staffId)
      .orderBy('completed_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      staffId: r.staff_id,
      course: r.course,
      completedAt: r.completed_at,
      expiresAt: r.expires_at,
      recordedBy: r.recorded_by,
    }));
  }

  async currentUntil(staffId: string): Promise<string | null> {
    const row = await this.#db
      .selectFrom('training')
      .select((eb) => eb.fn.max('expires_at').as('until'))
      .where('staff_id', '=', staffId)
      .executeTakeFirst();
    return row?.until ?? null;
  }
}

export class KyselyBreakGlassRepository implements BreakGlassRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(g: BreakGlassRecord): Promise<void> {
    await this.#db
      .insertInto('break_glass')
      .values({
        id: g.id,
        principal_id: g.principalId,
        role: g.role,
        subject_id: g.subjectId,
        purpose: g.purpose,
        justification: g.justification,
        ticket: g.ticket,
        granted_at: g.grantedAt,
        expires_at: g.expiresAt,
        revoked_at: g.revokedAt,
        reviewed_by: g.reviewedBy,
        reviewed_at: g.reviewedAt,
        review_outcome: g.reviewOutcome,
        review_note: g.reviewNote,
      })
      .execute();
  }

  async byId(id: string): Promise<BreakGlassRecord | undefined> {
    const row = await this.#db.selectFrom('break_glass').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toGrant(row);
  }

  async active(
    principalId: string,
    subjectId: string,
    purpose: string,
    at: string,
  ): Promise<BreakGlassRecord | undefined> {
    const row = await this.#db
      .selectFrom('break_glass')
      .selectAll()
      .where('principal_id', '=', principalId)
      .where('subject_id', '=', subjectId)
      .where('purpose', '=', purpose)
      .where('granted_at', '<=', at)
      .where('expires_at', '>', at)
      .where('revoked_at', 'is', null)
      .orderBy('expires_at', 'desc')
      .executeTakeFirst();
    return row && toGrant(row);
  }

  async pendingReview(page: PageQuery): Promise<BreakGlassRecord[]> {
    let q = this.#db.selectFrom('break_glass').selectAll().where('reviewed_at', 'is', null);
    if (page.before !== undefined) q = q.where('id', '<', page.before);
    const rows = await q.orderBy('id', 'desc').limit(page.limit).execute();
    return rows.map(toGrant);
  }

  async review(
    id: string,
    by: string,
    at: string,
    outcome: 'justified' | 'unjustified',
    note: string,
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('break_glass')
      .set({ reviewed_by: by, reviewed_at: at, review_outcome: outcome, review_note: note })
      .where('id', '=', id)
      .where('reviewed_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

function toGrant(r: Selectable<BreakGlassTable>): BreakGlassRecord {
  return {
    id: r.id,
    principalId: r.principal_id,
    role: r.role,
    subjectId: r.subject_id,
    purpose: r.purpose,
    justification: r.justification,
    ticket: r.ticket,
    grantedAt: r.granted_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    reviewedBy: r.reviewed_by,
    reviewedAt: r.reviewed_at,
    reviewOutcome:
      r.review_outcome === 'justified' || r.review_outcome === 'unjustified' ? r.review_outcome : null,
    reviewNote: r.review_note,
  };
}

export class KyselyExportRepository implements ExportRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(e: ExportRecord): Promise<void> {
    await this.#db
      .insertInto('exports')
      .values({
        id: e.id,
        requested_by: e.requestedBy,
        requester_role: e.requesterRole,
        purpose: e.purpose,
        subject_ids: JSON.stringify(e.subjectIds),
        subject_count: e.subjectIds.length,
        recipient: JSON.stringify(e.recipient),
        recipient_id: e.recipientId,
        status: e.status,
        decided_by: e.decidedBy,
        decided_at: e.decidedAt,
        decision_note: e.decisionNote,
        created_at: e.createdAt,
        downloaded_at: e.downloadedAt,
      })
      .execute();
  }

  async byId(id: string): Promise<ExportRecord | undefined> {
    const row = await this.#db.selectFrom('exports').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toExport(row);
  }

  async list(query: PageQuery & { readonly status?: ExportStatus | undefined }): Promise<ExportSummary[]> {
    // Every column but subject_ids: that one may be a megabyte per row, and lists only count it.
    let q = this.#db
      .selectFrom('exports')
      .select([
        'id',
        'requested_by',
        'requester_role',
        'purpose',
        'subject_count',
        'recipient',
        'recipient_id',
        'status',
        'decided_by',
        'decided_at',
        'decision_note',
        'created_at',
        'downloaded_at',
      ]);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.before !== undefined) q = q.where('id', '<', query.before);
    const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toExportSummary);
  }

  async transition(
    id: string,
    from: ExportStatus,
    to: ExportStatus,
    patch: { decidedBy?: string; decidedAt?: string; decisionNote?: string; downloadedAt?: string },
  ): Promise<boolean> {
    const result = await this.#db
      .updateTable('exports')
      .set({
        status: to,
        ...(patch.decidedBy === undefined ? {} : { decided_by: patch.decidedBy }),
        ...(patch.decidedAt === undefined ? {} : { decided_at: patch.decidedAt }),
        ...(patch.decisionNote === undefined ? {} : { decision_note: patch.decisionNote }),
        ...(patch.downloadedAt === undefined ? {} : { downloaded_at: patch.downloadedAt }),
      })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}

function toExportSummary(r: Omit<Selectable<ExportTable>, 'subject_ids'>): ExportSummary {
  return {
    id: r.id,
    requestedBy: r.requested_by,
    requesterRole: r.requester_role,
    purpose: r.purpose,
    subjectCount: Number(r.subject_count),
    recipient: JSON.parse(r.recipient) as ExportRecord['recipient'],
    recipientId: r.recipient_id,
    status: r.status as ExportStatus,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    decisionNote: r.decision_note,
    createdAt: r.created_at,
    downloadedAt: r.downloaded_at,
  };
}

function toExport(r: Selectable<ExportTable>): ExportRecord {
  const { subjectCount: _count, ...rest } = toExportSummary(r);
  return { ...rest, subjectIds: JSON.parse(r.subject_ids) as string[] };
}
