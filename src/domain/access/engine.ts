import type { ConsentFacts } from '../consent/state.js';
import { isSensitiveField, type Datamap } from '../datamap/schema.js';
import { CATEGORIES, type Category } from '../datamap/taxonomy.js';
import { decideField, type Access, type FieldDecision } from './decide.js';
import type { RoleSpec, ViewCap } from './roles.js';

/** Why a field is withheld. Stable strings: clients and the audit log see them. */
export type Reason =
  | 'unknown-purpose'
  | 'undeclared-field'
  | 'not-needed-for-purpose'
  | 'unknown-role'
  | 'purpose-not-permitted'
  | 'denied-by-role'
  | 'training-expired'
  | 'no-consent'
  /** An export's recipient is not registered to receive the field's category (R31, PIPL Art. 21). */
  | 'not-for-recipient';

export interface Decision {
  readonly access: Access;
  readonly reason?: Reason;
  /** The configuration rule that decided, e.g. `access.roles.operator.grants.contact.*`. */
  readonly rule: string;
}

/** Facts about the caller at the moment of the request, which the static policy cannot know. */
export interface DecisionContext {
  readonly role: string;
  readonly purpose: string;
  readonly collection: string;
  readonly field: string;
  /** False when `access.requireTraining` is on and the person's training has lapsed (R18). */
  readonly trainingCurrent: boolean;
  /** An active, unexpired break-glass grant covers this subject. */
  readonly breakGlass: boolean;
  /**
   * The subject's consent for the purpose, when the purpose rests on consent (R4, R5; PIPL Art.
   * 14-16, 29, 31). Ignored for other legal bases; absent for a consent-based purpose means no
   * consent (fail closed).
   */
  readonly consent?: ConsentFacts | undefined;
}

const ORDER: Readonly<Record<Access, number>> = { withheld: 0, masked: 1, clear: 2 };

/**
 * The decision engine: role × purpose × field → clear | masked | withheld, default deny, every
 * decision carrying the rule that made it. Reads, searches and exports all ask it. The static part
 * (everything but training and break-glass) is compiled once into a table, so a decision is one
 * map lookup plus two flags.
 */
export class AccessPolicy {
  readonly #table = new Map<string, CompiledEntry>();
  readonly #roles: Readonly<Record<string, RoleSpec>>;
  readonly #datamap: Datamap;

  constructor(datamap: Datamap, roles: Readonly<Record<string, RoleSpec>>) {
    this.#datamap = datamap;
    this.#roles = roles;
    for (const [role, spec] of Object.entries(roles)) {
      for (const purpose of datamap.purposes) {
        for (const [collection, c] of Object.entries(datamap.collections)) {
          for (const [field, f] of Object.entries(c.fields)) {
            const category = f.category as Category | undefined;
            const personal = category === undefined || CATEGORIES[category].personal;
            this.#table.set(key(role, purpose.id, collection, field), {
              decision: staticDecision(datamap, role, spec, purpose.id, collection, field, category),
              personal,
              consentBased: purpose.legalBasis === 'consent',
              sensitive: isSensitiveField(f),
            });
          }
        }
      }
    }
  }

  get roles(): Readonly<Record<string, RoleSpec>> {
    return this.#roles;
  }

  /** May `role` act for `purpose` at all? */
  permitsPurpose(role: string, purpose: string): boolean {
    const spec = this.#roles[role];
    return spec !== undefined && (spec.purposes.includes('*') || spec.purposes.includes(purpose));
  }

  /** Whether reads for `purpose` depend on the customer's consent (its legal basis is consent). */
  consentBased(purpose: string): boolean {
    return this.#datamap.purposes.some((p) => p.id === purpose && p.legalBasis === 'consent');
  }

  decide(ctx: DecisionContext): Decision {
    const entry = this.#table.get(key(ctx.role, ctx.purpose, ctx.collection, ctx.field));
    if (entry === undefined) return this.#uncompiled(ctx);
    const { decision, personal } = entry;
    if (decision.access === 'withheld' && decision.reason !== 'denied-by-role') return decision;
    // Consent before anything else a grant could lift: break-glass never overrides a customer's no.
    if (entry.consentBased) {
      const withheld = consentGate(entry, ctx.purpose, ctx.consent);
      if (withheld !== undefined) return withheld;
    }
    if (personal && !ctx.trainingCurrent) {
      return { access: 'withheld', reason: 'training-expired', rule: 'access.requireTraining' };
    }
    if (ctx.breakGlass && decision.access !== 'clear') return { access: 'clear', rule: 'break-glass' };
    return decision;
  }

  #uncompiled(ctx: DecisionContext): Decision {
    if (!Object.hasOwn(this.#roles, ctx.role))
      return { access: 'withheld', reason: 'unknown-role', rule: 'access.roles' };
    const gate = decideField(this.#datamap, ctx.purpose, ctx.collection, ctx.field);
    return { access: 'withheld', reason: gate.reason ?? 'undeclared-field', rule: gate.rule };
  }
}

interface CompiledEntry {
  readonly decision: Decision;
  readonly personal: boolean;
  /** The purpose's legal basis is consent (R1): reads wait on the customer's consent. */
  readonly consentBased: boolean;
  /** Sensitive PI (PIPL Art. 28): a consent-based read also needs the `sensitive_pi` separate consent. */
  readonly sensitive: boolean;
}

/**
 * Only purposes resting on consent are gated; necessary ones never wait on it (PIPL Art. 16).
 * The purpose consent must stand (granted, not withdrawn, at the policy version in force); a
 * sensitive field — or any personal field of a child under 14, all of whose PI is sensitive
 * (Art. 28) — also needs the `sensitive_pi` separate consent (Art. 29).
 */
function consentGate(
  entry: CompiledEntry,
  purpose: string,
  consent: ConsentFacts | undefined,
): Decision | undefined {
  const rule = `datamap.purposes.${purpose}.legalBasis`;
  if (consent?.purpose !== true) return { access: 'withheld', reason: 'no-consent', rule };
  const sensitive = entry.sensitive || (consent.minor && entry.personal);
  if (sensitive && !consent.sensitive)
    return { access: 'withheld', reason: 'no-consent', rule: `${rule} (sensitive_pi)` };
  return undefined;
}

function key(role: string, purpose: string, collection: string, field: string): string {
  return `${role}\u0000${purpose}\u0000${collection}\u0000${field}`;
}

function staticDecision(
  datamap: Datamap,
  role: string,
  spec: RoleSpec,
  purpose: string,
  collection: string,
  field: string,
  category: Category | undefined,
): Decision {
  const rolePath = `access.roles.${role}`;
  if (!(spec.purposes.includes('*') || spec.purposes.includes(purpose))) {
    return { access: 'withheld', reason: 'purpose-not-permitted', rule: `${rolePath}.purposes` };
  }
  const gate: FieldDecision = decideField(datamap, purpose, collection, field);
  if (gate.access === 'withheld')
    return { access: 'withheld', reason: gate.reason ?? 'not-needed-for-purpose', rule: gate.rule };
  const personal = category === undefined || CATEGORIES[category].personal;
  const grant = category === undefined ? undefined : mostSpecificGrant(spec.grants, category);
  // R15: personal data is masked unless a role explicitly grants clear; non-personal data is clear.
  const cap: ViewCap = grant?.cap ?? (personal ? 'masked' : 'clear');
  const capRule = grant
    ? `${rolePath}.grants.${grant.pattern}`
    : `${rolePath}.grants (default ${personal ? 'masked' : 'clear'})`;
  if (cap === 'withheld') return { access: 'withheld', reason: 'denied-by-role', rule: capRule };
  return ORDER[cap] < ORDER[gate.access] ? { access: cap, rule: capRule } : gate;
}

function mostSpecificGrant(
  grants: Readonly<Record<string, ViewCap>>,
  category: string,
): { pattern: string; cap: ViewCap } | undefined {
  const family = `${category.split('.')[0] ?? ''}.*`;
  for (const pattern of [category, family, '*']) {
    const cap = grants[pattern];
    if (cap !== undefined) return { pattern, cap };
  }
  return undefined;
}
