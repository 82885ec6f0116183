import type { FieldSealer } from '../crypto/envelope.js';
import { CustodianError } from '../domain/errors.js';

/**
 * The `records.sealed` column: a record's field envelopes in one value.
 *
 * ```text
 * u16 count, then per field: u8 name length ‖ name (UTF-8) ‖ u32 envelope length ‖ envelope
 * ```
 *
 * The names here only say where each envelope sits; each envelope's associated data binds its own
 * field name, so swapping two envelopes makes both fail to open.
 */
export function encodeSealedFields(fields: ReadonlyMap<string, Buffer>): Buffer {
  let size = 2;
  for (const [name, envelope] of fields) size += entryHeaderLength(name) + envelope.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt16BE(fields.size, 0);
  for (const [name, envelope] of fields) {
    at = writeEntryHeader(out, at, name, envelope.length);
    at += envelope.copy(out, at);
  }
  return out;
}

/** The length of the `records.sealed` value {@link sealFieldsInto} writes. */
export function sealedFieldsLength(sealer: FieldSealer, fields: Readonly<Record<string, string>>): number {
  let size = 2;
  for (const name in fields) size += entryHeaderLength(name) + sealer.length(fields[name]!);
  return size;
}

/**
 * Seals a record's fields, in order, as its `records.sealed` value, into `out` at `at`
 * ({@link sealedFieldsLength} bytes); returns the offset after it. Each envelope is written in
 * place, so a batch of records takes one buffer and no copy.
 */
export function sealFieldsInto(
  sealer: FieldSealer,
  fields: Readonly<Record<string, string>>,
  out: Buffer,
  at: number,
): number {
  const count = at;
  at += 2;
  let n = 0;
  for (const name in fields) {
    const start = writeEntryHeader(out, at, name, 0);
    at = sealer.sealInto(name, fields[name]!, out, start);
    out.writeUInt32BE(at - start, start - 4);
    n++;
  }
  out.writeUInt16BE(n, count);
  return at;
}

function entryHeaderLength(name: string): number {
  const length = Buffer.byteLength(name, 'utf8');
  if (length > 255) throw new TypeError('field names are at most 255 bytes');
  return 1 + length + 4;
}

/** Writes a field's name and its envelope's length; returns where the envelope goes. */
function writeEntryHeader(out: Buffer, at: number, name: string, envelopeLength: number): number {
  const length = out.write(name, at + 1, 'utf8');
  at = out.writeUInt8(length, at);
  at += length;
  return out.writeUInt32BE(envelopeLength, at);
}

export function decodeSealedFields(value: Buffer): Map<string, Buffer> {
  const fields = new Map<string, Buffer>();
  const fail = (): CustodianError => new CustodianError('ERR_CRYPTO_DECRYPTION_FAILED', 'Decryption failed');
  if (value.length < 2) throw fail();
  const count = value.readUInt16BE(0);
  let at = 2;
  for (let i = 0; i < count; i++) {
    if (at + 1 > value.length) throw fail();
    const nameLength = value.readUInt8(at);
    at += 1;
    if (at + nameLength + 4 > value.length) throw fail();
    const name = value.toString('utf8', at, at + nameLength);
    at += nameLength;
    const length = value.readUInt32BE(at);
    at += 4;
    if (at + length > value.length) throw fail();
    fields.set(name, value.subarray(at, at + length));
    at += length;
  }
  if (at !== value.length) throw fail();
  return fields;
}
