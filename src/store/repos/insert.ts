import { CompiledQuery, PostgresAdapter, type Kysely } from 'kysely';
import type { Database } from '../types.js';

/** Rows per statement: the most parameters any insert here binds stays under SQLite's 32,766. */
const MAX_PARAMETERS = 16_000;

/**
 * Statement texts by shape and row count, shared by every transaction's repositories (they are
 * made anew for each). Bounded: the oldest text goes when it is full.
 */
const TEXTS = new Map<string, string>();
const MAX_TEXTS = 256;

type Table = keyof Database;

export interface InsertShape<T extends Table, Row> {
  readonly table: T;
  readonly columns: readonly (keyof Database[T] & string)[];
  /** The row's values, in {@link columns} order. */
  readonly values: (row: Row) => readonly unknown[];
  /**
   * Columns of a unique key: a row that would repeat one is skipped (`on conflict do nothing`).
   * The rows are inserted in the order of this key, whatever order they come in (see {@link run}).
   */
  readonly skipDuplicatesOf?: readonly (keyof Database[T] & string)[];
  /** Rows per statement (default: as many as the parameter bound allows, at most 500). */
  readonly rowsPerStatement?: number;
}

/**
 * A multi-row `INSERT` for a bulk path (collect, import, the audit log), compiled once per
 * statement size instead of through the query builder for every batch: the builder makes an
 * immutable node per value, which a 1,000-row batch pays for in allocation and garbage collection.
 * The text is the same on both engines but for how bound parameters are written (`?` or `$n`).
 * Table and column names come from code, never from input.
 */
export class BulkInsert<T extends Table, Row> {
  readonly #db: Kysely<Database>;
  readonly #shape: InsertShape<T, Row>;
  readonly #pg: boolean;
  readonly #rowsPerStatement: number;
  /** What the statement text depends on, but for the row count. */
  readonly #key: string;
  /**
   * Positions in a row's values of the unique key's columns, when the shape names one, on
   * PostgreSQL (see {@link run}); SQLite serialises writers, so there is nothing to order for.
   */
  readonly #orderBy: readonly number[] | undefined;

  constructor(db: Kysely<Database>, shape: InsertShape<T, Row>) {
    this.#db = db;
    this.#shape = shape;
    this.#pg = db.getExecutor().adapter instanceof PostgresAdapter;
    const bound = Math.floor(MAX_PARAMETERS / shape.columns.length);
    this.#rowsPerStatement = Math.max(1, Math.min(shape.rowsPerStatement ?? 500, bound));
    this.#key = [
      this.#pg ? 'pg' : 'sqlite',
      shape.table,
      shape.columns.join(','),
      shape.skipDuplicatesOf?.join(',') ?? '',
    ].join('|');
    const keyColumns = shape.skipDuplicatesOf?.map((c) => shape.columns.indexOf(c));
    if (keyColumns?.some((i) => i < 0))
      throw new TypeError(`${shape.table}: a unique-key column is not among the inserted columns`);
    this.#orderBy = this.#pg ? keyColumns : undefined;
  }

  /**
   * Full statements of {@link InsertShape.rowsPerStatement} rows, then the rest. On SQLite the
   * rest goes in statements of falling powers of two (347 = 256 + 64 + 16 + 8 + 2 + 1): a table has
   * a dozen statement texts, which stay prepared, instead of one for every row count a batch
   * happens to leave; preparing a new 500-row text every batch cost an import 2% of its time.
   * PostgreSQL parses every statement anyway, so there the rest is one statement, one round trip.
   *
   * On PostgreSQL a shape with a unique key inserts its rows sorted by that key: an insert waits
   * for a concurrent unit of work's uncommitted row with the same key; two batches that hold the
   * same new keys in different orders (two collects of the same new buyers) would each wait for
   * the other, and the server would abort one of them as a deadlock. In one order, the later
   * batch waits for the earlier one and then finds its rows (a conflict the caller retries).
   */
  async run(rows: readonly Row[]): Promise<void> {
    const full = this.#rowsPerStatement;
    const width = this.#shape.columns.length;
    const all: (readonly unknown[])[] = [];
    for (const row of rows) {
      const values = this.#shape.values(row);
      if (values.length !== width)
        throw new TypeError(`${this.#shape.table}: ${values.length} values for ${width} columns`);
      all.push(values);
    }
    const orderBy = this.#orderBy;
    if (orderBy !== undefined && all.length > 1) all.sort((a, b) => compareKeys(a, b, orderBy));
    for (let at = 0, count = 0; at < all.length; at += count) {
      const left = all.length - at;
      count = left >= full ? full : this.#pg ? left : 2 ** Math.floor(Math.log2(left));
      const parameters: unknown[] = [];
      for (let r = at; r < at + count; r++) for (const value of all[r]!) parameters.push(value);
      await this.#db.executeQuery(CompiledQuery.raw(this.#text(count), parameters));
    }
  }

  #text(rows: number): string {
    const key = `${this.#key}|${rows}`;
    let text = TEXTS.get(key);
    if (text === undefined) {
      const { table, columns, skipDuplicatesOf } = this.#shape;
      const width = columns.length;
      const tuples: string[] = [];
      for (let r = 0; r < rows; r++) {
        const slots = columns.map((_, c) => (this.#pg ? `$${r * width + c + 1}` : '?'));
        tuples.push(`(${slots.join(', ')})`);
      }
      text = `insert into ${table} (${columns.join(', ')}) values ${tuples.join(', ')}`;
      if (skipDuplicatesOf !== undefined) text += ` on conflict (${skipDuplicatesOf.join(', ')}) do nothing`;
      if (TEXTS.size >= MAX_TEXTS) TEXTS.delete(TEXTS.keys().next().value!);
      TEXTS.set(key, text);
    }
    return text;
  }
}

/**
 * A total order over the values at `positions` (bytes, numbers, text): any order every process
 * agrees on serves, it need not be the index's own.
 */
function compareKeys(a: readonly unknown[], b: readonly unknown[], positions: readonly number[]): number {
  for (const p of positions) {
    const x = a[p];
    const y = b[p];
    let c: number;
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) c = Buffer.compare(x, y);
    else if (typeof x === 'number' && typeof y === 'number') c = x - y;
    else {
      const sx = String(x);
      const sy = String(y);
      c = sx < sy ? -1 : sx > sy ? 1 : 0;
    }
    if (c !== 0) return c;
  }
  return 0;
}
