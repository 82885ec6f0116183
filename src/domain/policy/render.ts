/**
 * Renders a {@link PolicyModel} as a privacy policy in zh-CN or en, as HTML or Markdown.
 *
 * The text is built once per language as a small tree of blocks, and the tree is then written
 * out as HTML or Markdown, so both formats always say the same thing. Every section has a stable
 * id ({@link POLICY_SECTION_IDS}) for links such as `/privacy/policy#rights`. Untrusted text from
 * the data map is escaped by the writers, never by the builders.
 */

import type { LegalBasis, RecipientRole, SeparateConsent } from '../datamap/schema.js';
import type { Category } from '../datamap/taxonomy.js';
import {
  categoryLabel,
  collectionLabel,
  countryLabel,
  durationText,
  EXPIRY_ACTION_LABELS,
  fieldLabel,
  joinList,
  LEGAL_BASIS_LABELS,
  legalBasisText,
  RECIPIENT_ROLE_LABELS,
  RECIPIENT_ROLE_NOTES,
  RETENTION_ANCHOR_LABELS,
  SEPARATE_CONSENT_LABELS,
  zhNumber,
  type PolicyLang,
} from './labels.js';
import type {
  PolicyCollectionUse,
  PolicyModel,
  PolicyPurpose,
  PolicyRight,
  ResponseDeadline,
  RetentionRule,
  RightId,
  SensitiveCategory,
} from './model.js';
import type { ScopeParty, ScopeRecipient } from './scope.js';
import { contactHref, escapeHtml, escapeMarkdown, escapeMarkdownLineStart, isSafeHref } from './text.js';

export type PolicyFormat = 'html' | 'md';

export interface PolicyVersionInfo {
  readonly number: number;
  /** ISO 8601 date or timestamp, or a Date; shown as YYYY-MM-DD. */
  readonly publishedAt: string | Date;
  readonly requiresReconsent: boolean;
}

export interface RenderPolicyOptions {
  readonly lang: PolicyLang;
  readonly format: PolicyFormat;
  /** The published version; without it the policy is marked as a draft. */
  readonly version?: PolicyVersionInfo | undefined;
}

/** Section ids, in order. Links into the policy rely on them: never rename one. */
export const POLICY_SECTION_IDS = [
  'summary',
  'processor',
  'purposes',
  'sensitive',
  'recipients',
  'cross-border',
  'retention',
  'security',
  'rights',
  'minors',
  'contact',
  'changes',
] as const;

export type PolicySectionId = (typeof POLICY_SECTION_IDS)[number];

// --- the block tree ------------------------------------------------------------------------------

type Inline = string | { readonly strong: string } | { readonly href: string; readonly text: string };
type Line = readonly Inline[];

type Block =
  | { readonly kind: 'p'; readonly line: Line; readonly note?: boolean }
  | { readonly kind: 'ul'; readonly items: readonly Line[] }
  | { readonly kind: 'h3'; readonly id?: string; readonly text: string }
  | {
      readonly kind: 'table';
      readonly caption: string;
      readonly head: readonly string[];
      readonly rows: readonly (readonly Line[])[];
    };

interface Section {
  readonly id: PolicySectionId;
  readonly title: string;
  readonly blocks: readonly Block[];
}

interface PolicyDocument {
  readonly lang: PolicyLang;
  readonly title: string;
  readonly meta: Line;
  readonly intro: readonly Block[];
  readonly tocLabel: string;
  readonly sections: readonly Section[];
}

const strong = (text: string): Inline => ({ strong: text });

/** A labelled list item: `**label**：text` / `**label**: text`. */
function item(lang: PolicyLang, label: string, ...rest: Inline[]): Line {
  return [strong(capitaliseFor(lang, label)), lang === 'zh-CN' ? '：' : ': ', ...rest];
}

function contactInline(contact: string): Inline {
  const href = contactHref(contact);
  return href === undefined ? contact : { href, text: contact };
}

function dateOf(value: string | Date): string {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : value;
}

// --- words ---------------------------------------------------------------------------------------

interface Words {
  readonly title: (store: string) => string;
  readonly toc: string;
  readonly draft: string;
  readonly published: (n: number, date: string) => string;
  readonly intro: (store: string) => Line;
  readonly heading: (n: number, text: string) => string;
  readonly headings: Readonly<Record<Exclude<PolicySectionId, 'summary'>, string>>;
  readonly summaryTitle: string;
  readonly summary: {
    readonly necessary: (purposes: string) => Line;
    readonly optional: (purposes: string) => Line;
    readonly sensitive: (categories: string) => Line;
    readonly noSensitive: Line;
    readonly recipients: (names: string) => Line;
    readonly noRecipients: Line;
    readonly abroad: (names: string) => Line;
    readonly noAbroad: Line;
    readonly rights: (centre: Inline) => Line;
  };
  readonly processor: (p: ScopeParty) => Line;
  readonly officer: (o: ScopeParty) => Line;
  readonly noOfficer: Line;
  readonly purposesIntro: string;
  readonly purpose: {
    readonly what: string;
    readonly basis: string;
    readonly necessity: string;
    readonly necessary: Line;
    readonly optionalConsent: Line;
    readonly optional: Line;
    readonly categories: string;
    readonly sensitiveMark: string;
    readonly fields: string;
    readonly method: string;
    readonly methods: {
      readonly stored: (encrypted: boolean) => string;
      readonly entrust: string;
      readonly provide: string;
      readonly joint: string;
      readonly abroad: string;
      readonly disclose: string;
    };
    readonly display: string;
    readonly masked: (fields: string) => string;
    readonly clear: (fields: string) => string;
    readonly separate: string;
    readonly separateText: (kinds: string) => string;
    readonly recipients: string;
    readonly seeRecipients: string;
    readonly noFields: string;
  };
  readonly sensitiveIntro: Line;
  readonly noSensitive: string;
  readonly sensitive: {
    readonly fields: string;
    readonly purposes: string;
    readonly purposeBasis: (name: string, basis: string) => string;
    readonly necessity: string;
    readonly impact: string;
    readonly note: string;
    readonly protection: string;
    readonly protectionText: (encrypted: boolean) => string;
    readonly consent: string;
    readonly separateConsent: string;
    readonly consentBased: string;
    readonly noConsentNeeded: (bases: string) => string;
  };
  readonly recipientsIntro: Line;
  readonly noRecipients: string;
  readonly recipient: {
    readonly role: string;
    readonly contact: string;
    readonly purposes: string;
    readonly categories: string;
    readonly location: string;
    readonly basis: string;
    readonly abroad: (country: string) => string;
    readonly about: string;
    readonly none: string;
  };
  readonly roleNotesTitle: string;
  readonly disclosure: (purposes: string) => Line;
  readonly noDisclosure: string;
  readonly abroadIntro: Line;
  readonly abroadUndeclared: (purposes: string) => string;
  readonly abroadRights: (recipient: string) => string;
  readonly abroadRightsLabel: string;
  readonly noAbroad: string;
  readonly retentionIntro: string;
  readonly retentionCaption: string;
  readonly retentionHead: readonly [string, string, string];
  readonly retentionPeriod: (rule: RetentionRule) => string;
  readonly retentionEarlyTitle: string;
  readonly retentionEarly: readonly string[];
  readonly retentionHold: string;
  readonly anonymised: string;
  readonly security: {
    readonly encrypted: (exceptions: string, orderInfo: boolean) => string;
    readonly masking: string;
    readonly freeText: (fields: string) => string;
    readonly access: string;
    readonly incident: string;
  };
  readonly rightsIntro: string;
  readonly rights: Readonly<Record<RightId, { readonly name: string; readonly text: string }>>;
  readonly deadline: (right: PolicyRight) => string;
  readonly howTitle: string;
  readonly how: (centre: Inline, contact: ScopeParty) => Line;
  readonly howMore: readonly string[];
  readonly deadlines: string;
  readonly minors: readonly Line[];
  readonly ageSignals: (categories: string) => string;
  readonly contactIntro: string;
  readonly contactProcessor: (p: ScopeParty) => Line;
  readonly contactOfficer: (o: ScopeParty) => Line;
  readonly contactCentre: (centre: Inline) => Line;
  readonly complaints: (deadline: ResponseDeadline) => string;
  readonly version: (n: number, date: string) => string;
  readonly draftVersion: string;
  readonly reconsent: string;
  readonly changes: readonly string[];
  readonly fingerprint: (fp: string) => string;
}

function deadlineText(d: ResponseDeadline, lang: PolicyLang): string {
  if (lang === 'zh-CN') return d.unit === 'working-days' ? `${d.amount} 个工作日` : `${d.amount} 天`;
  return d.unit === 'working-days' ? `${d.amount} working days` : `${d.amount} days`;
}

const ZH: Words = {
  title: (store) => `${store}${/[A-Za-z0-9]$/.test(store) ? ' ' : ''}个人信息保护政策`,
  toc: '目录',
  draft: '草稿，尚未发布',
  published: (n, date) => `第 ${n} 版 · ${date} 发布`,
  intro: (store) => [
    `${store}（以下简称“我们”）重视并依法保护您的个人信息。本政策根据《中华人民共和国个人信息保护法》《网络数据安全管理条例》等法律法规制定，说明您在本店购物和接受服务时，我们如何收集、使用、保存、提供和保护您的个人信息，以及您享有哪些权利、如何行使。`,
    strong('与您权益关系密切的内容，我们用粗体标出，请您留意。'),
  ],
  heading: (n, text) => `${zhNumber(n)}、${text}`,
  headings: {
    processor: '我们是谁',
    purposes: '我们如何收集和使用您的个人信息',
    sensitive: '敏感个人信息',
    recipients: '委托处理、向他人提供和公开',
    'cross-border': '个人信息出境',
    retention: '保存期限和到期处理',
    security: '我们如何保护您的个人信息',
    rights: '您的权利和行使方式',
    minors: '不满十四周岁未成年人的个人信息',
    contact: '联系我们',
    changes: '本政策的更新',
  },
  summaryTitle: '要点',
  summary: {
    necessary: (p) => [strong('购物所必需：'), `${p}。不提供这些信息，我们将无法完成订单和售后服务。`],
    optional: (p) => [
      strong('可选：'),
      `${p}。这些处理需要您的同意，`,
      strong('您可以拒绝或随时撤回，不影响正常购物。'),
    ],
    sensitive: (c) => [strong('敏感个人信息：'), `${c}，仅用于本政策说明的目的，并加以严格保护。`],
    noSensitive: [strong('敏感个人信息：'), '我们不处理您的敏感个人信息。'],
    recipients: (n) => [strong('接收方：'), `${n}，详见第四部分的清单。`],
    noRecipients: [strong('接收方：'), '我们不向其他组织或个人提供您的个人信息。'],
    abroad: (n) => [strong('出境：'), `我们会向境外提供部分个人信息（${n}），详见第五部分。`],
    noAbroad: [strong('出境：'), '我们不向境外提供您的个人信息。'],
    rights: (centre) => [
      strong('您的权利：'),
      '您可以在隐私中心（',
      centre,
      '）查阅、复制、更正、删除您的个人信息，撤回同意或者注销账户。',
    ],
  },
  processor: (p) => [
    '本店的个人信息处理者是',
    strong(p.name),
    '，联系方式：',
    contactInline(p.contact),
    '。我们决定处理您个人信息的目的和方式，并对处理活动负责。',
  ],
  officer: (o) => ['我们指定的个人信息保护负责人是', o.name, '，联系方式：', contactInline(o.contact), '。'],
  noOfficer: ['关于个人信息保护的任何问题，您都可以通过上述联系方式与我们联系。'],
  purposesIntro:
    '我们只为下列明确、合理的目的处理您的个人信息，并限于实现目的所需的最小范围。每项目的所涉及的个人信息、法律依据和处理方式如下。',
  purpose: {
    what: '目的',
    basis: '法律依据',
    necessity: '是否必需',
    necessary: ['必需。这是完成交易或提供服务所必需的信息，您不提供将无法完成相应的服务。'],
    optionalConsent: [
      strong('非必需，需要您的同意。'),
      '您可以拒绝，也可以随时在隐私中心撤回同意；拒绝或撤回不影响您正常购物，也不影响撤回前基于同意已进行的处理。',
    ],
    optional: ['非必需。'],
    categories: '涉及的个人信息',
    sensitiveMark: '（敏感个人信息）',
    fields: '具体内容',
    method: '处理方式',
    methods: {
      stored: (encrypted) => (encrypted ? '收集后加密存储' : '收集后存储'),
      entrust: '委托受托处理者处理',
      provide: '向第三方提供',
      joint: '与共同处理者共同处理',
      abroad: '向境外提供',
      disclose: '公开',
    },
    display: '显示方式',
    masked: (f) => `${f}默认以去标识化方式显示（如 138****1234）`,
    clear: (f) => `${f}在处理时完整显示`,
    separate: '单独同意',
    separateText: (k) => `处理前，我们会就${k}单独征得您的同意。`,
    recipients: '接收方',
    seeRecipients: '（详见第四部分）',
    noFields: '此目的不涉及我们存储的个人信息。',
  },
  sensitiveIntro: [
    '敏感个人信息是一旦泄露或者被非法使用，容易导致您的人格尊严受到侵害或者人身、财产安全受到危害的个人信息（《个人信息保护法》第二十八条）。',
    strong('我们只在具有特定的目的和充分的必要性，并采取严格保护措施的情况下，处理下列敏感个人信息：'),
  ],
  noSensitive: '我们不处理您的敏感个人信息。',
  sensitive: {
    fields: '涉及信息',
    purposes: '处理目的',
    purposeBasis: (name, basis) => `${name}（法律依据：${basis}）`,
    necessity: '必要性',
    impact: '对您权益的影响',
    note: '补充说明',
    protection: '保护措施',
    protectionText: (encrypted) =>
      `${encrypted ? '加密存储；' : ''}仅向经授权、确有业务需要的人员显示，每次访问均有审计记录；保存期限届满后按第六部分的规定处理。`,
    consent: '同意',
    separateConsent: '处理前，我们会单独征得您的同意。',
    consentBased: '基于您的同意处理，您可以随时撤回。',
    noConsentNeeded: (b) =>
      `此项处理的法律依据是“${b}”，依法无需取得您的同意，但我们仍在此告知其必要性和对您的影响。`,
  },
  recipientsIntro: [
    '我们以清单形式列明接收您个人信息的组织。',
    strong(
      '向第三方提供您的个人信息前，我们会告知接收方的名称、联系方式、处理目的、处理方式和个人信息种类；依法需要取得您同意的，我们会取得您的单独同意。',
    ),
  ],
  noRecipients:
    '目前我们没有委托他人处理您的个人信息，也不向其他组织或个人提供您的个人信息。如将来需要，我们会事先告知接收方的名称、联系方式、处理目的、处理方式和个人信息种类；向第三方提供的，还会取得您的单独同意。',
  recipient: {
    role: '类型',
    contact: '联系方式',
    purposes: '处理目的',
    categories: '个人信息种类',
    location: '所在地',
    basis: '提供的法律依据',
    abroad: (c) => `${c}（境外）`,
    about: '说明',
    none: '未注明',
  },
  roleNotesTitle: '各类接收方的义务',
  disclosure: (p) => [strong(`为${p}，我们会在取得您的单独同意后公开相关个人信息。`)],
  noDisclosure: '我们不会公开您的个人信息。',
  abroadIntro: [
    strong(
      '为下列目的，我们需要向中华人民共和国境外提供您的个人信息。提供前，我们会告知下列事项并取得您的单独同意，并依法进行个人信息保护影响评估：',
    ),
  ],
  abroadUndeclared: (p) =>
    `${p}可能涉及向境外提供个人信息；境外接收方的具体情况，我们会在征求您的单独同意时告知。`,
  abroadRightsLabel: '如何向其行使权利',
  abroadRights: (r) =>
    `您可以按照第八部分的方式向我们提出请求，我们会协助您向${r}行使权利；您也可以直接联系${r}。`,
  noAbroad:
    '我们不向中华人民共和国境外提供您的个人信息。如将来需要向境外提供，我们会事先告知境外接收方的名称、联系方式、处理目的、处理方式、个人信息种类以及您向其行使权利的方式，并取得您的单独同意。',
  retentionIntro:
    '我们只在实现处理目的所必要的最短时间内保存您的个人信息（《个人信息保护法》第十九条）。各类信息的保存期限和到期后的处理方式如下：',
  retentionCaption: '保存期限',
  retentionHead: ['信息', '保存期限', '到期后'],
  retentionPeriod: (r) => `${durationText(r.keep, 'zh-CN')}，${RETENTION_ANCHOR_LABELS[r.from]['zh-CN']}`,
  retentionEarlyTitle:
    '出现下列情形之一时，即使保存期限尚未届满，我们也会主动删除您的个人信息，您也可以要求我们删除：',
  retentionEarly: [
    '处理目的已实现、无法实现或者为实现处理目的不再必要；',
    '我们停止提供商品或者服务；',
    '您撤回同意（仅限基于同意处理的信息）；',
    '您注销账户；',
    '我们违反法律、行政法规或者与您的约定处理个人信息。',
  ],
  retentionHold:
    '法律、行政法规规定的保存期限未届满，或者删除个人信息从技术上难以实现的，我们将停止除存储和采取必要的安全保护措施之外的处理，这些信息也不会再用于日常业务。',
  anonymised: '匿名化处理后的信息无法识别到您本人且不能复原，不再属于个人信息。',
  security: {
    encrypted: (exceptions, orderInfo) =>
      exceptions === ''
        ? `您的个人信息全部加密存储${orderInfo ? '（订单号、金额等订单信息除外）' : ''}，密钥与数据分开保管。`
        : `除${exceptions}外，您的个人信息加密存储，密钥与数据分开保管。`,
    masking: '工作人员默认只看到去标识化后的信息，只有业务确有需要时才能查看完整信息。',
    freeText: (f) => `您在${f}中填写的手机号码、身份证号码、银行卡号等个人信息，会在保存前自动遮盖。`,
    access: '工作人员只能为本政策列明的目的访问个人信息，每一次访问都记入防篡改的审计日志。',
    incident:
      '如发生个人信息泄露、篡改或者丢失，我们会立即采取补救措施，并依法通知您和有关主管部门（《个人信息保护法》第五十七条）。',
  },
  rightsIntro: '根据《个人信息保护法》第四十四条至第四十八条，您对自己的个人信息享有下列权利：',
  rights: {
    access: { name: '查阅', text: '了解我们处理您的哪些个人信息、如何处理。' },
    copy: { name: '复制', text: '获取您个人信息的副本。' },
    portability: {
      name: '转移',
      text: '请求将您的个人信息转移至您指定的个人信息处理者。在能够核验您的身份、相关信息是基于您的同意或者合同收集、技术上可行且不损害他人合法权益时，我们会提供转移途径。',
    },
    correction: { name: '更正', text: '您的个人信息不准确时，请求我们更正。' },
    supplement: { name: '补充', text: '您的个人信息不完整时，请求我们补充。' },
    deletion: { name: '删除', text: '在第六部分所列情形下，请求我们删除您的个人信息。' },
    restriction: {
      name: '限制或者拒绝处理',
      text: '限制或者拒绝我们处理您的个人信息，法律、行政法规另有规定的除外。',
    },
    'withdraw-consent': {
      name: '撤回同意',
      text: '对基于您同意的处理，您可以随时撤回同意，撤回不影响撤回前基于同意已进行的处理。',
    },
    'account-cancellation': {
      name: '注销账户',
      text: '注销后，我们会删除或者匿名化您的个人信息，法律、行政法规另有规定的除外。我们不会为注销设置不合理的条件。',
    },
    explanation: { name: '要求解释说明', text: '请我们解释本政策和我们处理您个人信息的规则。' },
  },
  deadline: (r) =>
    r.immediate
      ? `在隐私中心撤回即时生效；通过其他方式提出的，我们在 ${deadlineText(r.deadline, 'zh-CN')}内办理。`
      : `我们在 ${deadlineText(r.deadline, 'zh-CN')}内${r.deadline.unit === 'working-days' ? '办理完毕' : '答复'}。`,
  howTitle: '如何行使权利',
  how: (centre, c) => [
    strong('您可以在隐私中心在线提出请求'),
    '（',
    centre,
    `），也可以联系${c.name}（`,
    contactInline(c.contact),
    '）。',
  ],
  howMore: [
    '为保护您的信息安全，我们会先核验您的身份；核验时不会要求您提供超出我们已收集范围的个人信息。',
    '我们原则上不收取费用；对于在一定时期内多次重复、明显超出合理限度的请求，我们可能收取必要的成本费用。',
    '我们拒绝您的请求时，会说明理由，并告知您投诉和寻求救济的途径。',
    '您去世后，您的近亲属为了自身的合法、正当利益，可以对您的相关个人信息行使查阅、复制、更正、删除等权利，您生前另有安排的除外（《个人信息保护法》第四十九条）。',
  ],
  deadlines:
    '删除、更正和注销账户的请求，我们在核验您的身份后 15 个工作日内办理完毕；其他请求，我们在 30 天内答复。',
  minors: [
    [
      '我们的商品和服务主要面向成年人。',
      strong(
        '不满十四周岁未成年人的个人信息属于敏感个人信息，我们只有在取得其父母或者其他监护人的同意后才会处理',
      ),
      '（《个人信息保护法》第二十八条、第三十一条）。本部分是我们处理这类个人信息的专门规则。',
    ],
    [
      '如果您不满十四周岁，请在父母或者其他监护人的陪同下阅读本政策，并在取得他们的同意后向我们提供个人信息。',
    ],
    [
      '监护人可以通过隐私中心或者第十部分的联系方式，查阅、复制、更正、删除被监护人的个人信息，或者撤回同意。',
    ],
    ['如果我们发现在未取得监护人同意的情况下处理了不满十四周岁未成年人的个人信息，会尽快删除。'],
  ],
  ageSignals: (c) => `如果我们根据您提供的${c}得知您不满十四周岁，会请您的父母或者其他监护人确认同意。`,
  contactIntro: '如果您对本政策或者您的个人信息有任何疑问、意见或者投诉，请通过以下方式联系我们：',
  contactProcessor: (p) => ['个人信息处理者：', p.name, '，', contactInline(p.contact)],
  contactOfficer: (o) => ['个人信息保护负责人：', o.name, '，', contactInline(o.contact)],
  contactCentre: (centre) => ['隐私中心：', centre],
  complaints: (d) =>
    `我们会在 ${deadlineText(d, 'zh-CN')}内答复您的咨询和投诉。如果您对答复不满意，可以向网信、市场监督管理等主管部门投诉、举报，也可以依法向人民法院提起诉讼。`,
  version: (n, date) => `当前版本：第 ${n} 版，${date} 发布。`,
  draftVersion: '本文本是草稿，尚未发布。',
  reconsent: '本版本扩大了基于您同意的处理范围。在您重新同意之前，我们不会按照新的范围处理您的个人信息。',
  changes: [
    '本政策根据本店登记的数据清单生成。清单中影响本政策的内容发生变化时，我们会发布新版本，并在隐私中心公布变更内容；历史版本可在隐私中心查阅和保存。',
    '变更涉及处理目的、处理方式或者个人信息种类的扩大时，我们会在按新的范围处理前重新取得您的同意。未经您的同意，我们不会减少您依据本政策享有的权利。',
  ],
  fingerprint: (fp) => `版本指纹：${fp}`,
};

const EN: Words = {
  title: (store) => `${store} Privacy Policy`,
  toc: 'Contents',
  draft: 'Draft, not yet published',
  published: (n, date) => `Version ${n} · published ${date}`,
  intro: (store) => [
    `${store} (“we”) protects your personal information as the law requires. This policy follows the Personal Information Protection Law of the People's Republic of China (PIPL), the Network Data Security Management Regulations and related rules. It explains what we collect when you shop with us, why, how we use, keep, share and protect it, and what rights you have and how to use them. `,
    strong('Points that matter most to you are shown in bold.'),
  ],
  heading: (n, text) => `${n}. ${text}`,
  headings: {
    processor: 'Who we are',
    purposes: 'What we collect and why',
    sensitive: 'Sensitive personal information',
    recipients: 'Who else handles your information',
    'cross-border': 'Transfers outside mainland China',
    retention: 'How long we keep it',
    security: 'How we protect it',
    rights: 'Your rights and how to use them',
    minors: 'Children under 14',
    contact: 'Contact us',
    changes: 'Changes to this policy',
  },
  summaryTitle: 'At a glance',
  summary: {
    necessary: (p) => [
      strong('Needed to shop: '),
      `${p}. Without this information we cannot complete your order or after-sales service.`,
    ],
    optional: (p) => [
      strong('Optional: '),
      `${p}. These need your consent; `,
      strong('you can refuse or withdraw it at any time and still shop as usual.'),
    ],
    sensitive: (c) => [
      strong('Sensitive information: '),
      `${c}, used only for the purposes below and strictly protected.`,
    ],
    noSensitive: [strong('Sensitive information: '), 'we do not process sensitive personal information.'],
    recipients: (n) => [strong('Recipients: '), `${n}; see the list in section 4.`],
    noRecipients: [strong('Recipients: '), 'we do not give your information to anyone else.'],
    abroad: (n) => [
      strong('Outside mainland China: '),
      `some information goes abroad (${n}); see section 5.`,
    ],
    noAbroad: [strong('Outside mainland China: '), 'we do not transfer your information abroad.'],
    rights: (centre) => [
      strong('Your rights: '),
      'in the privacy centre (',
      centre,
      ') you can see, copy, correct or delete your information, withdraw consent or close your account.',
    ],
  },
  processor: (p) => [
    'The personal information processor for this store is ',
    strong(p.name),
    ', contact: ',
    contactInline(p.contact),
    '. We decide why and how your information is processed and are responsible for it.',
  ],
  officer: (o) => [
    'Our personal information protection officer is ',
    o.name,
    ', contact: ',
    contactInline(o.contact),
    '.',
  ],
  noOfficer: ['For any question about your personal information, contact us as above.'],
  purposesIntro:
    'We process your information only for the clear and reasonable purposes below, and only as much as each purpose needs. For each purpose you can see the information involved, the legal basis and how we process it.',
  purpose: {
    what: 'Purpose',
    basis: 'Legal basis',
    necessity: 'Necessary',
    necessary: [
      'Yes. We need this information to complete the sale or provide the service; without it we cannot do so.',
    ],
    optionalConsent: [
      strong('No, and only with your consent. '),
      'You can refuse, or withdraw consent at any time in the privacy centre. Refusing or withdrawing does not stop you from shopping and does not affect processing done before you withdrew.',
    ],
    optional: ['No.'],
    categories: 'Information used',
    sensitiveMark: ' (sensitive)',
    fields: 'In detail',
    method: 'How',
    methods: {
      stored: (encrypted) => (encrypted ? 'collected and stored encrypted' : 'collected and stored'),
      entrust: 'handled by processors acting for us',
      provide: 'given to third parties',
      joint: 'processed jointly with a joint controller',
      abroad: 'transferred outside mainland China',
      disclose: 'made public',
    },
    display: 'What staff see',
    masked: (f) => `${f} masked by default (e.g. 138****1234)`,
    clear: (f) => `${f} in full when handling your case`,
    separate: 'Separate consent',
    separateText: (k) => `Before this processing we ask your separate consent for ${k}.`,
    recipients: 'Recipients',
    seeRecipients: ' (see section 4)',
    noFields: 'This purpose uses none of the information we store.',
  },
  sensitiveIntro: [
    'Sensitive personal information is information that, if leaked or misused, can easily harm your dignity or your personal or property safety (PIPL Art. 28). ',
    strong(
      'We process the sensitive information below only for a specific purpose, when it is truly necessary, and with strict protection:',
    ),
  ],
  noSensitive: 'We do not process sensitive personal information.',
  sensitive: {
    fields: 'Information',
    purposes: 'Purpose',
    purposeBasis: (name, basis) => `${name} (legal basis: ${basis})`,
    necessity: 'Why it is necessary',
    impact: 'Impact on you',
    note: 'Note',
    protection: 'Protection',
    protectionText: (encrypted) =>
      `${encrypted ? 'Stored encrypted. ' : ''}Shown only to authorised staff who need it for their work, and every access is logged. When the retention period ends it is handled as section 6 says.`,
    consent: 'Consent',
    separateConsent: 'We ask your separate consent before processing it.',
    consentBased: 'Processed with your consent, which you can withdraw at any time.',
    noConsentNeeded: (b) =>
      `This processing rests on “${b}”, so the law does not require your consent; we still tell you why it is necessary and how it affects you.`,
  },
  recipientsIntro: [
    'We list every organisation that receives your personal information. ',
    strong(
      'Before giving your information to a third party, we tell you its name, contact details, purposes, methods and the categories of information, and where the law requires your consent we ask for it separately.',
    ),
  ],
  noRecipients:
    'We currently do not have anyone process your information for us, and we do not give it to any other organisation or person. If that changes, we will first tell you the recipient’s name, contact details, purposes, methods and categories of information, and ask your separate consent before giving it to a third party.',
  recipient: {
    role: 'Role',
    contact: 'Contact',
    purposes: 'Purposes',
    categories: 'Information',
    location: 'Location',
    basis: 'Legal basis for providing it',
    abroad: (c) => `${c} (outside mainland China)`,
    about: 'About',
    none: 'not stated',
  },
  roleNotesTitle: 'What each kind of recipient must do',
  disclosure: (p) => [strong(`For ${p} we make information public, only with your separate consent.`)],
  noDisclosure: 'We do not make your personal information public.',
  abroadIntro: [
    strong(
      'For the purposes below we transfer your information outside the People’s Republic of China. Before doing so we tell you the following, ask your separate consent and carry out a personal information protection impact assessment:',
    ),
  ],
  abroadUndeclared: (p) =>
    `${p} may involve a transfer outside mainland China; we will name the recipient when we ask your separate consent.`,
  abroadRightsLabel: 'Your rights against it',
  abroadRights: (r) =>
    `Send your request to us as section 8 describes and we will help you exercise your rights against ${r}, or contact ${r} directly.`,
  noAbroad:
    'We do not transfer your personal information outside the People’s Republic of China. If that changes, we will first tell you the foreign recipient’s name, contact details, purposes, methods, categories of information and how to exercise your rights against it, and ask your separate consent.',
  retentionIntro:
    'We keep your information only as long as its purpose needs (PIPL Art. 19). How long each kind is kept, and what happens then:',
  retentionCaption: 'Retention periods',
  retentionHead: ['Information', 'Kept for', 'Then'],
  retentionPeriod: (r) => `${durationText(r.keep, 'en')}, ${RETENTION_ANCHOR_LABELS[r.from].en}`,
  retentionEarlyTitle:
    'We delete your information earlier, on our own initiative or at your request, when any of the following happens:',
  retentionEarly: [
    'the purpose has been achieved, cannot be achieved, or no longer needs the information;',
    'we stop offering the product or service;',
    'you withdraw your consent (for information processed with consent);',
    'you close your account;',
    'we processed it in breach of the law or of our agreement with you.',
  ],
  retentionHold:
    'Where a law or administrative regulation requires us to keep information for longer, or deletion is technically hard, we stop all processing except storage and the necessary security measures, and the information is not used in daily business.',
  anonymised:
    'Anonymised information can no longer identify you and cannot be turned back, so it is no longer personal information.',
  security: {
    encrypted: (exceptions, orderInfo) =>
      exceptions === ''
        ? `All your personal information is stored encrypted${orderInfo ? ' (order numbers, amounts and other order details aside)' : ''}, with the keys kept apart from the data.`
        : `Your personal information is stored encrypted, except ${exceptions}, with the keys kept apart from the data.`,
    masking: 'Staff see masked information by default, and the full value only when their work requires it.',
    freeText: (f) =>
      `Phone numbers, ID numbers, card numbers and other personal information that you type into free text (${f}) are masked automatically before we store it.`,
    access:
      'Staff may use personal information only for the purposes in this policy, and every access is recorded in a tamper-evident audit log.',
    incident:
      'If personal information is leaked, altered or lost, we act at once to contain it and notify you and the authorities as the law requires (PIPL Art. 57).',
  },
  rightsIntro: 'Under PIPL Articles 44 to 48 you have the following rights over your personal information:',
  rights: {
    access: { name: 'Access', text: 'find out what information we hold about you and how we use it.' },
    copy: { name: 'Copy', text: 'get a copy of your personal information.' },
    portability: {
      name: 'Transfer',
      text: 'have your information transferred to another processor you choose. We provide this when we can verify your identity, the information was collected with your consent or under a contract, it is technically feasible and it does not harm others.',
    },
    correction: { name: 'Correction', text: 'have inaccurate information corrected.' },
    supplement: { name: 'Completion', text: 'have incomplete information completed.' },
    deletion: { name: 'Deletion', text: 'have your information deleted in the cases listed in section 6.' },
    restriction: {
      name: 'Restriction or objection',
      text: 'limit or refuse our processing of your information, unless a law or administrative regulation provides otherwise.',
    },
    'withdraw-consent': {
      name: 'Withdraw consent',
      text: 'withdraw consent to processing based on it at any time; this does not affect processing done before.',
    },
    'account-cancellation': {
      name: 'Close your account',
      text: 'when you close your account we delete or anonymise your information, unless the law requires otherwise. We set no unreasonable conditions.',
    },
    explanation: {
      name: 'Explanation',
      text: 'ask us to explain this policy and how we process your information.',
    },
  },
  deadline: (r) =>
    r.immediate
      ? ` Immediate in the privacy centre; otherwise done within ${deadlineText(r.deadline, 'en')}.`
      : ` ${r.deadline.unit === 'working-days' ? 'Done' : 'Answered'} within ${deadlineText(r.deadline, 'en')}.`,
  howTitle: 'How to make a request',
  how: (centre, c) => [
    strong('Make your request online in the privacy centre'),
    ' (',
    centre,
    `), or contact ${c.name} (`,
    contactInline(c.contact),
    ').',
  ],
  howMore: [
    'To protect your information we first verify your identity, without asking for more personal information than we already hold.',
    'Requests are free. We may charge a reasonable cost for requests that are clearly excessive, such as many repeats in a short time.',
    'If we refuse a request, we tell you why and how to complain or seek a remedy.',
    'After your death, your close relatives may, for their own lawful and legitimate interests, access, copy, correct or delete your relevant information, unless you arranged otherwise (PIPL Art. 49).',
  ],
  deadlines:
    'We complete deletion, correction and account closure within 15 working days of verifying your identity, and answer other requests within 30 days.',
  minors: [
    [
      'Our products and services are meant for adults. ',
      strong(
        'Personal information of children under 14 is sensitive, and we process it only with the consent of a parent or other guardian',
      ),
      ' (PIPL Art. 28 and 31). This section is our dedicated rule set for such information.',
    ],
    [
      'If you are under 14, please read this policy with a parent or guardian and give us personal information only with their consent.',
    ],
    [
      'A guardian can access, copy, correct or delete the child’s information, or withdraw consent, in the privacy centre or through the contacts in section 10.',
    ],
    [
      'If we learn that we processed information of a child under 14 without a guardian’s consent, we delete it promptly.',
    ],
  ],
  ageSignals: (c) =>
    `If the ${c} you give us shows that you are under 14, we will ask a parent or guardian to confirm their consent.`,
  contactIntro: 'For questions, comments or complaints about this policy or your information, contact us:',
  contactProcessor: (p) => ['Processor: ', p.name, ', ', contactInline(p.contact)],
  contactOfficer: (o) => [
    'Personal information protection officer: ',
    o.name,
    ', ',
    contactInline(o.contact),
  ],
  contactCentre: (centre) => ['Privacy centre: ', centre],
  complaints: (d) =>
    `We answer questions and complaints within ${deadlineText(d, 'en')}. If you are not satisfied with our answer, you can complain to the cyberspace administration, market regulation or other competent authorities, or bring a lawsuit before a people’s court.`,
  version: (n, date) => `This is version ${n}, published ${date}.`,
  draftVersion: 'This text is a draft and has not been published.',
  reconsent:
    'This version widens processing based on your consent. Until you consent again, we do not process your information on the new terms.',
  changes: [
    'This policy is generated from the store’s declared data map. When anything in the map that this policy describes changes, we publish a new version and announce the changes in the privacy centre, where earlier versions can be read and saved.',
    'If a change widens the purposes, methods or categories of processing, we ask your consent again before processing on the new terms. We will not reduce your rights under this policy without your consent.',
  ],
  fingerprint: (fp) => `Version fingerprint: ${fp}`,
};

const WORDS: Readonly<Record<PolicyLang, Words>> = { 'zh-CN': ZH, en: EN };

// --- building ------------------------------------------------------------------------------------

function buildDocument(
  model: PolicyModel,
  lang: PolicyLang,
  version: PolicyVersionInfo | undefined,
): PolicyDocument {
  const w = WORDS[lang];
  const list = (items: readonly string[]): string => joinList(items, lang);
  const purposeName = (id: string): string => model.purposes.find((p) => p.id === id)?.name[lang] ?? id;
  const recipientName = (id: string): string => model.recipients.find((r) => r.id === id)?.name[lang] ?? id;
  const categories = (cs: readonly string[]): string => list(cs.map((c) => categoryLabel(c, lang)));
  const basisOf = (b: LegalBasis): string => legalBasisText(b, lang);
  const centre: Inline = isSafeHref(model.rights.privacyCentre)
    ? { href: model.rights.privacyCentre, text: model.rights.privacyCentre }
    : model.rights.privacyCentre;
  const kinds = (ks: readonly SeparateConsent[]): string =>
    list(ks.map((k) => SEPARATE_CONSENT_LABELS[k][lang]));
  const sep = lang === 'zh-CN' ? '；' : '; ';
  const comma = lang === 'zh-CN' ? '、' : ', ';

  const fieldsOf = (
    c: PolicyCollectionUse,
    filter: (f: PolicyCollectionUse['fields'][number]) => boolean,
  ): string[] => c.fields.filter(filter).map((f) => fieldLabel(f.field, f.category, lang));

  const sections: Section[] = [];
  const add = (id: PolicySectionId, blocks: Block[]): void => {
    const title =
      id === 'summary'
        ? w.summaryTitle
        : w.heading(sections.filter((s) => s.id !== 'summary').length + 1, w.headings[id]);
    sections.push({ id, title, blocks });
  };

  // Summary.
  const necessary = model.purposes.filter((p) => p.necessary).map((p) => p.name[lang]);
  const optional = model.purposes.filter((p) => !p.necessary).map((p) => p.name[lang]);
  const summary: Line[] = [];
  const names = (items: readonly string[]): string => (lang === 'zh-CN' ? list(items) : items.join('; '));
  if (necessary.length > 0) summary.push(w.summary.necessary(names(necessary)));
  if (optional.length > 0) summary.push(w.summary.optional(names(optional)));
  summary.push(
    model.sensitive.length > 0
      ? w.summary.sensitive(categories(model.sensitive.map((s) => s.category)))
      : w.summary.noSensitive,
  );
  summary.push(
    model.recipients.length > 0
      ? w.summary.recipients(list(model.recipients.map((r) => r.name[lang])))
      : w.summary.noRecipients,
  );
  summary.push(
    model.crossBorder.purposes.length > 0
      ? w.summary.abroad(list(model.crossBorder.purposes.map(purposeName)))
      : w.summary.noAbroad,
  );
  summary.push(w.summary.rights(centre));
  add('summary', [{ kind: 'ul', items: summary }]);

  // Processor.
  add('processor', [
    { kind: 'p', line: w.processor(model.processor) },
    { kind: 'p', line: model.officer === null ? w.noOfficer : w.officer(model.officer) },
  ]);

  // Purposes.
  const purposeBlocks: Block[] = [{ kind: 'p', line: [w.purposesIntro] }];
  for (const p of model.purposes) {
    purposeBlocks.push({ kind: 'h3', id: `purpose-${p.id}`, text: p.name[lang] });
    purposeBlocks.push({ kind: 'ul', items: purposeItems(p) });
  }
  add('purposes', purposeBlocks);

  function purposeItems(p: PolicyPurpose): Line[] {
    const t = w.purpose;
    const items: Line[] = [];
    if (p.description !== null) items.push(item(lang, t.what, p.description[lang]));
    items.push(item(lang, t.basis, basisOf(p.legalBasis)));
    items.push(
      item(
        lang,
        t.necessity,
        ...(p.necessary ? t.necessary : p.consentBased ? t.optionalConsent : t.optional),
      ),
    );
    if (p.categories.length === 0) {
      items.push(item(lang, t.categories, t.noFields));
    } else {
      const labels: Inline[] = [];
      p.categories.forEach((c, i) => {
        if (i > 0) labels.push(comma);
        labels.push(categoryLabel(c, lang));
        if (p.sensitiveCategories.includes(c)) labels.push(strong(t.sensitiveMark));
      });
      items.push(item(lang, t.categories, ...labels));
      const detail = p.collections
        .map(
          (c) =>
            `${collectionLabel(c.id, lang)}${lang === 'zh-CN' ? '：' : ': '}${fieldsOf(c, () => true).join(comma)}`,
        )
        .join(sep);
      items.push(item(lang, t.fields, detail));
      const masked = p.collections.flatMap((c) => fieldsOf(c, (f) => f.view === 'masked'));
      const clear = p.collections.flatMap((c) => fieldsOf(c, (f) => f.view === 'clear'));
      const display: string[] = [];
      if (masked.length > 0) display.push(t.masked(masked.join(comma)));
      if (clear.length > 0) display.push(t.clear(clear.join(comma)));
      items.push(item(lang, t.display, display.join(sep)));
    }
    const methods: string[] = [];
    for (const m of p.methods) {
      if (m === 'store-encrypted' || m === 'store') methods.push(t.methods.stored(m === 'store-encrypted'));
      else if (m === 'entrust') methods.push(t.methods.entrust);
      else if (m === 'provide') methods.push(t.methods.provide);
      else if (m === 'joint-process') methods.push(t.methods.joint);
      else if (m === 'cross-border') methods.push(t.methods.abroad);
      else if (m === 'public-disclosure') methods.push(t.methods.disclose);
    }
    if (methods.length > 0) items.push(item(lang, t.method, methods.join(sep)));
    if (p.separateConsents.length > 0) {
      items.push(item(lang, t.separate, strong(t.separateText(kinds(p.separateConsents)))));
    }
    if (p.recipients.length > 0) {
      items.push(
        item(lang, t.recipients, list(p.recipients.map(recipientName)), lang === 'zh-CN' ? '' : ' ', {
          href: '#recipients',
          text: t.seeRecipients.trim(),
        }),
      );
    }
    return items;
  }

  // Sensitive PI.
  const sensitiveBlocks: Block[] = [];
  if (model.sensitive.length === 0) {
    sensitiveBlocks.push({ kind: 'p', line: [w.noSensitive] });
  } else {
    sensitiveBlocks.push({ kind: 'p', line: w.sensitiveIntro });
    for (const s of model.sensitive) {
      sensitiveBlocks.push({
        kind: 'h3',
        id: `sensitive-${s.category.replace(/\./g, '-')}`,
        text: capitaliseFor(lang, categoryLabel(s.category, lang)),
      });
      sensitiveBlocks.push({ kind: 'ul', items: sensitiveItems(s) });
    }
  }
  add('sensitive', sensitiveBlocks);

  function sensitiveItems(s: SensitiveCategory): Line[] {
    const t = w.sensitive;
    const fields = s.fields.map(
      (f) =>
        `${collectionLabel(f.collection, lang)}${lang === 'zh-CN' ? '·' : ': '}${fieldLabel(f.field, f.category, lang)}`,
    );
    const purposes = s.purposes.map((p) =>
      t.purposeBasis(purposeName(p.id), LEGAL_BASIS_LABELS[p.legalBasis][lang]),
    );
    let consent: Inline;
    if (s.purposes.some((p) => p.separateConsent)) consent = strong(t.separateConsent);
    else if (s.purposes.some((p) => p.legalBasis === 'consent')) consent = t.consentBased;
    else
      consent = t.noConsentNeeded(
        list([...new Set(s.purposes.map((p) => LEGAL_BASIS_LABELS[p.legalBasis][lang]))]),
      );
    return [
      item(lang, t.fields, fields.join(comma)),
      item(lang, t.purposes, purposes.join(sep)),
      item(lang, t.necessity, strong(s.necessity[lang])),
      item(lang, t.impact, strong(s.impact[lang])),
      ...s.notes.filter((n) => HAN.test(n) === (lang === 'zh-CN')).map((n) => item(lang, t.note, n)),
      item(lang, t.protection, t.protectionText(s.encrypted)),
      item(lang, t.consent, consent),
    ];
  }

  // Recipients.
  const recipientBlocks: Block[] = [];
  if (model.recipients.length === 0) {
    recipientBlocks.push({ kind: 'p', line: [w.noRecipients] });
  } else {
    recipientBlocks.push({ kind: 'p', line: w.recipientsIntro });
    for (const r of model.recipients) {
      recipientBlocks.push({ kind: 'h3', id: `recipient-${slug(r.id)}`, text: r.name[lang] });
      recipientBlocks.push({ kind: 'ul', items: recipientItems(r) });
    }
    const roles = [...new Set(model.recipients.map((r) => r.role))];
    recipientBlocks.push({ kind: 'p', line: [strong(w.roleNotesTitle)] });
    recipientBlocks.push({
      kind: 'ul',
      items: roles.map((role: RecipientRole) =>
        item(lang, RECIPIENT_ROLE_LABELS[role][lang], RECIPIENT_ROLE_NOTES[role][lang]),
      ),
    });
  }
  recipientBlocks.push(
    model.publicDisclosure.length > 0
      ? { kind: 'p', line: w.disclosure(list(model.publicDisclosure.map(purposeName))) }
      : { kind: 'p', line: [w.noDisclosure] },
  );
  add('recipients', recipientBlocks);

  function recipientItems(r: ScopeRecipient): Line[] {
    const t = w.recipient;
    const country = countryLabel(r.country, lang);
    const items: Line[] = [
      item(lang, t.role, RECIPIENT_ROLE_LABELS[r.role][lang]),
      item(lang, t.contact, r.contact === '' ? t.none : contactInline(r.contact)),
      item(lang, t.purposes, r.purposes.length === 0 ? t.none : list(r.purposes.map(purposeName))),
      item(lang, t.categories, r.categories.length === 0 ? t.none : categories(r.categories)),
      item(lang, t.location, r.crossBorder ? strong(t.abroad(country)) : country),
    ];
    if (r.legalBasis !== undefined) items.push(item(lang, t.basis, legalBasisText(r.legalBasis, lang)));
    if (r.description !== undefined) items.push(item(lang, t.about, r.description[lang]));
    return items;
  }

  // Cross-border.
  const abroadBlocks: Block[] = [];
  if (model.crossBorder.purposes.length === 0) {
    abroadBlocks.push({ kind: 'p', line: [w.noAbroad] });
  } else {
    abroadBlocks.push({ kind: 'p', line: w.abroadIntro });
    for (const r of model.crossBorder.recipients) {
      abroadBlocks.push({ kind: 'h3', text: r.name[lang] });
      abroadBlocks.push({
        kind: 'ul',
        items: [...recipientItems(r), item(lang, w.abroadRightsLabel, w.abroadRights(r.name[lang]))],
      });
    }
    const undeclared = model.crossBorder.purposes.filter(
      (id) => !model.crossBorder.recipients.some((r) => r.purposes.includes(id)),
    );
    if (undeclared.length > 0)
      abroadBlocks.push({ kind: 'p', line: [w.abroadUndeclared(list(undeclared.map(purposeName)))] });
  }
  add('cross-border', abroadBlocks);

  // Retention.
  add('retention', [
    { kind: 'p', line: [w.retentionIntro] },
    {
      kind: 'table',
      caption: w.retentionCaption,
      head: w.retentionHead,
      rows: model.retention.map((r) => [
        [
          strong(collectionLabel(r.collection, lang)),
          lang === 'zh-CN' ? '：' : ': ',
          r.fields.map((f) => fieldLabel(f.field, f.category, lang)).join(comma),
        ],
        [w.retentionPeriod(r)],
        [capitaliseFor(lang, EXPIRY_ACTION_LABELS[r.then][lang])],
      ]),
    },
    { kind: 'p', line: [w.retentionEarlyTitle] },
    { kind: 'ul', items: w.retentionEarly.map((x) => [x]) },
    { kind: 'p', line: [w.retentionHold] },
    ...(model.retention.some((r) => r.then === 'anonymise')
      ? [{ kind: 'p', line: [w.anonymised] } as const]
      : []),
  ]);

  // Security.
  const orderInfo =
    model.scope.fields.some((f) => !f.encrypted) && model.security.unencryptedPersonalCategories.length === 0;
  const securityItems: Line[] = [
    [w.security.encrypted(categories(model.security.unencryptedPersonalCategories), orderInfo)],
  ];
  if (model.security.masking) securityItems.push([w.security.masking]);
  if (model.security.freeTextMasked.length > 0) {
    const fields = model.security.freeTextMasked.map((f) => fieldLabel(f.field, f.category, lang));
    securityItems.push([w.security.freeText(list(fields))]);
  }
  securityItems.push([w.security.access], [w.security.incident]);
  add('security', [{ kind: 'ul', items: securityItems }]);

  // Rights.
  add('rights', [
    { kind: 'p', line: [w.rightsIntro] },
    {
      kind: 'ul',
      items: model.rights.rights.map((r) =>
        item(lang, w.rights[r.id].name, w.rights[r.id].text, w.deadline(r)),
      ),
    },
    { kind: 'h3', id: 'how-to-exercise', text: w.howTitle },
    {
      kind: 'ul',
      items: [w.how(centre, model.rights.contact), [strong(w.deadlines)], ...w.howMore.map((x) => [x])],
    },
  ]);

  // Minors.
  const minorBlocks: Block[] = w.minors.map((line) => ({ kind: 'p', line }));
  if (model.minors.ageSignals.length > 0) {
    minorBlocks.splice(2, 0, {
      kind: 'p',
      line: [w.ageSignals(categoriesOr(model.minors.ageSignals, lang))],
    });
  }
  add('minors', minorBlocks);

  // Contact.
  const contactItems: Line[] = [w.contactProcessor(model.processor)];
  if (model.officer !== null) contactItems.push(w.contactOfficer(model.officer));
  contactItems.push(w.contactCentre(centre));
  add('contact', [
    { kind: 'p', line: [w.contactIntro] },
    { kind: 'ul', items: contactItems },
    { kind: 'p', line: [w.complaints(model.rights.complaintDeadline)] },
  ]);

  // Changes.
  const changeBlocks: Block[] = [
    {
      kind: 'p',
      line: [version === undefined ? w.draftVersion : w.version(version.number, dateOf(version.publishedAt))],
    },
  ];
  if (version?.requiresReconsent === true) changeBlocks.push({ kind: 'p', line: [strong(w.reconsent)] });
  changeBlocks.push(...w.changes.map((x): Block => ({ kind: 'p', line: [x] })));
  changeBlocks.push({ kind: 'p', line: [w.fingerprint(model.fingerprint.slice(0, 16))], note: true });
  add('changes', changeBlocks);

  return {
    lang,
    title: w.title(model.processor.name),
    meta: [version === undefined ? w.draft : w.published(version.number, dateOf(version.publishedAt))],
    intro: [{ kind: 'p', line: w.intro(model.processor.name) }],
    tocLabel: w.toc,
    sections,
  };
}

/** `出生日期或身份证号码` / `date of birth or ID card number`. */
function categoriesOr(cs: readonly Category[], lang: PolicyLang): string {
  const labels = cs.map((c) => categoryLabel(c, lang));
  return labels.join(lang === 'zh-CN' ? '或' : ' or ');
}

function capitaliseFor(lang: PolicyLang, text: string): string {
  return lang === 'en' && text.length > 0 ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** Han script: a note written in Chinese goes into the zh-CN policy, any other into the en one. */
const HAN = /\p{Script=Han}/u;

function slug(id: string): string {
  const s = id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s === '' ? 'x' : s;
}

// --- writers -------------------------------------------------------------------------------------

function htmlInline(x: Inline): string {
  if (typeof x === 'string') return escapeHtml(x);
  if ('strong' in x) return `<strong>${escapeHtml(x.strong)}</strong>`;
  return isSafeHref(x.href)
    ? `<a href="${escapeHtml(x.href)}">${escapeHtml(x.text)}</a>`
    : escapeHtml(x.text);
}

function htmlLine(line: Line): string {
  return line.map(htmlInline).join('');
}

function htmlBlock(block: Block): string {
  switch (block.kind) {
    case 'p':
      return block.note === true
        ? `<p class="note">${htmlLine(block.line)}</p>`
        : `<p>${htmlLine(block.line)}</p>`;
    case 'ul':
      return `<ul>\n${block.items.map((i) => `<li>${htmlLine(i)}</li>`).join('\n')}\n</ul>`;
    case 'h3':
      return block.id === undefined
        ? `<h3>${escapeHtml(block.text)}</h3>`
        : `<h3 id="${escapeHtml(block.id)}">${escapeHtml(block.text)}</h3>`;
    case 'table': {
      const head = block.head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
      const rows = block.rows
        .map(
          (row) =>
            `<tr>${row.map((cell, i) => (i === 0 ? `<th scope="row">${htmlLine(cell)}</th>` : `<td>${htmlLine(cell)}</td>`)).join('')}</tr>`,
        )
        .join('\n');
      return `<div class="scroll" role="region" aria-label="${escapeHtml(block.caption)}" tabindex="0">\n<table>\n<caption>${escapeHtml(block.caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>\n</div>`;
    }
  }
}

function writeHtml(doc: PolicyDocument): string {
  const out: string[] = [];
  out.push(`<article class="policy" lang="${doc.lang}">`);
  out.push(
    `<header>\n<h1>${escapeHtml(doc.title)}</h1>\n<p class="meta">${htmlLine(doc.meta)}</p>\n</header>`,
  );
  out.push(...doc.intro.map(htmlBlock));
  out.push(
    `<nav aria-label="${escapeHtml(doc.tocLabel)}">\n<ol class="toc">\n${doc.sections
      .map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`)
      .join('\n')}\n</ol>\n</nav>`,
  );
  for (const s of doc.sections) {
    out.push(`<section aria-labelledby="${s.id}">`);
    out.push(`<h2 id="${s.id}">${escapeHtml(s.title)}</h2>`);
    out.push(...s.blocks.map(htmlBlock));
    out.push('</section>');
  }
  out.push('</article>');
  return `${out.join('\n')}\n`;
}

function mdInline(x: Inline): string {
  if (typeof x === 'string') return escapeMarkdown(x);
  if ('strong' in x) {
    // CommonMark only opens and closes `**` next to punctuation when the other side is a space,
    // which Chinese text rarely has: leading and trailing punctuation and spaces move outside.
    const match = /^([\s\p{P}]*)(.*?)([\s\p{P}]*)$/su.exec(x.strong);
    const [, before = '', body = '', after = ''] = match ?? [];
    return body === ''
      ? escapeMarkdown(x.strong)
      : `${escapeMarkdown(before)}**${escapeMarkdown(body)}**${escapeMarkdown(after)}`;
  }
  return isSafeHref(x.href) ? `[${escapeMarkdown(x.text)}](${x.href})` : escapeMarkdown(x.text);
}

function mdLine(line: Line): string {
  return escapeMarkdownLineStart(line.map(mdInline).join(''));
}

function mdBlock(block: Block): string {
  switch (block.kind) {
    case 'p':
      return block.note === true ? `<small>${mdLine(block.line)}</small>` : mdLine(block.line);
    case 'ul':
      return block.items.map((i) => `- ${mdLine(i)}`).join('\n');
    case 'h3':
      return block.id === undefined
        ? `### ${escapeMarkdown(block.text)}`
        : `### <a id="${escapeHtml(block.id)}"></a>${escapeMarkdown(block.text)}`;
    case 'table': {
      const cell = (line: Line): string => line.map(mdInline).join('');
      return [
        `| ${block.head.map(escapeMarkdown).join(' | ')} |`,
        `| ${block.head.map(() => '---').join(' | ')} |`,
        ...block.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
      ].join('\n');
    }
  }
}

function writeMarkdown(doc: PolicyDocument): string {
  const out: string[] = [];
  out.push(`# ${escapeMarkdown(doc.title)}`);
  out.push(`*${mdLine(doc.meta)}*`);
  out.push(...doc.intro.map(mdBlock));
  out.push(doc.sections.map((s) => `- [${escapeMarkdown(s.title)}](#${s.id})`).join('\n'));
  for (const s of doc.sections) {
    out.push(`## <a id="${s.id}"></a>${escapeMarkdown(s.title)}`);
    out.push(...s.blocks.map(mdBlock));
  }
  return `${out.join('\n\n')}\n`;
}

// --- public API ----------------------------------------------------------------------------------

/** The policy as Markdown, or as an HTML fragment (an `<article>`) to place in a page. */
export function renderPolicy(model: PolicyModel, options: RenderPolicyOptions): string {
  const doc = buildDocument(model, options.lang, options.version);
  return options.format === 'html' ? writeHtml(doc) : writeMarkdown(doc);
}

/** The policy's title in a language, e.g. for a page title or a notice. */
export function policyTitle(model: PolicyModel, lang: PolicyLang): string {
  return WORDS[lang].title(model.processor.name);
}

const STYLE = `:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#fff;--muted:#5f5f5f;--line:#d9d9d9;--link:#0b57d0}
@media (prefers-color-scheme:dark){:root{--fg:#ececec;--bg:#141414;--muted:#b0b0b0;--line:#3a3a3a;--link:#8ab4f8}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.7 system-ui,-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif;-webkit-text-size-adjust:100%;overflow-wrap:anywhere}
.policy{max-width:44rem;margin:0 auto;padding:1rem 1rem 3rem}
h1{font-size:1.5rem;line-height:1.3;margin:.5rem 0}
h2{font-size:1.2rem;line-height:1.4;margin:2rem 0 .5rem;padding-top:1rem;border-top:1px solid var(--line)}
h3{font-size:1.05rem;margin:1.5rem 0 .25rem}
a{color:var(--link)}
:focus-visible{outline:2px solid var(--link);outline-offset:2px}
ul,ol{padding-left:1.25rem}
li{margin:.25rem 0}
.meta,.note{color:var(--muted);font-size:.875rem}
.toc{list-style:none;margin:0;padding:.5rem .75rem;border:1px solid var(--line);border-radius:.5rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9375rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid var(--line);padding:.375rem .5rem;text-align:left;vertical-align:top;font-weight:normal}
thead th{font-weight:600}
td:last-child,th:last-child{white-space:nowrap}`;

/**
 * The policy as a complete, self-contained HTML page: `<!doctype html>`, `<html lang>`, a
 * viewport for phones and inline CSS; no scripts and no external resources.
 */
export function renderPolicyDocument(
  model: PolicyModel,
  options: Omit<RenderPolicyOptions, 'format'>,
): string {
  const body = renderPolicy(model, { ...options, format: 'html' });
  return `<!doctype html>
<html lang="${options.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(policyTitle(model, options.lang))}</title>
<style>
${STYLE}
</style>
</head>
<body>
<main>
${body}</main>
</body>
</html>
`;
}
