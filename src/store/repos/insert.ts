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
  /** Columns of a unique key: a row that would repeat one is skipped (`on conflict do nothing`). */
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
  }

  /**
   * Full statements of {@link InsertShape.rowsPerStatement} rows, then the rest. On SQLite the
   * rest goes in statements of falling powers of two (347 = 256 + 64 + 16 + 8 + 2 + 1): a table has
   * a dozen statement texts, which stay prepared, instead of one for every row count a batch
   * happens to leave; preparing a new 500-row text every batch cost an import 2% of its time.
   * PostgreSQL parses every statement anyway, so there the rest is one statement, one round trip.
   */
  async run(rows: readonly Row[]): Promise<void> {
    const full = this.#rowsPerStatement;
    const width = this.#shape.columns.length;
    for (let at = 0, count = 0; at < rows.length; at += count) {
      const left = rows.length - at;
      count = left >= full ? full : this.#pg ? left : 2 ** Math.floor(Math.log2(left));
      const slice = rows.slice(at, at + count);
      const parameters: unknown[] = [];
      for (const row of slice) {
        const values = this.#shape.values(row);
        if (values.length !== width)
          throw new TypeError(`${this.#shape.table}: ${values.length} values for ${width} columns`);
        for (const value of values) parameters.push(value);
      }
      await this.#db.executeQuery(CompiledQuery.raw(this.#text(slice.length), parameters));
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
