/**
 * Data minimisation at collection (PIPL Art. 6: collection limited to the minimum scope the
 * purpose needs). A record submitted for purpose P may carry only the fields P needs; the others
 * are refused (the whole record, nothing stored) or, where the collection says `minimise: strip`,
 * dropped and reported. Free-text fields then pass their PI policy ({@link screenFreeText}).
 *
 * Pure: the vault calls {@link minimiseRecord} before it seals anything and turns the outcome into
 * its errors and response.
 */

import { CustodianError } from '../errors.js';
import { applyFreeTextPolicy, type PiiType as DetectedType } from '../pii/detect.js';
import type { CollectionSpec, Datamap, FreeTextPolicy, MinimiseMode } from './schema.js';
import { PII_TYPES, type PiiType } from './taxonomy.js';

/** Which submitted fields may be stored for a purpose. */
export interface Minimised {
  /** Fields the purpose needs, in submitted order: store these. */
  readonly keep: string[];
  /**
   * Fields that make the record fail: undeclared or incomplete fields always, fields the purpose
   * does not need when the collection's `minimise` is `refuse`. Non-empty means store nothing.
   */
  readonly refused: string[];
  /** Fields the purpose does not need, dropped because the collection's `minimise` is `strip`. */
  readonly stripped: string[];
}

/**
 * The fields of `collection` that `purpose` needs, in declared order. Only complete fields
 * count: a field the data map leaves without category, retention or purpose is never collected.
 */
export function fieldsNeeded(map: Datamap, collection: string, purpose: string): string[] {
  const spec = collectionOf(map, collection);
  purposeOf(map, purpose);
  return Object.entries(spec.fields)
    .filter(([, field]) => Object.hasOwn(field.purposes, purpose))
    .map(([name]) => name);
}

/**
 * Splits the submitted field names into those to keep, refuse and strip for `purpose` (see
 * {@link Minimised}). Fields the data map does not declare for collection are always refused,
 * never stripped, so that a misspelt field name fails loudly instead of being dropped.
 *
 * @throws CustodianError `ERR_COLLECT_UNKNOWN_COLLECTION` or `ERR_PURPOSE_UNKNOWN`.
 */
export function minimiseForPurpose(
  map: Datamap,
  collection: string,
  purpose: string,
  fieldNames: readonly string[],
): Minimised {
  const spec = collectionOf(map, collection);
  purposeOf(map, purpose);
  const mode: MinimiseMode = spec.minimise;
  const keep: string[] = [];
  const refused: string[] = [];
  const stripped: string[] = [];
  for (const name of new Set(fieldNames)) {
    const field = Object.hasOwn(spec.fields, name) ? spec.fields[name] : undefined;
    if (field === undefined) refused.push(name);
    else if (Object.hasOwn(field.purposes, purpose)) keep.push(name);
    else if (mode === 'strip') stripped.push(name);
    else refused.push(name);
  }
  return { keep, refused, stripped };
}

// --- free text -------------------------------------------------------------------------------------

/** What the free-text policy made of a text. `types` lists undeclared PI types found, never values. */
export type FreeTextOutcome =
  /** No undeclared PI: store the text as it is. */
  | { readonly action: 'clean'; readonly value: string; readonly types: readonly PiiType[] }
  /** `pii: mask`: undeclared PI was masked in place; store `value`. */
  | { readonly action: 'masked'; readonly value: string; readonly types: readonly PiiType[] }
  /** `pii: flag`: stored as written; report the types (audit, response). */
  | { readonly action: 'flagged'; readonly value: string; readonly types: readonly PiiType[] }
  /** `pii: reject`: the record must be refused (422 naming the field and types). */
  | { readonly action: 'rejected'; readonly types: readonly PiiType[] };

/** The detector's types for each data-map PI type: a Taobao privacy number counts as a mobile. */
const DETECTED_AS: { readonly [T in PiiType]: readonly DetectedType[] } = {
  mobile: ['mobile', 'virtual-number'],
  'national-id': ['national-id'],
  'bank-card': ['bank-card'],
  email: ['email'],
  uscc: ['uscc'],
  passport: ['passport'],
};

function dataMapType(type: DetectedType): PiiType {
  return type === 'virtual-number' ? 'mobile' : type;
}

/**
 * Applies a free-text field's policy to a submitted text with the PII detector (`pii/detect.ts`):
 * PI of the types the field `declares` is kept; any other PI found is masked in place (`mask`),
 * makes the record fail (`reject`), or is stored and reported (`flag`).
 */
export function screenFreeText(policy: FreeTextPolicy, text: string): FreeTextOutcome {
  const result = applyFreeTextPolicy(text, {
    policy: policy.pii,
    declared: policy.declares.flatMap((t) => DETECTED_AS[t]),
  });
  const found = new Set(result.findings.map((f) => dataMapType(f.type)));
  const types = PII_TYPES.filter((t) => found.has(t));
  return result.action === 'rejected'
    ? { action: 'rejected', types }
    : { action: result.action, value: result.text, types };
}

// --- one record ------------------------------------------------------------------------------------

/** What a free-text policy that acted did to a field (the API reports these too). */
export const SCREEN_ACTIONS = ['masked', 'flagged', 'rejected'] as const;
export type ScreenAction = (typeof SCREEN_ACTIONS)[number];

/** A field whose free-text policy acted; names types, never values. */
export interface ScreenedField {
  readonly field: string;
  readonly action: ScreenAction;
  readonly types: readonly PiiType[];
}

/** {@link minimiseRecord}'s verdict on one submitted record. */
export interface MinimisedRecord extends Minimised {
  /** The values to store: the kept fields, free text after its policy. Empty when the record fails. */
  readonly fields: Record<string, string>;
  /** Free-text fields whose policy acted, in submitted order. */
  readonly screened: ScreenedField[];
  /** True when nothing may be stored: a field was refused or a free-text policy rejected. */
  readonly failed: boolean;
}

/**
 * Everything collection decides from the data map alone for one record submitted for
 * `purpose`: which fields to keep, refuse or strip ({@link minimiseForPurpose}) and what each kept
 * free-text field becomes ({@link screenFreeText}).
 *
 * @throws CustodianError `ERR_COLLECT_UNKNOWN_COLLECTION` or `ERR_PURPOSE_UNKNOWN`.
 */
export function minimiseRecord(
  map: Datamap,
  collection: string,
  purpose: string,
  submitted: Readonly<Record<string, string>>,
): MinimisedRecord {
  const split = minimiseForPurpose(map, collection, purpose, Object.keys(submitted));
  const spec = collectionOf(map, collection);
  const fields: Record<string, string> = {};
  const screened: ScreenedField[] = [];
  for (const name of split.keep) {
    const value = submitted[name]!;
    const policy = spec.fields[name]!.freeText;
    if (policy === undefined) {
      fields[name] = value;
      continue;
    }
    const outcome = screenFreeText(policy, value);
    if (outcome.action !== 'clean')
      screened.push({ field: name, action: outcome.action, types: outcome.types });
    if (outcome.action !== 'rejected') fields[name] = outcome.value;
  }
  const failed = split.refused.length > 0 || screened.some((s) => s.action === 'rejected');
  return { ...split, fields: failed ? {} : fields, screened, failed };
}

// --- helpers ---------------------------------------------------------------------------------------

function collectionOf(map: Datamap, collection: string): CollectionSpec {
  const spec = Object.hasOwn(map.collections, collection) ? map.collections[collection] : undefined;
  if (spec === undefined) {
    throw new CustodianError('ERR_COLLECT_UNKNOWN_COLLECTION', `collection "${collection}" is not declared`, {
      details: { collection },
    });
  }
  return spec;
}

function purposeOf(map: Datamap, purpose: string): void {
  if (!map.purposes.some((p) => p.id === purpose)) {
    throw new CustodianError('ERR_PURPOSE_UNKNOWN', `purpose "${purpose}" is not declared in the data map`, {
      details: { purpose },
    });
  }
}
