import { existsSync, mkdirSync, openSync, closeSync, writeSync, rmSync, fsyncSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../config/load.js';
import { configTemplate } from '../config/template.js';
import { CustodianError } from '../domain/errors.js';
import { createKeyFile } from '../keys/file.js';
import { createSigningKeyFile } from './audit-log-key.js';
import { openStore } from '../store/open.js';
import { issueToken } from './tokens.js';

export interface InitOptions {
  readonly dir: string;
  readonly suite?: 'aes-256-gcm' | 'sm4-gcm';
  readonly storeName?: string;
  readonly now?: Date;
}

export interface InitResult {
  readonly configPath: string;
  /** The bootstrap token: printed once, stored only as a hash. */
  readonly adminToken: string;
}

/** The role of the bootstrap token: it administers, it does not read customers (R16). */
export const BOOTSTRAP_ROLE = 'security-admin';

/**
 * Creates a working folder: `custodian.yaml`, the root and index key files, the audit signing
 * key and the consent-receipt key (0600), the database with its migrations, and a bootstrap token. Refuses to overwrite
 * anything; on failure removes what it created, so a second attempt starts clean.
 */
export async function initProject(options: InitOptions): Promise<InitResult> {
  const dir = resolve(options.dir);
  const configPath = join(dir, 'custodian.yaml');
  if (existsSync(configPath)) {
    throw new CustodianError(
      'ERR_CONFIG_EXISTS',
      `${configPath}: a configuration exists already; refusing to overwrite it`,
    );
  }
  const created: string[] = [];
  const make = (path: string): void => {
    if (!existsSync(path)) {
      mkdirSync(path, { recursive: true });
      created.push(path);
    }
  };
  try {
    make(dir);
    const text = configTemplate({
      suite: options.suite ?? 'aes-256-gcm',
      storeName: options.storeName ?? 'Example Tmall Store',
    });
    // Validate before writing anything else: the template must always load.
    const config = parseConfig(text, configPath);
    if (config.database.engine !== 'sqlite' || config.keys.root.provider !== 'file') {
      throw new TypeError('the init template must use the embedded database and file keys');
    }
    make(join(dir, 'data'));
    if (!existsSync(join(dir, 'keys'))) {
      mkdirSync(join(dir, 'keys'), { mode: 0o700 });
      created.push(join(dir, 'keys'));
    }
    for (const key of [config.keys.root.path, config.keys.index.path]) {
      const path = resolve(dir, key);
      createKeyFile(path);
      created.push(path);
    }
    const signingKey = resolve(dir, config.audit.signingKey);
    createSigningKeyFile(signingKey);
    created.push(signingKey);
    const receiptKey = resolve(dir, config.consent.receiptKey);
    createSigningKeyFile(receiptKey);
    created.push(receiptKey);
    const dbPath = resolve(dir, config.database.path);
    if (existsSync(dbPath))
      throw new CustodianError('ERR_CONFIG_EXISTS', `${dbPath}: a database exists already`);
    created.push(dbPath, `${dbPath}-wal`, `${dbPath}-shm`);
    const store = openStore({ engine: 'sqlite', path: dbPath });
    let adminToken: string;
    try {
      await store.migrate();
      ({ token: adminToken } = await issueToken(
        store,
        { name: 'bootstrap', role: BOOTSTRAP_ROLE },
        options.now,
      ));
    } finally {
      await store.close();
    }
    writeExclusive(configPath, text);
    return { configPath, adminToken };
  } catch (error) {
    for (const path of created.reverse()) rmSync(path, { recursive: true, force: true });
    throw error;
  }
}

function writeExclusive(path: string, text: string): void {
  const fd = openSync(path, 'wx', 0o640);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
