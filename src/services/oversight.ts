import { uuidv7 } from '../crypto/uuid.js';
import { sealExport, type ExportSealTo } from '../crypto/export-file.js';
import type { AccessPolicy } from '../domain/access/engine.js';
import type { AuditEntry } from '../domain/audit/entry.js';
import { separateConsentsForRecipient } from '../domain/consent/rules.js';
import { assertExportAllowed } from '../platforms/tmall/rules.js';
import { CustodianError } from '../domain/errors.js';
import type { BreakGlassRecord, ExportRecord, ExportSummary } from '../store/access.js';
import type { Store } from '../store/store.js';
import { appendAudit } from './audit.js';
import type { Notifier } from './notify.js';
import type { Principal } from './tokens.js';
import type { Vault } from './vault.js';

export interface OversightOptions {
  readonly store: Store;
  readonly vault: Vault;
  readonly policy: AccessPolicy;
  readonly notifier: Notifier;
  readonly pseudonymize: (subjectId: string) => string;
  readonly now: () => Date;
  /** `access.breakGlass.maxMinutes`. */
  readonly breakGlassMaxMinutes: number;
  /** `access.exportApproval.threshold`: exports of more subjects need a second person (R16). */
  readonly exportThreshold: number;
}

/** Rows a list returns when the caller names no `limit`, and the most it may ask for. */
export const PAGE_DEFAULT = 100;
export const PAGE_MAX = 500;

/** Which page of a list: at most `limit` items, after the item whose id is `before`. */
export interface PageRequest {
  readonly limit?: number | undefined;
  /** The id of the last item of the previous page (`next` of that page). */
  readonly before?: string | undefined;
}

/** One page of a list, newest first; `next` is the `before` of the following page, or null at the end. */
export interface Page<T> {
  readonly items: T[];
  readonly next: string | null;
}

/** Reads one row more than asked for, to tell whether another page exists. */
async function page<T extends { readonly id: string }>(
  request: PageRequest,
  read: (q: { limit: number; before?: string | undefined }) => Promise<T[]>,
): Promise<Page<T>> {
  const limit = request.limit ?? PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX)
    throw new CustodianError('ERR_VALIDATION_FAILED', `limit is 1 to ${PAGE_MAX}`);
  const rows = await read({ limit: limit + 1, before: request.before });
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
}

export interface BreakGlassRequest {
  readonly subjectId: string;
  readonly purpose: string;
  readonly justification: string;
  readonly ticket: string;
  readonly minutes?: number | undefined;
}

export interface ExportRequest {
  readonly purpose: string;
  readonly subjectIds: readonly string[];
  /** How the file is encrypted. */
  readonly recipient:
    { readonly kind: 'passphrase' } | { readonly kind: 'public-key'; readonly publicKey: string };
  /** Who receives the file (`datamap.recipients` id); required when it holds buyer data (R31). */
  readonly recipientId?: string | undefined;
}

/**
 * The exceptions to policy, made visible (R15, R16): break-glass clear access on a business trigger,
 * time-boxed, audited, alerted and reviewed by a second person; and bulk exports that wait for a
 * second person's approval, leave only encrypted, and are audited when downloaded.
 */
export class Oversight {
  readonly #o: OversightOptions;

  constructor(options: OversightOptions) {
    this.#o = options;
  }

  async requestBreakGlass(principal: Principal, request: BreakGlassRequest): Promise<BreakGlassRecord> {
    const { store, policy } = this.#o;
    const role = policy.roles[principal.role];
    if (role === undefined || !role.breakGlass) {
      throw new CustodianError('ERR_ACCESS_DENIED', `role "${principal.role}" may not use break-glass`);
    }
    if (!policy.permitsPurpose(principal.role, request.purpose)) {
      throw new CustodianError(
        'ERR_PURPOSE_NOT_PERMITTED',
        `role "${principal.role}" may not act for purpose "${request.purpose}"`,
      );
    }
    const minutes = request.minutes ?? this.#o.breakGlassMaxMinutes;
    if (minutes > this.#o.breakGlassMaxMinutes || minutes < 1) {
      throw new CustodianError(
        'ERR_VALIDATION_FAILED',
        `a break-glass grant lasts 1 to ${this.#o.breakGlassMaxMinutes} minutes`,
      );
    }
    const now = this.#o.now();
    const grant: BreakGlassRecord = {
      id: uuidv7(now.getTime()),
      principalId: principal.id,
      role: principal.role,
      subjectId: request.subjectId,
      purpose: request.purpose,
      justification: request.justification,
      ticket: request.ticket,
      grantedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + minutes * 60_000).toISOString(),
      revokedAt: null,
      reviewedBy: null,
      reviewedAt: null,
      reviewOutcome: null,
      reviewNote: null,
    };
    await store.transaction(async (tx) => {
      const subject = await tx.subjects.get(request.subjectId);
      if (subject === undefined) throw new CustodianError('ERR_SUBJECT_NOT_FOUND', 'no such subject');
      if (subject.erasedAt !== null)
        throw new CustodianError('ERR_SUBJECT_ERASED', 'the subject has been erased');
      await tx.breakGlass.insert(grant);
      await appendAudit(tx, [
        this.#entry(
          principal,
          'break-glass.grant',
          request.subjectId,
          {
            grantId: grant.id,
            ticket: grant.ticket,
            minutes,
          },
          request.purpose,
        ),
      ]);
    });
    await this.#o.notifier.notify({
      kind: 'break-glass.granted',
      severity: 'warning',
      summary: `Break-glass access granted to ${principal.name} (${principal.role}) for ${minutes} minutes`,
      at: grant.grantedAt,
      details: {
        grantId: grant.id,
        principal: principal.id,
        role: principal.role,
        purpose: grant.purpose,
        ticket: grant.ticket,
        expiresAt: grant.expiresAt,
      },
    });
    return grant;
  }

  /** One page of the grants waiting for review, newest first. */
  pendingReviews(request: PageRequest = {}): Promise<Page<BreakGlassRecord>> {
    return page(request, (q) => this.#o.store.breakGlass.pendingReview(q));
  }

  /** A second person closes the review; the person who broke the glass cannot. */
  async reviewBreakGlass(
    reviewer: Principal,
    id: string,
    outcome: 'justified' | 'unjustified',
    note: string,
  ): Promise<BreakGlassRecord> {
    const at = this.#o.now().toISOString();
    return this.#o.store.transaction(async (tx) => {
      const grant = await tx.breakGlass.byId(id);
      if (grant === undefined)
        throw new CustodianError('ERR_BREAKGLASS_NOT_FOUND', 'no such break-glass grant');
      if (grant.principalId === reviewer.id) {
        throw new CustodianError(
          'ERR_APPROVAL_SECOND_PERSON',
          'a break-glass grant is reviewed by someone other than its user',
        );
      }
      if (!(await tx.breakGlass.review(id, reviewer.id, at, outcome, note))) {
        throw new CustodianError('ERR_BREAKGLASS_REVIEWED', 'this grant has been reviewed already');
      }
      await appendAudit(tx, [
        this.#entry(reviewer, 'break-glass.review', grant.subjectId, { grantId: id, outcome }),
      ]);
      return { ...grant, reviewedBy: reviewer.id, reviewedAt: at, reviewOutcome: outcome, reviewNote: note };
    });
  }

  /** Files an export; above the threshold it waits for a second person's approval. */
  async requestExport(principal: Principal, request: ExportRequest): Promise<ExportRecord> {
    const { policy } = this.#o;
    if (!this.#o.vault.datamap.purposes.some((p) => p.id === request.purpose)) {
      throw new CustodianError(
        'ERR_PURPOSE_UNKNOWN',
        `purpose "${request.purpose}" is not declared in the data map`,
      );
    }
    if (!policy.permitsPurpose(principal.role, request.purpose)) {
      throw new CustodianError(
        'ERR_PURPOSE_NOT_PERMITTED',
        `role "${principal.role}" may not act for purpose "${request.purpose}"`,
      );
    }
    // R31: buyer order data (他人信息) leaves only for a registered processor serving fulfilment,
    // or for the recipient a legal obligation names — judged on what this role's export can hold
    // for that recipient (the file carries only the categories it is registered to receive).
    assertExportAllowed({
      purpose: request.purpose,
      recipientId: request.recipientId,
      datamap: this.#o.vault.datamap,
      categories: this.#exportCategories(principal.role, request.purpose, request.recipientId),
    });
    const subjectIds = [...new Set(request.subjectIds)];
    const needsApproval = subjectIds.length > this.#o.exportThreshold;
    const now = this.#o.now().toISOString();
    const record: ExportRecord = {
      id: uuidv7(),
      requestedBy: principal.id,
      requesterRole: principal.role,
      purpose: request.purpose,
      subjectIds,
      recipient: request.recipient,
      recipientId: request.recipientId ?? null,
      status: needsApproval ? 'pending' : 'approved',
      decidedBy: needsApproval ? null : 'policy:below-threshold',
      decidedAt: needsApproval ? null : now,
      decisionNote: needsApproval
        ? null
        : `${subjectIds.length} subjects, threshold ${this.#o.exportThreshold}`,
      createdAt: now,
      downloadedAt: null,
    };
    await this.#o.store.transaction(async (tx) => {
      await tx.exports.insert(record);
      await appendAudit(tx, [
        this.#entry(
          principal,
          'export.request',
          null,
          {
            exportId: record.id,
            subjects: subjectIds.length,
            status: record.status,
            ...(record.recipientId === null ? {} : { recipient: record.recipientId }),
          },
          request.purpose,
        ),
      ]);
    });
    if (needsApproval) {
      await this.#o.notifier.notify({
        kind: 'export.approval-needed',
        severity: 'info',
        summary: `An export of ${subjectIds.length} subjects waits for approval`,
        at: now,
        details: {
          exportId: record.id,
          requestedBy: principal.id,
          role: principal.role,
          purpose: record.purpose,
          subjects: subjectIds.length,
        },
      });
    }
    return record;
  }

  /**
   * The field categories an export by `role` for `purpose` can carry: every declared field the
   * engine would show clear or masked, granting consent and training (the most it could hold).
   */
  #exportCategories(role: string, purpose: string, recipientId: string | undefined): string[] {
    const only = this.#recipientCategories(recipientId ?? null);
    const categories = new Set<string>();
    for (const [collection, spec] of Object.entries(this.#o.vault.datamap.collections))
      for (const [field, f] of Object.entries(spec.fields)) {
        const decision = this.#o.policy.decide({
          role,
          purpose,
          collection,
          field,
          trainingCurrent: true,
          breakGlass: false,
          consent: { purpose: true, sensitive: true, minor: false },
        });
        if (decision.access !== 'withheld' && (only === undefined || only.has(f.category)))
          categories.add(f.category);
      }
    return [...categories];
  }

  /** What a named recipient is registered to receive; undefined for an internal export. */
  #recipientCategories(recipientId: string | null): ReadonlySet<string> | undefined {
    if (recipientId === null) return undefined;
    const recipient = this.#o.vault.datamap.recipients.find((r) => r.id === recipientId);
    // Unknown recipients are refused at request; one dropped from the data map since gets nothing.
    return new Set<string>(recipient?.categories ?? []);
  }

  /** One page of export requests, optionally of one status, newest first; without subject ids. */
  listExports(
    request: PageRequest & { readonly status?: ExportRecord['status'] | undefined } = {},
  ): Promise<Page<ExportSummary>> {
    return page(request, (q) => this.#o.store.exports.list({ ...q, status: request.status }));
  }

  /** Approves or denies a pending export; never by the person who asked for it. */
  async decideExport(approver: Principal, id: string, approve: boolean, note: string): Promise<ExportRecord> {
    const at = this.#o.now().toISOString();
    return this.#o.store.transaction(async (tx) => {
      const record = await tx.exports.byId(id);
      if (record === undefined) throw new CustodianError('ERR_EXPORT_NOT_FOUND', 'no such export');
      if (record.requestedBy === approver.id) {
        throw new CustodianError(
          'ERR_APPROVAL_SECOND_PERSON',
          'an export is approved by someone other than who asked for it',
        );
      }
      const to = approve ? 'approved' : 'denied';
      if (
        !(await tx.exports.transition(id, 'pending', to, {
          decidedBy: approver.id,
          decidedAt: at,
          decisionNote: note,
        }))
      ) {
        throw new CustodianError('ERR_EXPORT_STATE', `the export is ${record.status}, not pending`);
      }
      await appendAudit(tx, [
        this.#entry(approver, 'export.decide', null, { exportId: id, outcome: to }, record.purpose),
      ]);
      return { ...record, status: to, decidedBy: approver.id, decidedAt: at, decisionNote: note };
    });
  }

  /**
   * Builds and encrypts the export file for its requester, once. Every subject in it gets an
   * `export` audit entry, and the download one of its own.
   */
  async downloadExport(
    principal: Principal,
    id: string,
    to: ExportSealTo,
  ): Promise<{ file: Buffer; record: ExportRecord; subjects: number }> {
    const { store, vault } = this.#o;
    const record = await store.exports.byId(id);
    if (record === undefined) throw new CustodianError('ERR_EXPORT_NOT_FOUND', 'no such export');
    if (record.requestedBy !== principal.id)
      throw new CustodianError('ERR_ACCESS_DENIED', 'only the requester downloads an export');
    if (record.status !== 'approved')
      throw new CustodianError('ERR_EXPORT_STATE', `the export is ${record.status}, not approved`);
    if (record.recipient.kind !== (to.kind === 'passphrase' ? 'passphrase' : 'public-key')) {
      throw new CustodianError(
        'ERR_VALIDATION_FAILED',
        `this export is encrypted with a ${record.recipient.kind}`,
      );
    }
    const { views, skipped, withoutConsent } = await vault.exportViews(
      principal,
      record.subjectIds,
      record.purpose,
      id,
      this.#recipientCategories(record.recipientId),
      // Judged per customer at download, against the consents as they stand then (R2, R28).
      separateConsentsForRecipient(vault.datamap, record.purpose, record.recipientId),
    );
    const at = this.#o.now().toISOString();
    const payload = Buffer.from(
      JSON.stringify({
        exportId: id,
        purpose: record.purpose,
        generatedAt: at,
        skipped,
        withoutConsent,
        subjects: views,
      }),
      'utf8',
    );
    const file = sealExport(payload, to);
    payload.fill(0);
    await store.transaction(async (tx) => {
      if (!(await tx.exports.transition(id, 'approved', 'downloaded', { downloadedAt: at }))) {
        throw new CustodianError('ERR_EXPORT_STATE', 'the export was downloaded already');
      }
      await appendAudit(tx, [
        this.#entry(
          principal,
          'export.download',
          null,
          { exportId: id, subjects: views.length, skipped, withoutConsent },
          record.purpose,
        ),
      ]);
    });
    return { file, record: { ...record, status: 'downloaded', downloadedAt: at }, subjects: views.length };
  }

  #entry(
    principal: Principal,
    action: AuditEntry['action'],
    subjectId: string | null,
    detail: Record<string, string | number | boolean>,
    purpose?: string,
  ): AuditEntry {
    return {
      v: 1,
      at: this.#o.now().toISOString(),
      action,
      actor: { id: principal.id, role: principal.role },
      subject: subjectId === null ? null : this.#o.pseudonymize(subjectId),
      ...(purpose === undefined ? {} : { purpose }),
      detail,
    };
  }
}
