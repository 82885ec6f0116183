/**
 * Audit entries: what happened to whose data, by whom, for what purpose and with which outcome.
 * Entries never hold personal data: the subject appears as a keyed pseudonym, fields by name.
 * The canonical form below is what gets hashed (and, in the Merkle log, what a verifier checks),
 * so it is fully determined by the entry: sorted keys, no insignificant whitespace, UTF-8.
 */

export type AuditAction =
  | 'collect'
  | 'read'
  | 'search'
  | 'erase'
  | 'export'
  | 'keys.rotate-root'
  | 'keys.rotate-subject'
  | 'keys.rotate-index'
  | 'break-glass.grant'
  | 'break-glass.review'
  | 'export.request'
  | 'export.decide'
  | 'export.download'
  | 'staff.add'
  | 'staff.disable'
  | 'staff.reset-mfa'
  | 'staff.unlock'
  | 'staff.training'
  | 'staff.sign-in'
  | 'staff.sign-in-failed'
  | 'staff.sign-out'
  | 'apikey.create'
  | 'apikey.revoke'
  | 'consent.grant'
  | 'consent.withdraw'
  | 'consent.refuse'
  | 'consent.read'
  | 'privacy.sign-in'
  | 'privacy.code-undelivered'
  | 'privacy.sign-out'
  | 'privacy.notice'
  | 'privacy.request'
  | 'privacy.embed-token'
  | 'audit.prune';

export interface AuditDecisionSummary {
  readonly clear: readonly string[];
  readonly masked: readonly string[];
  readonly withheld: readonly string[];
  /**
   * Why fields were withheld: the access rules' reasons (`no-consent`, `training-expired`,
   * `purpose-not-permitted` …), sorted, each once; absent when nothing was withheld.
   */
  readonly withheldReasons?: readonly string[];
}

export interface AuditEntry {
  /** Entry format version. */
  readonly v: 1;
  readonly at: string;
  readonly action: AuditAction;
  readonly actor: { readonly id: string; readonly role: string };
  /** Keyed pseudonym of the subject (hex), or null for entries about no single subject. */
  readonly subject: string | null;
  readonly purpose?: string;
  readonly records?: readonly string[];
  /** Fields touched, as `collection.field`. */
  readonly fields?: readonly string[];
  readonly decision?: AuditDecisionSummary;
  /** PI-free extra facts: counts, key versions, receipt ids. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json | undefined };

/**
 * Canonical JSON (the subset RFC 8785 needs for our values): object keys sorted by code unit,
 * `undefined` members dropped, integers only. Throws on a non-integer or non-finite number, which
 * would have more than one textual form.
 */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('canonical JSON carries safe integers only');
    return String(value);
  }
  if (Array.isArray(value)) return `[${(value as readonly Json[]).map(canonicalJson).join(',')}]`;
  const object = value as { readonly [key: string]: Json | undefined };
  const members = Object.keys(object)
    .filter((key) => object[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key] as Json)}`);
  return `{${members.join(',')}}`;
}

export function canonicalEntry(entry: AuditEntry): string {
  return canonicalJson(entry as unknown as Json);
}
