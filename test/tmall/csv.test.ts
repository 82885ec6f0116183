import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CsvTokenizer,
  MAX_FIELD_LINES,
  MAX_RECORD_CHARS,
  type CsvRecord,
} from '../../src/platforms/tmall/csv.js';

/** Tokenises `text` fed in pieces cut at `cuts` (positions), then ends the input. */
function tokenise(text: string, cuts: readonly number[] = []): CsvRecord[] {
  const t = new CsvTokenizer();
  const out: CsvRecord[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    out.push(...t.push(text.slice(from, cut)));
    from = cut;
  }
  out.push(...t.push(text.slice(from)));
  out.push(...t.end());
  return out;
}

const rows = (records: readonly CsvRecord[]): (string[] | string)[] =>
  records.map((r) => ('fields' in r ? r.fields : `${r.problem}@${r.line}`));

describe('CSV tokenizer', () => {
  it('reads quoted fields, escaped quotes, line breaks in quotes, CRLF and formula wrappers', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n="0123",\'138,"multi\nline"\n';
    const out = tokenise(text);
    expect(rows(out)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['="0123"', "'138", 'multi\nline'],
    ]);
    expect(out.map((r) => r.line)).toEqual([1, 2, 3]);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = 'h1,h2\n"a\r\nb",c\r\n"""q""",="1"\n,\n"end"';
    const whole = rows(tokenise(text));
    for (let cut = 0; cut <= text.length; cut++) expect(rows(tokenise(text, [cut]))).toEqual(whole);
  });

  it('numbers the lines of a CR-only ("CSV (Macintosh)") file, inside quoted fields and broken records too', () => {
    const simple = tokenise('a,b\r1,2\r3,4\r');
    expect(rows(simple)).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(simple.map((r) => r.line)).toEqual([1, 2, 3]);
    const text = 'a,b,c\r1,"two\rlines",x\r\r2,"bad"x,3\r3,"open,3\r4,5,6\r';
    const out = tokenise(text);
    expect(rows(out)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'two\rlines', 'x'],
      'csv-quote-stray@5',
      'csv-quote-unclosed@6',
      ['4', '5', '6'],
    ]);
    expect(out.map((r) => r.line)).toEqual([1, 2, 5, 6, 7]);
    expect(tokenise(text.replace(/\r/g, '\n')).map((r) => r.line)).toEqual([1, 2, 5, 6, 7]);
  });

  it('counts a CRLF as one line break, in quoted fields too', () => {
    const out = tokenise('a,b,c\r\n1,"two\r\nlines",x\r\n\r\n2,"bad"x,3\r\n3,"open,3\r\n4,5,6\r\n');
    expect(out.map((r) => ('fields' in r ? r.line : `${r.problem}@${r.line}`))).toEqual([
      1,
      2,
      'csv-quote-stray@5',
      'csv-quote-unclosed@6',
      7,
    ]);
  });

  it('counts a CRLF split between chunks once', () => {
    const text = 'h1,h2\r\n"a\r\nb",c\r"d\re",f\r\n3,"open\r\n4,5\r6,"x"y\r\n7,8\r\n';
    const whole = tokenise(text);
    expect(whole.map((r) => r.line)).toEqual([1, 2, 4, 6, 7, 8, 9]);
    for (let cut = 0; cut <= text.length; cut++) expect(tokenise(text, [cut])).toEqual(whole);
    // A runaway quoted field is given up at the end of a chunk that ends between CR and LF.
    const runaway = `a,b\r\n1,"${'x'.repeat(MAX_RECORD_CHARS)}\r\n2,3\r\n`;
    const expected = [
      { line: 1, fields: ['a', 'b'] },
      { line: 2, problem: 'csv-quote-unclosed' },
      { line: 3, fields: ['2', '3'] },
    ];
    expect(tokenise(runaway)).toEqual(expected);
    expect(tokenise(runaway, [runaway.indexOf('\r\n2,3') + 1])).toEqual(expected);
  });

  it('agrees with csv-parse on well-formed CSV (property)', () => {
    const cell = fc.string({
      unit: fc.constantFrom('a', '甲', ',', '"', '\n', ' ', '1', '\r\n'),
      maxLength: 8,
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(200), { maxLength: 3 }),
        (table, cuts) => {
          const text = table
            .map((row) =>
              row.map((v) => (/[",\r\n]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v)).join(','),
            )
            .join('\r\n');
          const expected: string[][] = parse(text, { relax_column_count: true });
          const got = rows(
            tokenise(
              text,
              cuts.map((c) => c % (text.length + 1)),
            ),
          );
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a stray quote on its own line and goes on with the next', () => {
    const out = tokenise('a,b,c\n1,"bad"x,3\n4,1"1,6\n7,8,9\n');
    expect(rows(out)).toEqual([['a', 'b', 'c'], 'csv-quote-stray@2', 'csv-quote-stray@3', ['7', '8', '9']]);
  });

  it('rejects only the first line of a quote that never closes, and reads the lines after it', () => {
    const out = tokenise('a,b,c\n1,"open,3\n4,5,6\n7,8,9\n');
    expect(rows(out)).toEqual([['a', 'b', 'c'], 'csv-quote-unclosed@2', ['4', '5', '6'], ['7', '8', '9']]);
  });

  it('resynchronises when an unclosed quote meets a later quoted field', () => {
    const out = tokenise('a,b,c\n1,"open,3\n4,"five",6\n7,8,9\n');
    expect(rows(out)).toEqual([['a', 'b', 'c'], 'csv-quote-unclosed@2', ['4', 'five', '6'], ['7', '8', '9']]);
  });

  it('keeps a well-formed multi-line field when a quote breaks later in the same record', () => {
    // The first record's message spans two lines and closes; then a stray quote (line 3) and an
    // unclosed one (line 5): each costs its own record, no line is reported twice.
    const text = 'a,b,c\n1,"two\nlines","bad"x\n2,"two\nlines","open\n3,x,y\n';
    expect(rows(tokenise(text))).toEqual([
      ['a', 'b', 'c'],
      'csv-quote-stray@2',
      'csv-quote-unclosed@4',
      ['3', 'x', 'y'],
    ]);
  });

  it('gives up on a quoted field after too many lines', () => {
    const body = Array.from({ length: MAX_FIELD_LINES + 5 }, (_, i) => `${i},x,y`).join('\n');
    const out = tokenise(`a,b,c\n1,"${body}\n`);
    expect(out[1]).toEqual({ line: 2, problem: 'csv-quote-unclosed' });
    expect(rows(out).slice(2, 4)).toEqual([
      ['1', 'x', 'y'],
      ['2', 'x', 'y'],
    ]);
  });

  it('skips blank lines and uses tabs when the header does', () => {
    expect(rows(tokenise('a\tb\n\n1\t2\n'))).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });
});
