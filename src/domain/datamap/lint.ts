/**
 * `custodian datamap lint`: checks a loaded data map against the PIPL rules the configuration
 * schema cannot express on its own (regulation.md R1-R6, R11, R14, R19, R25-R28). Each finding
 * names a stable rule id and the configuration path it is about, in the form the config loader
 * uses (`datamap.collections.customs.fields.nationalId.protection`), so a tool can locate it.
 *
 * Errors make the command exit 1; warnings are advice.
 */

import {
  declaredFields as declaredFieldsOf,
  isPersonalField,
  isSensitiveField,
  type Datamap,
  type DeclaredField,
  type SeparateConsent,
} from './schema.js';
import { CATEGORIES, PII_TYPE_CATEGORY, type Category } from './taxonomy.js';

export type LintSeverity = 'error' | 'warning';

/** Every rule, its severity and what it checks. Rule ids are stable: scripts may match on them. */
export const LINT_RULES = {
  'field-missing-category': {
    severity: 'error',
    summary: 'a field has no category from the taxonomy (R14)',
  },
  'field-missing-purpose': {
    severity: 'error',
    summary: 'a field names no purpose that needs it (PIPL Art. 6)',
  },
  'field-missing-retention': {
    severity: 'error',
    summary: 'a field has no retention rule (R11, PIPL Art. 19)',
  },
  'over-collection': {
    severity: 'error',
    summary: 'a field is declared but no declared purpose needs it (PIPL Art. 6)',
  },
  'sensitivity-downgraded': {
    severity: 'error',
    summary: 'a field of a sensitive category is marked `sensitivity: general` (PIPL Art. 28)',
  },
  'sensitive-not-encrypted': {
    severity: 'error',
    summary: 'sensitive PI with `protection: plain` (R14, PIPL Art. 51)',
  },
  'plain-personal-data': {
    severity: 'error',
    summary: 'personal information with `protection: plain` (R14)',
  },
  'sensitive-without-basis': {
    severity: 'error',
    summary:
      'sensitive PI needed by a consent-based purpose without `sensitive_pi` separate consent (R2, PIPL Art. 29)',
  },
  'sensitive-without-necessity': {
    severity: 'warning',
    summary:
      'sensitive PI without a description of its necessity and impact for the notice (R6, PIPL Art. 30)',
  },
  'free-text-without-policy': {
    severity: 'warning',
    summary: 'a free-text field has no `freeText` policy for PI typed into it',
  },
  'consent-purpose-necessary': {
    severity: 'error',
    summary: 'a consent-based purpose is marked necessary for the core service (R4, PIPL Art. 16)',
  },
  'unused-purpose': {
    severity: 'error',
    summary: 'a purpose no field and no recipient uses',
  },
  'cross-border-without-consent': {
    severity: 'error',
    summary: 'a cross-border purpose without `cross_border` separate consent (R2, R28, PIPL Art. 39)',
  },
  'cross-border-undeclared': {
    severity: 'error',
    summary: 'a purpose says `crossBorder: false` but a recipient abroad serves it (R28)',
  },
  'recipient-without-separate-consent': {
    severity: 'error',
    summary:
      'a third party receives PI for a consent-based purpose without `provide_to_third_party`, or a recipient abroad without `cross_border` (R2, R28, PIPL Art. 23, 39)',
  },
  'recipient-category-not-needed': {
    severity: 'error',
    summary: 'a recipient receives a category no field of its purposes holds (over-sharing, PIPL Art. 6, 23)',
  },
} as const satisfies Record<string, { severity: LintSeverity; summary: string }>;

export type LintRule = keyof typeof LINT_RULES;

export interface LintFinding {
  readonly rule: LintRule;
  readonly severity: LintSeverity;
  /** Configuration path, e.g. `datamap.collections.customs.fields.nationalId.protection`. */
  readonly path: string;
  /** English, names the field, purpose or recipient; never a personal value. */
  readonly message: string;
  readonly hint?: string;
}

export interface LintSummary {
  readonly errors: number;
  readonly warnings: number;
}

export function lintSummary(findings: readonly LintFinding[]): LintSummary {
  const errors = findings.filter((f) => f.severity === 'error').length;
  return { errors, warnings: findings.length - errors };
}

/** Checks a data map; the findings come in data-map order: purposes, fields, recipients. */
export function lintDatamap(map: Datamap): LintFinding[] {
  const findings: LintFinding[] = [];
  const add = (rule: LintRule, path: string, message: string, hint?: string): void => {
    findings.push({
      rule,
      severity: LINT_RULES[rule].severity,
      path,
      message,
      ...(hint === undefined ? {} : { hint }),
    });
  };
  const purposes = new Map(map.purposes.map((p) => [p.id, p]));
  const fields = allFields(map);

  // --- purposes ----------------------------------------------------------------------------------
  map.purposes.forEach((p, i) => {
    const at = `datamap.purposes.${i}`;
    if (p.legalBasis === 'consent' && p.necessary) {
      add(
        'consent-purpose-necessary',
        `${at}.necessary`,
        `Purpose ${p.id} rests on consent but is marked necessary: refusing or withdrawing consent must never cost the customer the core service (PIPL Art. 16).`,
        'set necessary: false, or give the purpose a basis other than consent if it really is needed for the order',
      );
    }
    const usedByField = fields.some(({ field }) => Object.hasOwn(field.purposes ?? {}, p.id));
    const usedByRecipient = map.recipients.some((r) => r.purposes.includes(p.id));
    if (!usedByField && !usedByRecipient) {
      add(
        'unused-purpose',
        `${at}.id`,
        `Purpose ${p.id} is declared but no field and no recipient uses it.`,
        'name it in the purposes of the fields it needs, or remove it',
      );
    }
    const abroad = map.recipients.filter((r) => r.crossBorder && r.purposes.includes(p.id));
    if (p.crossBorder === true && !p.separateConsents.includes('cross_border')) {
      add(
        'cross-border-without-consent',
        `${at}.separateConsents`,
        `Purpose ${p.id} sends PI abroad but does not ask for the cross_border separate consent (PIPL Art. 39; R28).`,
        'add cross_border to separateConsents',
      );
    }
    if (p.crossBorder === false && abroad.length > 0) {
      add(
        'cross-border-undeclared',
        `${at}.crossBorder`,
        `Purpose ${p.id} says crossBorder: false, but recipient ${abroad.map((r) => r.id).join(', ')} is abroad.`,
        'set crossBorder: true (and ask for cross_border consent), or remove the purpose from that recipient',
      );
    }
  });

  // --- fields ------------------------------------------------------------------------------------
  for (const { collection, name, field } of fields) {
    const at = `datamap.collections.${collection}.fields.${name}`;
    const label = `${collection}.${name}`;
    const sensitive = isSensitiveField(field);

    if (field.category === undefined) {
      add(
        'field-missing-category',
        `${at}.category`,
        `Field ${label} has no category: every field is classified as PI, sensitive PI or not PI (R14).`,
        'add category: with a taxonomy id such as contact.phone, identity.name or order.detail',
      );
    }
    if (field.purposes === undefined) {
      add(
        'field-missing-purpose',
        `${at}.purposes`,
        `Field ${label} names no purpose that needs it, so it can never be collected or read.`,
        'add purposes: { <purpose-id>: masked } for each purpose that needs it (clear only where the purpose must see the value)',
      );
    } else if (!Object.keys(field.purposes).some((p) => purposes.has(p))) {
      add(
        'over-collection',
        `${at}.purposes`,
        `Field ${label} is declared but no declared purpose needs it: collecting it would exceed the minimum the purposes need (PIPL Art. 6).`,
        'name the purposes that need it, or remove the field',
      );
    }
    if (field.retention === undefined) {
      add(
        'field-missing-retention',
        `${at}.retention`,
        `Field ${label} has no retention rule: every category of PI is kept only as long as its purpose needs (R11, PIPL Art. 19).`,
        'add retention: { keep: 3y, from: purpose-fulfilled } or a plain duration such as 1y',
      );
    }
    if (field.sensitivity === 'general' && sensitive) {
      add(
        'sensitivity-downgraded',
        `${at}.sensitivity`,
        `Field ${label} is marked sensitivity: general, but ${sensitiveReason(field)} is sensitive PI (PIPL Art. 28).`,
        'remove sensitivity: general',
      );
    }
    if (field.protection === 'plain') {
      if (sensitive) {
        add(
          'sensitive-not-encrypted',
          `${at}.protection`,
          `Field ${label} holds sensitive PI but is stored plain: sensitive PI is encrypted at rest (R14, PIPL Art. 51).`,
          'use protection: encrypt, or blind-index if it must be searchable',
        );
      } else if (isPersonalField(field)) {
        add(
          'plain-personal-data',
          `${at}.protection`,
          `Field ${label} is personal information${field.category === undefined ? ' until it is classified' : ` (${field.category})`} but is stored plain.`,
          'use protection: encrypt (the default); plain is only for data that is not about a person, such as order status',
        );
      }
    }
    if (sensitive) {
      for (const id of Object.keys(field.purposes ?? {})) {
        const p = purposes.get(id);
        if (p !== undefined && p.legalBasis === 'consent' && !p.separateConsents.includes('sensitive_pi')) {
          add(
            'sensitive-without-basis',
            `${at}.purposes.${id}`,
            `Field ${label} holds sensitive PI and purpose ${id} needs it on the basis of consent, but the purpose does not ask for the sensitive_pi separate consent (PIPL Art. 29; R2).`,
            `add sensitive_pi to the separateConsents of purpose ${id}, or stop using the field for it`,
          );
        }
      }
      // A blank description says nothing, and the policy scope drops it (src/domain/policy/scope.ts),
      // so the notice would state no necessity or impact at all (R6, PIPL Art. 30): treat it as missing.
      if ((field.description?.trim() ?? '') === '') {
        add(
          'sensitive-without-necessity',
          `${at}.description`,
          `Field ${label} holds sensitive PI but has no description: the notice must say why it is necessary and how it affects the person (PIPL Art. 30; R6).`,
          'add description: explaining why the purpose cannot do without it',
        );
      }
    }
    if (field.category !== undefined && CATEGORIES[field.category].mask === 'free-text' && !field.freeText) {
      add(
        'free-text-without-policy',
        `${at}.freeText`,
        `Field ${label} is free text, which customers fill with phone numbers, ids and addresses, but it has no freeText policy.`,
        'add freeText: { pii: mask } (or reject, or flag), with declares: [...] for PI it is meant to hold',
      );
    }
  }

  // --- recipients --------------------------------------------------------------------------------
  map.recipients.forEach((r, i) => {
    const at = `datamap.recipients.${i}`;
    r.purposes.forEach((id, j) => {
      const p = purposes.get(id);
      if (p === undefined) return;
      const basis = r.legalBasis ?? p.legalBasis;
      const missing = (consent: SeparateConsent): boolean => !p.separateConsents.includes(consent);
      if (r.role === 'third-party' && basis === 'consent' && missing('provide_to_third_party')) {
        add(
          'recipient-without-separate-consent',
          `${at}.purposes.${j}`,
          `Recipient ${r.id} is a third party receiving PI for purpose ${id}, which rests on consent, but the purpose does not ask for the provide_to_third_party separate consent (PIPL Art. 23; R2).`,
          `add provide_to_third_party to the separateConsents of purpose ${id}`,
        );
      }
      // A purpose that declares itself cross-border is reported once, at the purpose.
      if (r.crossBorder && p.crossBorder !== true && missing('cross_border')) {
        add(
          'recipient-without-separate-consent',
          `${at}.purposes.${j}`,
          `Recipient ${r.id} is abroad (${r.country}) and receives PI for purpose ${id}, which does not ask for the cross_border separate consent (PIPL Art. 39; R28).`,
          `add cross_border to the separateConsents of purpose ${id}`,
        );
      }
    });
    r.categories.forEach((category, j) => {
      const needed = fields.some(
        ({ field }) =>
          holds(field, category) && r.purposes.some((p) => Object.hasOwn(field.purposes ?? {}, p)),
      );
      if (!needed) {
        add(
          'recipient-category-not-needed',
          `${at}.categories.${j}`,
          `Recipient ${r.id} receives ${category}, but no field of that category is needed by its purposes (${r.purposes.join(', ')}).`,
          'remove the category from the recipient, or list the purpose that needs it',
        );
      }
    });
  });

  return findings;
}

interface NamedField {
  readonly collection: string;
  readonly name: string;
  readonly field: DeclaredField;
}

function allFields(map: Datamap): NamedField[] {
  return Object.entries(map.collections).flatMap(([collection, spec]) =>
    declaredFieldsOf(spec).map(([name, field]) => ({ collection, name, field })),
  );
}

/** Whether a field holds PI of `category`: its own, or one its free-text policy declares. */
function holds(field: DeclaredField, category: Category): boolean {
  return (
    field.category === category ||
    (field.freeText?.declares ?? []).some((t) => PII_TYPE_CATEGORY[t] === category)
  );
}

function sensitiveReason(field: DeclaredField): string {
  if (field.category !== undefined && CATEGORIES[field.category].sensitive) return field.category;
  const declared = (field.freeText?.declares ?? []).filter((t) => {
    const c = PII_TYPE_CATEGORY[t];
    return c !== undefined && CATEGORIES[c].sensitive;
  });
  return `the ${declared.join(', ')} it declares`;
}
