import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyRanges,
  frontierLevels,
  inclusionRanges,
  leavesOf,
  nodeAt,
  nodeCount,
  nodeId,
  perfectPieces,
  popcount,
  trailingOnes,
} from '../../src/domain/audit/tree.js';

describe('Merkle tree arithmetic', () => {
  it('numbers perfect subtrees in creation (post-)order, and back', () => {
    // Replaying appends: each leaf, then one parent per trailing 1-bit of its index.
    let id = 0;
    for (let c = 0; c < 5000; c++) {
      expect(nodeCount(c)).toBe(id);
      for (let level = 0; level <= trailingOnes(c); level++) {
        const index = (c + 1) / 2 ** level - 1;
        expect(nodeId(level, index)).toBe(id);
        expect(nodeAt(id)).toEqual({ level, index });
        id++;
      }
    }
  });

  it('stays exact for logs far beyond 2^32 leaves', () => {
    for (const c of [2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12_345, 2 ** 50 - 1]) {
      expect(popcount(c)).toBe(c.toString(2).replaceAll('0', '').length);
      const level = trailingOnes(c);
      const index = (c + 1) / 2 ** level - 1;
      expect(nodeAt(nodeId(level, index))).toEqual({ level, index });
      expect(nodeAt(nodeCount(c))).toEqual({ level: 0, index: c });
    }
    for (let i = 0; i < 2000; i++) {
      const id = randomInt(2 ** 47);
      const { level, index } = nodeAt(id);
      expect(nodeId(level, index)).toBe(id);
    }
  });

  it('splits ranges into aligned perfect subtrees, largest first', () => {
    expect(perfectPieces(0, 13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(frontierLevels(13)).toEqual([3, 2, 0]);
    expect(perfectPieces(8, 12)).toEqual([{ level: 2, index: 2 }]);
    expect(() => perfectPieces(3, 7)).toThrow(RangeError);
    expect(leavesOf({ level: 2, index: 3 })).toEqual([12, 16]);
  });

  it('plans proofs of the sizes RFC 9162 gives', () => {
    expect(inclusionRanges(0, 1)).toEqual([]);
    expect(inclusionRanges(3, 7)).toEqual([
      [2, 3],
      [0, 2],
      [4, 7],
    ]);
    expect(consistencyRanges(7, 7)).toEqual([]);
    // RFC 9162 §2.1.5's example tree: PROOF(3, D[7]) = [c, d, g, l].
    expect(consistencyRanges(3, 7)).toEqual([
      [2, 3],
      [3, 4],
      [0, 2],
      [4, 7],
    ]);
    expect(consistencyRanges(4, 7)).toEqual([[4, 7]]);
    expect(consistencyRanges(6, 7)).toEqual([
      [4, 6],
      [6, 7],
      [0, 4],
    ]);
    expect(() => inclusionRanges(7, 7)).toThrow(RangeError);
    expect(() => consistencyRanges(0, 7)).toThrow(RangeError);
  });
});
