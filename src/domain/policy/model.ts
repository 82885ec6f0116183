/**
 * The privacy policy as a language-neutral structure (PIPL Art. 17, 30; NDSR Art. 21; R6).
 *
 * `buildPolicyModel(datamap)` reads only the data map, through its {@link PolicyScope}; the model
 * holds ids, codes and the data map's own bilingual texts, and `render.ts` turns it into zh-CN or
 * en, HTML or Markdown. `policyModelFromScope` rebuilds the same model from a stored scope.
 */

import type { FieldView, LegalBasis, SeparateConsent } from '../datamap/schema.js';
import { CATEGORIES, type Category } from '../datamap/taxonomy.js';
import { GENERIC_IMPACT, joinList, SENSITIVE_IMPACT, type LocalizedText } from './labels.js';
import {
  policyFingerprint,
  policyScope,
  type PolicyScope,
  type PolicySource,
  type ScopeField,
  type ScopeParty,
  type ScopePurpose,
  type ScopeRecipient,
  type ScopeRetention,
} from './scope.js';

/** Where customers exercise their rights, unless the deployment says otherwise. */
export const DEFAULT_PRIVACY_CENTRE = '/privacy';

/** Under this age PI needs a guardian's consent and is sensitive (PIPL Art. 28, 31; R3). */
export const MINOR_AGE = 14;

export interface PolicyModelOptions {
  /** Path or absolute URL of the privacy centre; `/privacy` by default. */
  readonly privacyCentreUrl?: string;
}

/** How a purpose processes information (the "method" of PIPL Art. 17). */
export type ProcessingMethod =
  | 'collect'
  | 'store-encrypted'
  | 'store'
  | 'view-masked'
  | 'view-clear'
  | 'entrust'
  | 'provide'
  | 'joint-process'
  | 'cross-border'
  | 'public-disclosure';

export interface PolicyFieldUse {
  readonly collection: string;
  readonly field: string;
  readonly category: Category;
  readonly sensitive: boolean;
  /** The view staff get of the field for this purpose (R15). */
  readonly view: FieldView;
}

export interface PolicyCollectionUse {
  readonly id: string;
  readonly fields: readonly PolicyFieldUse[];
}

export interface PolicyPurpose {
  readonly id: string;
  readonly name: LocalizedText;
  readonly description: LocalizedText | null;
  readonly legalBasis: LegalBasis;
  readonly consentBased: boolean;
  /** Necessary for the core service; refusing an unnecessary one never blocks a purchase (Art. 16). */
  readonly necessary: boolean;
  readonly separateConsents: readonly SeparateConsent[];
  /** Categories in data-map order. */
  readonly categories: readonly Category[];
  readonly sensitiveCategories: readonly Category[];
  /** The fields used, grouped by collection, in data-map order. */
  readonly collections: readonly PolicyCollectionUse[];
  readonly methods: readonly ProcessingMethod[];
  /** Ids of the recipients that receive information for this purpose. */
  readonly recipients: readonly string[];
  readonly crossBorder: boolean;
}

export interface FieldRef {
  readonly collection: string;
  readonly field: string;
  readonly category: Category;
}

export interface PolicyCategory {
  readonly id: Category;
  readonly personal: boolean;
  readonly sensitive: boolean;
  readonly purposes: readonly string[];
  readonly fields: readonly FieldRef[];
}

export interface SensitivePurposeRef {
  readonly id: string;
  readonly legalBasis: LegalBasis;
  /** The purpose declares a separate consent for sensitive PI (Art. 29). */
  readonly separateConsent: boolean;
}

/** A sensitive category with its necessity and impact (PIPL Art. 30). */
export interface SensitiveCategory {
  readonly category: Category;
  readonly fields: readonly FieldRef[];
  readonly purposes: readonly SensitivePurposeRef[];
  readonly necessity: LocalizedText;
  readonly impact: LocalizedText;
  /** The data map's own descriptions of these fields (one language, as written). */
  readonly notes: readonly string[];
  readonly encrypted: boolean;
}

/** Fields of one collection that share a retention rule (R11). */
export interface RetentionRule extends ScopeRetention {
  readonly collection: string;
  readonly fields: readonly { readonly field: string; readonly category: Category }[];
  readonly categories: readonly Category[];
}

export type RightId =
  | 'access'
  | 'copy'
  | 'portability'
  | 'correction'
  | 'supplement'
  | 'deletion'
  | 'restriction'
  | 'withdraw-consent'
  | 'account-cancellation'
  | 'explanation';

export interface ResponseDeadline {
  readonly amount: number;
  readonly unit: 'working-days' | 'days';
}

export interface PolicyRight {
  readonly id: RightId;
  /** Answer deadline after identity verification (R8). */
  readonly deadline: ResponseDeadline;
  /** Takes effect at once in the privacy centre (withdrawal is one click, R4). */
  readonly immediate: boolean;
}

export interface PolicyRights {
  readonly rights: readonly PolicyRight[];
  readonly privacyCentre: string;
  /** Who handles requests: the officer, else the processor. */
  readonly contact: ScopeParty;
  /** Complaints are answered within this (R8). */
  readonly complaintDeadline: ResponseDeadline;
}

export interface MinorsNotice {
  readonly age: number;
  readonly guardianConsent: true;
  /** Categories the store holds that can reveal a customer's age (birth date, ID number). */
  readonly ageSignals: readonly Category[];
}

export interface PolicySecurity {
  /** Personal categories some field of which is stored without encryption. */
  readonly unencryptedPersonalCategories: readonly Category[];
  /** Some purpose sees some field masked. */
  readonly masking: boolean;
  /** Free-text fields in which PI the customer types is masked before it is stored. */
  readonly freeTextMasked: readonly FieldRef[];
}

export interface PolicyModel {
  readonly fingerprint: string;
  readonly scope: PolicyScope;
  readonly processor: ScopeParty;
  readonly officer: ScopeParty | null;
  readonly purposes: readonly PolicyPurpose[];
  readonly categories: readonly PolicyCategory[];
  readonly sensitive: readonly SensitiveCategory[];
  readonly retention: readonly RetentionRule[];
  readonly recipients: readonly ScopeRecipient[];
  readonly crossBorder: {
    readonly recipients: readonly ScopeRecipient[];
    /** Purposes that send information abroad: declared so, a recipient abroad, or a `cross_border` consent. */
    readonly purposes: readonly string[];
  };
  /** The data map declares a separate consent for public disclosure (Art. 25). */
  readonly publicDisclosure: readonly string[];
  readonly rights: PolicyRights;
  readonly minors: MinorsNotice;
  readonly security: PolicySecurity;
}

/** Rights of PIPL Art. 44-48 and NDSR Art. 23 (R7) with their answer deadlines (R8). */
export const POLICY_RIGHTS: readonly PolicyRight[] = [
  { id: 'access', deadline: { amount: 30, unit: 'days' }, immediate: false },
  { id: 'copy', deadline: { amount: 30, unit: 'days' }, immediate: false },
  { id: 'portability', deadline: { amount: 30, unit: 'days' }, immediate: false },
  { id: 'correction', deadline: { amount: 15, unit: 'working-days' }, immediate: false },
  { id: 'supplement', deadline: { amount: 30, unit: 'days' }, immediate: false },
  { id: 'deletion', deadline: { amount: 15, unit: 'working-days' }, immediate: false },
  { id: 'restriction', deadline: { amount: 30, unit: 'days' }, immediate: false },
  { id: 'withdraw-consent', deadline: { amount: 30, unit: 'days' }, immediate: true },
  { id: 'account-cancellation', deadline: { amount: 15, unit: 'working-days' }, immediate: false },
  { id: 'explanation', deadline: { amount: 30, unit: 'days' }, immediate: false },
];

/** The policy model of a data map. */
export function buildPolicyModel(source: PolicySource, options: PolicyModelOptions = {}): PolicyModel {
  return policyModelFromScope(policyScope(source), options);
}

/** The policy model of a scope, e.g. one stored with a published version. */
export function policyModelFromScope(scope: PolicyScope, options: PolicyModelOptions = {}): PolicyModel {
  const purposeById = new Map(scope.purposes.map((p) => [p.id, p]));
  const recipientsOf = (purpose: string): ScopeRecipient[] =>
    scope.recipients.filter((r) => r.purposes.includes(purpose));

  const purposes = scope.purposes.map((p) => purposeModel(p, scope.fields, recipientsOf(p.id)));

  const model: PolicyModel = {
    fingerprint: policyFingerprint(scope),
    scope,
    processor: scope.processor,
    officer: scope.officer ?? null,
    purposes,
    categories: categoryModel(scope.fields),
    sensitive: sensitiveModel(scope.fields, purposeById),
    retention: retentionModel(scope.fields),
    recipients: scope.recipients,
    crossBorder: {
      recipients: scope.recipients.filter((r) => r.crossBorder),
      purposes: purposes.filter((p) => p.crossBorder).map((p) => p.id),
    },
    publicDisclosure: scope.purposes
      .filter((p) => p.separateConsents.includes('public_disclosure'))
      .map((p) => p.id),
    rights: {
      rights: POLICY_RIGHTS,
      privacyCentre: options.privacyCentreUrl ?? DEFAULT_PRIVACY_CENTRE,
      contact: scope.officer ?? scope.processor,
      complaintDeadline: { amount: 15, unit: 'working-days' },
    },
    minors: {
      age: MINOR_AGE,
      guardianConsent: true,
      ageSignals: unique(
        scope.fields
          .map((f) => f.category)
          .filter((c) => c === 'identity.birth-date' || c === 'identity.national-id'),
      ),
    },
    security: {
      unencryptedPersonalCategories: unique(
        scope.fields.filter((f) => CATEGORIES[f.category].personal && !f.encrypted).map((f) => f.category),
      ),
      masking: scope.fields.some((f) => Object.values(f.purposes).includes('masked')),
      freeTextMasked: scope.fields.filter((f) => f.freeText === 'mask').map(fieldRef),
    },
  };
  return model;
}

function purposeModel(
  p: ScopePurpose,
  fields: readonly ScopeField[],
  recipients: readonly ScopeRecipient[],
): PolicyPurpose {
  const uses: PolicyFieldUse[] = [];
  for (const f of fields) {
    const view = f.purposes[p.id];
    if (view === undefined) continue;
    uses.push({
      collection: f.collection,
      field: f.field,
      category: f.category,
      sensitive: f.sensitive,
      view,
    });
  }
  const collections: PolicyCollectionUse[] = [];
  for (const use of uses) {
    const group = collections.find((c) => c.id === use.collection);
    if (group === undefined) collections.push({ id: use.collection, fields: [use] });
    else (group.fields as PolicyFieldUse[]).push(use);
  }

  const crossBorder =
    p.crossBorder === true ||
    p.separateConsents.includes('cross_border') ||
    recipients.some((r) => r.crossBorder);
  const methods: ProcessingMethod[] = [];
  if (uses.length > 0) {
    methods.push('collect');
    const personal = uses.filter((u) => CATEGORIES[u.category].personal);
    const encrypted = personal.every((u) => fields.find((f) => sameField(f, u))?.encrypted ?? false);
    methods.push(encrypted ? 'store-encrypted' : 'store');
    if (uses.some((u) => u.view === 'masked')) methods.push('view-masked');
    if (uses.some((u) => u.view === 'clear')) methods.push('view-clear');
  }
  if (recipients.some((r) => r.role === 'processor')) methods.push('entrust');
  if (
    recipients.some((r) => r.role === 'third-party') ||
    (p.separateConsents.includes('provide_to_third_party') && !recipients.some((r) => r.role !== 'processor'))
  ) {
    methods.push('provide');
  }
  if (recipients.some((r) => r.role === 'joint-controller')) methods.push('joint-process');
  if (crossBorder) methods.push('cross-border');
  if (p.separateConsents.includes('public_disclosure')) methods.push('public-disclosure');

  return {
    id: p.id,
    name: p.name,
    description: p.description ?? null,
    legalBasis: p.legalBasis,
    consentBased: p.legalBasis === 'consent',
    necessary: p.necessary,
    separateConsents: p.separateConsents,
    categories: unique(uses.map((u) => u.category)),
    sensitiveCategories: unique(uses.filter((u) => u.sensitive).map((u) => u.category)),
    collections,
    methods,
    recipients: recipients.map((r) => r.id),
    crossBorder,
  };
}

function categoryModel(fields: readonly ScopeField[]): PolicyCategory[] {
  return unique(fields.map((f) => f.category)).map((category) => {
    const members = fields.filter((f) => f.category === category);
    return {
      id: category,
      personal: CATEGORIES[category].personal,
      sensitive: members.some((f) => f.sensitive),
      purposes: unique(members.flatMap((f) => Object.keys(f.purposes))),
      fields: members.map(fieldRef),
    };
  });
}

function sensitiveModel(
  fields: readonly ScopeField[],
  purposeById: ReadonlyMap<string, ScopePurpose>,
): SensitiveCategory[] {
  const sensitiveFields = fields.filter((f) => f.sensitive);
  return unique(sensitiveFields.map((f) => f.category)).map((category) => {
    const members = sensitiveFields.filter((f) => f.category === category);
    const purposes = unique(members.flatMap((f) => Object.keys(f.purposes)))
      .map((id) => purposeById.get(id))
      .filter((p): p is ScopePurpose => p !== undefined);
    return {
      category,
      fields: members.map(fieldRef),
      purposes: purposes.map((p) => ({
        id: p.id,
        legalBasis: p.legalBasis,
        separateConsent: p.separateConsents.includes('sensitive_pi'),
      })),
      necessity: necessityOf(purposes),
      impact: SENSITIVE_IMPACT[category] ?? GENERIC_IMPACT,
      notes: unique(members.map((f) => f.note).filter((n): n is string => n !== undefined)),
      encrypted: members.every((f) => f.encrypted),
    };
  });
}

/** "Needed for <purposes>: <their descriptions>" from the data map's own words. */
function necessityOf(purposes: readonly ScopePurpose[]): LocalizedText {
  const zhNames = joinList(
    purposes.map((p) => `“${p.name['zh-CN']}”`),
    'zh-CN',
  );
  const enNames = joinList(
    purposes.map((p) => `“${p.name.en}”`),
    'en',
  );
  const zhWhy = purposes
    .map((p) => p.description?.['zh-CN'])
    .filter((d): d is string => d !== undefined)
    .map((d) => endWith(d, '。'))
    .join('');
  const enWhy = purposes
    .map((p) => p.description?.en)
    .filter((d): d is string => d !== undefined)
    .map((d) => endWith(d, '.'))
    .join(' ');
  return {
    'zh-CN': `实现${zhNames}所必需，不用于其他目的。${zhWhy}`,
    en: `Needed for ${enNames}, and used for nothing else.${enWhy === '' ? '' : ` ${enWhy}`}`,
  };
}

function retentionModel(fields: readonly ScopeField[]): RetentionRule[] {
  const rules: RetentionRule[] = [];
  for (const f of fields) {
    const rule = rules.find(
      (r) =>
        r.collection === f.collection &&
        r.keep === f.retention.keep &&
        r.from === f.retention.from &&
        r.then === f.retention.then,
    );
    if (rule === undefined) {
      rules.push({
        collection: f.collection,
        ...f.retention,
        fields: [{ field: f.field, category: f.category }],
        categories: [f.category],
      });
    } else {
      (rule.fields as { field: string; category: Category }[]).push({ field: f.field, category: f.category });
      if (!rule.categories.includes(f.category)) (rule.categories as Category[]).push(f.category);
    }
  }
  return rules;
}

function fieldRef(f: ScopeField): FieldRef {
  return { collection: f.collection, field: f.field, category: f.category };
}

function sameField(
  a: { collection: string; field: string },
  b: { collection: string; field: string },
): boolean {
  return a.collection === b.collection && a.field === b.field;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function endWith(text: string, stop: string): string {
  const trimmed = text.trim();
  return /[。．.!！?？]$/.test(trimmed) ? trimmed : `${trimmed}${stop}`;
}
