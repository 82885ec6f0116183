/**
 * Consent receipts: what the customer (or a regulator) is handed after each change, signed as a
 * compact JWS by the service. The claims follow ISO/IEC TS 27560 (a consent record's controller,
 * subject, purposes, legal basis, notice version, time, method and state) and the Kantara Consent
 * Receipt v1.1 (docs/consent.md maps every claim). They carry no personal data: the subject is a
 * keyed pseudonym and the guardian appears as a relationship only.
 */
import type { LegalBasis } from '../datamap/schema.js';
import type {
  ConsentAction,
  ConsentChannel,
  ConsentKind,
  GuardianRelationship,
  SeparateConsentKind,
} from './model.js';
import { SEPARATE_CONSENT_KINDS } from './model.js';

/** The receipt format; part of every receipt. */
export const RECEIPT_VERSION = 'custodian.consent-receipt/1';
/** The JOSE `typ` of a receipt (RFC 8725 §3.11: explicit typing). */
export const RECEIPT_TYPE = 'consent-receipt+jwt';

type Text = string | { readonly 'zh-CN': string; readonly en: string };

export interface ReceiptPurpose {
  readonly id: string;
  readonly name: { readonly 'zh-CN': string; readonly en: string };
  readonly legalBasis: LegalBasis;
}

export interface ReceiptRecipient {
  readonly id: string;
  readonly name: Text;
  readonly contact: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
}

/** The claims of a receipt (the JWS payload). */
export interface ConsentReceiptClaims {
  /** The controller (个人信息处理者) that issued it: its name. */
  readonly iss: string;
  /** The subject's keyed pseudonym, the same one the audit log uses; never the subject id. */
  readonly sub: string;
  /** The receipt id. */
  readonly jti: string;
  /** When the change was recorded (seconds since the epoch). */
  readonly iat: number;
  readonly version: typeof RECEIPT_VERSION;
  readonly jurisdiction: 'CN';
  readonly controller: { readonly name: string; readonly contact: string };
  readonly action: ConsentAction;
  readonly kind: ConsentKind;
  readonly channel: ConsentChannel;
  readonly language?: string;
  readonly policyVersion: number;
  readonly policyUrl: string;
  readonly purposes: readonly ReceiptPurpose[];
  /** Which separate consent (单独同意) this receipt records; all false for the purpose itself. */
  readonly separateConsents: Readonly<Record<SeparateConsentKind, boolean>>;
  readonly recipient?: ReceiptRecipient;
  /** Present when a guardian acted for a child under 14 (PIPL Art. 31). */
  readonly guardian?: { readonly relationship: GuardianRelationship };
  /** The ledger event the receipt is for. */
  readonly eventId: string;
}

export interface ReceiptInput {
  readonly receiptId: string;
  readonly eventId: string;
  readonly at: Date;
  readonly subjectRef: string;
  readonly controller: { readonly name: string; readonly contact: string };
  readonly action: ConsentAction;
  readonly kind: ConsentKind;
  readonly channel: ConsentChannel;
  readonly language?: string | undefined;
  readonly policyVersion: number;
  /** Where the published version can be read, e.g. `/privacy/policy?version=3`. */
  readonly policyUrl: string;
  readonly purpose: ReceiptPurpose;
  readonly recipient?: ReceiptRecipient | undefined;
  readonly guardian?: GuardianRelationship | null | undefined;
}

export function receiptClaims(input: ReceiptInput): ConsentReceiptClaims {
  const separateConsents = Object.fromEntries(
    SEPARATE_CONSENT_KINDS.map((k) => [k, input.kind === k]),
  ) as Record<SeparateConsentKind, boolean>;
  return {
    iss: input.controller.name,
    sub: input.subjectRef,
    jti: input.receiptId,
    iat: Math.floor(input.at.getTime() / 1000),
    version: RECEIPT_VERSION,
    jurisdiction: 'CN',
    controller: { name: input.controller.name, contact: input.controller.contact },
    action: input.action,
    kind: input.kind,
    channel: input.channel,
    ...(input.language === undefined ? {} : { language: input.language }),
    policyVersion: input.policyVersion,
    policyUrl: input.policyUrl,
    purposes: [
      {
        id: input.purpose.id,
        name: { 'zh-CN': input.purpose.name['zh-CN'], en: input.purpose.name.en },
        legalBasis: input.purpose.legalBasis,
      },
    ],
    separateConsents,
    ...(input.recipient === undefined ? {} : { recipient: input.recipient }),
    ...(input.guardian == null ? {} : { guardian: { relationship: input.guardian } }),
    eventId: input.eventId,
  };
}
