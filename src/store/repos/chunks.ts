/**
 * Rows per multi-row statement. With at most a dozen columns a row this stays far under SQLite's
 * 32,766 and PostgreSQL's 65,535 bound parameters, and keeps each compiled statement small.
 */
export const ROWS_PER_STATEMENT = 500;

/** Consecutive slices of at most `size` items. */
export function* chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): Generator<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
