import { createSecretKey, randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { PooledNonceSource, suiteById } from '../crypto/aead.js';
import { BlindIndexer, hkdf } from '../crypto/blind-index.js';
import { readKeyFile } from '../keys/file.js';
import { openRootKeyProvider } from '../keys/index.js';
import { Keyring } from '../keys/keyring.js';
import type { RootKeyProvider } from '../keys/provider.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { createPseudonymizer } from './audit.js';
import { KeyRotation } from './rotation.js';
import { Vault } from './vault.js';

/** Everything a running Custodian holds: the store, the keys and the use cases over them. */
export interface Runtime {
  readonly config: Config;
  readonly store: Store;
  readonly keyring: Keyring;
  readonly indexer: BlindIndexer;
  readonly vault: Vault;
  readonly rotation: KeyRotation;
  readonly pseudonymize: (subjectId: string) => string;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Apply pending migrations (default true: `serve` and the CLI migrate at start). */
  readonly migrate?: boolean;
  readonly now?: () => Date;
  /** An already open store (tests share one). */
  readonly store?: Store;
}

/** Opens the configured store and key providers and wires the services. Fails closed on any key problem. */
export async function openRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime> {
  const providers: RootKeyProvider[] = [];
  const store = options.store ?? openStore(config.database);
  try {
    if (options.migrate ?? true) await store.migrate();
    for (const root of [config.keys.root, ...config.keys.retiredRoots])
      providers.push(await openRootKeyProvider(root));
    const [root, ...retired] = providers;
    const suite = suiteById(config.crypto.suite);
    const indexRoot = readKeyFile(config.keys.index.path);
    const indexer = new BlindIndexer({
      current: { version: config.keys.index.version, suite: suite.id, secret: indexRoot },
      previous: config.keys.retiredIndexes.map((r) => ({
        version: r.version,
        suite: suite.id,
        secret: readKeyFile(r.path),
      })),
    });
    // The audit pseudonym key is derived from the index root, apart from every index key (distinct info).
    const pseudonymize = createPseudonymizer(
      createSecretKey(
        hkdf('sha256', indexRoot, Buffer.alloc(0), Buffer.from('custodian/audit-pseudonym/v1'), 32),
      ),
    );
    const keyring = new Keyring({
      root: root!,
      retired,
      suite: suite.id,
      cacheSize: config.keys.cacheSize,
      random: randomBytes,
    });
    const now = options.now ?? (() => new Date());
    const nonces = new PooledNonceSource();
    const vault = new Vault({
      store,
      keyring,
      indexer,
      datamap: config.datamap,
      suite,
      pseudonymize,
      now,
      nonces,
      afterErase: () => store.scrub(),
    });
    const rotation = new KeyRotation({ store, keyring, indexer, suite, pseudonymize, now, nonces });
    return {
      config,
      store,
      keyring,
      indexer,
      vault,
      rotation,
      pseudonymize,
      async close() {
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
