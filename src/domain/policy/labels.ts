/**
 * The policy's vocabulary in zh-CN and en: names of data categories, legal bases, separate
 * consents, recipient roles, rights and the usual collection and field names of a Tmall store.
 * Every label a customer reads comes from here or from the data map itself.
 */

import type { LegalBasis, RecipientRole, SeparateConsent } from '../datamap/schema.js';
import { CATEGORIES, type Category } from '../datamap/taxonomy.js';

export type PolicyLang = 'zh-CN' | 'en';

export const POLICY_LANGS = ['zh-CN', 'en'] as const satisfies readonly PolicyLang[];

export interface LocalizedText {
  readonly 'zh-CN': string;
  readonly en: string;
}

function l(zh: string, en: string): LocalizedText {
  return { 'zh-CN': zh, en };
}

/** Customer-facing names of the taxonomy's categories. Complete by type: a new category needs a label. */
export const CATEGORY_LABELS = {
  'identity.name': l('姓名', 'name'),
  'identity.real-name': l('身份证件上的真实姓名', 'legal name as on an identity document'),
  'identity.national-id': l('身份证号码', 'resident ID card number'),
  'identity.passport': l('护照或通行证号码', 'passport or travel permit number'),
  'identity.birth-date': l('出生日期', 'date of birth'),
  'identity.platform-id': l(
    '天猫会员标识（如 OAID、会员号、昵称）',
    'Tmall member identifiers (OAID, member ID, nickname)',
  ),
  'contact.phone': l('电话号码', 'phone number'),
  'contact.email': l('电子邮箱', 'email address'),
  'location.region': l('所在地区（省、市、区县）', 'region (province, city, district)'),
  'location.street': l('详细地址', 'street address'),
  'location.precise': l('精确位置信息', 'precise location'),
  'financial.bank-card': l('银行卡号或账户号', 'bank card or account number'),
  'financial.transaction': l('交易记录', 'transaction records'),
  'health.record': l('健康信息', 'health information'),
  'biometric.face': l('人脸等生物识别信息', 'facial and other biometric data'),
  'content.message': l('您填写的留言等文字内容', 'messages and other text you write'),
  'order.reference': l('订单号', 'order numbers'),
  'order.detail': l('订单详情（金额、状态、商品）', 'order details (amount, status, items)'),
} as const satisfies Record<Category, LocalizedText>;

export function isCategory(value: string): value is Category {
  return Object.hasOwn(CATEGORIES, value);
}

/** The label of a taxonomy category; anything else (a recipient's free-form entry) is shown as written. */
export function categoryLabel(category: string, lang: PolicyLang): string {
  return isCategory(category) ? CATEGORY_LABELS[category][lang] : category;
}

/**
 * What leaking or misusing each sensitive category can do to the person (PIPL Art. 30: the
 * impact on the person's rights). Categories without an entry get {@link GENERIC_IMPACT}.
 */
export const SENSITIVE_IMPACT: Partial<Record<Category, LocalizedText>> = {
  'identity.national-id': l(
    '身份证号码一旦泄露或被非法使用，他人可能冒用您的身份开立账户、办理业务或实施诈骗，危害您的人身和财产安全。',
    'If your ID number leaks or is misused, others could impersonate you to open accounts, sign up for services or commit fraud, putting your personal and property safety at risk.',
  ),
  'identity.passport': l(
    '证件号码一旦泄露或被非法使用，他人可能冒用您的身份办理业务或实施诈骗，危害您的人身和财产安全。',
    'If your document number leaks or is misused, others could impersonate you or commit fraud in your name, putting your personal and property safety at risk.',
  ),
  'location.precise': l(
    '精确位置信息一旦泄露，可能暴露您的行踪，危及您的人身安全。',
    'If your precise location leaks, it can reveal your whereabouts and endanger your personal safety.',
  ),
  'financial.bank-card': l(
    '银行卡号或账户信息一旦泄露，可能被用于盗刷或诈骗，造成财产损失。',
    'If your card or account number leaks, it can be used for fraudulent payments or scams that cost you money.',
  ),
  'financial.transaction': l(
    '交易记录可以反映您的消费习惯和经济状况，一旦泄露，可能被用于精准诈骗或对您的不当对待。',
    'Transaction records reveal your spending habits and financial situation; if they leak they can be used for targeted scams or unfair treatment.',
  ),
  'health.record': l(
    '健康信息一旦泄露，可能使您遭受歧视或其他不公正对待，损害您的人格尊严。',
    'If health information leaks, you may face discrimination or other unfair treatment that harms your dignity.',
  ),
  'biometric.face': l(
    '人脸等生物识别信息终身不变、无法更改，一旦泄露，可能被长期用于冒用您的身份。',
    'Biometric data such as your face cannot be changed; if it leaks, it can be used to impersonate you for a long time.',
  ),
};

export const GENERIC_IMPACT = l(
  '这类信息一旦泄露或被非法使用，容易导致您的人格尊严受到侵害或者人身、财产安全受到危害。',
  'If this information leaks or is misused, it can easily harm your dignity or your personal and property safety.',
);

/** PIPL Art. 13 para 1, items 1 to 7, in the order of {@link LEGAL_BASES}. */
export const LEGAL_BASIS_LABELS = {
  consent: l('取得您的同意', 'your consent'),
  contract: l(
    '为订立、履行您作为一方当事人的合同所必需',
    'necessary to conclude or perform a contract with you',
  ),
  legal_obligation: l('为履行法定职责或者法定义务所必需', 'necessary to fulfil a legal duty or obligation'),
  emergency: l(
    '为应对突发公共卫生事件，或者紧急情况下为保护自然人的生命健康和财产安全所必需',
    "necessary to respond to a public health emergency, or to protect a person's life, health or property in an emergency",
  ),
  news_public_interest: l(
    '为公共利益实施新闻报道、舆论监督等行为，在合理的范围内处理',
    'news reporting or public-opinion supervision in the public interest, within a reasonable scope',
  ),
  public_data: l(
    '在合理的范围内处理您自行公开或者其他已经合法公开的个人信息',
    'information you made public, or that was otherwise lawfully made public, processed within a reasonable scope',
  ),
  other_law: l(
    '法律、行政法规规定的其他情形',
    'other cases provided for by laws and administrative regulations',
  ),
} as const satisfies Record<LegalBasis, LocalizedText>;

const LEGAL_BASIS_ITEM = {
  consent: 1,
  contract: 2,
  legal_obligation: 3,
  emergency: 4,
  news_public_interest: 5,
  public_data: 6,
  other_law: 7,
} as const satisfies Record<LegalBasis, number>;

const ZH_DIGITS = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十'] as const;

/** A small number (0 to 99) in Chinese numerals, as in article and section numbers. */
export function zhNumber(n: number): string {
  if (n <= 10) return ZH_DIGITS[n] ?? String(n);
  if (n < 20) return `十${ZH_DIGITS[n - 10] ?? ''}`;
  if (n < 100)
    return `${ZH_DIGITS[Math.floor(n / 10)] ?? ''}十${n % 10 === 0 ? '' : (ZH_DIGITS[n % 10] ?? '')}`;
  return String(n);
}

/** The legal basis with its PIPL citation, e.g. `取得您的同意（《个人信息保护法》第十三条第一款第一项）`. */
export function legalBasisText(basis: LegalBasis, lang: PolicyLang): string {
  const item = LEGAL_BASIS_ITEM[basis];
  const label = LEGAL_BASIS_LABELS[basis][lang];
  return lang === 'zh-CN'
    ? `${label}（《个人信息保护法》第十三条第一款第${zhNumber(item)}项）`
    : `${capitalise(label)} (PIPL Art. 13(1), item ${item})`;
}

export const SEPARATE_CONSENT_LABELS = {
  provide_to_third_party: l(
    '向其他个人信息处理者提供您的个人信息',
    'giving your information to another organisation',
  ),
  public_disclosure: l('公开您的个人信息', 'making your information public'),
  sensitive_pi: l('处理您的敏感个人信息', 'processing your sensitive personal information'),
  cross_border: l('向境外提供您的个人信息', 'transferring your information outside mainland China'),
  public_camera_reuse: l(
    '将公共场所图像采集设备收集的信息用于维护公共安全以外的目的',
    'using images from public-place cameras for purposes other than public security',
  ),
} as const satisfies Record<SeparateConsent, LocalizedText>;

export const RECIPIENT_ROLE_LABELS = {
  processor: l('受托处理者', 'processor acting for us'),
  'third-party': l('第三方个人信息处理者', 'independent third party'),
  'joint-controller': l('共同处理者', 'joint controller'),
} as const satisfies Record<RecipientRole, LocalizedText>;

export const RECIPIENT_ROLE_NOTES = {
  processor: l(
    '受托处理者按照我们的委托和约定代我们处理个人信息，不得超出约定的目的和方式，不得转委托他人，委托结束后须返还或者删除个人信息（《个人信息保护法》第二十一条）。',
    'A processor handles information on our behalf and only as our contract allows: it may not use it for anything else or pass it on, and must return or delete it when the contract ends (PIPL Art. 21).',
  ),
  'third-party': l(
    '第三方自行决定处理目的和方式，须在我们告知您的目的、方式和个人信息种类的范围内处理；变更时须重新取得您的同意（《个人信息保护法》第二十三条）。',
    'A third party decides its own purposes and means, but must stay within the purposes, methods and categories we told you about; anything beyond that needs your new consent (PIPL Art. 23).',
  ),
  'joint-controller': l(
    '共同处理者与我们共同决定处理目的和方式，对造成的损害依法承担连带责任，您可以向其中任何一方行使权利（《个人信息保护法》第二十条）。',
    'A joint controller decides purposes and means together with us; we are jointly liable for any harm, and you may exercise your rights against either of us (PIPL Art. 20).',
  ),
} as const satisfies Record<RecipientRole, LocalizedText>;

/**
 * Friendly names of the collections a Tmall store usually declares. A collection not listed is
 * shown by its id.
 */
export const COLLECTION_LABELS: Readonly<Record<string, LocalizedText>> = {
  profile: l('账户资料', 'Account profile'),
  account: l('账户资料', 'Account'),
  member: l('会员资料', 'Membership'),
  address: l('收货地址', 'Delivery address'),
  addresses: l('收货地址', 'Delivery addresses'),
  order: l('订单', 'Orders'),
  orders: l('订单', 'Orders'),
  customs: l('清关身份信息', 'Customs identity'),
  message: l('消息', 'Messages'),
  messages: l('消息', 'Messages'),
  service: l('客户服务记录', 'Customer service records'),
  payment: l('支付信息', 'Payment'),
  invoice: l('发票信息', 'Invoices'),
};

/**
 * Friendly names of common field names. A field not listed is shown by its category's label
 * followed by its name.
 */
export const FIELD_LABELS: Readonly<Record<string, LocalizedText>> = {
  name: l('姓名', 'name'),
  nick: l('昵称', 'nickname'),
  nickname: l('昵称', 'nickname'),
  phone: l('手机号码', 'mobile number'),
  mobile: l('手机号码', 'mobile number'),
  email: l('电子邮箱', 'email address'),
  birthDate: l('出生日期', 'date of birth'),
  birthday: l('生日', 'birthday'),
  gender: l('性别', 'gender'),
  recipientName: l('收货人姓名', "recipient's name"),
  province: l('省份', 'province'),
  city: l('城市', 'city'),
  district: l('区县', 'district'),
  street: l('详细地址', 'street address'),
  address: l('地址', 'address'),
  postcode: l('邮政编码', 'postcode'),
  postalCode: l('邮政编码', 'postcode'),
  orderId: l('订单号', 'order number'),
  amount: l('订单金额', 'order amount'),
  status: l('订单状态', 'order status'),
  items: l('购买的商品', 'items bought'),
  buyerMessage: l('买家留言', "buyer's message"),
  buyerNick: l('买家昵称', "buyer's nickname"),
  createdAt: l('下单时间', 'order time'),
  paidAt: l('付款时间', 'payment time'),
  itemTitle: l('商品名称', 'item name'),
  privacyNumber: l('隐私号（虚拟号）', 'privacy (virtual) number'),
  realName: l('真实姓名', 'legal name'),
  nationalId: l('身份证号码', 'ID card number'),
  passport: l('护照号码', 'passport number'),
  oaid: l('天猫 OAID', 'Tmall OAID'),
  openUid: l('天猫买家标识', 'Tmall buyer ID'),
  buyerOpenUid: l('天猫买家标识', 'Tmall buyer ID'),
  memberId: l('会员号', 'member number'),
};

export function collectionLabel(collection: string, lang: PolicyLang): string {
  return COLLECTION_LABELS[collection]?.[lang] ?? collection;
}

export function fieldLabel(field: string, category: string, lang: PolicyLang): string {
  const known = FIELD_LABELS[field]?.[lang];
  if (known !== undefined) return known;
  return lang === 'zh-CN'
    ? `${categoryLabel(category, lang)}（${field}）`
    : `${categoryLabel(category, lang)} (${field})`;
}

/** Names of countries and regions recipients are most often in; others are shown by their code. */
export const COUNTRY_LABELS: Readonly<Record<string, LocalizedText>> = {
  CN: l('中国境内', 'mainland China'),
  HK: l('中国香港', 'Hong Kong, China'),
  MO: l('中国澳门', 'Macao, China'),
  TW: l('中国台湾', 'Taiwan, China'),
  US: l('美国', 'United States'),
  JP: l('日本', 'Japan'),
  KR: l('韩国', 'South Korea'),
  SG: l('新加坡', 'Singapore'),
  MY: l('马来西亚', 'Malaysia'),
  TH: l('泰国', 'Thailand'),
  AU: l('澳大利亚', 'Australia'),
  NZ: l('新西兰', 'New Zealand'),
  CA: l('加拿大', 'Canada'),
  GB: l('英国', 'United Kingdom'),
  DE: l('德国', 'Germany'),
  FR: l('法国', 'France'),
  IT: l('意大利', 'Italy'),
  NL: l('荷兰', 'Netherlands'),
  IE: l('爱尔兰', 'Ireland'),
  CH: l('瑞士', 'Switzerland'),
};

export function countryLabel(code: string, lang: PolicyLang): string {
  return COUNTRY_LABELS[code.toUpperCase()]?.[lang] ?? code;
}

const DURATION_UNITS = {
  d: l('天', 'day'),
  w: l('周', 'week'),
  m: l('个月', 'month'),
  y: l('年', 'year'),
} as const;

/** A data-map duration (`30d`, `2w`, `6m`, `3y`) in words: `3 年`, `3 years`. */
export function durationText(keep: string, lang: PolicyLang): string {
  const match = /^(\d+)([dwmy])$/.exec(keep);
  if (match === null) return keep;
  const n = Number(match[1]);
  const unit = DURATION_UNITS[match[2] as keyof typeof DURATION_UNITS][lang];
  return lang === 'zh-CN' ? `${n} ${unit}` : `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** Approximate length of a duration in days (365-day years, 30-day months), to compare two of them. */
export function durationDays(keep: string): number | undefined {
  const match = /^(\d+)([dwmy])$/.exec(keep);
  if (match === null) return undefined;
  const n = Number(match[1]);
  const per = { d: 1, w: 7, m: 30, y: 365 }[match[2] as 'd' | 'w' | 'm' | 'y'];
  return n * per;
}

export type RetentionAnchor = 'collection' | 'last-activity' | 'purpose-fulfilled';
export type ExpiryAction = 'delete' | 'anonymise';

export const RETENTION_ANCHOR_LABELS = {
  collection: l('自收集之日起计算', 'counted from when we collect it'),
  'last-activity': l('自您最后一次在本店活跃之日起计算', 'counted from your last activity with the store'),
  'purpose-fulfilled': l(
    '自处理目的实现（如订单完成）之日起计算',
    'counted from when the purpose is fulfilled, e.g. the order is completed',
  ),
} as const satisfies Record<RetentionAnchor, LocalizedText>;

export const EXPIRY_ACTION_LABELS = {
  delete: l('删除', 'deleted'),
  anonymise: l('匿名化处理', 'anonymised'),
} as const satisfies Record<ExpiryAction, LocalizedText>;

/** Joins items as a sentence list: `甲、乙和丙` / `a, b and c`. */
export function joinList(items: readonly string[], lang: PolicyLang): string {
  if (items.length === 0) return '';
  if (items.length === 1) return items[0]!;
  const head = items.slice(0, -1);
  const last = items[items.length - 1]!;
  return lang === 'zh-CN' ? `${head.join('、')}和${last}` : `${head.join(', ')} and ${last}`;
}

export function capitalise(text: string): string {
  return text.length === 0 ? text : text[0]!.toUpperCase() + text.slice(1);
}
