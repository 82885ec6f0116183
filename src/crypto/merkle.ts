import * as nodeCrypto from 'node:crypto';

/**
 * RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing with SHA-256 and its domain
 * separation: a leaf is `SHA-256(0x00 ‖ entry)`, an interior node `SHA-256(0x01 ‖ left ‖ right)`,
 * the empty tree `SHA-256()`. Tree shapes (which subtrees a proof needs) are in
 * `src/domain/audit/tree.ts`; this module only hashes and checks.
 */

export const HASH_BYTES = 32;
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

type OneShot = (algorithm: string, data: nodeCrypto.BinaryLike, encoding: 'latin1') => string;
/** `crypto.hash` (Node ≥ 20.12) skips a Hash object per call; older 20.x fall back to createHash. */
const oneShot: OneShot =
  typeof (nodeCrypto as { hash?: unknown }).hash === 'function'
    ? (nodeCrypto.hash as unknown as OneShot)
    : (algorithm, data, encoding) =>
        nodeCrypto.createHash(algorithm).update(data).digest().toString(encoding);

/** MTH({}) = SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = nodeCrypto.createHash('sha256').digest();

export function leafHash(entry: Uint8Array): Buffer {
  return nodeCrypto.createHash('sha256').update(Uint8Array.of(LEAF_PREFIX)).update(entry).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return nodeCrypto
    .createHash('sha256')
    .update(Uint8Array.of(NODE_PREFIX))
    .update(left)
    .update(right)
    .digest();
}

/** MTH of a range from its perfect subtrees, left to right: a right fold. */
export function foldRight(pieces: readonly Uint8Array[]): Buffer {
  if (pieces.length === 0) return EMPTY_ROOT;
  let acc: Buffer = Buffer.from(pieces[pieces.length - 1]!);
  for (let i = pieces.length - 2; i >= 0; i--) acc = nodeHash(pieces[i]!, acc);
  return acc;
}

/**
 * Allocation-light hashing for bulk work (verification, bulk loads): digests are 32-character
 * latin1 strings — V8 makes a one-byte string far more cheaply than a Buffer — and inputs are
 * assembled in reused scratch buffers.
 */
export class FastHasher {
  readonly #node = Buffer.alloc(1 + 2 * HASH_BYTES);
  #leaf = Buffer.alloc(4096);

  constructor() {
    this.#node[0] = NODE_PREFIX;
  }

  /** Leaf hash of `bytes[start, end)`, copied behind a 0x00 prefix. */
  leaf(bytes: Uint8Array, start = 0, end = bytes.length): string {
    const length = end - start;
    if (this.#leaf.length < length + 1) this.#leaf = Buffer.alloc(2 * (length + 1));
    this.#leaf[0] = LEAF_PREFIX;
    this.#leaf.set(bytes.subarray(start, end), 1);
    return oneShot('sha256', this.#leaf.subarray(0, length + 1), 'latin1');
  }

  /**
   * Leaf hash of `bytes[start, end)` when `bytes[start - 1]` is already 0x00 (entries joined by
   * a zero byte): hashes in place, no copy.
   */
  leafAfterZero(bytes: Buffer, start: number, end: number): string {
    return oneShot('sha256', bytes.subarray(start - 1, end), 'latin1');
  }

  node(left: string, right: string): string {
    this.#node.write(left, 1, HASH_BYTES, 'latin1');
    this.#node.write(right, 1 + HASH_BYTES, HASH_BYTES, 'latin1');
    return oneShot('sha256', this.#node, 'latin1');
  }

  /** Right fold of latin1 digests (a root from its frontier). */
  fold(pieces: readonly string[]): string {
    if (pieces.length === 0) return EMPTY_ROOT.toString('latin1');
    let acc = pieces[pieces.length - 1]!;
    for (let i = pieces.length - 2; i >= 0; i--) acc = this.node(pieces[i]!, acc);
    return acc;
  }
}

/**
 * RFC 9162 §2.1.3.2: recomputes the root from a leaf hash and its audit path; true when it equals
 * `root`. The checkpointer uses it (with {@link verifyConsistency}) before signing anything.
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!(leafIndex >= 0 && leafIndex < treeSize)) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Uint8Array = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = fn / 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(r).equals(root);
}

/** RFC 9162 §2.1.4.2: true when `proof` shows the tree of `first` leaves is a prefix of the tree of `second`. */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!(first >= 1 && first <= second)) return false;
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(secondRoot);
  if (proof.length === 0) return false;
  // When the old tree is a perfect one, its root starts the path.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : proof;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = fn / 2;
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(fr).equals(firstRoot) && Buffer.from(sr).equals(secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}
