import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  foldRight,
  leafHash,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/crypto/merkle.js';
import {
  addPeriod,
  coversPeriod,
  keepUntil,
  keptNodeIds,
  MIN_ENTRY_RETENTION,
  MIN_SHARING_RETENTION,
  parseRetentionPeriod,
  retentionClass,
} from '../../src/domain/audit/retention.js';
import {
  consistencyRanges,
  inclusionRanges,
  nodeCount,
  nodeId,
  perfectPieces,
} from '../../src/domain/audit/tree.js';

/** Every stored node of a log of `size` leaves, by post-order id, built the way appends build them. */
function fullTree(size: number): Buffer[] {
  const nodes: Buffer[] = [];
  const stack: Buffer[] = [];
  for (let c = 0; c < size; c++) {
    let h = leafHash(Buffer.from(`entry ${c}`));
    nodes.push(h);
    for (let t = c; t % 2 === 1; t = (t - 1) / 2) {
      h = nodeHash(stack.pop()!, h);
      nodes.push(h);
    }
    stack.push(h);
  }
  return nodes;
}

/** A range's hash from the nodes that are left, or undefined when one is missing. */
function rangeHash(left: ReadonlyMap<number, Buffer>, a: number, b: number): Buffer | undefined {
  const pieces = perfectPieces(a, b).map((n) => left.get(nodeId(n.level, n.index)));
  return pieces.includes(undefined) ? undefined : foldRight(pieces as Buffer[]);
}

function pruned(all: readonly Buffer[], boundary: number, keep: readonly number[]): Map<number, Buffer> {
  const left = new Map<number, Buffer>();
  for (const id of keep) left.set(id, all[id]!);
  for (let id = nodeCount(boundary); id < all.length; id++) left.set(id, all[id]!);
  return left;
}

describe('audit retention periods', () => {
  it('parses 184d, 6mo and 3y, and nothing else', () => {
    expect(parseRetentionPeriod('184d')).toEqual({ count: 184, unit: 'd' });
    expect(parseRetentionPeriod('6mo')).toEqual({ count: 6, unit: 'mo' });
    expect(parseRetentionPeriod('3y')).toEqual({ count: 3, unit: 'y' });
    for (const bad of ['', '0y', '6 mo', '6m', '-1d', '1.5y', '6MO'])
      expect(parseRetentionPeriod(bad)).toBe(undefined);
  });

  it('adds months and years on the calendar, clamping to the end of a shorter month', () => {
    const at = (iso: string) => new Date(iso);
    expect(addPeriod(at('2026-08-31T10:00:00.000Z'), { count: 6, unit: 'mo' }).toISOString()).toBe(
      '2027-02-28T10:00:00.000Z',
    );
    expect(addPeriod(at('2024-02-29T00:00:00.000Z'), { count: 3, unit: 'y' }).toISOString()).toBe(
      '2027-02-28T00:00:00.000Z',
    );
    expect(addPeriod(at('2026-01-01T00:00:00.000Z'), { count: 184, unit: 'd' }).toISOString()).toBe(
      '2026-07-04T00:00:00.000Z',
    );
  });

  it('accepts only periods at least the legal minimum whatever the starting day (R17, R13, R19)', () => {
    const covers = (text: string, floor = MIN_ENTRY_RETENTION) =>
      coversPeriod(parseRetentionPeriod(text)!, floor);
    expect(covers('6mo')).toBe(true);
    expect(covers('1y')).toBe(true);
    expect(covers('184d')).toBe(true);
    expect(covers('183d')).toBe(false); // 1 July to 1 January is 184 days
    expect(covers('5mo')).toBe(false);
    expect(covers('3y', MIN_SHARING_RETENTION)).toBe(true);
    expect(covers('36mo', MIN_SHARING_RETENTION)).toBe(true);
    expect(covers('35mo', MIN_SHARING_RETENTION)).toBe(false);
    expect(covers('1096d', MIN_SHARING_RETENTION)).toBe(true);
    expect(covers('1095d', MIN_SHARING_RETENTION)).toBe(false);
  });

  it('keeps exports (provision records) for the sharing period and the rest for the entry period', () => {
    for (const action of ['export', 'export.request', 'export.decide', 'export.download'])
      expect(retentionClass(action)).toBe('sharing');
    for (const action of ['read', 'collect', 'consent.grant', 'break-glass.grant', 'audit.prune'])
      expect(retentionClass(action)).toBe('entry');
    const policy = { entries: MIN_ENTRY_RETENTION, sharing: MIN_SHARING_RETENTION };
    const at = new Date('2026-03-01T00:00:00.000Z');
    expect(keepUntil(at, 'read', policy).toISOString()).toBe('2026-09-01T00:00:00.000Z');
    expect(keepUntil(at, 'export.download', policy).toISOString()).toBe('2029-03-01T00:00:00.000Z');
  });
});

describe('nodes kept below a pruned boundary', () => {
  const SIZE = 300;
  const all = fullTree(SIZE);

  it('keep inclusion proofs of kept leaves and consistency proofs from every kept checkpoint working', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: SIZE - 1 }),
        fc.uniqueArray(fc.integer({ min: 1, max: SIZE }), { maxLength: 8 }),
        fc.integer({ min: 0, max: SIZE }),
        (boundary, sizes, extra) => {
          const checkpoints = [...sizes.filter((m) => m < boundary), boundary];
          const keep = keptNodeIds(boundary, checkpoints);
          expect(keep.every((id) => id < nodeCount(boundary))).toBe(true);
          // O(log n) per checkpoint, never the whole prefix.
          expect(keep.length).toBeLessThanOrEqual(
            checkpoints.length * 4 * Math.ceil(Math.log2(boundary + 1)) + 9,
          );
          const left = pruned(all, boundary, keep);
          const n = boundary + (extra % (SIZE - boundary + 1));
          const rootN = foldRight(perfectPieces(0, n).map((p) => all[nodeId(p.level, p.index)]!));
          expect(rangeHash(left, 0, n)?.equals(rootN)).toBe(true);
          for (const m of [...checkpoints, ...(n > boundary ? [boundary + 1, n] : [])]) {
            if (m > n) continue;
            const proof = consistencyRanges(m, n).map(([a, b]) => rangeHash(left, a, b));
            const rootM = rangeHash(left, 0, m);
            expect(proof.includes(undefined) || rootM === undefined, `consistency ${m} → ${n}`).toBe(false);
            expect(verifyConsistency(m, n, rootM!, rootN, proof as Buffer[])).toBe(true);
          }
          for (let leaf = boundary; leaf < n; leaf += 7) {
            const path = inclusionRanges(leaf, n).map(([a, b]) => rangeHash(left, a, b));
            expect(path.includes(undefined), `inclusion ${leaf} in ${n}`).toBe(false);
            expect(verifyInclusion(leaf, n, all[nodeId(0, leaf)]!, path as Buffer[], rootN)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a later prune keeps a subset of what is left after an earlier one', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: SIZE }), { minLength: 2, maxLength: 10 }),
        (sizes) => {
          const sorted = [...sizes].sort((a, b) => a - b);
          const first = sorted[Math.floor(sorted.length / 2) - 1]!;
          const second = sorted.at(-1)!;
          const after = pruned(
            all,
            first,
            keptNodeIds(
              first,
              sorted.filter((m) => m <= first),
            ),
          );
          for (const id of keptNodeIds(second, sorted)) expect(after.has(id), `node ${id}`).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
