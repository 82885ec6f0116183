/**
 * The parts of a collect that touch no store: preparing a record (fields checked against the data
 * map, minimised, free text screened, identities normalised and tokenised) and sealing it once
 * its subject, key and record id are known. The vault runs them in its own thread; the file
 * importer runs them in a worker thread (src/services/import-worker.ts) while the vault writes the
 * batch before, so both must give the same records. Only {@link CollectMeta}, which holds no
 * personal value but the data map's `protection: plain` fields, needs to reach the vault's thread.
 */

import type { AeadSuite, NonceSource } from '../crypto/aead.js';
import type { BlindIndexer } from '../crypto/blind-index.js';
import { FieldSealer, type FieldContext, type RecordContext } from '../crypto/envelope.js';
import { hasLoneSurrogate } from '../crypto/text.js';
import { isSensitiveField, type CollectionSpec, type Datamap } from '../domain/datamap/schema.js';
import { minimiseRecord, type ScreenAction } from '../domain/datamap/minimise.js';
import { CustodianError } from '../domain/errors.js';
import type { SubjectKey } from '../keys/keyring.js';
import type { IdentityLookup, SubjectKeyRecord } from '../store/store.js';
import { sealFieldsInto, sealedFieldsLength } from './sealed-record.js';

/** Identity kinds that can find a subject. OAID and member id are the platform's keys (R30). */
export const IDENTITY_KINDS = ['oaid', 'memberId', 'email', 'phone'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export type Identities = { readonly [K in IdentityKind]?: string | undefined };

export interface CollectInput {
  readonly collection: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly purpose: string;
  readonly identities?: Identities | undefined;
  readonly subjectId?: string | undefined;
  /**
   * In `collectMany`: the position of an earlier input of the same call whose subject this record
   * joins (an order's delivery address joins the buyer its order found or created).
   */
  readonly subjectOf?: number | undefined;
  readonly source?: string | undefined;
}

/** Personal data found in a free-text field and what was done about it. Types only, never values. */
export interface ScreenedFieldReport {
  readonly field: string;
  readonly action: ScreenAction;
  readonly types: string[];
}

/** A blind-index lookup with its {@link lookupKey}, made once. */
export interface KeyedLookup extends IdentityLookup {
  readonly key: string;
}

export function lookupKey(l: IdentityLookup): string {
  return `${l.kind}|${l.indexVersion}|${l.token.toString('hex')}`;
}

/** An identity of a prepared record, as the vault matches it: tokens, no value. */
export interface IdentityMeta {
  readonly kind: IdentityKind;
  /** What is stored: its lookup under the current index version, the first of {@link lookups}. */
  readonly current: KeyedLookup;
  /** Its lookups under every active version (current first), to look it up during a rotation. */
  readonly lookups: readonly KeyedLookup[];
}

export interface PreparedIdentity extends IdentityMeta {
  /** The normalised value, sealed beside the token (what a rotation of the index key re-indexes). */
  readonly normalized: string;
}

/**
 * What the vault needs of a prepared record to find its subject, write it and audit it: names,
 * tokens and counts, and the values of the data map's `protection: plain` fields (data not about
 * a person, stored clear). The personal values stay with {@link PreparedCollect}.
 */
export interface CollectMeta {
  readonly collection: string;
  readonly purpose: string;
  readonly source: string | undefined;
  readonly subjectId: string | undefined;
  readonly subjectOf: number | undefined;
  /** Identity kinds the input gave explicitly (not from declared identity fields). */
  readonly given: readonly IdentityKind[];
  readonly identities: readonly IdentityMeta[];
  /** The fields stored, sealed or plain, in submitted order. */
  readonly fieldNames: readonly string[];
  /** The `protection: plain` fields; null when there are none. */
  readonly plain: Readonly<Record<string, string>> | null;
  /** Whether a stored field is sensitive personal information (PIPL Art. 28). */
  readonly sensitive: boolean;
  /** Fields dropped because the purpose does not need them (collections with `minimise: strip`). */
  readonly stripped: readonly string[];
  readonly screened: readonly ScreenedFieldReport[];
}

/** A prepared record: its {@link CollectMeta} and the values to seal. */
export interface PreparedCollect extends CollectMeta {
  readonly identities: readonly PreparedIdentity[];
  /** The fields to seal (every stored field but the plain ones), in submitted order. */
  readonly sealed: Readonly<Record<string, string>>;
}

/** The declared collection of an input, or `ERR_COLLECT_UNKNOWN_COLLECTION`. */
export function collectionSpec(datamap: Datamap, collection: string): CollectionSpec {
  const spec = datamap.collections[collection];
  if (spec === undefined) {
    throw new CustodianError('ERR_COLLECT_UNKNOWN_COLLECTION', `collection "${collection}" is not declared`, {
      details: { collection },
    });
  }
  return spec;
}

/**
 * Checks and prepares one record of a declared collection (the caller has checked the collection
 * and that the principal may act for the purpose): undeclared fields are refused, the fields
 * minimised for the purpose and free text screened (R11, PIPL Art. 6), identities normalised and
 * tokenised under every active index version.
 */
export function prepareCollect(
  datamap: Datamap,
  indexer: BlindIndexer,
  spec: CollectionSpec,
  input: CollectInput,
): PreparedCollect {
  const undeclared = Object.keys(input.fields).filter((f) => !Object.hasOwn(spec.fields, f));
  if (undeclared.length > 0) {
    throw new CustodianError('ERR_COLLECT_UNDECLARED_FIELDS', `undeclared fields: ${undeclared.join(', ')}`, {
      details: { collection: input.collection, fields: undeclared },
    });
  }
  const minimised = minimiseRecord(datamap, input.collection, input.purpose, input.fields);
  if (minimised.refused.length > 0) {
    throw new CustodianError(
      'ERR_COLLECT_FIELDS_NOT_NEEDED',
      `purpose "${input.purpose}" does not need: ${minimised.refused.join(', ')}`,
      { details: { collection: input.collection, purpose: input.purpose, fields: minimised.refused } },
    );
  }
  const rejected = minimised.screened.filter((s) => s.action === 'rejected');
  if (rejected.length > 0) {
    throw new CustodianError(
      'ERR_COLLECT_PII_REJECTED',
      `free text holds personal data the field may not hold: ${rejected.map((r) => r.field).join(', ')}`,
      { details: { fields: rejected.map((r) => ({ field: r.field, types: r.types })) } },
    );
  }
  const fields = minimised.fields;
  // Refused here, before any sealing (which refuses them too), so that a record is refused
  // where it is prepared, in whatever thread.
  const malformed = Object.keys(fields).filter((f) => hasLoneSurrogate(fields[f]!));
  if (malformed.length > 0) {
    throw new CustodianError('ERR_VALIDATION_FAILED', 'The value is not well-formed Unicode text', {
      details: { collection: input.collection, fields: malformed },
    });
  }
  // Identities given explicitly, plus declared identity fields of the record (e.g. profile.phone).
  const identities: PreparedIdentity[] = [];
  const add = (kind: IdentityKind, value: string): void => {
    const { normalized, tokens } = indexer.index(kind, value);
    if (identities.some((i) => i.kind === kind && i.normalized === normalized)) return;
    const lookups = tokens.map(({ version, token }) => {
      const lookup: IdentityLookup = { kind, indexVersion: version, token };
      return { ...lookup, key: lookupKey(lookup) };
    });
    identities.push({ kind, normalized, current: lookups[0]!, lookups });
  };
  const given: IdentityKind[] = [];
  for (const kind of IDENTITY_KINDS) {
    const value = input.identities?.[kind];
    if (value === undefined) continue;
    given.push(kind);
    add(kind, value);
  }
  const fieldNames: string[] = [];
  const sealed: Record<string, string> = {};
  let plain: Record<string, string> | null = null;
  let sensitive = false;
  for (const field in fields) {
    const value = fields[field]!;
    const declared = spec.fields[field]!;
    fieldNames.push(field);
    if (declared.protection === 'plain') (plain ??= {})[field] = value;
    else sealed[field] = value;
    sensitive ||= isSensitiveField(declared);
    const kind = declared.identity;
    if (kind !== undefined && value.trim() !== '') add(kind, value);
  }
  return {
    collection: input.collection,
    purpose: input.purpose,
    source: input.source,
    subjectId: input.subjectId,
    subjectOf: input.subjectOf,
    given,
    identities,
    fieldNames,
    plain,
    sensitive,
    stripped: minimised.stripped,
    screened: minimised.screened.map((x) => ({ field: x.field, action: x.action, types: [...x.types] })),
    sealed,
  };
}

/** What sealing needs besides the values: the configured suite and where nonces come from. */
export interface SealSettings {
  readonly suite: AeadSuite;
  readonly nonces?: NonceSource | undefined;
}

/** Seals values under a subject's key, for one record's (or one identity's) context. */
function sealerFor(key: SubjectKey, context: RecordContext, settings: SealSettings): FieldSealer {
  return new FieldSealer({
    suite: settings.suite.id === key.suite ? settings.suite : key.suite,
    key: key.key,
    keyVersion: key.version,
    context,
    nonces: settings.nonces,
  });
}

/** Where an identity's sealed value lives: its kind and token are bound, so rows cannot be swapped. */
export function identityContext(subjectId: string, kind: string, token: Buffer): FieldContext {
  return { subjectId, collection: '@identity', recordId: kind, field: token.toString('hex') };
}

/** A planned record's subject: found or made, with the key its fields are sealed under. */
export interface PlannedSubject {
  readonly subjectId: string;
  readonly key: SubjectKey;
  /** True for the first record of a subject this collect makes. */
  readonly created: boolean;
}

/** An identity to write: the record of the plan and the identity of that record. */
export interface IdentityWrite {
  readonly record: number;
  readonly identity: number;
}

/** What a planned batch leaves for the one planned after it, before it is committed. */
export interface CollectCarry {
  /** Each identity of the batch ({@link lookupKey} of its current lookup) and its subject. */
  readonly matches: ReadonlyMap<string, string>;
  /** The key of each subject of the batch. */
  readonly keys: ReadonlyMap<string, SubjectKey>;
  /** The subjects the batch makes. */
  readonly created: ReadonlySet<string>;
}

/** The vault's plan of a collect (`Vault.planCollect`): who each record belongs to, and what to write. */
export interface CollectPlan {
  readonly at: string;
  /** Planned outside the unit of work that commits it: the commit checks it again. */
  readonly ahead: boolean;
  /** Per record, in order. */
  readonly subjects: readonly PlannedSubject[];
  readonly recordIds: readonly string[];
  /** The identities to seal and write, in order; those the store holds already are left out. */
  readonly writes: readonly IdentityWrite[];
  /** Subjects made, and the wrapped keys to store with them. */
  readonly created: readonly string[];
  readonly newKeys: readonly SubjectKeyRecord[];
  /** Subjects that existed before the plan (or are made by the carried batch). */
  readonly known: readonly string[];
  readonly carry: CollectCarry;
}

/** The part of a plan sealing needs (what the importer sends its worker). */
export type SealOrder = Pick<CollectPlan, 'subjects' | 'recordIds' | 'writes'>;

/** A planned batch sealed: each record's `records.sealed`, each write's `identities.sealed`. */
export interface SealedBatch {
  readonly records: readonly Buffer[];
  readonly identities: readonly Buffer[];
}

/**
 * A sealed batch in one buffer: each record's `records.sealed` value, then each identity write's
 * envelope, one after the other, and where each ends. It crosses between threads as three values,
 * where thousands of small Buffers would cost structured clone one object each.
 */
export interface PackedSealed {
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
  readonly records: number;
}

/**
 * Seals the records and identity writes of a plan; `prepared[i]` is the plan's record i. Every
 * envelope is sealed in place in one buffer of the batch's exact size ({@link FieldSealer}).
 */
export function sealPlanned(
  prepared: readonly PreparedCollect[],
  order: SealOrder,
  settings: SealSettings,
): PackedSealed {
  const records = prepared.map((p, i) => {
    const { subjectId, key } = order.subjects[i]!;
    const context = { subjectId, collection: p.collection, recordId: order.recordIds[i]! };
    return { sealer: sealerFor(key, context, settings), fields: p.sealed };
  });
  const identities = order.writes.map((w) => {
    const { subjectId, key } = order.subjects[w.record]!;
    const identity = prepared[w.record]!.identities[w.identity]!;
    const { field, ...context } = identityContext(subjectId, identity.kind, identity.current.token);
    return { sealer: sealerFor(key, context, settings), field, value: identity.normalized };
  });
  let size = 0;
  for (const r of records) size += sealedFieldsLength(r.sealer, r.fields);
  for (const i of identities) size += i.sealer.length(i.value);
  // Not from Buffer's shared pool: posted to another thread, the batch copies only its own bytes.
  const bytes = Buffer.allocUnsafeSlow(size);
  const ends = new Uint32Array(records.length + identities.length);
  let at = 0;
  let n = 0;
  for (const r of records) ends[n++] = at = sealFieldsInto(r.sealer, r.fields, bytes, at);
  for (const i of identities) ends[n++] = at = i.sealer.sealInto(i.field, i.value, bytes, at);
  // The buffer was not cleared: a byte left unwritten could hold anything this process had freed.
  if (at !== size) throw new Error('a sealed batch was not written to its end');
  return { bytes, ends, records: records.length };
}

/**
 * The envelopes of a {@link PackedSealed}, as Buffers (views of its one buffer) the store can bind.
 *
 * @throws Error if its ends do not cover its bytes in order (a batch from another thread).
 */
export function unpackSealed(packed: PackedSealed): SealedBatch {
  const bytes = asBuffer(packed.bytes);
  const { ends } = packed;
  const malformed = (): Error => new Error('a sealed batch does not read to its end');
  if (packed.records > ends.length || (ends.at(-1) ?? 0) !== bytes.length) throw malformed();
  const envelopes: Buffer[] = [];
  let start = 0;
  for (const end of ends) {
    if (end < start) throw malformed();
    envelopes.push(bytes.subarray(start, end));
    start = end;
  }
  return { records: envelopes.slice(0, packed.records), identities: envelopes.slice(packed.records) };
}

/** Bytes that crossed threads arrive as plain Uint8Arrays: the same memory as a Buffer. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
