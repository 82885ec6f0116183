import { PERMISSIONS, type RoleSpec } from '../../src/domain/access/roles.js';
import type { Principal } from '../../src/services/tokens.js';

/**
 * A test role that may do everything for every purpose and is capped by nothing but the data map,
 * so vault tests see exactly the views the data map declares. Role-specific behaviour is tested
 * with the built-in roles.
 */
export const TESTER_ROLE: RoleSpec = {
  description: 'tests only',
  permissions: [...PERMISSIONS],
  purposes: ['*'],
  grants: { '*': 'clear' },
  breakGlass: true,
};

export const TEST_ROLES: Readonly<Record<string, RoleSpec>> = { tester: TESTER_ROLE };

export const tester: Principal = {
  kind: 'token',
  id: 'tok-tester',
  name: 'tester',
  role: 'tester',
  trainingCurrent: true,
};

/** An operator's API token (the built-in role: fulfilment staff). */
export const operator: Principal = {
  kind: 'token',
  id: 'op-1',
  name: 'Operator One',
  role: 'operator',
  trainingCurrent: true,
};
