import { z } from 'zod';
import { CATEGORY_IDS } from './taxonomy.js';

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

export const fieldSchema = z.strictObject({
  category: z.enum(CATEGORY_IDS),
  sensitivity: z.enum(['general', 'sensitive']).optional(),
  protection: z.enum(['encrypt', 'blind-index', 'plain']).default('encrypt'),
  /** Purposes that need the field, each with the view it gets. */
  purposes: z
    .record(id, fieldViewSchema)
    .refine((p) => Object.keys(p).length > 0, 'at least one purpose needs the field'),
  retention: z.union([
    duration.transform((keep) => ({ keep, from: 'collection' as const, then: 'delete' as const })),
    retentionSchema,
  ]),
  /** For identities: which lookup key this field feeds (search by phone, email, oaid, memberId). */
  identity: z.enum(['phone', 'email', 'oaid', 'memberId']).optional(),
  source: z.string().max(120).optional(),
  description: z.string().max(500).optional(),
});

export const collectionSchema = z.strictObject({
  description: z.string().max(500).optional(),
  fields: z
    .record(fieldName, fieldSchema)
    .refine((f) => Object.keys(f).length > 0, 'a collection declares fields'),
});

export const purposeSchema = z.strictObject({
  id,
  name: localized,
  description: localized.optional(),
  legalBasis: z.enum(LEGAL_BASES),
  /** Necessary for the core service (PIPL Art. 16; R4): never gated on optional consent. */
  necessary: z.boolean(),
  separateConsents: z.array(z.enum(SEPARATE_CONSENTS)).default([]),
});

const party = z.strictObject({ name: z.string().min(1), contact: z.string().min(1) });

export const datamapSchema = z
  .strictObject({
    processor: party,
    officer: party.optional(),
    purposes: z.array(purposeSchema).min(1),
    collections: z.record(id, collectionSchema),
  })
  .superRefine((map, ctx) => {
    const ids = new Set<string>();
    map.purposes.forEach((p, i) => {
      if (ids.has(p.id))
        ctx.addIssue({ code: 'custom', path: ['purposes', i, 'id'], message: `duplicate purpose "${p.id}"` });
      ids.add(p.id);
    });
    for (const [collection, spec] of Object.entries(map.collections)) {
      for (const [field, f] of Object.entries(spec.fields)) {
        for (const purpose of Object.keys(f.purposes)) {
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
  });

export type Datamap = z.output<typeof datamapSchema>;
export type Purpose = z.output<typeof purposeSchema>;
export type CollectionSpec = z.output<typeof collectionSchema>;
export type FieldSpec = z.output<typeof fieldSchema>;
export type FieldView = z.output<typeof fieldViewSchema>;
