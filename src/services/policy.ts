import type { Datamap } from '../domain/datamap/schema.js';
import { CustodianError } from '../domain/errors.js';
import {
  canonicalScope,
  diffPolicies,
  parsePolicyScope,
  policyFingerprint,
  policyModelFromScope,
  policyScope,
  renderDiff,
  renderPolicy,
  renderPolicyDocument,
  type PolicyDiff,
  type PolicyLang,
  type PolicyScope,
} from '../domain/policy/index.js';
import type { PolicyVersionRecord } from '../store/policy.js';
import type { Store } from '../store/store.js';

export interface PolicyServiceOptions {
  readonly store: Store;
  readonly datamap: Datamap;
  readonly now: () => Date;
  /** Where the privacy centre lives, for the rights section (default `/privacy`). */
  readonly privacyCentreUrl?: string;
}

export interface PublishOutcome {
  readonly version: PolicyVersionRecord;
  /** False when the data map's policy equals the latest published version. */
  readonly created: boolean;
  readonly diff: PolicyDiff | null;
}

/**
 * Published privacy-policy versions (practice 1, R5, R6): the policy is generated from the data map;
 * a data-map change that changes the policy publishes a new version with a diff, marked for
 * re-consent when it widens consent-based processing.
 */
export class PolicyService {
  readonly #o: PolicyServiceOptions;

  constructor(options: PolicyServiceOptions) {
    this.#o = options;
  }

  /** The scope the configured data map describes now. */
  currentScope(): PolicyScope {
    return policyScope(this.#o.datamap);
  }

  /**
   * Publishes the configured data map's policy if it differs from the latest version. Only the
   * latest counts: a data map that returns to an older version's content publishes a new version
   * (v1, v2, then v3 with v1's fingerprint), diffed against the one before it, because customers
   * who consented under v2 were told v2's terms and must be told of the change back (R5, R6).
   * Fingerprints repeat across versions (migration 0014); the number identifies a version.
   */
  async publish(): Promise<PublishOutcome> {
    const scope = this.currentScope();
    const fingerprint = policyFingerprint(scope);
    return this.#o.store.transaction(async (tx) => {
      const latest = await tx.policies.latest();
      if (latest?.fingerprint === fingerprint) return { version: latest, created: false, diff: null };
      const diff =
        latest === undefined ? null : diffPolicies(parsePolicyScope(JSON.parse(latest.scope)), scope);
      const version: PolicyVersionRecord = {
        number: (latest?.number ?? 0) + 1,
        fingerprint,
        scope: JSON.stringify(canonicalScope(scope)),
        publishedAt: this.#o.now().toISOString(),
        requiresReconsent: diff?.widensConsentScope ?? false,
        reconsentPurposes: diff === null ? [] : [...diff.reconsentPurposes],
      };
      await tx.policies.insert(version);
      return { version, created: true, diff };
    });
  }

  versions(): Promise<PolicyVersionRecord[]> {
    return this.#o.store.policies.list();
  }

  async version(number?: number): Promise<PolicyVersionRecord> {
    const found =
      number === undefined
        ? await this.#o.store.policies.latest()
        : await this.#o.store.policies.byNumber(number);
    if (found === undefined) {
      throw new CustodianError(
        'ERR_POLICY_NOT_FOUND',
        number === undefined ? 'no policy version has been published' : `no policy version ${number}`,
      );
    }
    return found;
  }

  /** A published version, or (without one) the current draft, as a whole page or a body. */
  async render(options: {
    lang: PolicyLang;
    format: 'html' | 'md';
    version?: number | undefined;
    document?: boolean;
  }): Promise<string> {
    const stored =
      options.version === undefined
        ? await this.#o.store.policies.latest()
        : await this.version(options.version);
    const scope = stored === undefined ? this.currentScope() : parsePolicyScope(JSON.parse(stored.scope));
    const model = policyModelFromScope(scope, { privacyCentreUrl: this.#o.privacyCentreUrl ?? '/privacy' });
    const version =
      stored === undefined
        ? undefined
        : {
            number: stored.number,
            publishedAt: stored.publishedAt,
            requiresReconsent: stored.requiresReconsent,
          };
    if (options.format === 'html' && options.document === true) {
      return renderPolicyDocument(model, { lang: options.lang, ...(version ? { version } : {}) });
    }
    return renderPolicy(model, {
      lang: options.lang,
      format: options.format,
      ...(version ? { version } : {}),
    });
  }

  async diff(
    a: number,
    b: number,
    lang: PolicyLang,
    format: 'md' | 'text',
  ): Promise<{ diff: PolicyDiff; text: string }> {
    const [va, vb] = [await this.version(a), await this.version(b)];
    const diff = diffPolicies(parsePolicyScope(JSON.parse(va.scope)), parsePolicyScope(JSON.parse(vb.scope)));
    return { diff, text: renderDiff(diff, lang, format) };
  }
}
