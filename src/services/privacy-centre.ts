import { createHmac, randomBytes, randomInt, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { NotifyConfig, PrivacyCentreConfig, SmsConfig } from '../config/schema.js';
import { normalizeEmail, normalizePhone, type BlindIndexer } from '../crypto/blind-index.js';
import { hashToken } from '../crypto/tokens.js';
import { uuidv7 } from '../crypto/uuid.js';
import { CustodianError } from '../domain/errors.js';
import { processorProblem } from '../domain/datamap/recipients.js';
import type { Recipient } from '../domain/datamap/schema.js';
import { maskEmail, maskPhone } from '../domain/masking.js';
import { normalizeMobile } from '../domain/pii/validators.js';
import { AliyunSms, type AliyunSmsOptions } from '../platforms/aliyun/sms.js';
import type {
  LocalizedText,
  NoticeRecord,
  PrivacyRequestKind,
  PrivacyRequestRecord,
} from '../store/privacy.js';
import type { Repositories, Store } from '../store/store.js';
import { appendAudit } from './audit.js';
import { smtpTransport, type Notifier } from './notify.js';
import type { Principal } from './tokens.js';

/**
 * The customers' privacy centre (docs/privacy-centre.md): sign-in by one-time code, customer
 * sessions, notices from the privacy officer, customers' requests, and the short-lived tokens a
 * merchant's server mints for the `<custodian-consent>` snippet. Codes and session ids are kept
 * only as hashes; an identity only as a keyed hash (for rate limits); nothing here answers
 * differently for an identity that has no customer (no account enumeration).
 */

/** HKDF label of the privacy centre's HMAC key (code hashes, requester hashes, CSRF, embed tokens). */
export const PRIVACY_CENTRE_KEY_INFO = 'custodian/privacy-centre/v1';

export type SignInKind = 'phone' | 'email';

/** The customer, as the consent ledger and the audit log see them acting in the privacy centre. */
export const CUSTOMER_PRINCIPAL: Principal = {
  kind: 'token',
  id: 'privacy-centre',
  name: 'customer (privacy centre)',
  role: 'data-subject',
  trainingCurrent: true,
};

/** The customer acting through the `<custodian-consent>` snippet on a merchant page. */
export const EMBED_PRINCIPAL: Principal = {
  kind: 'token',
  id: 'privacy-embed',
  name: 'customer (consent snippet)',
  role: 'data-subject',
  trainingCurrent: true,
};

export interface CodeMessage {
  readonly kind: SignInKind;
  /** The normalised phone or email, in clear only in memory and on its way out. */
  readonly address: string;
  readonly code: string;
  readonly lang: 'zh-CN' | 'en';
  /** How long the code is valid (`privacyCentre.codeTtlMinutes`), so the message says so. */
  readonly validMinutes: number;
}

/**
 * What became of a sign-in code: `sent` to a transport, `logged` (the development channel), or
 * `not-sent` (no transport for its kind, or a phone number a domestic SMS template cannot reach).
 * A transport that refuses the code rejects instead.
 */
export type CodeOutcome = 'sent' | 'logged' | 'not-sent';

/** Delivers a sign-in code. Implementations never log the code with the address in clear. */
export interface CodeSender {
  send(message: CodeMessage): Promise<CodeOutcome>;
}

interface SenderLog {
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

function masked(kind: SignInKind, address: string): string {
  return kind === 'phone' ? maskPhone(address) : maskEmail(address);
}

/** What real delivery (`codeChannel: deliver`) may use; a kind without its transport is not sent. */
export interface CodeTransports {
  /** `notify.smtp`: email codes. */
  readonly smtp?: NotifyConfig['smtp'];
  /** `privacyCentre.sms`: phone codes. */
  readonly sms?: SmsConfig | undefined;
  /** `datamap.recipients`: the SMS provider must be a processor among them (R6, R13). */
  readonly recipients?: readonly Recipient[];
  /** For tests: the SMS client's fetch, clock and nonce. */
  readonly smsClient?: Pick<AliyunSmsOptions, 'fetch' | 'now' | 'nonce'>;
}

/**
 * What `serve` says about how sign-in codes reach customers: nothing when both transports are set;
 * otherwise which codes go nowhere (the log channel: all of them, to the debug log only).
 */
export function codeDeliveryWarnings(config: {
  readonly privacyCentre: Pick<PrivacyCentreConfig, 'codeChannel' | 'sms'>;
  readonly notify: Pick<NotifyConfig, 'smtp'>;
}): string[] {
  if (config.privacyCentre.codeChannel === 'log') {
    return [
      'privacyCentre.codeChannel is "log": privacy-centre sign-in codes go to this server\'s debug log and reach no customer; set privacyCentre.codeChannel: deliver with notify.smtp (email) and privacyCentre.sms (phone) in production',
    ];
  }
  const without = (key: string, kind: string): string =>
    `privacyCentre.codeChannel is "deliver" without ${key}: ${kind} sign-in codes are not sent`;
  return [
    ...(config.notify.smtp === undefined ? [without('notify.smtp', 'email')] : []),
    ...(config.privacyCentre.sms === undefined ? [without('privacyCentre.sms', 'phone')] : []),
  ];
}

function minutes(count: number): string {
  return count === 1 ? '1 minute' : `${count} minutes`;
}

/** Email through nodemailer and `notify.smtp`. */
function smtpSender(smtp: NonNullable<NotifyConfig['smtp']>, log: SenderLog): CodeSender {
  const transport = smtpTransport(smtp);
  return {
    async send(m) {
      const zh = m.lang === 'zh-CN';
      await transport.sendMail({
        from: smtp.from,
        to: m.address,
        subject: zh ? '隐私中心登录验证码' : 'Your privacy centre sign-in code',
        text: zh
          ? `您的验证码是 ${m.code}，${m.validMinutes} 分钟内有效。如非本人操作，请忽略本邮件。\n\nYour code is ${m.code}. It is valid for ${minutes(m.validMinutes)}.`
          : `Your code is ${m.code}. It is valid for ${minutes(m.validMinutes)}. If you did not ask for it, ignore this email.`,
      });
      log.info({ channel: 'smtp', kind: m.kind, to: masked(m.kind, m.address) }, 'sign-in code sent');
      return 'sent';
    },
  };
}

/**
 * Text messages through Alibaba Cloud SMS: the approved template with `{"code": "…"}`. Only a
 * mainland mobile (R32) is sent; anything else (a landline, a privacy number, a number abroad)
 * would be refused by a domestic template and is logged, masked, as not sent. A refusal by the
 * provider rejects with `ERR_SMS_SEND_FAILED` naming only its `Code` and `RequestId`.
 */
function smsSender(sms: SmsConfig, options: CodeTransports['smsClient'], log: SenderLog): CodeSender {
  const client = new AliyunSms({
    endpoint: sms.endpoint,
    accessKeyId: sms.accessKeyId,
    accessKeySecret: sms.accessKeySecret,
    signName: sms.signName,
    templateCode: sms.templateCode,
    regionId: sms.regionId,
    timeoutMs: sms.timeoutMs,
    ...options,
  });
  return {
    async send(m) {
      const to = masked(m.kind, m.address);
      const mobile = normalizeMobile(m.address);
      if (mobile === undefined) {
        log.warn({ channel: 'sms', kind: m.kind, to }, 'not a mainland mobile number: code not sent');
        return 'not-sent';
      }
      const receipt = await client.send(mobile, { code: m.code });
      log.info(
        { channel: 'sms', kind: m.kind, to, provider: sms.provider, requestId: receipt.requestId },
        'sign-in code sent',
      );
      return 'sent';
    },
  };
}

/**
 * `log` (development): the code is written at debug level with the address masked, so only a
 * developer reading the log sees it. `deliver` (production; the config maps the earlier name
 * `smtp` to it): email through `notify.smtp`, phone through `privacyCentre.sms`. A kind whose
 * transport is not configured is not delivered: logged, masked, as not sent, and the customer's
 * answer is the same (no enumeration). Neither transport is `ERR_CONFIG_INVALID`, as is an SMS provider that is not
 * a declared processor (R6, R13; the config loader refuses both already, with file and line).
 */
export function createCodeSender(
  channel: PrivacyCentreConfig['codeChannel'],
  transports: CodeTransports,
  log: SenderLog,
): CodeSender {
  if (channel === 'log') {
    return {
      send(m) {
        log.info({ channel: 'log', kind: m.kind, to: masked(m.kind, m.address) }, 'sign-in code sent');
        log.debug(
          { channel: 'log', to: masked(m.kind, m.address), code: m.code },
          'sign-in code (log channel: development only)',
        );
        return Promise.resolve('logged');
      },
    };
  }
  const { smtp, sms } = transports;
  if (smtp === undefined && sms === undefined) {
    throw new CustodianError(
      'ERR_CONFIG_INVALID',
      'privacyCentre.codeChannel deliver needs notify.smtp or privacyCentre.sms',
      { details: { key: 'privacyCentre.codeChannel' } },
    );
  }
  if (sms !== undefined) {
    const problem = processorProblem(transports.recipients ?? [], sms.recipient, 'contact.phone');
    if (problem !== undefined)
      throw new CustodianError('ERR_CONFIG_INVALID', `privacyCentre.sms.recipient: ${problem}`, {
        details: { key: 'privacyCentre.sms.recipient' },
      });
  }
  const byKind: Record<SignInKind, CodeSender | undefined> = {
    email: smtp === undefined ? undefined : smtpSender(smtp, log),
    phone: sms === undefined ? undefined : smsSender(sms, transports.smsClient, log),
  };
  return {
    async send(m) {
      const sender = byKind[m.kind];
      if (sender === undefined) {
        log.warn(
          { channel: 'deliver', kind: m.kind, to: masked(m.kind, m.address) },
          m.kind === 'phone' ? 'no SMS channel: code not sent' : 'no email channel: code not sent',
        );
        return 'not-sent';
      }
      return sender.send(m);
    },
  };
}

/**
 * What a failed delivery may put in the log: the error's class and stable code and, from a
 * provider, its error code and request id. Never the message: a mail server's may quote the
 * address.
 */
export function sendFailure(error: unknown): Record<string, string> {
  const out: Record<string, string> = { error: error instanceof Error ? error.name : typeof error };
  if (error instanceof CustodianError) {
    out['code'] = error.code;
    const details = (error.details ?? {}) as Record<string, unknown>;
    for (const key of ['provider', 'providerCode', 'requestId'] as const) {
      const value = details[key];
      if (typeof value === 'string') out[key] = value;
    }
  }
  return out;
}

export interface PrivacyCentreOptions {
  readonly store: Store;
  readonly indexer: Pick<BlindIndexer, 'lookupTokens'>;
  readonly config: PrivacyCentreConfig;
  readonly key: KeyObject;
  readonly sender: CodeSender;
  readonly pseudonymize: (subjectId: string) => string;
  readonly now: () => Date;
  /** Delivery failures (never fatal: the answer must not depend on them). */
  readonly onSendError: (error: unknown) => void;
  /** Tells the privacy officer when codes fail to go out (see {@link UNDELIVERED_ALERT_MINUTES}). */
  readonly notifier: Notifier;
}

/**
 * A failed sign-in code alerts the privacy officer at once, then at most once per this many
 * minutes per kind, with the failures since the last alert: an SMS or mail outage shows up as one
 * alert an hour, not one per customer.
 */
export const UNDELIVERED_ALERT_MINUTES = 60;

export interface NoticeInput {
  readonly title: LocalizedText;
  readonly body: LocalizedText;
}

const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const CODE = /^\d{6}$/;

/** Constant-time equality that answers false, not throws, for different lengths. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export class PrivacyCentre {
  readonly #o: PrivacyCentreOptions;
  /** Per kind: when the privacy officer was last alerted of failed codes, and failures since. */
  readonly #failures = new Map<SignInKind, { alertedAt: number; unreported: number }>();

  constructor(options: PrivacyCentreOptions) {
    this.#o = options;
  }

  get sessionSeconds(): number {
    return this.#o.config.sessionMinutes * 60;
  }

  get codeSeconds(): number {
    return this.#o.config.codeTtlMinutes * 60;
  }

  /**
   * Sends a 6-digit code to the phone or email if a customer has it, and answers with a challenge
   * id either way (the same answer, the same writes, the delivery not awaited). More than
   * `sendsPerWindow` asks for one identity within the window are `ERR_PRIVACY_CODE_RATE_LIMITED`.
   */
  async startSignIn(kind: SignInKind, value: string, lang: 'zh-CN' | 'en'): Promise<{ challenge: string }> {
    const address = kind === 'phone' ? normalizePhone(value) : normalizeEmail(value);
    if (address.length === 0 || address.length > 254)
      throw new CustodianError('ERR_VALIDATION_FAILED', 'the phone or email is empty or too long', {
        details: { field: 'identity' },
      });
    const requester = this.#hmac('requester', `${kind}\u0000${address}`);
    const at = this.#o.now();
    const since = new Date(at.getTime() - this.#o.config.sendWindowMinutes * 60_000).toISOString();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const challenge = uuidv7(at.getTime());
    // R10: codes are gone once neither their lifetime nor the send window needs them.
    const keepMinutes = Math.max(this.#o.config.sendWindowMinutes, this.#o.config.codeTtlMinutes);
    const stale = new Date(at.getTime() - keepMinutes * 60_000).toISOString();
    const subjectId = await this.#o.store.transaction(async (tx) => {
      await tx.privacy.deleteCodesBefore(stale);
      if ((await tx.privacy.countCodesSince(requester, since)) >= this.#o.config.sendsPerWindow) {
        throw new CustodianError(
          'ERR_PRIVACY_CODE_RATE_LIMITED',
          `at most ${this.#o.config.sendsPerWindow} codes per ${this.#o.config.sendWindowMinutes} minutes`,
          { details: { retryAfterSeconds: this.#o.config.sendWindowMinutes * 60 } },
        );
      }
      const found = await this.#subjectFor(tx, kind, address);
      await tx.privacy.insertCode({
        id: challenge,
        requester,
        subjectId: found ?? null,
        codeHash: this.#codeHash(challenge, code),
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + this.#o.config.codeTtlMinutes * 60_000).toISOString(),
        attempts: 0,
        usedAt: null,
      });
      return found;
    });
    if (subjectId !== undefined) {
      // Not awaited: the answer's timing must not tell whether a customer has this identity.
      this.#o.sender
        .send({ kind, address, code, lang, validMinutes: this.#o.config.codeTtlMinutes })
        .catch((error: unknown) => this.#undelivered(subjectId, kind, error));
    }
    return { challenge };
  }

  /**
   * A code that did not go out: logged for the operator, audited so the privacy officer sees
   * customers who could not sign in to exercise their rights (PIPL Art. 50), and alerted. The
   * entry names the customer by pseudonym and the failure by its codes only; an audit write that
   * fails is logged too (the customer's answer went out long ago and does not depend on either).
   */
  async #undelivered(subjectId: string, kind: SignInKind, error: unknown): Promise<void> {
    this.#o.onSendError(error);
    const failure = sendFailure(error);
    // What the audit entry and the alert say of the failure: its stable codes, nothing it quoted.
    const codes = {
      code: failure['code'] ?? failure['error'] ?? 'unknown',
      ...(failure['providerCode'] === undefined ? {} : { providerCode: failure['providerCode'] }),
    };
    try {
      await this.#o.store.transaction((tx) =>
        appendAudit(tx, [
          {
            v: 1,
            at: this.#o.now().toISOString(),
            action: 'privacy.code-undelivered',
            actor: { id: CUSTOMER_PRINCIPAL.id, role: CUSTOMER_PRINCIPAL.role },
            subject: this.#o.pseudonymize(subjectId),
            detail: { kind, ...codes },
          },
        ]),
      );
    } catch (auditError) {
      this.#o.onSendError(auditError);
    }
    await this.#alertUndelivered(kind, {
      ...codes,
      ...(failure['provider'] === undefined ? {} : { provider: failure['provider'] }),
    });
  }

  /**
   * Customers who cannot receive a code cannot exercise their rights here (PIPL Art. 50), so the
   * privacy officer hears of it through the notifier: the first failure of a kind alerts, later
   * ones are counted into the next alert an interval on. The alert holds the kind, the count and
   * the failure's codes; no customer, pseudonymous or not, and it goes out long after the
   * customer's answer, so it tells nobody who is on record.
   */
  async #alertUndelivered(kind: SignInKind, codes: Readonly<Record<string, string>>): Promise<void> {
    const at = this.#o.now();
    const state = this.#failures.get(kind) ?? { alertedAt: Number.NEGATIVE_INFINITY, unreported: 0 };
    this.#failures.set(kind, state);
    state.unreported += 1;
    if (at.getTime() - state.alertedAt < UNDELIVERED_ALERT_MINUTES * 60_000) return;
    const failures = state.unreported;
    state.alertedAt = at.getTime();
    state.unreported = 0;
    await this.#o.notifier.notify({
      kind: 'privacy.code-undelivered',
      severity: 'warning',
      summary: `Privacy centre: ${failures} ${kind === 'phone' ? 'SMS' : 'email'} sign-in code(s) could not be delivered`,
      at: at.toISOString(),
      details: { kind, failures, ...codes },
    });
  }

  /**
   * Checks a code and opens a session bound to the subject. Wrong, expired, used, exhausted and
   * never-sent codes are all `ERR_PRIVACY_CODE_INVALID`; each wrong try counts.
   */
  async verifySignIn(challenge: string, code: string): Promise<{ token: string; subjectId: string }> {
    const fail = () =>
      new CustodianError('ERR_PRIVACY_CODE_INVALID', 'the code is not valid; ask for a new one');
    const at = this.#o.now();
    const result = await this.#o.store.transaction(async (tx) => {
      const row = /^[0-9a-f-]{36}$/.test(challenge) ? await tx.privacy.code(challenge) : undefined;
      if (row === undefined) return undefined;
      if (row.usedAt !== null || Date.parse(row.expiresAt) <= at.getTime()) return undefined;
      // The try is counted before the code is compared, in the same statement that checks the
      // limit: tries sent at once cannot all be compared against the same count.
      if (!(await tx.privacy.claimAttempt(challenge, this.#o.config.maxAttempts))) return undefined;
      // A code for an identity nobody has was never sent: it is refused like a wrong one.
      if (
        row.subjectId === null ||
        !CODE.test(code) ||
        !sameBytes(this.#codeHash(challenge, code), row.codeHash)
      )
        return 'wrong' as const;
      const subject = await tx.subjects.get(row.subjectId);
      if (subject === undefined || subject.erasedAt !== null) return undefined;
      if (!(await tx.privacy.useCode(challenge, at.toISOString()))) return undefined;
      const token = randomBytes(32).toString('base64url');
      await tx.privacy.insertSession({
        idHash: hashToken(token),
        subjectId: row.subjectId,
        createdAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + this.sessionSeconds * 1000).toISOString(),
        revokedAt: null,
      });
      await appendAudit(tx, [
        {
          v: 1,
          at: at.toISOString(),
          action: 'privacy.sign-in',
          actor: { id: CUSTOMER_PRINCIPAL.id, role: CUSTOMER_PRINCIPAL.role },
          subject: this.#o.pseudonymize(row.subjectId),
          detail: { attempts: row.attempts + 1 },
        },
      ]);
      return { token, subjectId: row.subjectId };
    });
    // A wrong code is returned, not thrown, so the transaction commits the try it counted.
    if (result === 'wrong' || result === undefined) throw fail();
    return result;
  }

  /** The subject a session cookie belongs to; anything else is `ERR_PRIVACY_SESSION_INVALID`. */
  async authenticate(token: string | undefined): Promise<{ subjectId: string; idHash: Buffer }> {
    const fail = () => new CustodianError('ERR_PRIVACY_SESSION_INVALID', 'sign in to the privacy centre');
    if (token === undefined || !SESSION_TOKEN.test(token)) throw fail();
    const idHash = hashToken(token);
    const session = await this.#o.store.privacy.session(idHash);
    if (session === undefined || session.revokedAt !== null) throw fail();
    if (Date.parse(session.expiresAt) <= this.#o.now().getTime()) throw fail();
    const subject = await this.#o.store.subjects.get(session.subjectId);
    if (subject === undefined || subject.erasedAt !== null) throw fail();
    return { subjectId: session.subjectId, idHash };
  }

  async signOut(token: string | undefined): Promise<boolean> {
    if (token === undefined || !SESSION_TOKEN.test(token)) return false;
    const idHash = hashToken(token);
    const at = this.#o.now().toISOString();
    return this.#o.store.transaction(async (tx) => {
      const session = await tx.privacy.session(idHash);
      if (session === undefined || !(await tx.privacy.revokeSession(idHash, at))) return false;
      await appendAudit(tx, [
        {
          v: 1,
          at,
          action: 'privacy.sign-out',
          actor: { id: CUSTOMER_PRINCIPAL.id, role: CUSTOMER_PRINCIPAL.role },
          subject: this.#o.pseudonymize(session.subjectId),
        },
      ]);
      return true;
    });
  }

  /** The CSRF token of a session's forms: an HMAC of the session id's hash. */
  csrfToken(idHash: Buffer): string {
    return this.#hmac('csrf', idHash.toString('hex')).toString('base64url');
  }

  checkCsrf(idHash: Buffer, sent: string | undefined): void {
    if (!sameBytes(Buffer.from(sent ?? ''), Buffer.from(this.csrfToken(idHash))))
      throw new CustodianError('ERR_CSRF_REJECTED', 'the form did not carry this session’s CSRF token');
  }

  async postNotice(principal: Principal, input: NoticeInput): Promise<NoticeRecord> {
    const at = this.#o.now();
    const notice: NoticeRecord = {
      id: uuidv7(at.getTime()),
      publishedAt: at.toISOString(),
      author: principal.id,
      title: { 'zh-CN': input.title['zh-CN'], en: input.title.en },
      body: { 'zh-CN': input.body['zh-CN'], en: input.body.en },
    };
    await this.#o.store.transaction(async (tx) => {
      await tx.privacy.insertNotice(notice);
      await appendAudit(tx, [
        {
          v: 1,
          at: notice.publishedAt,
          action: 'privacy.notice',
          actor: { id: principal.id, role: principal.role },
          subject: null,
          detail: { notice: notice.id },
        },
      ]);
    });
    return notice;
  }

  notices(limit = 50): Promise<NoticeRecord[]> {
    return this.#o.store.privacy.listNotices(limit);
  }

  /**
   * Records a request for a copy, a correction or deletion, status `received` (R7; the workflow is
   * later), and alerts the privacy officer: the request's clock (R8) runs from now.
   */
  async submitRequest(subjectId: string, kind: PrivacyRequestKind): Promise<PrivacyRequestRecord> {
    const at = this.#o.now();
    const request: PrivacyRequestRecord = {
      id: uuidv7(at.getTime()),
      subjectId,
      kind,
      receivedAt: at.toISOString(),
      status: 'received',
    };
    await this.#o.store.transaction(async (tx) => {
      const subject = await tx.subjects.get(subjectId);
      if (subject === undefined) throw new CustodianError('ERR_SUBJECT_NOT_FOUND', 'no such subject');
      if (subject.erasedAt !== null)
        throw new CustodianError('ERR_SUBJECT_ERASED', 'the subject has been erased');
      await tx.privacy.insertRequest(request);
      await appendAudit(tx, [
        {
          v: 1,
          at: request.receivedAt,
          action: 'privacy.request',
          actor: { id: CUSTOMER_PRINCIPAL.id, role: CUSTOMER_PRINCIPAL.role },
          subject: this.#o.pseudonymize(subjectId),
          detail: { request: request.id, kind },
        },
      ]);
    });
    // Ids and the kind only: an alert leaves the vault by email and webhook.
    await this.#o.notifier.notify({
      kind: 'privacy.request',
      severity: 'info',
      summary: `Privacy centre: a customer asked for ${kind === 'copy' ? 'a copy of their data' : kind}`,
      at: request.receivedAt,
      details: { request: request.id, kind },
    });
    return request;
  }

  requests(subjectId: string): Promise<PrivacyRequestRecord[]> {
    return this.#o.store.privacy.listRequests(subjectId);
  }

  /**
   * A short-lived token for the `<custodian-consent>` snippet, minted by the merchant's server
   * (an API key with `consent.record`) for one subject: the snippet can record that subject's
   * consents and nobody else's, until the token expires.
   */
  async mintEmbedToken(
    principal: Principal,
    subjectId: string,
  ): Promise<{ token: string; expiresAt: string }> {
    const at = this.#o.now();
    const expires = at.getTime() + this.#o.config.embedTokenMinutes * 60_000;
    await this.#o.store.transaction(async (tx) => {
      const subject = await tx.subjects.get(subjectId);
      if (subject === undefined) throw new CustodianError('ERR_SUBJECT_NOT_FOUND', 'no such subject');
      if (subject.erasedAt !== null)
        throw new CustodianError('ERR_SUBJECT_ERASED', 'the subject has been erased');
      await appendAudit(tx, [
        {
          v: 1,
          at: at.toISOString(),
          action: 'privacy.embed-token',
          actor: { id: principal.id, role: principal.role },
          subject: this.#o.pseudonymize(subjectId),
          detail: { minutes: this.#o.config.embedTokenMinutes },
        },
      ]);
    });
    const payload = Buffer.from(JSON.stringify({ s: subjectId, e: expires })).toString('base64url');
    const token = `${payload}.${this.#hmac('embed', payload).toString('base64url')}`;
    return { token, expiresAt: new Date(expires).toISOString() };
  }

  /** The subject an embed token was minted for; forged, malformed or expired: `ERR_PRIVACY_EMBED_TOKEN_INVALID`. */
  verifyEmbedToken(token: string | undefined): string {
    const fail = () => new CustodianError('ERR_PRIVACY_EMBED_TOKEN_INVALID', 'the embed token is not valid');
    if (token === undefined || token.length > 512) throw fail();
    const [payload, mac, extra] = token.split('.');
    if (payload === undefined || mac === undefined || extra !== undefined) throw fail();
    if (!sameBytes(Buffer.from(mac, 'base64url'), this.#hmac('embed', payload))) throw fail();
    let claims: { s?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { s?: unknown; e?: unknown };
    } catch {
      throw fail();
    }
    if (typeof claims.s !== 'string' || typeof claims.e !== 'number') throw fail();
    if (claims.e <= this.#o.now().getTime()) throw fail();
    return claims.s;
  }

  async #subjectFor(tx: Repositories, kind: SignInKind, address: string): Promise<string | undefined> {
    const lookups = this.#o.indexer
      .lookupTokens(kind, address)
      .map((t) => ({ kind, indexVersion: t.version, token: t.token }));
    const ids = [...new Set((await tx.identities.findSubjects(lookups)).map((m) => m.subjectId))];
    const active: string[] = [];
    for (const id of ids) {
      const subject = await tx.subjects.get(id);
      if (subject !== undefined && subject.erasedAt === null) active.push(id);
    }
    // Two customers sharing one phone or email: neither can be told apart by it, so no code.
    return active.length === 1 ? active[0] : undefined;
  }

  #codeHash(challenge: string, code: string): Buffer {
    return this.#hmac('code', `${challenge}\u0000${code}`);
  }

  #hmac(what: string, value: string): Buffer {
    return createHmac('sha256', this.#o.key).update(`${what}\u0000${value}`, 'utf8').digest();
  }
}
