/**
 * Rows of the first worksheet of an `.xlsx` order export, streamed (exceljs WorkbookReader), as
 * text cells: numbers as written, date cells as `yyyy-MM-dd HH:mm:ss`, formulas as their cached
 * result, rich text flattened. A number of 16 digits or more, which Excel cannot hold exactly (an
 * order id stored as a number), comes out in scientific notation, which the order-id check then
 * refuses: order ids must be text cells.
 */

import type { Stream } from 'node:stream';
import ExcelJS from 'exceljs';
import { formatWallClock } from './values.js';

/** The smallest number of 16 digits: Excel stores numbers to 15 significant digits. */
const SIXTEEN_DIGITS = 1e15;

export interface SheetRow {
  /** The row number in the sheet (1-based, as Excel shows it). */
  readonly line: number;
  readonly cells: string[];
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number')
    // Excel keeps 15 significant digits: a number of 16 digits or more (a Tmall order id typed or
    // pasted as a number) has lost its last ones. Write it so that no check mistakes it for exact.
    return Math.abs(value) >= SIXTEEN_DIGITS ? value.toExponential() : String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return formatWallClock(value) ?? '';
  if (typeof value === 'object') {
    const v = value as {
      richText?: { text: string }[];
      text?: unknown;
      result?: unknown;
      formula?: unknown;
      error?: unknown;
    };
    if (Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('');
    if ('result' in v || 'formula' in v) return cellText(v.result);
    if (v.text !== undefined) return cellText(v.text);
    if (v.error !== undefined) return '';
  }
  return '';
}

/** Streams the first worksheet's rows (empty rows skipped by the reader) as text cells. */
export async function* readXlsxRows(input: string | Stream): AsyncGenerator<SheetRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    hyperlinks: 'ignore',
    styles: 'cache',
    entries: 'ignore',
  });
  for await (const sheet of reader) {
    for await (const row of sheet) {
      const values = row.values as unknown[];
      const cells: string[] = [];
      // exceljs row values are 1-based; index 0 is unused.
      for (let c = 1; c < values.length; c++) cells.push(cellText(values[c]));
      yield { line: row.number, cells };
    }
    // Only the first sheet is an export; the others (summaries) are not read.
    break;
  }
}
