/**
 * The privacy centre's words in both languages. `zh-CN` is the default; `en` must have every key
 * (the type says so, and test/web/i18n.test.ts checks both dictionaries at run time too).
 */

export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const zh = {
  'site.title': '隐私中心',
  'site.skip': '跳到正文',
  'nav.home': '首页',
  'nav.policy': '隐私政策',
  'nav.versions': '版本与变更',
  'nav.notices': '公告与更新',
  'nav.account': '我的隐私',
  'nav.signIn': '登录',
  'nav.signOut': '退出登录',
  'nav.label': '隐私中心导航',
  'lang.switch': 'English',
  'lang.switchLabel': '切换语言',
  'home.intro': '在这里阅读我们的隐私政策、查看公告，并管理您的同意和个人信息请求。',
  'home.policyHeading': '当前隐私政策',
  'home.noPolicy': '隐私政策尚未发布。',
  'home.latestNotices': '最新公告',
  'home.manage': '登录后可以管理同意、下载同意凭证、申请复制、更正或删除您的个人信息。',
  'policy.version': '版本 {n}，发布于 {date}',
  'versions.heading': '隐私政策的版本与变更',
  'versions.intro': '每次政策变更都会生成新版本；以下列出每个版本相对上一版本的变化。',
  'versions.read': '阅读此版本',
  'versions.first': '首个版本',
  'versions.reconsent': '此版本扩大了基于同意的处理，需要您重新同意。',
  'versions.changes': '相对版本 {n} 的变化',
  'notices.heading': '公告与更新',
  'notices.none': '暂无公告。',
  'notices.feed': '订阅（Atom）',
  'signIn.heading': '登录隐私中心',
  'signIn.intro': '我们会向您在本店留下的手机号或邮箱发送一次性验证码。',
  'signIn.kind': '接收方式',
  'signIn.phone': '手机号',
  'signIn.email': '邮箱',
  'signIn.identity': '手机号或邮箱',
  'signIn.send': '发送验证码',
  'signIn.sent': '如果该手机号或邮箱在本店有记录，我们已发送验证码，{minutes} 分钟内有效。',
  'signIn.code': '6 位验证码',
  'signIn.verify': '登录',
  'signIn.again': '重新获取验证码',
  'signIn.codeInvalid': '验证码不正确或已过期，请重试或重新获取。',
  'signIn.rateLimited': '请求过于频繁，请稍后再试。',
  'signIn.noChallenge': '请先获取验证码。',
  'account.heading': '我的隐私',
  'account.consents': '同意管理',
  'account.consentsIntro': '基于同意的用途可以随时开启或撤回；撤回立即对之后的处理生效，不影响您购物。',
  'account.on': '已同意',
  'account.off': '未同意',
  'account.reconsent': '政策已变更，需要重新同意',
  'account.grant': '同意',
  'account.withdraw': '撤回同意',
  'account.necessary': '必要用途',
  'account.necessaryNote':
    '此用途为履行合同或法定义务所必需，不以同意为前提，因此无法关闭（《个人信息保护法》第十三条、第十六条）。',
  'account.separate': '单独同意',
  'account.separateIntro':
    '向第三方提供、公开、处理敏感个人信息或向境外提供个人信息时，我们会另行征得您的单独同意，与接受隐私政策分开记录（《个人信息保护法》第二十三、二十五、二十九、三十九条）。',
  'account.separateNone': '您目前没有单独同意记录。',
  'account.history': '同意记录与凭证',
  'account.historyNone': '暂无同意记录。',
  'account.col.time': '时间',
  'account.col.purpose': '用途',
  'account.col.action': '操作',
  'account.col.version': '政策版本',
  'account.col.receipt': '凭证',
  'account.download': '下载凭证',
  'account.action.grant': '同意',
  'account.action.withdraw': '撤回',
  'account.action.refuse': '拒绝',
  'account.saved': '已记录您的选择，并签发了凭证。',
  'account.requests': '个人信息请求',
  'account.requestsIntro': '您可以申请获取个人信息副本、更正或删除。我们会在法定期限内处理并答复。',
  'account.requestKind': '请求类型',
  'account.request.copy': '获取副本',
  'account.request.correction': '更正',
  'account.request.deletion': '删除',
  'account.requestSubmit': '提交请求',
  'account.requestReceived': '已收到您的请求，编号 {id}。',
  'account.requestsNone': '暂无请求。',
  'account.status.received': '已收到',
  'account.signedOut': '您已退出登录。',
  'footer.controller': '个人信息处理者：{name}（{contact}）',
} as const;

export type MessageKey = keyof typeof zh;

const en: Readonly<Record<MessageKey, string>> = {
  'site.title': 'Privacy centre',
  'site.skip': 'Skip to content',
  'nav.home': 'Home',
  'nav.policy': 'Privacy policy',
  'nav.versions': 'Versions and changes',
  'nav.notices': 'Notices and updates',
  'nav.account': 'My privacy',
  'nav.signIn': 'Sign in',
  'nav.signOut': 'Sign out',
  'nav.label': 'Privacy centre navigation',
  'lang.switch': '中文',
  'lang.switchLabel': 'Switch language',
  'home.intro':
    'Read our privacy policy and notices, and manage your consents and requests about your personal information.',
  'home.policyHeading': 'Current privacy policy',
  'home.noPolicy': 'The privacy policy has not been published yet.',
  'home.latestNotices': 'Latest notices',
  'home.manage':
    'Sign in to manage your consents, download consent receipts, and ask for a copy, a correction or deletion.',
  'policy.version': 'Version {n}, published {date}',
  'versions.heading': 'Privacy policy versions and changes',
  'versions.intro': 'Every change to the policy makes a new version; here is what each version changed.',
  'versions.read': 'Read this version',
  'versions.first': 'First version',
  'versions.reconsent': 'This version widened processing based on consent and asks for your consent again.',
  'versions.changes': 'Changes since version {n}',
  'notices.heading': 'Notices and updates',
  'notices.none': 'No notices yet.',
  'notices.feed': 'Subscribe (Atom)',
  'signIn.heading': 'Sign in to the privacy centre',
  'signIn.intro': 'We send a one-time code to the phone or email you gave this store.',
  'signIn.kind': 'Send the code to',
  'signIn.phone': 'Phone',
  'signIn.email': 'Email',
  'signIn.identity': 'Phone number or email',
  'signIn.send': 'Send code',
  'signIn.sent':
    'If this phone or email is on record with us, we have sent a code. It is valid for {minutes} minutes.',
  'signIn.code': '6-digit code',
  'signIn.verify': 'Sign in',
  'signIn.again': 'Get a new code',
  'signIn.codeInvalid': 'The code is wrong or has expired. Try again or get a new code.',
  'signIn.rateLimited': 'Too many requests. Please try again later.',
  'signIn.noChallenge': 'Ask for a code first.',
  'account.heading': 'My privacy',
  'account.consents': 'Your consents',
  'account.consentsIntro':
    'Purposes based on consent can be switched on or withdrawn at any time; a withdrawal applies from now on and never affects your purchases.',
  'account.on': 'Consented',
  'account.off': 'Not consented',
  'account.reconsent': 'The policy changed: consent again to continue',
  'account.grant': 'Consent',
  'account.withdraw': 'Withdraw consent',
  'account.necessary': 'Necessary',
  'account.necessaryNote':
    'This purpose is necessary to perform your contract or a legal obligation; it does not rest on consent, so it cannot be switched off (PIPL Art. 13, 16).',
  'account.separate': 'Separate consents',
  'account.separateIntro':
    'Before we provide your personal information to a third party, disclose it, process sensitive personal information or send it abroad, we ask for a separate consent, recorded apart from accepting the policy (PIPL Art. 23, 25, 29, 39).',
  'account.separateNone': 'You have no separate consents on record.',
  'account.history': 'Consent history and receipts',
  'account.historyNone': 'No consents on record yet.',
  'account.col.time': 'Time',
  'account.col.purpose': 'Purpose',
  'account.col.action': 'Action',
  'account.col.version': 'Policy version',
  'account.col.receipt': 'Receipt',
  'account.download': 'Download receipt',
  'account.action.grant': 'Granted',
  'account.action.withdraw': 'Withdrawn',
  'account.action.refuse': 'Refused',
  'account.saved': 'Your choice is recorded and a receipt was issued.',
  'account.requests': 'Requests about your personal information',
  'account.requestsIntro':
    'Ask for a copy, a correction or deletion. We answer within the time the law sets.',
  'account.requestKind': 'Kind of request',
  'account.request.copy': 'A copy',
  'account.request.correction': 'A correction',
  'account.request.deletion': 'Deletion',
  'account.requestSubmit': 'Send request',
  'account.requestReceived': 'We have received your request, number {id}.',
  'account.requestsNone': 'No requests yet.',
  'account.status.received': 'Received',
  'account.signedOut': 'You are signed out.',
  'footer.controller': 'Personal information processor: {name} ({contact})',
};

export const MESSAGES: Readonly<Record<Lang, Readonly<Record<MessageKey, string>>>> = { 'zh-CN': zh, en };

export type Translate = (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;

export function translator(lang: Lang): Translate {
  const dict = MESSAGES[lang];
  return (key, params = {}) =>
    dict[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      Object.hasOwn(params, name) ? String(params[name]) : whole,
    );
}

export function isLang(value: unknown): value is Lang {
  return value === 'zh-CN' || value === 'en';
}
