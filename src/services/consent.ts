import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { hkdf } from '../crypto/blind-index.js';
import { uuidv7 } from '../crypto/uuid.js';
import { ageOn, isMinorAge, parseBirthDate } from '../domain/consent/age.js';
import {
  type ConsentAction,
  type ConsentChannel,
  type ConsentEvent,
  type ConsentKind,
  type GuardianRelationship,
} from '../domain/consent/model.js';
import { receiptClaims, type ConsentReceiptClaims } from '../domain/consent/receipt.js';
import { checkConsentRequest, type SeparateConsentNeed } from '../domain/consent/rules.js';
import {
  askWindow,
  consentFacts,
  currentConsents,
  reconsentVersion,
  separateConsentStands,
  type AskWindow,
  type ConsentFacts,
  type CurrentConsent,
} from '../domain/consent/state.js';
import type { Datamap, Purpose } from '../domain/datamap/schema.js';
import { CustodianError } from '../domain/errors.js';
import { parsePolicyScope } from '../domain/policy/scope.js';
import type { ConsentEventRecord } from '../store/consent.js';
import type { Repositories, Store } from '../store/store.js';
import { appendAudit } from './audit.js';
import type { ReceiptSigner } from './consent-receipt-key.js';
import type { Principal } from './tokens.js';
import type { ConsentSource, Vault } from './vault.js';

/**
 * The consent ledger and its receipts (docs/consent.md; R2-R5). Every grant, withdrawal or
 * refusal is appended as an event with a signed receipt and an audit entry in one unit of work;
 * what stands now is derived from the history by the rules in src/domain/consent. The vault asks
 * {@link ConsentService.facts} before it shows data for a purpose that rests on consent.
 */

/** The HKDF label of the evidence-hash key, derived from the index root like the audit pseudonym key. */
export const CONSENT_EVIDENCE_KEY_INFO = 'custodian/consent-evidence/v1';

/** The key that hashes evidence (IP address, user agent) and guardians' names: HMAC-SHA-256. */
export function deriveConsentEvidenceKey(indexRoot: Buffer | KeyObject): KeyObject {
  return createSecretKey(
    hkdf('sha256', indexRoot, Buffer.alloc(0), Buffer.from(CONSENT_EVIDENCE_KEY_INFO), 32),
  );
}

export interface ConsentServiceOptions {
  readonly store: Store;
  readonly datamap: Datamap;
  /** Reads the subject's age from stored data (R3). */
  readonly vault: Pick<Vault, 'ageOf'>;
  readonly signer: ReceiptSigner;
  readonly evidenceKey: KeyObject;
  readonly pseudonymize: (subjectId: string) => string;
  readonly now: () => Date;
  /** NDSR Art. 22(5): days after a refusal during which the customer is not asked again. */
  readonly refusalQuietDays: number;
  /** Where a receipt points for the policy version; `{version}` is replaced. */
  readonly policyUrl: string;
}

export interface ConsentEvidenceInput {
  /** The version of the consent UI the customer saw. */
  readonly uiVersion?: string | undefined;
  /** BCP 47, e.g. `zh-CN`. */
  readonly locale?: string | undefined;
  /** The customer's IP address: hashed at once, never stored. */
  readonly ip?: string | undefined;
  /** The customer's user agent: hashed at once, never stored. */
  readonly userAgent?: string | undefined;
}

export interface RecordConsentInput {
  readonly purpose: string;
  readonly action: ConsentAction;
  readonly channel: ConsentChannel;
  /** `purpose` (the default) or a separate consent (R2). */
  readonly kind?: ConsentKind | undefined;
  /** The third party (or foreign recipient) a separate consent names. */
  readonly recipient?: string | undefined;
  /** The published policy version shown to the customer; default the latest. */
  readonly policyVersion?: number | undefined;
  /** A parent or guardian acting for a child under 14 (PIPL Art. 31): the name is hashed at once. */
  readonly guardian?: { readonly name: string; readonly relationship: GuardianRelationship } | undefined;
  /** A birth date the customer declared (`YYYY-MM-DD`), used for the age check instead of stored data. */
  readonly birthDate?: string | undefined;
  readonly evidence?: ConsentEvidenceInput | undefined;
}

export interface IssuedReceipt {
  /** The compact JWS. */
  readonly receipt: string;
  readonly claims: ConsentReceiptClaims;
}

/** A ledger event as the API shows it: no hashes, no subject id. */
export interface ConsentHistoryItem {
  readonly eventId: string;
  readonly receiptId: string;
  readonly purpose: string;
  readonly kind: ConsentKind;
  readonly recipient: string | null;
  readonly action: ConsentAction;
  readonly policyVersion: number;
  readonly channel: ConsentChannel;
  readonly at: string;
  readonly minor: boolean;
  readonly guardian: GuardianRelationship | null;
  readonly evidence: {
    readonly uiVersion: string | null;
    readonly locale: string | null;
    /** Whether an IP address / user agent was hashed into the record (the hashes are not shown). */
    readonly ip: boolean;
    readonly userAgent: boolean;
  };
  readonly recordedBy: string;
  /** The signed receipt, a compact JWS. */
  readonly receipt: string;
}

/** Where a consent-based purpose stands for the customer, for the privacy centre. */
export interface PurposeConsentStatus extends AskWindow {
  readonly purpose: string;
  /** The purpose consent stands: reads for it are allowed (subject to roles). */
  readonly granted: boolean;
  /** The sensitive-PI separate consent stands. */
  readonly sensitive: boolean;
  /** A grant exists but predates the version that asks for consent again (R5). */
  readonly needsReconsent: boolean;
  /** The version a grant must be given at (or after); 0 when no version asked for re-consent. */
  readonly requiredVersion: number;
}

export interface SubjectConsents {
  /** The pseudonym receipts carry as `sub`. */
  readonly subjectRef: string;
  /** Under 14 by stored data or by the standing consents. */
  readonly minor: boolean;
  readonly purposes: PurposeConsentStatus[];
  readonly current: CurrentConsent[];
  readonly history: ConsentHistoryItem[];
}

export class ConsentService implements ConsentSource {
  readonly #o: ConsentServiceOptions;

  constructor(options: ConsentServiceOptions) {
    this.#o = options;
  }

  /** The receipt keys, for `/.well-known/jwks.json`. */
  get jwks(): ReceiptSigner['jwks'] {
    return this.#o.signer.jwks;
  }

  /**
   * Records a grant, withdrawal or refusal and returns its signed receipt. A grant for a customer
   * under 14 needs `guardian` (ERR_CONSENT_GUARDIAN_REQUIRED); a withdrawal or refusal never
   * does, and is never refused for lack of anything (R4: withdrawing must be easy).
   */
  async record(principal: Principal, subjectId: string, input: RecordConsentInput): Promise<IssuedReceipt> {
    const purpose = this.#consentPurpose(input.purpose);
    const kind = input.kind ?? 'purpose';
    const declared = input.birthDate === undefined ? undefined : parseBirthDate(input.birthDate);
    if (input.birthDate !== undefined && declared === undefined) {
      throw new CustodianError(
        'ERR_CONSENT_INVALID',
        'the consent request is not valid: birth-date-invalid',
        {
          details: { reason: 'birth-date-invalid', purpose: purpose.id, kind },
        },
      );
    }
    const at = this.#o.now();
    const atText = at.toISOString();
    return this.#o.store.transaction(async (tx) => {
      await tx.subjects.lock(subjectId);
      await this.#requireSubject(tx, subjectId);
      const version =
        input.policyVersion === undefined
          ? await tx.policies.latest()
          : await tx.policies.byNumber(input.policyVersion);
      if (version === undefined) {
        throw new CustodianError(
          'ERR_POLICY_NOT_FOUND',
          input.policyVersion === undefined
            ? 'no policy version has been published; consent must refer to one'
            : `no policy version ${input.policyVersion}`,
        );
      }
      const scope = parsePolicyScope(JSON.parse(version.scope));
      const checked = checkConsentRequest(scope, version.number, {
        purpose: purpose.id,
        kind,
        recipient: input.recipient,
        action: input.action,
      });
      // R3: the age at this moment, from what the customer declared or else from stored data.
      const age =
        declared !== undefined
          ? ageOn(declared, at)
          : input.action === 'grant'
            ? await this.#o.vault.ageOf(subjectId, tx)
            : undefined;
      const minor = age !== undefined && isMinorAge(age);
      if (minor && input.action === 'grant' && input.guardian === undefined) {
        throw new CustodianError(
          'ERR_CONSENT_GUARDIAN_REQUIRED',
          'the customer is under 14: a parent or guardian must give this consent (PIPL Art. 31)',
          { details: { purpose: purpose.id, kind } },
        );
      }
      const subjectRef = this.#o.pseudonymize(subjectId);
      const eventId = uuidv7(at.getTime());
      const receiptId = uuidv7(at.getTime());
      const claims = receiptClaims({
        receiptId,
        eventId,
        at,
        subjectRef,
        controller: scope.processor,
        action: input.action,
        kind,
        channel: input.channel,
        language: input.evidence?.locale,
        policyVersion: version.number,
        policyUrl: this.#o.policyUrl.replace('{version}', String(version.number)),
        purpose: checked.purpose,
        recipient:
          checked.recipient === undefined
            ? undefined
            : {
                id: checked.recipient.id,
                name: checked.recipient.name,
                contact: checked.recipient.contact,
                country: checked.recipient.country,
              },
        guardian: input.guardian?.relationship,
      });
      const receipt = await this.#o.signer.sign(claims);
      const evidence = input.evidence;
      const row: ConsentEventRecord = {
        id: eventId,
        // The subject's next place in the ledger, whatever pseudonym its earlier events carry.
        seq: (await tx.consents.lastSeq(subjectId)) + 1,
        subjectId,
        subjectRef,
        purpose: purpose.id,
        kind,
        recipient: checked.recipient?.id ?? null,
        action: input.action,
        policyVersion: version.number,
        channel: input.channel,
        uiVersion: evidence?.uiVersion ?? null,
        locale: evidence?.locale ?? null,
        ipHash: evidence?.ip === undefined ? null : this.#hash('ip', evidence.ip.trim()),
        userAgentHash:
          evidence?.userAgent === undefined ? null : this.#hash('user-agent', evidence.userAgent),
        guardianRelationship: input.guardian?.relationship ?? null,
        guardianHash:
          input.guardian === undefined ? null : this.#hash('guardian', normalName(input.guardian.name)),
        minor,
        recordedAt: atText,
        recordedBy: principal.id,
        receiptId,
        receipt,
      };
      await tx.consents.insert(row);
      await appendAudit(tx, [
        {
          v: 1,
          at: atText,
          action: `consent.${input.action}`,
          actor: { id: principal.id, role: principal.role },
          subject: subjectRef,
          purpose: purpose.id,
          detail: {
            kind,
            ...(row.recipient === null ? {} : { recipient: row.recipient }),
            policyVersion: version.number,
            channel: input.channel,
            receiptId,
            guardian: input.guardian !== undefined,
            minor,
          },
        },
      ]);
      return { receipt, claims };
    });
  }

  /**
   * The subject's consents: where each consent-based purpose stands, every consent line's latest
   * word, and the full history. No personal data; audited as `consent.read`.
   */
  async list(principal: Principal, subjectId: string): Promise<SubjectConsents> {
    const now = this.#o.now();
    return this.#o.store.transaction(async (tx) => {
      await this.#requireSubject(tx, subjectId);
      const rows = await tx.consents.listForSubject(subjectId);
      const history = rows.map(toEvent);
      const versions = await tx.policies.list();
      const age = await this.#o.vault.ageOf(subjectId, tx);
      const storedMinor = age !== undefined && isMinorAge(age);
      const purposes = this.#o.datamap.purposes
        .filter((p) => p.legalBasis === 'consent')
        .map((p): PurposeConsentStatus => {
          const facts = consentFacts(history, versions, p.id, storedMinor);
          const required = reconsentVersion(versions, p.id);
          const main = currentConsents(
            history.filter((e) => e.purpose === p.id && e.kind === 'purpose'),
            versions,
            storedMinor,
          )[0];
          return {
            purpose: p.id,
            granted: facts.purpose,
            sensitive: facts.sensitive,
            needsReconsent: main?.needsReconsent ?? false,
            requiredVersion: required,
            ...askWindow(
              history,
              { purpose: p.id, kind: 'purpose', recipient: null },
              now,
              this.#o.refusalQuietDays,
            ),
          };
        });
      const subjectRef = this.#o.pseudonymize(subjectId);
      await appendAudit(tx, [
        {
          v: 1,
          at: now.toISOString(),
          action: 'consent.read',
          actor: { id: principal.id, role: principal.role },
          subject: subjectRef,
          detail: { events: rows.length },
        },
      ]);
      return {
        subjectRef,
        minor: storedMinor || history.some((e) => e.minor),
        purposes,
        current: currentConsents(history, versions, storedMinor),
        history: rows.map(historyItem),
      };
    });
  }

  /**
   * NDSR Art. 22(5): false while a refusal of this consent line is the latest word and younger
   * than `consent.refusalQuietDays`. Recording a grant in that time is still allowed.
   */
  async mayAsk(
    subjectId: string,
    purpose: string,
    options: { readonly kind?: ConsentKind; readonly recipient?: string } = {},
  ): Promise<boolean> {
    return (await this.askWindow(subjectId, purpose, options)).mayAsk;
  }

  async askWindow(
    subjectId: string,
    purpose: string,
    options: { readonly kind?: ConsentKind; readonly recipient?: string } = {},
  ): Promise<AskWindow> {
    const history = (await this.#o.store.consents.listForSubject(subjectId)).map(toEvent);
    return askWindow(
      history,
      { purpose, kind: options.kind ?? 'purpose', recipient: options.recipient ?? null },
      this.#o.now(),
      this.#o.refusalQuietDays,
    );
  }

  /**
   * Whether a separate consent stands now — for code that provides PI to a third party, transfers
   * it abroad or discloses it (R2): e.g. `stands(id, 'marketing', 'provide_to_third_party', 'acme')`.
   */
  async stands(
    subjectId: string,
    purpose: string,
    kind: ConsentKind,
    recipient: string | null = null,
  ): Promise<boolean> {
    return this.#o.store.transaction(async (tx) => {
      const history = (await tx.consents.listForSubject(subjectId)).map(toEvent);
      const age = await this.#o.vault.ageOf(subjectId, tx);
      return separateConsentStands(
        history,
        await tx.policies.list(),
        { purpose, kind, recipient },
        age !== undefined && isMinorAge(age),
      );
    });
  }

  /** For the vault: the consent facts of one subject for a consent-based purpose (see {@link ConsentSource}). */
  async facts(
    tx: Repositories,
    subjectId: string,
    purpose: string,
    minor: () => Promise<boolean>,
  ): Promise<ConsentFacts> {
    const history = (await tx.consents.listForSubject(subjectId))
      .map(toEvent)
      .filter((e) => e.purpose === purpose);
    // Nothing granted: nothing to weigh, and no need to decrypt a birth date.
    if (!history.some((e) => e.action === 'grant')) return { purpose: false, sensitive: false, minor: false };
    return consentFacts(history, await tx.policies.list(), purpose, await minor());
  }

  /**
   * For the vault: whether the subject's latest event on the `kind` consent line for `purpose`
   * (the purpose itself, or `sensitive_pi`) says no (R4).
   */
  async declined(
    tx: Repositories,
    subjectId: string,
    purpose: string,
    kind: 'purpose' | 'sensitive_pi' = 'purpose',
  ): Promise<boolean> {
    const latest = (await tx.consents.listForSubject(subjectId))
      .map(toEvent)
      .filter((e) => e.purpose === purpose && e.kind === kind && e.recipient === null)
      .at(-1);
    return latest !== undefined && latest.action !== 'grant';
  }

  /**
   * For the vault: whether every separate consent in `needs` stands for the subject and purpose
   * (R2, R28: provision to a third party, transfer abroad). Each need is met by a consent for any
   * of its recipients (`null`: one that names none).
   */
  async separateStand(
    tx: Repositories,
    subjectId: string,
    purpose: string,
    needs: readonly SeparateConsentNeed[],
    minor: () => Promise<boolean>,
  ): Promise<boolean> {
    if (needs.length === 0) return true;
    const history = (await tx.consents.listForSubject(subjectId))
      .map(toEvent)
      .filter((e) => e.purpose === purpose);
    // Nothing granted: nothing can stand, and no need to decrypt a birth date.
    if (!history.some((e) => e.action === 'grant')) return false;
    const versions = await tx.policies.list();
    const isMinor = await minor();
    return needs.every((need) =>
      need.recipients.some((recipient) =>
        separateConsentStands(history, versions, { purpose, kind: need.kind, recipient }, isMinor),
      ),
    );
  }

  /** The purpose as the data map declares it now; only consent-based purposes take consents. */
  #consentPurpose(id: string): Purpose {
    const purpose = this.#o.datamap.purposes.find((p) => p.id === id);
    if (purpose === undefined) {
      throw new CustodianError('ERR_PURPOSE_UNKNOWN', `purpose "${id}" is not declared in the data map`, {
        details: { purpose: id },
      });
    }
    if (purpose.legalBasis !== 'consent') {
      throw new CustodianError(
        'ERR_CONSENT_NOT_APPLICABLE',
        `purpose "${id}" rests on ${purpose.legalBasis}, not consent; it takes no consent (PIPL Art. 13)`,
        { details: { purpose: id, legalBasis: purpose.legalBasis } },
      );
    }
    return purpose;
  }

  async #requireSubject(tx: Repositories, subjectId: string): Promise<void> {
    const subject = await tx.subjects.get(subjectId);
    if (subject === undefined) throw new CustodianError('ERR_SUBJECT_NOT_FOUND', 'no such subject');
    if (subject.erasedAt !== null)
      throw new CustodianError('ERR_SUBJECT_ERASED', 'the subject has been erased');
  }

  /** HMAC-SHA-256 under the evidence key, domain-separated by what is hashed. */
  #hash(what: string, value: string): Buffer {
    return createHmac('sha256', this.#o.evidenceKey).update(`${what}\u0000${value}`, 'utf8').digest();
  }
}

function normalName(name: string): string {
  return name.normalize('NFKC').trim().replace(/\s+/g, ' ');
}

function toEvent(r: ConsentEventRecord): ConsentEvent {
  return {
    id: r.id,
    seq: r.seq,
    purpose: r.purpose,
    kind: r.kind,
    recipient: r.recipient,
    action: r.action,
    policyVersion: r.policyVersion,
    channel: r.channel,
    at: r.recordedAt,
    minor: r.minor,
    guardianRelationship: r.guardianRelationship,
  };
}

function historyItem(r: ConsentEventRecord): ConsentHistoryItem {
  return {
    eventId: r.id,
    receiptId: r.receiptId,
    purpose: r.purpose,
    kind: r.kind,
    recipient: r.recipient,
    action: r.action,
    policyVersion: r.policyVersion,
    channel: r.channel,
    at: r.recordedAt,
    minor: r.minor,
    guardian: r.guardianRelationship,
    evidence: {
      uiVersion: r.uiVersion,
      locale: r.locale,
      ip: r.ipHash !== null,
      userAgent: r.userAgentHash !== null,
    },
    recordedBy: r.recordedBy,
    receipt: r.receipt,
  };
}
