/**
 * Which export column goes where. The seller centre's order export (订单报表) has Chinese headers;
 * each known header feeds one of the importer's fields ({@link SOURCE_FIELDS}), and each of those
 * goes to a data-map field. A map file (`--map`, YAML or JSON) changes either step:
 *
 * ```yaml
 * purpose: order-fulfilment      # the purpose the records are collected for
 * columns:                       # header → importer field, a data-map field, or null (skip)
 *   订单号: orderId
 *   卖家备注: order.sellerNote
 *   买家支付宝账号: null
 * fields:                        # importer field → data-map field, or null (do not import)
 *   buyerNick: null
 *   itemTitle: order.itemTitle
 * ```
 *
 * Pure: the map file's text is parsed here, read elsewhere.
 */

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Datamap } from '../../domain/datamap/schema.js';
import { CATEGORIES } from '../../domain/datamap/taxonomy.js';
import { CustodianError } from '../../domain/errors.js';

/** What the importer understands of an order row. */
export const SOURCE_FIELDS = [
  'orderId',
  'buyerNick',
  'recipientName',
  'address',
  'mobile',
  'phone',
  'buyerMessage',
  'createdAt',
  'paidAt',
  'amount',
  'status',
  'itemTitle',
  'oaid',
  'openUid',
] as const;
export type SourceField = (typeof SOURCE_FIELDS)[number];

/** Headers of the seller-centre export (and common variants) and the field each feeds. */
export const DEFAULT_HEADERS: Readonly<Record<string, SourceField>> = {
  订单编号: 'orderId',
  订单号: 'orderId',
  主订单编号: 'orderId',
  买家会员名: 'buyerNick',
  买家昵称: 'buyerNick',
  收货人姓名: 'recipientName',
  收货人: 'recipientName',
  收货地址: 'address',
  联系手机: 'mobile',
  手机: 'mobile',
  联系电话: 'phone',
  买家留言: 'buyerMessage',
  订单创建时间: 'createdAt',
  创建时间: 'createdAt',
  下单时间: 'createdAt',
  订单付款时间: 'paidAt',
  付款时间: 'paidAt',
  总金额: 'amount',
  订单金额: 'amount',
  订单状态: 'status',
  宝贝标题: 'itemTitle',
  商品标题: 'itemTitle',
  OAID: 'oaid',
  oaid: 'oaid',
  收件人ID: 'oaid',
  buyer_open_uid: 'openUid',
  open_uid: 'openUid',
  买家open_uid: 'openUid',
};

/**
 * Where each field goes by default. `address` names the collection whose `province`, `city`,
 * `district` and `street` receive the split 收货地址; `mobile` and `phone` go to one phone field;
 * `privacyNumber` receives Taobao privacy numbers; `oaid` and `openUid` are identities, not fields.
 */
export const DEFAULT_TARGETS = {
  orderId: 'order.orderId',
  buyerNick: 'order.buyerNick',
  recipientName: 'address.recipientName',
  address: 'address',
  phone: 'address.phone',
  privacyNumber: 'address.privacyNumber',
  buyerMessage: 'order.buyerMessage',
  createdAt: 'order.createdAt',
  paidAt: 'order.paidAt',
  amount: 'order.amount',
  status: 'order.status',
  itemTitle: 'order.itemTitle',
} as const;
export type TargetName = keyof typeof DEFAULT_TARGETS;
export const TARGET_NAMES = Object.keys(DEFAULT_TARGETS) as TargetName[];

export const DEFAULT_PURPOSE = 'order-fulfilment';

const path = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\.[a-zA-Z][a-zA-Z0-9]*$/, 'a data-map field: collection.field');

export const importMapSchema = z.strictObject({
  purpose: z.string().min(1).optional(),
  columns: z.record(z.string().min(1), z.union([z.enum(SOURCE_FIELDS), path, z.null()])).default({}),
  fields: z
    .partialRecord(
      z.enum(TARGET_NAMES as [TargetName, ...TargetName[]]),
      z.union([path, z.string().regex(/^[a-z][a-z0-9-]*$/), z.null()]),
    )
    .default({}),
});
export type ImportMap = z.output<typeof importMapSchema>;

function mapError(message: string, details?: Record<string, unknown>): CustodianError {
  return new CustodianError('ERR_TMALL_MAP_INVALID', message, details ? { details } : {});
}

/** Parses a map file (YAML, of which JSON is a subset). */
export function parseImportMap(text: string, name: string): ImportMap {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw mapError(`${name}: not YAML or JSON (${(error as Error).message.split('\n')[0] ?? ''})`);
  }
  const parsed = importMapSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw mapError(`${name}: ${issue.path.join('.') || '(top)'}: ${issue.message}`, {
      path: issue.path.map(String),
    });
  }
  return parsed.data;
}

/** A column that feeds a data-map field directly (`columns: { 卖家备注: order.sellerNote }`). */
export interface DirectColumn {
  readonly index: number;
  readonly header: string;
  readonly collection: string;
  readonly field: string;
  /** Whether the field holds personal data (masked values in it are dropped). */
  readonly personal: boolean;
}

/** The plan for a file: which column feeds what, and where each field lands. */
export interface ColumnPlan {
  readonly purpose: string;
  readonly headers: readonly string[];
  /** Column index per importer field (the first column with that header wins). */
  readonly sources: Partial<Record<SourceField, number>>;
  readonly direct: readonly DirectColumn[];
  /** Where the fields land: `collection.field`, or a collection for `address`. Absent: not imported. */
  readonly targets: Partial<Record<TargetName, { readonly collection: string; readonly field: string }>>;
  /** The parts of the split 收货地址 the address collection declares for the purpose. */
  readonly addressFields: readonly AddressPart[];
  /** The collection of `orderId`: its record carries the identities and is written first. */
  readonly orderCollection: string;
  /** Headers read by nothing (not imported: minimisation). */
  readonly ignored: readonly string[];
  /** Default targets the data map lacks, so those fields are not imported. */
  readonly unavailable: readonly string[];
}

export const ADDRESS_PARTS = ['province', 'city', 'district', 'street'] as const;
export type AddressPart = (typeof ADDRESS_PARTS)[number];

function splitPath(p: string): { collection: string; field: string } {
  const dot = p.indexOf('.');
  return dot < 0 ? { collection: p, field: '' } : { collection: p.slice(0, dot), field: p.slice(dot + 1) };
}

/** Header text as compared: trimmed, BOM and full-width spaces removed. */
export function normaliseHeader(header: string): string {
  return header.replace(/^\ufeff/u, '').replace(/[\s\u3000]+/gu, '');
}

/**
 * Plans the import of a file with these headers: which columns feed which fields, checked against
 * the data map. Fails (`ERR_TMALL_MAP_INVALID`) when the map names a field the data map does not
 * declare for the purpose, and (`ERR_TMALL_IMPORT_INVALID`) when no column holds the order id.
 * Default targets the data map lacks are left out and listed in `unavailable`.
 */
export function planColumns(headers: readonly string[], map: ImportMap, datamap: Datamap): ColumnPlan {
  const purpose = map.purpose ?? DEFAULT_PURPOSE;
  if (!datamap.purposes.some((p) => p.id === purpose))
    throw mapError(`purpose "${purpose}" is not declared in the data map`, { purpose });
  const needed = (collection: string, field: string): boolean => {
    const spec = datamap.collections[collection]?.fields[field];
    return spec !== undefined && Object.hasOwn(spec.purposes, purpose);
  };
  const columnMap = new Map<string, string | null>();
  for (const [header, field] of Object.entries(DEFAULT_HEADERS))
    columnMap.set(normaliseHeader(header), field);
  for (const [header, target] of Object.entries(map.columns)) columnMap.set(normaliseHeader(header), target);

  const sources: Partial<Record<SourceField, number>> = {};
  const direct: DirectColumn[] = [];
  const ignored: string[] = [];
  headers.forEach((raw, index) => {
    const header = normaliseHeader(raw);
    const target = columnMap.get(header);
    if (target === undefined || target === null) {
      if (header !== '') ignored.push(header);
    } else if ((SOURCE_FIELDS as readonly string[]).includes(target)) {
      const field = target as SourceField;
      if (sources[field] === undefined) sources[field] = index;
      else ignored.push(header);
    } else {
      const { collection, field } = splitPath(target);
      if (!needed(collection, field))
        throw mapError(`columns.${header}: "${target}" is not a data-map field that "${purpose}" needs`, {
          column: header,
          target,
        });
      const spec = datamap.collections[collection]!.fields[field]!;
      // A phone or identity must come in through the importer's own fields, which recognise masked
      // values and Taobao privacy numbers before anything indexes them (R30).
      if (spec.category === 'contact.phone' || spec.identity !== undefined)
        throw mapError(
          `columns.${header}: "${target}" holds phones or identities; map the column to mobile, phone, oaid or openUid instead`,
          { column: header, target },
        );
      const category = spec.category;
      direct.push({ index, header, collection, field, personal: CATEGORIES[category].personal });
    }
  });
  if (sources.orderId === undefined)
    throw new CustodianError(
      'ERR_TMALL_IMPORT_INVALID',
      'no column holds the order id (订单编号); name it in the map file: columns: { <header>: orderId }',
      { details: { headers: headers.map(normaliseHeader) } },
    );

  const targets: Partial<Record<TargetName, { collection: string; field: string }>> = {};
  const unavailable: string[] = [];
  for (const name of TARGET_NAMES) {
    const explicit = Object.hasOwn(map.fields, name);
    const value = explicit ? map.fields[name] : DEFAULT_TARGETS[name];
    if (value === null || value === undefined) continue;
    const { collection, field } = splitPath(value);
    const ok =
      name === 'address'
        ? ADDRESS_PARTS.some((f) => needed(collection, f))
        : field !== '' && needed(collection, field);
    if (ok) targets[name] = { collection, field };
    else if (explicit || name === 'orderId')
      throw mapError(`fields.${name}: "${value}" is not a data-map field that "${purpose}" needs`, {
        field: name,
        target: value,
      });
    else unavailable.push(value);
  }
  return {
    purpose,
    headers: headers.map(normaliseHeader),
    sources,
    direct,
    targets,
    addressFields:
      targets.address === undefined
        ? []
        : ADDRESS_PARTS.filter((f) => needed(targets.address!.collection, f)),
    orderCollection: targets.orderId!.collection,
    ignored,
    unavailable,
  };
}
