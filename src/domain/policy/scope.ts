/**
 * The policy scope: every fact of the data map that a customer reads in the privacy policy
 * (PIPL Art. 17, 30; NDSR Art. 21; R6), and nothing else. The policy model is built from the
 * scope alone, so two data maps with the same scope render the same policy, and a stored scope
 * re-renders its version exactly. The fingerprint is the SHA-256 of the scope's canonical JSON:
 * stable under any reordering of keys, collections, fields, purposes or recipients.
 */

import { z } from 'zod';
import {
  HOME_COUNTRY,
  isSensitiveField,
  LEGAL_BASES,
  RECIPIENT_ROLES,
  SEPARATE_CONSENTS,
  type FieldSpec,
  type Purpose,
  type Recipient,
  type SeparateConsent,
} from '../datamap/schema.js';
import { CATEGORY_IDS } from '../datamap/taxonomy.js';
import { CustodianError } from '../errors.js';
import { sha256Hex } from './sha256.js';

/** Identifies the shape of {@link PolicyScope}; part of every fingerprint. */
export const POLICY_SCOPE_FORMAT = 'custodian.policy-scope/1';

/**
 * What the policy generator reads from a data map; a `Datamap` from the configuration is one.
 * Only complete fields (`collections.*.fields`) are listed: the incomplete ones are never
 * collected, and `custodian datamap lint` reports them.
 */
export interface PolicySource {
  readonly processor: { readonly name: string; readonly contact: string };
  readonly officer?: { readonly name: string; readonly contact: string } | undefined;
  readonly purposes: readonly Purpose[];
  readonly collections: Readonly<Record<string, { readonly fields: Readonly<Record<string, FieldSpec>> }>>;
  readonly recipients?: readonly Recipient[] | undefined;
}

const partySchema = z.strictObject({ name: z.string(), contact: z.string() });
const localizedSchema = z.strictObject({ 'zh-CN': z.string(), en: z.string() });

const scopePurposeSchema = z.strictObject({
  id: z.string(),
  name: localizedSchema,
  description: localizedSchema.optional(),
  legalBasis: z.enum(LEGAL_BASES),
  necessary: z.boolean(),
  separateConsents: z.array(z.enum(SEPARATE_CONSENTS)),
  /** Declared cross-border (only `true` is kept); the model also counts recipients abroad and a `cross_border` consent. */
  crossBorder: z.literal(true).optional(),
});

const scopeRetentionSchema = z.strictObject({
  keep: z.string(),
  from: z.enum(['collection', 'last-activity', 'purpose-fulfilled']),
  then: z.enum(['delete', 'anonymise']),
});

const scopeFieldSchema = z.strictObject({
  collection: z.string(),
  field: z.string(),
  category: z.enum(CATEGORY_IDS),
  /** Sensitive by its category, its declared PI types or its own `sensitivity` (PIPL Art. 28). */
  sensitive: z.boolean(),
  /** Stored encrypted (`protection` other than `plain`). */
  encrypted: z.boolean(),
  /** Purpose id → the view that purpose gets. */
  purposes: z.record(z.string(), z.enum(['clear', 'masked'])),
  retention: scopeRetentionSchema,
  /** For free text: what happens to PI typed into it. */
  freeText: z.enum(['mask', 'reject', 'flag']).optional(),
  /** The data map's description of a sensitive field: its necessity and impact, in the merchant's words. */
  note: z.string().optional(),
});

const scopeRecipientSchema = z.strictObject({
  id: z.string(),
  name: localizedSchema,
  contact: z.string(),
  role: z.enum(RECIPIENT_ROLES),
  purposes: z.array(z.string()),
  categories: z.array(z.enum(CATEGORY_IDS)),
  /** ISO 3166-1 alpha-2; `CN` for mainland China. */
  country: z.string(),
  crossBorder: z.boolean(),
  /** The basis for providing PI to it, where it differs from its purposes' basis. */
  legalBasis: z.enum(LEGAL_BASES).optional(),
  description: localizedSchema.optional(),
});

export const policyScopeSchema = z.strictObject({
  format: z.literal(POLICY_SCOPE_FORMAT),
  processor: partySchema,
  officer: partySchema.optional(),
  purposes: z.array(scopePurposeSchema),
  fields: z.array(scopeFieldSchema),
  recipients: z.array(scopeRecipientSchema),
});

export type PolicyScope = z.output<typeof policyScopeSchema>;
export type ScopeParty = z.output<typeof partySchema>;
export type ScopePurpose = z.output<typeof scopePurposeSchema>;
export type ScopeField = z.output<typeof scopeFieldSchema>;
export type ScopeRetention = z.output<typeof scopeRetentionSchema>;
export type ScopeRecipient = z.output<typeof scopeRecipientSchema>;

/** The policy scope of a data map, in the data map's own order (which the policy keeps). */
export function policyScope(source: PolicySource): PolicyScope {
  const purposes = source.purposes.map((p): ScopePurpose => {
    const purpose: ScopePurpose = {
      id: p.id,
      name: { 'zh-CN': p.name['zh-CN'], en: p.name.en },
      legalBasis: p.legalBasis,
      necessary: p.necessary,
      separateConsents: sortConsents(p.separateConsents),
    };
    if (p.description !== undefined) {
      purpose.description = { 'zh-CN': p.description['zh-CN'], en: p.description.en };
    }
    // Only `true` says something the data map does not already say through recipients and consents.
    if (p.crossBorder === true) purpose.crossBorder = true;
    return purpose;
  });

  const fields: ScopeField[] = [];
  for (const [collection, spec] of Object.entries(source.collections)) {
    for (const [field, f] of Object.entries(spec.fields)) {
      const sensitive = isSensitiveField(f);
      const entry: ScopeField = {
        collection,
        field,
        category: f.category,
        sensitive,
        encrypted: f.protection !== 'plain',
        purposes: { ...f.purposes },
        retention: { keep: f.retention.keep, from: f.retention.from, then: f.retention.then },
      };
      if (f.freeText !== undefined) entry.freeText = f.freeText.pii;
      const note = f.description?.trim();
      if (sensitive && note !== undefined && note !== '') entry.note = note.replace(/\s+/g, ' ');
      fields.push(entry);
    }
  }

  const scope: PolicyScope = {
    format: POLICY_SCOPE_FORMAT,
    processor: { name: source.processor.name, contact: source.processor.contact },
    purposes,
    fields,
    recipients: (source.recipients ?? []).map(recipientScope),
  };
  if (source.officer !== undefined) {
    scope.officer = { name: source.officer.name, contact: source.officer.contact };
  }
  return scope;
}

function localized(value: string | { readonly 'zh-CN': string; readonly en: string }): {
  'zh-CN': string;
  en: string;
} {
  return typeof value === 'string'
    ? { 'zh-CN': value, en: value }
    : { 'zh-CN': value['zh-CN'], en: value.en };
}

function recipientScope(r: Recipient): ScopeRecipient {
  const recipient: ScopeRecipient = {
    id: r.id,
    name: localized(r.name),
    contact: r.contact,
    role: r.role,
    purposes: [...new Set(r.purposes)],
    categories: [...new Set(r.categories)],
    country: r.country.toUpperCase(),
    crossBorder: r.crossBorder || r.country.toUpperCase() !== HOME_COUNTRY,
  };
  if (r.legalBasis !== undefined) recipient.legalBasis = r.legalBasis;
  if (r.description !== undefined) recipient.description = localized(r.description);
  return recipient;
}

/** Validates a stored scope (for example one read back from the versions table). */
export function parsePolicyScope(value: unknown): PolicyScope {
  const result = policyScopeSchema.safeParse(value);
  if (!result.success) {
    throw new CustodianError('ERR_VALIDATION_FAILED', 'the stored policy scope is not valid', {
      details: { issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return result.data;
}

/** The scope in canonical order: purposes, fields and recipients sorted, sets sorted and unique. */
export function canonicalScope(scope: PolicyScope): PolicyScope {
  const canonical: PolicyScope = {
    format: scope.format,
    processor: scope.processor,
    purposes: [...scope.purposes]
      .map((p) => ({ ...p, separateConsents: sortConsents(p.separateConsents) }))
      .sort((a, b) => compare(a.id, b.id)),
    fields: [...scope.fields].sort(
      (a, b) => compare(a.collection, b.collection) || compare(a.field, b.field),
    ),
    recipients: [...scope.recipients]
      .map((r) => ({ ...r, purposes: sortedSet(r.purposes), categories: sortedSet(r.categories) }))
      .sort((a, b) => compare(a.id, b.id)),
  };
  if (scope.officer !== undefined) canonical.officer = scope.officer;
  return canonical;
}

/** JSON with object keys sorted and `undefined` members left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const json = JSON.stringify(value) as string | undefined;
    return json ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => compare(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The scope's fingerprint: 64 lower-case hex digits of SHA-256 over its canonical JSON. */
export function policyFingerprint(scope: PolicyScope): string {
  return sha256Hex(`${POLICY_SCOPE_FORMAT}\n${canonicalJson(canonicalScope(scope))}`);
}

// --- helpers -------------------------------------------------------------------------------------

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedSet<T extends string>(values: readonly T[]): T[] {
  return [...new Set(values)].sort(compare);
}

function sortConsents(values: readonly SeparateConsent[]): SeparateConsent[] {
  return SEPARATE_CONSENTS.filter((c) => values.includes(c));
}
