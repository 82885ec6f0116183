/**
 * A prepared batch of the file importer as it crosses from its worker thread to the main thread
 * (src/services/import-worker.ts → src/services/import-thread.ts).
 *
 * Structured clone, given the rows as objects, writes every property name of every object and
 * reads them back one property at a time: 1.3 MB for a batch of 1,000 order rows, about 8 µs a
 * row to post and 16–25 µs a row to receive (BENCHMARKS.md). Most of it repeats from record to
 * record: the collection, purpose and source, the field names, the identity kinds and index
 * versions. Here a batch is a few columns instead: each distinct record shape once, then per row
 * only what varies (numbers, the plain fields' values, the identity tokens in one buffer).
 *
 * Nothing here is personal data in clear: as before, only the data map's `protection: plain`
 * fields and blind-index tokens cross. The sealed batch comes back the same way: its envelopes in
 * one buffer (`PackedSealed`, as `sealPlanned` seals it), not one object each.
 */

import type { DropKind, RejectedRow } from '../platforms/tmall/rows.js';
import {
  asBuffer,
  lookupKey,
  type CollectMeta,
  type IdentityKind,
  type IdentityMeta,
  type KeyedLookup,
  type ScreenedFieldReport,
} from './collect-plan.js';

/** An order of a batch: what the importer counts, and its records as the vault needs them. */
export interface OrderMeta {
  readonly kind: 'order';
  readonly ordinal: number;
  readonly orderId: string;
  /** Whether the row carried an OAID or buyer_open_uid. */
  readonly keyed: boolean;
  readonly drops: Readonly<Partial<Record<DropKind, number>>>;
  /** The order's records, the order collection's first; the others join its subject. */
  readonly records: readonly CollectMeta[];
}

export type RowMeta = OrderMeta | RejectedRow;

/** A batch's {@link RowMeta}s as {@link encodeRows} posts them. */
export interface EncodedRows {
  /** Each distinct {@link Shape}, as JSON. */
  readonly shapes: readonly string[];
  /** Per row: a tag, then the row's numbers (see {@link encodeRows}). */
  readonly numbers: Int32Array;
  /** Order ids, drop counts, subject ids, plain fields' values, in the order read. */
  readonly strings: readonly string[];
  /** Every identity token of the batch, one after the other. */
  readonly tokens: Uint8Array;
  /** Rows refused before the vault saw them: few, sent as they are. */
  readonly rejects: readonly RejectedRow[];
}

/**
 * What a record has in common with others of its kind: everything but its subject id, its
 * `subjectOf`, its plain fields' values and its tokens.
 */
type Shape = readonly [
  collection: string,
  purpose: string,
  source: string | null,
  hasSubjectId: boolean,
  given: readonly IdentityKind[],
  fieldNames: readonly string[],
  plainFields: readonly string[] | null,
  sensitive: boolean,
  stripped: readonly string[],
  screened: readonly ScreenedFieldReport[],
  /** Per identity: its kind, and per lookup its index version and token length. */
  identities: readonly (readonly [
    kind: IdentityKind,
    lookups: readonly (readonly [version: number, length: number])[],
  ])[],
];

const ORDER = 0;
const REJECT = 1;
const NONE = -1;
const MAX_ORDINAL = 0x7fff_ffff;

/**
 * Per row, `numbers` holds: for an order `0, ordinal, keyed (0|1), record count`, then per record
 * `shape, subjectOf (-1: none)`; for a refused row `1, its index in rejects`. Per order, `strings`
 * holds its order id and its drop counts as JSON (`''` when none), then per record its subject id
 * (when its shape has one) and its plain fields' values in the shape's order.
 */
export function encodeRows(rows: readonly RowMeta[]): EncodedRows {
  const shapes = new Map<string, number>();
  const lastOf = new Map<string, { readonly shape: Shape; readonly index: number }>();
  const numbers: number[] = [];
  const strings: string[] = [];
  const tokens: Buffer[] = [];
  const rejects: RejectedRow[] = [];
  for (const row of rows) {
    if (row.kind === 'reject') {
      numbers.push(REJECT, rejects.length);
      rejects.push(row);
      continue;
    }
    // Ordinals are data rows of one file: an int32 holds any a spreadsheet or a CSV can have.
    if (!(row.ordinal <= MAX_ORDINAL))
      throw new RangeError('an import batch holds row ordinals up to 2^31 - 1');
    numbers.push(ORDER, row.ordinal, row.keyed ? 1 : 0, row.records.length);
    strings.push(row.orderId, hasAny(row.drops) ? JSON.stringify(row.drops) : '');
    for (const record of row.records) {
      // Most records have the shape of the collection's record before: compared, not keyed.
      const shape = shapeOf(record);
      const last = lastOf.get(record.collection);
      let index: number;
      if (last !== undefined && sameValue(last.shape, shape)) index = last.index;
      else {
        const key = JSON.stringify(shape);
        index = shapes.get(key) ?? shapes.size;
        shapes.set(key, index);
        lastOf.set(record.collection, { shape, index });
      }
      numbers.push(index, record.subjectOf ?? NONE);
      if (record.subjectId !== undefined) strings.push(record.subjectId);
      if (record.plain !== null) for (const field in record.plain) strings.push(record.plain[field]!);
      for (const identity of record.identities)
        for (const lookup of identity.lookups) tokens.push(lookup.token);
    }
  }
  return {
    shapes: [...shapes.keys()],
    numbers: Int32Array.from(numbers),
    strings,
    tokens: Buffer.concat(tokens),
    rejects,
  };
}

/**
 * The rows {@link encodeRows} was given. Tokens are views of one Buffer; records of one shape
 * share its (read-only) arrays. A batch that does not read to its end is refused: it can only
 * come from a different encoder.
 */
export function decodeRows(encoded: EncodedRows): RowMeta[] {
  const shapes = encoded.shapes.map((s) => JSON.parse(s) as Shape);
  const { numbers, strings, rejects } = encoded;
  const tokens = asBuffer(encoded.tokens);
  const rows: RowMeta[] = [];
  let n = 0;
  let s = 0;
  let t = 0;
  const number = (): number => {
    if (n >= numbers.length) throw malformed();
    return numbers[n++]!;
  };
  const string = (): string => {
    if (s >= strings.length) throw malformed();
    return strings[s++]!;
  };
  while (n < numbers.length) {
    const tag = number();
    if (tag === REJECT) {
      const reject = rejects[number()];
      if (reject === undefined) throw malformed();
      rows.push(reject);
      continue;
    }
    if (tag !== ORDER) throw malformed();
    const ordinal = number();
    const keyed = number() === 1;
    const count = number();
    const orderId = string();
    const drops = string();
    const records: CollectMeta[] = [];
    for (let r = 0; r < count; r++) {
      const shape = shapes[number()];
      if (shape === undefined) throw malformed();
      const subjectOf = number();
      const [
        collection,
        purpose,
        source,
        hasSubjectId,
        given,
        fieldNames,
        plainFields,
        sensitive,
        stripped,
        screened,
        kinds,
      ] = shape;
      const subjectId = hasSubjectId ? string() : undefined;
      let plain: Record<string, string> | null = null;
      if (plainFields !== null) {
        plain = {};
        for (const field of plainFields) plain[field] = string();
      }
      const identities = kinds.map(([kind, versions]): IdentityMeta => {
        const lookups = versions.map(([indexVersion, length]): KeyedLookup => {
          if (t + length > tokens.length) throw malformed();
          const lookup = { kind, indexVersion, token: tokens.subarray(t, (t += length)) };
          return { ...lookup, key: lookupKey(lookup) };
        });
        return { kind, current: lookups[0]!, lookups };
      });
      records.push({
        collection,
        purpose,
        source: source ?? undefined,
        subjectId,
        subjectOf: subjectOf === NONE ? undefined : subjectOf,
        given,
        identities,
        fieldNames,
        plain,
        sensitive,
        stripped,
        screened,
      });
    }
    rows.push({
      kind: 'order',
      ordinal,
      orderId,
      keyed,
      drops: drops === '' ? {} : (JSON.parse(drops) as OrderMeta['drops']),
      records,
    });
  }
  if (s !== strings.length || t !== tokens.length) throw malformed();
  return rows;
}

function shapeOf(record: CollectMeta): Shape {
  return [
    record.collection,
    record.purpose,
    record.source ?? null,
    record.subjectId !== undefined,
    record.given,
    record.fieldNames,
    record.plain === null ? null : Object.keys(record.plain),
    record.sensitive,
    record.stripped,
    record.screened,
    record.identities.map((i) => [i.kind, i.lookups.map((l) => [l.indexVersion, l.token.length] as const)]),
  ];
}

/** Structural equality of JSON-like values (a {@link Shape}'s parts): what `JSON.stringify` tells apart. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  const other = Object.keys(b);
  return (
    keys.length === other.length &&
    keys.every(
      (k, i) =>
        k === other[i] && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

function hasAny(drops: OrderMeta['drops']): boolean {
  for (const _ in drops) return true;
  return false;
}

function malformed(): Error {
  return new Error('the import thread sent a malformed batch');
}
