/**
 * What a consent request may say, checked against the published policy version the customer saw
 * (PIPL Art. 14: consent must be informed, so it can only cover what that version told them).
 */
import type { Datamap } from '../datamap/schema.js';
import type { PolicyScope, ScopePurpose, ScopeRecipient } from '../policy/scope.js';
import { CustodianError } from '../errors.js';
import type { ConsentAction, ConsentKind } from './model.js';

export interface ConsentRequestShape {
  readonly purpose: string;
  readonly kind: ConsentKind;
  readonly recipient?: string | undefined;
  readonly action: ConsentAction;
}

export interface CheckedConsent {
  readonly purpose: ScopePurpose;
  readonly recipient: ScopeRecipient | undefined;
}

/** Kinds that name a recipient: always (provision to a third party) or optionally (cross-border). */
const RECIPIENT_KINDS: Readonly<Record<ConsentKind, 'required' | 'optional' | 'none'>> = {
  purpose: 'none',
  provide_to_third_party: 'required',
  sensitive_pi: 'none',
  cross_border: 'optional',
  public_disclosure: 'none',
};

/**
 * Checks a request against the policy version's scope and returns the purpose (and recipient) as
 * that version described them. Only consent-based purposes take consents: the other legal bases
 * need none (PIPL Art. 13 para 2), and a purpose necessary for the service never waits on one (Art. 16).
 */
export function checkConsentRequest(
  scope: PolicyScope,
  version: number,
  request: ConsentRequestShape,
): CheckedConsent {
  const purpose = scope.purposes.find((p) => p.id === request.purpose);
  if (purpose === undefined) {
    throw new CustodianError(
      'ERR_CONSENT_NOT_IN_POLICY',
      `policy version ${version} does not describe purpose "${request.purpose}"`,
      { details: { purpose: request.purpose, policyVersion: version } },
    );
  }
  if (purpose.legalBasis !== 'consent') {
    throw new CustodianError(
      'ERR_CONSENT_NOT_APPLICABLE',
      `purpose "${purpose.id}" rests on ${purpose.legalBasis}, not consent; it takes no consent (PIPL Art. 13)`,
      { details: { purpose: purpose.id, legalBasis: purpose.legalBasis } },
    );
  }
  const rule = RECIPIENT_KINDS[request.kind];
  if (request.recipient === undefined) {
    if (rule === 'required') throw invalid('recipient-required', request);
    return { purpose, recipient: undefined };
  }
  if (rule === 'none') throw invalid('recipient-not-applicable', request);
  const recipient = scope.recipients.find((r) => r.id === request.recipient);
  if (recipient === undefined) {
    throw new CustodianError(
      'ERR_CONSENT_NOT_IN_POLICY',
      `policy version ${version} does not list recipient "${request.recipient}"`,
      { details: { recipient: request.recipient, policyVersion: version } },
    );
  }
  if (!recipient.purposes.includes(purpose.id)) throw invalid('recipient-not-for-purpose', request);
  // An entrusted processor (受托人) acts on our instructions: no separate consent (Art. 21, 23).
  if (request.kind === 'provide_to_third_party' && recipient.role === 'processor')
    throw invalid('recipient-is-processor', request);
  if (request.kind === 'cross_border' && !recipient.crossBorder)
    throw invalid('recipient-not-abroad', request);
  return { purpose, recipient };
}

function invalid(reason: string, request: ConsentRequestShape): CustodianError {
  return new CustodianError('ERR_CONSENT_INVALID', `the consent request is not valid: ${reason}`, {
    details: {
      reason,
      purpose: request.purpose,
      kind: request.kind,
      ...(request.recipient === undefined ? {} : { recipient: request.recipient }),
    },
  });
}

/** A separate consent an operation needs: of `kind`, naming any of `recipients` (`null`: naming none). */
export interface SeparateConsentNeed {
  readonly kind: 'provide_to_third_party' | 'cross_border';
  readonly recipients: readonly (string | null)[];
}

/**
 * The separate consents that giving a purpose's PI to a registered recipient needs, per customer,
 * when the provision rests on consent (the recipient's own `legalBasis`, else the purpose's):
 * `provide_to_third_party` naming it for anyone but an entrusted processor (PIPL Art. 23; R2), and
 * `cross_border` when it is abroad (Art. 39; R28), naming it or naming no one. None for a
 * recipient the data map does not list (`null`): the export stays in-house.
 */
export function separateConsentsForRecipient(
  datamap: Datamap,
  purposeId: string,
  recipientId: string | null,
): SeparateConsentNeed[] {
  if (recipientId === null) return [];
  const recipient = datamap.recipients.find((r) => r.id === recipientId);
  const purpose = datamap.purposes.find((p) => p.id === purposeId);
  if (recipient === undefined || purpose === undefined) return [];
  if ((recipient.legalBasis ?? purpose.legalBasis) !== 'consent') return [];
  const needs: SeparateConsentNeed[] = [];
  if (recipient.role !== 'processor')
    needs.push({ kind: 'provide_to_third_party', recipients: [recipient.id] });
  if (recipient.crossBorder) needs.push({ kind: 'cross_border', recipients: [recipient.id, null] });
  return needs;
}
