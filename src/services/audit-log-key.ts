import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditConfig } from '../config/schema.js';
import { noteSigner, rawEd25519PublicKey, type NoteSigner } from '../crypto/signed-note.js';
import { CustodianError } from '../domain/errors.js';

/**
 * The checkpoint signing key: an Ed25519 private key in a PKCS#8 PEM file of mode 0600 (what
 * `openssl genpkey -algorithm ed25519` writes). It never enters the database; verifiers get the
 * public half from `GET /v1/audit-log/public-key` or docs/audit-log.md's recipe.
 */

/** Writes a new Ed25519 key; refuses to overwrite an existing file. */
export function createSigningKeyFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (cause) {
    throw new CustodianError(
      'ERR_CONFIG_EXISTS',
      `${path}: a key file exists already; refusing to overwrite it`,
      {
        cause,
      },
    );
  }
  try {
    writeSync(fd, pem);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads the signing key; refuses a file that group or others can read, or that is not Ed25519. */
export function readSigningKey(path: string): KeyObject {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (cause) {
    throw new CustodianError(
      'ERR_KEY_UNAVAILABLE',
      `${path}: cannot read the audit signing key; create one with: openssl genpkey -algorithm ed25519 -out ${path} && chmod 600 ${path}`,
      { cause },
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new CustodianError(
      'ERR_KEY_FILE_PERMISSIONS',
      `${path}: key file is readable by group or others; run chmod 600`,
      { details: { mode: `0${(mode & 0o777).toString(8)}` } },
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (cause) {
    throw new CustodianError('ERR_KEY_INVALID', `${path}: not a PKCS#8 PEM private key`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CustodianError('ERR_KEY_INVALID', `${path}: the audit signing key must be Ed25519`);
  return key;
}

/** The default origin: the signing key's fingerprint under a reserved-looking host. */
export function defaultOrigin(privateOrPublic: KeyObject): string {
  const raw = rawEd25519PublicKey(privateOrPublic);
  return `custodian.local/${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
}

/** Loads the configured key as a checkpoint signer named after the log's origin. */
export function loadAuditSigner(config: AuditConfig): NoteSigner {
  const key = readSigningKey(config.signingKey);
  return noteSigner(config.origin ?? defaultOrigin(key), key);
}
