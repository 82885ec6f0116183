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
  const names: Buffer[] = [];
  for (const [name, envelope] of fields) {
    const encoded = Buffer.from(name, 'utf8');
    if (encoded.length > 255) throw new TypeError('field names are at most 255 bytes');
    names.push(encoded);
    size += 1 + encoded.length + 4 + envelope.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt16BE(fields.size, 0);
  let i = 0;
  for (const envelope of fields.values()) {
    const name = names[i++]!;
    at = out.writeUInt8(name.length, at);
    at += name.copy(out, at);
    at = out.writeUInt32BE(envelope.length, at);
    at += envelope.copy(out, at);
  }
  return out;
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
