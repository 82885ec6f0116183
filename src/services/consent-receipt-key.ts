import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from 'jose';
import type { ConsentConfig } from '../config/schema.js';
import { RECEIPT_TYPE, type ConsentReceiptClaims } from '../domain/consent/receipt.js';
import { CustodianError } from '../domain/errors.js';
import { readEd25519KeyFile } from '../keys/file.js';

/**
 * The consent-receipt signing key: an Ed25519 private key in a PKCS#8 PEM file of mode 0600,
 * created by `init` beside the audit signing key (a separate key: receipts go to customers,
 * checkpoints to auditors). Receipts are compact JWS (RFC 7515) with `alg: EdDSA` and the key's
 * RFC 7638 thumbprint as `kid`; `/.well-known/jwks.json` publishes the public keys.
 */

/** A public key as `/.well-known/jwks.json` lists it. */
export interface ReceiptJwk extends JWK {
  readonly kty: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

export interface ReceiptSigner {
  /** The RFC 7638 thumbprint of the current key. */
  readonly kid: string;
  /** Signs receipt claims as a compact JWS. */
  sign(claims: ConsentReceiptClaims): Promise<string>;
  /** The current key first, then retired ones still published so that earlier receipts verify. */
  readonly jwks: { readonly keys: readonly ReceiptJwk[] };
}

/** Loads the configured receipt key (and the retired ones' public halves). Fails closed. */
export async function loadReceiptSigner(config: ConsentConfig): Promise<ReceiptSigner> {
  const privateKey = readReceiptKey(config.receiptKey);
  const current = await publicJwk(createPublicKey(privateKey));
  const retired: ReceiptJwk[] = [];
  for (const path of config.retiredReceiptKeys) {
    const jwk = await publicJwk(readPublicKey(path));
    if (jwk.kid !== current.kid && !retired.some((r) => r.kid === jwk.kid)) retired.push(jwk);
  }
  const jwks = Object.freeze({ keys: Object.freeze([current, ...retired]) });
  return {
    kid: current.kid,
    jwks,
    sign: (claims) =>
      new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'EdDSA', kid: current.kid, typ: RECEIPT_TYPE })
        .sign(privateKey),
  };
}

async function publicJwk(key: KeyObject): Promise<ReceiptJwk> {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new CustodianError('ERR_KEY_INVALID', 'a consent-receipt key must be Ed25519');
  const jwk = await exportJWK(key);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return Object.freeze({ ...jwk, kty: jwk.kty ?? 'OKP', kid, alg: 'EdDSA' as const, use: 'sig' as const });
}

/** Reads the signing key; refuses a file that group or others can read, or that is not Ed25519. */
export function readReceiptKey(path: string): KeyObject {
  return readEd25519KeyFile(path, 'consent-receipt key');
}

/** A retired key's public half, from a PEM file holding either half. */
function readPublicKey(path: string): KeyObject {
  try {
    return createPublicKey(readFileSync(path));
  } catch (cause) {
    throw new CustodianError(
      'ERR_KEY_UNAVAILABLE',
      `${path}: cannot read the retired consent-receipt key (PEM, public or private)`,
      { cause },
    );
  }
}
