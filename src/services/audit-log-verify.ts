import { EMPTY_ROOT, FastHasher, verifyConsistency } from '../crypto/merkle.js';
import { verifyNoteSignature, type NoteKey } from '../crypto/signed-note.js';
import { checkpointBody, parseCheckpointBody, parseSignedNote } from '../domain/audit/checkpoint.js';
import { addPeriod, keptNodeIds, MIN_ENTRY_RETENTION } from '../domain/audit/retention.js';
import {
  consistencyRanges,
  nodeAt,
  nodeCount,
  nodeId,
  perfectPieces,
  popcount,
  trailingOnes,
} from '../domain/audit/tree.js';
import { hashBatch, HashPool, inlineSha, type HashJob, type HashResult } from './audit-log-hash.js';
import type {
  AuditCheckpointRecord,
  AuditEntryBatch,
  AuditHead,
  AuditNodeBatch,
  AuditRepository,
  Store,
} from '../store/store.js';

/**
 * `custodian log verify`: recomputes the Merkle tree from the stored canonical entries, in
 * batches, and checks every stored node, the head, every stored checkpoint (signature and root at
 * its size) and optionally an off-site checkpoint against it.
 *
 * Each batch first runs a tight loop that only hashes and compares the batch's recomputed nodes
 * with the stored ones in one memcmp; a batch that differs is run again slowly, node by node,
 * to name what changed. A disagreement between an entry and its stored leaf hash is settled by
 * the stored parent (or the head for the last leaf): the side the rest of the tree agrees with is
 * authentic, so one edited row is reported as exactly that row.
 */

export type ProblemKind =
  | 'entry-mismatch'
  | 'entry-subject-mismatch'
  | 'entry-missing'
  | 'entry-unexpected'
  | 'node-mismatch'
  | 'node-missing'
  | 'node-unexpected'
  | 'head-mismatch'
  | 'checkpoint-signature'
  | 'checkpoint-unknown-key'
  | 'checkpoint-mismatch'
  | 'checkpoint-beyond-log'
  | 'offsite-signature'
  | 'offsite-mismatch'
  | 'offsite-beyond-log'
  | 'prune-boundary';

export interface VerifyProblem {
  readonly kind: ProblemKind;
  readonly message: string;
  /** The entry concerned (entry problems), or the first leaf a node covers (node problems). */
  readonly leafIndex?: number;
  readonly seq?: number;
  readonly level?: number;
  readonly index?: number;
  /** The checkpoint's tree size (checkpoint problems). */
  readonly treeSize?: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** Entries the tree was recomputed over (up to this size; from `prunedSize`). */
  readonly treeSize: number;
  /** Leaves `[0, prunedSize)` were pruned (retention); verification starts at that boundary. */
  readonly prunedSize: number;
  /** Hex root recomputed from the entries. */
  readonly rootHash: string;
  readonly nodesChecked: number;
  readonly checkpointsChecked: number;
  /** Whether checkpoint signatures were checked (a key was given). */
  readonly signaturesChecked: boolean;
  readonly offsite?: { readonly treeSize: number; readonly ok: boolean };
  /** The lowest leaf index an entry problem names, or null. */
  readonly firstBadLeaf: number | null;
  /** The first {@link MAX_PROBLEMS} problems, in log order. */
  readonly problems: readonly VerifyProblem[];
  readonly moreProblems: number;
  readonly seconds: number;
}

export interface VerifyOptions {
  /** The checkpoint signing key (public half suffices); without it signatures are not checked. */
  readonly key?: NoteKey;
  /** A signed checkpoint kept off-site (its signed-note text). */
  readonly offsite?: string;
  /** Leaves per batch (rounded down to a power of two); default 16,384. */
  readonly batchSize?: number;
  /** Worker threads that hash batches; default: the spare cores (up to 4), 0 hashes inline. */
  readonly workers?: number;
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
  /** The clock a pruned boundary's age is checked against; default the system clock. */
  readonly now?: () => Date;
}

export const MAX_PROBLEMS = 100;
const DEFAULT_BATCH = 16_384;
const hex = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('hex');

interface RootCheck {
  readonly treeSize: number;
  readonly root: string;
  readonly offsite: boolean;
}

function subjectMatches(canonical: Buffer, subjectRef: string | null): boolean {
  try {
    const entry = JSON.parse(canonical.toString('utf8')) as { subject?: unknown };
    return (entry.subject ?? null) === subjectRef;
  } catch {
    return true; // an unreadable entry is reported by the hash check
  }
}

export async function verifyAuditLog(store: Store, options: VerifyOptions = {}): Promise<VerifyReport> {
  return new Verifier(store, options).run();
}

class Verifier {
  readonly #store: Store;
  readonly #repo: AuditRepository;
  readonly #o: VerifyOptions;
  readonly #h = new FastHasher();
  readonly #problems: VerifyProblem[] = [];
  #problemCount = 0;
  /** Perfect subtree roots (latin1), largest first; null where nothing could be computed. */
  #stack: (string | null)[] = [];
  /** Leaf index from which recomputed hashes may differ from stored ones because of a reported problem. */
  #cascade = Infinity;
  #roots: RootCheck[] = [];
  #nextRoot = 0;
  #nodesChecked = 0;
  #checkpointsChecked = 0;
  #offsite: { treeSize: number; ok: boolean } | undefined;
  #size = 0;
  #head: AuditHead = { size: 0, frontier: Buffer.alloc(0) };
  /** Every stored checkpoint's size, valid or not (the pruned prefix kept nodes for each). */
  #checkpointSizes: number[] = [];
  /** Stored checkpoints by size (for the pruned boundary's signing time). */
  #signedAt = new Map<number, string>();

  constructor(store: Store, options: VerifyOptions) {
    this.#store = store;
    this.#repo = store.audit;
    this.#o = options;
  }

  async run(): Promise<VerifyReport> {
    const started = process.hrtime.bigint();
    const { head, stats, retention } = await this.#store.transaction(async (tx) => {
      const retention = await tx.audit.retention();
      return {
        head: await tx.audit.head(),
        stats: await tx.audit.stats(retention.prunedSize > 0 ? nodeCount(retention.prunedSize) : undefined),
        retention,
      };
    });
    this.#head = head;
    const pruned = Math.min(retention.prunedSize, head.size);
    const size = this.#chooseSize(head, stats, pruned);
    this.#size = size;
    const strays = await this.#repo.strays(size, nodeCount(size), 20, pruned);
    for (const seq of strays.seqs)
      this.#problem({
        kind: 'entry-unexpected',
        seq,
        leafIndex: seq - 1,
        message: `entry seq ${seq} (leaf ${seq - 1}) lies outside the log of ${size} entries: a row was inserted`,
      });
    for (const id of strays.nodeIds) {
      const node = id >= 0 ? nodeAt(id) : undefined;
      this.#problem({
        kind: 'node-unexpected',
        message: `stored node id ${id} lies outside the tree of ${size} entries: a row was inserted`,
        ...(node ? { level: node.level, index: node.index, leafIndex: node.index * 2 ** node.level } : {}),
      });
    }
    await this.#loadCheckpoints(size);
    if (pruned === 0) this.#checkRootsAt(0, EMPTY_ROOT.toString('latin1'));
    else await this.#startAfterPrune(pruned, retention.pruneSeq);

    let batch = 2;
    while (batch * 2 <= (this.#o.batchSize ?? DEFAULT_BATCH)) batch *= 2;
    // A pruned log starts at a checkpoint's size: node by node up to the first whole batch.
    const first = Math.min(size, Math.ceil(pruned / batch) * batch);
    if (first > pruned) {
      await this.#slow(pruned, first);
      this.#nodesChecked += nodeCount(first) - nodeCount(pruned);
      this.#o.onProgress?.({ done: first, total: size });
    }
    const workers = Math.min(this.#o.workers ?? HashPool.defaultSize(), Math.floor((size - first) / batch));
    const pool = workers > 0 ? new HashPool(workers) : undefined;
    // Batches are read in order, hashed in parallel and merged in order: at most a few ahead.
    const inflight: { job: HashJob; above: Buffer; result: Promise<HashResult> }[] = [];
    const mergeNext = async (): Promise<void> => {
      const next = inflight.shift()!;
      let result: HashResult;
      try {
        result = await next.result;
      } catch {
        result = hashBatch(next.job, inlineSha); // a worker that failed: hash it here
      }
      if (result.ok) this.#merge(next.job, next.above, result);
      else await this.#slow(next.job.s, next.job.e);
      this.#nodesChecked += nodeCount(next.job.e) - nodeCount(next.job.s);
      this.#o.onProgress?.({ done: next.job.e, total: size });
    };
    try {
      for (let s = first; s < size; s += batch) {
        const e = Math.min(size, s + batch);
        const [entries, nodes] = await Promise.all([
          this.#repo.scanEntries(s + 1, e + 1),
          this.#repo.scanNodes(nodeCount(s), nodeCount(e)),
        ]);
        const job = this.#job(s, e, entries, nodes);
        if (job === undefined) {
          while (inflight.length > 0) await mergeNext();
          await this.#slow(s, e);
          this.#nodesChecked += nodeCount(e) - nodeCount(s);
          this.#o.onProgress?.({ done: e, total: size });
          continue;
        }
        // The nodes above the batch's subtree, completed by its last leaf, stay here for the merge.
        const inside =
          nodeCount(e) - nodeCount(s) - (e - s === batch ? trailingOnes(e - 1) - Math.log2(batch) : 0);
        const above = Buffer.from(nodes.bytes.subarray(32 * inside));
        inflight.push({
          job,
          above,
          // While the workers are busy, this thread hashes too instead of waiting for them.
          result:
            pool !== undefined && pool.pending < 2 * workers
              ? pool.run(job)
              : Promise.resolve(hashBatch(job, inlineSha)),
        });
        while (inflight.length > Math.max(1, 2 * workers)) await mergeNext();
      }
      while (inflight.length > 0) await mergeNext();
    } finally {
      await pool?.close();
    }
    if (size === 0) this.#o.onProgress?.({ done: 0, total: 0 });

    const frontier = this.#stack;
    if (head.size === size && !frontier.includes(null)) {
      const stored = head.frontier.toString('latin1');
      if (stored !== frontier.join(''))
        this.#problem({
          kind: 'head-mismatch',
          message: `the head's frontier does not match the ${size} entries: the head was changed`,
        });
    }
    const root = frontier.includes(null) ? '' : this.#h.fold(frontier as string[]);
    const entryProblems = this.#problems.filter(
      (p) => p.kind.startsWith('entry-') && p.leafIndex !== undefined,
    );
    return {
      ok: this.#problemCount === 0,
      treeSize: size,
      prunedSize: pruned,
      rootHash: hex(root),
      nodesChecked: this.#nodesChecked,
      checkpointsChecked: this.#checkpointsChecked,
      signaturesChecked: this.#o.key !== undefined,
      ...(this.#offsite ? { offsite: this.#offsite } : {}),
      firstBadLeaf: entryProblems.length === 0 ? null : Math.min(...entryProblems.map((p) => p.leafIndex!)),
      problems: this.#problems,
      moreProblems: this.#problemCount - this.#problems.length,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
  }

  /**
   * The size to recompute: the head's, unless the entries and the nodes agree on another one —
   * then the head is the odd one out.
   */
  #chooseSize(head: AuditHead, stats: Awaited<ReturnType<AuditRepository['stats']>>, pruned: number): number {
    const { entries, nodes } = stats;
    const entrySize =
      entries.count === 0
        ? pruned
        : entries.min === pruned + 1 && entries.max === pruned + entries.count
          ? pruned + entries.count
          : -1;
    // Nodes above the pruned prefix: ids [nodeCount(pruned), nodeCount(size)).
    const base = nodeCount(pruned);
    let nodeSize = -1;
    if (nodes.count === 0) nodeSize = pruned;
    else if (nodes.min === base && nodes.max === base + nodes.count - 1) {
      let lo = pruned;
      let hi = pruned + nodes.count;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (nodeCount(mid) - base < nodes.count) lo = mid + 1;
        else hi = mid;
      }
      if (nodeCount(lo) - base === nodes.count) nodeSize = lo;
    }
    if (head.size !== entrySize && entrySize >= 0 && entrySize === nodeSize) {
      this.#problem({
        kind: 'head-mismatch',
        message: `the head says ${head.size} entries but the entries and the tree hold ${entrySize}: the head was changed`,
      });
      return entrySize;
    }
    if (head.frontier.length !== 32 * popcount(head.size))
      this.#problem({
        kind: 'head-mismatch',
        message: `the head's frontier has the wrong length: the head was changed`,
      });
    return head.size;
  }

  async #loadCheckpoints(size: number): Promise<void> {
    const key = this.#o.key;
    const roots: RootCheck[] = [];
    for (let after = -1; ;) {
      const page = await this.#repo.checkpoints(after, 1000);
      if (page.length === 0) break;
      after = page.at(-1)!.treeSize;
      for (const cp of page) {
        this.#checkpointsChecked++;
        this.#checkpointSizes.push(cp.treeSize);
        if (key !== undefined && !this.#signatureOk(key, cp)) continue;
        if (cp.treeSize > size) {
          this.#problem({
            kind: 'checkpoint-beyond-log',
            treeSize: cp.treeSize,
            leafIndex: size,
            message: `a checkpoint was signed at size ${cp.treeSize} but the log has ${size} entries: entries were removed`,
          });
          continue;
        }
        roots.push({ treeSize: cp.treeSize, root: cp.rootHash.toString('latin1'), offsite: false });
        this.#signedAt.set(cp.treeSize, cp.signedAt);
      }
    }
    if (this.#o.offsite !== undefined) {
      const note = parseSignedNote(this.#o.offsite);
      const checkpoint = parseCheckpointBody(note.text);
      const signed = key !== undefined && note.signatures.some((s) => verifyNoteSignature(key, note.text, s));
      this.#offsite = { treeSize: checkpoint.treeSize, ok: signed };
      if (!signed) {
        this.#problem({
          kind: 'offsite-signature',
          treeSize: checkpoint.treeSize,
          message: `the off-site checkpoint (size ${checkpoint.treeSize}) carries no valid signature by this log's key`,
        });
      } else if (checkpoint.treeSize > size) {
        this.#offsite = { treeSize: checkpoint.treeSize, ok: false };
        this.#problem({
          kind: 'offsite-beyond-log',
          treeSize: checkpoint.treeSize,
          leafIndex: size,
          message: `the off-site checkpoint covers ${checkpoint.treeSize} entries but the log has ${size}: entries were removed`,
        });
      } else {
        roots.push({
          treeSize: checkpoint.treeSize,
          root: Buffer.from(checkpoint.rootHash).toString('latin1'),
          offsite: true,
        });
      }
    }
    this.#roots = roots.sort((a, b) => a.treeSize - b.treeSize);
  }

  /**
   * A pruned log (docs/audit-log.md, "Retention") starts at the pruned boundary, a checkpoint's
   * size: the kept nodes below it must be exactly those pruning keeps; their fold must be the root
   * a valid checkpoint signed at the boundary, at least six months before now (R17: nothing
   * younger can have been pruned lawfully); every earlier checkpoint must be consistent with it,
   * proven from the kept nodes; and a kept entry must record the prune.
   */
  async #startAfterPrune(pruned: number, pruneSeq: number | null): Promise<void> {
    const h = this.#h;
    const below = nodeCount(pruned);
    const stored = new Map<number, string>();
    for (const node of await this.#repo.nodeRange(0, below))
      stored.set(node.id, node.hash.toString('latin1'));
    const hashOf = (level: number, index: number): string | null => stored.get(nodeId(level, index)) ?? null;
    const frontier = perfectPieces(0, pruned).map((n) => hashOf(n.level, n.index));
    this.#nodesChecked += stored.size;
    const root = frontier.includes(null) ? null : h.fold(frontier as string[]);

    const boundary = this.#roots.find((r) => r.treeSize === pruned && !r.offsite);
    const signedAt = this.#signedAt.get(pruned);
    const now = (this.#o.now ?? (() => new Date()))();
    if (boundary === undefined || signedAt === undefined) {
      this.#problem({
        kind: 'prune-boundary',
        treeSize: pruned,
        leafIndex: pruned,
        message: `the log was pruned before leaf ${pruned} but no valid checkpoint signed at size ${pruned} vouches for what was removed`,
      });
    } else if (addPeriod(new Date(signedAt), MIN_ENTRY_RETENTION) > now) {
      this.#problem({
        kind: 'prune-boundary',
        treeSize: pruned,
        leafIndex: pruned,
        message: `the log was pruned before leaf ${pruned}, whose checkpoint was signed ${signedAt}: less than six months ago, entries were removed`,
      });
    }

    // The prune is itself an entry of the kept log (its hash is checked with the rest).
    const record =
      pruneSeq !== null && pruneSeq > pruned && pruneSeq <= this.#size
        ? await this.#repo.range(pruneSeq, pruneSeq + 1)
        : [];
    const recorded = record.some((row) => {
      try {
        const entry = JSON.parse(row.canonical.toString('utf8')) as {
          action?: unknown;
          detail?: { prunedSize?: unknown };
        };
        return entry.action === 'audit.prune' && entry.detail?.prunedSize === pruned;
      } catch {
        return false;
      }
    });
    if (!recorded)
      this.#problem({
        kind: 'prune-boundary',
        treeSize: pruned,
        leafIndex: pruned,
        message: `no entry of the log records pruning it before leaf ${pruned}`,
      });
    const kept = new Set(keptNodeIds(pruned, this.#checkpointSizes));
    for (const id of stored.keys()) {
      if (kept.has(id)) continue;
      const node = nodeAt(id);
      this.#problem({
        kind: 'node-unexpected',
        level: node.level,
        index: node.index,
        leafIndex: node.index * 2 ** node.level,
        message: `stored node id ${id} lies in the pruned part of the log, where it was not kept: a row was inserted`,
      });
    }
    for (const id of kept) {
      if (stored.has(id)) continue;
      const node = nodeAt(id);
      this.#nodeProblem(
        'node-missing',
        node.level,
        node.index,
        'it was kept when the log was pruned and is missing',
      );
    }
    // Checkpoints (and an off-site one) inside the pruned part: consistent with the boundary.
    while (this.#nextRoot < this.#roots.length && this.#roots[this.#nextRoot]!.treeSize < pruned) {
      const check = this.#roots[this.#nextRoot++]!;
      const m = check.treeSize;
      if (m === 0) continue;
      const proof = consistencyRanges(m, pruned).map(([a, b]) => {
        const pieces = perfectPieces(a, b).map((n) => hashOf(n.level, n.index));
        return pieces.includes(null) ? null : h.fold(pieces as string[]);
      });
      const own = perfectPieces(0, m).map((n) => hashOf(n.level, n.index));
      if (root === null || proof.includes(null) || own.includes(null)) continue; // reported as missing
      const ok =
        h.fold(own as string[]) === check.root &&
        verifyConsistency(
          m,
          pruned,
          Buffer.from(check.root, 'latin1'),
          Buffer.from(root, 'latin1'),
          (proof as string[]).map((p) => Buffer.from(p, 'latin1')),
        );
      if (ok) continue;
      if (check.offsite) this.#offsite = { treeSize: m, ok: false };
      this.#problem({
        kind: check.offsite ? 'offsite-mismatch' : 'checkpoint-mismatch',
        treeSize: m,
        message: `the ${check.offsite ? 'off-site ' : ''}checkpoint signed at size ${m} is not consistent with the nodes kept when the log was pruned at ${pruned}: they were changed`,
      });
    }
    this.#checkRootsAt(pruned, root);

    this.#stack = frontier;
  }

  #signatureOk(key: NoteKey, cp: AuditCheckpointRecord): boolean {
    if (cp.keyId !== key.keyId || cp.origin !== key.name) {
      this.#problem({
        kind: 'checkpoint-unknown-key',
        treeSize: cp.treeSize,
        message: `the checkpoint at size ${cp.treeSize} names key ${cp.origin}/${cp.keyId.toString(16).padStart(8, '0')}, not this log's key`,
      });
      return false;
    }
    let body: string;
    try {
      body = checkpointBody({
        origin: cp.origin,
        treeSize: cp.treeSize,
        rootHash: cp.rootHash,
        time: cp.signedAt,
      });
    } catch {
      body = '';
    }
    if (
      body === '' ||
      !verifyNoteSignature(key, body, { name: cp.origin, keyId: cp.keyId, signature: cp.signature })
    ) {
      this.#problem({
        kind: 'checkpoint-signature',
        treeSize: cp.treeSize,
        message: `the checkpoint at size ${cp.treeSize} does not verify: it was changed or forged`,
      });
      return false;
    }
    return true;
  }

  /** Compares the recomputed root at `treeSize` with every checkpoint of that size. */
  #checkRootsAt(treeSize: number, root: string | null): void {
    while (this.#nextRoot < this.#roots.length && this.#roots[this.#nextRoot]!.treeSize === treeSize) {
      const check = this.#roots[this.#nextRoot++]!;
      if (root === null || root === check.root || this.#cascade < treeSize) continue;
      if (check.offsite) this.#offsite = { treeSize, ok: false };
      this.#problem({
        kind: check.offsite ? 'offsite-mismatch' : 'checkpoint-mismatch',
        treeSize,
        message: `the entries do not match the ${check.offsite ? 'off-site ' : ''}checkpoint signed at size ${treeSize}: the log was rewritten before that size`,
      });
    }
  }

  /** The batch as a hashing job, or undefined when rows are missing or extra (the slow path names them). */
  #job(s: number, e: number, entries: AuditEntryBatch, nodes: AuditNodeBatch): HashJob | undefined {
    const expectedNodes = nodeCount(e) - nodeCount(s);
    if (entries.count !== e - s || nodes.count !== expectedNodes || nodes.bytes.length !== 32 * expectedNodes)
      return undefined;
    const rootSizes = this.#roots.filter((r) => r.treeSize > s && r.treeSize <= e).map((r) => r.treeSize);
    return {
      s,
      e,
      bytes: entries.bytes,
      nodes: nodes.bytes,
      rootSizes: [...new Set(rootSizes)],
    };
  }

  /**
   * Joins a hashed batch to the frontier: its subtree root climbs past the earlier subtrees it
   * completes (checking each stored node on the way), and checkpoint roots inside it are checked.
   */
  #merge(job: HashJob, above: Buffer, result: HashResult): void {
    const h = this.#h;
    const pieces = (local: string): string[] =>
      Array.from({ length: local.length / 32 }, (_, i) => local.slice(32 * i, 32 * i + 32));
    const before = this.#stack;
    for (const [size, local] of result.roots) {
      const all = [...before, ...pieces(local)];
      this.#checkRootsAt(size, all.includes(null) ? null : h.fold(all as string[]));
    }
    const local = pieces(result.local);
    const last = job.e - 1;
    const levelsInside = trailingOnes(last - job.s);
    const levelsAll = trailingOnes(last);
    if (local.length === 1 && levelsAll > levelsInside) {
      let cur = local[0]!;
      for (let level = levelsInside + 1, k = 0; level <= levelsAll; level++, k++) {
        const left = this.#stack.pop() ?? null;
        const index = (last + 1) / 2 ** level - 1;
        const stored = above.toString('latin1', 32 * k, 32 * k + 32);
        if (left === null) {
          cur = stored;
          continue;
        }
        cur = h.node(left, cur);
        if (cur !== stored && this.#cascade > index * 2 ** level) {
          this.#nodeProblem(
            'node-mismatch',
            level,
            index,
            'its stored hash does not match the entries below it',
          );
          this.#cascade = Math.min(this.#cascade, index * 2 ** level);
        }
      }
      this.#stack.push(cur);
    } else this.#stack.push(...local);
    while (this.#roots[this.#nextRoot] !== undefined && this.#roots[this.#nextRoot]!.treeSize <= job.e)
      this.#nextRoot++;
  }

  /** Node by node, naming each problem. */
  async #slow(s: number, e: number): Promise<void> {
    const h = this.#h;
    const entries = new Map<number, Buffer>();
    for (const row of await this.#repo.range(s + 1, e + 1)) {
      entries.set(row.seq - 1, row.canonical);
      if (!subjectMatches(row.canonical, row.subjectRef))
        this.#problem({
          kind: 'entry-subject-mismatch',
          leafIndex: row.seq - 1,
          seq: row.seq,
          message: `entry seq ${row.seq} (leaf ${row.seq - 1}): its subject_ref column does not match the entry: the row was changed`,
        });
    }
    const stored = new Map<number, string>();
    for (const node of await this.#repo.nodeRange(nodeCount(s), nodeCount(e)))
      stored.set(node.id, node.hash.toString('latin1'));
    const leafOf = (c: number): string | null => {
      const canonical = entries.get(c);
      return canonical === undefined ? null : h.leaf(canonical);
    };
    for (let c = s; c < e; c++) {
      const base = nodeCount(c);
      const computed = leafOf(c);
      const storedLeaf = stored.get(base) ?? null;
      let cur: string | null;
      if (computed !== null && storedLeaf !== null) {
        if (computed === storedLeaf) cur = computed;
        else {
          const verdict = this.#vote(c, computed, storedLeaf, leafOf, stored);
          if (verdict === 'node') {
            this.#nodeProblem('node-mismatch', 0, c, 'its stored hash was changed');
            cur = computed;
          } else {
            this.#problem({
              kind: 'entry-mismatch',
              leafIndex: c,
              seq: c + 1,
              message: `entry seq ${c + 1} (leaf ${c}) does not match its stored leaf hash: the entry was changed, removed or moved`,
            });
            cur = verdict === 'entry' ? storedLeaf : computed;
            if (verdict === 'unknown') this.#cascade = Math.min(this.#cascade, c);
          }
        }
      } else if (computed !== null) {
        this.#nodeProblem('node-missing', 0, c, 'its stored leaf hash is missing');
        cur = computed;
      } else {
        this.#problem({
          kind: 'entry-missing',
          leafIndex: c,
          seq: c + 1,
          message: `entry seq ${c + 1} (leaf ${c}) is missing: a row was deleted`,
        });
        if (storedLeaf === null) this.#nodeProblem('node-missing', 0, c, 'its stored leaf hash is missing');
        cur = storedLeaf;
      }
      let level = 1;
      for (let t = c; t % 2 === 1; t = (t - 1) / 2, level++) {
        const left = this.#stack.pop() ?? null;
        const index = (c + 1) / 2 ** level - 1;
        const storedNode = stored.get(base + level) ?? null;
        if (left === null || cur === null) {
          if (storedNode === null) this.#nodeProblem('node-missing', level, index, 'it is missing');
          cur = storedNode;
          continue;
        }
        const next = h.node(left, cur);
        if (storedNode === null) this.#nodeProblem('node-missing', level, index, 'it is missing');
        else if (storedNode !== next && this.#cascade > index * 2 ** level) {
          this.#nodeProblem(
            'node-mismatch',
            level,
            index,
            'its stored hash does not match the entries below it',
          );
          this.#cascade = Math.min(this.#cascade, index * 2 ** level);
        }
        cur = next;
      }
      this.#stack.push(cur);
      if (this.#roots[this.#nextRoot]?.treeSize === c + 1)
        this.#checkRootsAt(c + 1, this.#stack.includes(null) ? null : h.fold(this.#stack as string[]));
    }
  }

  /**
   * An entry and its stored leaf hash disagree: the stored parent (or, for a last leaf without
   * one, the head) says which side is authentic.
   */
  #vote(
    c: number,
    computed: string,
    storedLeaf: string,
    leafOf: (c: number) => string | null,
    stored: ReadonlyMap<number, string>,
  ): 'node' | 'entry' | 'unknown' {
    const h = this.#h;
    if (c % 2 === 1) {
      const left = this.#stack.at(-1) ?? null;
      const parent = stored.get(nodeCount(c) + 1);
      if (left === null || parent === undefined) return 'unknown';
      if (h.node(left, computed) === parent) return 'node';
      if (h.node(left, storedLeaf) === parent) return 'entry';
      return 'unknown';
    }
    if (c + 1 < this.#size) {
      const right = leafOf(c + 1) ?? stored.get(nodeCount(c + 1)) ?? null;
      const parent = stored.get(nodeCount(c + 1) + 1);
      if (right === null || parent === undefined) return 'unknown';
      if (h.node(computed, right) === parent) return 'node';
      if (h.node(storedLeaf, right) === parent) return 'entry';
      return 'unknown';
    }
    // The last leaf of an odd-sized log is the head's last frontier entry.
    if (this.#head.size !== this.#size || this.#head.frontier.length < 32) return 'unknown';
    const last = this.#head.frontier.subarray(-32).toString('latin1');
    if (last === computed) return 'node';
    if (last === storedLeaf) return 'entry';
    return 'unknown';
  }

  #nodeProblem(kind: 'node-mismatch' | 'node-missing', level: number, index: number, what: string): void {
    this.#problem({
      kind,
      level,
      index,
      leafIndex: index * 2 ** level,
      message: `stored tree node (level ${level}, index ${index}), over leaves from ${index * 2 ** level}: ${what}`,
    });
  }

  #problem(problem: VerifyProblem): void {
    this.#problemCount++;
    if (this.#problems.length < MAX_PROBLEMS) this.#problems.push(problem);
  }
}
