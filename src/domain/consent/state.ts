/**
 * The consent rules, as pure functions over a subject's ledger history: what stands now, whether
 * it covers a purpose at the policy version in force (R5), whether a minor's consent came from a
 * guardian (R3), and whether the customer may be asked again after a refusal (NDSR Art. 22(5)).
 */
import {
  consentKeyOf,
  type ConsentAction,
  type ConsentEvent,
  type ConsentKey,
  type ConsentKind,
} from './model.js';

/** What the rules need of a published privacy-policy version. */
export interface PolicyVersionFacts {
  readonly number: number;
  readonly requiresReconsent: boolean;
  readonly reconsentPurposes: readonly string[];
}

/**
 * The consent facts the access engine needs about one subject and one consent-based purpose.
 * Absent facts mean no consent (fail closed).
 */
export interface ConsentFacts {
  /** A grant stands for the purpose itself, at or after the version that last asked for re-consent. */
  readonly purpose: boolean;
  /** The `sensitive_pi` separate consent (PIPL Art. 29) stands for the purpose, on the same terms. */
  readonly sensitive: boolean;
  /** The subject is under 14: all their PI counts as sensitive (Art. 28) and a guardian must consent (Art. 31). */
  readonly minor: boolean;
}

/** One consent line as it stands: the latest event for its purpose, kind and recipient. */
export interface CurrentConsent extends ConsentKey {
  readonly state: ConsentAction;
  readonly policyVersion: number;
  readonly at: string;
  readonly eventId: string;
  readonly channel: string;
  /** A guardian gave it (the subject was under 14). */
  readonly guardian: boolean;
  readonly minor: boolean;
  /** It is a grant that covers the policy version in force (R5) and, for a minor, came from a guardian. */
  readonly effective: boolean;
  /** It is a grant older than the latest version that asks this purpose for consent again (R5). */
  readonly needsReconsent: boolean;
}

/**
 * The version a consent for `purpose` must be given at (or after): the newest published version
 * that widened the purpose's consent-based processing (R5; PIPL Art. 14 para 2). 0 when none did.
 */
export function reconsentVersion(versions: readonly PolicyVersionFacts[], purpose: string): number {
  let required = 0;
  for (const v of versions) {
    if (v.requiresReconsent && v.reconsentPurposes.includes(purpose) && v.number > required)
      required = v.number;
  }
  return required;
}

/** One subject's events in the order they were recorded (their ledger position). */
export function inOrder(history: readonly ConsentEvent[]): ConsentEvent[] {
  return [...history].sort((a, b) => a.seq - b.seq);
}

/** The latest event per consent line. */
export function latestByKey(history: readonly ConsentEvent[]): Map<string, ConsentEvent> {
  const latest = new Map<string, ConsentEvent>();
  for (const e of inOrder(history)) latest.set(consentKeyOf(e), e);
  return latest;
}

/** Whether an event is a grant that stands: recent enough (R5) and, for a minor, from a guardian (R3). */
function stands(e: ConsentEvent | undefined, required: number, minor: boolean): boolean {
  return (
    e !== undefined &&
    e.action === 'grant' &&
    e.policyVersion >= required &&
    (!(minor || e.minor) || e.guardianRelationship !== null)
  );
}

/**
 * Every consent line of a subject as it stands now, in a stable order (purpose, kind, recipient).
 * `minor` is what the subject's stored data says now, on top of what the events recorded.
 */
export function currentConsents(
  history: readonly ConsentEvent[],
  versions: readonly PolicyVersionFacts[],
  minor = false,
): CurrentConsent[] {
  return [...latestByKey(history).values()]
    .map((e): CurrentConsent => {
      const required = reconsentVersion(versions, e.purpose);
      return {
        purpose: e.purpose,
        kind: e.kind,
        recipient: e.recipient,
        state: e.action,
        policyVersion: e.policyVersion,
        at: e.at,
        eventId: e.id,
        channel: e.channel,
        guardian: e.guardianRelationship !== null,
        minor: e.minor || minor,
        effective: stands(e, required, minor),
        needsReconsent: e.action === 'grant' && e.policyVersion < required,
      };
    })
    .sort((a, b) => compare(consentKeyOf(a), consentKeyOf(b)));
}

/**
 * The facts for the access engine: whether the purpose consent and the sensitive-PI consent
 * stand for `purpose`, and whether the subject counts as a minor — because their stored data
 * says so now (`minor`) or because the standing consent was recorded for a minor.
 */
export function consentFacts(
  history: readonly ConsentEvent[],
  versions: readonly PolicyVersionFacts[],
  purpose: string,
  minor = false,
): ConsentFacts {
  const latest = latestByKey(history.filter((e) => e.purpose === purpose));
  const main = latest.get(consentKeyOf({ purpose, kind: 'purpose', recipient: null }));
  const sensitive = latest.get(consentKeyOf({ purpose, kind: 'sensitive_pi', recipient: null }));
  const isMinor = minor || main?.minor === true || sensitive?.minor === true;
  const required = reconsentVersion(versions, purpose);
  return {
    purpose: stands(main, required, isMinor),
    sensitive: stands(sensitive, required, isMinor),
    minor: isMinor,
  };
}

/** Whether a separate consent of `kind` (for `recipient`, if it names one) stands for `purpose`. */
export function separateConsentStands(
  history: readonly ConsentEvent[],
  versions: readonly PolicyVersionFacts[],
  key: { readonly purpose: string; readonly kind: ConsentKind; readonly recipient: string | null },
  minor = false,
): boolean {
  const e = latestByKey(history.filter((x) => x.purpose === key.purpose)).get(consentKeyOf(key));
  return stands(e, reconsentVersion(versions, key.purpose), minor || e?.minor === true);
}

export interface AskWindow {
  /** False while a refusal's quiet period runs (NDSR Art. 22(5): do not re-solicit after a refusal). */
  readonly mayAsk: boolean;
  /** When the quiet period ends; null when asking is allowed now. */
  readonly askAfter: string | null;
}

/**
 * Whether the customer may be prompted for a consent line now: not within `quietDays` of an
 * explicit refusal that is still the latest word. A grant or withdrawal since ends the quiet.
 */
export function askWindow(
  history: readonly ConsentEvent[],
  key: ConsentKey,
  now: Date,
  quietDays: number,
): AskWindow {
  const latest = latestByKey(history).get(consentKeyOf(key));
  if (latest?.action !== 'refuse') return { mayAsk: true, askAfter: null };
  const until = new Date(Date.parse(latest.at) + quietDays * 86_400_000);
  return now.getTime() < until.getTime()
    ? { mayAsk: false, askAfter: until.toISOString() }
    : { mayAsk: true, askAfter: null };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
