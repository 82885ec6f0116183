import { describe, expect, it } from 'vitest';
import {
  AnomalyRuleSet,
  DEFAULT_ANOMALY_RULES,
  withinWorkingHours,
  type AnomalyRules,
} from '../../src/domain/audit/anomaly.js';
import type { AuditEntry } from '../../src/domain/audit/entry.js';

const rules: AnomalyRules = {
  ...DEFAULT_ANOMALY_RULES,
  bulkRead: { windowMinutes: 10, maxSubjects: 5 },
  repeatedDenied: { windowMinutes: 10, maxAttempts: 3 },
  exportSpike: { windowMinutes: 60, maxSubjects: 100 },
  maxSubjectRefs: 4,
};

/** Monday 2026-06-01 11:00 in Shanghai. */
const WORKDAY = Date.parse('2026-06-01T03:00:00.000Z');

function read(at: number, subject: string, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    v: 1,
    at: new Date(at).toISOString(),
    action: 'read',
    actor: { id: 'tok-a', role: 'operator' },
    subject,
    purpose: 'order-fulfilment',
    decision: { clear: ['address.phone'], masked: [], withheld: [] },
    ...overrides,
  };
}

describe('anomaly rules', () => {
  it('fires bulk-read once more than maxSubjects distinct subjects are read in the window', () => {
    const set = new AnomalyRuleSet(rules);
    const hits = [];
    for (let i = 0; i < 5; i++) hits.push(...set.observe(i + 1, read(WORKDAY + i * 1000, `s${i}`)));
    // The same subject again is not a new one.
    hits.push(...set.observe(6, read(WORKDAY + 6000, 's0')));
    expect(hits).toEqual([]);
    const [hit, ...rest] = set.observe(7, read(WORKDAY + 7000, 's5'));
    expect(rest).toEqual([]);
    expect(hit).toMatchObject({
      rule: 'bulk-read',
      actor: 'tok-a',
      role: 'operator',
      count: 6,
      firstSeq: 1,
      lastSeq: 7,
      windowMinutes: 10,
    });
    expect(hit!.subjectRefs).toHaveLength(4);
  });

  it('forgets reads older than the window', () => {
    const set = new AnomalyRuleSet(rules);
    for (let i = 0; i < 5; i++) set.observe(i + 1, read(WORKDAY + i * 60_000, `s${i}`));
    // Eleven minutes after the first: s0 has left the window.
    expect(set.observe(6, read(WORKDAY + 11 * 60_000, 's5'))).toEqual([]);
    // Other actors have windows of their own.
    const other = read(WORKDAY + 11 * 60_000, 's6', { actor: { id: 'tok-b', role: 'operator' } });
    expect(set.observe(7, other)).toEqual([]);
  });

  it('fires off-hours once per actor per hour, with the working days and zone configured', () => {
    const night = Date.parse('2026-06-01T15:30:00.000Z'); // 23:30 Monday in Shanghai
    expect(withinWorkingHours(new Date(WORKDAY), rules.offHours)).toBe(true);
    expect(withinWorkingHours(new Date(night), rules.offHours)).toBe(false);
    expect(withinWorkingHours(new Date('2026-06-07T03:00:00.000Z'), rules.offHours)).toBe(false); // Sunday
    const set = new AnomalyRuleSet(rules);
    expect(set.observe(1, read(WORKDAY, 's1'))).toEqual([]);
    expect(set.observe(2, read(night, 's1')).map((h) => h.rule)).toEqual(['off-hours']);
    expect(set.observe(3, read(night + 60_000, 's2'))).toEqual([]);
    expect(set.observe(4, read(night + 3_600_000, 's2')).map((h) => h.rule)).toEqual(['off-hours']);
    // Account changes are not reads.
    expect(set.observe(5, { ...read(night, 's1'), action: 'staff.sign-in', subject: null })).toEqual([]);
  });

  it('fires repeated-denied on reads that showed nothing', () => {
    const set = new AnomalyRuleSet(rules);
    const denied = (seq: number): AuditEntry =>
      read(WORKDAY + seq * 1000, `s${seq}`, {
        decision: { clear: [], masked: [], withheld: ['address.phone', 'address.recipientName'] },
      });
    expect([...set.observe(1, denied(1)), ...set.observe(2, denied(2))]).toEqual([]);
    expect(set.observe(3, denied(3))).toMatchObject([{ rule: 'repeated-denied', count: 3, firstSeq: 1 }]);
  });

  it('carries the withhold reasons of the attempts in the window as repeated-denied evidence', () => {
    const set = new AnomalyRuleSet(rules);
    const denied = (seq: number, withheldReasons?: string[]): AuditEntry =>
      read(WORKDAY + seq * 60_000, `s${seq}`, {
        decision: {
          clear: [],
          masked: [],
          withheld: ['address.phone'],
          ...(withheldReasons === undefined ? {} : { withheldReasons }),
        },
      });
    set.observe(1, denied(1, ['training-expired']));
    set.observe(2, denied(2, ['no-consent', 'training-expired']));
    const [hit] = set.observe(3, denied(3, ['no-consent']));
    expect(hit).toMatchObject({ rule: 'repeated-denied', count: 3 });
    expect(hit!.reasons).toEqual({ 'no-consent': 2, 'training-expired': 2 });
    // Eleven minutes on, the first attempt has left the window; an old entry without reasons counts as unrecorded.
    const [later] = set.observe(4, denied(11.5));
    expect(later!.reasons).toEqual({ 'no-consent': 2, 'training-expired': 1, unrecorded: 1 });
    // Other rules carry no reasons.
    expect(
      new AnomalyRuleSet(rules).observe(1, { ...read(WORKDAY, 's1'), action: 'break-glass.grant' })[0],
    ).not.toHaveProperty('reasons');
  });

  it('fires on every break-glass grant and on export spikes', () => {
    const set = new AnomalyRuleSet(rules);
    const grant: AuditEntry = {
      ...read(WORKDAY, 's1'),
      action: 'break-glass.grant',
      detail: { minutes: 30 },
    };
    expect(set.observe(1, grant)).toMatchObject([{ rule: 'break-glass', severity: 'critical', count: 1 }]);
    const exportRequest = (seq: number, subjects: number): AuditEntry => ({
      ...read(WORKDAY + seq * 1000, 's1'),
      action: 'export.request',
      subject: null,
      detail: { subjects },
    });
    expect(set.observe(2, exportRequest(2, 60))).toEqual([]);
    expect(set.observe(3, exportRequest(3, 50))).toMatchObject([
      { rule: 'export-spike', count: 110, firstSeq: 2, lastSeq: 3 },
    ]);
  });
});
