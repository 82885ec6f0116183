/**
 * Retention of the audit log (docs/audit-log.md, "Retention"): how long each entry must be kept,
 * which sealed segments may go, and which stored tree nodes must stay so that the part that is
 * kept still proves everything it proved before. Pure: no clock, no store.
 *
 * - R17 (Cybersecurity Law Art. 21(3)): logs of PI access are kept at least six months.
 * - R13 / R19 (NDSR Art. 12, PIPL Art. 55-56): records of provision to third parties, of
 *   entrustment and of personal-information impact assessments are kept at least three years.
 *
 * A segment is the run of leaves between two consecutive signed checkpoints (the first starts at
 * leaf 0). Pruning removes a prefix of whole segments, never part of one, and keeps every
 * checkpoint.
 */
import { consistencyRanges, nodeCount, nodeId, perfectPieces, type TreeNode } from './tree.js';

/** A retention period as written in `custodian.yaml`: `184d`, `6mo`, `3y`. */
export interface RetentionPeriod {
  readonly count: number;
  readonly unit: 'd' | 'mo' | 'y';
}

const PERIOD = /^([1-9]\d{0,4})(d|mo|y)$/u;

export function parseRetentionPeriod(text: string): RetentionPeriod | undefined {
  const match = PERIOD.exec(text);
  if (match === null) return undefined;
  return { count: Number(match[1]), unit: match[2] as RetentionPeriod['unit'] };
}

export function formatRetentionPeriod(period: RetentionPeriod): string {
  return `${period.count}${period.unit}`;
}

/** R17: entries are kept at least six months. */
export const MIN_ENTRY_RETENTION: RetentionPeriod = { count: 6, unit: 'mo' };
/** R13, R19: provision (sharing, export) and assessment records are kept at least three years. */
export const MIN_SHARING_RETENTION: RetentionPeriod = { count: 3, unit: 'y' };

/**
 * `at` plus the period, in UTC calendar terms: months and years keep the day of the month, and
 * a day the target month lacks moves to its last day (31 August + 6 months = 28/29 February).
 */
export function addPeriod(at: Date, period: RetentionPeriod): Date {
  if (period.unit === 'd') return new Date(at.getTime() + period.count * 86_400_000);
  const months = period.unit === 'mo' ? period.count : 12 * period.count;
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth() + months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(at.getUTCDate(), last);
  return new Date(
    Date.UTC(y, m, day, at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), at.getUTCMilliseconds()),
  );
}

/**
 * Whether `period` is at least `floor` (given in months or years) from any starting day: in
 * months, compared month for month; in days, against the longest the floor can last (six months
 * reach 184 days, three years 1,096).
 */
export function coversPeriod(period: RetentionPeriod, floor: RetentionPeriod): boolean {
  const months = (p: RetentionPeriod): number => (p.unit === 'y' ? 12 * p.count : p.count);
  if (floor.unit === 'd') return period.unit === 'd' ? period.count >= floor.count : true;
  if (period.unit !== 'd') return months(period) >= months(floor);
  let longest = 0;
  // Every starting month over a four-year cycle (leap days included).
  for (let m = 0; m < 48; m++) {
    const from = new Date(Date.UTC(2024, m, 1));
    const to = addPeriod(from, floor);
    longest = Math.max(longest, Math.round((to.getTime() - from.getTime()) / 86_400_000));
  }
  return period.count >= longest;
}

/**
 * Actions whose entries are records of provision to others or of assessments, kept for the
 * longer period (R13, R19): exports of customer data (the export itself, its request, the
 * approval decision and the download), and any future sharing, entrustment or assessment action.
 */
const SHARING_ACTIONS = new Set(['export', 'export.request', 'export.decide', 'export.download']);
const SHARING_PREFIXES = ['share.', 'processor.', 'entrust.', 'assessment.', 'pipia.'];

export type RetentionClass = 'entry' | 'sharing';

export function retentionClass(action: string): RetentionClass {
  return SHARING_ACTIONS.has(action) || SHARING_PREFIXES.some((p) => action.startsWith(p))
    ? 'sharing'
    : 'entry';
}

export interface RetentionPolicy {
  readonly entries: RetentionPeriod;
  readonly sharing: RetentionPeriod;
}

export const DEFAULT_RETENTION: RetentionPolicy = {
  entries: MIN_ENTRY_RETENTION,
  sharing: MIN_SHARING_RETENTION,
};

/** The earliest moment an entry of `action` written at `at` may be deleted. */
export function keepUntil(at: Date, action: string, policy: RetentionPolicy): Date {
  return addPeriod(at, retentionClass(action) === 'sharing' ? policy.sharing : policy.entries);
}

/**
 * The stored perfect subtrees inside the pruned prefix `[0, boundary)` that must stay, as storage
 * ids, ascending:
 *
 * - the prefix's own perfect pieces (its frontier): every inclusion proof for a kept leaf, every
 *   root and every consistency proof between tree sizes ≥ `boundary` draws on leaves below the
 *   boundary only through them (a perfect subtree inside the prefix whose parent crosses the
 *   boundary is one of these pieces);
 * - for each kept checkpoint size `m ≤ boundary`: the pieces of its root and of its consistency
 *   proof to `boundary`. A consistency proof from `m` to any size `n ≥ boundary` uses, below the
 *   boundary, only subtrees inside `[0, m)` (pieces of `m`'s root), right siblings on the path of
 *   leaf `m - 1` whose parent lies inside the prefix (in the proof to `boundary`), or pieces of
 *   the frontier; so every checkpoint stays provably consistent with every later one
 *   (test/audit/retention.test.ts checks this for random trees).
 *
 * Each of these is checked by verification: the frontier against the boundary's signed root, a
 * checkpoint's pieces against its signed root, its proof nodes by the consistency proof.
 */
export function keptNodeIds(boundary: number, checkpointSizes: readonly number[]): number[] {
  const ids = new Set<number>();
  const add = (nodes: readonly TreeNode[]): void => {
    for (const n of nodes) ids.add(nodeId(n.level, n.index));
  };
  if (boundary <= 0) return [];
  add(perfectPieces(0, boundary));
  for (const m of checkpointSizes) {
    if (!(m >= 1 && m <= boundary)) continue;
    add(perfectPieces(0, m));
    if (m < boundary) for (const [a, b] of consistencyRanges(m, boundary)) add(perfectPieces(a, b));
  }
  const limit = nodeCount(boundary);
  return [...ids].filter((id) => id < limit).sort((a, b) => a - b);
}
