/**
 * Storage port for the consent ledger (docs/consent.md): append-only events, one per grant,
 * withdrawal or refusal. A row holds no personal data beyond the link to its subject: evidence
 * and the guardian's identity are keyed hashes, the subject also appears as its keyed pseudonym.
 * Erasing the subject cuts the link and drops the hashes; the rest stays as proof of consent.
 */
import type {
  ConsentAction,
  ConsentChannel,
  ConsentKind,
  GuardianRelationship,
} from '../domain/consent/model.js';

export interface ConsentEventRecord {
  /** UUIDv7: time-ordered. */
  readonly id: string;
  /** Position in the subject's ledger, from 1 (unique per `subjectRef`). */
  readonly seq: number;
  /** Null once the subject has been erased. */
  readonly subjectId: string | null;
  /** The subject's keyed pseudonym (the audit log's and the receipt's `sub`). */
  readonly subjectRef: string;
  readonly purpose: string;
  readonly kind: ConsentKind;
  readonly recipient: string | null;
  readonly action: ConsentAction;
  readonly policyVersion: number;
  readonly channel: ConsentChannel;
  readonly uiVersion: string | null;
  readonly locale: string | null;
  /** HMAC-SHA-256 of the customer's IP address under the consent-evidence key; never the address. */
  readonly ipHash: Buffer | null;
  /** HMAC-SHA-256 of the customer's user agent under the same key. */
  readonly userAgentHash: Buffer | null;
  readonly guardianRelationship: GuardianRelationship | null;
  /** HMAC-SHA-256 of the guardian's name; never the name. */
  readonly guardianHash: Buffer | null;
  /** The subject was under 14 when this was recorded. */
  readonly minor: boolean;
  readonly recordedAt: string;
  /** The principal (API key or staff member) that recorded it. */
  readonly recordedBy: string;
  readonly receiptId: string;
  /** The signed receipt, a compact JWS. */
  readonly receipt: string;
}

export interface ConsentRepository {
  insert(event: ConsentEventRecord): Promise<void>;
  /** A subject's events, oldest first. */
  listForSubject(subjectId: string): Promise<ConsentEventRecord[]>;
  /**
   * The highest `seq` of the subject's events, 0 when none (or once erasure unlinked them). Keyed
   * on the subject, not its pseudonym: the pseudonym changes when the index root is rotated, and
   * the ledger's order must carry on across that.
   */
  lastSeq(subjectId: string): Promise<number>;
  byReceiptId(receiptId: string): Promise<ConsentEventRecord | undefined>;
  /**
   * Erasure: cuts the subject link and drops the evidence and guardian hashes of every event of
   * the subject; returns how many events it changed. The events stay, under the pseudonym.
   */
  unlinkSubject(subjectId: string): Promise<number>;
}
