/**
 * A streaming CSV tokenizer for order exports (RFC 4180, plus what spreadsheets write): quoted
 * fields with `""` escapes and line breaks, CRLF, LF or a lone CR (Excel's "CSV (Macintosh)"),
 * `="…"` formula wrappers kept as text, a tab delimiter when the header uses tabs. Every line break
 * counts towards line numbers, inside quoted fields too; a CRLF is one break, even when a chunk ends
 * between its CR and its LF.
 *
 * It exists beside csv-parse for one reason: recovery. A broken quote in one row of an export
 * must cost that row, not the rest of the file. csv-parse, after an unclosed or stray quote,
 * resumes in the middle of the broken record and loses the rows after it (or, with `relax_quotes`,
 * accepts the broken value silently); it also spends about 20 µs per row, a third of the import's
 * budget. This tokenizer reports a broken record by the line it starts on and resynchronises at
 * the next line. The tests check it against csv-parse on well-formed input.
 */

export type CsvProblem =
  /** A quote where none may be: after a closing quote, or inside an unquoted field. */
  | 'csv-quote-stray'
  /** A quoted field that never closes (or runs on for implausibly many lines). */
  | 'csv-quote-unclosed';

export type CsvRecord =
  | { readonly line: number; readonly fields: string[] }
  | { readonly line: number; readonly problem: CsvProblem };

/** A quoted field spanning more lines than this is taken to be a quote that never closed. */
export const MAX_FIELD_LINES = 20;
/** Nor may one record hold more characters than this. */
export const MAX_RECORD_CHARS = 64 * 1024;

const QUOTE = 34;
const LF = 10;
const CR = 13;
const EQUALS = 61;

/**
 * One attempt at a record: complete (with the line breaks it consumed, its terminator included),
 * broken, or cut off by the end of the buffer. A broken record that ran on over lines its clean
 * start does not account for (a quote that never closed, or closed somewhere it should not) says
 * where to resume: at the line after the last field that was still well-formed.
 */
type Attempt =
  | { readonly kind: 'record'; readonly fields: string[]; readonly end: number; readonly breaks: number }
  | {
      readonly kind: 'broken';
      readonly problem: CsvProblem;
      readonly end: number;
      readonly breaks: number;
      readonly resume: { readonly at: number; readonly breaks: number } | undefined;
    }
  | { readonly kind: 'more' };

export class CsvTokenizer {
  #buf = '';
  #line = 1;
  #delimiter: number | undefined;

  /** Records completed by this chunk of text. */
  push(text: string): CsvRecord[] {
    this.#buf += text;
    return this.#drain(false);
  }

  /** The records left at the end of the input. */
  end(): CsvRecord[] {
    return this.#drain(true);
  }

  #drain(final: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    const buf = this.#buf;
    if (this.#delimiter === undefined) {
      const eol = lineBreakAt(buf, 0);
      if (eol < 0 && !final) return out;
      const first = eol < 0 ? buf : buf.slice(0, eol);
      this.#delimiter = count(first, '\t') > count(first, ',') ? 9 : 44;
    }
    let pos = 0;
    while (pos < buf.length) {
      const start = this.#line;
      const attempt = this.#record(buf, pos, final);
      if (attempt.kind === 'more') break;
      if (attempt.kind === 'broken') {
        if (attempt.resume !== undefined) {
          // The lines it swallowed are rows of their own: report its first line, read them again.
          out.push({ line: start, problem: 'csv-quote-unclosed' });
          pos = attempt.resume.at;
          this.#line += attempt.resume.breaks;
          continue;
        }
        out.push({ line: start, problem: attempt.problem });
      } else if (!(attempt.fields.length === 1 && attempt.fields[0]!.trim() === '')) {
        out.push({ line: start, fields: attempt.fields });
      }
      pos = attempt.end;
      this.#line += attempt.breaks;
    }
    this.#buf = buf.slice(pos);
    return out;
  }

  /** Tries to read one record at `pos`. */
  #record(buf: string, pos: number, final: boolean): Attempt {
    const delimiter = this.#delimiter!;
    const fields: string[] = [];
    let problem: CsvProblem | undefined;
    /** Line breaks inside quoted fields so far. */
    let inner = 0;
    /** Where the well-formed start of the record ends, and the line breaks up to there. */
    let clean = pos;
    let cleanBreaks = 0;
    let i = pos;
    const len = buf.length;
    /**
     * Where to resume when the record ran over lines after its clean start: the start of the next
     * line, or `more` when a CR ends the buffer and its LF may be in the next chunk.
     */
    const resume = (): { at: number; breaks: number } | 'more' | undefined => {
      if (inner === cleanBreaks && problem !== 'csv-quote-unclosed') return undefined;
      const eol = lineBreakAt(buf, clean);
      if (eol < 0) return { at: len, breaks: cleanBreaks + 1 };
      if (buf.charCodeAt(eol) === CR) {
        if (eol + 1 >= len && !final) return 'more';
        return { at: buf.charCodeAt(eol + 1) === LF ? eol + 2 : eol + 1, breaks: cleanBreaks + 1 };
      }
      return { at: eol + 1, breaks: cleanBreaks + 1 };
    };
    const broken = (end: number, breaks: number): Attempt => {
      const at = resume();
      if (at === 'more') return { kind: 'more' };
      return { kind: 'broken', problem: problem!, end, breaks: inner + breaks, resume: at };
    };
    const unclosed = (end: number): Attempt => {
      problem = 'csv-quote-unclosed';
      return broken(end, 0);
    };
    const done = (end: number, breaks: number): Attempt =>
      problem ? broken(end, breaks) : { kind: 'record', fields, end, breaks: inner + breaks };
    for (;;) {
      let value: string;
      if (i < len && buf.charCodeAt(i) === QUOTE) {
        // Quoted field: up to a quote not followed by another quote.
        let seg = i + 1;
        let j = seg;
        value = '';
        for (;;) {
          const q = buf.indexOf('"', j);
          const stop = q < 0 ? len : q;
          inner += lineBreaks(buf, j, stop);
          if (inner - cleanBreaks > MAX_FIELD_LINES || stop - pos > MAX_RECORD_CHARS) return unclosed(stop);
          if (q < 0) return final ? unclosed(len) : { kind: 'more' };
          if (q + 1 >= len && !final) return { kind: 'more' };
          if (buf.charCodeAt(q + 1) === QUOTE) {
            value += buf.slice(seg, q + 1);
            seg = j = q + 2;
            continue;
          }
          value += buf.slice(seg, q);
          i = q + 1;
          break;
        }
        // After the closing quote only a delimiter or the end of the record may follow.
        const tail = this.#unquotedEnd(buf, i);
        if (tail.end >= len && !final) return { kind: 'more' };
        if (tail.end > i) {
          problem ??= 'csv-quote-stray';
          value += buf.slice(i, tail.end);
        }
        i = tail.end;
      } else {
        const tail = this.#unquotedEnd(buf, i);
        if (tail.end >= len && !final) return { kind: 'more' };
        if (tail.end - pos > MAX_RECORD_CHARS) return unclosed(tail.end);
        value = buf.slice(i, tail.end);
        // Quotes inside an unquoted field are a broken quote, except in a `="…"` formula wrapper.
        if (tail.quotes && !(buf.charCodeAt(i) === EQUALS && buf.charCodeAt(i + 1) === QUOTE))
          problem ??= 'csv-quote-stray';
        i = tail.end;
      }
      fields.push(value);
      if (problem === undefined) {
        clean = i;
        cleanBreaks = inner;
      }
      if (i >= len) return done(i, 0);
      const c = buf.charCodeAt(i);
      if (c === delimiter) {
        i++;
        continue;
      }
      // End of record: LF, CRLF or a lone CR (a CR at the end of the buffer waits for its LF).
      if (c === CR) {
        if (i + 1 >= len && !final) return { kind: 'more' };
        if (buf.charCodeAt(i + 1) === LF) return done(i + 2, 1);
        return done(i + 1, 1);
      }
      return done(i + 1, 1);
    }
  }

  /** Where an unquoted run starting at `i` ends (delimiter, CR, LF or end of buffer) and whether it held quotes. */
  #unquotedEnd(buf: string, i: number): { end: number; quotes: boolean } {
    const delimiter = this.#delimiter!;
    let quotes = false;
    const len = buf.length;
    let k = i;
    for (; k < len; k++) {
      const c = buf.charCodeAt(k);
      if (c === delimiter || c === LF || c === CR) break;
      if (c === QUOTE) quotes = true;
    }
    return { end: k, quotes };
  }
}

/** Where the first line break (CR or LF) at or after `from` is, or -1. */
function lineBreakAt(buf: string, from: number): number {
  for (let k = from; k < buf.length; k++) {
    const c = buf.charCodeAt(k);
    if (c === LF || c === CR) return k;
  }
  return -1;
}

/**
 * Line breaks in `buf` from `from` to `to`: each LF, and each CR not followed by an LF. A CR that
 * ends the buffer counts as one: if the next chunk brings its LF, the record is read again and the
 * pair counts once.
 */
function lineBreaks(buf: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) {
    const c = buf.charCodeAt(k);
    if (c === LF || (c === CR && buf.charCodeAt(k + 1) !== LF)) n++;
  }
  return n;
}

function count(text: string, char: string): number {
  let n = 0;
  for (let i = text.indexOf(char); i >= 0; i = text.indexOf(char, i + 1)) n++;
  return n;
}
