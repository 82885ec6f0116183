/**
 * The privacy centre's pages (practice 4): server-rendered, phone-first, no script needed. Each
 * page is one small HTML document with its CSS inline; every string comes from src/web/i18n.ts.
 */
import type { Purpose } from '../domain/datamap/schema.js';
import type { ConsentHistoryItem, SubjectConsents } from '../services/consent.js';
import type { NoticeRecord, PrivacyRequestRecord } from '../store/privacy.js';
import { html, raw, type SafeHtml } from './html.js';
import { translator, type Lang, type MessageKey, type Translate } from './i18n.js';

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.6 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#1b1b1b;background:#f6f6f4}
header{background:#1f3a5f;color:#fff;padding:.75rem 1rem}
header a{color:#fff}
.top{display:flex;justify-content:space-between;align-items:center;gap:.5rem}
.brand{font-weight:700;text-decoration:none;font-size:1.1rem}
nav ul{list-style:none;margin:.5rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
main{max-width:42rem;margin:0 auto;padding:1rem}
section,article{background:#fff;border:1px solid #d9d9d6;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
h1{font-size:1.4rem;margin:.25rem 0 1rem}
h2{font-size:1.15rem;margin:0 0 .5rem}
h3{font-size:1rem;margin:.75rem 0 .25rem}
a{color:#0b4f9c}
.muted{color:#4a4a4a;font-size:.9rem}
.flash{background:#e7f3e9;border-color:#2e7d32}
.error{background:#fdecea;border-color:#b3261e}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
input[type=text],input[type=tel],input[type=email],select{width:100%;font:inherit;padding:.6rem;border:1px solid #767676;border-radius:.4rem;background:#fff}
fieldset{border:0;padding:0;margin:0}
legend{font-weight:600}
.radio{display:inline-flex;gap:.35rem;align-items:center;margin-right:1rem;font-weight:400}
button{white-space:nowrap;font:inherit;min-height:2.75rem;padding:.5rem 1rem;border-radius:.4rem;border:1px solid #1f3a5f;background:#1f3a5f;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f3a5f}
.purpose{display:flex;justify-content:space-between;align-items:flex-start;gap:1rem;border-top:1px solid #e4e4e1;padding:.75rem 0}
.purpose:first-of-type{border-top:0}
.purpose.stack{flex-direction:column;align-items:stretch}
fieldset select,fieldset input[type=text]{margin-bottom:.25rem}
.purpose>form,.purpose>.state{flex-shrink:0}
.state{display:inline-block;white-space:nowrap;font-size:.85rem;padding:0 .5rem;border-radius:1rem;background:#eee;color:#1b1b1b}
.state.on{background:#d8ecdb;color:#14401a}
table{width:100%;border-collapse:collapse;font-size:.9rem}
th,td{text-align:left;padding:.35rem .25rem;border-bottom:1px solid #e4e4e1;vertical-align:top}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f4;padding:.5rem;border-radius:.3rem;font-size:.85rem}
.policy h1{font-size:1.2rem}.policy h2{font-size:1.05rem}
.policy section{border:0;padding:0;margin:0 0 1rem;background:none}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;color:#0b4f9c;padding:.25rem .5rem}
footer{max-width:42rem;margin:0 auto;padding:0 1rem 2rem}
`
  .replace(/\n/g, '')
  .trim();

export interface PageContext {
  readonly lang: Lang;
  /** The path of this page, for the language switch. */
  readonly path: string;
  readonly signedIn: boolean;
  /** The session's CSRF token, for the sign-out form. */
  readonly csrf?: string | undefined;
  readonly controller: { readonly name: string; readonly contact: string };
}

function layout(ctx: PageContext, title: string, body: SafeHtml): string {
  const t = translator(ctx.lang);
  const other: Lang = ctx.lang === 'zh-CN' ? 'en' : 'zh-CN';
  const sep = ctx.path.includes('?') ? '&' : '?';
  const link = (href: string, key: MessageKey) => html`<li><a href="${href}">${t(key)}</a></li>`;
  return `<!doctype html>${
    html`<html lang="${ctx.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${title} · ${t('site.title')}</title>
        <style>
          ${raw(CSS)}
        </style>
        <link
          rel="alternate"
          type="application/atom+xml"
          href="/privacy/notices.atom?lang=${ctx.lang}"
          title="${t('nav.notices')}"
        />
      </head>
      <body>
        <a class="skip" href="#main">${t('site.skip')}</a>
        <header>
          <div class="top">
            <a class="brand" href="/privacy">${t('site.title')}</a
            ><a
              href="${ctx.path}${sep}lang=${other}"
              lang="${other}"
              hreflang="${other}"
              aria-label="${t('lang.switchLabel')}: ${MESSAGES_SWITCH[other]}"
              >${t('lang.switch')}</a
            >
          </div>
          <nav aria-label="${t('nav.label')}">
            <ul>
              ${[
                link('/privacy', 'nav.home'),
                link('/privacy/versions', 'nav.versions'),
                link('/privacy/notices', 'nav.notices'),
                ctx.signedIn
                  ? link('/privacy/account', 'nav.account')
                  : link('/privacy/sign-in', 'nav.signIn'),
              ]}
            </ul>
          </nav>
        </header>
        <main id="main">
          ${body}${
            ctx.signedIn && ctx.csrf !== undefined
              ? html`<form method="post" action="/privacy/sign-out">
                  <input type="hidden" name="csrf" value="${ctx.csrf}" /><button
                    class="secondary"
                    type="submit"
                  >
                    ${t('nav.signOut')}
                  </button>
                </form>`
              : ''
          }
        </main>
        <footer>
          <p class="muted">
            ${t('footer.controller', { name: ctx.controller.name, contact: ctx.controller.contact })}
          </p>
        </footer>
      </body>
    </html>`.value
  }`;
}

const MESSAGES_SWITCH: Readonly<Record<Lang, string>> = { 'zh-CN': '中文', en: 'English' };

function date(lang: Lang, iso: string): string {
  return new Date(iso).toLocaleString(lang === 'zh-CN' ? 'zh-CN' : 'en-GB', {
    timeZone: 'Asia/Shanghai',
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}

function noticeList(lang: Lang, notices: readonly NoticeRecord[], t: Translate): SafeHtml {
  if (notices.length === 0) return html`<p>${t('notices.none')}</p>`;
  return html`${notices.map(
    (n) =>
      html`<article id="n-${n.id}">
        <h3>${n.title[lang]}</h3>
        <p class="muted"><time datetime="${n.publishedAt}">${date(lang, n.publishedAt)}</time></p>
        <p>${n.body[lang]}</p>
      </article>`,
  )}`;
}

export function homePage(
  ctx: PageContext,
  data: {
    readonly policyHtml: string | undefined;
    readonly version: { readonly number: number; readonly publishedAt: string } | undefined;
    readonly notices: readonly NoticeRecord[];
  },
): string {
  const t = translator(ctx.lang);
  return layout(
    ctx,
    t('nav.home'),
    html`<h1>${t('site.title')}</h1>
      <p>${t('home.intro')}</p>
      <section>
        <p>${t('home.manage')}</p>
        <p>
          <a href="${ctx.signedIn ? '/privacy/account' : '/privacy/sign-in'}"
            >${t(ctx.signedIn ? 'nav.account' : 'nav.signIn')}</a
          >
        </p>
      </section>
      <section aria-labelledby="latest">
        <h2 id="latest">${t('home.latestNotices')}</h2>
        ${noticeList(ctx.lang, data.notices.slice(0, 3), t)}
        <p><a href="/privacy/notices">${t('nav.notices')}</a></p>
      </section>
      <section aria-labelledby="policy" class="policy">
        <h2 id="policy">${t('home.policyHeading')}</h2>
        ${
          data.version === undefined
            ? html`<p>${t('home.noPolicy')}</p>`
            : html`<p class="muted">
                  ${t('policy.version', { n: data.version.number, date: date(ctx.lang, data.version.publishedAt) })}
                  · <a href="/privacy/versions">${t('nav.versions')}</a>
                </p>
                ${raw(data.policyHtml ?? '')}`
        }
      </section>`,
  );
}

export function versionsPage(
  ctx: PageContext,
  versions: readonly {
    readonly number: number;
    readonly publishedAt: string;
    readonly requiresReconsent: boolean;
    readonly diff: string | undefined;
  }[],
): string {
  const t = translator(ctx.lang);
  return layout(
    ctx,
    t('nav.versions'),
    html`<h1>${t('versions.heading')}</h1>
      <p>${t('versions.intro')}</p>
      ${
        versions.length === 0
          ? html`<p>${t('home.noPolicy')}</p>`
          : versions.map(
              (v) =>
                html`<section aria-labelledby="v${v.number}">
                  <h2 id="v${v.number}">
                    ${t('policy.version', { n: v.number, date: date(ctx.lang, v.publishedAt) })}
                  </h2>
                  ${v.requiresReconsent ? html`<p><strong>${t('versions.reconsent')}</strong></p>` : ''}${
                    v.diff === undefined
                      ? html`<p>${t('versions.first')}</p>`
                      : html`<h3>${t('versions.changes', { n: v.number - 1 })}</h3>
                          <pre>${v.diff}</pre>`
                  }
                  <p>
                    <a href="/privacy/policy?version=${v.number}&amp;lang=${ctx.lang}"
                      >${t('versions.read')}</a
                    >
                  </p>
                </section>`,
            )
      }`,
  );
}

export function noticesPage(ctx: PageContext, notices: readonly NoticeRecord[]): string {
  const t = translator(ctx.lang);
  return layout(
    ctx,
    t('nav.notices'),
    html`<h1>${t('notices.heading')}</h1>
      <p><a href="/privacy/notices.atom?lang=${ctx.lang}">${t('notices.feed')}</a></p>
      ${noticeList(ctx.lang, notices, t)}`,
  );
}

export function signInPage(
  ctx: PageContext,
  state: { readonly error?: MessageKey | undefined; readonly kind?: 'phone' | 'email' },
): string {
  const t = translator(ctx.lang);
  const kind = state.kind ?? 'phone';
  return layout(
    ctx,
    t('nav.signIn'),
    html`<h1>${t('signIn.heading')}</h1>
      ${state.error ? html`<section class="error" role="alert"><p>${t(state.error)}</p></section>` : ''}
      <section>
        <p>${t('signIn.intro')}</p>
        <form method="post" action="/privacy/sign-in">
          <fieldset>
            <legend>${t('signIn.kind')}</legend>
            <label class="radio"
              ><input type="radio" name="kind" value="phone" ${raw(kind === 'phone' ? ' checked' : '')} />
              ${t('signIn.phone')}</label
            ><label class="radio"
              ><input type="radio" name="kind" value="email" ${raw(kind === 'email' ? ' checked' : '')} />
              ${t('signIn.email')}</label
            >
          </fieldset>
          <label for="identity">${t('signIn.identity')}</label
          ><input
            id="identity"
            name="identity"
            type="text"
            inputmode="email"
            autocomplete="username"
            required
            maxlength="254"
          /><input type="hidden" name="lang" value="${ctx.lang}" />
          <p><button type="submit">${t('signIn.send')}</button></p>
        </form>
      </section>`,
  );
}

export function codePage(
  ctx: PageContext,
  state: { readonly error?: MessageKey | undefined; readonly minutes: number },
): string {
  const t = translator(ctx.lang);
  return layout(
    ctx,
    t('nav.signIn'),
    html`<h1>${t('signIn.heading')}</h1>
      ${
        state.error
          ? html`<section class="error" role="alert"><p>${t(state.error)}</p></section>`
          : html`<section class="flash" role="status">
              <p>${t('signIn.sent', { minutes: state.minutes })}</p>
            </section>`
      }
      <section>
        <form method="post" action="/privacy/sign-in/code">
          <label for="code">${t('signIn.code')}</label
          ><input
            id="code"
            name="code"
            type="text"
            inputmode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9]{6}"
            maxlength="6"
            required
          />
          <p><button type="submit">${t('signIn.verify')}</button></p>
        </form>
        <p><a href="/privacy/sign-in">${t('signIn.again')}</a></p>
      </section>`,
  );
}

export interface AccountData {
  readonly purposes: readonly Purpose[];
  readonly consents: SubjectConsents;
  readonly requests: readonly PrivacyRequestRecord[];
  readonly flash?: MessageKey | undefined;
  readonly flashParams?: Readonly<Record<string, string>>;
}

function purposeName(lang: Lang, purposes: readonly Purpose[], id: string): string {
  return purposes.find((p) => p.id === id)?.name[lang] ?? id;
}

function receiptRow(lang: Lang, t: Translate, purposes: readonly Purpose[], h: ConsentHistoryItem): SafeHtml {
  return html`<tr>
    <td><time datetime="${h.at}">${date(lang, h.at)}</time></td>
    <td>
      ${purposeName(lang, purposes, h.purpose)}${h.kind === 'purpose' ? '' : html` (${h.kind}${h.recipient ? `: ${h.recipient}` : ''})`}
    </td>
    <td>${t(`account.action.${h.action}`)}</td>
    <td>${h.policyVersion}</td>
    <td>
      <a href="/privacy/account/receipts/${h.receiptId}" download="consent-receipt-${h.receiptId}.jws"
        >${t('account.download')}<span class="muted"> (${h.receiptId.slice(-6)})</span></a
      >
    </td>
  </tr>`;
}

/**
 * R3 (PIPL Art. 31): for a child under 14 a parent or guardian gives every consent. They say who
 * they are to the child, give their name (the ledger keeps only a keyed hash of it) and confirm
 * they act for the child; the server refuses a grant for a minor without all three.
 */
function guardianFields(t: Translate, id: string): SafeHtml {
  return html`<fieldset>
    <legend>${t('guardian.legend')}</legend>
    <label for="${id}-rel">${t('guardian.relationship')}</label>
    <select id="${id}-rel" name="guardianRelationship" required>
      <option value="parent">${t('guardian.parent')}</option>
      <option value="legal-guardian">${t('guardian.legalGuardian')}</option>
    </select>
    <label for="${id}-name">${t('guardian.name')}</label>
    <input
      type="text"
      id="${id}-name"
      name="guardianName"
      required
      maxlength="50"
      autocomplete="off"
      aria-describedby="${id}-hint"
    />
    <p class="muted" id="${id}-hint">${t('guardian.nameHint')}</p>
    <label class="radio"
      ><input type="checkbox" name="guardianConfirm" value="yes" required />${t('guardian.confirm')}</label
    >
  </fieldset>`;
}

export function accountPage(ctx: PageContext, data: AccountData): string {
  const t = translator(ctx.lang);
  const csrf = html`<input type="hidden" name="csrf" value="${ctx.csrf ?? ''}" />`;
  const statusOf = (id: string) => data.consents.purposes.find((p) => p.purpose === id);
  const purposes = data.purposes.map((p) => {
    const name = p.name[ctx.lang];
    const description = p.description?.[ctx.lang];
    if (p.legalBasis !== 'consent') {
      return html`<div class="purpose">
        <div>
          <h3>${name}</h3>
          ${description ? html`<p>${description}</p>` : ''}
          <p class="muted">${t('account.necessaryNote')}</p>
        </div>
        <span class="state">${t('account.necessary')}</span>
      </div>`;
    }
    const status = statusOf(p.id);
    const on = status?.granted === true;
    const reconsent = status?.needsReconsent === true;
    const minor = data.consents.minor;
    // A minor's PI is sensitive (PIPL Art. 28): once the purpose is granted, reads need the
    // guardian's separate consent too, asked for next.
    const sensitive = !(minor && status !== undefined && on)
      ? ''
      : status.sensitive
        ? html`<p><span class="state on">${t('guardian.sensitiveOn')}</span></p>`
        : html`<p><span class="state">${t('guardian.sensitiveOff')}</span></p>
            <form method="post" action="/privacy/account/consents">
              ${csrf}<input type="hidden" name="purpose" value="${p.id}" /><input
                type="hidden"
                name="kind"
                value="sensitive_pi"
              /><input type="hidden" name="action" value="grant" />
              <p>${t('guardian.sensitive')}</p>
              ${guardianFields(t, `s-${p.id}`)}
              <button type="submit">${t('guardian.sensitiveGrant')}</button>
            </form>`;
    return html`<div class="purpose${minor ? ' stack' : ''}" data-purpose="${p.id}">
      <div>
        <h3 id="p-${p.id}">${name}</h3>
        ${description ? html`<p>${description}</p>` : ''}
        <p>
          <span class="state${on ? ' on' : ''}"
            >${on ? t('account.on') : reconsent ? t('account.reconsent') : t('account.off')}</span
          >
        </p>
        ${sensitive}
      </div>
      <form method="post" action="/privacy/account/consents">
        ${csrf}<input type="hidden" name="purpose" value="${p.id}" /><input
          type="hidden"
          name="action"
          value="${on ? 'withdraw' : 'grant'}"
        />${minor && !on ? guardianFields(t, `g-${p.id}`) : ''}<button
          type="submit"
          role="switch"
          aria-checked="${on ? 'true' : 'false'}"
          aria-describedby="p-${p.id}"
          ${raw(on ? ' class="secondary"' : '')}
        >
          ${on ? t('account.withdraw') : t('account.grant')}
        </button>
      </form>
    </div>`;
  });
  const separate = data.consents.current.filter((c) => c.kind !== 'purpose');
  const history = [...data.consents.history].reverse();
  return layout(
    ctx,
    t('account.heading'),
    html`<h1>${t('account.heading')}</h1>
      ${
        data.flash
          ? html`<section class="flash" role="status">
              <p>${t(data.flash, data.flashParams ?? {})}</p>
            </section>`
          : ''
      }
      <section aria-labelledby="consents">
        <h2 id="consents">${t('account.consents')}</h2>
        <p>${t('account.consentsIntro')}</p>
        ${data.consents.minor ? html`<p class="flash" role="note">${t('guardian.notice')}</p>` : ''}
        ${purposes}
      </section>
      <section aria-labelledby="separate">
        <h2 id="separate">${t('account.separate')}</h2>
        <p>${t('account.separateIntro')}</p>
        ${
          separate.length === 0
            ? html`<p>${t('account.separateNone')}</p>`
            : html`<ul>
                ${separate.map(
                  (c) =>
                    html`<li>
                      ${purposeName(ctx.lang, data.purposes, c.purpose)} ·
                      ${c.kind}${c.recipient ? ` · ${c.recipient}` : ''}:
                      ${c.effective ? t('account.on') : t('account.off')}${
                        c.state === 'grant'
                          ? html` <form method="post" action="/privacy/account/consents">
                              ${csrf}<input type="hidden" name="purpose" value="${c.purpose}" /><input
                                type="hidden"
                                name="kind"
                                value="${c.kind}"
                              />${c.recipient ? html`<input type="hidden" name="recipient" value="${c.recipient}" />` : ''}<input
                                type="hidden"
                                name="action"
                                value="withdraw"
                              /><button class="secondary" type="submit">${t('account.withdraw')}</button>
                            </form>`
                          : ''
                      }
                    </li>`,
                )}
              </ul>`
        }
      </section>
      <section aria-labelledby="history">
        <h2 id="history">${t('account.history')}</h2>
        ${
          history.length === 0
            ? html`<p>${t('account.historyNone')}</p>`
            : html`<div style="overflow-x:auto">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">${t('account.col.time')}</th>
                      <th scope="col">${t('account.col.purpose')}</th>
                      <th scope="col">${t('account.col.action')}</th>
                      <th scope="col">${t('account.col.version')}</th>
                      <th scope="col">${t('account.col.receipt')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${history.map((h) => receiptRow(ctx.lang, t, data.purposes, h))}
                  </tbody>
                </table>
              </div>`
        }
      </section>
      <section aria-labelledby="requests">
        <h2 id="requests">${t('account.requests')}</h2>
        <p>${t('account.requestsIntro')}</p>
        <form method="post" action="/privacy/account/requests">
          ${csrf}<label for="kind">${t('account.requestKind')}</label
          ><select id="kind" name="kind">
            <option value="copy">${t('account.request.copy')}</option>
            <option value="correction">${t('account.request.correction')}</option>
            <option value="deletion">${t('account.request.deletion')}</option>
          </select>
          <p><button type="submit">${t('account.requestSubmit')}</button></p>
        </form>
        ${
          data.requests.length === 0
            ? html`<p>${t('account.requestsNone')}</p>`
            : html`<ul>
                ${data.requests.map(
                  (r) =>
                    html`<li>
                      <time datetime="${r.receivedAt}">${date(ctx.lang, r.receivedAt)}</time> ·
                      ${t(`account.request.${r.kind}`)} · ${t(`account.status.${r.status}`)} ·
                      <span class="muted">${r.id}</span>
                    </li>`,
                )}
              </ul>`
        }
      </section>`,
  );
}

/** The notices as an Atom feed (RFC 4287). */
export function noticesAtom(
  lang: Lang,
  base: string,
  controller: { readonly name: string },
  notices: readonly NoticeRecord[],
): string {
  const t = translator(lang);
  const updated = notices[0]?.publishedAt ?? new Date(0).toISOString();
  return `<?xml version="1.0" encoding="utf-8"?>\n${
    html`<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${lang}"
      ><title>${controller.name} · ${t('notices.heading')}</title
      ><id>${base}/privacy/notices.atom?lang=${lang}</id
      ><link rel="self" href="${base}/privacy/notices.atom?lang=${lang}" /><link
        rel="alternate"
        type="text/html"
        href="${base}/privacy/notices?lang=${lang}"
      /><updated>${updated}</updated><author><name>${controller.name}</name></author
      >${notices.map(
        (n) =>
          html`<entry
            ><id>urn:uuid:${n.id}</id><title>${n.title[lang]}</title><updated>${n.publishedAt}</updated
            ><published>${n.publishedAt}</published
            ><link
              rel="alternate"
              type="text/html"
              href="${base}/privacy/notices?lang=${lang}#n-${n.id}"
            /><content type="text">${n.body[lang]}</content></entry
          >`,
      )}</feed
    >`.value
  }`;
}

/** What a failed form post or page shows a person, by HTTP status; the code is for the merchant's staff. */
const ERROR_MESSAGES: Readonly<Record<number, MessageKey>> = {
  400: 'error.invalid',
  401: 'error.session',
  403: 'error.forbidden',
  404: 'error.notFound',
  422: 'error.invalid',
  429: 'error.rateLimited',
};

/**
 * The page a browser gets instead of problem+json when a privacy-centre request fails: what
 * happened in plain words, the stable code and request id (nothing the customer sent), and the
 * way on (sign in again after a lapsed session).
 */
export function errorPage(
  ctx: PageContext,
  problem: { readonly status: number; readonly code: string; readonly requestId: string },
): string {
  const t = translator(ctx.lang);
  const message =
    problem.code === 'ERR_CONSENT_GUARDIAN_REQUIRED'
      ? 'error.guardian'
      : (ERROR_MESSAGES[problem.status] ?? 'error.other');
  const next =
    problem.status === 401
      ? html`<a href="/privacy/sign-in">${t('nav.signIn')}</a>`
      : html`<a href="/privacy">${t('error.back')}</a>`;
  return layout(
    ctx,
    t('error.heading'),
    html`<section class="error" role="alert">
      <h1>${t('error.heading')}</h1>
      <p>${t(message)}</p>
      <p>${next}</p>
      <p class="muted">${t('error.reference', { code: problem.code, id: problem.requestId })}</p>
    </section>`,
  );
}
