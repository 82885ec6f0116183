import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import { CustodianError } from '../../src/domain/errors.js';
import { testApp, type TestApp } from '../support/app.js';
import { withAccess } from './helpers.js';

const template = configTemplate({ suite: 'aes-256-gcm', storeName: 'Test Store' });

function problemOf(text: string): string {
  try {
    parseConfig(text, 'custodian.yaml');
  } catch (error) {
    if (error instanceof CustodianError && error.code === 'ERR_CONFIG_INVALID') return error.message;
    throw error;
  }
  throw new Error('expected ERR_CONFIG_INVALID');
}

describe('access configuration', () => {
  it('defaults every key, so existing configs stay valid', () => {
    expect(parseConfig(template, 'custodian.yaml').access).toEqual({
      requireTraining: false,
      trainingValidity: '365d',
      session: { idleMinutes: 30, absoluteHours: 12 },
      lockout: { maxFailures: 5, lockMinutes: 15 },
      roles: {},
      exportApproval: { threshold: 100 },
      breakGlass: { maxMinutes: 60 },
    });
  });

  it('takes partial sections and custom roles', () => {
    const config = parseConfig(
      withAccess(
        [
          'requireTraining: true',
          'trainingValidity: 180d',
          'session: { idleMinutes: 10 }',
          'roles:',
          '  warehouse:',
          '    permissions: [vault.read]',
          '    purposes: [order-fulfilment]',
          "    grants: { 'location.*': clear }",
        ].join('\n'),
      )(template),
      'custodian.yaml',
    );
    expect(config.access).toMatchObject({
      requireTraining: true,
      trainingValidity: '180d',
      session: { idleMinutes: 10, absoluteHours: 12 },
      roles: {
        warehouse: {
          permissions: ['vault.read'],
          purposes: ['order-fulfilment'],
          grants: { 'location.*': 'clear' },
          breakGlass: false,
        },
      },
    });
  });

  it('refuses unknown keys, bad role names, unknown permissions and bad durations, naming the key', () => {
    expect(problemOf(withAccess('lockout: { maxFailure: 3 }')(template))).toContain(
      'access.lockout.maxFailure: unknown key',
    );
    expect(problemOf(withAccess('roles: { Warehouse_Staff: {} }')(template))).toContain('access.roles');
    expect(
      problemOf(withAccess('roles: { warehouse: { permissions: [vault.everything] } }')(template)),
    ).toContain('access.roles.warehouse.permissions');
    expect(problemOf(withAccess('trainingValidity: 1y')(template))).toContain('access.trainingValidity');
    expect(problemOf(withAccess('session: { idleMinutes: 0 }')(template))).toContain(
      'access.session.idleMinutes',
    );
  });
});

describe('configured roles', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ edit: withAccess('roles:\n  warehouse:\n    permissions: [vault.read]') });
  });
  afterAll(() => t.close());

  it('may be given to staff and API keys; roles that exist nowhere may not', async () => {
    const admin = { id: 'test-admin', role: 'security-admin' };
    const password = 'correct horse battery staple';
    await expect(
      t.runtime.staff.add({ username: 'picker', role: 'warehouse', password }, admin),
    ).resolves.toMatchObject({ staff: { role: 'warehouse' } });
    await expect(t.runtime.apiKeys.create({ role: 'warehouse' }, admin)).resolves.toMatchObject({
      role: 'warehouse',
    });
    await expect(
      t.runtime.staff.add({ username: 'packer', role: 'packing', password }, admin),
    ).rejects.toMatchObject({ code: 'ERR_ROLE_UNKNOWN' });
    await expect(t.runtime.apiKeys.create({ role: 'packing' }, admin)).rejects.toMatchObject({
      code: 'ERR_ROLE_UNKNOWN',
    });
  });
});
