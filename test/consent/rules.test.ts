import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import { AccessPolicy } from '../../src/domain/access/engine.js';
import { resolveRoles } from '../../src/domain/access/roles.js';
import { ageOn, birthDateFrom, isMinorAge, parseBirthDate } from '../../src/domain/consent/age.js';
import type { ConsentEvent } from '../../src/domain/consent/model.js';
import { checkConsentRequest } from '../../src/domain/consent/rules.js';
import {
  askWindow,
  consentFacts,
  currentConsents,
  reconsentVersion,
  separateConsentStands,
} from '../../src/domain/consent/state.js';
import { residentIdCheckDigit } from '../../src/domain/pii/validators.js';
import { policyScope } from '../../src/domain/policy/scope.js';
import { TEST_ROLES } from '../support/roles.js';

const { datamap } = parseConfig(configTemplate({ suite: 'aes-256-gcm', storeName: 'T' }), 'x.yaml');

let n = 0;
const event = (over: Partial<ConsentEvent>): ConsentEvent => ({
  id: `0190a000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
  seq: n,
  purpose: 'marketing',
  kind: 'purpose',
  recipient: null,
  action: 'grant',
  policyVersion: 1,
  channel: 'tmall-store',
  at: `2026-03-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`,
  minor: false,
  guardianRelationship: null,
  ...over,
});

const v = (number: number, reconsent: string[] = []) => ({
  number,
  requiresReconsent: reconsent.length > 0,
  reconsentPurposes: reconsent,
});

describe('consent rules (pure)', () => {
  it('derives the current state from the history: the latest word per line wins', () => {
    const history = [
      event({ at: '2026-03-01T00:00:00.000Z' }),
      event({ at: '2026-03-02T00:00:00.000Z', action: 'withdraw' }),
      event({ at: '2026-03-03T00:00:00.000Z', kind: 'sensitive_pi' }),
    ];
    expect(consentFacts(history, [v(1)], 'marketing')).toEqual({
      purpose: false,
      sensitive: true,
      minor: false,
    });
    const regranted = [...history, event({ at: '2026-03-04T00:00:00.000Z' })];
    expect(consentFacts(regranted, [v(1)], 'marketing').purpose).toBe(true);
    // Same instant: the ledger position decides.
    const tie = [
      event({ at: '2026-03-05T00:00:00.000Z' }),
      event({ at: '2026-03-05T00:00:00.000Z', action: 'withdraw' }),
    ];
    expect(consentFacts([...tie].reverse(), [v(1)], 'marketing').purpose).toBe(false);
    const lines = currentConsents(regranted, [v(1)]);
    expect(lines.map((l) => [l.kind, l.state, l.effective])).toEqual([
      ['purpose', 'grant', true],
      ['sensitive_pi', 'grant', true],
    ]);
  });

  it('asks for consent again after a widening version (R5)', () => {
    const versions = [v(1), v(2, ['marketing']), v(3)];
    expect(reconsentVersion(versions, 'marketing')).toBe(2);
    expect(reconsentVersion(versions, 'customer-service')).toBe(0);
    expect(consentFacts([event({ policyVersion: 1 })], versions, 'marketing').purpose).toBe(false);
    expect(consentFacts([event({ policyVersion: 2 })], versions, 'marketing').purpose).toBe(true);
    expect(consentFacts([event({ policyVersion: 3 })], versions, 'marketing').purpose).toBe(true);
    const [line] = currentConsents([event({ policyVersion: 1 })], versions);
    expect(line).toMatchObject({ effective: false, needsReconsent: true });
  });

  it('lets a minor’s consent stand only when a guardian gave it (R3)', () => {
    expect(consentFacts([event({})], [v(1)], 'marketing', true)).toEqual({
      purpose: false,
      sensitive: false,
      minor: true,
    });
    const guarded = [
      event({ minor: true, guardianRelationship: 'parent' }),
      event({ kind: 'sensitive_pi', minor: true, guardianRelationship: 'parent' }),
    ];
    expect(consentFacts(guarded, [v(1)], 'marketing')).toEqual({
      purpose: true,
      sensitive: true,
      minor: true,
    });
  });

  it('keeps a refusal quiet for the configured days (NDSR Art. 22(5))', () => {
    const key = { purpose: 'marketing', kind: 'purpose' as const, recipient: null };
    const refused = [event({ action: 'refuse', at: '2026-01-01T00:00:00.000Z' })];
    expect(askWindow(refused, key, new Date('2026-06-01T00:00:00.000Z'), 365)).toEqual({
      mayAsk: false,
      askAfter: '2027-01-01T00:00:00.000Z',
    });
    expect(askWindow(refused, key, new Date('2027-01-01T00:00:00.000Z'), 365).mayAsk).toBe(true);
    expect(askWindow([], key, new Date(), 365).mayAsk).toBe(true);
    const regranted = [...refused, event({ at: '2026-02-01T00:00:00.000Z' })];
    expect(askWindow(regranted, key, new Date('2026-03-01T00:00:00.000Z'), 365).mayAsk).toBe(true);
  });

  it('tracks separate consents per recipient', () => {
    const history = [event({ kind: 'provide_to_third_party', recipient: 'acme' })];
    const key = { purpose: 'marketing', kind: 'provide_to_third_party' as const };
    expect(separateConsentStands(history, [v(1)], { ...key, recipient: 'acme' })).toBe(true);
    expect(separateConsentStands(history, [v(1)], { ...key, recipient: 'other' })).toBe(false);
  });

  it('computes age in China Standard Time, under 14 meaning not yet 14', () => {
    expect(ageOn('2012-05-01', new Date('2026-04-30T15:59:59.000Z'))).toBe(13);
    expect(ageOn('2012-05-01', new Date('2026-04-30T16:00:00.000Z'))).toBe(14);
    expect(isMinorAge(13)).toBe(true);
    expect(isMinorAge(14)).toBe(false);
    expect(ageOn('2030-01-01', new Date('2026-01-01T00:00:00.000Z'))).toBeUndefined();
    expect(parseBirthDate('2015/02/29')).toBeUndefined();
    expect(parseBirthDate('20160229')).toBe('2016-02-29');
    const first17 = '11010520150315123';
    const id = first17 + residentIdCheckDigit(first17);
    expect(birthDateFrom('identity.national-id', id, new Date('2026-01-01T00:00:00.000Z'))).toBe(
      '2015-03-15',
    );
    expect(birthDateFrom('identity.birth-date', '1990-07-08', new Date())).toBe('1990-07-08');
    expect(birthDateFrom('contact.phone', '13800138000', new Date())).toBeUndefined();
  });

  it('checks a request against the policy version the customer saw', () => {
    const scope = policyScope(datamap);
    expect(
      checkConsentRequest(scope, 1, { purpose: 'marketing', kind: 'purpose', action: 'grant' }).purpose.id,
    ).toBe('marketing');
    const code = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (e) {
        return `${(e as { code: string }).code}:${(e as { details?: { reason?: string } }).details?.reason ?? ''}`;
      }
    };
    expect(
      code(() =>
        checkConsentRequest(scope, 1, { purpose: 'order-fulfilment', kind: 'purpose', action: 'grant' }),
      ),
    ).toBe('ERR_CONSENT_NOT_APPLICABLE:');
    expect(
      code(() => checkConsentRequest(scope, 1, { purpose: 'resale', kind: 'purpose', action: 'grant' })),
    ).toBe('ERR_CONSENT_NOT_IN_POLICY:');
    expect(
      code(() =>
        checkConsentRequest(scope, 1, {
          purpose: 'marketing',
          kind: 'provide_to_third_party',
          action: 'grant',
        }),
      ),
    ).toBe('ERR_CONSENT_INVALID:recipient-required');
    expect(
      code(() =>
        checkConsentRequest(scope, 1, {
          purpose: 'marketing',
          kind: 'purpose',
          recipient: 'sf-express',
          action: 'grant',
        }),
      ),
    ).toBe('ERR_CONSENT_INVALID:recipient-not-applicable');
    expect(
      code(() =>
        checkConsentRequest(scope, 1, {
          purpose: 'marketing',
          kind: 'provide_to_third_party',
          recipient: 'acme',
          action: 'grant',
        }),
      ),
    ).toBe('ERR_CONSENT_NOT_IN_POLICY:');
    expect(
      code(() =>
        checkConsentRequest(scope, 1, {
          purpose: 'marketing',
          kind: 'provide_to_third_party',
          recipient: 'sf-express',
          action: 'grant',
        }),
      ),
    ).toBe('ERR_CONSENT_INVALID:recipient-not-for-purpose');
  });

  it('gates only consent-based purposes in the engine, and sensitive fields on the separate consent', () => {
    const policy = new AccessPolicy(datamap, resolveRoles(TEST_ROLES));
    const base = { role: 'tester', trainingCurrent: true, breakGlass: true } as const;
    // Necessary purposes never wait on consent (PIPL Art. 16).
    expect(
      policy.decide({ ...base, purpose: 'customer-service', collection: 'profile', field: 'phone' }).access,
    ).toBe('clear');
    expect(policy.decide({ ...base, purpose: 'marketing', collection: 'profile', field: 'phone' })).toEqual({
      access: 'withheld',
      reason: 'no-consent',
      rule: 'datamap.purposes.marketing.legalBasis',
    });
    const granted = { purpose: true, sensitive: false, minor: false };
    expect(
      policy.decide({
        ...base,
        purpose: 'marketing',
        collection: 'profile',
        field: 'phone',
        consent: granted,
      }).access,
    ).toBe('clear');
    // A child's PI is all sensitive (Art. 28): without the sensitive-PI consent it stays withheld.
    expect(
      policy.decide({
        ...base,
        purpose: 'marketing',
        collection: 'profile',
        field: 'phone',
        consent: { ...granted, minor: true },
      }),
    ).toMatchObject({ access: 'withheld', reason: 'no-consent' });
    expect(policy.consentBased('marketing')).toBe(true);
    expect(policy.consentBased('order-fulfilment')).toBe(false);
  });
});
