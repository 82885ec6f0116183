import { z } from 'zod';
import {
  CATEGORIES,
  CATEGORY_IDS,
  PII_TYPE_CATEGORY,
  PII_TYPES,
  type Category,
  type MaskStyle,
  type PiiType,
} from './taxonomy.js';

/** PIPL Art. 13 legal bases (R1). */
export const LEGAL_BASES = [
  'consent',
  'contract',
  'legal_obligation',
  'emergency',
  'news_public_interest',
  'public_data',
  'other_law',
] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/** Kinds of separate consent (单独同意) that PIPL requires apart from the general one (R2). */
export const SEPARATE_CONSENTS = [
  'provide_to_third_party',
  'public_disclosure',
  'sensitive_pi',
  'cross_border',
  'public_camera_reuse',
] as const;
export type SeparateConsent = (typeof SEPARATE_CONSENTS)[number];

/**
 * Who receives personal information (R6: recipients are listed in the notice):
 * - `processor`: an entrusted party (受托人) that processes only as agreed (PIPL Art. 21);
 * - `third-party`: another processor that decides its own purposes (Art. 23: separate consent
 *   when the basis is consent);
 * - `joint-controller`: decides purposes and means together with us (Art. 20).
 */
export const RECIPIENT_ROLES = ['processor', 'third-party', 'joint-controller'] as const;
export type RecipientRole = (typeof RECIPIENT_ROLES)[number];

/** What collection does with the fields a purpose does not need: refuse the record (422) or drop them. */
export const MINIMISE_MODES = ['refuse', 'strip'] as const;
export type MinimiseMode = (typeof MINIMISE_MODES)[number];

/**
 * What collection does with PI found in a free-text field that the field does not declare:
 * mask it before storing, reject the record, or store it as written and report it.
 */
export const FREE_TEXT_POLICIES = ['mask', 'reject', 'flag'] as const;
export type FreeTextPolicyMode = (typeof FREE_TEXT_POLICIES)[number];

/** The country whose recipients are not cross-border. Hong Kong, Macao and Taiwan count as abroad. */
export const HOME_COUNTRY = 'CN';

const id = z
  .string()
  .regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and dashes, starting with a letter')
  .max(64);
const fieldName = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9]*$/, 'use letters and digits, starting with a letter')
  .max(64);

const localized = z.strictObject({ 'zh-CN': z.string().min(1), en: z.string().min(1) });

const duration = z.string().regex(/^\d+(d|w|m|y)$/, 'a duration such as 30d, 6m or 3y');

/** How long a field is kept and what happens then (R11). */
export const retentionSchema = z.strictObject({
  keep: duration,
  from: z.enum(['collection', 'last-activity', 'purpose-fulfilled']).default('collection'),
  then: z.enum(['delete', 'anonymise']).default('delete'),
});

/** Which view a purpose gets of a field: R15 makes `masked` the default. */
export const fieldViewSchema = z.enum(['clear', 'masked']);

/** The policy of a free-text field (buyer messages, service notes) for PI typed into it. */
export const freeTextSchema = z.strictObject({
  pii: z.enum(FREE_TEXT_POLICIES),
  /** Kinds of PI the field is declared to hold; these are kept, the policy applies to the rest. */
  declares: z.array(z.enum(PII_TYPES)).default([]),
});

/**
 * One field as written. `category`, `purposes` and `retention` may be left out so that the
 * configuration still loads while `custodian datamap lint` names what is missing. `sensitivity` defaults to `sensitive` when the category, or a PI type a
 * free-text field declares, is sensitive (PIPL Art. 28).
 */
export const fieldSchema = z
  .strictObject({
    category: z.enum(CATEGORY_IDS).optional(),
    sensitivity: z.enum(['general', 'sensitive']).optional(),
    /** `blind-index` encrypts the value and also keeps a searchable keyed hash of it. */
    protection: z.enum(['encrypt', 'blind-index', 'plain']).default('encrypt'),
    /** Purposes that need the field, each with the view it gets. */
    purposes: z.record(id, fieldViewSchema).optional(),
    retention: z
      .union([
        duration.transform((keep) => ({ keep, from: 'collection' as const, then: 'delete' as const })),
        retentionSchema,
      ])
      .optional(),
    /** For identities: which lookup key this field feeds (search by phone, email, oaid, memberId). */
    identity: z.enum(['phone', 'email', 'oaid', 'memberId']).optional(),
    /** For free text: what collection does with PI found in it. */
    freeText: freeTextSchema.optional(),
    source: z.string().max(120).optional(),
    description: z.string().max(500).optional(),
  })
  .transform(({ sensitivity, ...rest }) => {
    const implied = impliedSensitive(rest.category, rest.freeText) ? ('sensitive' as const) : undefined;
    const effective = sensitivity ?? implied;
    return { ...rest, ...(effective === undefined ? {} : { sensitivity: effective }) };
  });

/** True when the category, or a PI type the free-text policy declares, is sensitive. */
function impliedSensitive(
  category: Category | undefined,
  freeText: { readonly declares: readonly PiiType[] } | undefined,
): boolean {
  if (category !== undefined && CATEGORIES[category].sensitive) return true;
  return (freeText?.declares ?? []).some((t) => {
    const c = PII_TYPE_CATEGORY[t];
    return c !== undefined && CATEGORIES[c].sensitive;
  });
}

/** A field as written, possibly without category, purposes or retention. */
export type DeclaredField = z.output<typeof fieldSchema>;

/** A field the vault may use: it has a category, a retention rule and at least one purpose. */
export type FieldSpec = DeclaredField & {
  readonly category: Category;
  readonly purposes: Record<string, FieldView>;
  readonly retention: Retention;
};

/** Whether a declared field is complete enough to collect (category, retention and a purpose). */
export function isCompleteField(field: DeclaredField): field is FieldSpec {
  return (
    field.category !== undefined &&
    field.retention !== undefined &&
    field.purposes !== undefined &&
    Object.keys(field.purposes).length > 0
  );
}

/**
 * A collection. Its `fields` are the complete ones, the only ones collection accepts, reads show
 * and the privacy policy lists; fields written without a category, retention or purpose load
 * into `incomplete` instead (fail closed), where `custodian datamap lint` reports them under
 * their written path `datamap.collections.<c>.fields.<f>`.
 */
export const collectionSchema = z
  .strictObject({
    description: z.string().max(500).optional(),
    /** Fields a purpose does not need: `refuse` the record (default) or `strip` them and say so. */
    minimise: z.enum(MINIMISE_MODES).default('refuse'),
    fields: z
      .record(fieldName, fieldSchema)
      .refine((f) => Object.keys(f).length > 0, 'a collection declares fields'),
  })
  .transform(({ fields: declared, ...rest }) => {
    const fields: Record<string, FieldSpec> = {};
    const incomplete: Record<string, DeclaredField> = {};
    for (const [name, field] of Object.entries(declared)) {
      if (isCompleteField(field)) fields[name] = field;
      else incomplete[name] = field;
    }
    return { ...rest, fields, incomplete };
  });

/** Every field a collection declares, complete or not, in written order within each group. */
export function declaredFields(collection: CollectionSpec): [string, DeclaredField][] {
  return [...Object.entries(collection.fields), ...Object.entries(collection.incomplete)];
}

export const purposeSchema = z.strictObject({
  id,
  name: localized,
  description: localized.optional(),
  legalBasis: z.enum(LEGAL_BASES),
  /** Necessary for the core service (PIPL Art. 16; R4): never gated on optional consent. */
  necessary: z.boolean(),
  separateConsents: z.array(z.enum(SEPARATE_CONSENTS)).default([]),
  /** Whether the purpose sends PI abroad (PIPL Art. 38-39; R25-R28). Derived from recipients when absent. */
  crossBorder: z.boolean().optional(),
});

/** Someone PI is provided or entrusted to (PIPL Art. 21, 23, 38; R2, R6, R13). */
export const recipientSchema = z
  .strictObject({
    id,
    name: z.union([z.string().min(1), localized]),
    contact: z.string().min(1),
    role: z.enum(RECIPIENT_ROLES),
    /** Purposes the recipient receives PI for. */
    purposes: z.array(id).min(1),
    /** Categories of PI it receives. */
    categories: z.array(z.enum(CATEGORY_IDS)).min(1),
    /** ISO 3166-1 alpha-2 code of where it processes the data. */
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 country code such as CN')
      .default(HOME_COUNTRY),
    /** Defaults to true outside CN. May be set true for a CN recipient that stores data abroad. */
    crossBorder: z.boolean().optional(),
    /** The Art. 13 basis for providing PI to it when it differs from its purposes' basis. */
    legalBasis: z.enum(LEGAL_BASES).optional(),
    /** What it does with the PI, for the notice: one text, or Chinese and English. */
    description: z.union([z.string().min(1).max(500), localized]).optional(),
  })
  .transform(({ crossBorder, ...r }) => ({ ...r, crossBorder: crossBorder ?? r.country !== HOME_COUNTRY }));

const party = z.strictObject({ name: z.string().min(1), contact: z.string().min(1) });

export const datamapSchema = z
  .strictObject({
    processor: party,
    officer: party.optional(),
    purposes: z.array(purposeSchema).min(1),
    collections: z.record(id, collectionSchema),
    /** Recipients of PI: processors (受托人), third parties and joint controllers. */
    recipients: z.array(recipientSchema).default([]),
  })
  .superRefine((map, ctx) => {
    const ids = new Set<string>();
    map.purposes.forEach((p, i) => {
      if (ids.has(p.id))
        ctx.addIssue({ code: 'custom', path: ['purposes', i, 'id'], message: `duplicate purpose "${p.id}"` });
      ids.add(p.id);
    });
    for (const [collection, spec] of Object.entries(map.collections)) {
      for (const [field, f] of declaredFields(spec)) {
        for (const purpose of Object.keys(f.purposes ?? {})) {
          if (!ids.has(purpose)) {
            ctx.addIssue({
              code: 'custom',
              path: ['collections', collection, 'fields', field, 'purposes', purpose],
              message: `unknown purpose "${purpose}"`,
            });
          }
        }
      }
    }
    const recipients = new Set<string>();
    map.recipients.forEach((r, i) => {
      if (recipients.has(r.id))
        ctx.addIssue({
          code: 'custom',
          path: ['recipients', i, 'id'],
          message: `duplicate recipient "${r.id}"`,
        });
      recipients.add(r.id);
      r.purposes.forEach((purpose, j) => {
        if (!ids.has(purpose))
          ctx.addIssue({
            code: 'custom',
            path: ['recipients', i, 'purposes', j],
            message: `unknown purpose "${purpose}"`,
          });
      });
      // `crossBorder` is only known once the recipient itself parsed (a bad country leaves it unset).
      if (r.country !== HOME_COUNTRY && (r.crossBorder as boolean | undefined) === false)
        ctx.addIssue({
          code: 'custom',
          path: ['recipients', i, 'crossBorder'],
          message: `a recipient in ${r.country} is abroad: providing PI to it is cross-border`,
        });
    });
  });

export type Datamap = z.output<typeof datamapSchema>;
export type Purpose = z.output<typeof purposeSchema>;
export type CollectionSpec = z.output<typeof collectionSchema>;
export type FieldView = z.output<typeof fieldViewSchema>;
export type Retention = z.output<typeof retentionSchema>;
export type FreeTextPolicy = z.output<typeof freeTextSchema>;
export type Recipient = z.output<typeof recipientSchema>;

/**
 * Whether a field holds sensitive PI: by its category, a PI type its free-text policy declares,
 * or its own `sensitivity`. An explicit `sensitivity: general` never downgrades a sensitive
 * category (lint reports it).
 */
export function isSensitiveField(field: DeclaredField): boolean {
  return field.sensitivity === 'sensitive' || impliedSensitive(field.category, field.freeText);
}

/** Whether a field holds personal information (PIPL Art. 4). A field without a category does, until classified. */
export function isPersonalField(field: DeclaredField): boolean {
  return field.category === undefined || CATEGORIES[field.category].personal || isSensitiveField(field);
}

/** How a masked view shows the field: its category's style, or `full` for a field without a category. */
export function maskStyleOf(field: DeclaredField): MaskStyle {
  return field.category === undefined ? 'full' : CATEGORIES[field.category].mask;
}
