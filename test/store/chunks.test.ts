import { describe, expect, it } from 'vitest';
import { chunks, keyChunks } from '../../src/store/repos/chunks.js';

describe('chunks and keyChunks', () => {
  const keys = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  it('cuts consecutive slices of at most the size', () => {
    expect([...chunks(keys(7), 3)]).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect([...chunks([], 3)]).toEqual([]);
  });

  it('pads each slice of keys to a power of two with its last key, and nothing else', () => {
    expect([...keyChunks([], 4)]).toEqual([]);
    expect([...keyChunks([9], 4)]).toEqual([[9]]);
    expect([...keyChunks(keys(3), 4)]).toEqual([[0, 1, 2, 2]]);
    expect([...keyChunks(keys(7), 5)]).toEqual([
      [0, 1, 2, 3, 4, 4, 4, 4],
      [5, 6],
    ]);
    const slices = [...keyChunks(keys(1_203))];
    expect(slices.map((s) => s.length)).toEqual([512, 512, 256]);
    expect(new Set(slices.flat())).toEqual(new Set(keys(1_203)));
    expect(slices[2]!.slice(203)).toEqual(Array<number>(53).fill(1_202));
  });
});
