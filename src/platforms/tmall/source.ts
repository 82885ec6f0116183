/**
 * Reads an order export file, CSV (any of the encodings in encoding.ts) or XLSX, as a stream of
 * rows with their line numbers. The first row is the header. Nothing is held in memory beyond a
 * chunk of the file.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { CustodianError } from '../../domain/errors.js';
import { CsvTokenizer, type CsvProblem } from './csv.js';
import {
  chooseEncoding,
  createDecoder,
  SNIFF_BYTES,
  type DetectedEncoding,
  type EncodingChoice,
} from './encoding.js';
import { readXlsxRows } from './xlsx.js';

export interface SourceRow {
  /** CSV: the line the record starts on; XLSX: the sheet row. */
  readonly line: number;
  readonly cells?: string[];
  readonly problem?: CsvProblem;
}

export interface OrderFile {
  readonly format: 'csv' | 'xlsx';
  /** `xlsx`, or the text encoding the CSV is read in. */
  readonly encoding: string;
  readonly detectedBy: DetectedEncoding['by'] | 'format';
  readonly bytesTotal: number;
  bytesRead(): number;
  rows(): AsyncGenerator<SourceRow>;
}

const CHUNK = 1 << 20;

/** Hex SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function head(path: string, bytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } catch (cause) {
    throw new CustodianError('ERR_TMALL_IMPORT_INVALID', 'the export file cannot be read', { cause });
  } finally {
    await handle.close();
  }
}

/** Opens an export: XLSX by its zip signature, CSV otherwise. */
export async function openOrderFile(path: string, choice: EncodingChoice = 'auto'): Promise<OrderFile> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
  } catch (cause) {
    throw new CustodianError('ERR_TMALL_IMPORT_INVALID', 'the export file cannot be read', { cause });
  }
  const sample = await head(path, SNIFF_BYTES);
  let read = 0;
  if (sample[0] === 0x50 && sample[1] === 0x4b && sample[2] === 0x03 && sample[3] === 0x04) {
    return {
      format: 'xlsx',
      encoding: 'xlsx',
      detectedBy: 'format',
      bytesTotal: size,
      bytesRead: () => read,
      async *rows() {
        const input = createReadStream(path, { highWaterMark: CHUNK });
        input.on('data', (chunk) => (read += chunk.length));
        const counted = input.pipe(new PassThrough());
        try {
          for await (const row of readXlsxRows(counted)) yield { line: row.line, cells: row.cells };
        } catch (cause) {
          if (cause instanceof CustodianError) throw cause;
          throw new CustodianError('ERR_TMALL_IMPORT_INVALID', 'the XLSX file cannot be read', { cause });
        } finally {
          input.destroy();
        }
      },
    };
  }
  const detected = chooseEncoding(choice, sample, sample.length === size);
  const tokenizer = new CsvTokenizer();
  return {
    format: 'csv',
    encoding: detected.encoding,
    detectedBy: detected.by,
    bytesTotal: size,
    bytesRead: () => read,
    async *rows() {
      const decoder = createDecoder(detected.encoding);
      const input = createReadStream(path, { highWaterMark: CHUNK, start: detected.bomLength });
      read = detected.bomLength;
      try {
        for await (const chunk of input) {
          read += (chunk as Buffer).length;
          const text = decoder.write(chunk as Buffer);
          for (const r of tokenizer.push(text)) yield toRow(r);
        }
        for (const r of tokenizer.push(decoder.end())) yield toRow(r);
        for (const r of tokenizer.end()) yield toRow(r);
      } finally {
        input.destroy();
      }
    },
  };
}

function toRow(r: { line: number; fields: string[] } | { line: number; problem: CsvProblem }): SourceRow {
  return 'fields' in r ? { line: r.line, cells: r.fields } : { line: r.line, problem: r.problem };
}
