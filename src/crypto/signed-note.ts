import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { NoteSignature } from '../domain/audit/checkpoint.js';
import { CustodianError } from '../domain/errors.js';

/**
 * Ed25519 signatures for C2SP signed notes (c2sp.org/signed-note, signature type 0x01): the
 * signature covers the note text exactly; the key id is
 * `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4]`, big-endian.
 */

export const ED25519_SIGNATURE_TYPE = 0x01;

/** An Ed25519 note key: its name, id and public half. */
export interface NoteKey {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: KeyObject;
  /** The 32-byte RFC 8032 encoding of the public key. */
  readonly rawPublicKey: Buffer;
}

/** A note key that can also sign. */
export interface NoteSigner extends NoteKey {
  sign(text: string): NoteSignature;
}

export function ed25519KeyId(name: string, rawPublicKey: Uint8Array): number {
  return createHash('sha256')
    .update(name, 'utf8')
    .update(Uint8Array.of(0x0a, ED25519_SIGNATURE_TYPE))
    .update(rawPublicKey)
    .digest()
    .readUInt32BE(0);
}

/** The raw 32 bytes of an Ed25519 public (or private) key object. */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'ed25519')
    throw new CustodianError('ERR_KEY_INVALID', 'the key is not an Ed25519 key');
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/** A verifying key from a public (or private) key object. */
export function noteKey(name: string, key: KeyObject): NoteKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const rawPublicKey = rawEd25519PublicKey(publicKey);
  return { name, keyId: ed25519KeyId(name, rawPublicKey), publicKey, rawPublicKey };
}

export function noteSigner(name: string, privateKey: KeyObject): NoteSigner {
  const key = noteKey(name, privateKey);
  return {
    ...key,
    sign: (text) => ({
      name: key.name,
      keyId: key.keyId,
      signature: sign(null, Buffer.from(text, 'utf8'), privateKey),
    }),
  };
}

/** True when `signature` is this key's (same name and id) and verifies over `text`. */
export function verifyNoteSignature(key: NoteKey, text: string, signature: NoteSignature): boolean {
  if (signature.name !== key.name || signature.keyId !== key.keyId || signature.signature.length !== 64)
    return false;
  return verify(null, Buffer.from(text, 'utf8'), key.publicKey, signature.signature);
}

/** The verifier key string of Go's golang.org/x/mod/sumdb/note: `name+hex(keyId)+base64(0x01 ‖ key)`. */
export function verifierKeyString(key: NoteKey): string {
  const id = key.keyId.toString(16).padStart(8, '0');
  const data = Buffer.concat([Uint8Array.of(ED25519_SIGNATURE_TYPE), key.rawPublicKey]).toString('base64');
  return `${key.name}+${id}+${data}`;
}
