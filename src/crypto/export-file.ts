import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  scryptSync,
  type KeyObject,
} from 'node:crypto';
import { CustodianError } from '../domain/errors.js';

/**
 * Encrypted export files. An export leaves the vault, so it is encrypted for whoever receives it:
 * with a passphrase (scrypt → AES-256-GCM) or to an X25519 public key (ephemeral-static ECDH →
 * HKDF-SHA-256 → AES-256-GCM). The file is one JSON document, readable with any crypto library:
 *
 * ```json
 * { "format": "custodian-export/1",
 *   "recipient": { "kind": "passphrase", "kdf": "scrypt", "salt": "…", "N": 32768, "r": 8, "p": 1 }
 *             | { "kind": "x25519", "ephemeralPublicKey": "…raw 32 bytes, base64…", "kdf": "hkdf-sha256" },
 *   "cipher": "aes-256-gcm", "nonce": "…", "ciphertext": "…", "tag": "…" }
 * ```
 *
 * The associated data is the JSON of `format`, `recipient`, `cipher` and `nonce` in that order,
 * so the header cannot be altered. HKDF: salt = ephemeral public key ‖ recipient public key,
 * info = `custodian-export/1`.
 */
export const EXPORT_FORMAT = 'custodian-export/1';

const SCRYPT = { N: 32768, r: 8, p: 1 } as const;
const INFO = Buffer.from(EXPORT_FORMAT, 'utf8');

export type ExportSealTo =
  | { readonly kind: 'passphrase'; readonly passphrase: string }
  | { readonly kind: 'public-key'; readonly publicKey: KeyObject };
export type ExportOpenWith = { readonly passphrase: string } | { readonly privateKey: KeyObject };

type Header =
  | { kind: 'passphrase'; kdf: 'scrypt'; salt: string; N: number; r: number; p: number }
  | { kind: 'x25519'; ephemeralPublicKey: string; kdf: 'hkdf-sha256' };

interface ExportDocument {
  format: typeof EXPORT_FORMAT;
  recipient: Header;
  cipher: 'aes-256-gcm';
  nonce: string;
  ciphertext: string;
  tag: string;
}

/** Accepts a PEM SPKI X25519 public key or its raw 32 bytes in base64/base64url. */
export function parseX25519PublicKey(text: string): KeyObject {
  try {
    const trimmed = text.trim();
    const key = trimmed.startsWith('-----BEGIN')
      ? createPublicKey(trimmed)
      : createPublicKey({
          key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(trimmed, 'base64').toString('base64url') },
          format: 'jwk',
        });
    if (key.asymmetricKeyType !== 'x25519') throw new TypeError('not an X25519 key');
    return key;
  } catch (cause) {
    throw new CustodianError(
      'ERR_VALIDATION_FAILED',
      'the recipient key is not an X25519 public key (PEM or raw base64)',
      { cause },
    );
  }
}

export function sealExport(plaintext: Buffer, to: ExportSealTo): Buffer {
  let header: Header;
  let key: Buffer;
  if (to.kind === 'passphrase') {
    const salt = randomBytes(16);
    key = scryptSync(to.passphrase.normalize('NFC'), salt, 32, { ...SCRYPT, maxmem: 64 * 1024 * 1024 });
    header = { kind: 'passphrase', kdf: 'scrypt', salt: salt.toString('base64'), ...SCRYPT };
  } else {
    const ephemeral = generateKeyPairSync('x25519');
    const ephemeralRaw = rawX25519(ephemeral.publicKey);
    const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: to.publicKey });
    key = Buffer.from(
      hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, rawX25519(to.publicKey)]), INFO, 32),
    );
    header = { kind: 'x25519', ephemeralPublicKey: ephemeralRaw.toString('base64'), kdf: 'hkdf-sha256' };
  }
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(header, nonce.toString('base64')));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  key.fill(0);
  const doc: ExportDocument = {
    format: EXPORT_FORMAT,
    recipient: header,
    cipher: 'aes-256-gcm',
    nonce: nonce.toString('base64'),
    ciphertext: ciphertext.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
  return Buffer.from(`${JSON.stringify(doc)}\n`, 'utf8');
}

/** Decrypts an export file; every failure is `ERR_CRYPTO_DECRYPTION_FAILED`. */
export function openExport(file: Buffer, using: ExportOpenWith): Buffer {
  const fail = (): CustodianError => new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', 'Decryption failed');
  let doc: ExportDocument;
  try {
    // Untrusted input: the fields are checked below before use.
    doc = JSON.parse(file.toString('utf8')) as ExportDocument;
  } catch {
    throw fail();
  }
  if ((doc.format as string) !== EXPORT_FORMAT || (doc.cipher as string) !== 'aes-256-gcm') throw fail();
  try {
    let key: Buffer;
    const h = doc.recipient;
    if (h.kind === 'passphrase' && 'passphrase' in using) {
      if (h.N > 1 << 20 || h.r > 16 || h.p > 4) throw fail();
      key = scryptSync(using.passphrase.normalize('NFC'), Buffer.from(h.salt, 'base64'), 32, {
        N: h.N,
        r: h.r,
        p: h.p,
        maxmem: 256 * 1024 * 1024,
      });
    } else if (h.kind === 'x25519' && 'privateKey' in using) {
      const ephemeralRaw = Buffer.from(h.ephemeralPublicKey, 'base64');
      const ephemeral = createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: ephemeralRaw.toString('base64url') },
        format: 'jwk',
      });
      const shared = diffieHellman({ privateKey: using.privateKey, publicKey: ephemeral });
      const recipientRaw = rawX25519(createPublicKey(using.privateKey));
      key = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, recipientRaw]), INFO, 32));
    } else {
      throw fail();
    }
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(doc.nonce, 'base64'));
    decipher.setAAD(aad(h, doc.nonce));
    decipher.setAuthTag(Buffer.from(doc.tag, 'base64'));
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(doc.ciphertext, 'base64')),
      decipher.final(),
    ]);
    key.fill(0);
    return plaintext;
  } catch {
    throw fail();
  }
}

function aad(header: Header, nonce: string): Buffer {
  return Buffer.from(
    JSON.stringify({ format: EXPORT_FORMAT, recipient: header, cipher: 'aes-256-gcm', nonce }),
    'utf8',
  );
}

function rawX25519(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}
