import type { AuditEntry } from '../../src/domain/audit/entry.js';

/**
 * A PI-free audit entry for log tests: entry `i` of a run starting at `start`, one second apart, a
 * read by one CLI operator of a pseudonymous subject.
 */
export function readEntry(i: number, start: Date = new Date(1_767_225_600_000)): AuditEntry {
  return {
    v: 1,
    at: new Date(start.getTime() + i * 1000).toISOString(),
    action: 'read',
    actor: { id: 'tok-cli', role: 'operator' },
    subject: (i * 31).toString(16).padStart(32, '0'),
    purpose: 'order-fulfilment',
  };
}
