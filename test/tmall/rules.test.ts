import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import {
  DEFAULT_SCENE_PURPOSES,
  OVERRIDABLE_SCENES,
  SCENES,
  assertExportAllowed,
  assertScenePurpose,
  checkExportAllowed,
  sceneOverrideProblem,
} from '../../src/platforms/tmall/rules.js';

const { datamap, tmall } = parseConfig(
  configTemplate({ suite: 'aes-256-gcm', storeName: 'T' }),
  'x.yaml',
  {},
);

describe('Tmall rule pack', () => {
  it('maps shipping scenes to fulfilment and after-sales/care to customer service (R30)', () => {
    for (const scene of [1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009])
      expect(DEFAULT_SCENE_PURPOSES[String(scene)]).toBe('order-fulfilment');
    expect(DEFAULT_SCENE_PURPOSES['2001']).toBe('customer-service');
    expect(DEFAULT_SCENE_PURPOSES['2002']).toBe('customer-service');
    expect(SCENES[1008].fields).toEqual(['address']);
    expect(SCENES[1009].fields).toEqual(['name']);
    expect(tmall.scenes).toEqual(DEFAULT_SCENE_PURPOSES);
  });

  it('lets a configured scene map override the customer-care scene', () => {
    // order-fulfilment rests on the sales contract, like a care purpose would (R30).
    const config = parseConfig(
      `${configTemplate({ suite: 'aes-256-gcm', storeName: 'T' })}\ntmall:\n  scenes: { '2002': order-fulfilment }\n`,
      'x.yaml',
      {},
    );
    expect(config.tmall.scenes['2002']).toBe('order-fulfilment');
    expect(config.tmall.scenes['2001']).toBe('customer-service');
    expect(() => assertScenePurpose(2002, 'customer-service', config.tmall.scenes)).toThrow(
      /serves "order-fulfilment"/,
    );
  });

  it('refuses an override of a shipping or after-sales scene, or to a consent-based purpose (R30)', () => {
    const purposes = datamap.purposes;
    expect(OVERRIDABLE_SCENES).toEqual(['2002']);
    expect(sceneOverrideProblem('1001', 'order-fulfilment', purposes)).toBeUndefined();
    expect(sceneOverrideProblem('1001', 'marketing', purposes)).toMatch(/serves "order-fulfilment" only/);
    expect(sceneOverrideProblem('1009', 'customer-service')).toMatch(/serves "order-fulfilment" only/);
    expect(sceneOverrideProblem('2001', 'order-fulfilment', purposes)).toMatch(
      /serves "customer-service" only/,
    );
    expect(sceneOverrideProblem('2002', 'marketing', purposes)).toMatch(/rests on consent/);
    expect(sceneOverrideProblem('2002', 'customs-clearance', purposes)).toMatch(/rests on legal_obligation/);
    expect(sceneOverrideProblem('2002', 'nope', purposes)).toBe('unknown purpose "nope"');
    expect(sceneOverrideProblem('2002', 'order-fulfilment', purposes)).toBeUndefined();
  });

  it('lets buyer data go only to a registered processor for fulfilment (R31)', () => {
    const base = { datamap, purpose: 'order-fulfilment' };
    expect(checkExportAllowed({ ...base, recipientId: 'sf-express' })).toMatchObject({ allowed: true });
    expect(
      checkExportAllowed({
        ...base,
        recipientId: 'sf-express',
        categories: ['identity.name', 'location.street'],
      }),
    ).toMatchObject({ allowed: true });
    expect(checkExportAllowed(base)).toEqual({ allowed: false, reason: 'no-recipient' });
    expect(checkExportAllowed({ ...base, recipientId: 'data-broker' })).toEqual({
      allowed: false,
      reason: 'unknown-recipient',
    });
    // A legal obligation (customs declarations, PIPL Art. 13(3)) authorises its registered recipient
    // for its registered categories, and nothing more.
    expect(
      checkExportAllowed({
        ...base,
        purpose: 'customs-clearance',
        recipientId: 'china-customs',
        categories: ['identity.real-name', 'identity.national-id'],
      }),
    ).toMatchObject({ allowed: true });
    expect(
      checkExportAllowed({
        ...base,
        purpose: 'customs-clearance',
        recipientId: 'china-customs',
        categories: ['identity.real-name', 'contact.phone'],
      }),
    ).toEqual({ allowed: false, reason: 'category-not-agreed', categories: ['contact.phone'] });
    expect(checkExportAllowed({ ...base, recipientId: 'china-customs' })).toEqual({
      allowed: false,
      reason: 'not-a-processor',
    });
    expect(checkExportAllowed({ ...base, purpose: 'customs-clearance', recipientId: 'sf-express' })).toEqual({
      allowed: false,
      reason: 'not-fulfilment',
    });
    expect(checkExportAllowed({ ...base, purpose: 'marketing', recipientId: 'sf-express' })).toEqual({
      allowed: false,
      reason: 'not-fulfilment',
    });
    expect(
      checkExportAllowed({
        ...base,
        recipientId: 'sf-express',
        categories: ['identity.name', 'identity.national-id'],
      }),
    ).toEqual({ allowed: false, reason: 'category-not-agreed', categories: ['identity.national-id'] });
    // Order data without buyer PI (amounts, statuses) is not "他人信息".
    expect(checkExportAllowed({ ...base, purpose: 'marketing', categories: ['order.detail'] })).toMatchObject(
      {
        allowed: true,
      },
    );
    expect(() => assertExportAllowed({ ...base, recipientId: 'data-broker' })).toThrow(
      expect.objectContaining({
        code: 'ERR_TMALL_EXPORT_REFUSED',
        details: expect.objectContaining({ reason: 'unknown-recipient' }),
      }),
    );
  });
});
