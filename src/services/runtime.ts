import { createSecretKey } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { PooledNonceSource, RandomPool, suiteById, type AeadSuiteId } from '../crypto/aead.js';
import { CustodianError } from '../domain/errors.js';
import { BlindIndexer, hkdf } from '../crypto/blind-index.js';
import { readKeyFile } from '../keys/file.js';
import { openRootKeyProvider } from '../keys/index.js';
import { Keyring } from '../keys/keyring.js';
import type { RootKeyProvider } from '../keys/provider.js';
import { openStore } from '../store/open.js';
import type { WalCheckpoints } from '../store/wal-checkpointer.js';
import { AccessPolicy } from '../domain/access/engine.js';
import { resolveRoles, type RoleSpec } from '../domain/access/roles.js';
import type { Store } from '../store/store.js';
import { AnomalyDetector } from './anomaly.js';
import { ApiKeys } from './apikeys.js';
import { appendAudit, createPseudonymizer } from './audit.js';
import { AuditLog } from './audit-log.js';
import { AuditGroupCommit } from './audit-log-batch.js';
import { loadAuditSigner } from './audit-log-key.js';
import { ConsentService, deriveConsentEvidenceKey } from './consent.js';
import { loadReceiptSigner } from './consent-receipt-key.js';
import { IncidentService } from './incidents.js';
import { createLogger, safeError, type Logger } from './logger.js';
import { createNotifier, type Notifier } from './notify.js';
import { Oversight } from './oversight.js';
import { PolicyService } from './policy.js';
import { createCodeSender, PRIVACY_CENTRE_KEY_INFO, PrivacyCentre, sendFailure } from './privacy-centre.js';
import { KeyRotation } from './rotation.js';
import { deriveStaffSecretsKey, StaffSecretBox, StaffService, type AccessEventSink } from './staff.js';
import { Vault } from './vault.js';

/** Everything a running Custodian holds: the store, the keys and the use cases over them. */
export interface Runtime {
  readonly config: Config;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly indexer: BlindIndexer;
  readonly vault: Vault;
  readonly policy: AccessPolicy;
  readonly rotation: KeyRotation;
  /** The Merkle audit log: checkpoints, proofs, verification. */
  readonly auditLog: AuditLog;
  /** Staff accounts, sign-in, sessions, training and the access review. */
  readonly staff: StaffService;
  readonly apiKeys: ApiKeys;
  /** Break-glass and export approval. */
  readonly oversight: Oversight;
  /** Published privacy-policy versions, generated from the data map. */
  readonly privacyPolicy: PolicyService;
  /** The consent ledger and its signed receipts; the vault asks it before consent-based reads. */
  readonly consent: ConsentService;
  /** The customers' privacy centre: sign-in codes, sessions, notices, requests, embed tokens. */
  readonly privacyCentre: PrivacyCentre;
  readonly notifier: Notifier;
  /** Pending incidents opened by anomaly hits. */
  readonly incidents: IncidentService;
  /** Anomaly rules over the audit log; `scan()` consumes what has been committed so far. */
  readonly anomalies: AnomalyDetector;
  readonly logger: Logger;
  readonly pseudonymize: (subjectId: string) => string;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Apply pending migrations (default true: `serve` and the CLI migrate at start). */
  readonly migrate?: boolean;
  readonly now?: () => Date;
  /** An already open store (tests share one). */
  readonly store?: Store;
  /** Sign audit-log checkpoints in the background (default true; `log verify` turns it off). */
  readonly checkpoints?: boolean;
  /**
   * SQLite's WAL checkpoints: in a thread of their own (default) or inside the committing
   * transaction (`OpenStoreOptions.walCheckpoints`). Not used with `store`.
   */
  readonly walCheckpoints?: WalCheckpoints;
  /** Run the background anomaly detector (default true, unless `audit.anomaly.enabled` is false). */
  readonly anomalies?: boolean;
  /** Roles added over the built-in and configured ones (embedding applications, tests). */
  readonly roles?: Readonly<Record<string, RoleSpec>>;
  /** The service logger (default: pino at `log.level`). */
  readonly logger?: Logger;
}

/** Opens the configured store and key providers and wires the services. Fails closed on any key problem. */
export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const providers: RootKeyProvider[] = [];
  const logger = options.logger ?? createLogger(config.log.level);
  const store =
    options.store ??
    openStore(config.database, {
      walCheckpoints: options.walCheckpoints ?? 'background',
      onCheckpointerFailure: (error) =>
        logger.warn(
          { err: safeError(error) },
          'the SQLite WAL checkpoint thread stopped; commits checkpoint inline again',
        ),
    });
  try {
    if (options.migrate ?? true) await store.migrate();
    for (const root of [config.keys.root, ...config.keys.retiredRoots])
      providers.push(await openRootKeyProvider(root));
    const [root, ...retired] = providers;
    const suite = suiteById(config.crypto.suite);
    const indexRoot = readKeyFile(config.keys.index.path);
    const retiredIndexRoots = config.keys.retiredIndexes.map((r) => ({
      version: r.version,
      secret: readKeyFile(r.path),
    }));
    // Each index version keeps the hash it was first used with: its tokens cannot be recomputed
    // without the values, so a later change of `crypto.suite` must not change how it looks up.
    const now = options.now ?? (() => new Date());
    const pinnedAt = now().toISOString();
    const indexSuite = (recorded: string | undefined): AeadSuiteId => {
      if (recorded === undefined) return suite.id;
      if (recorded !== 'aes-256-gcm' && recorded !== 'sm4-gcm')
        throw new CustodianError('ERR_CRYPTO_UNSUPPORTED', `unknown blind-index suite "${recorded}"`);
      return recorded;
    };
    const indexer = new BlindIndexer({
      current: {
        version: config.keys.index.version,
        suite: indexSuite(await store.rotations.pinIndexSuite(config.keys.index.version, suite.id, pinnedAt)),
        secret: indexRoot,
      },
      previous: await Promise.all(
        retiredIndexRoots.map(async (r) => ({
          ...r,
          suite: indexSuite(await store.rotations.indexSuite(r.version)),
        })),
      ),
    });
    // TOTP secrets are sealed under a key derived from the index root (its own HKDF label).
    const staffSecrets = new StaffSecretBox({
      current: { version: config.keys.index.version, key: deriveStaffSecretsKey(indexRoot) },
      previous: retiredIndexRoots.map((r) => ({ version: r.version, key: deriveStaffSecretsKey(r.secret) })),
    });
    // The audit pseudonym key is derived from the index root, apart from every index key (distinct info).
    const pseudonymize = createPseudonymizer(
      createSecretKey(
        hkdf('sha256', indexRoot, Buffer.alloc(0), Buffer.from('custodian/audit-pseudonym/v1'), 32),
      ),
    );
    const keyBytes = new RandomPool();
    const keyring = new Keyring({
      root: root!,
      retired,
      suite: suite.id,
      cacheSize: config.keys.cacheSize,
      // Data keys cut from a pool that zeroes what it hands out (a `randomBytes` call each cost 7 µs).
      random: (size) => keyBytes.take(size),
    });
    // Fail closed: no signing key, no runtime (docs/audit-log.md).
    const auditLog = new AuditLog({
      store,
      signer: loadAuditSigner(config.audit),
      policy: config.audit.checkpoint,
      retention: config.audit.retention,
      now,
    });
    // Fail closed: no receipt key, no runtime (docs/consent.md).
    const receiptSigner = await loadReceiptSigner(config.consent);
    // Reads and searches commit their audit entries together (fail closed: data only after commit).
    const readAudit = new AuditGroupCommit(store);
    const nonces = new PooledNonceSource();
    const roles = resolveRoles({ ...config.access.roles, ...options.roles });
    const policy = new AccessPolicy(config.datamap, roles);
    const scrubs = new ScrubRetry(() => store.scrub(), logger);
    const vault: Vault = new Vault({
      store,
      keyring,
      indexer,
      datamap: config.datamap,
      policy,
      suite,
      pseudonymize,
      now,
      nonces,
      // A failed scrub does not undo a committed erasure: it is logged and tried again.
      afterErase: () =>
        store.scrub().catch((error: unknown) => {
          logger.warn({ err: safeError(error) }, 'an erasure committed, but its scrub failed; trying again');
          scrubs.retry();
        }),
      readAudit: (entries) => readAudit.append(entries),
      consent: {
        facts: (tx, subjectId, purpose, minor) => consent.facts(tx, subjectId, purpose, minor),
        declined: (tx, subjectId, purpose, kind) => consent.declined(tx, subjectId, purpose, kind),
        separateStand: (tx, subjectId, purpose, needs, minor) =>
          consent.separateStand(tx, subjectId, purpose, needs, minor),
      },
    });
    const consent: ConsentService = new ConsentService({
      store,
      datamap: config.datamap,
      vault,
      signer: receiptSigner,
      // Evidence and guardian hashes: a key of its own, derived from the index root like the pseudonyms.
      evidenceKey: deriveConsentEvidenceKey(indexRoot),
      pseudonymize,
      now,
      refusalQuietDays: config.consent.refusalQuietDays,
      policyUrl: config.consent.policyUrl,
    });
    const rotation = new KeyRotation({ store, keyring, indexer, suite, pseudonymize, now, nonces });
    // Account and key changes are audited in their own unit of work (fail closed).
    const onEvent: AccessEventSink = async (tx, e) => {
      await appendAudit(tx, [
        { v: 1, at: e.at, action: e.name, actor: e.actor, subject: null, detail: e.detail },
      ]);
    };
    const staff = new StaffService({
      store,
      access: config.access,
      roles,
      secrets: staffSecrets,
      now,
      onEvent,
    });
    const apiKeys = new ApiKeys({ store, roles, now, onEvent });
    const notifier = createNotifier(config.notify, logger);
    const privacyPolicy = new PolicyService({ store, datamap: config.datamap, now });
    const privacyCentre = new PrivacyCentre({
      store,
      indexer,
      config: config.privacyCentre,
      // Its own HKDF label under the index root, apart from every index and pseudonym key.
      key: createSecretKey(
        hkdf('sha256', indexRoot, Buffer.alloc(0), Buffer.from(PRIVACY_CENTRE_KEY_INFO), 32),
      ),
      sender: createCodeSender(
        config.privacyCentre.codeChannel,
        {
          smtp: config.notify.smtp,
          sms: config.privacyCentre.sms,
          recipients: config.datamap.recipients,
        },
        logger,
      ),
      pseudonymize,
      now,
      // Recorded for the operator (never the address or code); the customer's answer stays the same.
      onSendError: (error) => logger.error(sendFailure(error), 'sign-in code delivery failed'),
      notifier,
    });
    const oversight = new Oversight({
      store,
      vault,
      policy,
      notifier,
      pseudonymize,
      now,
      breakGlassMaxMinutes: config.access.breakGlass.maxMinutes,
      exportThreshold: config.access.exportApproval.threshold,
    });
    const incidents = new IncidentService({
      store,
      notifier,
      now,
      maxSubjectRefs: config.audit.anomaly.maxSubjectRefs,
    });
    const anomalies = new AnomalyDetector({ store, incidents, config: config.audit.anomaly });
    if (options.checkpoints ?? true) auditLog.start();
    if (options.anomalies ?? true) anomalies.start();
    return {
      config,
      store,
      keyring,
      indexer,
      vault,
      policy,
      rotation,
      auditLog,
      staff,
      apiKeys,
      oversight,
      privacyPolicy,
      consent,
      privacyCentre,
      notifier,
      incidents,
      anomalies,
      logger,
      pseudonymize,
      async close() {
        scrubs.stop();
        await anomalies.stop();
        await auditLog.stop();
        for (const p of providers) await p.close();
        if (!options.store) await store.close();
      },
    };
  } catch (error) {
    for (const p of providers) await p.close().catch(() => undefined);
    if (!options.store) await store.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Scrubs again, in the background, after an erasure's own scrub failed (the WAL still holds the
 * erased subject's old pages until it is truncated): after 1 s, then twice as long each time up to
 * a minute, until one succeeds. One timer at most; a later erasure's scrub does the same work.
 */
class ScrubRetry {
  readonly #scrub: () => Promise<void>;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = 1000;
  #stopped = false;

  constructor(scrub: () => Promise<void>, logger: Logger) {
    this.#scrub = scrub;
    this.#logger = logger;
  }

  retry(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => void this.#attempt(), this.#delayMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #attempt(): Promise<void> {
    this.#timer = undefined;
    try {
      await this.#scrub();
      this.#delayMs = 1000;
      this.#logger.info('the scrub after an erasure succeeded on a later try');
    } catch (error) {
      this.#delayMs = Math.min(this.#delayMs * 2, 60_000);
      this.#logger.warn({ err: safeError(error) }, 'the scrub after an erasure failed again; trying later');
      this.retry();
    }
  }
}
