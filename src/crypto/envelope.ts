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
  const aad = aadPrefix(header, context, context.field.length);
  return aad.buffer.subarray(0, writeString(aad.buffer, aad.length, checkedPart(context.field)));
}

/** The AAD up to the field name, with room for a name of `fieldLength` UTF-16 units after it. */
function aadPrefix(
  header: Uint8Array,
  context: RecordContext,
  fieldLength: number,
): { readonly buffer: Buffer; readonly length: number } {
  const subjectId = checkedPart(context.subjectId);
  const collection = checkedPart(context.collection);
  const recordId = checkedPart(context.recordId);
  const buffer = Buffer.allocUnsafe(
    AAD_LABEL.length +
      header.length +
      16 +
      3 * (subjectId.length + collection.length + recordId.length + fieldLength),
  );
  let at = AAD_LABEL.copy(buffer, 0);
  buffer.set(header, at);
  at += header.length;
  at = writeString(buffer, at, subjectId);
  at = writeString(buffer, at, collection);
  return { buffer, length: writeString(buffer, at, recordId) };
}

/** A value to seal, refused if UTF-8 could not carry it unchanged (a lone surrogate). */
function wellFormed(value: string): string {
  if (hasLoneSurrogate(value))
    throw new CustodianError('ERR_VALIDATION_FAILED', 'The value is not well-formed Unicode text');
  return value;
}

function checkedPart(value: string): string {
  if (hasLoneSurrogate(value))
    throw new TypeError('Field context components must be well-formed Unicode strings');
  return value;
}

function writeString(target: Buffer, at: number, value: string): number {
  const written = target.write(value, at + 4, 'utf8');
  target.writeUInt32BE(written, at);
  return at + 4 + written;
}

/** UTF-16 units of field name the associated data has room for at first (a token's hex is 64). */
const FIELD_NAME_ROOM = 64;

/** Where a record's fields live: a {@link FieldContext} but the field's name. */
export type RecordContext = Omit<FieldContext, 'field'>;

export interface FieldSealerOptions extends Omit<SealFieldOptions, 'context'> {
  readonly context: RecordContext;
}

/**
 * Seals the fields of one record (one subject, collection, record id and key) as
 * {@link sealField} does, each into a buffer the caller provides: the header, its checks and the
 * associated data up to the field's name are made once for the record rather than once per field,
 * and a text value is encoded straight into the envelope and encrypted where it lies.
 *
 * @example
 * ```ts
 * const sealer = new FieldSealer({ suite: 'aes-256-gcm', key, keyVersion: 3, context: { subjectId, collection: 'address', recordId } });
 * const out = Buffer.allocUnsafe(sealer.length('13800138000'));
 * sealer.sealInto('phone', '13800138000', out, 0);
 * ```
 * @throws at construction, what {@link sealField} throws for its suite, key version, key id and context.
 */
export class FieldSealer {
  readonly #suite: AeadSuite;
  readonly #key: KeyObject;
  readonly #header: Buffer;
  readonly #nonces: NonceSource;
  readonly #context: RecordContext;
  /** The associated data up to the field name, and room for one. */
  #aad: Buffer;
  #prefixLength: number;

  constructor(options: FieldSealerOptions) {
    this.#suite = typeof options.suite === 'string' ? suiteById(options.suite) : options.suite;
    assertKeyVersion(options.keyVersion);
    const keyId = options.keyId ?? NO_KEY_ID;
    if (keyId.length > MAX_KEY_ID_LENGTH)
      throw new TypeError(`keyId must be at most ${MAX_KEY_ID_LENGTH} bytes`);
    this.#key = options.key;
    this.#header = Buffer.allocUnsafe(FIXED_HEADER_LENGTH + keyId.length);
    this.#header[0] = ENVELOPE_FORMAT_VERSION;
    this.#header[1] = this.#suite.code;
    this.#header.writeUInt32BE(options.keyVersion, 2);
    this.#header[6] = keyId.length;
    this.#header.set(keyId, FIXED_HEADER_LENGTH);
    this.#nonces = options.nonces ?? (sharedNonces ??= new PooledNonceSource());
    this.#context = options.context;
    ({ buffer: this.#aad, length: this.#prefixLength } = aadPrefix(
      this.#header,
      options.context,
      FIELD_NAME_ROOM,
    ));
  }

  /** The length of the envelope of `plaintext`. */
  length(plaintext: Uint8Array | string): number {
    const size = typeof plaintext === 'string' ? Buffer.byteLength(plaintext, 'utf8') : plaintext.length;
    return this.#header.length + NONCE_LENGTH + size + TAG_LENGTH;
  }

  /**
   * Writes the envelope of `plaintext` as field `field` into `out` at `offset`; returns the offset
   * after it ({@link length} bytes on).
   *
   * @throws CustodianError `ERR_VALIDATION_FAILED` for a string with a lone surrogate (UTF-8 could
   *   not carry it unchanged), and what the suite's `sealInto` throws.
   * @throws TypeError for a field name with a lone surrogate; RangeError if `out` has no room.
   */
  sealInto(field: string, plaintext: Uint8Array | string, out: Buffer, offset: number): number {
    if (typeof plaintext === 'string') wellFormed(plaintext);
    const aad = this.#aadFor(checkedPart(field));
    const end = offset + this.length(plaintext);
    if (offset < 0 || end > out.length) throw new RangeError('The envelope does not fit');
    const nonce = this.#nonces.next();
    if (nonce.length !== NONCE_LENGTH) throw new TypeError(`Nonces must be ${NONCE_LENGTH} bytes`);
    const header = this.#header;
    out.set(header, offset);
    out.set(nonce, offset + header.length);
    const bodyAt = offset + header.length + NONCE_LENGTH;
    // A text value is encoded where its ciphertext goes; the suite reads it before it writes there.
    let data: Uint8Array = plaintext as Uint8Array;
    if (typeof plaintext === 'string') {
      data = out.subarray(bodyAt, end - TAG_LENGTH);
      if (data.length > 0) out.write(plaintext, bodyAt, 'utf8');
    }
    try {
      this.#suite.sealInto(this.#key, nonce, data, aad, out, bodyAt);
    } catch (error) {
      out.fill(0, offset, end); // never a value left in clear where a ciphertext was to be
      throw error;
    }
    return end;
  }

  #aadFor(field: string): Buffer {
    if (this.#aad.length < this.#prefixLength + 4 + 3 * field.length)
      ({ buffer: this.#aad, length: this.#prefixLength } = aadPrefix(
        this.#header,
        this.#context,
        field.length,
      ));
    return this.#aad.subarray(0, writeString(this.#aad, this.#prefixLength, field));
  }
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
  // The field's own context is a record's context with its name: the sealer ignores the name.
  const sealer = new FieldSealer(options);
  // Encoded once here, where the sealer would measure the text and then encode it.
  const data = typeof plaintext === 'string' ? Buffer.from(wellFormed(plaintext), 'utf8') : plaintext;
  const envelope = Buffer.allocUnsafe(sealer.length(data));
  sealer.sealInto(options.context.field, data, envelope, 0);
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
