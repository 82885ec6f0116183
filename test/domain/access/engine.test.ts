import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { configTemplate } from '../../../src/config/template.js';
import { AccessPolicy, type DecisionContext } from '../../../src/domain/access/engine.js';
import { BUILT_IN_ROLES, resolveRoles, roleSchema } from '../../../src/domain/access/roles.js';

const { datamap } = parseConfig(configTemplate({ suite: 'aes-256-gcm', storeName: 'T' }), 'x.yaml');
const policy = new AccessPolicy(datamap, resolveRoles());
const ctx = (
  role: string,
  purpose: string,
  collection: string,
  field: string,
  extra: Partial<DecisionContext> = {},
): DecisionContext => ({
  role,
  purpose,
  collection,
  field,
  trainingCurrent: true,
  breakGlass: false,
  ...extra,
});

describe('access decision engine', () => {
  it('masks an operator’s view of the phone for order fulfilment unless the policy grants clear', () => {
    expect(policy.decide(ctx('operator', 'order-fulfilment', 'address', 'phone'))).toEqual({
      access: 'masked',
      rule: 'access.roles.operator.grants (default masked)',
    });
    const generous = new AccessPolicy(
      datamap,
      resolveRoles({ operator: { ...BUILT_IN_ROLES['operator']!, grants: { 'contact.phone': 'clear' } } }),
    );
    expect(generous.decide(ctx('operator', 'order-fulfilment', 'address', 'phone'))).toEqual({
      access: 'clear',
      rule: 'datamap.collections.address.fields.phone.purposes.order-fulfilment',
    });
  });

  it('never lets a role see more than the purpose allows', () => {
    const generous = new AccessPolicy(
      datamap,
      resolveRoles({ operator: { ...BUILT_IN_ROLES['operator']!, grants: { '*': 'clear' } } }),
    );
    expect(generous.decide(ctx('operator', 'customer-service', 'address', 'phone')).access).toBe('masked');
  });

  it('gives marketing no national id and the auditor no personal data at all', () => {
    expect(policy.decide(ctx('marketing', 'customs-clearance', 'customs', 'nationalId'))).toMatchObject({
      access: 'withheld',
      reason: 'purpose-not-permitted',
    });
    const marketingRole = resolveRoles({
      marketing: { ...BUILT_IN_ROLES['marketing']!, purposes: ['marketing', 'customs-clearance'] },
    });
    expect(
      new AccessPolicy(datamap, marketingRole).decide(
        ctx('marketing', 'customs-clearance', 'customs', 'nationalId'),
      ),
    ).toEqual({
      access: 'withheld',
      reason: 'denied-by-role',
      rule: 'access.roles.marketing.grants.identity.national-id',
    });
    for (const purpose of datamap.purposes) {
      for (const [collection, c] of Object.entries(datamap.collections)) {
        for (const field of Object.keys(c.fields)) {
          expect(policy.decide(ctx('auditor', purpose.id, collection, field)).access).toBe('withheld');
          expect(policy.decide(ctx('security-admin', purpose.id, collection, field)).access).toBe('withheld');
        }
      }
    }
  });

  it('keeps non-personal order data clear and region clear for operators', () => {
    expect(policy.decide(ctx('operator', 'order-fulfilment', 'order', 'amount')).access).toBe('clear');
    expect(policy.decide(ctx('operator', 'order-fulfilment', 'address', 'district')).access).toBe('clear');
    expect(policy.decide(ctx('operator', 'order-fulfilment', 'address', 'street')).access).toBe('masked');
  });

  it('withholds every personal field when training has lapsed (R18)', () => {
    expect(
      policy.decide(ctx('operator', 'order-fulfilment', 'address', 'phone', { trainingCurrent: false })),
    ).toEqual({
      access: 'withheld',
      reason: 'training-expired',
      rule: 'access.requireTraining',
    });
    expect(
      policy.decide(ctx('operator', 'order-fulfilment', 'order', 'amount', { trainingCurrent: false }))
        .access,
    ).toBe('clear');
  });

  it('lifts role caps under break-glass, but never beyond what the purpose needs', () => {
    expect(
      policy.decide(ctx('operator', 'order-fulfilment', 'address', 'phone', { breakGlass: true })),
    ).toEqual({ access: 'clear', rule: 'break-glass' });
    expect(
      policy.decide(ctx('operator', 'order-fulfilment', 'profile', 'birthDate', { breakGlass: true })),
    ).toMatchObject({
      access: 'withheld',
      reason: 'not-needed-for-purpose',
    });
    expect(
      policy.decide(
        ctx('operator', 'order-fulfilment', 'address', 'phone', { breakGlass: true, trainingCurrent: false }),
      ).reason,
    ).toBe('training-expired');
  });

  it('denies by default: unknown roles, purposes and fields', () => {
    expect(policy.decide(ctx('intern', 'order-fulfilment', 'address', 'phone'))).toMatchObject({
      access: 'withheld',
      reason: 'unknown-role',
    });
    expect(policy.decide(ctx('operator', 'resale', 'address', 'phone'))).toMatchObject({
      access: 'withheld',
      reason: 'unknown-purpose',
    });
    expect(policy.decide(ctx('operator', 'order-fulfilment', 'address', 'wechat'))).toMatchObject({
      access: 'withheld',
      reason: 'undeclared-field',
    });
    expect(roleSchema.safeParse({ grants: { 'contact.phone': 'visible' } }).success).toBe(false);
  });

  it('explains every decision with a rule', () => {
    for (const role of Object.keys(resolveRoles())) {
      for (const purpose of datamap.purposes) {
        for (const [collection, c] of Object.entries(datamap.collections)) {
          for (const field of Object.keys(c.fields)) {
            const d = policy.decide(ctx(role, purpose.id, collection, field));
            expect(d.rule.length).toBeGreaterThan(0);
            if (d.access === 'withheld') expect(d.reason).toBeDefined();
          }
        }
      }
    }
  });
});
