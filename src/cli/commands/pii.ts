import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { CustodianError } from '../../domain/errors.js';
import { DEFAULT_MIN_CONFIDENCE, detectPii, type PiiFinding, type PiiType } from '../../domain/pii/detect.js';
import type { CliIO } from '../io.js';
import { usage } from '../shared.js';

/** What `pii scan` reads besides files; tests pass their own. */
export interface PiiCommandDeps {
  /** The whole of standard input, for `custodian pii scan -`. Defaults to {@link readStdin}. */
  readonly stdin?: () => Promise<string>;
}

interface ScanOptions {
  json?: boolean;
  csv?: boolean;
  minConfidence: string;
}

/** One finding as `pii scan` reports it: a position, never the value. */
export type ScanFinding = {
  readonly type: PiiType;
  readonly masked: string;
  readonly confidence: number;
  readonly context?: readonly string[];
  /** Offsets (UTF-16) within the line (text) or the cell (CSV). */
  readonly start: number;
  readonly end: number;
} & ({ readonly line: number; readonly column: number } | { readonly row: number; readonly column: number });

const utf8 = (): TextDecoder => new TextDecoder('utf-8', { fatal: true });

/** Decodes input as UTF-8 text (BOM dropped); bad or binary input is a usage error naming `what`. */
export function decodeText(bytes: Uint8Array, what: string): string {
  let text: string;
  try {
    text = utf8().decode(bytes);
  } catch {
    throw usage(`${what}: not UTF-8 text`);
  }
  if (text.includes('\u0000')) throw usage(`${what}: a binary file, not text`);
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** Reads all of standard input as UTF-8 text. */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return decodeText(Buffer.concat(chunks), 'standard input');
}

/**
 * A small RFC 4180 reader: comma-separated fields, optionally double-quoted (`""` for a quote),
 * quoted fields may hold commas and line breaks; records end with CRLF or LF. Lenient about a
 * quote inside an unquoted field; strict about an unterminated quoted field or text after a
 * closing quote, which throw `RangeError` with the 1-based record number.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let afterQuote = false;
  const endField = (): void => {
    row.push(field);
    field = '';
    afterQuote = false;
  };
  const endRow = (): void => {
    endField();
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        afterQuote = true;
      } else field += c;
      i++;
      continue;
    }
    if (c === ',') endField();
    else if (c === '\n' || c === '\r') {
      endRow();
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else if (afterQuote) {
      throw new RangeError(`text after a closing quote in record ${rows.length + 1}`);
    } else if (c === '"' && field === '') quoted = true;
    else field += c;
    i++;
  }
  if (quoted) throw new RangeError(`unterminated quoted field in record ${rows.length + 1}`);
  if (field !== '' || row.length > 0 || afterQuote) endRow();
  return rows;
}

function pick(f: PiiFinding): Pick<ScanFinding, 'type' | 'masked' | 'confidence' | 'start' | 'end'> & {
  context?: readonly string[];
} {
  return {
    type: f.type,
    masked: f.masked,
    confidence: f.confidence,
    start: f.start,
    end: f.end,
    ...(f.context === undefined ? {} : { context: f.context }),
  };
}

/** Scans text line by line. */
export function scanText(text: string, minConfidence = DEFAULT_MIN_CONFIDENCE): ScanFinding[] {
  const out: ScanFinding[] = [];
  text.split(/\r\n|\n|\r/).forEach((line, index) => {
    for (const f of detectPii(line, { minConfidence })) {
      out.push({ ...pick(f), line: index + 1, column: f.start + 1 });
    }
  });
  return out;
}

/** Scans every cell of a CSV document. @throws RangeError for malformed CSV. */
export function scanCsv(text: string, minConfidence = DEFAULT_MIN_CONFIDENCE): ScanFinding[] {
  const out: ScanFinding[] = [];
  parseCsv(text).forEach((cells, r) => {
    cells.forEach((cell, c) => {
      for (const f of detectPii(cell, { minConfidence })) out.push({ ...pick(f), row: r + 1, column: c + 1 });
    });
  });
  return out;
}

function where(f: ScanFinding): string {
  return 'line' in f
    ? `line ${f.line}, col ${f.column}`
    : `row ${f.row}, col ${f.column} [${f.start + 1}-${f.end}]`;
}

function table(findings: readonly ScanFinding[]): string {
  const rows = findings.map((f) => [f.type, where(f), f.masked, f.confidence.toFixed(2)]);
  const header = ['TYPE', 'WHERE', 'MASKED', 'CONFIDENCE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (r: readonly string[]): string =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)].join('\n');
}

function summary(findings: readonly ScanFinding[]): string {
  const counts = new Map<PiiType, number>();
  for (const f of findings) counts.set(f.type, (counts.get(f.type) ?? 0) + 1);
  const parts = [...counts].map(([type, n]) => `${type} ${n}`).join(', ');
  return `${findings.length} finding${findings.length === 1 ? '' : 's'} (${parts})`;
}

const CONFIDENCE = /^(?:0(?:\.\d+)?|1(?:\.0+)?|\.\d+)$/;

async function readInput(io: CliIO, file: string, deps: PiiCommandDeps): Promise<string> {
  if (file === '-') return (deps.stdin ?? readStdin)();
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(io.cwd, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : 'cannot be read';
    throw usage(`${file}: ${why}`);
  }
  return decodeText(bytes, file);
}

/** `custodian pii scan [FILE|-]`: report personal information in a text or CSV file, masked. */
export function piiCommand(program: Command, io: CliIO, deps: PiiCommandDeps = {}): void {
  const pii = program.command('pii').description('find personal information in free text');

  pii
    .command('scan')
    .description(
      'report personal information in a text or CSV file (type, position, masked value, confidence; never a value in clear); exit 1 when any is found',
    )
    .argument('[file]', 'a text file, a .csv file, or - for standard input', '-')
    .option('--json', 'print one JSON object per finding')
    .option('--csv', 'read the input as CSV (default: when the file name ends in .csv)')
    .option(
      '--min-confidence <n>',
      'drop findings below this confidence, 0-1',
      String(DEFAULT_MIN_CONFIDENCE),
    )
    .action(async (file: string, opts: ScanOptions) => {
      if (!CONFIDENCE.test(opts.minConfidence))
        throw usage('--min-confidence: expected a number between 0 and 1');
      const minConfidence = Number(opts.minConfidence);
      const text = await readInput(io, file, deps);
      const what = file === '-' ? 'standard input' : file;
      const csv = opts.csv === true || (file !== '-' && extname(file).toLowerCase() === '.csv');
      let findings: ScanFinding[];
      try {
        findings = csv ? scanCsv(text, minConfidence) : scanText(text, minConfidence);
      } catch (error) {
        if (error instanceof RangeError) throw usage(`${what}: malformed CSV (${error.message})`);
        throw error;
      }
      if (opts.json) {
        for (const f of findings) io.out(`${JSON.stringify(f)}\n`);
      } else if (findings.length === 0) {
        io.out('No personal information found.\n');
      } else {
        io.out(`${table(findings)}\n${summary(findings)}\n`);
      }
      if (findings.length > 0) {
        // ERR_CHECK_FAILED exits 1: "a check found a problem". The message carries counts only.
        throw new CustodianError(
          'ERR_CHECK_FAILED',
          `personal information found in ${what}: ${summary(findings)}`,
        );
      }
    });
}
