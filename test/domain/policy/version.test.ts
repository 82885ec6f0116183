import { describe, expect, it } from 'vitest';
import type { Datamap } from '../../../src/domain/datamap/schema.js';
import {
  canonicalJson,
  diffPolicies,
  parsePolicyScope,
  policyFingerprint,
  policyScope,
  renderDiff,
  type PolicyDiff,
  type PolicyScope,
} from '../../../src/domain/policy/version.js';
import { exampleDatamap } from './fixtures.js';

const base = policyScope(exampleDatamap());

/** The example's scope after `edit` changed a fresh copy of its data map. */
function scopeAfter(edit: (map: Datamap) => void): PolicyScope {
  const map = exampleDatamap();
  edit(map);
  return policyScope(map);
}

function reversedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).reverse());
}

/** The example with every map and list in the opposite order. */
function reordered(map: Datamap): Datamap {
  const collections = Object.fromEntries(
    Object.entries(map.collections)
      .reverse()
      .map(([name, c]) => [
        name,
        {
          ...c,
          fields: Object.fromEntries(
            Object.entries(c.fields)
              .reverse()
              .map(([f, spec]) => [f, { ...spec, purposes: reversedRecord(spec.purposes) }]),
          ),
        },
      ]),
  );
  return {
    ...map,
    purposes: [...map.purposes]
      .reverse()
      .map((p) => ({ ...p, separateConsents: [...p.separateConsents].reverse() })),
    collections,
    recipients: [...map.recipients]
      .reverse()
      .map((r) => ({ ...r, categories: [...r.categories].reverse(), purposes: [...r.purposes].reverse() })),
  };
}

const smsVendor = {
  id: 'sms-vendor',
  name: { 'zh-CN': '某短信服务商', en: 'SMS Vendor Ltd' },
  contact: 'privacy@sms.example.cn',
  role: 'processor',
  purposes: ['marketing'],
  categories: ['contact.phone'],
  country: 'CN',
  crossBorder: false,
} as const satisfies Datamap['recipients'][number];

describe('policy fingerprint', () => {
  it('is 64 hex digits and stable', () => {
    expect(policyFingerprint(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(policyFingerprint(policyScope(exampleDatamap()))).toBe(policyFingerprint(base));
  });

  it('does not change when keys, fields, purposes or recipients are reordered', () => {
    const shuffled = policyScope(reordered(exampleDatamap()));
    expect(canonicalJson(shuffled)).not.toBe(canonicalJson(base));
    expect(policyFingerprint(shuffled)).toBe(policyFingerprint(base));
    expect(diffPolicies(base, shuffled).changed).toBe(false);
  });

  it('survives a JSON round trip through storage', () => {
    const stored = parsePolicyScope(JSON.parse(JSON.stringify(base)));
    expect(stored).toEqual(base);
    expect(policyFingerprint(stored)).toBe(policyFingerprint(base));
  });

  it('rejects a stored scope that is not one', () => {
    expect(() => parsePolicyScope({ ...base, format: 'other' })).toThrow(/not valid/);
    expect(() => parsePolicyScope({ ...base, extra: 1 })).toThrow(/not valid/);
  });

  it('ignores what the policy does not say: identity lookups, sources, minimisation, non-sensitive descriptions', () => {
    const scope = scopeAfter((map) => {
      const profile = map.collections['profile']!;
      profile.minimise = 'strip';
      profile.description = 'changed';
      profile.fields['email'] = {
        ...profile.fields['email']!,
        identity: 'memberId',
        source: 'crm',
        description: 'x',
      };
    });
    expect(policyFingerprint(scope)).toBe(policyFingerprint(base));
  });

  it.each<[string, (map: Datamap) => void]>([
    [
      'a retention period',
      (m) => void (m.collections['order']!.fields['buyerMessage']!.retention.keep = '2y'),
    ],
    ['the processor contact', (m) => void (m.processor.contact = 'dpo@shop.example.com')],
    ['a purpose name', (m) => void (m.purposes[3]!.name['zh-CN'] = '会员权益')],
    ['a legal basis', (m) => void (m.purposes[1]!.legalBasis = 'consent')],
    ['a view', (m) => void (m.collections['profile']!.fields['name']!.purposes['marketing'] = 'clear')],
    ['encryption', (m) => void (m.collections['profile']!.fields['email']!.protection = 'plain')],
    ['a recipient', (m) => void m.recipients.push(smsVendor)],
    ['a recipient country', (m) => void (m.recipients[0]!.country = 'HK')],
    [
      'a sensitive field’s description',
      (m) => void (m.collections['customs']!.fields['nationalId']!.description = 'x'),
    ],
    ['a separate consent', (m) => void m.purposes[3]!.separateConsents.push('sensitive_pi')],
    [
      'a free-text policy',
      (m) => {
        delete m.collections['order']!.fields['buyerMessage']!.freeText;
      },
    ],
  ])('changes with %s, and the diff says what changed', (_what, edit) => {
    const scope = scopeAfter(edit);
    expect(policyFingerprint(scope)).not.toBe(policyFingerprint(base));
    const diff = diffPolicies(base, scope);
    expect(diff.changed).toBe(true);
    expect(countChanges(diff)).toBeGreaterThan(0);
    expect(renderDiff(diff, 'en', 'text')).toMatch(/^ {2}[+~-] /m);
  });
});

function countChanges(diff: PolicyDiff): number {
  return (
    (diff.processor === null ? 0 : 1) +
    (diff.officer === null ? 0 : 1) +
    diff.purposesAdded.length +
    diff.purposesRemoved.length +
    diff.purposesChanged.length +
    diff.legalBasisChanged.length +
    diff.categoriesAdded.length +
    diff.categoriesRemoved.length +
    diff.usesAdded.length +
    diff.usesRemoved.length +
    diff.viewsChanged.length +
    diff.fieldsChanged.length +
    diff.retentionChanged.length +
    diff.recipientsAdded.length +
    diff.recipientsRemoved.length +
    diff.recipientsChanged.length
  );
}

describe('diffPolicies', () => {
  it('finds nothing between equal scopes', () => {
    const diff = diffPolicies(base, policyScope(exampleDatamap()));
    expect(diff.changed).toBe(false);
    expect(diff.widensConsentScope).toBe(false);
    expect(countChanges(diff)).toBe(0);
    expect(diff.from).toBe(diff.to);
  });

  it('requires re-consent when a recipient is added for marketing (R5)', () => {
    const diff = diffPolicies(
      base,
      scopeAfter((m) => void m.recipients.push(smsVendor)),
    );
    expect(diff.recipientsAdded.map((r) => r.id)).toEqual(['sms-vendor']);
    expect(diff.widensConsentScope).toBe(true);
    expect(diff.reconsent).toEqual([
      { reason: 'recipient-added', purpose: 'marketing', subject: 'sms-vendor' },
    ]);
    expect(diff.reconsentPurposes).toEqual(['marketing']);
  });

  it('does not require re-consent when a contract-based purpose gains a category', () => {
    const diff = diffPolicies(
      base,
      scopeAfter((m) => {
        m.collections['address']!.fields['email'] = {
          category: 'contact.email',
          protection: 'encrypt',
          purposes: { 'order-fulfilment': 'masked' },
          retention: { keep: '3y', from: 'last-activity', then: 'delete' },
        };
      }),
    );
    expect(diff.categoriesAdded.map((c) => [c.purpose.id, c.category])).toEqual([
      ['order-fulfilment', 'contact.email'],
    ]);
    expect(diff.usesAdded.map((u) => `${u.purpose.id}:${u.field.collection}.${u.field.field}`)).toEqual([
      'order-fulfilment:address.email',
    ]);
    expect(diff.widensConsentScope).toBe(false);
  });

  it('requires re-consent when marketing gains a category', () => {
    const diff = diffPolicies(
      base,
      scopeAfter((m) => void (m.collections['address']!.fields['province']!.purposes['marketing'] = 'clear')),
    );
    expect(diff.categoriesAdded.map((c) => [c.purpose.id, c.category])).toEqual([
      ['marketing', 'location.region'],
    ]);
    expect(diff.reconsent).toEqual([
      { reason: 'category-added', purpose: 'marketing', subject: 'location.region' },
    ]);
  });

  it('does not require re-consent when marketing gains a field of a category it already has', () => {
    const diff = diffPolicies(
      base,
      scopeAfter((m) => void (m.collections['address']!.fields['phone']!.purposes['marketing'] = 'masked')),
    );
    expect(diff.usesAdded).toHaveLength(1);
    expect(diff.categoriesAdded).toEqual([]);
    expect(diff.widensConsentScope).toBe(false);
  });

  it('does not require re-consent when a purpose is removed', () => {
    const removed: PolicyScope = {
      ...base,
      purposes: base.purposes.filter((p) => p.id !== 'marketing'),
      fields: base.fields
        .map((f) => ({
          ...f,
          purposes: Object.fromEntries(Object.entries(f.purposes).filter(([p]) => p !== 'marketing')),
        }))
        .filter((f) => Object.keys(f.purposes).length > 0),
    };
    const diff = diffPolicies(base, removed);
    expect(diff.purposesRemoved.map((p) => p.id)).toEqual(['marketing']);
    expect(diff.changed).toBe(true);
    expect(diff.widensConsentScope).toBe(false);
    // And adding it back is widening: a new consent-based purpose.
    const back = diffPolicies(removed, base);
    expect(back.purposesAdded.map((p) => [p.id, p.legalBasis, p.categories.length])).toEqual([
      ['marketing', 'consent', 4],
    ]);
    expect(back.reconsent).toEqual([{ reason: 'purpose-added', purpose: 'marketing', subject: 'marketing' }]);
  });

  it('requires re-consent when a legal basis changes to consent, not away from it', () => {
    const toConsent = diffPolicies(
      base,
      scopeAfter((m) => void (m.purposes[1]!.legalBasis = 'consent')),
    );
    expect(toConsent.legalBasisChanged.map((c) => [c.purpose.id, c.from, c.to])).toEqual([
      ['customer-service', 'contract', 'consent'],
    ]);
    expect(toConsent.reconsentPurposes).toEqual(['customer-service']);
    const away = diffPolicies(
      base,
      scopeAfter((m) => void (m.purposes[3]!.legalBasis = 'contract')),
    );
    expect(away.legalBasisChanged).toHaveLength(1);
    expect(away.widensConsentScope).toBe(false);
  });

  it('requires re-consent when consent-based data is kept longer, not shorter', () => {
    const longer = diffPolicies(
      base,
      scopeAfter((m) => void (m.collections['profile']!.fields['birthDate']!.retention.keep = '5y')),
    );
    expect(longer.retentionChanged.map((r) => [r.field.field, r.from.keep, r.to.keep, r.extended])).toEqual([
      ['birthDate', '3y', '5y', true],
    ]);
    expect(longer.reconsent).toEqual([
      { reason: 'retention-extended', purpose: 'marketing', subject: 'profile.birthDate' },
    ]);
    const shorter = diffPolicies(
      base,
      scopeAfter((m) => void (m.collections['profile']!.fields['birthDate']!.retention.keep = '18m')),
    );
    expect(shorter.retentionChanged[0]!.extended).toBe(false);
    expect(shorter.widensConsentScope).toBe(false);
    const contract = diffPolicies(
      base,
      scopeAfter((m) => void (m.collections['order']!.fields['status']!.retention.keep = '5y')),
    );
    expect(contract.retentionChanged[0]!.extended).toBe(true);
    expect(contract.widensConsentScope).toBe(false);
  });

  describe('a retention period counted from another event (NDSR Art. 22(4), R5)', () => {
    /** The example's scope with profile.birthDate (used by marketing, on consent) kept `keep` from `from`. */
    const birthDateKept = (keep: string, from: 'collection' | 'last-activity' | 'purpose-fulfilled') =>
      scopeAfter((m) => {
        const retention = m.collections['profile']!.fields['birthDate']!.retention;
        retention.keep = keep;
        retention.from = from;
      });
    const retentionDiff = (before: PolicyScope, after: PolicyScope) => {
      const diff = diffPolicies(before, after);
      return {
        changes: diff.retentionChanged.map((r) => [
          r.from.keep,
          r.from.from,
          r.to.keep,
          r.to.from,
          r.extended,
        ]),
        reconsent: diff.reconsent,
        widens: diff.widensConsentScope,
      };
    };
    const marketingAgain = [
      { reason: 'retention-extended', purpose: 'marketing', subject: 'profile.birthDate' },
    ];

    it('is longer when it starts at the open-ended last activity, even with a shorter period', () => {
      expect(retentionDiff(birthDateKept('3y', 'collection'), birthDateKept('2y', 'last-activity'))).toEqual({
        changes: [['3y', 'collection', '2y', 'last-activity', true]],
        reconsent: marketingAgain,
        widens: true,
      });
    });

    it('is longer when it moves from the purpose being fulfilled to the last activity, same period', () => {
      expect(
        retentionDiff(birthDateKept('1y', 'purpose-fulfilled'), birthDateKept('1y', 'last-activity')),
      ).toEqual({
        changes: [['1y', 'purpose-fulfilled', '1y', 'last-activity', true]],
        reconsent: marketingAgain,
        widens: true,
      });
    });

    it('is not longer when the period shrinks from the same start, or the start moves earlier', () => {
      expect(
        retentionDiff(birthDateKept('3y', 'last-activity'), birthDateKept('1y', 'last-activity')),
      ).toEqual({
        changes: [['3y', 'last-activity', '1y', 'last-activity', false]],
        reconsent: [],
        widens: false,
      });
      expect(retentionDiff(birthDateKept('2y', 'last-activity'), birthDateKept('2y', 'collection'))).toEqual({
        changes: [['2y', 'last-activity', '2y', 'collection', false]],
        reconsent: [],
        widens: false,
      });
      expect(
        retentionDiff(birthDateKept('3y', 'last-activity'), birthDateKept('1y', 'purpose-fulfilled')).widens,
      ).toBe(false);
    });

    it('is longer when the start moves earlier but the period grows (the two events can coincide)', () => {
      expect(retentionDiff(birthDateKept('1y', 'last-activity'), birthDateKept('2y', 'collection'))).toEqual({
        changes: [['1y', 'last-activity', '2y', 'collection', true]],
        reconsent: marketingAgain,
        widens: true,
      });
    });
  });

  it('requires re-consent for any new transfer abroad (Art. 39, R28)', () => {
    const diff = diffPolicies(
      base,
      scopeAfter((m) => {
        m.purposes[0]!.separateConsents.push('cross_border');
        m.recipients.push({
          ...smsVendor,
          id: 'hk-forwarder',
          name: 'HK Forwarder',
          purposes: ['order-fulfilment'],
          categories: ['identity.name', 'location.street'],
          country: 'HK',
          crossBorder: true,
        });
      }),
    );
    expect(diff.widensConsentScope).toBe(true);
    expect(diff.reconsent.map((r) => r.reason)).toEqual(
      expect.arrayContaining(['separate-consent-added', 'cross-border-added']),
    );
    expect(diff.purposesChanged[0]!.crossBorder).toEqual({ from: false, to: true });
  });

  it('requires re-consent when a purpose is declared cross-border', () => {
    const diff = diffPolicies(
      base,
      scopeAfter((m) => void (m.purposes[3]!.crossBorder = true)),
    );
    expect(diff.reconsent).toEqual([
      { reason: 'cross-border-added', purpose: 'marketing', subject: 'marketing' },
    ]);
    expect(renderDiff(diff, 'zh-CN', 'text')).toContain('会员营销：开始向境外提供个人信息');
    // `crossBorder: false` says nothing new: same fingerprint as leaving it out.
    const declaredFalse = scopeAfter((m) => void (m.purposes[3]!.crossBorder = false));
    expect(policyFingerprint(declaredFalse)).toBe(policyFingerprint(base));
  });

  it('does not count an entrusted processor for a contract purpose as widening consent', () => {
    const diff = diffPolicies(
      base,
      scopeAfter(
        (m) => void m.recipients.push({ ...smsVendor, id: 'cainiao', purposes: ['order-fulfilment'] }),
      ),
    );
    expect(diff.recipientsAdded).toHaveLength(1);
    expect(diff.widensConsentScope).toBe(false);
  });

  it('reports recipient changes, and widens when one gains a consent-based purpose', () => {
    const diff = diffPolicies(
      base,
      scopeAfter((m) => {
        m.recipients[0]!.purposes.push('marketing');
        m.recipients[0]!.contact = '95338-1';
      }),
    );
    expect(diff.recipientsChanged).toHaveLength(1);
    expect(diff.recipientsChanged[0]).toMatchObject({ purposesAdded: ['marketing'], details: true });
    expect(diff.reconsent).toEqual([
      { reason: 'recipient-added', purpose: 'marketing', subject: 'sf-express' },
    ]);
  });
});

describe('renderDiff', () => {
  const widened = diffPolicies(
    base,
    scopeAfter((m) => {
      m.recipients.push(smsVendor);
      m.collections['profile']!.fields['birthDate']!.retention.keep = '5y';
      m.processor.contact = 'dpo@shop.example.com';
    }),
  );

  it('writes Markdown in Chinese', () => {
    const md = renderDiff(widened, 'zh-CN', 'md');
    expect(md.startsWith('# 隐私政策变更\n')).toBe(true);
    expect(md).toContain(`${widened.from.slice(0, 12)} → ${widened.to.slice(0, 12)}`);
    expect(md).toContain('**需要重新取得同意：本次变更扩大了基于同意的处理范围（会员营销）');
    expect(md).toContain('## 接收方');
    expect(md).toContain('- **新增** 某短信服务商（受托处理者，中国境内）：用于会员营销，涉及电话号码');
    expect(md).toContain('## 保存期限');
    expect(md).toContain('（延长）');
    expect(md).toContain('dpo@shop.example.com');
  });

  it('writes plain text in English', () => {
    const text = renderDiff(widened, 'en', 'text');
    expect(text.startsWith('Privacy policy changes\n')).toBe(true);
    expect(text).toContain('Re-consent required');
    expect(text).toContain(
      '  + SMS Vendor Ltd (processor acting for us, mainland China): for Member marketing, receives phone number',
    );
    expect(text).toContain('(longer)');
    expect(text).not.toContain('**');
  });

  it('says when nothing changed, and when no re-consent is needed', () => {
    const none = diffPolicies(base, base);
    expect(renderDiff(none, 'zh-CN', 'text')).toContain('没有变更');
    expect(renderDiff(none, 'en', 'md')).toContain('The two versions of the policy are the same.');
    const narrow = diffPolicies(
      base,
      scopeAfter((m) => void (m.processor.contact = 'x@example.com')),
    );
    expect(renderDiff(narrow, 'zh-CN', 'md')).toContain('无需重新取得同意');
    expect(renderDiff(narrow, 'en', 'text')).toContain('No re-consent needed');
  });

  it('escapes names in Markdown', () => {
    const diff = diffPolicies(
      base,
      scopeAfter((m) => void m.recipients.push({ ...smsVendor, name: '<b>*Evil*</b>' })),
    );
    const md = renderDiff(diff, 'en', 'md');
    expect(md).toContain('\\<b\\>\\*Evil\\*\\</b\\>');
    expect(md).not.toContain('<b>');
  });
});
