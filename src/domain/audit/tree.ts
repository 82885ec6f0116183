/**
 * The shape of the audit log's Merkle tree (RFC 9162 §2.1), as index arithmetic only: which
 * perfect subtrees exist, where each is stored, and which subtrees an inclusion or consistency
 * proof is made of. No hashing here (see `src/crypto/merkle.ts`).
 *
 * A perfect subtree `(level, index)` covers the leaves `[index·2^level, (index+1)·2^level)`. Every
 * node of an RFC 9162 tree of any size is either such a perfect subtree or a right-edge subtree,
 * which is the right fold of perfect ones; so storing every perfect subtree once, when its last
 * leaf arrives, answers any proof for any tree size with O(log n) lookups and never needs a rewrite.
 *
 * Storage ids are the post-order (creation) order: appending leaf `c` creates the leaf node and
 * then one parent per trailing 1-bit of `c`, with consecutive ids starting at `nodeCount(c)`. So the
 * nodes of leaves `[a, b)` are exactly the ids `[nodeCount(a), nodeCount(b))`, which a verifier
 * streams alongside the entries.
 *
 * Numbers stay below 2^53: arithmetic, never 32-bit bitwise operators, on sizes and indices.
 */

const TWO_32 = 2 ** 32;

/** A perfect subtree: `2^level` leaves starting at leaf `index·2^level`. */
export interface TreeNode {
  readonly level: number;
  readonly index: number;
}

/** Leaves `[start, end)` of the log. */
export type LeafRange = readonly [start: number, end: number];

export function popcount(n: number): number {
  return popcount32(Math.floor(n / TWO_32)) + popcount32(n >>> 0);
}

function popcount32(v: number): number {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Number of trailing 1-bits: how many parents appending leaf `c` completes. */
export function trailingOnes(c: number): number {
  let t = 0;
  while (c % 2 === 1) {
    t++;
    c = (c - 1) / 2;
  }
  return t;
}

/** Perfect subtrees (stored nodes) of a log of `size` leaves: 2·size − popcount(size). */
export function nodeCount(size: number): number {
  return 2 * size - popcount(size);
}

/** The storage id of a perfect subtree (its post-order position). */
export function nodeId(level: number, index: number): number {
  const last = (index + 1) * 2 ** level - 1;
  return nodeCount(last) + level;
}

/** The perfect subtree stored under `id` (inverse of {@link nodeId}). */
export function nodeAt(id: number): TreeNode {
  // nodeCount is strictly increasing: find the leaf c with nodeCount(c) <= id < nodeCount(c + 1).
  // nodeCount(c) = 2c − popcount(c) ≤ id puts c at most ~id/2 + 27.
  let lo = 0;
  let hi = Math.floor(id / 2) + 64;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (nodeCount(mid) <= id) lo = mid;
    else hi = mid - 1;
  }
  const level = id - nodeCount(lo);
  return { level, index: (lo + 1) / 2 ** level - 1 };
}

/** The leaves a perfect subtree covers. */
export function leavesOf(node: TreeNode): LeafRange {
  const width = 2 ** node.level;
  return [node.index * width, (node.index + 1) * width];
}

/** The largest power of two strictly less than `n` (n ≥ 2): RFC 9162's split point `k`. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The perfect subtrees whose right fold is MTH(D[start:end]), left to right. Ranges that occur in
 * RFC 9162 trees start on a multiple of the smallest power of two ≥ their width, which makes every
 * piece a stored node; any other range is a programming error.
 */
export function perfectPieces(start: number, end: number): TreeNode[] {
  if (!(start >= 0 && end > start)) throw new RangeError(`no subtree [${start}, ${end})`);
  const pieces: TreeNode[] = [];
  let at = start;
  while (at < end) {
    let width = 1;
    while (width * 2 <= end - at) width *= 2;
    if (at % width !== 0) throw new RangeError(`[${start}, ${end}) is not a subtree of an RFC 9162 tree`);
    let level = 0;
    for (let w = width; w > 1; w /= 2) level++;
    pieces.push({ level, index: at / width });
    at += width;
  }
  return pieces;
}

/** The set bits of `size` as levels, highest first: the perfect subtrees whose fold is the root. */
export function frontierLevels(size: number): number[] {
  const levels: number[] = [];
  let level = 0;
  for (let n = size; n > 0; n = Math.floor(n / 2), level++) if (n % 2 === 1) levels.unshift(level);
  return levels;
}

/** The frontier of a log of `size` leaves as nodes, left to right (the root's pieces). */
export function frontierNodes(size: number): TreeNode[] {
  return size === 0 ? [] : perfectPieces(0, size);
}

/**
 * The subtrees of the audit path PATH(m, D[n]) (RFC 9162 §2.1.3.1), in proof order: from the
 * leaf's sibling up to the root's other child.
 */
export function inclusionRanges(m: number, n: number): LeafRange[] {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 0 && m < n))
    throw new RangeError(`no leaf ${m} in a tree of ${n}`);
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = n;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m - start < k) {
      topDown.push([start + k, end]);
      end = start + k;
    } else {
      topDown.push([start, start + k]);
      start += k;
    }
  }
  return topDown.reverse();
}

/**
 * The subtrees of the consistency proof PROOF(m, D[n]) (RFC 9162 §2.1.4.1), in proof order.
 * Empty when m = n.
 */
export function consistencyRanges(m: number, n: number): LeafRange[] {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n) && m >= 1 && m <= n))
    throw new RangeError(`no consistency proof from ${m} to ${n}`);
  const topDown: LeafRange[] = [];
  let start = 0;
  let end = n;
  let whole = true;
  let rel = m;
  while (rel !== end - start) {
    const k = splitPoint(end - start);
    if (rel <= k) {
      topDown.push([start + k, end]);
      end = start + k;
    } else {
      topDown.push([start, start + k]);
      start += k;
      rel -= k;
      whole = false;
    }
  }
  if (!whole) topDown.push([start, end]);
  return topDown.reverse();
}
