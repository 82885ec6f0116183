import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, statSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import { CustodianError } from '../domain/errors.js';

export const ROOT_KEY_BYTES = 32;

/** Writes a new random 32-byte key file with mode 0600; refuses to overwrite an existing one. */
export function createKeyFile(path: string): void {
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
    writeSync(fd, randomBytes(ROOT_KEY_BYTES));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a 32-byte key file. Refuses a file that group or others can read: a root key that
 * leaked into a backup or a shared folder is no longer a secret.
 */
export function readKeyFile(path: string): Buffer {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (cause) {
    throw new CustodianError('ERR_KEY_UNAVAILABLE', `${path}: cannot read the key file`, { cause });
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
  const key = readFileSync(path);
  if (key.length !== ROOT_KEY_BYTES) {
    throw new CustodianError('ERR_KEY_INVALID', `${path}: a key file holds exactly ${ROOT_KEY_BYTES} bytes`);
  }
  return key;
}
