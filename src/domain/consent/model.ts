/**
 * The consent ledger's vocabulary (PIPL Art. 13-16, 23, 25, 29, 31, 39; NDSR Art. 22; R2-R5).
 * A consent is never a flag that is overwritten: each grant, withdrawal or refusal is an event,
 * and the current state is derived from the history (src/domain/consent/state.ts).
 */

/** What the customer did. */
export const CONSENT_ACTIONS = ['grant', 'withdraw', 'refuse'] as const;
export type ConsentAction = (typeof CONSENT_ACTIONS)[number];

/**
 * What a consent covers: the purpose itself, or one of the separate consents (单独同意, R2) that
 * PIPL requires apart from it — provision to a named third party (Art. 23), sensitive PI
 * (Art. 29), cross-border transfer (Art. 39) and public disclosure (Art. 25).
 */
export const CONSENT_KINDS = [
  'purpose',
  'provide_to_third_party',
  'sensitive_pi',
  'cross_border',
  'public_disclosure',
] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];

/** The separate-consent kinds: every kind but the purpose itself. */
export type SeparateConsentKind = Exclude<ConsentKind, 'purpose'>;
export const SEPARATE_CONSENT_KINDS = CONSENT_KINDS.filter((k): k is SeparateConsentKind => k !== 'purpose');

/** Where the customer gave (or refused) it. */
export const CONSENT_CHANNELS = ['tmall-store', 'mini-program', 'h5', 'offline', 'customer-service'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

/** Who consented for a child under 14 (PIPL Art. 31). */
export const GUARDIAN_RELATIONSHIPS = ['parent', 'legal-guardian'] as const;
export type GuardianRelationship = (typeof GUARDIAN_RELATIONSHIPS)[number];

/** PIPL Art. 28 and 31: the PI of a person under this age is sensitive and needs a guardian's consent. */
export const MINOR_AGE = 14;

/**
 * One event of the ledger as the rules see it. It holds no personal data: the subject is the
 * caller's concern, the evidence is keyed hashes and the guardian is a relationship and a hash.
 */
export interface ConsentEvent {
  readonly id: string;
  /** Position in the subject's ledger, from 1: the order events happened in, even within one millisecond. */
  readonly seq: number;
  readonly purpose: string;
  readonly kind: ConsentKind;
  /** The third party (or foreign recipient) a separate consent names; null otherwise. */
  readonly recipient: string | null;
  readonly action: ConsentAction;
  /** The published privacy-policy version the customer saw. */
  readonly policyVersion: number;
  readonly channel: ConsentChannel;
  /** ISO-8601 time it was recorded. */
  readonly at: string;
  /** The subject was under 14 when the event was recorded (by stored data or a declared birth date). */
  readonly minor: boolean;
  /** Set when a guardian gave the consent for the subject. */
  readonly guardianRelationship: GuardianRelationship | null;
}

/** Identifies one consent line: what a later event for the same key replaces. */
export interface ConsentKey {
  readonly purpose: string;
  readonly kind: ConsentKind;
  readonly recipient: string | null;
}

export function consentKeyOf(k: ConsentKey): string {
  return `${k.purpose}\u0000${k.kind}\u0000${k.recipient ?? ''}`;
}
