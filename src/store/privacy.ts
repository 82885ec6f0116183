/**
 * Storage port for the privacy centre: notices, one-time sign-in codes, customer sessions and
 * customers' requests. Nothing here holds personal data in clear (see migration 0009).
 */

/** Text in both languages of the privacy centre. */
export interface LocalizedText {
  readonly 'zh-CN': string;
  readonly en: string;
}

export interface NoticeRecord {
  /** UUIDv7. */
  readonly id: string;
  readonly publishedAt: string;
  /** The principal id of the privacy officer who posted it. */
  readonly author: string;
  readonly title: LocalizedText;
  readonly body: LocalizedText;
}

export interface SignInCodeRecord {
  /** UUIDv7: the challenge id the browser holds. */
  readonly id: string;
  /** Keyed hash of the identity kind and normalised value: rate limits sends without storing it. */
  readonly requester: Buffer;
  /** The subject the identity belongs to, or null when none does (the code then never verifies). */
  readonly subjectId: string | null;
  /** Keyed hash of the challenge id and the code. */
  readonly codeHash: Buffer;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly attempts: number;
  readonly usedAt: string | null;
}

export interface CustomerSessionRecord {
  /** SHA-256 of the session id; the id lives only in the customer's cookie. */
  readonly idHash: Buffer;
  readonly subjectId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
}

export const PRIVACY_REQUEST_KINDS = ['copy', 'correction', 'deletion'] as const;
export type PrivacyRequestKind = (typeof PRIVACY_REQUEST_KINDS)[number];

export interface PrivacyRequestRecord {
  /** UUIDv7. */
  readonly id: string;
  readonly subjectId: string;
  readonly kind: PrivacyRequestKind;
  readonly receivedAt: string;
  /** `received` until the request workflow (a later issue) takes it on. */
  readonly status: 'received';
}

export interface PrivacyCentreRepository {
  insertNotice(notice: NoticeRecord): Promise<void>;
  /** Newest first. */
  listNotices(limit: number): Promise<NoticeRecord[]>;
  insertCode(code: SignInCodeRecord): Promise<void>;
  code(id: string): Promise<SignInCodeRecord | undefined>;
  /** How many codes were issued for `requester` at or after `since`. */
  countCodesSince(requester: Buffer, since: string): Promise<number>;
  /** Deletes codes issued before `before` (R10: verification artefacts do not outlive their use). */
  deleteCodesBefore(before: string): Promise<number>;
  /**
   * Counts one try at the code, atomically: only while it is unused and has had fewer than `max`
   * tries. False when the try is not allowed (no such code, used, or out of tries). Concurrent
   * tries each see the others' counts, so no more than `max` are ever checked.
   */
  claimAttempt(id: string, max: number): Promise<boolean>;
  /** Marks the code used if it is not yet; false when it was used already or does not exist. */
  useCode(id: string, at: string): Promise<boolean>;
  insertSession(session: CustomerSessionRecord): Promise<void>;
  session(idHash: Buffer): Promise<CustomerSessionRecord | undefined>;
  /** Ends a session; false when unknown or ended already. */
  revokeSession(idHash: Buffer, at: string): Promise<boolean>;
  /** Erasure: deletes the subject's sign-in codes and sessions; returns how many rows went. */
  deleteSignInsFor(subjectId: string): Promise<number>;
  insertRequest(request: PrivacyRequestRecord): Promise<void>;
  /** Newest first. */
  listRequests(subjectId: string): Promise<PrivacyRequestRecord[]>;
}
