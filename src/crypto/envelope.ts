/**
 * Field envelopes: one self-describing, versioned binary value per encrypted field.
 *
 * Byte layout of format version 1 (all integers big-endian):
 *
 * ```text
 * offset     size  field
 * 0          1     format version, 0x01
 * 1          1     suite code: 0x01 AES-256-GCM, 0x02 SM4-GCM (RFC 8998; rule R14)
 * 2          4     key version: the subject data key's version, uint32
 * 6          1     key-id length L, 0..16
 * 7          L     key id: optional opaque, non-secret bytes that name the key beyond its version
 *                  (a key ring or tenant id, a short key check value); empty by default. Never
 *                  name the root key here: root rotation rewraps data keys without touching fields.
 * 7+L        12    nonce
 * 19+L       n     ciphertext (n = plaintext length)
 * 19+L+n     16    GCM tag
 * ```
 *
 * The smallest envelope (empty plaintext, no key id) is 35 bytes; a 100-byte field takes 135.
 *
 * Associated data binds the envelope to where it belongs, so a ciphertext moved to another
 * subject, record, field or key version fails to open. It is, with no separators needed because
 * every variable part is length-prefixed:
 *
 * ```text
 * "custodian.field" ‖ header (bytes 0 .. 7+L above, verbatim)
 *   ‖ u32 len ‖ subjectId ‖ u32 len ‖ collection ‖ u32 len ‖ recordId ‖ u32 len ‖ field   (UTF-8)
 * ```
 *
 * The header in the AAD covers the format version, suite code, key version and key id, so every
 * header byte is authenticated along with the ciphertext.
 */
import type { KeyObject } from 'node:crypto';

import {
  NONCE_LENGTH,
  PooledNonceSource,
  TAG_LENGTH,
  decryptionFailed,
  suiteByCode,
  suiteById,
  type AeadSuite,
  type AeadSuiteId,
  type NonceSource,
} from './aead.js';
import { hasLoneSurrogate } from './text.js';
import { CustodianError } from '../domain/errors.js';

/** The envelope format this module writes. */
export const ENVELOPE_FORMAT_VERSION = 1;

/** Longest key id an envelope can carry, in bytes. */
export const MAX_KEY_ID_LENGTH = 16;

const FIXED_HEADER_LENGTH = 7;
const MIN_ENVELOPE_LENGTH = FIXED_HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH;
const MAX_KEY_VERSION = 0xffff_ffff;
const AAD_LABEL = Buffer.from('custodian.field', 'latin1');
const NO_KEY_ID = Buffer.alloc(0);

/** Where a field value lives. Every component is bound into the AEAD associated data. */
export interface FieldContext {
  readonly subjectId: string;
  readonly collection: string;
  readonly recordId: string;
  readonly field: string;
}

/** The parsed, not yet authenticated, header of an envelope. */
export interface EnvelopeHeader {
  readonly formatVersion: number;
  readonly suite: AeadSuite;
  readonly keyVersion: number;
  /** A view into the envelope; copy it if you keep it. */
  readonly keyId: Buffer;
}

export interface SealFieldOptions {
  /** The suite, or its configuration name. */
  readonly suite: AeadSuite | AeadSuiteId;
  /** The subject's data key, of the suite's key length. */
  readonly key: KeyObject;
  /** The data key's version (uint32), recorded in the header and bound into the AAD. */
  readonly keyVersion: number;
  /** Optional opaque key id, at most {@link MAX_KEY_ID_LENGTH} bytes. */
  readonly keyId?: Uint8Array;
  readonly context: FieldContext;
  /** Where nonces come from; defaults to a process-wide {@link PooledNonceSource}. */
  readonly nonces?: NonceSource | undefined;
}

/**
 * Finds the data key for an envelope. It gets the header before the tag is checked, so the
 * version is only a hint until the open succeeds. Return `undefined` for an unknown version (the
 * open then fails with `ERR_CRYPTO_DECRYPTION_FAILED`); errors it throws propagate unchanged, so
 * an unavailable key provider still reports `ERR_KEY_UNAVAILABLE`.
 */
export type KeyResolver = (keyVersion: number, header: EnvelopeHeader) => KeyObject | undefined;

export type OpenFieldOptions =
  | {
      readonly context: FieldContext;
      /** The one key the envelope must be sealed under... */
      readonly key: KeyObject;
      /** ...and its version; an envelope naming any other version fails. */
      readonly keyVersion: number;
    }
  | {
      readonly context: FieldContext;
      readonly resolveKey: KeyResolver;
    };

let sharedNonces: NonceSource | undefined;

function assertKeyVersion(keyVersion: number): void {
  if (!Number.isInteger(keyVersion) || keyVersion < 0 || keyVersion > MAX_KEY_VERSION) {
    throw new TypeError('keyVersion must be an integer from 0 to 2^32 - 1');
  }
}

/**
 * Builds the AAD: the label, the header verbatim, then the four length-prefixed context strings.
 * Sized for the worst case (3 UTF-8 bytes per UTF-16 unit) to skip four byteLength scans.
 */
function associatedData(header: Uint8Array, context: FieldContext): Buffer {
  const { subjectId, collection, recordId, field } = context;
  if (
    hasLoneSurrogate(subjectId) ||
    hasLoneSurrogate(collection) ||
    hasLoneSurrogate(recordId) ||
    hasLoneSurrogate(field)
  ) {
    throw new TypeError('Field context components must be well-formed Unicode strings');
  }
  const capacity =
    AAD_LABEL.length +
    header.length +
    16 +
    3 * (subjectId.length + collection.length + recordId.length + field.length);
  const aad = Buffer.allocUnsafe(capacity);
  let at = AAD_LABEL.copy(aad, 0);
  aad.set(header, at);
  at += header.length;
  at = writeString(aad, at, subjectId);
  at = writeString(aad, at, collection);
  at = writeString(aad, at, recordId);
  at = writeString(aad, at, field);
  return aad.subarray(0, at);
}

function writeString(target: Buffer, at: number, value: string): number {
  const written = target.write(value, at + 4, 'utf8');
  target.writeUInt32BE(written, at);
  return at + 4 + written;
}

/**
 * Encrypts one field value into a v1 envelope (layout in this module's header comment).
 *
 * The context and key version are bound as associated data (RFC 5116 §2.1), so the envelope opens
 * only for the same subject, collection, record, field and key version.
 *
 * @example
 * ```ts
 * const key = createSecretKey(dataKey); // once per subject, not per field
 * const envelope = sealField('13800138000', {
 *   suite: 'aes-256-gcm',
 *   key,
 *   keyVersion: 3,
 *   context: { subjectId, collection: 'profile', recordId, field: 'phone' },
 * });
 * ```
 * @throws CustodianError `ERR_CRYPTO_UNSUPPORTED` for an unknown suite name,
 *   `ERR_KEY_INVALID` for a key of the wrong size, `ERR_VALIDATION_FAILED` for a string
 *   plaintext with a lone surrogate (UTF-8 could not carry it unchanged).
 * @throws TypeError for a key version outside uint32, a key id longer than 16 bytes, or a context
 *   component with a lone surrogate.
 */
export function sealField(plaintext: Uint8Array | string, options: SealFieldOptions): Buffer {
  const suite = typeof options.suite === 'string' ? suiteById(options.suite) : options.suite;
  const { keyVersion } = options;
  assertKeyVersion(keyVersion);
  const keyId = options.keyId ?? NO_KEY_ID;
  if (keyId.length > MAX_KEY_ID_LENGTH)
    throw new TypeError(`keyId must be at most ${MAX_KEY_ID_LENGTH} bytes`);
  let data: Uint8Array;
  if (typeof plaintext === 'string') {
    if (hasLoneSurrogate(plaintext)) {
      throw new CustodianError('ERR_VALIDATION_FAILED', 'The value is not well-formed Unicode text');
    }
    data = Buffer.from(plaintext, 'utf8');
  } else {
    data = plaintext;
  }

  const headerLength = FIXED_HEADER_LENGTH + keyId.length;
  const bodyAt = headerLength + NONCE_LENGTH;
  const envelope = Buffer.allocUnsafe(bodyAt + data.length + TAG_LENGTH);
  envelope[0] = ENVELOPE_FORMAT_VERSION;
  envelope[1] = suite.code;
  envelope.writeUInt32BE(keyVersion, 2);
  envelope[6] = keyId.length;
  envelope.set(keyId, FIXED_HEADER_LENGTH);
  const nonce = (options.nonces ?? (sharedNonces ??= new PooledNonceSource())).next();
  if (nonce.length !== NONCE_LENGTH) throw new TypeError(`Nonces must be ${NONCE_LENGTH} bytes`);
  envelope.set(nonce, headerLength);

  const aad = associatedData(envelope.subarray(0, headerLength), options.context);
  suite.sealInto(options.key, nonce, data, aad, envelope, bodyAt);
  return envelope;
}

type ParsedEnvelope =
  | { readonly ok: true; readonly header: EnvelopeHeader; readonly headerLength: number }
  | { readonly ok: false; readonly unsupported: boolean };

const MALFORMED: ParsedEnvelope = { ok: false, unsupported: false };
const UNSUPPORTED: ParsedEnvelope = { ok: false, unsupported: true };

function parseEnvelope(envelope: Uint8Array): ParsedEnvelope {
  if (envelope.length < 1) return MALFORMED;
  if (envelope[0] !== ENVELOPE_FORMAT_VERSION) return UNSUPPORTED;
  if (envelope.length < MIN_ENVELOPE_LENGTH) return MALFORMED;
  const keyIdLength = envelope[6]!;
  const headerLength = FIXED_HEADER_LENGTH + keyIdLength;
  if (keyIdLength > MAX_KEY_ID_LENGTH || envelope.length < headerLength + NONCE_LENGTH + TAG_LENGTH) {
    return MALFORMED;
  }
  let suite: AeadSuite;
  try {
    suite = suiteByCode(envelope[1]!);
  } catch {
    return UNSUPPORTED;
  }
  const keyVersion = envelope[2]! * 0x100_0000 + ((envelope[3]! << 16) | (envelope[4]! << 8) | envelope[5]!);
  const keyId = Buffer.from(envelope.buffer, envelope.byteOffset + FIXED_HEADER_LENGTH, keyIdLength);
  return {
    ok: true,
    header: { formatVersion: ENVELOPE_FORMAT_VERSION, suite, keyVersion, keyId },
    headerLength,
  };
}

/**
 * Reads an envelope's header without decrypting it: to find which data key version to unwrap
 * before {@link openField}, or which envelopes a key rotation still has to re-encrypt. Nothing in
 * the header is authenticated until `openField` succeeds.
 *
 * Unlike `openField`, this tells an envelope from a newer release (unknown format version or suite
 * code: `ERR_CRYPTO_UNSUPPORTED`) apart from a malformed one (`ERR_CRYPTO_DECRYPTION_FAILED`),
 * for diagnostics; the header is public, so that reveals nothing.
 */
export function readEnvelopeHeader(envelope: Uint8Array): EnvelopeHeader {
  const parsed = parseEnvelope(envelope);
  if (parsed.ok) return parsed.header;
  if (parsed.unsupported) {
    throw new CustodianError('ERR_CRYPTO_UNSUPPORTED', 'Unsupported envelope format version or suite');
  }
  throw decryptionFailed();
}

/**
 * Verifies and decrypts a field envelope sealed by {@link sealField} for the same context.
 *
 * Every failure that depends on the envelope, whether truncated or malformed, an unknown
 * format version or suite code, an unknown key version, a wrong key, a different context or a bad
 * tag, throws the same `ERR_CRYPTO_DECRYPTION_FAILED` (no oracle, as in RFC 7516 §11.5). The
 * version and suite bytes are unauthenticated until the tag verifies, so a newer envelope and a
 * flipped byte look alike here; {@link readEnvelopeHeader} tells them apart for diagnostics.
 *
 * @returns the plaintext bytes; `.toString('utf8')` for text fields.
 */
export function openField(envelope: Uint8Array, options: OpenFieldOptions): Buffer {
  const parsed = parseEnvelope(envelope);
  if (!parsed.ok) throw decryptionFailed();
  const { header, headerLength } = parsed;

  let key: KeyObject | undefined;
  if ('resolveKey' in options) {
    key = options.resolveKey(header.keyVersion, header);
  } else if (header.keyVersion === options.keyVersion) {
    key = options.key;
  }
  if (key === undefined) throw decryptionFailed();

  const aad = associatedData(envelope.subarray(0, headerLength), options.context);
  const nonce = envelope.subarray(headerLength, headerLength + NONCE_LENGTH);
  return header.suite.open(key, nonce, envelope.subarray(headerLength + NONCE_LENGTH), aad);
}
