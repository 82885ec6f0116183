import { z } from 'zod';

/**
 * Roles: what a principal may do (permissions), for which purposes, and how much of each data
 * category it may see. Built-ins separate duties (R16): the administrator who manages accounts and
 * keys sees no customer data; the auditor reads the log, not the customers; operators work orders
 * and service tickets with masked contact data; marketing never sees identity documents.
 */

/** Every permission a route or command can require. A route without one fails the matrix test. */
export const PERMISSIONS = [
  'vault.collect',
  'vault.read',
  'vault.search',
  'vault.erase',
  'audit.read',
  'staff.manage',
  'apikeys.manage',
  'keys.manage',
  'access.review',
  'training.manage',
  'breakglass.request',
  'breakglass.review',
  'export.request',
  'export.approve',
  'policy.manage',
  'consent.read',
  'consent.record',
  'privacy.notices',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A view cap: the most a role may see of a category. */
export type ViewCap = 'clear' | 'masked' | 'withheld';

/** Category patterns: an exact category (`contact.phone`), a family (`contact.*`) or `*`. */
const categoryPattern = z
  .string()
  .regex(/^(\*|[a-z]+(\.\*|\.[a-z-]+)?)$/, 'a category, a family like contact.*, or *');

export const roleSchema = z.strictObject({
  description: z.string().max(300).optional(),
  permissions: z.array(z.enum(PERMISSIONS)).default([]),
  /** Purposes the role may act for; `*` means every purpose in the data map. */
  purposes: z.array(z.string().min(1)).default([]),
  /** Most a role may see per category pattern; the most specific pattern wins. Unlisted personal categories are masked (R15). */
  grants: z.record(categoryPattern, z.enum(['clear', 'masked', 'withheld'])).default({}),
  /** May ask for break-glass clear access (audited, time-boxed, reviewed). */
  breakGlass: z.boolean().default(false),
});

export type RoleSpec = z.output<typeof roleSchema>;

export const BUILT_IN_ROLES: Readonly<Record<string, RoleSpec>> = Object.freeze({
  'security-admin': {
    description: 'Manages staff, API keys and keys; sees no customer data',
    permissions: [
      'staff.manage',
      'apikeys.manage',
      'keys.manage',
      'access.review',
      'training.manage',
      'breakglass.review',
    ],
    purposes: [],
    grants: {},
    breakGlass: false,
  },
  'privacy-officer': {
    description: 'PI protection officer (PIPL Art. 52): requests, erasure, exports approval, policy, audit',
    permissions: [
      'vault.read',
      'vault.search',
      'vault.erase',
      'audit.read',
      'access.review',
      'training.manage',
      'breakglass.request',
      'breakglass.review',
      'export.request',
      'export.approve',
      'policy.manage',
      'consent.read',
      'consent.record',
      'privacy.notices',
    ],
    purposes: ['*'],
    grants: { '*': 'masked' },
    breakGlass: true,
  },
  operator: {
    description: 'Fulfilment and customer service',
    // Customer service records the consents customers give or withdraw on the phone or in chat.
    permissions: [
      'vault.collect',
      'vault.read',
      'vault.search',
      'export.request',
      'breakglass.request',
      'consent.read',
      'consent.record',
    ],
    purposes: ['order-fulfilment', 'customer-service'],
    grants: {
      'location.region': 'clear',
      'order.*': 'clear',
      'identity.national-id': 'withheld',
      'financial.*': 'withheld',
    },
    breakGlass: true,
  },
  marketing: {
    description: 'Member marketing, with consent',
    permissions: ['vault.read', 'vault.search', 'consent.read'],
    purposes: ['marketing'],
    grants: {
      'identity.national-id': 'withheld',
      'identity.real-name': 'withheld',
      'identity.passport': 'withheld',
      'financial.*': 'withheld',
      'health.*': 'withheld',
      'biometric.*': 'withheld',
      'location.street': 'withheld',
    },
    breakGlass: false,
  },
  auditor: {
    description: 'Reads the audit log and reports; no customer data',
    permissions: ['audit.read', 'access.review'],
    purposes: [],
    grants: {},
    breakGlass: false,
  },
});

export const BUILT_IN_ROLE_NAMES = Object.keys(BUILT_IN_ROLES);

/** Built-ins, with configured roles added or replacing them by name. */
export function resolveRoles(
  configured: Readonly<Record<string, RoleSpec>> = {},
): Readonly<Record<string, RoleSpec>> {
  return Object.freeze({ ...BUILT_IN_ROLES, ...configured });
}

export function hasPermission(
  roles: Readonly<Record<string, RoleSpec>>,
  role: string,
  permission: Permission,
): boolean {
  return Object.hasOwn(roles, role) && roles[role]!.permissions.includes(permission);
}
