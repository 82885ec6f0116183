/**
 * Policy versions: the scope and its fingerprint (a fingerprint other than the latest version's
 * means a new version, even one an older version had), the diff between two versions, and whether
 * the change widens consent-based processing so that customers must consent again before it
 * applies (PIPL Art. 14 para 2; NDSR Art. 22(4); R5).
 */

import type { FieldView, LegalBasis, RecipientRole, SeparateConsent } from '../datamap/schema.js';
import type { Category } from '../datamap/taxonomy.js';
import {
  categoryLabel,
  collectionLabel,
  countryLabel,
  durationDays,
  durationText,
  EXPIRY_ACTION_LABELS,
  fieldLabel,
  joinList,
  LEGAL_BASIS_LABELS,
  RECIPIENT_ROLE_LABELS,
  RETENTION_ANCHOR_LABELS,
  SEPARATE_CONSENT_LABELS,
  type LocalizedText,
  type PolicyLang,
} from './labels.js';
import {
  policyFingerprint,
  type PolicyScope,
  type ScopeField,
  type ScopeParty,
  type ScopePurpose,
  type ScopeRecipient,
  type ScopeRetention,
} from './scope.js';
import { escapeMarkdown } from './text.js';

export {
  canonicalJson,
  canonicalScope,
  parsePolicyScope,
  policyFingerprint,
  policyScope,
  policyScopeSchema,
  POLICY_SCOPE_FORMAT,
  type PolicyScope,
  type PolicySource,
} from './scope.js';

export interface PurposeRef {
  readonly id: string;
  readonly name: LocalizedText;
  readonly legalBasis: LegalBasis;
}

export interface FieldKey {
  readonly collection: string;
  readonly field: string;
  readonly category: Category;
}

export interface RecipientRef {
  readonly id: string;
  readonly name: LocalizedText;
  readonly role: RecipientRole;
  readonly purposes: readonly string[];
  readonly categories: readonly string[];
  readonly country: string;
  readonly crossBorder: boolean;
}

export interface Change<T> {
  readonly from: T;
  readonly to: T;
}

export interface PurposeChange {
  readonly purpose: PurposeRef;
  readonly name: boolean;
  readonly description: boolean;
  readonly necessary: Change<boolean> | null;
  /** Whether the purpose sends information abroad, as declared or through its recipients. */
  readonly crossBorder: Change<boolean> | null;
  readonly separateConsentsAdded: readonly SeparateConsent[];
  readonly separateConsentsRemoved: readonly SeparateConsent[];
}

export interface RecipientChange {
  readonly recipient: RecipientRef;
  readonly purposesAdded: readonly string[];
  readonly purposesRemoved: readonly string[];
  readonly categoriesAdded: readonly string[];
  readonly categoriesRemoved: readonly string[];
  readonly crossBorder: Change<boolean> | null;
  readonly country: Change<string> | null;
  readonly legalBasis: Change<LegalBasis | null> | null;
  /** Name, contact, role or description changed. */
  readonly details: boolean;
}

export interface FieldChange {
  readonly field: FieldKey;
  readonly category: Change<Category> | null;
  readonly sensitive: Change<boolean> | null;
  readonly encrypted: Change<boolean> | null;
  readonly freeText: Change<string | null> | null;
  /** The data map's description of the (sensitive) field changed. */
  readonly note: boolean;
}

/** Why a new version needs customers' consent again (R5). */
export type ReconsentReason =
  | 'purpose-added'
  | 'basis-changed-to-consent'
  | 'category-added'
  | 'recipient-added'
  | 'cross-border-added'
  | 'separate-consent-added'
  | 'retention-extended';

export interface ReconsentItem {
  readonly reason: ReconsentReason;
  /** The purpose whose consent no longer covers the processing. */
  readonly purpose: string;
  /** The category, recipient id, separate-consent kind or `collection.field` concerned; the purpose itself otherwise. */
  readonly subject: string;
}

export interface PolicyDiff {
  readonly from: string;
  readonly to: string;
  /** Something a customer reads changed. False exactly when the fingerprints are equal. */
  readonly changed: boolean;
  /** The new version widens consent-based processing: ask for consent again before applying it (R5). */
  readonly widensConsentScope: boolean;
  readonly reconsent: readonly ReconsentItem[];
  /** Purposes to re-consent, in the new version's order. */
  readonly reconsentPurposes: readonly string[];
  /** Names of the purposes of both versions (the new name where both have one), for display. */
  readonly purposeNames: Readonly<Record<string, LocalizedText>>;
  readonly processor: Change<ScopeParty> | null;
  readonly officer: Change<ScopeParty | null> | null;
  readonly purposesAdded: readonly (PurposeRef & { readonly categories: readonly Category[] })[];
  readonly purposesRemoved: readonly PurposeRef[];
  readonly purposesChanged: readonly PurposeChange[];
  readonly legalBasisChanged: readonly (Change<LegalBasis> & { readonly purpose: PurposeRef })[];
  /** Categories gained by purposes present in both versions. */
  readonly categoriesAdded: readonly { readonly purpose: PurposeRef; readonly category: Category }[];
  readonly categoriesRemoved: readonly { readonly purpose: PurposeRef; readonly category: Category }[];
  /** Fields gained or lost by purposes present in both versions. */
  readonly usesAdded: readonly {
    readonly purpose: PurposeRef;
    readonly field: FieldKey;
    readonly view: FieldView;
  }[];
  readonly usesRemoved: readonly { readonly purpose: PurposeRef; readonly field: FieldKey }[];
  readonly viewsChanged: readonly (Change<FieldView> & {
    readonly purpose: PurposeRef;
    readonly field: FieldKey;
  })[];
  readonly fieldsChanged: readonly FieldChange[];
  readonly retentionChanged: readonly (Change<ScopeRetention> & {
    readonly field: FieldKey;
    /** Kept longer than before. */
    readonly extended: boolean;
  })[];
  readonly recipientsAdded: readonly RecipientRef[];
  readonly recipientsRemoved: readonly RecipientRef[];
  readonly recipientsChanged: readonly RecipientChange[];
}

/**
 * The changes from `oldScope` to `newScope`. `widensConsentScope` is true when:
 * - a purpose is added that rests on consent or needs a separate consent;
 * - a purpose's legal basis changes to consent;
 * - a consent-based purpose gains a category, or a purpose declaring `sensitive_pi` gains a
 *   sensitive category;
 * - a recipient is added for a consent-based purpose, or an existing one gains such a purpose, a
 *   category, or a role beyond a processor (a recipient whose own basis is not consent is not
 *   covered by consent; one for a purpose declaring `provide_to_third_party` is);
 * - anything newly goes abroad: a new recipient abroad, a recipient moving abroad, a purpose
 *   becoming cross-border (Art. 39 needs separate consent on every route, R28);
 * - a purpose gains a separate-consent kind (a new method, Art. 14 para 2);
 * - a field a consent-based purpose uses is kept longer (NDSR Art. 22(4)).
 * Removals and other narrowing changes never widen.
 */
export function diffPolicies(oldScope: PolicyScope, newScope: PolicyScope): PolicyDiff {
  const oldPurposes = new Map(oldScope.purposes.map((p) => [p.id, p]));
  const newPurposes = new Map(newScope.purposes.map((p) => [p.id, p]));
  const oldFields = new Map(oldScope.fields.map((f) => [fieldId(f), f]));
  const newFields = new Map(newScope.fields.map((f) => [fieldId(f), f]));
  const reconsent: ReconsentItem[] = [];
  const widen = (reason: ReconsentReason, purpose: string, subject: string = purpose): void => {
    if (!reconsent.some((r) => r.reason === reason && r.purpose === purpose && r.subject === subject)) {
      reconsent.push({ reason, purpose, subject });
    }
  };

  // --- purposes ---
  const purposesAdded = newScope.purposes
    .filter((p) => !oldPurposes.has(p.id))
    .map((p) => ({ ...purposeRef(p), categories: categoriesOf(newScope.fields, p.id) }));
  for (const p of newScope.purposes.filter((x) => !oldPurposes.has(x.id))) {
    if (p.legalBasis === 'consent' || p.separateConsents.length > 0) widen('purpose-added', p.id);
    if (isCrossBorder(newScope, p)) widen('cross-border-added', p.id);
  }
  const purposesRemoved = oldScope.purposes.filter((p) => !newPurposes.has(p.id)).map(purposeRef);

  const purposesChanged: PurposeChange[] = [];
  const legalBasisChanged: (Change<LegalBasis> & { purpose: PurposeRef })[] = [];
  const categoriesAdded: { purpose: PurposeRef; category: Category }[] = [];
  const categoriesRemoved: { purpose: PurposeRef; category: Category }[] = [];
  const usesAdded: { purpose: PurposeRef; field: FieldKey; view: FieldView }[] = [];
  const usesRemoved: { purpose: PurposeRef; field: FieldKey }[] = [];
  const viewsChanged: (Change<FieldView> & { purpose: PurposeRef; field: FieldKey })[] = [];

  for (const now of newScope.purposes) {
    const before = oldPurposes.get(now.id);
    if (before === undefined) continue;
    const ref = purposeRef(now);
    if (before.legalBasis !== now.legalBasis) {
      legalBasisChanged.push({ purpose: ref, from: before.legalBasis, to: now.legalBasis });
      if (now.legalBasis === 'consent') widen('basis-changed-to-consent', now.id);
    }
    const consentsAdded = now.separateConsents.filter((c) => !before.separateConsents.includes(c));
    const consentsRemoved = before.separateConsents.filter((c) => !now.separateConsents.includes(c));
    for (const c of consentsAdded) widen('separate-consent-added', now.id, c);
    const abroad = change(isCrossBorder(oldScope, before), isCrossBorder(newScope, now));
    if (abroad?.to === true) widen('cross-border-added', now.id);
    const nameChanged = !sameText(before.name, now.name);
    const descriptionChanged = !sameText(before.description, now.description);
    if (
      nameChanged ||
      descriptionChanged ||
      before.necessary !== now.necessary ||
      before.crossBorder !== now.crossBorder ||
      abroad !== null ||
      consentsAdded.length > 0 ||
      consentsRemoved.length > 0
    ) {
      purposesChanged.push({
        purpose: ref,
        name: nameChanged,
        description: descriptionChanged,
        necessary: change(before.necessary, now.necessary),
        crossBorder: abroad,
        separateConsentsAdded: consentsAdded,
        separateConsentsRemoved: consentsRemoved,
      });
    }

    const beforeCategories = categoriesOf(oldScope.fields, now.id);
    const nowCategories = categoriesOf(newScope.fields, now.id);
    for (const category of nowCategories.filter((c) => !beforeCategories.includes(c))) {
      categoriesAdded.push({ purpose: ref, category });
      const sensitive = newScope.fields.some(
        (f) => f.category === category && f.sensitive && Object.hasOwn(f.purposes, now.id),
      );
      if (now.legalBasis === 'consent' || (sensitive && now.separateConsents.includes('sensitive_pi'))) {
        widen('category-added', now.id, category);
      }
    }
    for (const category of beforeCategories.filter((c) => !nowCategories.includes(c))) {
      categoriesRemoved.push({ purpose: ref, category });
    }

    for (const f of newScope.fields) {
      const view = f.purposes[now.id];
      if (view === undefined) continue;
      const old = oldFields.get(fieldId(f))?.purposes[now.id];
      if (old === undefined) usesAdded.push({ purpose: ref, field: fieldKey(f), view });
      else if (old !== view) viewsChanged.push({ purpose: ref, field: fieldKey(f), from: old, to: view });
    }
    for (const f of oldScope.fields) {
      if (f.purposes[now.id] === undefined) continue;
      if (newFields.get(fieldId(f))?.purposes[now.id] === undefined) {
        usesRemoved.push({ purpose: ref, field: fieldKey(newFields.get(fieldId(f)) ?? f) });
      }
    }
  }

  // --- fields ---
  const fieldsChanged: FieldChange[] = [];
  const retentionChanged: (Change<ScopeRetention> & { field: FieldKey; extended: boolean })[] = [];
  for (const now of newScope.fields) {
    const before = oldFields.get(fieldId(now));
    if (before === undefined) continue;
    const fieldChange: FieldChange = {
      field: fieldKey(now),
      category: change(before.category, now.category),
      sensitive: change(before.sensitive, now.sensitive),
      encrypted: change(before.encrypted, now.encrypted),
      freeText: change(before.freeText ?? null, now.freeText ?? null),
      note: before.note !== now.note,
    };
    if (
      fieldChange.category !== null ||
      fieldChange.sensitive !== null ||
      fieldChange.encrypted !== null ||
      fieldChange.freeText !== null ||
      fieldChange.note
    ) {
      fieldsChanged.push(fieldChange);
    }
    if (!sameRetention(before.retention, now.retention)) {
      const extended = isExtension(before.retention, now.retention);
      retentionChanged.push({ field: fieldKey(now), from: before.retention, to: now.retention, extended });
      if (extended) {
        for (const purpose of Object.keys(now.purposes)) {
          if (newPurposes.get(purpose)?.legalBasis === 'consent' && oldPurposes.has(purpose)) {
            widen('retention-extended', purpose, fieldId(now));
          }
        }
      }
    }
  }

  // --- recipients ---
  const oldRecipients = new Map(oldScope.recipients.map((r) => [r.id, r]));
  const newRecipientIds = new Set(newScope.recipients.map((r) => r.id));
  /** Whether giving `r` information for `purpose` rests on the customer's consent. */
  const byConsent = (purpose: string, r: ScopeRecipient): boolean => {
    const p = newPurposes.get(purpose);
    if (p === undefined) return false;
    if (r.legalBasis !== undefined) return r.legalBasis === 'consent';
    return (
      p.legalBasis === 'consent' ||
      (r.role !== 'processor' && p.separateConsents.includes('provide_to_third_party'))
    );
  };
  const recipientsAdded: RecipientRef[] = [];
  const recipientsChanged: RecipientChange[] = [];
  for (const now of newScope.recipients) {
    const before = oldRecipients.get(now.id);
    if (before === undefined) {
      recipientsAdded.push(recipientRef(now));
      for (const purpose of now.purposes.filter((id) => newPurposes.has(id))) {
        if (byConsent(purpose, now)) widen('recipient-added', purpose, now.id);
        if (now.crossBorder) widen('cross-border-added', purpose, now.id);
      }
      continue;
    }
    const purposesAdd = now.purposes.filter((p) => !before.purposes.includes(p));
    const purposesRemove = before.purposes.filter((p) => !now.purposes.includes(p));
    const categoriesAdd = now.categories.filter((c) => !before.categories.includes(c));
    const categoriesRemove = before.categories.filter((c) => !now.categories.includes(c));
    const abroad = change(before.crossBorder, now.crossBorder);
    const country = change(before.country, now.country);
    const basis = change(before.legalBasis ?? null, now.legalBasis ?? null);
    const details =
      !sameText(before.name, now.name) ||
      before.contact !== now.contact ||
      before.role !== now.role ||
      !sameText(before.description, now.description);
    const wider =
      categoriesAdd.length > 0 ||
      (before.role === 'processor' && now.role !== 'processor') ||
      (basis !== null && basis.to === 'consent');
    for (const purpose of now.purposes.filter((id) => newPurposes.has(id))) {
      const gained = purposesAdd.includes(purpose);
      if ((gained || wider) && byConsent(purpose, now)) widen('recipient-added', purpose, now.id);
      if (now.crossBorder && (gained || abroad !== null || country !== null)) {
        widen('cross-border-added', purpose, now.id);
      }
    }
    if (
      purposesAdd.length > 0 ||
      purposesRemove.length > 0 ||
      categoriesAdd.length > 0 ||
      categoriesRemove.length > 0 ||
      abroad !== null ||
      country !== null ||
      basis !== null ||
      details
    ) {
      recipientsChanged.push({
        recipient: recipientRef(now),
        purposesAdded: purposesAdd,
        purposesRemoved: purposesRemove,
        categoriesAdded: categoriesAdd,
        categoriesRemoved: categoriesRemove,
        crossBorder: abroad,
        country,
        legalBasis: basis,
        details,
      });
    }
  }
  const recipientsRemoved = oldScope.recipients.filter((r) => !newRecipientIds.has(r.id)).map(recipientRef);

  const processor = sameParty(oldScope.processor, newScope.processor)
    ? null
    : { from: oldScope.processor, to: newScope.processor };
  const officer = sameParty(oldScope.officer, newScope.officer)
    ? null
    : { from: oldScope.officer ?? null, to: newScope.officer ?? null };

  const from = policyFingerprint(oldScope);
  const to = policyFingerprint(newScope);
  const reconsentPurposes = newScope.purposes
    .map((p) => p.id)
    .filter((id) => reconsent.some((r) => r.purpose === id));

  return {
    from,
    to,
    changed: from !== to,
    widensConsentScope: reconsent.length > 0,
    reconsent,
    reconsentPurposes,
    purposeNames: Object.fromEntries([...oldScope.purposes, ...newScope.purposes].map((p) => [p.id, p.name])),
    processor,
    officer,
    purposesAdded,
    purposesRemoved,
    purposesChanged,
    legalBasisChanged,
    categoriesAdded,
    categoriesRemoved,
    usesAdded,
    usesRemoved,
    viewsChanged,
    fieldsChanged,
    retentionChanged,
    recipientsAdded,
    recipientsRemoved,
    recipientsChanged,
  };
}

/** Whether a purpose sends information abroad: declared so, a recipient abroad, or a `cross_border` consent. */
function isCrossBorder(scope: PolicyScope, p: ScopePurpose): boolean {
  return (
    p.crossBorder === true ||
    p.separateConsents.includes('cross_border') ||
    scope.recipients.some((r) => r.crossBorder && r.purposes.includes(p.id))
  );
}

// --- rendering -----------------------------------------------------------------------------------

export type DiffFormat = 'md' | 'text';

type Mark = 'added' | 'removed' | 'changed';

interface DiffSection {
  readonly title: string;
  readonly items: { readonly mark: Mark; readonly text: string }[];
}

const DIFF_TEXT = {
  'zh-CN': {
    title: '隐私政策变更',
    versions: (from: string, to: string) => `版本指纹：${from} → ${to}`,
    none: '两个版本的隐私政策内容相同，没有变更。',
    reconsent: (purposes: string) =>
      `需要重新取得同意：本次变更扩大了基于同意的处理范围（${purposes}）。在用户重新同意之前，不得按新的范围处理。`,
    noReconsent: '无需重新取得同意：本次变更没有扩大基于同意的处理范围。',
    marks: { added: '新增', removed: '删除', changed: '变更' },
    sections: {
      parties: '处理者与联系人',
      purposes: '处理目的',
      categories: '个人信息种类',
      fields: '具体字段',
      recipients: '接收方',
      retention: '保存期限',
    },
    processor: (from: ScopeParty, to: ScopeParty) =>
      `个人信息处理者：${from.name}（${from.contact}）→ ${to.name}（${to.contact}）`,
    officer: (from: string, to: string) => `个人信息保护负责人：${from} → ${to}`,
    noOfficer: '未指定',
    basis: (basis: LegalBasis) => LEGAL_BASIS_LABELS[basis]['zh-CN'],
    purposeAdded: (name: string, basis: string, categories: string) =>
      `${name}（法律依据：${basis}）${categories === '' ? '' : `，涉及${categories}`}`,
    basisChanged: (name: string, from: string, to: string) => `${name}的法律依据：${from} → ${to}`,
    renamed: (name: string) => `${name}：名称已更新`,
    described: (name: string) => `${name}：目的说明已更新`,
    updated: (name: string) => `${name}：声明已更新`,
    necessary: (name: string, to: boolean) =>
      `${name}：${to ? '改为提供服务所必需' : '改为非必需，可以拒绝'}`,
    abroad: (name: string, to: boolean) =>
      `${name}：${to ? '开始向境外提供个人信息' : '不再向境外提供个人信息'}`,
    consentAdded: (name: string, kinds: string) => `${name}：新增单独同意事项（${kinds}）`,
    consentRemoved: (name: string, kinds: string) => `${name}：不再涉及单独同意事项（${kinds}）`,
    category: (name: string, category: string) => `${name}：${category}`,
    use: (name: string, field: string) => `${name}：${field}`,
    view: (name: string, field: string, to: FieldView) =>
      `${name}：${field}改为${to === 'clear' ? '完整显示' : '去标识化显示'}`,
    sensitive: (field: string, to: boolean) =>
      `${field}：${to ? '列为敏感个人信息' : '不再列为敏感个人信息'}`,
    encrypted: (field: string, to: boolean) => `${field}：${to ? '改为加密存储' : '不再加密存储'}`,
    freeText: (field: string, to: string | null) =>
      `${field}：${to === 'mask' ? '其中填写的个人信息改为保存前遮盖' : to === 'reject' ? '改为拒绝含有个人信息的内容' : '其中填写的个人信息的处理方式已更新'}`,
    note: (field: string) => `${field}：说明已更新`,
    recategorised: (field: string, from: string, to: string) => `${field}：种类由${from}改为${to}`,
    recipient: (r: RecipientRef, purposes: string) =>
      `${r.name['zh-CN']}（${RECIPIENT_ROLE_LABELS[r.role]['zh-CN']}，${countryLabel(r.country, 'zh-CN')}${r.crossBorder ? '，境外' : ''}）：用于${purposes}，涉及${joinList(
        r.categories.map((c) => categoryLabel(c, 'zh-CN')),
        'zh-CN',
      )}`,
    recipientChanged: (name: string, parts: string[]) => `${name}：${parts.join('；')}`,
    recipientParts: {
      purposesAdded: (v: string) => `新增用途${v}`,
      purposesRemoved: (v: string) => `不再用于${v}`,
      categoriesAdded: (v: string) => `新增${v}`,
      categoriesRemoved: (v: string) => `不再提供${v}`,
      abroad: (to: boolean, country: string) => (to ? `改为位于境外（${country}）` : '改为位于境内'),
      country: (country: string) => `所在地改为${country}`,
      basis: (basis: string) => `提供的法律依据改为${basis}`,
      purposeBasis: '与处理目的相同',
      details: '名称、联系方式、类型或说明已更新',
    },
    retention: (field: string, from: string, to: string, extended: boolean) =>
      `${field}：${from} → ${to}${extended ? '（延长）' : ''}`,
    rule: (r: ScopeRetention) =>
      `${durationText(r.keep, 'zh-CN')}，${RETENTION_ANCHOR_LABELS[r.from]['zh-CN']}，到期后${EXPIRY_ACTION_LABELS[r.then]['zh-CN']}`,
    sep: '、',
  },
  en: {
    title: 'Privacy policy changes',
    versions: (from: string, to: string) => `Fingerprints: ${from} → ${to}`,
    none: 'The two versions of the policy are the same.',
    reconsent: (purposes: string) =>
      `Re-consent required: this change widens processing based on consent (${purposes}). Do not process on the new terms until customers consent again.`,
    noReconsent: 'No re-consent needed: this change does not widen processing based on consent.',
    marks: { added: 'Added', removed: 'Removed', changed: 'Changed' },
    sections: {
      parties: 'Processor and officer',
      purposes: 'Purposes',
      categories: 'Categories of information',
      fields: 'Fields',
      recipients: 'Recipients',
      retention: 'Retention',
    },
    processor: (from: ScopeParty, to: ScopeParty) =>
      `Processor: ${from.name} (${from.contact}) → ${to.name} (${to.contact})`,
    officer: (from: string, to: string) => `PI protection officer: ${from} → ${to}`,
    noOfficer: 'none',
    basis: (basis: LegalBasis) => LEGAL_BASIS_LABELS[basis].en,
    purposeAdded: (name: string, basis: string, categories: string) =>
      `${name} (legal basis: ${basis})${categories === '' ? '' : `, using ${categories}`}`,
    basisChanged: (name: string, from: string, to: string) => `${name}, legal basis: ${from} → ${to}`,
    renamed: (name: string) => `${name}: renamed`,
    described: (name: string) => `${name}: description updated`,
    updated: (name: string) => `${name}: declaration updated`,
    necessary: (name: string, to: boolean) =>
      `${name}: ${to ? 'now necessary for the service' : 'now optional, and may be refused'}`,
    abroad: (name: string, to: boolean) =>
      `${name}: ${to ? 'now transfers information outside mainland China' : 'no longer transfers information abroad'}`,
    consentAdded: (name: string, kinds: string) => `${name}: now needs separate consent for ${kinds}`,
    consentRemoved: (name: string, kinds: string) => `${name}: no longer involves ${kinds}`,
    category: (name: string, category: string) => `${name}: ${category}`,
    use: (name: string, field: string) => `${name}: ${field}`,
    view: (name: string, field: string, to: FieldView) =>
      `${name}: ${field} now ${to === 'clear' ? 'shown in full' : 'masked'}`,
    sensitive: (field: string, to: boolean) =>
      `${field}: ${to ? 'now treated as sensitive' : 'no longer treated as sensitive'}`,
    encrypted: (field: string, to: boolean) => `${field}: ${to ? 'now encrypted' : 'no longer encrypted'}`,
    freeText: (field: string, to: string | null) =>
      `${field}: ${to === 'mask' ? 'personal information typed into it is now masked before storing' : to === 'reject' ? 'text containing personal information is now refused' : 'handling of personal information typed into it changed'}`,
    note: (field: string) => `${field}: description updated`,
    recategorised: (field: string, from: string, to: string) => `${field}: category ${from} → ${to}`,
    recipient: (r: RecipientRef, purposes: string) =>
      `${r.name.en} (${RECIPIENT_ROLE_LABELS[r.role].en}, ${countryLabel(r.country, 'en')}${r.crossBorder ? ', outside mainland China' : ''}): for ${purposes}, receives ${joinList(
        r.categories.map((c) => categoryLabel(c, 'en')),
        'en',
      )}`,
    recipientChanged: (name: string, parts: string[]) => `${name}: ${parts.join('; ')}`,
    recipientParts: {
      purposesAdded: (v: string) => `now also for ${v}`,
      purposesRemoved: (v: string) => `no longer for ${v}`,
      categoriesAdded: (v: string) => `now also receives ${v}`,
      categoriesRemoved: (v: string) => `no longer receives ${v}`,
      abroad: (to: boolean, country: string) =>
        to ? `now outside mainland China (${country})` : 'now in mainland China',
      country: (country: string) => `now in ${country}`,
      basis: (basis: string) => `legal basis for providing it now ${basis}`,
      purposeBasis: 'that of its purposes',
      details: 'name, contact, role or description updated',
    },
    retention: (field: string, from: string, to: string, extended: boolean) =>
      `${field}: ${from} → ${to}${extended ? ' (longer)' : ''}`,
    rule: (r: ScopeRetention) =>
      `${durationText(r.keep, 'en')}, ${RETENTION_ANCHOR_LABELS[r.from].en}, then ${EXPIRY_ACTION_LABELS[r.then].en}`,
    sep: ', ',
  },
} as const;

/** The diff for people: Markdown or plain text, in zh-CN or en. */
export function renderDiff(diff: PolicyDiff, lang: PolicyLang, format: DiffFormat): string {
  const t = DIFF_TEXT[lang];
  const purposeName = (id: string): string => diff.purposeNames[id]?.[lang] ?? id;
  const purposeList = (ids: readonly string[]): string => joinList(ids.map(purposeName), lang);
  const categoryList = (cs: readonly string[]): string =>
    joinList(
      cs.map((c) => categoryLabel(c, lang)),
      lang,
    );
  const fieldName = (f: FieldKey): string =>
    lang === 'zh-CN'
      ? `${collectionLabel(f.collection, lang)}·${fieldLabel(f.field, f.category, lang)}`
      : `${collectionLabel(f.collection, lang)}: ${fieldLabel(f.field, f.category, lang)}`;

  const sections: DiffSection[] = [];
  const section = (title: string): DiffSection['items'] => {
    const items: DiffSection['items'] = [];
    sections.push({ title, items });
    return items;
  };

  const parties = section(t.sections.parties);
  if (diff.processor !== null)
    parties.push({ mark: 'changed', text: t.processor(diff.processor.from, diff.processor.to) });
  if (diff.officer !== null) {
    const show = (p: ScopeParty | null): string => (p === null ? t.noOfficer : `${p.name} (${p.contact})`);
    parties.push({ mark: 'changed', text: t.officer(show(diff.officer.from), show(diff.officer.to)) });
  }

  const purposes = section(t.sections.purposes);
  for (const p of diff.purposesAdded) {
    purposes.push({
      mark: 'added',
      text: t.purposeAdded(p.name[lang], t.basis(p.legalBasis), categoryList(p.categories)),
    });
  }
  for (const p of diff.purposesRemoved) purposes.push({ mark: 'removed', text: p.name[lang] });
  for (const c of diff.legalBasisChanged) {
    purposes.push({
      mark: 'changed',
      text: t.basisChanged(c.purpose.name[lang], t.basis(c.from), t.basis(c.to)),
    });
  }
  for (const c of diff.purposesChanged) {
    const name = c.purpose.name[lang];
    const shown = purposes.length;
    if (c.name) purposes.push({ mark: 'changed', text: t.renamed(name) });
    if (c.description) purposes.push({ mark: 'changed', text: t.described(name) });
    if (c.necessary !== null) purposes.push({ mark: 'changed', text: t.necessary(name, c.necessary.to) });
    if (c.crossBorder !== null) purposes.push({ mark: 'changed', text: t.abroad(name, c.crossBorder.to) });
    const kinds = (ks: readonly SeparateConsent[]): string =>
      joinList(
        ks.map((k) => SEPARATE_CONSENT_LABELS[k][lang]),
        lang,
      );
    if (c.separateConsentsAdded.length > 0) {
      purposes.push({ mark: 'added', text: t.consentAdded(name, kinds(c.separateConsentsAdded)) });
    }
    if (c.separateConsentsRemoved.length > 0) {
      purposes.push({ mark: 'removed', text: t.consentRemoved(name, kinds(c.separateConsentsRemoved)) });
    }
    // A declaration that changes nothing a customer reads (`crossBorder: true` beside a recipient abroad).
    if (purposes.length === shown) purposes.push({ mark: 'changed', text: t.updated(name) });
  }

  const categories = section(t.sections.categories);
  for (const c of diff.categoriesAdded) {
    categories.push({
      mark: 'added',
      text: t.category(c.purpose.name[lang], categoryLabel(c.category, lang)),
    });
  }
  for (const c of diff.categoriesRemoved) {
    categories.push({
      mark: 'removed',
      text: t.category(c.purpose.name[lang], categoryLabel(c.category, lang)),
    });
  }

  const fields = section(t.sections.fields);
  for (const u of diff.usesAdded)
    fields.push({ mark: 'added', text: t.use(u.purpose.name[lang], fieldName(u.field)) });
  for (const u of diff.usesRemoved) {
    fields.push({ mark: 'removed', text: t.use(u.purpose.name[lang], fieldName(u.field)) });
  }
  for (const v of diff.viewsChanged) {
    fields.push({ mark: 'changed', text: t.view(v.purpose.name[lang], fieldName(v.field), v.to) });
  }
  for (const f of diff.fieldsChanged) {
    const name = fieldName(f.field);
    if (f.category !== null) {
      fields.push({
        mark: 'changed',
        text: t.recategorised(name, categoryLabel(f.category.from, lang), categoryLabel(f.category.to, lang)),
      });
    }
    if (f.sensitive !== null) fields.push({ mark: 'changed', text: t.sensitive(name, f.sensitive.to) });
    if (f.encrypted !== null) fields.push({ mark: 'changed', text: t.encrypted(name, f.encrypted.to) });
    if (f.freeText !== null) fields.push({ mark: 'changed', text: t.freeText(name, f.freeText.to) });
    if (f.note) fields.push({ mark: 'changed', text: t.note(name) });
  }

  const recipients = section(t.sections.recipients);
  for (const r of diff.recipientsAdded)
    recipients.push({ mark: 'added', text: t.recipient(r, purposeList(r.purposes)) });
  for (const r of diff.recipientsRemoved) recipients.push({ mark: 'removed', text: r.name[lang] });
  for (const c of diff.recipientsChanged) {
    const parts: string[] = [];
    const p = t.recipientParts;
    if (c.purposesAdded.length > 0) parts.push(p.purposesAdded(purposeList(c.purposesAdded)));
    if (c.purposesRemoved.length > 0) parts.push(p.purposesRemoved(purposeList(c.purposesRemoved)));
    if (c.categoriesAdded.length > 0) parts.push(p.categoriesAdded(categoryList(c.categoriesAdded)));
    if (c.categoriesRemoved.length > 0) parts.push(p.categoriesRemoved(categoryList(c.categoriesRemoved)));
    const country = countryLabel(c.recipient.country, lang);
    if (c.crossBorder !== null) parts.push(p.abroad(c.crossBorder.to, country));
    else if (c.country !== null) parts.push(p.country(country));
    if (c.legalBasis !== null) {
      parts.push(p.basis(c.legalBasis.to === null ? p.purposeBasis : t.basis(c.legalBasis.to)));
    }
    if (c.details) parts.push(p.details);
    recipients.push({ mark: 'changed', text: t.recipientChanged(c.recipient.name[lang], parts) });
  }

  const retention = section(t.sections.retention);
  for (const r of diff.retentionChanged) {
    retention.push({
      mark: 'changed',
      text: t.retention(fieldName(r.field), t.rule(r.from), t.rule(r.to), r.extended),
    });
  }

  const short = (fingerprint: string): string => fingerprint.slice(0, 12);
  const lines: string[] = [];
  const md = format === 'md';
  const esc = md ? escapeMarkdown : (s: string): string => s.replace(/\s+/g, ' ');
  lines.push(md ? `# ${t.title}` : t.title, '');
  lines.push(esc(t.versions(short(diff.from), short(diff.to))), '');
  if (!diff.changed) {
    lines.push(t.none);
    return `${lines.join('\n')}\n`;
  }
  const verdict = diff.widensConsentScope ? t.reconsent(purposeList(diff.reconsentPurposes)) : t.noReconsent;
  lines.push(md ? `**${esc(verdict)}**` : esc(verdict), '');
  for (const s of sections.filter((x) => x.items.length > 0)) {
    lines.push(md ? `## ${s.title}` : s.title, '');
    for (const item of s.items) {
      if (md) lines.push(`- **${t.marks[item.mark]}** ${esc(item.text)}`);
      else lines.push(`  ${{ added: '+', removed: '-', changed: '~' }[item.mark]} ${esc(item.text)}`);
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

// --- helpers -------------------------------------------------------------------------------------

function fieldId(f: { readonly collection: string; readonly field: string }): string {
  return `${f.collection}.${f.field}`;
}

function fieldKey(f: ScopeField): FieldKey {
  return { collection: f.collection, field: f.field, category: f.category };
}

function purposeRef(p: ScopePurpose): PurposeRef {
  return { id: p.id, name: p.name, legalBasis: p.legalBasis };
}

function recipientRef(r: ScopeRecipient): RecipientRef {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    purposes: r.purposes,
    categories: r.categories,
    country: r.country,
    crossBorder: r.crossBorder,
  };
}

function categoriesOf(fields: readonly ScopeField[], purpose: string): Category[] {
  return [...new Set(fields.filter((f) => Object.hasOwn(f.purposes, purpose)).map((f) => f.category))];
}

function change<T>(from: T, to: T): Change<T> | null {
  return from === to ? null : { from, to };
}

function sameText(a: LocalizedText | undefined, b: LocalizedText | undefined): boolean {
  return a?.['zh-CN'] === b?.['zh-CN'] && a?.en === b?.en;
}

function sameParty(a: ScopeParty | undefined, b: ScopeParty | undefined): boolean {
  return a?.name === b?.name && a?.contact === b?.contact;
}

function sameRetention(a: ScopeRetention, b: ScopeRetention): boolean {
  return a.keep === b.keep && a.from === b.from && a.then === b.then;
}

/**
 * How late each start point of a retention period falls: collection first, the purpose's
 * fulfilment (an order completed) at or after it, and the customer's last activity last, since it
 * is open-ended: every visit moves it on.
 */
const ANCHOR_ORDER: Readonly<Record<ScopeRetention['from'], number>> = {
  collection: 0,
  'purpose-fulfilled': 1,
  'last-activity': 2,
};

/**
 * Kept longer (NDSR Art. 22(4), R5): the period counts from a later or open-ended event, whatever
 * its length — `3y from collection` → `2y from last activity` keeps a customer who stays active
 * for ever, and `1y from fulfilment` → `1y from last activity` keeps anyone active after their
 * order longer. With the same start point, a longer period. With an earlier start point, a longer
 * period too: the two events can fall on the same day (the last activity was the purchase), and
 * then only the period decides.
 */
function isExtension(from: ScopeRetention, to: ScopeRetention): boolean {
  const later = ANCHOR_ORDER[to.from] - ANCHOR_ORDER[from.from];
  if (later > 0) return true;
  const before = durationDays(from.keep);
  const after = durationDays(to.keep);
  if (before === undefined || after === undefined) return from.keep !== to.keep;
  return after > before;
}
