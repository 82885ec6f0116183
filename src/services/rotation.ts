import type { AeadSuite, NonceSource } from '../crypto/aead.js';
import type { BlindIndexer } from '../crypto/blind-index.js';
import { openField, sealField } from '../crypto/envelope.js';
import { uuidv7 } from '../crypto/uuid.js';
import type { AuditEntry } from '../domain/audit/entry.js';
import { CustodianError } from '../domain/errors.js';
import type { Keyring, SubjectKey } from '../keys/keyring.js';
import type { IdentityRecord, KeyStats, Store } from '../store/store.js';
import { appendAudit } from './audit.js';
import type { Principal } from './tokens.js';
import { decodeSealedFields, encodeSealedFields } from './sealed-record.js';
import { identityContext } from './vault.js';

export interface RotationDeps {
  readonly store: Store;
  readonly keyring: Keyring;
  readonly indexer: BlindIndexer;
  readonly suite: AeadSuite;
  readonly pseudonymize: (subjectId: string) => string;
  readonly now: () => Date;
  readonly nonces?: NonceSource;
}

export interface RotationProgress {
  readonly done: number;
  /** Best estimate of the total; may grow while the server keeps collecting. */
  readonly total: number;
}

export interface RotationOptions {
  readonly batchSize?: number;
  readonly onProgress?: (progress: RotationProgress) => void;
}

export interface RotationOutcome {
  readonly kind: 'root' | 'subjects' | 'index';
  readonly processed: number;
  /** True when an interrupted earlier run was picked up. */
  readonly resumed: boolean;
}

/** The principal recorded in the audit trail for operator-run key maintenance. */
export const MAINTENANCE: Principal = {
  kind: 'token',
  id: 'cli:keys',
  name: 'custodian keys',
  role: 'security-admin',
};

const DEFAULT_BATCH = 200;

/**
 * Key maintenance that runs online: every batch is its own unit of work (with its audit entry),
 * so the server keeps serving and a run killed at any point is resumed by running it again.
 */
export class KeyRotation {
  readonly #d: RotationDeps;

  constructor(deps: RotationDeps) {
    this.#d = deps;
  }

  /**
   * Rewraps every subject key under the current root key (`keys.root`); keys under retired roots
   * (`keys.retiredRoots`) stay readable until then. Data is not touched.
   */
  async rotateRoot(options: RotationOptions = {}): Promise<RotationOutcome> {
    const { store, keyring } = this.#d;
    const batch = options.batchSize ?? DEFAULT_BATCH;
    const run = await this.#begin('root', keyring.rootKeyId);
    const stats = await store.keys.stats();
    const total =
      run.processed +
      stats.byRoot.filter((r) => r.rootKeyId !== keyring.rootKeyId).reduce((n, r) => n + r.keys, 0);
    let done = run.processed;
    for (;;) {
      // Rewrapped keys drop out of this query, so every pass starts from the beginning.
      const keys = await store.keys.wrappedByOtherRoots(keyring.rootKeyId, '', batch);
      if (keys.length === 0) break;
      const rewrapped = await Promise.all(keys.map((k) => keyring.rewrap(k)));
      done += keys.length;
      await store.transaction(async (tx) => {
        for (const k of rewrapped) await tx.keys.rewrap(k.subjectId, k.version, k.wrapped, k.rootKeyId);
        await appendAudit(tx, [
          this.#entry('keys.rotate-root', null, { keys: keys.length, root: keyring.rootKeyId }),
        ]);
        await tx.rotations.progress(run.id, done, null);
      });
      options.onProgress?.({ done, total: Math.max(total, done) });
    }
    await this.#finish(run.id, done);
    return { kind: 'root', processed: done, resumed: run.resumed };
  }

  /**
   * Re-encrypts each subject's data under a new version of its data key and destroys the old
   * version. Subjects whose current key is newer than the run's cutoff are skipped, so a rerun
   * after an interruption continues where it stopped.
   */
  async rotateSubjects(
    options: RotationOptions & { readonly olderThan?: Date } = {},
  ): Promise<RotationOutcome> {
    const { store } = this.#d;
    const batch = options.batchSize ?? DEFAULT_BATCH;
    const cutoff = (options.olderThan ?? this.#d.now()).toISOString();
    const run = await this.#begin('subjects', cutoff);
    const total = (await store.subjects.count()).active;
    let done = 0;
    let after = '';
    for (;;) {
      const subjects = await store.subjects.activeAfter(after, batch);
      if (subjects.length === 0) break;
      for (const subject of subjects) {
        await this.#rotateSubject(subject.id, run.cutoff);
        done++;
      }
      after = subjects.at(-1)!.id;
      await store.rotations.progress(run.id, done, null);
      options.onProgress?.({ done, total: Math.max(total, done) });
    }
    await this.#finish(run.id, done);
    return { kind: 'subjects', processed: done, resumed: run.resumed };
  }

  /**
   * Recomputes blind-index tokens under the current index key (`keys.index`) from the sealed
   * identity values. Until it finishes, lookups query the retired versions too.
   */
  async rotateIndex(options: RotationOptions = {}): Promise<RotationOutcome> {
    const { store, indexer } = this.#d;
    const batch = options.batchSize ?? DEFAULT_BATCH;
    const run = await this.#begin('index', String(indexer.currentVersion));
    const counts = await store.identities.versionCounts();
    const total = counts
      .filter((c) => c.indexVersion !== indexer.currentVersion)
      .reduce((n, c) => n + c.rows, 0);
    let done = 0;
    for (;;) {
      const subjects = await store.identities.subjectsOnOtherVersions(indexer.currentVersion, '', batch);
      if (subjects.length === 0) break;
      for (const subjectId of subjects) done += await this.#reindexSubject(subjectId);
      await store.rotations.progress(run.id, done, null);
      options.onProgress?.({ done, total: Math.max(total, done) });
    }
    await this.#finish(run.id, done);
    return { kind: 'index', processed: done, resumed: run.resumed };
  }

  /** Versions, counts and ages of the keys in use. */
  async status(): Promise<KeyStatus> {
    const { store, keyring, indexer } = this.#d;
    return {
      suite: keyring.suite,
      currentRoot: keyring.rootKeyId,
      subjects: await store.subjects.count(),
      keys: await store.keys.stats(),
      index: {
        current: indexer.currentVersion,
        active: [...indexer.versions],
        rows: await store.identities.versionCounts(),
      },
    };
  }

  // ------------------------------------------------------------------------------------------

  async #rotateSubject(subjectId: string, cutoff: string): Promise<void> {
    const { store, keyring } = this.#d;
    // The run's own keys are stamped strictly after its cutoff, even within the same millisecond,
    // so a resumed run tells them from older keys: a key made at the cutoff instant by a collect is
    // rotated, one this run made is not rotated twice.
    const at = new Date(Math.max(this.#d.now().getTime(), Date.parse(cutoff) + 1)).toISOString();
    await store.transaction(async (tx) => {
      await tx.subjects.lock(subjectId);
      const subject = await tx.subjects.get(subjectId);
      const current = await tx.keys.current(subjectId);
      if (
        subject === undefined ||
        subject.erasedAt !== null ||
        current === undefined ||
        current.createdAt > cutoff
      )
        return;
      const oldKeys = new Map<number, SubjectKey>();
      const keyFor = async (version: number): Promise<SubjectKey> => {
        let key = oldKeys.get(version);
        if (key === undefined) {
          const stored = await tx.keys.get(subjectId, version);
          if (stored === undefined)
            throw new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', 'Decryption failed');
          key = await keyring.unwrap(stored);
          oldKeys.set(version, key);
        }
        return key;
      };
      const { record: newRecord, key } = await keyring.create(subjectId, current.version + 1, at);
      await tx.keys.insert(newRecord);
      for (const record of await tx.records.listForSubject(subjectId)) {
        const old = await keyFor(record.keyVersion);
        const resealed = new Map<string, Buffer>();
        for (const [field, envelope] of decodeSealedFields(record.sealed)) {
          const context = { subjectId, collection: record.collection, recordId: record.id, field };
          const clear = openField(envelope, { context, key: old.key, keyVersion: old.version });
          resealed.set(field, this.#seal(clear, key, context));
          clear.fill(0);
        }
        await tx.records.reseal(record.id, key.version, encodeSealedFields(resealed), at);
      }
      const identities: IdentityRecord[] = [];
      for (const row of await tx.identities.listForSubject(subjectId)) {
        const old = await keyFor(row.keyVersion);
        const context = identityContext(subjectId, row.kind, row.token);
        const clear = openField(row.sealed, { context, key: old.key, keyVersion: old.version });
        identities.push({ ...row, sealed: this.#seal(clear, key, context), keyVersion: key.version });
      }
      await tx.identities.replaceForSubject(subjectId, identities);
      for (const version of oldKeys.keys()) await tx.keys.deleteVersion(subjectId, version);
      for (let v = 1; v <= current.version; v++) await tx.keys.deleteVersion(subjectId, v);
      await appendAudit(tx, [this.#entry('keys.rotate-subject', subjectId, { keyVersion: key.version })]);
    });
    keyring.forget(subjectId);
  }

  async #reindexSubject(subjectId: string): Promise<number> {
    const { store, keyring, indexer } = this.#d;
    return store.transaction(async (tx) => {
      await tx.subjects.lock(subjectId);
      const rows = await tx.identities.listForSubject(subjectId);
      const stale = rows.filter((r) => r.indexVersion !== indexer.currentVersion);
      if (stale.length === 0) return 0;
      const keys = new Map<number, SubjectKey>();
      const next: IdentityRecord[] = rows.filter((r) => r.indexVersion === indexer.currentVersion);
      for (const row of stale) {
        let key = keys.get(row.keyVersion);
        if (key === undefined) {
          const stored = await tx.keys.get(subjectId, row.keyVersion);
          if (stored === undefined)
            throw new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', 'Decryption failed');
          key = await keyring.unwrap(stored);
          keys.set(row.keyVersion, key);
        }
        const clear = openField(row.sealed, {
          context: identityContext(subjectId, row.kind, row.token),
          key: key.key,
          keyVersion: key.version,
        }).toString('utf8');
        const token = indexer.token(row.kind, clear);
        if (next.some((r) => r.kind === row.kind && r.token.equals(token))) continue;
        next.push({
          ...row,
          indexVersion: indexer.currentVersion,
          token,
          sealed: this.#seal(Buffer.from(clear, 'utf8'), key, identityContext(subjectId, row.kind, token)),
        });
      }
      await tx.identities.replaceForSubject(subjectId, next);
      await appendAudit(tx, [
        this.#entry('keys.rotate-index', subjectId, {
          rows: stale.length,
          indexVersion: indexer.currentVersion,
        }),
      ]);
      return stale.length;
    });
  }

  #seal(clear: Buffer, key: SubjectKey, context: Parameters<typeof sealField>[1]['context']): Buffer {
    return sealField(clear, {
      suite: this.#d.suite.id === key.suite ? this.#d.suite : key.suite,
      key: key.key,
      keyVersion: key.version,
      context,
      ...(this.#d.nonces ? { nonces: this.#d.nonces } : {}),
    });
  }

  #entry(
    action: AuditEntry['action'],
    subjectId: string | null,
    detail: Record<string, string | number>,
  ): AuditEntry {
    return {
      v: 1,
      at: this.#d.now().toISOString(),
      action,
      actor: { id: MAINTENANCE.id, role: MAINTENANCE.role },
      subject: subjectId === null ? null : this.#d.pseudonymize(subjectId),
      detail,
    };
  }

  async #begin(
    kind: string,
    cutoff: string,
  ): Promise<{ id: string; cutoff: string; processed: number; resumed: boolean }> {
    const { store } = this.#d;
    const open = await store.rotations.unfinished(kind);
    if (open !== undefined)
      return { id: open.id, cutoff: open.cutoff, processed: open.processed, resumed: true };
    const id = uuidv7();
    await store.rotations.insert({
      id,
      kind,
      cutoff,
      target: kind === 'root' ? this.#d.keyring.rootKeyId : String(this.#d.indexer.currentVersion),
      startedAt: this.#d.now().toISOString(),
      finishedAt: null,
      processed: 0,
    });
    return { id, cutoff, processed: 0, resumed: false };
  }

  async #finish(id: string, processed: number): Promise<void> {
    await this.#d.store.rotations.progress(id, processed, this.#d.now().toISOString());
  }
}

export interface KeyStatus {
  readonly suite: string;
  readonly currentRoot: string;
  readonly subjects: { readonly active: number; readonly erased: number };
  readonly keys: KeyStats;
  readonly index: {
    readonly current: number;
    readonly active: readonly number[];
    readonly rows: readonly { readonly indexVersion: number; readonly rows: number }[];
  };
}
