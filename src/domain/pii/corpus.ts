/**
 * A deterministic, labelled corpus for measuring PII detection quality: natural Chinese buyer
 * messages and customer-service notes built on the synthetic customers and orders, with every
 * embedded piece of personal information labelled by type and exact UTF-16 span, plus
 * look-alike negatives (order and tracking numbers, timestamps, amounts, 11-digit numbers that
 * are not mobiles, membership, invoice and payment numbers, barcodes, IMEIs, masked values).
 *
 * Nothing here is real: names, numbers and addresses come from the seeded synthetic module.
 */

import { maskNationalId, maskPhone } from '../masking.js';
import {
  createRng,
  generateCustomers,
  generateOrders,
  randomMobile,
  type Rng,
  type Seed,
  type SyntheticCustomer,
  type SyntheticOrder,
} from '../synthetic/index.js';
import { BRANDS, PLAIN_MESSAGES } from '../synthetic/vocabulary.js';
import type { PiiType } from './detect.js';
import { luhnCheckDigit, usccCheckChar } from './validators.js';

/** A labelled piece of personal information inside a snippet. */
export interface CorpusLabel {
  readonly type: PiiType;
  /** UTF-16 offsets into {@link CorpusSnippet.text}. */
  readonly start: number;
  readonly end: number;
}

/** The look-alikes the corpus plants: numbers that resemble personal information but are not. */
export type DecoyKind =
  | 'order-number'
  | 'card-shaped-number'
  | 'tracking-number'
  | 'timestamp'
  | 'amount'
  | 'non-mobile-number'
  | 'membership-number'
  | 'invoice-number'
  | 'barcode'
  | 'imei'
  | 'payment-number'
  | 'group-order-number'
  | 'product-code'
  | 'qq-number'
  | 'landline'
  | 'hotline'
  | 'pickup-code'
  | 'masked-value';

export interface CorpusDecoy {
  readonly kind: DecoyKind;
  readonly start: number;
  readonly end: number;
}

export interface CorpusSnippet {
  /** `pii-000001`, position in the corpus from 1. */
  readonly id: string;
  readonly text: string;
  /** Every piece of personal information in the text, in text order. Empty for negatives. */
  readonly labels: readonly CorpusLabel[];
  /** The look-alikes planted in the text, in text order. */
  readonly decoys: readonly CorpusDecoy[];
  /** The template the snippet was built from, e.g. `mobile-04`. */
  readonly template: string;
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

interface SlotValue {
  readonly text: string;
  readonly label?: PiiType;
  readonly decoy?: DecoyKind;
}

interface Ctx {
  readonly r: Rng;
  readonly customer: SyntheticCustomer;
  readonly order: SyntheticOrder;
}

const BANKS = [
  '工商银行',
  '建设银行',
  '农业银行',
  '中国银行',
  '招商银行',
  '交通银行',
  '邮储银行',
  '浦发银行',
  '兴业银行',
];
const COMPANY_SUFFIXES = [
  '电子商务有限公司',
  '贸易有限公司',
  '科技有限公司',
  '餐饮管理有限公司',
  '文化传媒有限公司',
];
const SIZES = ['S', 'M', 'L', 'XL', 'XXL', '38', '39', '40', '41', '42'];
const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const PASSPORT_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/** Full-width forms of ASCII digits, `+`, parentheses, `-` and space (as typed with a Chinese IME). */
function fullWidth(s: string): string {
  return s.replace(/[0-9+()\-@ ]/g, (c) =>
    c === ' ' ? '\u3000' : String.fromCharCode(c.charCodeAt(0) + 0xfee0),
  );
}

function groupsOf(s: string, size: number, sep: string): string {
  return (s.match(new RegExp(`.{1,${size}}`, 'g')) ?? [s]).join(sep);
}

function mobileText(r: Rng, core: string): string {
  const spaced = `${core.slice(0, 3)} ${core.slice(3, 7)} ${core.slice(7)}`;
  const roll = r.int(100);
  if (roll < 46) return core;
  if (roll < 58) return spaced;
  if (roll < 66) return `${core.slice(0, 3)}-${core.slice(3, 7)}-${core.slice(7)}`;
  if (roll < 73) return `+86 ${core}`;
  if (roll < 77) return `+86${core}`;
  if (roll < 80) return `86${core}`;
  if (roll < 83) return `0086 ${core}`;
  if (roll < 86) return `(+86)${core}`;
  if (roll < 89) return `+86 ${spaced}`;
  return fullWidth(r.chance(0.7) ? core : spaced);
}

function idText(r: Rng, id: string): string {
  const roll = r.int(100);
  if (roll < 6 && id.endsWith('X')) return `${id.slice(0, 17)}x`;
  if (roll < 11) return `${id.slice(0, 6)} ${id.slice(6, 14)} ${id.slice(14)}`;
  if (roll < 16) return fullWidth(id);
  return id;
}

function cardNumber(r: Rng, customer: SyntheticCustomer): string {
  const roll = r.int(100);
  if (roll < 75) return customer.bankCard;
  const partial = roll < 90 ? `4${r.digits(14)}` : `5${r.between(1, 5)}${r.digits(13)}`;
  return partial + luhnCheckDigit(partial);
}

function cardText(r: Rng, card: string): string {
  const roll = r.int(100);
  if (roll < 55) return card;
  if (roll < 85) return groupsOf(card, 4, ' ');
  if (roll < 92) return groupsOf(card, 4, '-');
  return fullWidth(r.chance(0.5) ? card : groupsOf(card, 4, ' '));
}

function usccValue(r: Rng, customer: SyntheticCustomer): string {
  const authority = r.chance(0.85) ? '9' : r.pick(['1', '5', 'Y']);
  const kind = r.pick(['1', '2', '3']);
  let org = '';
  for (let i = 0; i < 8; i++) org += r.chance(0.7) ? r.digits(1) : r.chars(USCC_CHARS.slice(10), 1);
  org += r.chance(0.9) ? r.digits(1) : 'X';
  const first17 = authority + kind + customer.address.regionCode + org;
  return first17 + usccCheckChar(first17);
}

function passportValue(r: Rng): string {
  const roll = r.int(100);
  if (roll < 50) return `E${r.digits(8)}`;
  if (roll < 85) return `E${r.chars(PASSPORT_LETTERS, 1).replace(/[IO]/, 'A')}${r.digits(7)}`;
  return `G${r.digits(8)}`;
}

function virtualText(r: Rng): string {
  const pool = randomMobile(r);
  const ext = r.digits(r.chance(0.7) ? 3 : 4);
  return r.chance(0.8) ? `${pool}-${ext}` : `${pool}转${ext}`;
}

/**
 * A trade id: mostly Tmall-like (18–19 digits led by 1–4); one in ten from another platform or an
 * ERP, led by 6 like UnionPay cards (`62…`), so that checksum and issuer alone cannot tell it
 * from a card and context must decide.
 */
function orderNumber(r: Rng, tmall?: string): string {
  if (r.chance(0.1)) return `6${r.digits(r.chance(0.7) ? 18 : 17)}`;
  return tmall ?? `${r.between(1, 4)}${r.digits(r.chance(0.85) ? 18 : 17)}`;
}

/**
 * An order, refund or serial number that looks exactly like a UnionPay card: led by 62, 16 or
 * 19 digits, Luhn-valid (one in ten random numbers is). Only the label next to it tells.
 */
function cardShapedNumber(r: Rng): string {
  const partial = `62${r.digits(r.chance(0.8) ? 16 : 13)}`;
  return partial + luhnCheckDigit(partial);
}

function trackingNumber(r: Rng): string {
  switch (r.int(12)) {
    case 0:
      return `SF${r.digits(13)}`;
    case 1:
      return `YT${r.digits(13)}`;
    case 2:
      return `JT${r.digits(13)}`;
    case 3:
      return `75${r.digits(12)}`;
    case 4:
      return `78${r.digits(12)}`;
    case 5:
      return `43${r.digits(13)}`;
    case 6:
      return `77${r.digits(13)}`;
    case 7:
      return `JDV${r.chars('ABCDE', 1)}${r.digits(11)}`;
    case 8:
      return `E${r.chars('ABCDEFGHJKLMNPQRSTUVWXYZ', 1)}${r.digits(9)}CN`;
    case 9:
      return `1${r.digits(12)}`;
    case 10:
      return `9${r.digits(12)}`;
    default:
      return `DPK${r.digits(12)}`;
  }
}

function timestampText(r: Rng, order: SyntheticOrder): string {
  const at = order.createdAt; // YYYY-MM-DD HH:mm:ss
  const compact = at.replace(/[- :]/g, '');
  switch (r.int(7)) {
    case 0:
      return at;
    case 1:
      return compact;
    case 2:
      return `${at.slice(0, 10).replace(/-/g, '/')} ${at.slice(11, 16)}`;
    case 3:
      return `17${r.digits(8)}`;
    case 4:
      return `17${r.digits(11)}`;
    case 5:
      return compact.slice(0, 8);
    default:
      return `${Number(at.slice(5, 7))}月${Number(at.slice(8, 10))}日 ${at.slice(11, 16)}`;
  }
}

function amountText(r: Rng, order: SyntheticOrder): string {
  const [yuan = '0', cents = '00'] = order.amount.split('.');
  const big = r.chance(0.2) ? String(Number(yuan) * r.between(10, 40)) : yuan;
  const grouped = big.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  switch (r.int(6)) {
    case 0:
      return `¥${grouped}.${cents}`;
    case 1:
      return `￥${big}.${cents}`;
    case 2:
      return `${big}.${cents}元`;
    case 3:
      return `${big}元`;
    case 4:
      return `${big}块`;
    default:
      return `¥${big}`;
  }
}

function ean13(r: Rng): string {
  const body = `69${r.digits(10)}`;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (body.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return body + String((10 - (sum % 10)) % 10);
}

function productCode(r: Rng): string {
  switch (r.int(4)) {
    case 0:
      return `${r.pick(['E', 'G'])}${r.digits(8)}`; // passport-shaped
    case 1:
      return `${r.chars('ABCDEFGHJKLMNPQRSTUVWXYZ', 2)}${r.digits(4)}-${r.digits(3)}`;
    case 2:
      return `SKU${r.digits(10)}`;
    default:
      return `${r.digits(4)}${r.chars('ABCDEFGH', 1)}${r.digits(3)}`;
  }
}

const SLOTS: Readonly<Record<string, (c: Ctx) => SlotValue>> = {
  // Personal information (labelled).
  mobile: ({ r, customer }) => ({
    text: mobileText(r, r.chance(0.8) ? customer.mobile : randomMobile(r)),
    label: 'mobile',
  }),
  mobile2: ({ r }) => ({ text: mobileText(r, randomMobile(r)), label: 'mobile' }),
  id: ({ r, customer }) => ({ text: idText(r, customer.nationalId), label: 'national-id' }),
  card: ({ r, customer }) => ({ text: cardText(r, cardNumber(r, customer)), label: 'bank-card' }),
  email: ({ r, customer }) => ({
    text: r.chance(0.05) ? customer.email.replace('@', '＠') : customer.email,
    label: 'email',
  }),
  uscc: ({ r, customer }) => ({ text: usccValue(r, customer), label: 'uscc' }),
  passport: ({ r }) => ({ text: passportValue(r), label: 'passport' }),
  virtual: ({ r }) => ({ text: virtualText(r), label: 'virtual-number' }),
  // Look-alikes (decoys).
  order: ({ r, order }) => ({ text: orderNumber(r, order.orderId), decoy: 'order-number' }),
  order2: ({ r }) => ({ text: orderNumber(r), decoy: 'order-number' }),
  cardShaped: ({ r }) => ({ text: cardShapedNumber(r), decoy: 'card-shaped-number' }),
  tracking: ({ r }) => ({ text: trackingNumber(r), decoy: 'tracking-number' }),
  time: ({ r, order }) => ({ text: timestampText(r, order), decoy: 'timestamp' }),
  amount: ({ r, order }) => ({ text: amountText(r, order), decoy: 'amount' }),
  nonMobile: ({ r }) => ({ text: `1${r.pick(['0', '1', '2'])}${r.digits(9)}`, decoy: 'non-mobile-number' }),
  member: ({ r, customer }) => ({
    text: r.chance(0.7) ? customer.memberId : `VIP${r.digits(8)}`,
    decoy: 'membership-number',
  }),
  invoice: ({ r }) => ({ text: r.chance(0.6) ? `26${r.digits(18)}` : r.digits(8), decoy: 'invoice-number' }),
  barcode: ({ r }) => ({ text: ean13(r), decoy: 'barcode' }),
  imei: ({ r }) => {
    const partial = `86${r.digits(12)}`;
    return { text: partial + luhnCheckDigit(partial), decoy: 'imei' };
  },
  payTxn: ({ r, order }) => ({
    text: r.chance(0.5)
      ? `${order.createdAt.slice(0, 10).replace(/-/g, '')}2200${r.digits(16)}`
      : `4200${r.digits(24)}`,
    decoy: 'payment-number',
  }),
  pdd: ({ r, order }) => ({
    text: `${order.createdAt.slice(2, 10).replace(/-/g, '')}-${r.digits(15)}`,
    decoy: 'group-order-number',
  }),
  productCode: ({ r }) => ({ text: productCode(r), decoy: 'product-code' }),
  qq: ({ r }) => ({ text: `${r.between(1, 9)}${r.digits(r.between(5, 9))}`, decoy: 'qq-number' }),
  landline: ({ r }) => ({
    text: r.chance(0.5)
      ? `0${r.pick(['571', '755', '512', '731'])}-${r.digits(8)}`
      : `0${r.pick(['10', '21', '20'])}-${r.digits(8)}`,
    decoy: 'landline',
  }),
  hotline: ({ r }) => ({
    text: r.chance(0.5) ? `400-${r.digits(3)}-${r.digits(4)}` : `95${r.digits(3)}`,
    decoy: 'hotline',
  }),
  code: ({ r }) => ({ text: `${r.between(1, 9)}-${r.between(1, 9)}-${r.digits(4)}`, decoy: 'pickup-code' }),
  masked: ({ r, customer }) => ({
    text: r.chance(0.7) ? maskPhone(customer.mobile) : maskNationalId(customer.nationalId),
    decoy: 'masked-value',
  }),
  // Plain words.
  name: ({ customer }) => ({ text: customer.name }),
  address: ({ customer }) => ({ text: customer.address.full }),
  city: ({ customer }) => ({ text: customer.address.city }),
  district: ({ customer }) => ({ text: customer.address.district }),
  product: ({ order }) => ({ text: order.itemTitle.replace(/【[^】]*】/, '') }),
  bank: ({ r }) => ({ text: r.pick(BANKS) }),
  company: ({ r, customer }) => ({
    text: `${customer.address.city.replace(/市$/, '')}${r.pick(BRANDS)}${r.pick(COMPANY_SUFFIXES)}`,
  }),
  size: ({ r }) => ({ text: r.pick(SIZES) }),
  quantity: ({ r }) => ({ text: String(r.between(2, 6)) }),
  plain: ({ r }) => ({ text: r.pick(PLAIN_MESSAGES) }),
};

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

type TemplateGroup =
  | 'mobile'
  | 'national-id'
  | 'bank-card'
  | 'email'
  | 'uscc'
  | 'passport'
  | 'virtual-number'
  | 'multi'
  | 'mixed'
  | 'negative';

/** Sentence templates; `{slot}` is replaced by a value of {@link SLOTS}. */
const TEMPLATES: Readonly<Record<TemplateGroup, readonly string[]>> = {
  mobile: [
    '收件人{name}，电话{mobile}，地址{address}',
    '{name} {mobile} {address}',
    '{name}，{mobile}，{address}',
    '麻烦发顺丰，到了打我手机{mobile}',
    '我换号了，新号码是{mobile}，原来那个停机了',
    '快递员到了联系{mobile}，白天家里没人',
    '联系方式：{mobile}（微信同号）',
    '{mobile} 这个是我老公的，送货前先打给他',
    'tel：{mobile}',
    '送货前请先打电话{mobile}确认时间',
    '如果打不通就找这个{mobile}，是我妈妈',
    '帮我改一下收货人手机号：{mobile}，谢谢亲',
    '物流好几天没动了，有消息直接回{mobile}',
    '老号不用了，以后找我：{mobile}',
    '生日礼物别放价格单，到了给{name}打电话{mobile}',
    '{city}的地址有人收，备用{mobile}',
    '发票抬头写个人，联系人{name}，手机{mobile}',
    '亲，尾款付好了，{mobile}，有问题短信联系',
    '周末在{district}，送到后call我{mobile}',
    'Hi，my phone is {mobile}, thanks',
    '加我微信{mobile}，发图给你看',
    '{mobile}是我的号码，有事打这个',
  ],
  'national-id': [
    '清关需要身份证号：{id}，姓名{name}',
    '实名认证 {name} {id}',
    '买的保险要填证件号码，是{id}',
    '{name}的身份证{id}，麻烦报关用',
    '跨境购需要实名，我的是{id}',
    '{id} 这是我的证件号，请核对一下',
    '海关那边要的信息：{name}，{id}',
    '订购人{name}，{id}，与支付人一致',
    '上次清关失败了，重新提供：{id}',
    '{name} {id}，这是身份证，核对完请删除',
  ],
  'bank-card': [
    '差价退到我的银行卡{card}，户名{name}',
    '退款账号：{card}（{bank}）',
    '卡号{card}，开户行{bank}{city}支行',
    '直接打到{bank}卡上吧：{card}',
    '{card} {bank} {name}',
    '不想退到支付宝，退到这张卡{card}',
    '运费差价打给我就行，{card}，{name}',
    '{name}，{bank}储蓄卡 {card}，麻烦尽快处理',
    '{card}是我的工资卡，退这里',
  ],
  email: [
    '电子发票请发到邮箱 {email}',
    '发票发我邮箱{email}，谢谢',
    '有问题发邮件到{email}，我上班看不到旺旺',
    '设计稿发{email}，确认后再生产',
  ],
  uscc: [
    '开专票：{company}，税号{uscc}',
    '统一社会信用代码{uscc}，发票抬头{company}',
    '公司采购，{company} {uscc}，开增值税普票',
  ],
  passport: [
    '海外直邮需要护照号{passport}，姓名{name}',
    '我没有身份证，用护照吧：{passport}',
    '境外收件人证件：{passport}',
  ],
  'virtual-number': [
    '系统显示的号码是{virtual}，打不通请留言',
    '隐私号{virtual}，拨通后按分机号',
    '收件电话是{virtual}，那个是平台的虚拟号',
    '{virtual}是淘宝给的隐私号，打不通就发短信',
  ],
  multi: [
    '收件人{name}，手机{mobile}，身份证{id}，海关要用',
    '{name} {mobile} {id}',
    '退款到{card}，有问题打{mobile}',
    '{company}，税号{uscc}，发票寄给{name} {mobile}，邮箱{email}',
    '新号{mobile}，旧号{mobile2}别打了',
    '{name}\n{mobile}\n{address}\n身份证{id}',
  ],
  mixed: [
    '订单{order}地址填错了，改成{address}，电话{mobile}',
    '运单号{tracking}一直没更新，急用，联系{mobile}',
    '订单号：{order}，申请退款{amount}，退到卡号{card}',
    '我{time}下的单，身份证{id}清关用，什么时候到',
    '{order} 这单发票开给{company}，税号{uscc}，邮箱{email}',
    '快递单号{tracking}显示签收了，我没收到！{mobile}',
    '会员号{member}，手机号{mobile}，积分没到账',
    '已付{amount}，订单{order}，有问题打{mobile}',
    '订单{order}清关失败，重新提交身份证{id}',
    '退款{amount}退到{bank}卡{card}，交易号{payTxn}',
    '页面显示的电话{masked}不对，正确的是{mobile}',
    '{order}\n收货人：{name}\n电话：{mobile}\n地址：{address}',
    '客服电话{nonMobile}打不通，请打我手机{mobile}',
    '{time} 顾客来电要求改地址，电话{mobile}，订单{order}',
    '工单备注：{name}，证件{id}，订单{order}，已核实',
    '{order2} {mobile} {name}',
    '付了{amount} {mobile} 尽快发货',
    '一共{amount}，{mobile}收货，{address}',
    '{time} {mobile} 来电催发货',
    '{name} {mobile} 订单{order}',
    '退款{amount}，原路退回{card}就行',
    '订单{order}的退款打到{card}，{name}',
    '{mobile}，{time}前送到，{amount}已付',
    '订单号{cardShaped}，退款退到卡号{card}',
    '退款到{card}，退款单号{cardShaped}',
  ],
  negative: [
    '订单号{order}什么时候发货？',
    '运单号{tracking}显示已签收，但我没收到',
    '我{time}付的款，金额{amount}，怎么还没发货',
    '会员号{member}，积分没到账',
    '{order} 麻烦帮我备注一下是送礼用的',
    '麻烦查一下{tracking}到哪了',
    '付款时间{time}，实付{amount}',
    '客服电话{nonMobile}打不通',
    '发票号码{invoice}，金额{amount}，请核对',
    '条形码{barcode}，是正品吗',
    'IMEI：{imei}，保修能查到吗',
    '支付宝交易号{payTxn}，退款{amount}还没收到',
    '拼单号{pdd}，和这边是同一个人',
    '货号{productCode}，{size}码还有货吗',
    '{order}和{order2}能合并发货吗',
    '订单{order}，快递单号{tracking}，麻烦看看',
    '退款{amount}什么时候到账？订单{order}',
    '{order}这个怎么还没发',
    '下单时间：{time}，订单编号：{order}',
    '页面显示的电话{masked}是对的，直接联系就行',
    '取件码{code}，放在{district}驿站了',
    '{time}签收的，{tracking}，外包装破了',
    '我的QQ是{qq}，加我发图',
    '门店电话{landline}，周一到周五营业',
    '买了{quantity}件，总共{amount}，订单{order}，优惠券没用上',
    '帮我查下{order}的物流，单号是{tracking}',
    '售后热线{hotline}打了好几次没人接',
    '{order}，{time}，{amount}',
    '上次那单{order}的发票还没收到',
    '{product}，{size}码，{plain}',
    '单号{order2}，{time}之前能到吗',
    '编号{order}的包裹显示退回了',
    '退款已经原路返回了吗？{order}',
    '{order2}，退款{amount}，退到原卡',
    '我的卡上还没收到退款，订单{order}',
    '实付{amount}，{time}下单，{order}',
    '订单号{cardShaped}，麻烦尽快发货',
    '退款单号{cardShaped}，钱还没到账',
    '交易流水号：{cardShaped}',
    '编号{cardShaped}的包裹签收了吗',
  ],
};

/** Every template as `group-NN`, for tests and reports. */
export const CORPUS_TEMPLATES: readonly { readonly id: string; readonly text: string }[] = Object.entries(
  TEMPLATES,
).flatMap(([group, list]) =>
  list.map((text, i) => ({ id: `${group}-${String(i + 1).padStart(2, '0')}`, text })),
);

/** Cumulative group weights (per mille): single-type positives, multi, mixed, negatives. */
const GROUP_WEIGHTS: readonly (readonly [TemplateGroup, number])[] = [
  ['mobile', 160],
  ['national-id', 240],
  ['bank-card', 320],
  ['email', 355],
  ['uscc', 380],
  ['passport', 400],
  ['virtual-number', 425],
  ['multi', 500],
  ['mixed', 640],
  ['negative', 1000],
];

const OPENERS = ['', '', '', '', '亲，', '你好，', '客服你好，', '在吗？', '麻烦一下，'];
const CLOSERS = ['', '', '', '', '，谢谢', '！', '。', '，辛苦了', '~'];

function build(template: string, ctx: Ctx): Pick<CorpusSnippet, 'text' | 'labels' | 'decoys'> {
  const { r } = ctx;
  let text = r.pick(OPENERS);
  const labels: CorpusLabel[] = [];
  const decoys: CorpusDecoy[] = [];
  for (const part of template.split(/(\{\w+\})/)) {
    const slot = /^\{(\w+)\}$/.exec(part)?.[1];
    if (slot === undefined) {
      text += part;
      continue;
    }
    const make = SLOTS[slot];
    if (make === undefined) throw new Error(`corpus template uses unknown slot {${slot}}`);
    const value = make(ctx);
    const start = text.length;
    text += value.text;
    if (value.label !== undefined) labels.push({ type: value.label, start, end: text.length });
    if (value.decoy !== undefined) decoys.push({ kind: value.decoy, start, end: text.length });
  }
  text += r.pick(CLOSERS);
  return { text, labels, decoys };
}

/**
 * `size` labelled snippets, the same for the same seed on every platform. About 36 % are pure
 * negatives with look-alikes only, 14 % mix personal information with look-alikes.
 */
export function generateCorpus(seed: Seed, size: number): CorpusSnippet[] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('size must be a non-negative integer');
  const r = createRng(seed, 'pii-corpus');
  const customers = generateCustomers(seed, size);
  const orders = generateOrders(seed, customers, { perCustomer: 1, piiRate: 0 });
  const out: CorpusSnippet[] = [];
  for (let i = 0; i < size; i++) {
    const roll = r.int(1000);
    const group = GROUP_WEIGHTS.find(([, upTo]) => roll < upTo)![0];
    const list = TEMPLATES[group];
    const index = r.int(list.length);
    const ctx: Ctx = { r, customer: customers[i]!, order: orders[i]! };
    out.push({
      id: `pii-${String(i + 1).padStart(6, '0')}`,
      ...build(list[index]!, ctx),
      template: `${group}-${String(index + 1).padStart(2, '0')}`,
    });
  }
  return out;
}
