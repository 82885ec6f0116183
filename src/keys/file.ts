import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, statSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import { CustodianError } from '../domain/errors.js';

export const ROOT_KEY_BYTES = 32;

/** Writes a new random 32-byte key file with mode 0600; refuses to overwrite an existing one. */
export function createKeyFile(path: string): void {
  writeSecretFile(path, randomBytes(ROOT_KEY_BYTES));
}

/** Writes a new Ed25519 private key (PKCS#8 PEM, mode 0600); refuses to overwrite an existing one. */
export function createEd25519KeyFile(path: string): void {
  const { privateKey } = generateKeyPairSync('ed25519');
  writeSecretFile(path, Buffer.from(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'utf8'));
}

function writeSecretFile(path: string, content: Buffer): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (cause) {
    throw new CustodianError(
      'ERR_CONFIG_EXISTS',
      `${path}: a key file exists already; refusing to overwrite it`,
      { cause },
    );
  }
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses a key file that group or others can read: a key that leaked into a backup or a shared
 * folder is no longer a secret. `missing` is the message when the file cannot be read.
 */
function assertPrivateFile(path: string, missing: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (cause) {
    throw new CustodianError('ERR_KEY_UNAVAILABLE', `${path}: ${missing}`, { cause });
  }
  if ((mode & 0o077) !== 0) {
    throw new CustodianError(
      'ERR_KEY_FILE_PERMISSIONS',
      `${path}: key file is readable by group or others; run chmod 600`,
      {
        details: { mode: `0${(mode & 0o777).toString(8)}` },
      },
    );
  }
}

/**
 * Reads an Ed25519 private key (PKCS#8 PEM, mode 0600), e.g. the audit checkpoint or consent
 * receipt signing key. `what` names it in messages.
 */
export function readEd25519KeyFile(path: string, what: string): KeyObject {
  assertPrivateFile(
    path,
    `cannot read the ${what}; create one with: openssl genpkey -algorithm ed25519 -out ${path} && chmod 600 ${path}`,
  );
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (cause) {
    throw new CustodianError('ERR_KEY_INVALID', `${path}: not a PKCS#8 PEM private key`, { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CustodianError('ERR_KEY_INVALID', `${path}: the ${what} must be Ed25519`);
  return key;
}

/**
 * Reads a 32-byte key file. Refuses a file that group or others can read: a root key that
 * leaked into a backup or a shared folder is no longer a secret.
 */
export function readKeyFile(path: string): Buffer {
  assertPrivateFile(path, 'cannot read the key file');
  const key = readFileSync(path);
  if (key.length !== ROOT_KEY_BYTES) {
    throw new CustodianError('ERR_KEY_INVALID', `${path}: a key file holds exactly ${ROOT_KEY_BYTES} bytes`);
  }
  return key;
}
