/**
 * Age from a birth date, for the minors' rules (PIPL Art. 28, 31; R3). Days are counted in China
 * Standard Time (UTC+8), where the customers live: a child born on 2012-05-01 turns 14 at
 * 2026-05-01 00:00 CST.
 */
import type { Category } from '../datamap/taxonomy.js';
import { isCalendarDate, residentIdBirthDate } from '../pii/validators.js';
import { MINOR_AGE } from './model.js';

const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

/** A `YYYY-MM-DD` (also `YYYY/MM/DD`, `YYYY.MM.DD` or `YYYYMMDD`) calendar date, normalised; else undefined. */
export function parseBirthDate(text: string): string | undefined {
  const m = /^(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})$/.exec(text.trim());
  if (m === null) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!isCalendarDate(year, month, day)) return undefined;
  return `${m[1]!}-${m[2]!}-${m[3]!}`;
}

/** Whole years from `birthDate` (`YYYY-MM-DD`) to `today` in CST; undefined for a malformed or future date. */
export function ageOn(birthDate: string, today: Date): number | undefined {
  const birth = parseBirthDate(birthDate);
  if (birth === undefined) return undefined;
  const cst = new Date(today.getTime() + CST_OFFSET_MS);
  const [y, m, d] = birth.split('-').map(Number) as [number, number, number];
  const [ty, tm, td] = [cst.getUTCFullYear(), cst.getUTCMonth() + 1, cst.getUTCDate()];
  if (ty * 10000 + tm * 100 + td < y * 10000 + m * 100 + d) return undefined;
  return ty - y - (tm < m || (tm === m && td < d) ? 1 : 0);
}

/** Under 14 (不满十四周岁, PIPL Art. 31): not the GB/T 35273 "14 and under" (regulation.md §1.6). */
export function isMinorAge(age: number): boolean {
  return age < MINOR_AGE;
}

/** Categories whose values tell a birth date: a birth-date field, or a resident id (digits 7-14). */
export const BIRTH_DATE_CATEGORIES: readonly Category[] = ['identity.birth-date', 'identity.national-id'];

/** The birth date a stored value of `category` tells, or undefined (not such a category, or unreadable). */
export function birthDateFrom(category: Category, value: string, today: Date): string | undefined {
  if (category === 'identity.birth-date') return parseBirthDate(value);
  if (category === 'identity.national-id') return residentIdBirthDate(value.trim(), { today });
  return undefined;
}
