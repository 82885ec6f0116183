/**
 * Rows per multi-row statement. With at most a dozen columns a row this stays far under SQLite's
 * 32,766 and PostgreSQL's 65,535 bound parameters, and keeps each compiled statement small.
 */
export const ROWS_PER_STATEMENT = 500;

/** Consecutive slices of at most `size` items. */
export function* chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * Consecutive slices of at most `size` keys for an `IN (…)` list, each padded to a power of two by
 * repeating its last key. A repeated key matches nothing more, and the statement's text then
 * depends on a dozen list sizes, so SQLite keeps it prepared instead of parsing a new text for
 * every batch.
 */
export function* keyChunks<T>(keys: readonly T[], size = ROWS_PER_STATEMENT): Generator<readonly T[]> {
  for (const slice of chunks(keys, size)) {
    const padded = 2 ** Math.ceil(Math.log2(slice.length));
    if (padded === slice.length) yield slice;
    else yield [...slice, ...Array<T>(padded - slice.length).fill(slice.at(-1)!)];
  }
}
