/**
 * Storage ports for access control: staff accounts, their sessions and training, break-glass
 * grants and export requests. Part of the one {@link Repositories} set (see store.ts).
 */

export interface StaffRecord {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly role: string;
  /** argon2id PHC string. */
  readonly passwordHash: string;
  /** The TOTP secret, sealed under the staff-secrets key; null until enrolled. */
  readonly totpSealed: Buffer | null;
  readonly totpEnrolledAt: string | null;
  readonly failedAttempts: number;
  readonly lockedUntil: string | null;
  readonly disabledAt: string | null;
  readonly createdAt: string;
  readonly lastLoginAt: string | null;
}

export interface StaffRepository {
  insert(staff: StaffRecord): Promise<void>;
  byId(id: string): Promise<StaffRecord | undefined>;
  byUsername(username: string): Promise<StaffRecord | undefined>;
  list(): Promise<StaffRecord[]>;
  /**
   * Applies a partial update; returns false when no such staff member exists or, given
   * `ifTotpSealed`, when the stored TOTP state is no longer those bytes (compare-and-set: a code
   * spent by another process in the meantime).
   */
  update(
    id: string,
    patch: Partial<Omit<StaffRecord, 'id' | 'username' | 'createdAt'>>,
    ifTotpSealed?: Buffer,
  ): Promise<boolean>;
  /**
   * Records one failed sign-in atomically in the database, so that concurrent failures through
   * any number of processes each count once: the count goes up by one, or starts again at 1 when
   * it had reached `maxFailures` and that lockout has run out (`lockedUntil` at or before `at`);
   * it never goes above `maxFailures`. `lockedUntil` becomes `policy.lockedUntil(count)`, unless a
   * refusal still running at `at` ends later (a running one is never shortened). Returns the new
   * count and refusal end, or undefined when no such staff member exists.
   */
  recordFailure(id: string, policy: FailurePolicy): Promise<RecordedFailure | undefined>;
}

/** How {@link StaffRepository.recordFailure} counts a failed sign-in. */
export interface FailurePolicy {
  /** When the attempt was made (ISO-8601). */
  readonly at: string;
  /** The count that locks the account (`access.lockout.maxFailures`); the count stops there. */
  readonly maxFailures: number;
  /** Until when the `failures`-th failure in a row refuses further attempts (ISO-8601). */
  readonly lockedUntil: (failures: number) => string;
}

export interface RecordedFailure {
  /** Failures in a row, this one included. */
  readonly failedAttempts: number;
  readonly lockedUntil: string;
}

export interface SessionRecord {
  /** SHA-256 of the session token; the token itself lives only in the browser's cookie. */
  readonly idHash: Buffer;
  readonly staffId: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  /** Absolute expiry; the idle timeout is checked against `lastSeenAt`. */
  readonly expiresAt: string;
  readonly revokedAt: string | null;
}

export interface SessionRepository {
  insert(session: SessionRecord): Promise<void>;
  byHash(idHash: Buffer): Promise<SessionRecord | undefined>;
  touch(idHash: Buffer, at: string): Promise<void>;
  revoke(idHash: Buffer, at: string): Promise<boolean>;
  revokeForStaff(staffId: string, at: string): Promise<number>;
}

export interface TrainingRecord {
  readonly id: string;
  readonly staffId: string;
  readonly course: string;
  readonly completedAt: string;
  readonly expiresAt: string;
  readonly recordedBy: string;
}

export interface TrainingRepository {
  insert(training: TrainingRecord): Promise<void>;
  listForStaff(staffId: string): Promise<TrainingRecord[]>;
  /** The latest expiry over all of a staff member's courses, or null when none is recorded. */
  currentUntil(staffId: string): Promise<string | null>;
}

export interface BreakGlassRecord {
  readonly id: string;
  readonly principalId: string;
  readonly role: string;
  /** The one subject the grant covers; break-glass is never a blanket grant. */
  readonly subjectId: string;
  readonly purpose: string;
  readonly justification: string;
  readonly ticket: string;
  readonly grantedAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly reviewedBy: string | null;
  readonly reviewedAt: string | null;
  readonly reviewOutcome: 'justified' | 'unjustified' | null;
  readonly reviewNote: string | null;
}

export interface BreakGlassRepository {
  insert(grant: BreakGlassRecord): Promise<void>;
  byId(id: string): Promise<BreakGlassRecord | undefined>;
  /** Grants of this principal for this subject and purpose that are active at `at`. */
  active(
    principalId: string,
    subjectId: string,
    purpose: string,
    at: string,
  ): Promise<BreakGlassRecord | undefined>;
  /**
   * One page of the grants nobody has reviewed yet, newest first (by id: UUIDv7, so by grant
   * time): at most `limit`, only ids below `before` when given.
   */
  pendingReview(page: PageQuery): Promise<BreakGlassRecord[]>;
  review(
    id: string,
    by: string,
    at: string,
    outcome: 'justified' | 'unjustified',
    note: string,
  ): Promise<boolean>;
}

export type ExportStatus = 'pending' | 'approved' | 'denied' | 'downloaded';

export interface ExportRecord {
  readonly id: string;
  readonly requestedBy: string;
  readonly requesterRole: string;
  readonly purpose: string;
  readonly subjectIds: readonly string[];
  /** How the file is encrypted: for a passphrase or a recipient's X25519 public key. */
  readonly recipient:
    { readonly kind: 'passphrase' } | { readonly kind: 'public-key'; readonly publicKey: string };
  /** Who receives the file: a `datamap.recipients` id, or null for an internal export (R31). */
  readonly recipientId: string | null;
  readonly status: ExportStatus;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly decisionNote: string | null;
  readonly createdAt: string;
  readonly downloadedAt: string | null;
}

/**
 * An export request as lists show it: the number of subjects, never their ids (an export may hold
 * 100,000 of them; only {@link ExportRepository.byId} loads them).
 */
export type ExportSummary = Omit<ExportRecord, 'subjectIds'> & { readonly subjectCount: number };

/** Keyset paging: at most `limit` rows, only those whose id sorts below `before` when given. */
export interface PageQuery {
  readonly limit: number;
  readonly before?: string | undefined;
}

export interface ExportRepository {
  insert(request: ExportRecord): Promise<void>;
  byId(id: string): Promise<ExportRecord | undefined>;
  /**
   * One page of export requests, optionally of one status, newest first (by id: UUIDv7, so by
   * creation time). Never reads the stored subject ids.
   */
  list(query: PageQuery & { readonly status?: ExportStatus | undefined }): Promise<ExportSummary[]>;
  /** Moves a request from `from` to `to`; false when it was not in `from` (decided already). */
  transition(
    id: string,
    from: ExportStatus,
    to: ExportStatus,
    patch: {
      readonly decidedBy?: string;
      readonly decidedAt?: string;
      readonly decisionNote?: string;
      readonly downloadedAt?: string;
    },
  ): Promise<boolean>;
}
