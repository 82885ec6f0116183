import { createHash, type KeyObject } from 'node:crypto';
import type { AuditConfig } from '../config/schema.js';
import { noteSigner, rawEd25519PublicKey, type NoteSigner } from '../crypto/signed-note.js';
import { createEd25519KeyFile, readEd25519KeyFile } from '../keys/file.js';

/**
 * The checkpoint signing key: an Ed25519 private key in a PKCS#8 PEM file of mode 0600 (what
 * `openssl genpkey -algorithm ed25519` writes). It never enters the database; verifiers get the
 * public half from `GET /v1/audit-log/public-key` or docs/audit-log.md's recipe.
 */

/** Writes a new Ed25519 signing key; refuses to overwrite an existing file. */
export function createSigningKeyFile(path: string): void {
  createEd25519KeyFile(path);
}

/** Reads the signing key; refuses a file that group or others can read, or that is not Ed25519. */
export function readSigningKey(path: string): KeyObject {
  return readEd25519KeyFile(path, 'audit signing key');
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
