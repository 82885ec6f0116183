/**
 * The built-in data-category taxonomy (R14). Each category says whether it is personal
 * information at all, whether PIPL Art. 28 treats it as sensitive, and how it is masked on
 * display (R15). Collections in the data map pick their fields' categories from here.
 */

export type MaskStyle =
  | 'name'
  | 'phone'
  | 'email'
  | 'national-id'
  | 'bank-card'
  | 'street'
  | 'region'
  | 'date'
  | 'identifier'
  | 'free-text'
  | 'full'
  | 'none';

export interface CategorySpec {
  /** Personal information under PIPL Art. 4. `false` only for data about orders, not people. */
  readonly personal: boolean;
  /** Sensitive PI under PIPL Art. 28 (and GB/T 35273 Annex B). */
  readonly sensitive: boolean;
  /** How a masked view shows the value. */
  readonly mask: MaskStyle;
  readonly description: string;
}

export const CATEGORIES = {
  'identity.name': { personal: true, sensitive: false, mask: 'name', description: 'A natural person’s name' },
  'identity.real-name': {
    personal: true,
    sensitive: false,
    mask: 'name',
    description: 'A legal name as on an identity document (customs, real-name checks)',
  },
  'identity.national-id': {
    personal: true,
    sensitive: true,
    mask: 'national-id',
    description: 'Resident identity card number (GB 11643)',
  },
  'identity.passport': {
    personal: true,
    sensitive: true,
    mask: 'identifier',
    description: 'Passport or travel permit number',
  },
  'identity.birth-date': { personal: true, sensitive: false, mask: 'date', description: 'Date of birth' },
  'identity.platform-id': {
    personal: true,
    sensitive: false,
    mask: 'identifier',
    description: 'A marketplace identifier: Tmall OAID, buyer_open_uid, member id, nick',
  },
  'contact.phone': {
    personal: true,
    sensitive: false,
    mask: 'phone',
    description: 'Mobile or landline number',
  },
  'contact.email': { personal: true, sensitive: false, mask: 'email', description: 'Email address' },
  'location.region': {
    personal: true,
    sensitive: false,
    mask: 'region',
    description: 'Province, city or district of an address',
  },
  'location.street': {
    personal: true,
    sensitive: false,
    mask: 'street',
    description: 'Street, building and house number',
  },
  'location.precise': {
    personal: true,
    sensitive: true,
    mask: 'full',
    description: 'Precise geolocation (track, coordinates)',
  },
  'financial.bank-card': {
    personal: true,
    sensitive: true,
    mask: 'bank-card',
    description: 'Bank card or account number',
  },
  'financial.transaction': {
    personal: true,
    sensitive: true,
    mask: 'full',
    description: 'Transaction records tied to a person (GB/T 35273 Annex B)',
  },
  'health.record': {
    personal: true,
    sensitive: true,
    mask: 'full',
    description: 'Health or medical information',
  },
  'biometric.face': {
    personal: true,
    sensitive: true,
    mask: 'full',
    description: 'Facial or other biometric data',
  },
  'content.message': {
    personal: true,
    sensitive: false,
    mask: 'free-text',
    description: 'Free text written by or about the customer (buyer messages, service notes)',
  },
  'order.reference': {
    personal: false,
    sensitive: false,
    mask: 'none',
    description: 'Order numbers and references',
  },
  'order.detail': {
    personal: false,
    sensitive: false,
    mask: 'none',
    description: 'Order amounts, status, items',
  },
} as const satisfies Record<string, CategorySpec>;

export type Category = keyof typeof CATEGORIES;

export const CATEGORY_IDS = Object.keys(CATEGORIES) as [Category, ...Category[]];

export function categorySpec(category: Category): CategorySpec {
  return CATEGORIES[category];
}

/**
 * Kinds of PI a free-text field (a buyer message, a service note) may contain. A field's
 * `freeText.declares` lists the kinds it is declared to hold; the free-text policy applies to the
 * others (see `screenFreeText` in `minimise.ts`).
 */
export const PII_TYPES = ['mobile', 'national-id', 'bank-card', 'email', 'uscc', 'passport'] as const;
export type PiiType = (typeof PII_TYPES)[number];

/**
 * The category each kind of PI belongs to, so that a free-text field declared to hold resident
 * ids is treated as holding sensitive PI. A Unified Social Credit Code names an organisation, not
 * a person, so it has none.
 */
export const PII_TYPE_CATEGORY: { readonly [T in PiiType]: Category | undefined } = {
  mobile: 'contact.phone',
  'national-id': 'identity.national-id',
  'bank-card': 'financial.bank-card',
  email: 'contact.email',
  uscc: undefined,
  passport: 'identity.passport',
};
