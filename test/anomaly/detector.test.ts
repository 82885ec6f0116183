import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { openRuntime } from '../../src/services/runtime.js';
import type { Principal } from '../../src/services/tokens.js';
import { testApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { tester, TEST_ROLES } from '../support/roles.js';
import { ByteScanner } from '../support/scan.js';

const operator: Principal = {
  kind: 'token',
  id: 'op-1',
  name: 'Operator One',
  role: 'operator',
  trainingCurrent: true,
};

describe('anomaly detector and incidents', () => {
  let t: TestApp;
  // Monday 2026-06-01 11:00 in Shanghai: working hours.
  let clock = new Date('2026-06-01T03:00:00.000Z');
  const customers = generateCustomers('anomaly', 25);
  const ids: string[] = [];

  beforeAll(async () => {
    t = await testApp({
      now: () => clock,
      edit: (y) =>
        y.replace(
          'log:\n  level: info\n',
          [
            'log:',
            '  level: info',
            'audit:',
            '  anomaly:',
            // Scans run on demand here, never in the background.
            '    pollSeconds: 3600',
            '    bulkRead:',
            '      maxSubjects: 20',
            '',
          ].join('\n'),
        ),
    });
    for (const c of customers) {
      const r = await t.runtime.vault.collect(tester, {
        collection: 'address',
        identities: { oaid: c.oaid },
        fields: { recipientName: c.name, phone: c.mobile, district: c.address.district },
        purpose: 'order-fulfilment',
      });
      ids.push(r.subjectId);
    }
    // Collecting is no read: nothing to report.
    expect((await t.runtime.anomalies.scan()).opened).toEqual([]);
  });
  afterAll(() => t.close());

  it('opens one pending incident for a bulk read by one key, with its evidence, and alerts once', async () => {
    const before = (await t.store.audit.head()).size;
    for (const id of ids) await t.runtime.vault.read(tester, id, 'order-fulfilment');
    const scan = await t.runtime.anomalies.scan();
    expect(scan.entries).toBe(25);
    expect(scan.opened).toHaveLength(1);
    const incidents = await t.runtime.incidents.list();
    expect(incidents).toHaveLength(1);
    const [incident] = incidents;
    expect(incident).toMatchObject({
      status: 'pending',
      rule: 'bulk-read',
      severity: 'critical',
      actor: tester.id,
      role: 'tester',
      alerted: true,
    });
    expect(incident!.evidence.count).toBe(25);
    expect(incident!.evidence.firstSeq).toBe(before + 1);
    expect(incident!.evidence.lastSeq).toBe(before + 25);
    expect(incident!.evidence.subjectRefs).toContain(t.runtime.pseudonymize(ids[0]!));
    const alerts = t.logs.filter((l) => l.includes('anomaly.bulk-read'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toContain(incident!.id);

    // More reads within the window update the open incident instead of opening another.
    await t.runtime.vault.read(tester, ids[0]!, 'order-fulfilment');
    expect((await t.runtime.anomalies.scan()).opened).toEqual([]);
    const again = await t.runtime.incidents.list();
    expect(again).toHaveLength(1);
    expect(again[0]!.evidence.lastSeq).toBe(before + 26);
    expect(t.logs.filter((l) => l.includes('anomaly.bulk-read'))).toHaveLength(1);
  });

  it('does not re-alert after a restart', async () => {
    const second = await openRuntime(t.config, { roles: TEST_ROLES, store: t.store, now: () => clock });
    try {
      const scan = await second.anomalies.scan();
      expect(scan.entries).toBe(0);
      expect(scan.opened).toEqual([]);
    } finally {
      await second.close();
    }
    expect(await t.runtime.incidents.list()).toHaveLength(1);
  });

  it('opens an off-hours incident once per actor and hour', async () => {
    clock = new Date('2026-06-01T15:10:00.000Z'); // 23:10 in Shanghai
    await t.runtime.vault.read(operator, ids[1]!, 'order-fulfilment');
    await t.runtime.vault.read(operator, ids[2]!, 'order-fulfilment');
    const scan = await t.runtime.anomalies.scan();
    expect(scan.opened.map((i) => [i.rule, i.actor])).toEqual([['off-hours', operator.id]]);
    expect(scan.opened[0]!.evidence.window.start).toBe(clock.toISOString());
    clock = new Date('2026-06-01T03:00:00.000Z');
  });

  it('opens an incident for every break-glass grant', async () => {
    await t.runtime.oversight.requestBreakGlass(operator, {
      subjectId: ids[3]!,
      purpose: 'order-fulfilment',
      justification: 'courier cannot reach buyer',
      ticket: 'CS-7',
    });
    const scan = await t.runtime.anomalies.scan();
    expect(scan.opened.map((i) => [i.rule, i.actor, i.severity])).toEqual([
      ['break-glass', operator.id, 'critical'],
    ]);
    expect(scan.opened[0]!.evidence.subjectRefs).toEqual([t.runtime.pseudonymize(ids[3]!)]);
    expect(t.logs.some((l) => l.includes('anomaly.break-glass'))).toBe(true);
  });

  it('opens a repeated-denied incident whose evidence says why the fields were withheld', async () => {
    // Marketing needs none of the address fields these customers gave: every field is withheld.
    const before = (await t.store.audit.head()).size;
    for (let i = 0; i < 20; i++) await t.runtime.vault.read(tester, ids[4]!, 'marketing');
    const [row] = await t.store.audit.range(before + 1, before + 2);
    const entry = JSON.parse(row!.canonical.toString('utf8')) as { decision: { withheldReasons?: string[] } };
    expect(entry.decision.withheldReasons).toEqual(['not-needed-for-purpose']);
    const scan = await t.runtime.anomalies.scan();
    const denied = scan.opened.filter((i) => i.rule === 'repeated-denied');
    expect(denied).toHaveLength(1);
    expect(denied[0]!.evidence).toMatchObject({ count: 20, reasons: { 'not-needed-for-purpose': 20 } });
    expect(
      t.logs.some((l) => l.includes('anomaly.repeated-denied') && l.includes('not-needed-for-purpose:20')),
    ).toBe(true);
  });

  it('lists incidents on the command line, and neither incidents nor alerts hold personal data', async () => {
    const config = join(t.dir, 'custodian.yaml');
    const json = await runCli(['incident', 'list', '--json', '--config', config]);
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { rule: string }[];
    expect(listed.map((i) => i.rule).sort()).toEqual([
      'break-glass',
      'bulk-read',
      'off-hours',
      'repeated-denied',
    ]);
    const text = await runCli(['incident', 'list', '--config', config]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('bulk-read');

    const scanner = new ByteScanner(
      customers.flatMap((c) => [
        { label: `name ${c.name}`, bytes: Buffer.from(c.name, 'utf8') },
        { label: `mobile ${c.mobile}`, bytes: Buffer.from(c.mobile, 'utf8') },
        { label: `oaid ${c.oaid}`, bytes: Buffer.from(c.oaid, 'utf8') },
      ]),
    );
    const alertLines = t.logs.filter((l) => l.includes('anomaly.'));
    expect(alertLines.length).toBeGreaterThanOrEqual(3);
    const haystack = Buffer.from(
      [json.stdout, text.stdout, JSON.stringify(await t.runtime.incidents.list()), ...alertLines].join('\n'),
      'utf8',
    );
    expect([...scanner.scan(haystack)]).toEqual([]);
  });
});
