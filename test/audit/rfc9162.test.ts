/**
 * Proofs checked by a verifier written here straight from RFC 9162 §2.1, sharing no code with the
 * implementation: its own MTH, PATH and PROOF definitions (§2.1.1, §2.1.3.1, §2.1.4.1), its own
 * inclusion (§2.1.3.2) and consistency (§2.1.4.2) verification, and its own reading of the leaves
 * (raw SQL on the database file). The log is written through the real append path.
 */
import { createHash, randomInt } from 'node:crypto';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/services/audit.js';
import { AuditLog } from '../../src/services/audit-log.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../support/tmp.js';

// ---- RFC 9162, §2.1 -------------------------------------------------------------------------

const HASH = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** The largest power of two smaller than n (n > 1). */
function kFor(n: number): number {
  let k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

class Rfc9162 {
  readonly #leaves: Buffer[];
  readonly #memo = new Map<string, Buffer>();
  constructor(entries: readonly Buffer[]) {
    this.#leaves = entries.map((d) => HASH(Buffer.of(0x00), d));
  }

  /** MTH(D[a:b]) — §2.1.1, memoised. */
  mth(a: number, b: number): Buffer {
    const n = b - a;
    if (n === 0) return HASH();
    if (n === 1) return this.#leaves[a]!;
    const key = `${a}:${b}`;
    let h = this.#memo.get(key);
    if (h === undefined) {
      const k = kFor(n);
      h = HASH(Buffer.of(0x01), this.mth(a, a + k), this.mth(a + k, b));
      this.#memo.set(key, h);
    }
    return h;
  }

  leaf(m: number): Buffer {
    return this.#leaves[m]!;
  }

  /** PATH(m, D[a:b]) — §2.1.3.1, m relative to a. */
  path(m: number, a: number, b: number): Buffer[] {
    const n = b - a;
    if (n === 1) return [];
    const k = kFor(n);
    return m < k
      ? [...this.path(m, a, a + k), this.mth(a + k, b)]
      : [...this.path(m - k, a + k, b), this.mth(a, a + k)];
  }

  /** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) — §2.1.4.1. */
  proof(m: number, n: number): Buffer[] {
    return this.#subproof(m, 0, n, true);
  }

  #subproof(m: number, a: number, b: number, whole: boolean): Buffer[] {
    const n = b - a;
    if (m === n) return whole ? [] : [this.mth(a, b)];
    const k = kFor(n);
    return m <= k
      ? [...this.#subproof(m, a, a + k, whole), this.mth(a + k, b)]
      : [...this.#subproof(m - k, a + k, b, false), this.mth(a, a + k)];
  }
}

/** §2.1.3.2, step by step. */
function verifyInclusionRfc(
  leafIndex: number,
  treeSize: number,
  hash: Buffer,
  inclusionPath: readonly Buffer[],
  rootHash: Buffer,
): boolean {
  if (leafIndex >= treeSize) return false; // 1
  let fn = leafIndex; // 2
  let sn = treeSize - 1;
  let r = hash; // 3
  for (const p of inclusionPath) {
    // 4
    if (sn === 0) return false; // a
    if (fn % 2 === 1 || fn === sn) {
      // b
      r = HASH(Buffer.of(0x01), p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = HASH(Buffer.of(0x01), r, p);
    }
    fn = Math.floor(fn / 2); // c
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(rootHash); // 5
}

/** §2.1.4.2, step by step (m = n handled as "the roots are equal and the proof is empty"). */
function verifyConsistencyRfc(
  first: number,
  second: number,
  firstHash: Buffer,
  secondHash: Buffer,
  consistencyPath: readonly Buffer[],
): boolean {
  if (first === second) return consistencyPath.length === 0 && firstHash.equals(secondHash);
  if (consistencyPath.length === 0) return false; // 1
  let path = [...consistencyPath];
  if ((first & (first - 1)) === 0) path = [firstHash, ...path]; // 2
  let fn = first - 1; // 3
  let sn = second - 1;
  while (fn % 2 === 1) {
    // 4
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!; // 5
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    // 6
    if (sn === 0) return false; // a
    if (fn % 2 === 1 || fn === sn) {
      // b
      fr = HASH(Buffer.of(0x01), c, fr);
      sr = HASH(Buffer.of(0x01), c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = HASH(Buffer.of(0x01), sr, c);
    }
    fn = Math.floor(fn / 2); // c
    sn = Math.floor(sn / 2);
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0; // 7
}

// ---- the log under test ---------------------------------------------------------------------

const SIZE = 100_000;

describe('RFC 9162 proofs from the stored tree, checked by an independent verifier', () => {
  const dir = tempDir('custodian-rfc9162-');
  const path = join(dir.path, 'log.db');
  let store: Store;
  let log: AuditLog;
  let rfc: Rfc9162;

  beforeAll(async () => {
    store = openStore({ engine: 'sqlite', path });
    await store.migrate();
    for (let s = 0; s < SIZE;) {
      // Uneven batch sizes, so appends start at every kind of position in the tree.
      const n = Math.min(SIZE - s, 1 + randomInt(3000));
      const entries = Array.from({ length: n }, (_, i) => ({
        v: 1 as const,
        at: new Date(1_767_225_600_000 + (s + i) * 1000).toISOString(),
        action: 'read' as const,
        actor: { id: `actor-${(s + i) % 13}`, role: 'auditor' },
        subject: (s + i).toString(16).padStart(32, '0'),
        detail: { n: s + i },
      }));
      await store.transaction((tx) => appendAudit(tx, entries));
      s += n;
    }
    log = new AuditLog({ store });
    // The verifier reads the leaves itself.
    const db = new SqliteDatabase(path, { readonly: true });
    const leaves = db.prepare('select canonical from audit_log order by seq').pluck().all() as Buffer[];
    db.close();
    expect(leaves).toHaveLength(SIZE);
    rfc = new Rfc9162(leaves);
  }, 300_000);

  afterAll(async () => {
    await store.close();
    dir.remove();
  });

  const sizes = (): number[] => {
    const chosen = new Set<number>([
      1,
      2,
      3,
      4,
      5,
      7,
      8,
      9,
      1023,
      1024,
      1025,
      65_535,
      65_536,
      65_537,
      SIZE - 1,
      SIZE,
    ]);
    for (let p = 1; p <= SIZE; p *= 2) chosen.add(p);
    while (chosen.size < 160) chosen.add(1 + randomInt(SIZE));
    return [...chosen];
  };

  it('gives, for every leaf index sampled, the RFC audit path, and it verifies', async () => {
    let checked = 0;
    for (const n of sizes()) {
      const indices = new Set<number>([0, n - 1, Math.floor(n / 2)]);
      for (let p = 1; p < n; p *= 2) indices.add(p);
      while (indices.size < Math.min(n, 14)) indices.add(randomInt(n));
      const root = rfc.mth(0, n);
      for (const m of indices) {
        const proof = await log.inclusionProof(m, n);
        expect(proof.rootHash.equals(root), `root of ${n}`).toBe(true);
        expect(proof.leafHash.equals(rfc.leaf(m))).toBe(true);
        expect(proof.auditPath.map((h) => h.toString('hex'))).toEqual(
          rfc.path(m, 0, n).map((h) => h.toString('hex')),
        );
        expect(verifyInclusionRfc(m, n, rfc.leaf(m), proof.auditPath, root)).toBe(true);
        // Neither a neighbour's leaf nor a bent path passes.
        if (n > 1) {
          expect(verifyInclusionRfc(m, n, rfc.leaf((m + 1) % n), proof.auditPath, root)).toBe(false);
          const bent = proof.auditPath.map((h, i) => (i === proof.auditPath.length - 1 ? HASH(h) : h));
          expect(verifyInclusionRfc(m, n, rfc.leaf(m), bent, root)).toBe(false);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1500);
  }, 300_000);

  it('gives, for every (m, n) sampled, the RFC consistency proof, and it verifies', async () => {
    let checked = 0;
    for (const n of sizes()) {
      const firsts = new Set<number>([1, n, Math.max(1, n - 1), Math.ceil(n / 2)]);
      for (let p = 1; p <= n; p *= 2) firsts.add(p);
      while (firsts.size < Math.min(n, 14)) firsts.add(1 + randomInt(n));
      for (const m of firsts) {
        const proof = await log.consistencyProof(m, n);
        expect(proof.firstRootHash.equals(rfc.mth(0, m))).toBe(true);
        expect(proof.secondRootHash.equals(rfc.mth(0, n))).toBe(true);
        expect(proof.proof.map((h) => h.toString('hex'))).toEqual(
          rfc.proof(m, n).map((h) => h.toString('hex')),
        );
        expect(verifyConsistencyRfc(m, n, rfc.mth(0, m), rfc.mth(0, n), proof.proof)).toBe(true);
        if (m < n) {
          // A different old root, or a proof for another pair, does not pass.
          expect(verifyConsistencyRfc(m, n, HASH(rfc.mth(0, m)), rfc.mth(0, n), proof.proof)).toBe(false);
          if (proof.proof.length > 1)
            expect(verifyConsistencyRfc(m, n, rfc.mth(0, m), rfc.mth(0, n), proof.proof.slice(1))).toBe(
              false,
            );
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(1500);
  }, 300_000);

  it('agrees with the implementation’s own verifiers and root on random pairs', async () => {
    const { verifyConsistency, verifyInclusion } = await import('../../src/crypto/merkle.js');
    for (let i = 0; i < 300; i++) {
      const n = 1 + randomInt(SIZE);
      const m = randomInt(n);
      const inc = await log.inclusionProof(m, n);
      expect(verifyInclusion(m, n, inc.leafHash, inc.auditPath, inc.rootHash)).toBe(true);
      const first = 1 + randomInt(n);
      const con = await log.consistencyProof(first, n);
      expect(verifyConsistency(first, n, con.firstRootHash, con.secondRootHash, con.proof)).toBe(true);
    }
    const head = await store.audit.head();
    const { foldRight } = await import('../../src/crypto/merkle.js');
    const frontier = Array.from({ length: head.frontier.length / 32 }, (_, i) =>
      head.frontier.subarray(32 * i, 32 * i + 32),
    );
    expect(foldRight(frontier).equals(rfc.mth(0, SIZE))).toBe(true);
  });

  it('refuses proofs outside the log', async () => {
    await expect(log.inclusionProof(SIZE, SIZE)).rejects.toMatchObject({ code: 'ERR_AUDIT_RANGE_INVALID' });
    await expect(log.inclusionProof(0, SIZE + 1)).rejects.toMatchObject({ code: 'ERR_AUDIT_RANGE_INVALID' });
    await expect(log.consistencyProof(0, 5)).rejects.toMatchObject({ code: 'ERR_AUDIT_RANGE_INVALID' });
    await expect(log.consistencyProof(6, 5)).rejects.toMatchObject({ code: 'ERR_AUDIT_RANGE_INVALID' });
    await expect(log.consistencyProof(5, SIZE + 1)).rejects.toMatchObject({
      code: 'ERR_AUDIT_RANGE_INVALID',
    });
  });
});
