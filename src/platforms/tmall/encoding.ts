/**
 * Text encodings of order exports. The seller centre writes GBK (Excel on Chinese Windows does
 * too); newer tools write UTF-8, with or without a byte-order mark. GBK is decoded as GB18030,
 * its superset, so characters outside GBK (rare surnames) survive when a tool wrote GB18030.
 */

import { TextDecoder } from 'node:util';
import chardet from 'chardet';
import iconv from 'iconv-lite';
import { DEFAULT_HEADERS } from './mapping.js';

export const ENCODING_CHOICES = ['auto', 'gbk', 'gb18030', 'utf-8'] as const;
export type EncodingChoice = (typeof ENCODING_CHOICES)[number];

/** What the decoder uses: `gbk` is read as its superset `gb18030`. */
export type TextEncoding = 'utf-8' | 'gb18030' | 'utf-16le' | 'utf-16be' | 'big5';

export interface DetectedEncoding {
  readonly encoding: TextEncoding;
  /** How it was decided. */
  readonly by: 'bom' | 'utf-8-valid' | 'chardet' | 'fallback' | 'given';
  /** Bytes of byte-order mark to skip. */
  readonly bomLength: number;
}

/** Bytes from the start of the file enough for the statistics. */
export const SNIFF_BYTES = 64 * 1024;

function bomOf(sample: Uint8Array): { encoding: TextEncoding; length: number } | undefined {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (sample[0] === 0xfe && sample[1] === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/** True when the bytes are well-formed UTF-8, tolerating a character cut off at the end of the sample. */
function isUtf8(sample: Uint8Array, complete: boolean): boolean {
  let end = sample.length;
  if (!complete) {
    // Back up over a trailing partial sequence (at most 3 continuation bytes and its lead byte).
    let i = end - 1;
    while (i >= 0 && end - i <= 4 && (sample[i]! & 0xc0) === 0x80) i--;
    if (i >= 0 && sample[i]! >= 0xc0) end = i;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `sample` decodes without an invalid byte in `encoding`, tolerating a character cut off at
 * the end of an incomplete sample (a streaming decode holds such a tail back instead of failing).
 * `undefined` when this Node has no decoder for it (builds with small ICU).
 */
function decodesCleanly(sample: Uint8Array, encoding: TextEncoding, complete: boolean): boolean | undefined {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  } catch {
    return undefined;
  }
  try {
    decoder.decode(sample, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}

/** Header names of the seller centre's export written in Chinese (simplified, as GBK holds them). */
const CHINESE_HEADERS = Object.keys(DEFAULT_HEADERS).filter((h) => /[^\x20-\x7e]/u.test(h));

/**
 * Evidence that a sample chardet would read as Big5 is GBK after all: its first line, read as
 * GB18030, names a column of the seller centre's export; or it decodes as GB18030 and not as Big5.
 * On small files chardet's Big5 statistics are noise (one 单 in a row tips them), and every
 * well-formed Big5 byte sequence is well-formed GB18030 as well, so only these facts decide.
 */
function isGbkAfterAll(sample: Uint8Array, complete: boolean): boolean {
  const eol = sample.findIndex((b) => b === 0x0a || b === 0x0d);
  // A streaming write holds back a character cut off at the end; the header names are whole.
  const firstLine = createDecoder('gb18030').write(eol < 0 ? sample : sample.subarray(0, eol));
  if (CHINESE_HEADERS.some((h) => firstLine.includes(h))) return true;
  return (
    decodesCleanly(sample, 'gb18030', complete) === true && decodesCleanly(sample, 'big5', complete) === false
  );
}

/**
 * Decides the encoding from the first bytes of a file: a byte-order mark; else well-formed UTF-8
 * (any non-ASCII UTF-8 text of some length is almost never valid GBK by accident); else the
 * statistics of chardet (GB18030/GBK/GB2312 → gb18030, Big5); else GB18030, what Tmall writes.
 * Big5 wins only when chardet scores it strictly above every GB encoding and nothing in the sample
 * says GBK ({@link isGbkAfterAll}): the seller centre writes GBK, and on a tie chardet lists Big5
 * first.
 *
 * @param complete whether `sample` is the whole file (no character can be cut off at its end).
 */
export function detectEncoding(sample: Uint8Array, complete = false): DetectedEncoding {
  const bom = bomOf(sample);
  if (bom) return { encoding: bom.encoding, by: 'bom', bomLength: bom.length };
  if (isUtf8(sample, complete)) return { encoding: 'utf-8', by: 'utf-8-valid', bomLength: 0 };
  let gb = 0;
  let big5 = 0;
  for (const match of chardet.analyse(sample)) {
    if (match.confidence < 10) break;
    const name = match.name.toUpperCase();
    if (name === 'GB18030' || name === 'GBK' || name === 'GB2312') gb = Math.max(gb, match.confidence);
    else if (name === 'BIG5') big5 = Math.max(big5, match.confidence);
  }
  if (gb === 0 && big5 === 0) return { encoding: 'gb18030', by: 'fallback', bomLength: 0 };
  const encoding = big5 > gb && !isGbkAfterAll(sample, complete) ? 'big5' : 'gb18030';
  return { encoding, by: 'chardet', bomLength: 0 };
}

/** The encoding a user asked for, or the detected one for `auto`. A BOM is skipped either way. */
export function chooseEncoding(
  choice: EncodingChoice,
  sample: Uint8Array,
  complete = false,
): DetectedEncoding {
  if (choice === 'auto') return detectEncoding(sample, complete);
  const bom = bomOf(sample);
  const encoding: TextEncoding = choice === 'utf-8' ? 'utf-8' : 'gb18030';
  return { encoding, by: 'given', bomLength: bom?.encoding === encoding ? bom.length : 0 };
}

/** An incremental decoder: bytes in, text out, characters split across chunks handled. */
export interface ChunkDecoder {
  write(chunk: Uint8Array): string;
  end(): string;
}

/**
 * The native `TextDecoder` (ICU, about three times faster than iconv-lite on GB18030) when this
 * Node has the encoding, iconv-lite otherwise (builds with small ICU). Invalid bytes become
 * U+FFFD, which the importer reports per row instead of failing the file.
 */
export function createDecoder(encoding: TextEncoding): ChunkDecoder {
  let native: TextDecoder | undefined;
  try {
    native = new TextDecoder(encoding, { fatal: false, ignoreBOM: true });
  } catch {
    native = undefined;
  }
  if (native !== undefined) {
    const decoder = native;
    return {
      write: (chunk) => decoder.decode(chunk, { stream: true }),
      end: () => decoder.decode(),
    };
  }
  const decoder = iconv.getDecoder(encoding, { stripBOM: false });
  return {
    write: (chunk) => decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
    end: () => decoder.end() ?? '',
  };
}

/** Encodes text for writing an export in `encoding` (GBK via iconv-lite; Node encodes only UTF-8). */
export function encodeText(text: string, encoding: 'gbk' | 'gb18030' | 'utf-8'): Buffer {
  return encoding === 'utf-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, encoding);
}
