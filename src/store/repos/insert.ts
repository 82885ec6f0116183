import { CompiledQuery, PostgresAdapter, type Kysely } from 'kysely';
import type { Database } from '../types.js';

/** Rows per statement: the most parameters any insert here binds stays under SQLite's 32,766. */
const MAX_PARAMETERS = 16_000;

export interface InsertShape<Row> {
  readonly table: string;
  readonly columns: readonly string[];
  /** The row's values, in {@link columns} order. */
  readonly values: (row: Row) => readonly unknown[];
  /** Columns of a unique key: a row that would repeat one is skipped (`on conflict do nothing`). */
  readonly skipDuplicatesOf?: readonly string[];
  /** Rows per statement (default: as many as the parameter bound allows, at most 500). */
  readonly rowsPerStatement?: number;
}

/**
 * A multi-row `INSERT` for a bulk path (collect, import, the audit log), compiled once per
 * statement size instead of through the query builder for every batch: the builder makes an
 * immutable node per value, which a 1,000-row batch pays for in allocation and garbage collection.
 * The text is the same on both engines but for the placeholders (`?` or `$n`). Table and column
 * names come from code, never from input.
 */
export class BulkInsert<Row> {
  readonly #db: Kysely<Database>;
  readonly #shape: InsertShape<Row>;
  readonly #pg: boolean;
  readonly #rowsPerStatement: number;
  /** Statement text by row count. */
  readonly #texts = new Map<number, string>();

  constructor(db: Kysely<Database>, shape: InsertShape<Row>) {
    this.#db = db;
    this.#shape = shape;
    this.#pg = db.getExecutor().adapter instanceof PostgresAdapter;
    const bound = Math.floor(MAX_PARAMETERS / shape.columns.length);
    this.#rowsPerStatement = Math.max(1, Math.min(shape.rowsPerStatement ?? 500, bound));
  }

  async run(rows: readonly Row[]): Promise<void> {
    const size = this.#rowsPerStatement;
    for (let at = 0; at < rows.length; at += size) {
      const slice = rows.slice(at, at + size);
      const parameters: unknown[] = [];
      for (const row of slice) for (const value of this.#shape.values(row)) parameters.push(value);
      await this.#db.executeQuery(CompiledQuery.raw(this.#text(slice.length), parameters));
    }
  }

  #text(rows: number): string {
    let text = this.#texts.get(rows);
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
      this.#texts.set(rows, text);
    }
    return text;
  }
}
