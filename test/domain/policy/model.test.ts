import { describe, expect, it } from 'vitest';
import { buildPolicyModel, policyModelFromScope } from '../../../src/domain/policy/model.js';
import { parsePolicyScope, policyScope } from '../../../src/domain/policy/scope.js';
import { exampleDatamap } from './fixtures.js';

describe('buildPolicyModel', () => {
  const datamap = exampleDatamap();
  const model = buildPolicyModel(datamap);

  it('names the processor and the officer', () => {
    expect(model.processor).toEqual({ name: 'Test', contact: 'privacy@example.com' });
    expect(model.officer).toEqual({
      name: '个人信息保护负责人 (PI protection officer)',
      contact: 'dpo@example.com',
    });
  });

  it('keeps the purposes in data-map order with their basis, necessity and categories', () => {
    expect(model.purposes.map((p) => [p.id, p.legalBasis, p.necessary, p.consentBased])).toEqual([
      ['order-fulfilment', 'contract', true, false],
      ['customer-service', 'contract', true, false],
      ['customs-clearance', 'legal_obligation', true, false],
      ['marketing', 'consent', false, true],
    ]);
    const marketing = model.purposes.find((p) => p.id === 'marketing')!;
    expect(marketing.categories).toEqual([
      'identity.name',
      'contact.phone',
      'contact.email',
      'identity.birth-date',
    ]);
    expect(marketing.collections).toEqual([
      {
        id: 'profile',
        fields: [
          {
            collection: 'profile',
            field: 'name',
            category: 'identity.name',
            sensitive: false,
            view: 'masked',
          },
          {
            collection: 'profile',
            field: 'phone',
            category: 'contact.phone',
            sensitive: false,
            view: 'masked',
          },
          {
            collection: 'profile',
            field: 'email',
            category: 'contact.email',
            sensitive: false,
            view: 'masked',
          },
          {
            collection: 'profile',
            field: 'birthDate',
            category: 'identity.birth-date',
            sensitive: false,
            view: 'masked',
          },
        ],
      },
    ]);
  });

  it('derives each purpose’s methods and recipients', () => {
    const byId = new Map(model.purposes.map((p) => [p.id, p]));
    expect(byId.get('order-fulfilment')!.methods).toEqual([
      'collect',
      'store-encrypted',
      'view-masked',
      'view-clear',
      'entrust',
    ]);
    expect(byId.get('order-fulfilment')!.recipients).toEqual(['sf-express']);
    expect(byId.get('customs-clearance')!.methods).toContain('provide');
    expect(byId.get('customs-clearance')!.sensitiveCategories).toEqual(['identity.national-id']);
    expect(model.purposes.every((p) => !p.crossBorder)).toBe(true);
  });

  it('lists the national id as sensitive, with necessity and impact in both languages', () => {
    expect(model.sensitive.map((s) => s.category)).toEqual(['identity.national-id']);
    const id = model.sensitive[0]!;
    expect(id.fields).toEqual([
      { collection: 'customs', field: 'nationalId', category: 'identity.national-id' },
    ]);
    expect(id.purposes).toEqual([
      { id: 'customs-clearance', legalBasis: 'legal_obligation', separateConsent: false },
    ]);
    expect(id.necessity['zh-CN']).toContain('跨境商品清关');
    expect(id.necessity['zh-CN']).toContain('身份证号');
    expect(id.necessity.en).toContain('Customs clearance');
    expect(id.impact['zh-CN']).toContain('冒用');
    expect(id.impact.en).toContain('impersonate');
    expect(id.notes).toHaveLength(1);
    expect(id.encrypted).toBe(true);
  });

  it('groups retention by collection and rule', () => {
    expect(
      model.retention.map((r) => [r.collection, r.keep, r.from, r.then, r.fields.map((f) => f.field)]),
    ).toEqual([
      ['profile', '3y', 'last-activity', 'delete', ['name', 'phone', 'email', 'birthDate']],
      [
        'address',
        '3y',
        'last-activity',
        'delete',
        ['recipientName', 'phone', 'province', 'city', 'district', 'street'],
      ],
      ['address', '3m', 'collection', 'delete', ['privacyNumber']],
      [
        'order',
        '3y',
        'purpose-fulfilled',
        'delete',
        ['orderId', 'amount', 'status', 'buyerNick', 'createdAt', 'paidAt', 'itemTitle'],
      ],
      ['order', '1y', 'purpose-fulfilled', 'delete', ['buyerMessage']],
      ['customs', '3y', 'purpose-fulfilled', 'delete', ['realName', 'nationalId']],
    ]);
  });

  it('lists the recipients with their purposes and categories, none abroad', () => {
    expect(model.recipients.map((r) => [r.id, r.role, r.purposes, r.crossBorder])).toEqual([
      ['sf-express', 'processor', ['order-fulfilment'], false],
      ['china-customs', 'third-party', ['customs-clearance'], false],
    ]);
    expect(model.recipients[0]!.name).toEqual({ 'zh-CN': '顺丰速运', en: 'SF Express' });
    expect(model.crossBorder).toEqual({ recipients: [], purposes: [] });
  });

  it('states the rights with R8 deadlines and where to exercise them', () => {
    const deadlines = Object.fromEntries(model.rights.rights.map((r) => [r.id, r.deadline]));
    expect(Object.keys(deadlines)).toEqual([
      'access',
      'copy',
      'portability',
      'correction',
      'supplement',
      'deletion',
      'restriction',
      'withdraw-consent',
      'account-cancellation',
      'explanation',
    ]);
    for (const id of ['deletion', 'correction', 'account-cancellation']) {
      expect(deadlines[id]).toEqual({ amount: 15, unit: 'working-days' });
    }
    for (const id of ['access', 'copy', 'portability', 'supplement', 'restriction', 'explanation']) {
      expect(deadlines[id]).toEqual({ amount: 30, unit: 'days' });
    }
    expect(model.rights.privacyCentre).toBe('/privacy');
    expect(model.rights.contact).toEqual(model.officer);
    expect(
      buildPolicyModel(datamap, { privacyCentreUrl: 'https://shop.example.com/privacy' }).rights
        .privacyCentre,
    ).toBe('https://shop.example.com/privacy');
  });

  it('gives the minors notice with the age signals the store holds', () => {
    expect(model.minors).toEqual({
      age: 14,
      guardianConsent: true,
      ageSignals: ['identity.birth-date', 'identity.national-id'],
    });
  });

  it('describes the protection from the data map', () => {
    expect(model.security.unencryptedPersonalCategories).toEqual([]);
    expect(model.security.masking).toBe(true);
    expect(model.security.freeTextMasked).toEqual([
      { collection: 'order', field: 'buyerMessage', category: 'content.message' },
    ]);
  });

  it('is rebuilt exactly from a stored scope', () => {
    const stored = JSON.parse(JSON.stringify(policyScope(datamap))) as unknown;
    expect(policyModelFromScope(parsePolicyScope(stored))).toEqual(model);
  });

  it('falls back to the processor for requests without an officer', () => {
    const { officer: _officer, ...withoutOfficer } = exampleDatamap();
    const m = buildPolicyModel(withoutOfficer);
    expect(m.officer).toBeNull();
    expect(m.rights.contact).toEqual(m.processor);
  });

  it('treats a recipient abroad as cross-border for its purposes', () => {
    const map = exampleDatamap();
    map.recipients.push({
      id: 'sms-hk',
      name: 'SMS HK Ltd',
      contact: 'dpo@sms.example.hk',
      role: 'processor',
      purposes: ['marketing'],
      categories: ['contact.phone'],
      country: 'HK',
      crossBorder: true,
    });
    const m = buildPolicyModel(map);
    expect(m.crossBorder.recipients.map((r) => r.id)).toEqual(['sms-hk']);
    expect(m.crossBorder.purposes).toEqual(['marketing']);
    expect(m.purposes.find((p) => p.id === 'marketing')!.methods).toEqual(
      expect.arrayContaining(['entrust', 'cross-border']),
    );
  });
});
