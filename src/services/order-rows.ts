/**
 * One row of an order export as both of the importer's threads take it (src/services/importer.ts,
 * src/services/import-worker.ts): the row normalised or rejected, and the vault inputs of an order.
 */

import type { ColumnPlan } from '../platforms/tmall/mapping.js';
import { normaliseRow, rejectRow, type NormalisedRow, type OrderRow } from '../platforms/tmall/rows.js';
import type { SourceRow } from '../platforms/tmall/source.js';
import type { CollectInput } from './collect-plan.js';

/** One row of the file as the importer takes it: a reject, or a normalised order. */
export function toRow(
  plan: ColumnPlan,
  columns: number,
  ordinal: number,
  source: SourceRow,
  format: 'csv' | 'xlsx',
): NormalisedRow {
  if (source.cells === undefined)
    return rejectRow(ordinal, source.line, [source.problem ?? 'csv-quote-stray']);
  let cells = source.cells;
  // A sheet row omits its trailing empty cells; a CSV row must have every column.
  if (format === 'xlsx') {
    while (cells.length > columns && cells.at(-1) === '') cells = cells.slice(0, -1);
    if (cells.length < columns) cells = [...cells, ...Array<string>(columns - cells.length).fill('')];
  }
  if (cells.length !== columns) return rejectRow(ordinal, source.line, ['column-count']);
  return normaliseRow(plan, ordinal, source.line, cells);
}

/**
 * The vault inputs of one order row: its order record, which carries the identities and finds or
 * creates the buyer, then its other records (the delivery address), which join that buyer.
 * `at` is the order record's position among the inputs of the call.
 */
export function orderInputs(
  o: OrderRow,
  plan: Pick<ColumnPlan, 'purpose' | 'orderCollection'>,
  source: string,
  at: number,
): CollectInput[] {
  const inputs: CollectInput[] = [
    {
      collection: plan.orderCollection,
      fields: o.records.get(plan.orderCollection) ?? {},
      purpose: plan.purpose,
      identities: { oaid: o.identities.oaid, memberId: o.identities.openUid },
      source,
    },
  ];
  for (const [collection, fields] of o.records)
    if (collection !== plan.orderCollection)
      inputs.push({ collection, fields, purpose: plan.purpose, subjectOf: at, source });
  return inputs;
}

/** Whether the row carried an OAID or buyer_open_uid (the keys buyers are found by, R30). */
export function isKeyed(o: OrderRow): boolean {
  return o.identities.oaid !== undefined || o.identities.openUid !== undefined;
}
