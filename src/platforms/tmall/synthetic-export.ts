/**
 * Writes a realistic Tmall seller-centre order export (订单报表) from the deterministic synthetic
 * customers and orders: the Chinese headers, GBK (or UTF-8), the spreadsheet artefacts real
 * exports carry (`="…"` order ids, `'` before phone numbers), a few platform-masked values and
 * Taobao privacy numbers, multi-line buyer messages, and optionally malformed rows. For the demo,
 * the tests and the benchmark; no real person's data.
 */

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { maskName, maskPhone } from '../../domain/masking.js';
import {
  createRng,
  customerStream,
  orderStream,
  type SyntheticCustomer,
  type SyntheticOrder,
} from '../../domain/synthetic/index.js';
import { encodeText } from './encoding.js';

export const EXPORT_HEADERS = [
  '订单编号',
  '买家会员名',
  '买家支付宝账号',
  '买家应付货款',
  '买家应付邮费',
  '总金额',
  '订单状态',
  '买家留言',
  '收货人姓名',
  '收货地址',
  '运送方式',
  '联系电话',
  '联系手机',
  '订单创建时间',
  '订单付款时间',
  '宝贝标题',
  '宝贝种类',
  '物流单号',
  '物流公司',
  '订单备注',
  '宝贝总数量',
  'OAID',
  'buyer_open_uid',
] as const;

export type MalformedKind = 'date-invalid' | 'column-count' | 'csv-quote-stray' | 'csv-quote-unclosed';
const MALFORMED_KINDS: readonly MalformedKind[] = [
  'date-invalid',
  'column-count',
  'csv-quote-stray',
  'csv-quote-unclosed',
];

export interface SyntheticExportOptions {
  readonly seed: string;
  /** Stop after this many data rows. */
  readonly rows?: number;
  /** Or: every order of the first this many customers. One of `rows` and `customers` is required. */
  readonly customers?: number;
  readonly encoding?: 'gbk' | 'utf-8';
  /** Write a UTF-8 byte-order mark (Excel's "CSV UTF-8"). */
  readonly bom?: boolean;
  /** Share of rows whose mobile is platform-masked (`138****1234`), default 0.02. */
  readonly maskedShare?: number;
  /** Share of rows whose mobile is a privacy number (`18877771111-123`), default 0.02. */
  readonly virtualShare?: number;
  /** Every this-many-th row is malformed (cycling through the kinds); 0 (default) for none. */
  readonly malformedEvery?: number;
  /** Leave out the OAID and buyer_open_uid columns (as the seller centre's own export does). */
  readonly withoutPlatformIds?: boolean;
}

export interface ExportRowTruth {
  readonly line: number;
  readonly orderId: string;
  readonly customer: SyntheticCustomer;
  readonly order: SyntheticOrder;
  readonly mobile: 'real' | 'masked' | 'virtual';
  readonly malformed?: MalformedKind;
}

export interface SyntheticExportResult {
  readonly rows: number;
  /** Rows that should import. */
  readonly good: number;
  readonly malformed: readonly { readonly line: number; readonly kind: MalformedKind }[];
  readonly masked: number;
  readonly virtual: number;
  readonly bytes: number;
  /** Distinct customers among the good rows. */
  readonly customers: number;
}

function quote(value: string): string {
  return /[",\r\n]/u.test(value) ? `"${value.replace(/"/gu, '""')}"` : value;
}

/** `yyyy-MM-dd HH:mm:ss` plus `minutes`. */
function later(at: string, minutes: number): string {
  const t = Date.parse(`${at.replace(' ', 'T')}Z`) + minutes * 60_000;
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ');
}

const PAID: ReadonlySet<string> = new Set([
  'WAIT_SELLER_SEND_GOODS',
  'WAIT_BUYER_CONFIRM_GOODS',
  'TRADE_FINISHED',
]);
const SHIPPED: ReadonlySet<string> = new Set(['WAIT_BUYER_CONFIRM_GOODS', 'TRADE_FINISHED']);

/**
 * The deterministic rows of an export, with what each row is (for tests to check against).
 * `onRow` receives each CSV line (terminator included) and its truth.
 */
export function* syntheticExportRows(
  options: SyntheticExportOptions,
): Generator<{ readonly text: string; readonly truth: ExportRowTruth }, void, undefined> {
  const r = createRng(options.seed, 'tmall-export');
  const customers =
    options.customers === undefined
      ? customerStream(options.seed)
      : (function* (): Generator<SyntheticCustomer> {
          let n = 0;
          for (const c of customerStream(options.seed)) {
            if (n++ >= options.customers!) return;
            yield c;
          }
        })();
  const byId = new Map<string, SyntheticCustomer>();
  const remember = (function* (): Generator<SyntheticCustomer> {
    for (const c of customers) {
      byId.clear();
      byId.set(c.id, c);
      yield c;
    }
  })();
  const masked = options.maskedShare ?? 0.02;
  const virtual = options.virtualShare ?? 0.02;
  const every = options.malformedEvery ?? 0;
  const ids = !options.withoutPlatformIds;
  let line = 2;
  let index = 0;
  for (const order of orderStream(options.seed, remember, {})) {
    if (options.rows !== undefined && index >= options.rows) return;
    index++;
    const c = byId.get(order.customerId)!;
    const roll = r.float();
    const mobileKind: ExportRowTruth['mobile'] =
      roll < masked ? 'masked' : roll < masked + virtual ? 'virtual' : 'real';
    const mobile =
      mobileKind === 'masked'
        ? maskPhone(c.mobile)
        : mobileKind === 'virtual'
          ? `${r.pick(['188', '170', '171'])}${r.digits(8)}-${r.digits(r.chance(0.7) ? 3 : 4)}`
          : r.chance(0.3)
            ? `'${c.mobile}`
            : c.mobile;
    const a = c.address;
    const municipal = a.city === a.province;
    const address = r.chance(0.8)
      ? `${municipal ? a.province.slice(0, -1) : a.province} ${a.city} ${a.district} ${a.street}`
      : `${a.full}${r.chance(0.3) ? `(${a.postalCode})` : ''}`;
    const paid = PAID.has(order.statusCode) ? later(order.createdAt, r.between(0, 30)) : '';
    const message =
      order.buyerMessage !== '' && r.chance(0.05) ? `${order.buyerMessage}\n谢谢` : order.buyerMessage;
    const cells = [
      r.chance(0.5) ? `="${order.orderId}"` : order.orderId,
      r.chance(0.05) ? `${c.nick.slice(0, 1)}**` : c.nick,
      maskPhone(c.mobile),
      order.amount,
      '0.00',
      order.amount,
      order.status,
      message,
      r.chance(0.01) ? maskName(c.name) : c.name,
      address,
      '快递',
      '',
      mobile,
      order.createdAt,
      paid,
      order.itemTitle,
      '1',
      SHIPPED.has(order.statusCode) ? `SF${r.digits(12)}` : '',
      SHIPPED.has(order.statusCode) ? '顺丰速运' : '',
      '',
      String(order.quantity),
      ...(ids ? [c.oaid, c.buyerOpenUid] : []),
    ];
    let malformed: MalformedKind | undefined;
    let text: string;
    if (every > 0 && index % every === 0) {
      malformed = MALFORMED_KINDS[Math.floor(index / every - 1) % MALFORMED_KINDS.length]!;
      if (malformed === 'date-invalid') cells[13] = '2025-13-45 25:61:00';
      if (malformed === 'column-count') cells.splice(-2, 2);
      text = cells.map(quote).join(',');
      if (malformed === 'csv-quote-stray') text = text.replace(/,快递,/u, ',"快递"速运,');
      if (malformed === 'csv-quote-unclosed') text = text.replace(/,快递,/u, ',"快递,');
    } else text = cells.map(quote).join(',');
    yield {
      text: `${text}\r\n`,
      truth: {
        line,
        orderId: order.orderId,
        customer: c,
        order,
        mobile: mobileKind,
        ...(malformed ? { malformed } : {}),
      },
    };
    line += 1 + (message.match(/\n/gu)?.length ?? 0);
  }
}

/** Writes the export to `path`; returns what it holds. */
export async function writeSyntheticExport(
  path: string,
  options: SyntheticExportOptions,
): Promise<SyntheticExportResult> {
  if (options.rows === undefined && options.customers === undefined)
    throw new RangeError('give rows or customers');
  const encoding = options.encoding ?? 'gbk';
  const out = createWriteStream(path, { mode: 0o600 });
  let bytes = 0;
  const write = async (text: string): Promise<void> => {
    const buffer = encodeText(text, encoding);
    bytes += buffer.length;
    if (!out.write(buffer)) await once(out, 'drain');
  };
  if (options.bom && encoding === 'utf-8') {
    bytes += 3;
    out.write(Buffer.from([0xef, 0xbb, 0xbf]));
  }
  const headers = options.withoutPlatformIds ? EXPORT_HEADERS.slice(0, -2) : EXPORT_HEADERS;
  let pending = `${headers.join(',')}\r\n`;
  let rows = 0;
  let good = 0;
  let maskedRows = 0;
  let virtualRows = 0;
  const malformed: { line: number; kind: MalformedKind }[] = [];
  const customers = new Set<string>();
  for (const { text, truth } of syntheticExportRows(options)) {
    rows++;
    if (truth.malformed) malformed.push({ line: truth.line, kind: truth.malformed });
    else {
      good++;
      customers.add(truth.customer.id);
      if (truth.mobile === 'masked') maskedRows++;
      if (truth.mobile === 'virtual') virtualRows++;
    }
    pending += text;
    if (pending.length >= 256 * 1024) {
      await write(pending);
      pending = '';
    }
  }
  await write(pending);
  out.end();
  await once(out, 'finish');
  return {
    rows,
    good,
    malformed,
    masked: maskedRows,
    virtual: virtualRows,
    bytes,
    customers: customers.size,
  };
}
