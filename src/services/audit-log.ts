import { foldRight, leafHash, verifyConsistency } from '../crypto/merkle.js';
import { verifyNoteSignature, type NoteKey, type NoteSigner } from '../crypto/signed-note.js';
import { checkpointBody, formatSignedNote } from '../domain/audit/checkpoint.js';
import type { AuditEntry } from '../domain/audit/entry.js';
import {
  addPeriod,
  DEFAULT_RETENTION,
  keepUntil,
  keptNodeIds,
  type RetentionPolicy,
} from '../domain/audit/retention.js';
import {
  consistencyRanges,
  inclusionRanges,
  nodeCount,
  nodeId,
  perfectPieces,
  popcount,
  type LeafRange,
  type TreeNode,
} from '../domain/audit/tree.js';
import { CustodianError } from '../domain/errors.js';
import type { AuditCheckpointRecord, AuditRepository, Store } from '../store/store.js';
import { appendAudit, splitFrontier } from './audit.js';
import { verifyAuditLog, type VerifyOptions, type VerifyReport } from './audit-log-verify.js';

/** A signed checkpoint with its signed-note text (what `custodian log checkpoint --export` writes). */
export interface CheckpointView {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly time: string;
  readonly keyId: number;
  readonly signature: Buffer;
  /** The C2SP signed note: checkpoint body, blank line, signature line. */
  readonly note: string;
}

export interface LogEntryView {
  readonly leafIndex: number;
  /** SHA-256(0x00 ‖ canonical). */
  readonly leafHash: Buffer;
  /** Exactly the bytes the leaf hash covers. */
  readonly canonical: Buffer;
}

export interface InclusionProof {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: Buffer;
  readonly rootHash: Buffer;
  /** RFC 9162 PATH(leafIndex, D[treeSize]), leaf's sibling first. */
  readonly auditPath: Buffer[];
}

export interface ConsistencyProof {
  readonly first: number;
  readonly second: number;
  readonly firstRootHash: Buffer;
  readonly secondRootHash: Buffer;
  /** RFC 9162 PROOF(first, D[second]). */
  readonly proof: Buffer[];
}

export interface CheckpointPolicy {
  readonly everyEntries: number;
  readonly everySeconds: number;
}

export interface AuditLogOptions {
  readonly store: Store;
  /** Signs checkpoints; without it the log is read-only (proofs, entries, stored checkpoints). */
  readonly signer?: NoteSigner | undefined;
  readonly policy?: CheckpointPolicy;
  /** How long entries are kept before pruning may remove them (default: the legal minimum). */
  readonly retention?: RetentionPolicy;
  readonly now?: () => Date;
}

/** What `custodian log prune` did, or would do with `--dry-run`. */
export interface PruneReport {
  readonly dryRun: boolean;
  /** Where the kept log started before: leaves `[0, from)` were pruned earlier. */
  readonly from: number;
  /** Where it starts now (or would): a signed checkpoint's tree size; `from` when nothing is due. */
  readonly prunedSize: number;
  /** Whole sealed segments removed (or due). */
  readonly segments: number;
  readonly entries: number;
  /** Tree nodes below the boundary kept for proofs and checkpoint consistency. */
  readonly keptNodes: number;
  /** The first segment that must stay, and the earliest time it may go; absent when none is sealed. */
  readonly next?: { readonly start: number; readonly end: number; readonly keepUntil: string };
  /** The leaf index of the entry that records this prune (not on a dry run or when nothing was due). */
  readonly leafIndex?: number;
}

/** The principal the audit trail names for `custodian log prune`. */
export const PRUNE_ACTOR = { id: 'cli:log', role: 'security-admin' } as const;

const PRUNE_PAGE = 2000;

/** The most entries one page of {@link AuditLog.entries} returns, and the page size when no end is given. */
export const MAX_ENTRY_PAGE = 1000;
export const DEFAULT_ENTRY_PAGE = 100;

/** Rebuilds a stored checkpoint's signed note. */
export function checkpointNote(record: AuditCheckpointRecord): string {
  const body = checkpointBody({
    origin: record.origin,
    treeSize: record.treeSize,
    rootHash: record.rootHash,
    time: record.signedAt,
  });
  return formatSignedNote(body, [{ name: record.origin, keyId: record.keyId, signature: record.signature }]);
}

function view(record: AuditCheckpointRecord): CheckpointView {
  return {
    origin: record.origin,
    treeSize: record.treeSize,
    rootHash: record.rootHash,
    time: record.signedAt,
    keyId: record.keyId,
    signature: record.signature,
    note: checkpointNote(record),
  };
}

/** True when a stored checkpoint carries a valid signature by `key`. */
export function checkpointSignedBy(key: NoteKey, record: AuditCheckpointRecord): boolean {
  const body = checkpointBody({
    origin: record.origin,
    treeSize: record.treeSize,
    rootHash: record.rootHash,
    time: record.signedAt,
  });
  return verifyNoteSignature(key, body, {
    name: record.origin,
    keyId: record.keyId,
    signature: record.signature,
  });
}

function rangeError(message: string): CustodianError {
  return new CustodianError('ERR_AUDIT_RANGE_INVALID', message);
}

/**
 * The tamper-evident audit log as a service: signed checkpoints (on demand and by a background
 * checkpointer), pages of entries, and RFC 9162 inclusion and consistency proofs built from the
 * stored perfect subtrees with O(log n) lookups. Entries are appended by `appendAudit`, inside
 * each operation's own unit of work.
 */
export class AuditLog {
  readonly #store: Store;
  readonly #signer: NoteSigner | undefined;
  readonly #policy: CheckpointPolicy;
  readonly #retention: RetentionPolicy;
  readonly #now: () => Date;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  /** The last failure of the background checkpointer, if its latest attempt failed. */
  lastError: unknown;

  constructor(options: AuditLogOptions) {
    this.#store = options.store;
    this.#signer = options.signer;
    this.#policy = options.policy ?? { everyEntries: 1000, everySeconds: 300 };
    this.#retention = options.retention ?? DEFAULT_RETENTION;
    this.#now = options.now ?? (() => new Date());
  }

  /** The checkpoint verification key, when this log can sign. */
  get key(): NoteKey | undefined {
    return this.#signer;
  }

  async latestCheckpoint(): Promise<CheckpointView | undefined> {
    const latest = await this.#store.audit.latestCheckpoint();
    return latest && view(latest);
  }

  /**
   * Signs a checkpoint of the log as it is now, unless the latest one covers it already. Before
   * signing it proves, from the stored tree, that the log is consistent with the previous
   * checkpoint this key signed: a log never signs a history that contradicts its own past.
   */
  async checkpoint(): Promise<{ checkpoint: CheckpointView; created: boolean }> {
    const signer = this.#signer;
    if (signer === undefined)
      throw new CustodianError('ERR_KEY_UNAVAILABLE', 'no audit signing key is loaded');
    return this.#store.transaction(async (tx) => {
      const head = await tx.audit.lockHead();
      if (head.frontier.length !== 32 * popcount(head.size))
        throw new CustodianError(
          'ERR_CHECK_FAILED',
          'the audit log head is damaged; run custodian log verify',
        );
      const latest = await tx.audit.latestCheckpoint();
      if (latest !== undefined && latest.treeSize === head.size)
        return { checkpoint: view(latest), created: false };
      if (latest !== undefined && latest.treeSize > head.size) {
        throw new CustodianError(
          'ERR_CHECK_FAILED',
          `a checkpoint covers ${latest.treeSize} entries but the log has ${head.size}: entries were removed`,
        );
      }
      const root = foldRight(splitFrontier(head));
      if (latest !== undefined && latest.keyId === signer.keyId && latest.origin === signer.name) {
        if (!checkpointSignedBy(signer, latest))
          throw new CustodianError(
            'ERR_CHECK_FAILED',
            `the checkpoint at size ${latest.treeSize} does not verify; run custodian log verify`,
          );
        const proof = await consistencyHashes(tx.audit, latest.treeSize, head.size);
        if (!verifyConsistency(latest.treeSize, head.size, latest.rootHash, root, proof))
          throw new CustodianError(
            'ERR_CHECK_FAILED',
            `the log is not consistent with its checkpoint at size ${latest.treeSize}; run custodian log verify`,
          );
      }
      const time = this.#now().toISOString();
      const body = checkpointBody({ origin: signer.name, treeSize: head.size, rootHash: root, time });
      const signature = signer.sign(body);
      const record: AuditCheckpointRecord = {
        treeSize: head.size,
        rootHash: root,
        origin: signer.name,
        signedAt: time,
        keyId: signer.keyId,
        signature: Buffer.from(signature.signature),
      };
      await tx.audit.insertCheckpoint(record);
      return { checkpoint: view(record), created: true };
    });
  }

  /** Signs a checkpoint when `everyEntries` entries or `everySeconds` seconds have passed since the last one. */
  async checkpointIfDue(): Promise<boolean> {
    if (this.#signer === undefined) return false;
    const head = await this.#store.audit.head();
    const latest = await this.#store.audit.latestCheckpoint();
    const last = latest?.treeSize ?? 0;
    if (head.size <= last) return false;
    const age = latest === undefined ? Infinity : this.#now().getTime() - Date.parse(latest.signedAt);
    if (head.size - last < this.#policy.everyEntries && age < this.#policy.everySeconds * 1000) return false;
    return (await this.checkpoint()).created;
  }

  /**
   * Starts the background checkpointer: at most every second it checks whether a checkpoint is
   * due. The timer never keeps the process alive; failures are kept in {@link lastError} and
   * retried on the next tick.
   */
  start(): void {
    if (this.#signer === undefined || this.#timer !== undefined) return;
    const every = Math.min(1000, this.#policy.everySeconds * 1000);
    this.#timer = setInterval(() => {
      if (this.#tick !== undefined) return;
      this.#tick = this.checkpointIfDue().then(
        () => {
          this.lastError = undefined;
          this.#tick = undefined;
        },
        (error: unknown) => {
          this.lastError = error;
          this.#tick = undefined;
        },
      );
    }, every);
    this.#timer.unref();
  }

  /** Stops the checkpointer, waiting for a tick in flight, then signs a last checkpoint if one is due. */
  async stop(): Promise<void> {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#tick;
    await this.checkpointIfDue().catch((error: unknown) => (this.lastError = error));
  }

  /**
   * Entries `[start, end)` by leaf index with their leaf hashes: at most {@link MAX_ENTRY_PAGE};
   * without `end`, up to {@link DEFAULT_ENTRY_PAGE} entries or the end of the log.
   */
  async entries(
    start: number,
    end?: number,
  ): Promise<{ treeSize: number; start: number; end: number; entries: LogEntryView[] }> {
    const { size } = await this.#store.audit.head();
    if (start > size) throw rangeError(`the log has ${size} entries`);
    const stop = end ?? Math.min(start + DEFAULT_ENTRY_PAGE, size);
    if (!(start >= 0 && stop >= start && stop - start <= MAX_ENTRY_PAGE))
      throw rangeError(`give 0 <= start <= end with at most ${MAX_ENTRY_PAGE} entries`);
    if (stop > size) throw rangeError(`the log has ${size} entries`);
    if (stop > start) await this.#refusePruned(start);
    const rows = stop === start ? [] : await this.#store.audit.range(start + 1, stop + 1);
    return {
      treeSize: size,
      start,
      end: stop,
      entries: rows.map((r) => ({
        leafIndex: r.seq - 1,
        leafHash: leafHash(r.canonical),
        canonical: r.canonical,
      })),
    };
  }

  /** RFC 9162 inclusion proof of leaf `leafIndex` in the tree of the first `treeSize` entries. */
  async inclusionProof(leafIndex: number, treeSize: number): Promise<InclusionProof> {
    const { size } = await this.#store.audit.head();
    if (!(leafIndex >= 0 && leafIndex < treeSize)) throw rangeError('give 0 <= leafIndex < treeSize');
    if (treeSize > size) throw rangeError(`the log has ${size} entries`);
    const pruned = await this.#refusePruned(leafIndex);
    const ranges = inclusionRanges(leafIndex, treeSize);
    const leaf: TreeNode = { level: 0, index: leafIndex };
    const hashes = await subtreeHashes(this.#store.audit, [...ranges, [0, treeSize]], [leaf], pruned);
    return {
      leafIndex,
      treeSize,
      leafHash: hashes.node(leaf),
      rootHash: hashes.range([0, treeSize]),
      auditPath: ranges.map((r) => hashes.range(r)),
    };
  }

  /** RFC 9162 consistency proof between the trees of the first `first` and `second` entries. */
  async consistencyProof(first: number, second: number): Promise<ConsistencyProof> {
    const { size } = await this.#store.audit.head();
    if (!(first >= 1 && first <= second)) throw rangeError('give 1 <= first <= second');
    if (second > size) throw rangeError(`the log has ${size} entries`);
    const ranges = consistencyRanges(first, second);
    const { prunedSize } = await this.#store.audit.retention();
    const hashes = await subtreeHashes(
      this.#store.audit,
      [...ranges, [0, first], [0, second]],
      [],
      prunedSize,
    );
    return {
      first,
      second,
      firstRootHash: hashes.range([0, first]),
      secondRootHash: hashes.range([0, second]),
      proof: ranges.map((r) => hashes.range(r)),
    };
  }

  /** Recomputes the whole tree from the stored entries and checks everything stored against it. */
  verify(options: Omit<VerifyOptions, 'key'> = {}): Promise<VerifyReport> {
    return verifyAuditLog(this.#store, {
      now: this.#now,
      ...options,
      ...(this.#signer ? { key: this.#signer } : {}),
    });
  }

  /** Throws `ERR_AUDIT_PRUNED` when leaf `leafIndex` lies in the pruned prefix; returns its size. */
  async #refusePruned(leafIndex: number): Promise<number> {
    const { prunedSize } = await this.#store.audit.retention();
    if (leafIndex < prunedSize) throw prunedError(prunedSize);
    return prunedSize;
  }

  /**
   * Retention (docs/audit-log.md, "Retention"): removes the oldest whole sealed segments — runs
   * of entries closed by a signed checkpoint — once every entry in them is past its retention
   * period (R17: six months; R13, R19: three years for provision and assessment records; longer
   * when configured) and the closing checkpoint is as old as the entry period. Pruning stops at
   * the first segment that must stay. Every checkpoint stays, and so do the tree nodes that
   * proofs for kept entries and consistency between kept checkpoints need. The log must verify
   * first (pruning a tampered log would destroy the evidence), and the prune is itself audited.
   */
  async prune(options: { readonly dryRun?: boolean } = {}): Promise<PruneReport> {
    const signer = this.#signer;
    if (signer === undefined)
      throw new CustodianError('ERR_KEY_UNAVAILABLE', 'no audit signing key is loaded');
    const report = await this.verify();
    if (!report.ok) {
      const first = report.problems[0];
      throw new CustodianError(
        'ERR_CHECK_FAILED',
        `the audit log does not verify, so nothing is pruned${first ? `: ${first.message}` : ''}`,
        { details: { problems: report.problems.length + report.moreProblems } },
      );
    }
    const now = this.#now();
    const repo = this.#store.audit;
    const { prunedSize: from } = await repo.retention();
    const checkpoints: AuditCheckpointRecord[] = [];
    for (let after = -1; ;) {
      const page = await repo.checkpoints(after, 1000);
      if (page.length === 0) break;
      checkpoints.push(...page);
      after = page.at(-1)!.treeSize;
    }
    let boundary = from;
    let segments = 0;
    let next: PruneReport['next'];
    for (const cp of checkpoints) {
      if (cp.treeSize <= boundary) continue;
      // The segment (boundary, cp.treeSize]: its checkpoint, then every entry, must be due.
      let until = addPeriod(new Date(cp.signedAt), this.#retention.entries);
      for (let s = boundary + 1; s <= cp.treeSize && until <= now; s += PRUNE_PAGE) {
        for (const row of await repo.range(s, Math.min(cp.treeSize + 1, s + PRUNE_PAGE))) {
          const due = keepUntil(new Date(row.at), row.action, this.#retention);
          if (!(due <= until)) until = due;
        }
      }
      if (!(until <= now) || Number.isNaN(until.getTime())) {
        next = {
          start: boundary,
          end: cp.treeSize,
          keepUntil: Number.isNaN(until.getTime()) ? 'unknown' : until.toISOString(),
        };
        break;
      }
      boundary = cp.treeSize;
      segments++;
    }
    const sizes = checkpoints.map((c) => c.treeSize);
    const keep = keptNodeIds(boundary, sizes);
    const plan = {
      dryRun: options.dryRun ?? false,
      from,
      prunedSize: boundary,
      segments,
      entries: boundary - from,
      keptNodes: keep.length,
      ...(next === undefined ? {} : { next }),
    };
    if (plan.dryRun || boundary === from) return plan;

    const at = now.toISOString();
    const entry: AuditEntry = {
      v: 1,
      at,
      action: 'audit.prune',
      actor: { ...PRUNE_ACTOR },
      subject: null,
      detail: { from, prunedSize: boundary, segments, entries: boundary - from, keptNodes: keep.length },
    };
    const leafIndex = await this.#store.transaction(async (tx) => {
      const head = await tx.audit.lockHead();
      const state = await tx.audit.retention();
      if (state.prunedSize !== from)
        throw new CustodianError(
          'ERR_STORE_CONFLICT',
          'the audit log was pruned meanwhile; run the prune again',
        );
      const seq = head.size + 1;
      await tx.audit.prune({ prunedSize: boundary, prunedAt: at, pruneSeq: seq }, nodeCount(boundary), keep);
      const [row] = await appendAudit(tx, [entry]);
      if (row?.seq !== seq) throw new Error('internal error: the prune entry moved');
      return row.leafIndex;
    });
    return { ...plan, leafIndex };
  }
}

function prunedError(prunedSize: number): CustodianError {
  return new CustodianError(
    'ERR_AUDIT_PRUNED',
    `the log's leaves before ${prunedSize} were pruned after their retention period`,
    { details: { prunedSize } },
  );
}

/** Fetches the perfect subtrees of the given ranges (and single nodes) in one query and hashes ranges from them. */
async function subtreeHashes(
  repo: AuditRepository,
  ranges: readonly LeafRange[],
  extra: readonly TreeNode[],
  prunedSize = 0,
): Promise<{ range(r: LeafRange): Buffer; node(n: TreeNode): Buffer }> {
  const wanted = [...ranges.flatMap(([a, b]) => perfectPieces(a, b)), ...extra];
  const stored = await repo.nodes(wanted.map((n) => nodeId(n.level, n.index)));
  const node = (n: TreeNode): Buffer => {
    const hash = stored.get(nodeId(n.level, n.index));
    // Below the pruned boundary only the nodes kept for kept checkpoints remain.
    if (hash === undefined && (n.index + 1) * 2 ** n.level <= prunedSize) throw prunedError(prunedSize);
    if (hash === undefined)
      throw new CustodianError(
        'ERR_CHECK_FAILED',
        `the stored audit tree lacks node (level ${n.level}, index ${n.index}); run custodian log verify`,
      );
    return hash;
  };
  return { node, range: ([a, b]) => foldRight(perfectPieces(a, b).map(node)) };
}

async function consistencyHashes(repo: AuditRepository, first: number, second: number): Promise<Buffer[]> {
  if (first === second) return [];
  const ranges = consistencyRanges(first, second);
  const hashes = await subtreeHashes(repo, ranges, []);
  return ranges.map((r) => hashes.range(r));
}
