import { createHash, createHmac, type KeyObject } from 'node:crypto';
import { canonicalEntry, type AuditEntry } from '../domain/audit/entry.js';
import { CustodianError, isCustodianError } from '../domain/errors.js';
import type { AuditRow, Repositories } from '../store/store.js';

/**
 * Appends entries to the hash-chained audit trail inside the caller's unit of work:
 * hash_n = SHA-256(hash_{n-1} ‖ canonical_n). If anything here fails the caller's transaction
 * fails with it — no audit entry, no operation (fail closed).
 */
export async function appendAudit(tx: Repositories, entries: readonly AuditEntry[]): Promise<AuditRow[]> {
  if (entries.length === 0) return [];
  try {
    const head = await tx.audit.lockHead();
    let prev = head.hash;
    let seq = head.seq;
    const rows: AuditRow[] = entries.map((entry) => {
      const canonical = Buffer.from(canonicalEntry(entry), 'utf8');
      const hash = chainHash(prev, canonical);
      seq += 1;
      const row: AuditRow = {
        seq,
        at: entry.at,
        action: entry.action,
        actor: entry.actor.id,
        subjectRef: entry.subject,
        canonical,
        prevHash: prev,
        hash,
      };
      prev = hash;
      return row;
    });
    await tx.audit.insertMany(rows);
    await tx.audit.setHead(seq, prev);
    return rows;
  } catch (cause) {
    if (isCustodianError(cause)) throw cause;
    throw new CustodianError('ERR_AUDIT_WRITE_FAILED', 'the audit entry could not be written', { cause });
  }
}

export function chainHash(prev: Buffer, canonical: Buffer): Buffer {
  return createHash('sha256').update(prev).update(canonical).digest();
}

/** Result of checking the chain: the first entry that does not follow from its predecessor. */
export interface ChainCheck {
  readonly entries: number;
  readonly firstBad: number | null;
}

/** Recomputes the chain from the first entry; used by tests and `custodian log verify` until the Merkle log lands. */
export function verifyChain(rows: readonly AuditRow[], start: Buffer = Buffer.alloc(32)): ChainCheck {
  let prev = start;
  for (const [i, row] of rows.entries()) {
    const expectedSeq = (rows[0]?.seq ?? 1) + i;
    if (
      row.seq !== expectedSeq ||
      !row.prevHash.equals(prev) ||
      !chainHash(prev, row.canonical).equals(row.hash)
    ) {
      return { entries: rows.length, firstBad: row.seq };
    }
    prev = row.hash;
  }
  return { entries: rows.length, firstBad: null };
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
