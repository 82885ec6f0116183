import { describe, expect, it } from 'vitest';
import { LINT_RULES, lintDatamap, lintSummary, type LintRule } from '../../../src/domain/datamap/lint.js';
import {
  datamap,
  field,
  purpose,
  purposeIndex,
  recipient,
  recipientIndex,
  type RawDatamap,
} from './fixtures.js';

const FIELD = (collection: string, name: string, key: string): string =>
  `datamap.collections.${collection}.fields.${name}.${key}`;
const PURPOSE = (id: string, key: string): string => `datamap.purposes.${purposeIndex(id)}.${key}`;
const RECIPIENT = (id: string, key: string): string => `datamap.recipients.${recipientIndex(id)}.${key}`;

/** Lints the example data map after one edit and returns [rule, path] of every finding. */
function lintAfter(edit: (raw: RawDatamap) => void): [string, string][] {
  return lintDatamap(datamap(edit)).map((f) => [f.rule, f.path]);
}

describe('datamap lint: the example data map', () => {
  it('lints clean: no errors and no warnings', () => {
    expect(lintDatamap(datamap())).toEqual([]);
  });
});

describe('datamap lint: one failing example per rule', () => {
  const examples: Record<LintRule, { edit: (raw: RawDatamap) => void; expected: [LintRule, string][] }> = {
    'field-missing-category': {
      edit: (raw) => delete field(raw, 'profile', 'birthDate').category,
      expected: [['field-missing-category', FIELD('profile', 'birthDate', 'category')]],
    },
    'field-missing-purpose': {
      edit: (raw) => delete field(raw, 'profile', 'birthDate').purposes,
      expected: [['field-missing-purpose', FIELD('profile', 'birthDate', 'purposes')]],
    },
    'field-missing-retention': {
      edit: (raw) => delete field(raw, 'order', 'status').retention,
      expected: [['field-missing-retention', FIELD('order', 'status', 'retention')]],
    },
    'over-collection': {
      edit: (raw) => (field(raw, 'profile', 'birthDate').purposes = {}),
      expected: [['over-collection', FIELD('profile', 'birthDate', 'purposes')]],
    },
    'sensitivity-downgraded': {
      edit: (raw) => (field(raw, 'customs', 'nationalId').sensitivity = 'general'),
      expected: [['sensitivity-downgraded', FIELD('customs', 'nationalId', 'sensitivity')]],
    },
    'sensitive-not-encrypted': {
      edit: (raw) => (field(raw, 'customs', 'nationalId').protection = 'plain'),
      expected: [['sensitive-not-encrypted', FIELD('customs', 'nationalId', 'protection')]],
    },
    'plain-personal-data': {
      edit: (raw) => (field(raw, 'profile', 'email').protection = 'plain'),
      expected: [['plain-personal-data', FIELD('profile', 'email', 'protection')]],
    },
    'sensitive-without-basis': {
      // Marketing rests on consent and asks for no sensitive_pi consent.
      edit: (raw) => (field(raw, 'customs', 'nationalId').purposes!['marketing'] = 'masked'),
      expected: [['sensitive-without-basis', FIELD('customs', 'nationalId', 'purposes.marketing')]],
    },
    'sensitive-without-necessity': {
      edit: (raw) => delete field(raw, 'customs', 'nationalId').description,
      expected: [['sensitive-without-necessity', FIELD('customs', 'nationalId', 'description')]],
    },
    'free-text-without-policy': {
      edit: (raw) => delete field(raw, 'order', 'buyerMessage').freeText,
      expected: [['free-text-without-policy', FIELD('order', 'buyerMessage', 'freeText')]],
    },
    'consent-purpose-necessary': {
      edit: (raw) => (purpose(raw, 'marketing').necessary = true),
      expected: [['consent-purpose-necessary', PURPOSE('marketing', 'necessary')]],
    },
    'unused-purpose': {
      edit: (raw) =>
        raw.purposes.push({
          id: 'analytics',
          name: { 'zh-CN': '数据分析', en: 'Analytics' },
          legalBasis: 'consent',
          necessary: false,
        }),
      expected: [['unused-purpose', 'datamap.purposes.4.id']],
    },
    'cross-border-without-consent': {
      edit: (raw) => (purpose(raw, 'marketing').crossBorder = true),
      expected: [['cross-border-without-consent', PURPOSE('marketing', 'separateConsents')]],
    },
    'cross-border-undeclared': {
      // customs-clearance says crossBorder: false; its recipient moves to Hong Kong.
      edit: (raw) => (recipient(raw, 'china-customs').country = 'HK'),
      expected: [
        ['cross-border-undeclared', PURPOSE('customs-clearance', 'crossBorder')],
        ['recipient-without-separate-consent', RECIPIENT('china-customs', 'purposes.0')],
      ],
    },
    'recipient-without-separate-consent': {
      edit: (raw) =>
        raw.recipients.push({
          id: 'ad-network',
          name: 'Example Ads',
          contact: 'ads@example.com',
          role: 'third-party',
          purposes: ['marketing'],
          categories: ['contact.phone'],
        }),
      expected: [['recipient-without-separate-consent', 'datamap.recipients.2.purposes.0']],
    },
    'recipient-category-not-needed': {
      edit: (raw) => recipient(raw, 'sf-express').categories.push('identity.national-id'),
      expected: [['recipient-category-not-needed', RECIPIENT('sf-express', 'categories.4')]],
    },
  };

  it('has an example for every rule', () => {
    expect(Object.keys(examples).sort()).toEqual(Object.keys(LINT_RULES).sort());
  });

  for (const [rule, { edit, expected }] of Object.entries(examples)) {
    it(`${rule}: ${LINT_RULES[rule as LintRule].summary}`, () => {
      expect(lintAfter(edit)).toEqual(expected);
    });
  }
});

describe('datamap lint: details', () => {
  it('gives severity, an English message naming the field, and a hint', () => {
    const [finding] = lintDatamap(
      datamap((raw) => (field(raw, 'customs', 'nationalId').protection = 'plain')),
    );
    expect(finding).toMatchObject({
      rule: 'sensitive-not-encrypted',
      severity: 'error',
      path: 'datamap.collections.customs.fields.nationalId.protection',
    });
    expect(finding?.message).toContain('customs.nationalId');
    expect(finding?.hint).toContain('encrypt');
  });

  it('counts errors and warnings; warnings alone are not errors', () => {
    const warnings = lintDatamap(datamap((raw) => delete field(raw, 'order', 'buyerMessage').freeText));
    expect(lintSummary(warnings)).toEqual({ errors: 0, warnings: 1 });
    const both = lintDatamap(
      datamap((raw) => {
        delete field(raw, 'order', 'buyerMessage').freeText;
        purpose(raw, 'marketing').necessary = true;
      }),
    );
    expect(lintSummary(both)).toEqual({ errors: 1, warnings: 1 });
  });

  it('accepts a sensitive field for a consent purpose once sensitive_pi consent is asked for', () => {
    const findings = lintAfter((raw) => {
      field(raw, 'customs', 'nationalId').purposes!['marketing'] = 'masked';
      purpose(raw, 'marketing').separateConsents = ['sensitive_pi'];
    });
    expect(findings).toEqual([]);
  });

  it('treats a blank description of a sensitive field as missing: the policy drops it (R6)', () => {
    for (const blank of ['', '   ', '\n\t']) {
      expect(lintAfter((raw) => (field(raw, 'customs', 'nationalId').description = blank))).toEqual([
        ['sensitive-without-necessity', FIELD('customs', 'nationalId', 'description')],
      ]);
    }
  });

  it('treats blind-index as encrypted', () => {
    expect(lintAfter((raw) => (field(raw, 'customs', 'nationalId').protection = 'blind-index'))).toEqual([]);
  });

  it('allows plain protection for data that is not about a person', () => {
    expect(lintAfter((raw) => (field(raw, 'order', 'orderId').protection = 'plain'))).toEqual([]);
  });

  it('treats a free-text field that declares sensitive PI types as sensitive', () => {
    const findings = lintAfter((raw) => {
      field(raw, 'order', 'buyerMessage').freeText = { pii: 'flag', declares: ['bank-card'] };
      field(raw, 'order', 'buyerMessage').protection = 'plain';
      field(raw, 'order', 'buyerMessage').purposes!['marketing'] = 'masked';
    });
    expect(findings).toEqual([
      ['sensitive-not-encrypted', FIELD('order', 'buyerMessage', 'protection')],
      ['sensitive-without-basis', FIELD('order', 'buyerMessage', 'purposes.marketing')],
      ['sensitive-without-necessity', FIELD('order', 'buyerMessage', 'description')],
    ]);
  });

  it('needs no separate consent for a third party when the basis is not consent', () => {
    expect(lintAfter((raw) => (recipient(raw, 'sf-express').role = 'third-party'))).toEqual([]);
    // ...but the recipient's own consent basis overrides the purpose's.
    expect(lintAfter((raw) => (recipient(raw, 'china-customs').legalBasis = 'consent'))).toEqual([
      ['recipient-without-separate-consent', RECIPIENT('china-customs', 'purposes.0')],
    ]);
  });

  it('asks for cross_border consent for a recipient abroad, and accepts it once given', () => {
    expect(lintAfter((raw) => (recipient(raw, 'sf-express').country = 'US'))).toEqual([
      ['recipient-without-separate-consent', RECIPIENT('sf-express', 'purposes.0')],
    ]);
    expect(
      lintAfter((raw) => {
        recipient(raw, 'sf-express').crossBorder = true;
        purpose(raw, 'order-fulfilment').separateConsents = ['cross_border'];
      }),
    ).toEqual([]);
  });

  it('reports a cross-border purpose once, at the purpose, not again at its recipients', () => {
    expect(
      lintAfter((raw) => {
        purpose(raw, 'order-fulfilment').crossBorder = true;
        recipient(raw, 'sf-express').country = 'HK';
      }),
    ).toEqual([['cross-border-without-consent', PURPOSE('order-fulfilment', 'separateConsents')]]);
  });

  it('counts a purpose used only by a recipient as used', () => {
    const findings = lintAfter((raw) => {
      for (const f of Object.values(raw.collections['profile']!.fields)) delete f.purposes!['marketing'];
      raw.recipients.push({
        id: 'sms',
        name: 'SMS gateway',
        contact: 'ops@example.com',
        role: 'processor',
        purposes: ['marketing'],
        categories: ['contact.phone'],
      });
    });
    expect(findings.map(([rule]) => rule)).not.toContain('unused-purpose');
    // Nothing of marketing's needs a phone any more: the recipient is over-shared.
    expect(findings).toContainEqual(['recipient-category-not-needed', 'datamap.recipients.2.categories.0']);
  });

  it('reports every gap of a field that has nothing but a category', () => {
    const findings = lintAfter((raw) => {
      raw.collections['profile']!.fields['nickname'] = { category: 'identity.platform-id' };
    });
    expect(findings).toEqual([
      ['field-missing-purpose', FIELD('profile', 'nickname', 'purposes')],
      ['field-missing-retention', FIELD('profile', 'nickname', 'retention')],
    ]);
  });

  it('reports a field without a category that is stored plain as personal data', () => {
    const findings = lintAfter((raw) => {
      delete field(raw, 'order', 'status').category;
    });
    expect(findings).toEqual([
      ['field-missing-category', FIELD('order', 'status', 'category')],
      ['plain-personal-data', FIELD('order', 'status', 'protection')],
    ]);
  });
});
