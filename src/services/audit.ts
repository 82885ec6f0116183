import { createHmac, type KeyObject } from 'node:crypto';
import { leafHash, nodeHash } from '../crypto/merkle.js';
import { canonicalEntry, type AuditEntry } from '../domain/audit/entry.js';
import { nodeCount, popcount } from '../domain/audit/tree.js';
import { CustodianError, isCustodianError } from '../domain/errors.js';
import type { AuditHead, AuditNode, AuditRow, Repositories } from '../store/store.js';

/** An appended entry: its row, its leaf index (`seq - 1`) and its RFC 9162 leaf hash. */
export interface AppendedEntry extends AuditRow {
  readonly leafIndex: number;
  /** SHA-256(0x00 ‖ canonical): the entry's leaf in the Merkle log. */
  readonly hash: Buffer;
}

/**
 * Appends entries to the Merkle audit log inside the caller's unit of work: takes the head
 * (which serialises appenders), stores each entry, every perfect subtree its arrival completes
 * (the leaf and its newly whole ancestors) and the new head. If anything here fails, the
 * caller's transaction fails with it — no audit entry, no operation (fail closed).
 */
export async function appendAudit(
  tx: Repositories,
  entries: readonly AuditEntry[],
): Promise<AppendedEntry[]> {
  if (entries.length === 0) return [];
  try {
    // The head this process saw last is usually still current: confirm it and move it in one
    // statement; otherwise lock and read it, and compute again.
    // A hint that is not even well-formed is no guess at all: lock and read the head instead.
    const guess = tx.audit.headHint();
    const hint = guess?.frontier.length === 32 * popcount(guess?.size ?? 0) ? guess : undefined;
    let extension = hint === undefined ? undefined : extend(hint, entries);
    if (hint === undefined || extension === undefined || !(await tx.audit.swapHead(hint, extension.head))) {
      extension = extend(await tx.audit.lockHead(), entries);
      await tx.audit.setHead(extension.head);
    }
    const { rows, nodes } = extension;
    await tx.audit.insertMany(rows);
    await tx.audit.insertNodes(nodes);
    return rows;
  } catch (cause) {
    if (isCustodianError(cause)) throw cause;
    throw new CustodianError('ERR_AUDIT_WRITE_FAILED', 'the audit entry could not be written', { cause });
  }
}

interface Extension {
  readonly head: AuditHead;
  readonly rows: AppendedEntry[];
  readonly nodes: AuditNode[];
}

/**
 * The log after `entries`: their rows, every perfect subtree their arrival completes (each leaf
 * and its newly whole ancestors, in post-order) and the new head. Depends on nothing but `head`.
 */
function extend(head: AuditHead, entries: readonly AuditEntry[]): Extension {
  if (head.frontier.length !== 32 * popcount(head.size))
    throw new CustodianError(
      'ERR_AUDIT_WRITE_FAILED',
      'the audit log head is damaged; run custodian log verify',
    );
  const frontier = splitFrontier(head);
  let size = head.size;
  let nextId = nodeCount(size);
  const nodes: AuditNode[] = [];
  const rows = entries.map((entry): AppendedEntry => {
    const canonical = Buffer.from(canonicalEntry(entry), 'utf8');
    const leaf = leafHash(canonical);
    nodes.push({ id: nextId++, hash: leaf });
    // Each trailing 1-bit of the leaf index completes one more perfect subtree.
    let h = leaf;
    for (let c = size; c % 2 === 1; c = (c - 1) / 2) {
      h = nodeHash(frontier.pop()!, h);
      nodes.push({ id: nextId++, hash: h });
    }
    frontier.push(h);
    size += 1;
    return {
      seq: size,
      leafIndex: size - 1,
      at: entry.at,
      action: entry.action,
      actor: entry.actor.id,
      subjectRef: entry.subject,
      canonical,
      hash: leaf,
    };
  });
  return { head: { size, frontier: Buffer.concat(frontier) }, rows, nodes };
}

/** The head's frontier as separate 32-byte hashes, largest subtree first. */
export function splitFrontier(head: AuditHead): Buffer[] {
  const hashes: Buffer[] = [];
  for (let i = 0; i < head.frontier.length; i += 32) hashes.push(head.frontier.subarray(i, i + 32));
  return hashes;
}

/**
 * Keyed pseudonyms for subjects in the audit log: HMAC-SHA-256 under a key derived from the
 * index root, truncated to 128 bits, hex. The log can be shared with an auditor without handing
 * over who the customers are, and erasing a customer never touches it.
 */
export function createPseudonymizer(key: KeyObject): (subjectId: string) => string {
  return (subjectId) =>
    createHmac('sha256', key).update(subjectId, 'utf8').digest().subarray(0, 16).toString('hex');
}
