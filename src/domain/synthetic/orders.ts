/**
 * Deterministic synthetic Tmall orders for synthetic customers. Buyer messages are natural
 * Chinese; most carry no personal information, and a configurable share embed a mobile number,
 * privacy number, resident id, email or bank card. Each order lists what its message embeds
 * ({@link SyntheticOrder.embeddedPii}), which gives PII detectors a ground truth.
 */

import { maskPhone } from '../masking.js';
import type { PiiKind } from '../pii/validators.js';
import { civilFromDays, daysFromCivil, pad2, parseIsoDate } from './calendar.js';
import { DEFAULT_REFERENCE_DATE, randomMobile, type SyntheticCustomer } from './customers.js';
import { createRng, type Rng, type Seed } from './prng.js';
import {
  BRANDS,
  CARD_MESSAGES,
  EMAIL_MESSAGES,
  ID_MESSAGES,
  MASKED_MESSAGES,
  MOBILE_MESSAGES,
  MOBILE_PREFIXES,
  PLAIN_MESSAGES,
  PRODUCTS,
  TITLE_TAGS,
  VIRTUAL_MESSAGES,
} from './vocabulary.js';

/** TOP trade status codes and the labels Tmall's seller centre shows for them. */
export const ORDER_STATUSES = {
  WAIT_BUYER_PAY: '等待买家付款',
  WAIT_SELLER_SEND_GOODS: '买家已付款',
  WAIT_BUYER_CONFIRM_GOODS: '卖家已发货',
  TRADE_FINISHED: '交易成功',
  TRADE_CLOSED: '交易关闭',
  TRADE_CLOSED_BY_TAOBAO: '交易关闭',
} as const;

export type OrderStatusCode = keyof typeof ORDER_STATUSES;

/** Cumulative weights (per mille) of the statuses. */
const STATUS_WEIGHTS: readonly (readonly [OrderStatusCode, number])[] = [
  ['TRADE_FINISHED', 560],
  ['WAIT_BUYER_CONFIRM_GOODS', 710],
  ['WAIT_SELLER_SEND_GOODS', 820],
  ['WAIT_BUYER_PAY', 870],
  ['TRADE_CLOSED', 940],
  ['TRADE_CLOSED_BY_TAOBAO', 1000],
];

/** A piece of personal information inside a buyer message, exactly as it appears there. */
export interface EmbeddedPii {
  readonly kind: PiiKind;
  readonly value: string;
}

export interface SyntheticOrder {
  /** Tmall-like trade id (tid): 18 or 19 digits. */
  readonly orderId: string;
  /** {@link SyntheticCustomer.id} of the buyer. */
  readonly customerId: string;
  readonly oaid: string;
  readonly buyerOpenUid: string;
  readonly buyerNick: string;
  /** `YYYY-MM-DD HH:mm:ss`, China Standard Time (the TOP format). */
  readonly createdAt: string;
  readonly statusCode: OrderStatusCode;
  /** The Chinese label of {@link statusCode}, e.g. `交易成功`. */
  readonly status: string;
  readonly itemTitle: string;
  /** Yuan with two decimals, e.g. `128.00`. */
  readonly unitPrice: string;
  readonly quantity: number;
  /** `unitPrice × quantity`, yuan with two decimals. */
  readonly amount: string;
  /** 买家留言; empty when the buyer wrote none. */
  readonly buyerMessage: string;
  /** The personal information embedded in {@link buyerMessage}, in text order. Empty for most orders. */
  readonly embeddedPii: readonly EmbeddedPii[];
}

export interface OrderOptions {
  /** Orders per customer: a fixed number or an inclusive range. Default `{ min: 1, max: 3 }`. */
  readonly perCustomer?: number | { readonly min: number; readonly max: number };
  /** Orders are placed in the 365 days before this `YYYY-MM-DD` date. Default 2026-01-01. */
  readonly referenceDate?: string;
  /** Share of orders whose message embeds personal information, 0–1. Default 0.15. */
  readonly piiRate?: number;
}

function money(cents: number): string {
  return `${Math.floor(cents / 100)}.${pad2(cents % 100)}`;
}

function formatMobile(r: Rng, mobile: string): string {
  const roll = r.int(100);
  if (roll < 60) return mobile;
  if (roll < 75) return `${mobile.slice(0, 3)} ${mobile.slice(3, 7)} ${mobile.slice(7)}`;
  if (roll < 85) return `${mobile.slice(0, 3)}-${mobile.slice(3, 7)}-${mobile.slice(7)}`;
  if (roll < 95) return `+86 ${mobile}`;
  return `86${mobile}`;
}

class OrderFactory {
  private readonly rng: Rng;
  private readonly referenceDay: number;
  private readonly min: number;
  private readonly max: number;
  private readonly piiRate: number;

  constructor(seed: Seed, options: OrderOptions) {
    this.rng = createRng(seed, 'orders');
    const [y, m, d] = parseIsoDate(options.referenceDate ?? DEFAULT_REFERENCE_DATE, 'referenceDate');
    this.referenceDay = daysFromCivil(y, m, d);
    const per = options.perCustomer ?? { min: 1, max: 3 };
    this.min = typeof per === 'number' ? per : per.min;
    this.max = typeof per === 'number' ? per : per.max;
    if (
      !Number.isSafeInteger(this.min) ||
      !Number.isSafeInteger(this.max) ||
      this.min < 0 ||
      this.max < this.min
    ) {
      throw new RangeError('perCustomer must be a non-negative integer or a range min ≤ max');
    }
    this.piiRate = options.piiRate ?? 0.15;
    if (!(this.piiRate >= 0 && this.piiRate <= 1)) throw new RangeError('piiRate must be between 0 and 1');
  }

  ordersFor(customer: SyntheticCustomer): SyntheticOrder[] {
    const r = this.rng;
    const count = r.between(this.min, this.max);
    const orders: SyntheticOrder[] = [];
    for (let i = 0; i < count; i++) orders.push(this.order(customer));
    return orders.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  private order(customer: SyntheticCustomer): SyntheticOrder {
    const r = this.rng;
    const statusRoll = r.int(1000);
    const statusCode = STATUS_WEIGHTS.find(([, upTo]) => statusRoll < upTo)![0];
    // Open orders are recent; finished and closed ones spread over the past year.
    const open = statusCode.startsWith('WAIT_');
    const day = this.referenceDay - 1 - r.int(open ? 7 : 365);
    const [y, m, d] = civilFromDays(day);
    const hour = r.chance(0.9) ? r.between(8, 23) : r.between(0, 7);
    const createdAt = `${y}-${pad2(m)}-${pad2(d)} ${pad2(hour)}:${pad2(r.int(60))}:${pad2(r.int(60))}`;

    const [product, low, high] = r.pick(PRODUCTS);
    const yuan = r.between(low, high - 1);
    const unitCents = yuan * 100 + r.pick([0, 0, 0, 0, 90, 99]);
    const quantity = r.chance(0.8) ? 1 : r.between(2, 5);
    const { message, embedded } = this.message(customer);

    return {
      orderId: `${r.between(1, 4)}${r.digits(r.chance(0.85) ? 18 : 17)}`,
      customerId: customer.id,
      oaid: customer.oaid,
      buyerOpenUid: customer.buyerOpenUid,
      buyerNick: customer.nick,
      createdAt,
      statusCode,
      status: ORDER_STATUSES[statusCode],
      itemTitle: `${r.pick(TITLE_TAGS)}${r.pick(BRANDS)}${product}`,
      unitPrice: money(unitCents),
      quantity,
      amount: money(unitCents * quantity),
      buyerMessage: message,
      embeddedPii: embedded,
    };
  }

  private message(customer: SyntheticCustomer): { message: string; embedded: EmbeddedPii[] } {
    const r = this.rng;
    const roll = r.float();
    if (roll < this.piiRate) return this.piiMessage(customer);
    // The rest: about half write nothing, a few quote an already-masked number, others a plain note.
    const rest = (roll - this.piiRate) / (1 - this.piiRate);
    if (rest < 0.53) return { message: '', embedded: [] };
    if (rest < 0.57) {
      const masked = maskPhone(customer.mobile);
      return { message: r.pick(MASKED_MESSAGES).replace('{masked}', masked), embedded: [] };
    }
    return { message: r.pick(PLAIN_MESSAGES), embedded: [] };
  }

  private piiMessage(customer: SyntheticCustomer): { message: string; embedded: EmbeddedPii[] } {
    const r = this.rng;
    const roll = r.int(100);
    let kind: PiiKind;
    let value: string;
    let templates: readonly string[];
    if (roll < 60) {
      kind = 'mobile';
      value = formatMobile(r, r.chance(0.8) ? customer.mobile : randomMobile(r));
      templates = MOBILE_MESSAGES;
    } else if (roll < 80) {
      kind = 'national-id';
      value = customer.nationalId;
      templates = ID_MESSAGES;
    } else if (roll < 90) {
      kind = 'email';
      value = customer.email;
      templates = EMAIL_MESSAGES;
    } else if (roll < 95) {
      kind = 'virtual-number';
      value = `${r.pick(MOBILE_PREFIXES)}${r.digits(8)}-${r.digits(r.chance(0.7) ? 3 : 4)}`;
      templates = VIRTUAL_MESSAGES;
    } else {
      kind = 'bank-card';
      const card = customer.bankCard;
      value = r.chance(0.5) ? card : (card.match(/.{1,4}/g) ?? [card]).join(' ');
      templates = CARD_MESSAGES;
    }
    return { message: r.pick(templates).replace('{v}', value), embedded: [{ kind, value }] };
  }
}

/**
 * Lazily generates orders for each customer of `customers` in turn (1–3 each by default),
 * sorted by time within a customer. Deterministic: the same seed, customers and options always
 * give the same orders. Works with an endless customer stream.
 */
export function* orderStream(
  seed: Seed,
  customers: Iterable<SyntheticCustomer>,
  options: OrderOptions = {},
): Generator<SyntheticOrder, void, undefined> {
  const factory = new OrderFactory(seed, options);
  for (const customer of customers) yield* factory.ordersFor(customer);
}

/** All orders of {@link orderStream} for a finite list of customers. */
export function generateOrders(
  seed: Seed,
  customers: Iterable<SyntheticCustomer>,
  options: OrderOptions = {},
): SyntheticOrder[] {
  const factory = new OrderFactory(seed, options);
  const out: SyntheticOrder[] = [];
  for (const customer of customers) out.push(...factory.ordersFor(customer));
  return out;
}
