/**
 * One export row → the records to collect, or the reasons it is refused. Pure: the importer
 * (src/services/importer.ts) feeds it cells and writes what it returns.
 *
 * What it decides, per R30: platform-masked values (`138****1234`, `张*`) carry nothing and are
 * dropped (counted); Taobao privacy numbers (`18877771111-123`) are the platform's, so they never
 * become the buyer's phone or an identity: they go to the privacy-number field if the data map has
 * one, else they are dropped (counted). Customers are keyed on OAID and buyer_open_uid only, never
 * on nick or phone.
 */

import { isPlatformMasked } from '../../domain/pii/validators.js';
import { splitAddress } from './address.js';
import type { ColumnPlan, SourceField, TargetName } from './mapping.js';
import {
  classifyPhone,
  cleanCell,
  parseAmount,
  parseExportDateTime,
  parseOrderId,
  parsePlatformKey,
} from './values.js';

/** Why a row was refused. Stable codes: they go to the rejects file. */
export type RejectReason =
  | 'csv-quote-stray'
  | 'csv-quote-unclosed'
  | 'column-count'
  | 'encoding-invalid'
  | 'order-id-missing'
  | 'order-id-invalid'
  | 'date-missing'
  | 'date-invalid'
  | 'amount-invalid'
  | 'identity-invalid'
  | 'duplicate-in-file'
  /** The vault refused the row; the reason is the error code, e.g. `ERR_SUBJECT_AMBIGUOUS`. */
  | `ERR_${string}`;

/** What was left out of rows that were imported, counted (never the values). */
export const DROP_KINDS = [
  /** A value masked upstream (`*`): not the real value. */
  'masked',
  /** A Taobao privacy number kept in the privacy-number field. */
  'privacyNumberStored',
  /** A privacy number dropped: the data map has no field for it. */
  'privacyNumberDropped',
  /** A phone cell that is neither a mobile, a landline nor a privacy number. */
  'phoneInvalid',
  /** A 收货地址 whose province was not recognised: kept whole as the street. */
  'addressUnsplit',
] as const;
export type DropKind = (typeof DROP_KINDS)[number];

export interface OrderRow {
  readonly kind: 'order';
  readonly ordinal: number;
  readonly line: number;
  readonly orderId: string;
  readonly identities: { readonly oaid?: string; readonly openUid?: string };
  /** Fields per collection; the order collection's first. */
  readonly records: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly drops: Readonly<Partial<Record<DropKind, number>>>;
}

export interface RejectedRow {
  readonly kind: 'reject';
  readonly ordinal: number;
  readonly line: number;
  readonly columns: readonly string[];
  readonly reasons: readonly RejectReason[];
}

export type NormalisedRow = OrderRow | RejectedRow;

export function rejectRow(
  ordinal: number,
  line: number,
  reasons: readonly RejectReason[],
  columns: readonly string[] = [],
): RejectedRow {
  return { kind: 'reject', ordinal, line, columns, reasons };
}

/**
 * Turns the cells of one data row into records. `cells` must have one value per header (the
 * caller rejects other counts as `column-count`).
 */
export function normaliseRow(
  plan: ColumnPlan,
  ordinal: number,
  line: number,
  cells: readonly string[],
): NormalisedRow {
  const reasons: RejectReason[] = [];
  const columns: string[] = [];
  const reject = (reason: RejectReason, field: SourceField): void => {
    reasons.push(reason);
    const index = plan.sources[field];
    if (index !== undefined && !columns.includes(plan.headers[index]!)) columns.push(plan.headers[index]!);
  };
  const cell = (field: SourceField): string => {
    const index = plan.sources[field];
    return index === undefined ? '' : cleanCell(cells[index] ?? '');
  };
  if (cells.some((c) => c.includes('\ufffd'))) {
    const bad = cells.flatMap((c, i) => (c.includes('\ufffd') ? [plan.headers[i]!] : []));
    return rejectRow(ordinal, line, ['encoding-invalid'], bad);
  }

  const records = new Map<string, Record<string, string>>();
  const drops: Partial<Record<DropKind, number>> = {};
  const drop = (kind: DropKind): void => {
    drops[kind] = (drops[kind] ?? 0) + 1;
  };
  const put = (target: TargetName | { collection: string; field: string }, value: string): void => {
    const t = typeof target === 'string' ? plan.targets[target] : target;
    if (t === undefined || value === '') return;
    let fields = records.get(t.collection);
    if (fields === undefined) records.set(t.collection, (fields = {}));
    fields[t.field] = value;
  };
  /** Personal text: dropped (counted) when masked upstream. */
  const personal = (target: TargetName, value: string): void => {
    if (value === '' || plan.targets[target] === undefined) return;
    if (isPlatformMasked(value)) drop('masked');
    else put(target, value);
  };

  // The order collection comes first: its record carries the identities.
  records.set(plan.orderCollection, {});

  const orderIdText = cell('orderId');
  const orderId = parseOrderId(orderIdText);
  if (orderIdText === '') reject('order-id-missing', 'orderId');
  else if (orderId === undefined) reject('order-id-invalid', 'orderId');
  else put('orderId', orderId);

  const created = cell('createdAt');
  if (plan.sources.createdAt !== undefined) {
    const at = parseExportDateTime(created);
    if (created === '') reject('date-missing', 'createdAt');
    else if (at === undefined) reject('date-invalid', 'createdAt');
    else put('createdAt', at);
  }
  const paid = cell('paidAt');
  if (paid !== '') {
    const at = parseExportDateTime(paid);
    if (at === undefined) reject('date-invalid', 'paidAt');
    else put('paidAt', at);
  }
  const amountText = cell('amount');
  if (amountText !== '') {
    const amount = parseAmount(amountText);
    if (amount === undefined) reject('amount-invalid', 'amount');
    else put('amount', amount);
  }
  const identities: { oaid?: string; openUid?: string } = {};
  for (const field of ['oaid', 'openUid'] as const) {
    const text = cell(field);
    if (text === '') continue;
    // A masked key (`****`, `AAF1**`) names nobody: it never becomes a lookup key, or every
    // buyer whose key was masked the same way would be one customer (R30).
    if (isPlatformMasked(text)) {
      drop('masked');
      continue;
    }
    const key = parsePlatformKey(text);
    if (key === undefined) reject('identity-invalid', field);
    else identities[field] = key;
  }
  if (reasons.length > 0) return rejectRow(ordinal, line, reasons, columns);

  put('status', cell('status'));
  put('itemTitle', cell('itemTitle'));
  const message =
    plan.sources.buyerMessage === undefined ? '' : (cells[plan.sources.buyerMessage] ?? '').trim();
  put('buyerMessage', message);
  personal('buyerNick', cell('buyerNick'));
  personal('recipientName', cell('recipientName'));

  // Phones: the mobile column first, the landline column as a fallback. Masked and privacy
  // numbers are recognised before anything treats them as a phone (R30).
  let phone: string | undefined;
  let privacy: string | undefined;
  for (const field of ['mobile', 'phone'] as const) {
    const text = cell(field);
    if (text === '') continue;
    const kind = classifyPhone(text);
    switch (kind.kind) {
      case 'mobile':
      case 'landline':
        phone ??= kind.value;
        break;
      case 'virtual':
        if (privacy === undefined) {
          privacy = kind.value;
          drop(plan.targets.privacyNumber ? 'privacyNumberStored' : 'privacyNumberDropped');
        }
        break;
      case 'masked':
        drop('masked');
        break;
      default:
        drop('phoneInvalid');
    }
  }
  if (phone !== undefined) put('phone', phone);
  if (privacy !== undefined) put('privacyNumber', privacy);

  const address = cell('address');
  const addressTarget = plan.targets.address;
  if (address !== '' && addressTarget !== undefined) {
    const split = splitAddress(address);
    const parts = split.ok ? split.address : { province: '', city: '', district: '', street: split.street };
    if (!split.ok) drop('addressUnsplit');
    for (const part of plan.addressFields) {
      const value = parts[part];
      if (value === '') continue;
      if (isPlatformMasked(value)) drop('masked');
      else put({ collection: addressTarget.collection, field: part }, value);
    }
  }

  for (const d of plan.direct) {
    const value = cleanCell(cells[d.index] ?? '');
    if (value === '') continue;
    if (d.personal && isPlatformMasked(value)) drop('masked');
    else put({ collection: d.collection, field: d.field }, value);
  }

  for (const [collection, fields] of records)
    if (collection !== plan.orderCollection && Object.keys(fields).length === 0) records.delete(collection);
  return { kind: 'order', ordinal, line, orderId: orderId!, identities, records, drops };
}
