import type { KeyObject } from 'node:crypto';
import { PooledNonceSource, type AeadSuite, type AeadSuiteId, type NonceSource } from '../crypto/aead.js';
import type { BlindIndexer, BlindIndexerOptions } from '../crypto/blind-index.js';
import { openField } from '../crypto/envelope.js';
import { uuidv7 } from '../crypto/uuid.js';
import type { Access } from '../domain/access/decide.js';
import type { AccessPolicy, Decision, Reason } from '../domain/access/engine.js';
import type { AuditEntry } from '../domain/audit/entry.js';
import { ageOn, BIRTH_DATE_CATEGORIES, birthDateFrom, isMinorAge } from '../domain/consent/age.js';
import type { SeparateConsentNeed } from '../domain/consent/rules.js';
import type { ConsentFacts } from '../domain/consent/state.js';
import type { Datamap } from '../domain/datamap/schema.js';
import { CATEGORIES } from '../domain/datamap/taxonomy.js';
import { CustodianError, isCustodianError } from '../domain/errors.js';
import { mask } from '../domain/masking.js';
import type { Keyring, SubjectKey } from '../keys/keyring.js';
import type {
  IdentityLookup,
  IdentityRecord,
  RecordRow,
  Repositories,
  Store,
  SubjectKeyRecord,
} from '../store/store.js';
import { appendAudit } from './audit.js';
import {
  collectionSpec,
  lookupKey,
  prepareCollect,
  sealPlanned,
  unpackSealed,
  type CollectCarry,
  type CollectInput,
  type CollectMeta,
  type CollectPlan,
  type IdentityKind,
  type IdentityWrite,
  type PlannedSubject,
  type PreparedCollect,
  type ScreenedFieldReport,
  type SealedBatch,
} from './collect-plan.js';
import { decodeSealedFields } from './sealed-record.js';
import type { Principal } from './tokens.js';

export { IDENTITY_KINDS, identityContext } from './collect-plan.js';
export type { CollectInput, IdentityKind } from './collect-plan.js';

/**
 * Identities that identify a customer on their own. A phone or email alone never merges two
 * platform buyers: a shared family phone or a Taobao virtual number would otherwise join them (R30).
 */
const STRONG_KINDS: readonly IdentityKind[] = ['oaid', 'memberId'];
const WEAK_KINDS: readonly IdentityKind[] = ['email', 'phone'];

export interface CollectResult {
  readonly subjectId: string;
  readonly recordId: string;
  /** True when this collect created the subject. */
  readonly created: boolean;
  /** Fields dropped because the purpose does not need them (collections with `minimise: strip`). */
  readonly stripped: string[];
  /** Free-text fields in which personal data was masked or flagged. */
  readonly screened: ScreenedFieldReport[];
}

export interface FieldView {
  readonly access: Access;
  readonly value?: string;
  readonly reason?: Reason;
}

export interface RecordView {
  readonly recordId: string;
  readonly collection: string;
  readonly fields: Record<string, FieldView>;
}

export interface SubjectView {
  readonly subjectId: string;
  readonly records: RecordView[];
}

/** What an erasure leaves as proof: no personal data, just what was destroyed and where the log records it. */
export interface ShredReceipt {
  readonly receiptId: string;
  readonly subjectId: string;
  readonly erasedAt: string;
  readonly keyVersionsDestroyed: number;
  readonly recordsDeleted: number;
  readonly identitiesDeleted: number;
  readonly auditSeq: number;
  /** Hex RFC 9162 leaf hash of the erase entry in the Merkle audit log (leaf index `auditSeq - 1`). */
  readonly auditHash: string;
}

/** See {@link Vault.threadSettings}. */
export interface VaultThreadSettings {
  readonly indexer: BlindIndexerOptions;
  readonly suite: AeadSuiteId;
}

export interface VaultOptions {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly indexer: BlindIndexer;
  readonly datamap: Datamap;
  /** The decision engine: role × purpose × field (default deny). */
  readonly policy: AccessPolicy;
  readonly suite: AeadSuite;
  readonly pseudonymize: (subjectId: string) => string;
  readonly now: () => Date;
  readonly nonces?: NonceSource;
  /**
   * Called after an erase commits, so the engine can scrub freed pages (SQLite WAL checkpoint). The
   * erase has happened whatever it does: the hook deals with its own failures (the runtime logs
   * them and tries again), and one it throws is not the erase's.
   */
  readonly afterErase?: () => Promise<void>;
  /**
   * Group commit for reads and searches, which change nothing (`AuditGroupCommit`): while other
   * reads are in flight, their audit entries are appended together in transactions of their own;
   * it settles once they are committed, and the data is returned only then (fail closed). A read
   * running alone, or any read without this option, appends inside its own transaction.
   */
  readonly readAudit?: (entries: readonly AuditEntry[]) => Promise<unknown>;
  /**
   * The consent ledger (src/services/consent.ts): reads, searches and exports for a purpose that
   * rests on consent ask it. Without it such reads withhold every field (fail closed).
   */
  readonly consent?: ConsentSource;
}

/** What the vault asks the consent ledger before showing data for a consent-based purpose. */
export interface ConsentSource {
  /**
   * The consent facts of one subject for `purpose`, inside the read's unit of work. `minor` tells,
   * from the subject's stored data, whether they are under 14; it decrypts, so call it only if needed.
   */
  facts(
    tx: Repositories,
    subjectId: string,
    purpose: string,
    minor: () => Promise<boolean>,
  ): Promise<ConsentFacts>;
  /**
   * Whether the subject's latest word on `purpose` is a withdrawal or a refusal, inside the
   * collect's unit of work: collecting more for that purpose is processing too (R4).
   */
  declined(
    tx: Repositories,
    subjectId: string,
    purpose: string,
    kind?: 'purpose' | 'sensitive_pi',
  ): Promise<boolean>;
  /**
   * Whether every separate consent in `needs` stands for the subject and purpose (R2, R28), inside
   * the export's unit of work. `minor` as for {@link facts}.
   */
  separateStand(
    tx: Repositories,
    subjectId: string,
    purpose: string,
    needs: readonly SeparateConsentNeed[],
    minor: () => Promise<boolean>,
  ): Promise<boolean>;
}

/**
 * The vault's use cases: collect, read, search and erase. Each runs as one unit of work that
 * includes its audit entry, so nothing happens to personal data without a record of it.
 */
export class Vault {
  readonly #o: VaultOptions;
  /** Reads and searches in flight: when there are others, audit entries go to group commit. */
  #reads = 0;

  constructor(options: VaultOptions) {
    this.#o = options;
  }

  get datamap(): Datamap {
    return this.#o.datamap;
  }

  /**
   * What a worker thread of this process needs to prepare and seal records as this vault does
   * ({@link prepareCollect}, {@link sealPlanned}): the blind-index roots and the AEAD suite.
   * Undefined when they cannot be rebuilt there (custom normalisers, a test's nonce source).
   */
  threadSettings(): VaultThreadSettings | undefined {
    const indexer = this.#o.indexer.portable();
    if (
      indexer === undefined ||
      (this.#o.nonces !== undefined && !(this.#o.nonces instanceof PooledNonceSource))
    )
      return undefined;
    return { indexer, suite: this.#o.suite.id };
  }

  /**
   * Stores one record: validates it against the data map (undeclared fields are refused and
   * nothing is stored), finds or creates the subject by blind index, seals every personal field
   * under the subject's key and indexes its identities.
   */
  async collect(principal: Principal, input: CollectInput): Promise<CollectResult> {
    const [result] = await this.collectMany(principal, [input]);
    return result!;
  }

  /** Several records in one unit of work: all are stored or none is (imports use this per batch). */
  async collectMany(principal: Principal, inputs: readonly CollectInput[]): Promise<CollectResult[]> {
    checkJoins(inputs);
    const prepared = inputs.map((input) => this.#prepare(principal, input));
    // A concurrent collect may create the same new buyer first (unique platform identity); the
    // retry then finds that subject instead of creating a second one.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#o.store.transaction((tx) => this.#collectPrepared(tx, principal, prepared));
      } catch (error) {
        if (attempt >= 3 || !(error instanceof CustodianError && error.code === 'ERR_STORE_CONFLICT'))
          throw error;
      }
    }
  }

  /**
   * {@link collectMany} inside a unit of work the caller runs (`store.transaction`), so that what
   * the caller writes beside the records (an import's bookkeeping) commits with them or not at
   * all. The caller retries on `ERR_STORE_CONFLICT`.
   */
  async collectManyIn(
    tx: Repositories,
    principal: Principal,
    inputs: readonly CollectInput[],
  ): Promise<CollectResult[]> {
    checkJoins(inputs);
    const prepared = inputs.map((input) => this.#prepare(principal, input));
    return this.#collectPrepared(tx, principal, prepared);
  }

  /**
   * Refuses what {@link collectMany} refuses before it looks at any value: an undeclared
   * collection, and a purpose the principal may not act for. A caller that prepares records itself
   * ({@link prepareCollect}, e.g. in a worker thread) checks each collection and purpose here first.
   */
  checkCollect(principal: Principal, collection: string, purpose: string): void {
    collectionSpec(this.#o.datamap, collection);
    this.#requirePurpose(purpose, principal);
  }

  /**
   * The first of the three steps of a collect that a caller may run apart (the file importer: the
   * next batch planned and sealed while this one is written): each record's subject found (or
   * made, with a new key), its record id and the identities to write. `ahead` plans outside the
   * unit of work that will write, after the records of `carry` (planned, not yet committed), and
   * {@link commitCollect} then checks the plan again; otherwise `reads` is that unit of work.
   */
  async planCollect(
    reads: Repositories,
    metas: readonly CollectMeta[],
    options: { readonly ahead: boolean; readonly carry?: CollectCarry | undefined },
  ): Promise<CollectPlan> {
    const at = this.#o.now().toISOString();
    const { subjects, held, created, known, newKeys, matches } = await this.#subjectsFor(
      reads,
      metas,
      at,
      options,
    );
    const recordIds: string[] = [];
    const writes: IdentityWrite[] = [];
    const written = new PairMap<true>();
    metas.forEach((p, i) => {
      recordIds.push(uuidv7());
      const { subjectId } = subjects[i]!;
      p.identities.forEach((identity, j) => {
        // An identity the store already holds for this subject is not sealed and written again.
        const { key: row } = identity.current;
        if (held.get(subjectId, row) || written.get(subjectId, row)) return;
        written.set(subjectId, row, true);
        writes.push({ record: i, identity: j });
      });
    });
    const keys = new Map<string, SubjectKey>();
    for (const s of subjects) keys.set(s.subjectId, s.key);
    return {
      at,
      ahead: options.ahead,
      subjects,
      recordIds,
      writes,
      created,
      known,
      newKeys,
      carry: { matches, keys, created: new Set(created) },
    };
  }

  /** The records of a plan sealed in this thread (see {@link sealPlanned}). */
  sealPlan(prepared: readonly PreparedCollect[], plan: CollectPlan): SealedBatch {
    return unpackSealed(sealPlanned(prepared, plan, { suite: this.#o.suite, nonces: this.#o.nonces }));
  }

  /**
   * The last step: the plan's new subjects and keys, its sealed records and identities and one
   * `collect` audit entry per subject and purpose (R17), written in the caller's unit of work. A
   * plan made `ahead` is checked again first: its known subjects locked, neither erased
   * nor rekeyed since, and no consent for the purpose withdrawn (R4); a change refuses the batch
   * with the code a collect would have given, or `ERR_STORE_CONFLICT` for a new key version, so
   * the caller collects those records again in one unit of work.
   */
  async commitCollect(
    tx: Repositories,
    principal: Principal,
    metas: readonly CollectMeta[],
    plan: CollectPlan,
    sealed: SealedBatch,
  ): Promise<CollectResult[]> {
    const { subjects } = plan;
    // The time of the writing: a plan made ahead is some batches older, and the audit log's entries
    // follow the order they are committed in.
    const at = plan.ahead ? this.#o.now().toISOString() : plan.at;
    if (plan.ahead && plan.known.length > 0) {
      await tx.subjects.lockMany(plan.known);
      const stored = new Map((await tx.keys.currentMany(plan.known)).map((k) => [k.subjectId, k.version]));
      await this.#checkKnown(tx, plan.known);
      const made = new Set(plan.created);
      for (const s of subjects)
        if (!made.has(s.subjectId) && stored.get(s.subjectId) !== s.key.version)
          throw new CustodianError('ERR_STORE_CONFLICT', 'a subject key changed while the batch was sealed');
      await this.#refuseDeclined(
        tx,
        metas,
        subjects.map((s) => s.subjectId),
        made,
      );
    }
    if (plan.created.length > 0) {
      await tx.subjects.insertMany(plan.created.map((id) => ({ id, createdAt: at })));
      await tx.keys.insertMany(plan.newKeys);
    }
    const results: CollectResult[] = [];
    const records: RecordRow[] = [];
    const entries: CollectEntry[] = [];
    const entryOf = new PairMap<CollectEntry>();
    metas.forEach((p, i) => {
      const { subjectId, key, created } = subjects[i]!;
      const recordId = plan.recordIds[i]!;
      records.push({
        id: recordId,
        subjectId,
        collection: p.collection,
        keyVersion: key.version,
        sealed: sealed.records[i]!,
        plain: p.plain,
        purpose: p.purpose,
        source: p.source ?? null,
        createdAt: at,
        updatedAt: at,
      });
      // One entry per subject and purpose for the whole call (R17): its records and fields.
      let entry = entryOf.get(subjectId, p.purpose);
      if (entry === undefined) {
        entry = {
          subjectId,
          purpose: p.purpose,
          records: [],
          fields: new Map(),
          created: false,
          identities: 0,
          stripped: 0,
          screened: [],
        };
        entryOf.set(subjectId, p.purpose, entry);
        entries.push(entry);
      }
      entry.records.push(recordId);
      let fields = entry.fields.get(p.collection);
      if (fields === undefined) entry.fields.set(p.collection, (fields = new Set()));
      for (const f of p.fieldNames) fields.add(f);
      entry.created ||= created;
      entry.identities += p.identities.length;
      entry.stripped += p.stripped.length;
      for (const x of p.screened)
        entry.screened.push(`${p.collection}.${x.field}:${x.action}:${x.types.join('+')}`);
      results.push({ subjectId, recordId, created, stripped: [...p.stripped], screened: [...p.screened] });
    });
    const identities: IdentityRecord[] = plan.writes.map((w, n) => {
      const { subjectId, key } = subjects[w.record]!;
      const identity = metas[w.record]!.identities[w.identity]!;
      return {
        subjectId,
        kind: identity.kind,
        indexVersion: identity.current.indexVersion,
        token: identity.current.token,
        sealed: sealed.identities[n]!,
        keyVersion: key.version,
        createdAt: at,
      };
    });
    await tx.records.insertMany(records);
    await tx.identities.insertMany(identities);
    await appendAudit(
      tx,
      entries.map((e) => ({
        v: 1,
        at,
        action: 'collect',
        actor: { id: principal.id, role: principal.role },
        subject: this.#o.pseudonymize(e.subjectId),
        purpose: e.purpose,
        records: e.records,
        fields: [...e.fields].flatMap(([collection, fields]) => [...fields].map((f) => `${collection}.${f}`)),
        detail: {
          newSubject: e.created,
          identities: e.identities,
          stripped: e.stripped,
          screened: e.screened.join(' '),
        },
      })),
    );
    return results;
  }

  /** A collect in the caller's unit of work: planned, sealed here and written. */
  async #collectPrepared(
    tx: Repositories,
    principal: Principal,
    prepared: readonly PreparedCollect[],
  ): Promise<CollectResult[]> {
    // Set-based: one identity lookup, one read of the known subjects and their keys, then one
    // multi-row insert per table for the whole batch, and one audit append.
    const plan = await this.planCollect(tx, prepared, { ahead: false });
    return this.commitCollect(tx, principal, prepared, plan, this.sealPlan(prepared, plan));
  }

  /** A subject's records as the purpose may see them: each field clear, masked or withheld. */
  async read(principal: Principal, subjectId: string, purpose: string): Promise<SubjectView> {
    await this.#refuseUnpermittedRead(principal, purpose, subjectId);
    const at = this.#o.now().toISOString();
    return this.#audited(async (tx) => {
      const subject = await tx.subjects.get(subjectId);
      if (subject === undefined) throw new CustodianError('ERR_SUBJECT_NOT_FOUND', 'no such subject');
      if (subject.erasedAt !== null)
        throw new CustodianError('ERR_SUBJECT_ERASED', 'the subject has been erased');
      const { view, entry } = await this.#view(tx, principal, subjectId, purpose, 'read', at);
      return { result: view, entries: [entry] };
    });
  }

  /** Subjects whose identity of `kind` equals `value` (after normalisation), as the purpose may see them. */
  async search(
    principal: Principal,
    kind: IdentityKind,
    value: string,
    purpose: string,
  ): Promise<SubjectView[]> {
    await this.#refuseUnpermittedRead(principal, purpose, null);
    const lookups = this.#o.indexer
      .lookupTokens(kind, value)
      .map((t) => ({ kind, indexVersion: t.version, token: t.token }));
    const at = this.#o.now().toISOString();
    return this.#audited(async (tx) => {
      const matches = [...new Set((await tx.identities.findSubjects(lookups)).map((m) => m.subjectId))];
      const views: SubjectView[] = [];
      const entries: AuditEntry[] = [];
      for (const subjectId of matches) {
        const subject = await tx.subjects.get(subjectId);
        if (subject === undefined || subject.erasedAt !== null) continue;
        const { view, entry } = await this.#view(tx, principal, subjectId, purpose, 'search', at);
        views.push(view);
        entries.push({ ...entry, detail: { by: kind } });
      }
      if (entries.length === 0) {
        entries.push({
          v: 1,
          at,
          action: 'search',
          actor: { id: principal.id, role: principal.role },
          subject: null,
          purpose,
          detail: { by: kind, matches: 0 },
        });
      }
      return { result: views, entries };
    });
  }

  /**
   * The views of many subjects for an export, decided by the same engine as reads, with one
   * `export` audit entry per subject in the same unit of work. Erased and unknown subjects are
   * skipped and counted.
   */
  async exportViews(
    principal: Principal,
    subjectIds: readonly string[],
    purpose: string,
    exportId: string,
    categories?: ReadonlySet<string>,
    needs: readonly SeparateConsentNeed[] = [],
  ): Promise<{ views: SubjectView[]; skipped: number; withoutConsent: number }> {
    this.#requirePurpose(purpose, principal);
    const at = this.#o.now().toISOString();
    return this.#o.store.transaction(async (tx) => {
      const views: SubjectView[] = [];
      const entries: AuditEntry[] = [];
      let skipped = 0;
      let withoutConsent = 0;
      for (const subjectId of subjectIds) {
        const subject = await tx.subjects.get(subjectId);
        if (subject === undefined || subject.erasedAt !== null) {
          skipped++;
          continue;
        }
        // A customer whose separate consent to this provision does not stand is left out (R2,
        // R28); without a ledger none can stand (fail closed).
        if (
          needs.length > 0 &&
          (this.#o.consent === undefined ||
            !(await this.#o.consent.separateStand(tx, subjectId, purpose, needs, async () => {
              const age = await this.ageOf(subjectId, tx);
              return age !== undefined && isMinorAge(age);
            })))
        ) {
          withoutConsent++;
          continue;
        }
        const { view, entry } = await this.#view(tx, principal, subjectId, purpose, 'export', at, categories);
        views.push(view);
        entries.push({ ...entry, detail: { ...entry.detail, exportId } });
      }
      await appendAudit(tx, entries);
      return { views, skipped, withoutConsent };
    });
  }

  /**
   * Crypto-shreds a subject: destroys every version of its data key and its index rows, deletes
   * its ciphertexts, keeps a tombstone, and returns a receipt. Copies of the data taken earlier
   * can no longer be decrypted once the key backups rotate, even with the root key.
   */
  async erase(principal: Principal, subjectId: string): Promise<ShredReceipt> {
    const at = this.#o.now().toISOString();
    const receipt = await this.#o.store.transaction(async (tx) => {
      await tx.subjects.lock(subjectId);
      const subject = await tx.subjects.get(subjectId);
      if (subject === undefined) throw new CustodianError('ERR_SUBJECT_NOT_FOUND', 'no such subject');
      if (subject.erasedAt !== null)
        throw new CustodianError('ERR_SUBJECT_ERASED', 'the subject has been erased already');
      const keyVersionsDestroyed = await tx.keys.deleteForSubject(subjectId);
      const identitiesDeleted = await tx.identities.deleteForSubject(subjectId);
      const recordsDeleted = await tx.records.deleteForSubject(subjectId);
      // Consent events stay as proof of consent, unlinked and without their evidence hashes (docs/consent.md).
      const consentsUnlinked = await tx.consents.unlinkSubject(subjectId);
      // Privacy-centre sign-in codes (keyed hashes of the phone or email) and sessions go too.
      await tx.privacy.deleteSignInsFor(subjectId);
      await tx.subjects.markErased(subjectId, at);
      const receiptId = uuidv7();
      const [row] = await appendAudit(tx, [
        {
          v: 1,
          at,
          action: 'erase',
          actor: { id: principal.id, role: principal.role },
          subject: this.#o.pseudonymize(subjectId),
          detail: { receiptId, keyVersionsDestroyed, recordsDeleted, identitiesDeleted, consentsUnlinked },
        },
      ]);
      return {
        receiptId,
        subjectId,
        erasedAt: at,
        keyVersionsDestroyed,
        recordsDeleted,
        identitiesDeleted,
        auditSeq: row!.seq,
        auditHash: row!.hash.toString('hex'),
      } satisfies ShredReceipt;
    });
    this.#o.keyring.forget(subjectId);
    try {
      await this.#o.afterErase?.();
    } catch {
      // Committed is committed: the caller gets the receipt, not an error for a finished erase.
    }
    return receipt;
  }

  /**
   * The subject's age in whole years today (China Standard Time), from a stored birth date or
   * resident id number (the youngest if they disagree); undefined when none is stored. For the
   * minors' rules (R3): it decrypts inside the vault and is not a read, so it is not audited on
   * its own — the consent change that asks for it is.
   */
  async ageOf(subjectId: string, within?: Repositories): Promise<number | undefined> {
    const today = this.#o.now();
    const work = async (tx: Repositories): Promise<number | undefined> => {
      const records = await tx.records.listForSubject(subjectId);
      return this.#age(records, subjectId, this.#keyLoader(tx, subjectId), today);
    };
    return within === undefined ? this.#o.store.transaction(work) : work(within);
  }

  // ------------------------------------------------------------------------------------------

  /**
   * A read-only unit of work and its audit entries: appended inside it when it runs alone, handed
   * to group commit (`readAudit`) when other reads are in flight. Either way the result is
   * returned only after the entries are committed; if they cannot be, the read fails (fail closed).
   */
  async #audited<T>(work: (tx: Repositories) => Promise<{ result: T; entries: AuditEntry[] }>): Promise<T> {
    const group = this.#o.readAudit;
    const grouped = group !== undefined && this.#reads > 0;
    this.#reads++;
    try {
      const unit = () =>
        this.#o.store.transaction(async (tx) => {
          const done = await work(tx);
          if (!grouped) await appendAudit(tx, done.entries);
          return done;
        });
      let done: { result: T; entries: AuditEntry[] };
      try {
        done = await unit();
      } catch (error) {
        // PostgreSQL reads at READ COMMITTED: a subject-key rotation or an erase that commits
        // between listing a subject's records and fetching their key leaves that key version
        // gone, which reads as a failed decryption. The read runs once more, on what is committed
        // then; tampering fails again and is reported as such.
        if (!isCustodianError(error) || error.code !== 'ERR_CRYPTO_DECRYPTION_FAILED') throw error;
        done = await unit();
      }
      const { result, entries } = done;
      if (grouped) await group(entries);
      return result;
    } finally {
      this.#reads--;
    }
  }

  /**
   * {@link #requirePurpose} for reads and searches, with the refusal of a declared purpose the role
   * may not act for written to the audit log first: a read that showed nothing, every field the
   * purpose reaches withheld as `purpose-not-permitted`, so the `repeated-denied` anomaly rule
   * counts it like any other. An unknown purpose is a caller's mistake, refused unlogged.
   */
  async #refuseUnpermittedRead(
    principal: Principal,
    purpose: string,
    subjectId: string | null,
  ): Promise<void> {
    try {
      this.#requirePurpose(purpose, principal);
    } catch (error) {
      if (!isCustodianError(error) || error.code !== 'ERR_PURPOSE_NOT_PERMITTED') throw error;
      const withheld = Object.entries(this.#o.datamap.collections).flatMap(([collection, spec]) =>
        Object.entries(spec.fields)
          .filter(([, f]) => Object.hasOwn(f.purposes, purpose))
          .map(([field]) => `${collection}.${field}`),
      );
      const entry: AuditEntry = {
        v: 1,
        at: this.#o.now().toISOString(),
        action: subjectId === null ? 'search' : 'read',
        actor: { id: principal.id, role: principal.role },
        subject: subjectId === null ? null : this.#o.pseudonymize(subjectId),
        purpose,
        decision: {
          clear: [],
          masked: [],
          withheld: withheld.sort(),
          withheldReasons: ['purpose-not-permitted'],
        },
        detail: { refused: 'ERR_PURPOSE_NOT_PERMITTED' },
      };
      await this.#o.store.transaction((tx) => appendAudit(tx, [entry]));
      throw error;
    }
  }

  /** Fail closed: the purpose must be declared, and the caller's role must be allowed to act for it. */
  #requirePurpose(purpose: string, principal?: Principal): void {
    if (!this.#o.datamap.purposes.some((p) => p.id === purpose)) {
      throw new CustodianError(
        'ERR_PURPOSE_UNKNOWN',
        `purpose "${purpose}" is not declared in the data map`,
        {
          details: { purpose },
        },
      );
    }
    if (principal !== undefined && !this.#o.policy.permitsPurpose(principal.role, purpose)) {
      throw new CustodianError(
        'ERR_PURPOSE_NOT_PERMITTED',
        `role "${principal.role}" may not act for purpose "${purpose}"`,
        {
          details: { role: principal.role, purpose },
        },
      );
    }
  }

  #prepare(principal: Principal, input: CollectInput): PreparedCollect {
    const spec = collectionSpec(this.#o.datamap, input.collection);
    this.#requirePurpose(input.purpose, principal);
    // Minimisation (R11, PIPL Art. 6): only the fields the stated purpose needs; free text screened for PII.
    return prepareCollect(this.#o.datamap, this.#o.indexer, spec, input);
  }

  /**
   * The subject of each prepared record, as one collect after another would find or create it:
   * a record names its subject, or its identities find one by blind index (strong identities decide
   * when given, weak ones only otherwise — R30), or a new subject is made. Identities written by
   * earlier records of the batch count as if they were stored already, so two orders of one new
   * buyer in a batch make one subject; so do those of a `carry`, the batch planned before this one.
   * Reads the store once per step, not once per record.
   */
  async #subjectsFor(
    tx: Repositories,
    prepared: readonly CollectMeta[],
    at: string,
    options: { readonly ahead: boolean; readonly carry?: CollectCarry | undefined },
  ): Promise<{
    subjects: PlannedSubject[];
    /** Identities the store holds already (subject, {@link lookupKey}): found by the lookup. */
    held: PairMap<true>;
    created: string[];
    known: string[];
    newKeys: SubjectKeyRecord[];
    /** Every identity of the batch and its subject ({@link lookupKey} of its current lookup). */
    matches: Map<string, string>;
  }> {
    const { carry } = options;
    const lookupsOf = prepared.map((p) => {
      if (p.subjectId !== undefined || p.subjectOf !== undefined) return [];
      // A strong identity anywhere in the record (declared fields too) means no weak one decides.
      const kinds = p.identities.some((i) => STRONG_KINDS.includes(i.kind)) ? STRONG_KINDS : WEAK_KINDS;
      return p.identities
        .filter((i) => kinds.includes(i.kind) && p.given.includes(i.kind))
        .flatMap((i) => i.lookups);
    });
    // Every platform identity of every record is looked up, also those that find no subject (a
    // record that names its subject or joins an earlier one, an identity from a declared field): one
    // held by another subject is refused (R30) instead of tripping the unique index, and one its
    // subject holds already is not sealed and written again. (Looking up weak ones too, to skip
    // their rewrite, cost more than it saved: 1-2% of an import.)
    const checksOf = prepared.map((p) =>
      p.identities.filter((i) => STRONG_KINDS.includes(i.kind)).flatMap((i) => i.lookups),
    );
    const lookups = new Map<string, IdentityLookup>();
    for (const l of [...lookupsOf.flat(), ...checksOf.flat()]) lookups.set(l.key, l);
    const matches = new Map<string, Set<string>>();
    const match = (key: string, subjectId: string): void => {
      const found = matches.get(key);
      if (found === undefined) matches.set(key, new Set([subjectId]));
      else found.add(subjectId);
    };
    const held = new PairMap<true>();
    if (lookups.size > 0)
      for (const m of await tx.identities.findSubjects([...lookups.values()])) {
        match(lookupKey(m), m.subjectId);
        held.set(m.subjectId, lookupKey(m), true);
      }
    // The batch planned before this one writes its identities before this one commits.
    if (carry !== undefined)
      for (const [key, subjectId] of carry.matches) {
        match(key, subjectId);
        held.set(subjectId, key, true);
      }

    /** Which records created a subject: only the first record of a new buyer reports `created`. */
    const creators = new Set<number>();
    const ids: string[] = [];
    const batch = new Map<string, string>();
    prepared.forEach((p, i) => {
      const joins = p.subjectOf; // checked by checkJoins before the unit of work
      let subjectId = joins === undefined ? p.subjectId : ids[joins];
      if (subjectId === undefined) {
        const found = new Set(lookupsOf[i]!.flatMap((l) => [...(matches.get(l.key) ?? [])]));
        if (found.size > 1) {
          throw new CustodianError('ERR_SUBJECT_AMBIGUOUS', 'the identities match more than one subject', {
            details: { matches: found.size },
          });
        }
        subjectId = [...found][0];
        if (subjectId === undefined) {
          subjectId = uuidv7(Date.parse(at));
          creators.add(i);
        }
      }
      for (const l of checksOf[i]!) {
        const owners = matches.get(l.key);
        if (owners !== undefined && (owners.size > 1 || !owners.has(subjectId))) {
          throw new CustodianError(
            'ERR_IDENTITY_CONFLICT',
            'a platform identity of the record belongs to another subject',
            { details: { identity: l.kind } },
          );
        }
      }
      for (const identity of p.identities) {
        match(identity.current.key, subjectId);
        batch.set(identity.current.key, subjectId);
      }
      ids.push(subjectId);
    });

    const created = [...new Set([...creators].map((i) => ids[i]!))];
    const fresh = new Set(created);
    const keys = new Map<string, SubjectKey>();
    const known = [...new Set(ids.filter((id) => !fresh.has(id)))];
    // Subjects the carried batch creates are not stored yet: their keys come with it.
    const stored = known.filter((id) => {
      const key = carry?.created.has(id) ? carry.keys.get(id) : undefined;
      if (key !== undefined) keys.set(id, key);
      return key === undefined;
    });
    if (!options.ahead) await this.#refuseDeclined(tx, prepared, ids, fresh);
    if (stored.length > 0) {
      // Ahead of the unit of work they are locked and checked when the plan is committed.
      if (!options.ahead) {
        await tx.subjects.lockMany(stored);
        await this.#checkKnown(tx, stored);
      }
      const records = new Map((await tx.keys.currentMany(stored)).map((k) => [k.subjectId, k]));
      for (const id of stored) {
        const record = records.get(id);
        if (record === undefined)
          throw new CustodianError('ERR_KEY_UNAVAILABLE', 'the subject has no data key');
        keys.set(id, await this.#o.keyring.unwrap(record));
      }
    }
    const newKeys: SubjectKeyRecord[] = [];
    for (const id of created) {
      const { record, key } = await this.#o.keyring.create(id, 1, at);
      newKeys.push(record);
      keys.set(id, key);
    }
    return {
      subjects: ids.map((subjectId, i) => ({
        subjectId,
        key: keys.get(subjectId)!,
        created: creators.has(i),
      })),
      held,
      created,
      known,
      newKeys,
      matches: batch,
    };
  }

  /** Known subjects must exist and not be erased. */
  async #checkKnown(tx: Repositories, ids: readonly string[]): Promise<void> {
    const subjects = new Map((await tx.subjects.getMany(ids)).map((s) => [s.id, s]));
    for (const id of ids) {
      const subject = subjects.get(id);
      if (subject === undefined) throw new CustodianError('ERR_SUBJECT_NOT_FOUND', 'no such subject');
      if (subject.erasedAt !== null)
        throw new CustodianError('ERR_SUBJECT_ERASED', 'the subject has been erased');
    }
  }

  /**
   * R4 (PIPL Art. 15): once a customer withdrew or refused consent for a purpose, nothing more is
   * collected for it. A new subject has said nothing yet; the merchant records their consent next.
   */
  async #refuseDeclined(
    tx: Repositories,
    prepared: readonly CollectMeta[],
    ids: readonly string[],
    created: ReadonlySet<string>,
  ): Promise<void> {
    // Once per subject and purpose: the purpose itself, and for a record that holds sensitive PI
    // (PIPL Art. 28-29) the `sensitive_pi` consent too. Collecting is processing (R4).
    const checked = new Set<string>();
    for (const [i, p] of prepared.entries()) {
      const subjectId = ids[i]!;
      const purpose = p.purpose;
      if (created.has(subjectId) || !this.#o.policy.consentBased(purpose)) continue;
      // Without a ledger no consent can be known, so nothing is collected (fail closed).
      const consent = this.#o.consent;
      if (!checked.has(`${subjectId}|${purpose}`)) {
        checked.add(`${subjectId}|${purpose}`);
        if (consent === undefined || (await consent.declined(tx, subjectId, purpose))) {
          throw new CustodianError(
            'ERR_CONSENT_WITHDRAWN',
            `the customer withdrew or refused consent for purpose "${purpose}"`,
            { details: { purpose } },
          );
        }
      }
      if (checked.has(`${subjectId}|${purpose}|sensitive`) || !p.sensitive) continue;
      checked.add(`${subjectId}|${purpose}|sensitive`);
      if (await consent!.declined(tx, subjectId, purpose, 'sensitive_pi')) {
        throw new CustodianError(
          'ERR_CONSENT_WITHDRAWN',
          `the customer withdrew or refused the sensitive_pi consent for purpose "${purpose}"`,
          { details: { purpose, kind: 'sensitive_pi' } },
        );
      }
    }
  }

  /**
   * A field's value from the record's clear column. The vault keeps only fields the data map
   * declares `protection: plain` there. A declared field of any other protection found there was
   * put there by something else, e.g. an envelope replaced by a forged clear value, and is refused
   * as a failed decryption (tampering is detected, invariant 3).
   */
  #plainValue(record: RecordRow, field: string): string | undefined {
    const value = record.plain?.[field];
    const protection = this.#o.datamap.collections[record.collection]?.fields[field]?.protection;
    if (value !== undefined && protection !== undefined && protection !== 'plain')
      throw new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', 'Decryption failed');
    return value;
  }

  /** Unwraps the subject's key versions on first use, once each, within one unit of work. */
  #keyLoader(tx: Repositories, subjectId: string): (version: number) => Promise<KeyObject> {
    const keys = new Map<number, KeyObject>();
    return async (version) => {
      let key = keys.get(version);
      if (key === undefined) {
        const stored: SubjectKeyRecord | undefined = await tx.keys.get(subjectId, version);
        if (stored === undefined)
          throw new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', 'Decryption failed');
        key = (await this.#o.keyring.unwrap(stored)).key;
        keys.set(version, key);
      }
      return key;
    };
  }

  /** The youngest age the subject's stored birth dates and resident ids tell, or undefined. */
  async #age(
    records: readonly RecordRow[],
    subjectId: string,
    keyFor: (version: number) => Promise<KeyObject>,
    today: Date,
  ): Promise<number | undefined> {
    let youngest: number | undefined;
    for (const record of records) {
      const spec = this.#o.datamap.collections[record.collection];
      if (spec === undefined) continue;
      const sealed = decodeSealedFields(record.sealed);
      for (const [field, f] of Object.entries(spec.fields)) {
        if (!BIRTH_DATE_CATEGORIES.includes(f.category)) continue;
        const envelope = sealed.get(field);
        const value =
          envelope === undefined
            ? this.#plainValue(record, field)
            : openField(envelope, {
                context: { subjectId, collection: record.collection, recordId: record.id, field },
                key: await keyFor(record.keyVersion),
                keyVersion: record.keyVersion,
              }).toString('utf8');
        const birth = value === undefined ? undefined : birthDateFrom(f.category, value, today);
        const age = birth === undefined ? undefined : ageOn(birth, today);
        if (age !== undefined && (youngest === undefined || age < youngest)) youngest = age;
      }
    }
    return youngest;
  }

  async #view(
    tx: Repositories,
    principal: Principal,
    subjectId: string,
    purpose: string,
    action: 'read' | 'search' | 'export',
    at: string,
    /**
     * Personal data of only these categories may be shown (what an export's recipient is registered
     * to receive); other personal fields are withheld. Non-personal fields (order numbers) pass.
     */
    categories?: ReadonlySet<string>,
  ): Promise<{ view: SubjectView; entry: AuditEntry }> {
    const records = await tx.records.listForSubject(subjectId);
    const keyFor = this.#keyLoader(tx, subjectId);
    const decision = { clear: [] as string[], masked: [] as string[], withheld: [] as string[] };
    const reasons: string[] = [];
    const grant = await tx.breakGlass.active(principal.id, subjectId, purpose, at);
    const trainingCurrent = principal.trainingCurrent ?? false;
    // Only purposes resting on consent wait on it (PIPL Art. 16); no ledger, no consent (fail closed).
    const consent: ConsentFacts | undefined =
      this.#o.policy.consentBased(purpose) && this.#o.consent !== undefined
        ? await this.#o.consent.facts(tx, subjectId, purpose, async () => {
            const age = await this.#age(records, subjectId, keyFor, new Date(at));
            return age !== undefined && isMinorAge(age);
          })
        : undefined;
    const views: RecordView[] = [];
    for (const record of records) {
      const sealed = decodeSealedFields(record.sealed);
      const fields: Record<string, FieldView> = {};
      const names = [...Object.keys(record.plain ?? {}), ...sealed.keys()];
      for (const field of names) {
        const category = this.#o.datamap.collections[record.collection]?.fields[field]?.category;
        const d: Decision =
          categories !== undefined &&
          (category === undefined || (CATEGORIES[category].personal && !categories.has(category)))
            ? { access: 'withheld', reason: 'not-for-recipient', rule: 'datamap.recipients.categories' }
            : this.#o.policy.decide({
                role: principal.role,
                purpose,
                collection: record.collection,
                field,
                trainingCurrent,
                breakGlass: grant !== undefined,
                consent,
              });
        const path = `${record.collection}.${field}`;
        decision[d.access].push(path);
        if (d.access === 'withheld') {
          fields[field] = { access: 'withheld', reason: d.reason ?? 'not-needed-for-purpose' };
          reasons.push(d.reason ?? 'not-needed-for-purpose');
          continue;
        }
        const envelope = sealed.get(field);
        const clear =
          envelope === undefined
            ? (this.#plainValue(record, field) ?? '')
            : openField(envelope, {
                context: { subjectId, collection: record.collection, recordId: record.id, field },
                key: await keyFor(record.keyVersion),
                keyVersion: record.keyVersion,
              }).toString('utf8');
        if (d.access === 'clear') {
          fields[field] = { access: 'clear', value: clear };
        } else {
          fields[field] = {
            access: 'masked',
            value: mask(category === undefined ? 'full' : CATEGORIES[category].mask, clear),
          };
        }
      }
      views.push({ recordId: record.id, collection: record.collection, fields });
    }
    const entry: AuditEntry = {
      v: 1,
      at,
      action,
      actor: { id: principal.id, role: principal.role },
      subject: this.#o.pseudonymize(subjectId),
      purpose,
      records: records.map((r) => r.id),
      decision: {
        clear: unique(decision.clear),
        masked: unique(decision.masked),
        withheld: unique(decision.withheld),
        ...(reasons.length > 0 ? { withheldReasons: unique(reasons) } : {}),
      },
      ...(grant === undefined ? {} : { detail: { breakGlass: grant.id } }),
    };
    return { view: { subjectId, records: views }, entry };
  }
}

/**
 * Values under two string keys, without joining them into a new string (which a lookup must then
 * flatten and hash) for every record of a batch.
 */
class PairMap<V> {
  readonly #outer = new Map<string, Map<string, V>>();

  get(a: string, b: string): V | undefined {
    return this.#outer.get(a)?.get(b);
  }

  set(a: string, b: string, value: V): void {
    let inner = this.#outer.get(a);
    if (inner === undefined) this.#outer.set(a, (inner = new Map<string, V>()));
    inner.set(b, value);
  }
}

/** The collect entry of one subject and purpose within one call, as records are added to it. */
interface CollectEntry {
  readonly subjectId: string;
  readonly purpose: string;
  readonly records: string[];
  /** The fields stored, by collection, in the order first seen. */
  readonly fields: Map<string, Set<string>>;
  created: boolean;
  identities: number;
  stripped: number;
  readonly screened: string[];
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * A record may join only a record before it in the same call (`subjectOf`), and then names no
 * subject of its own: anything else is refused before any work, and nothing is stored.
 */
function checkJoins(inputs: readonly CollectInput[]): void {
  inputs.forEach((input, i) => {
    const joins = input.subjectOf;
    if (joins === undefined) return;
    if (!(Number.isSafeInteger(joins) && joins >= 0 && joins < i) || input.subjectId !== undefined)
      throw new CustodianError(
        'ERR_VALIDATION_FAILED',
        'subjectOf names an earlier record of the same call, and no subjectId beside it',
        { details: { record: i, subjectOf: joins } },
      );
  });
}
