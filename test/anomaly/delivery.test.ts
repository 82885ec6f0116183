import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import type { IncidentRecord } from '../../src/store/incidents.js';
import { testApp, type TestApp } from '../support/app.js';
import { operator, tester } from '../support/roles.js';

/** Scans on demand only; `notify` lines are added under `notify:` when given. */
const edit =
  (notify: string[] = []) =>
  (y: string): string =>
    y.replace(
      'log:\n  level: info\n',
      [
        'log:',
        '  level: info',
        'audit:',
        '  anomaly:',
        '    pollSeconds: 3600',
        ...(notify.length === 0 ? [] : ['notify:', ...notify]),
        '',
      ].join('\n'),
    );

async function collectOne(t: TestApp, seed: string): Promise<string> {
  const [c] = generateCustomers(seed, 1);
  const r = await t.runtime.vault.collect(tester, {
    collection: 'address',
    identities: { oaid: c!.oaid },
    fields: { recipientName: c!.name, phone: c!.mobile, district: c!.address.district },
    purpose: 'order-fulfilment',
  });
  return r.subjectId;
}

async function breakGlass(t: TestApp, subjectId: string): Promise<void> {
  await t.runtime.oversight.requestBreakGlass(operator, {
    subjectId,
    purpose: 'order-fulfilment',
    justification: 'courier cannot reach buyer',
    ticket: 'CS-9',
  });
}

describe('anomaly detector: a unit of work that fails', () => {
  let t: TestApp;
  // Monday 2026-06-01 11:00 in Shanghai: working hours.
  const clock = new Date('2026-06-01T03:00:00.000Z');

  beforeAll(async () => {
    t = await testApp({ now: () => clock, edit: edit() });
  });
  afterAll(() => t.close());

  it('keeps the hits of a failed unit of work and records them in the next scan, once', async () => {
    const subjectId = await collectOne(t, 'pending-hits');
    await t.runtime.anomalies.scan();
    await breakGlass(t, subjectId);
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const spy = vi.spyOn(t.store, 'transaction').mockRejectedValueOnce(busy);
    try {
      await expect(t.runtime.anomalies.scan()).rejects.toThrow('database is locked');
    } finally {
      spy.mockRestore();
    }
    expect(await t.runtime.incidents.list()).toEqual([]);

    const scan = await t.runtime.anomalies.scan();
    expect(scan.opened.map((i) => [i.rule, i.actor])).toEqual([['break-glass', operator.id]]);
    expect(scan.opened[0]!.evidence.subjectRefs).toEqual([t.runtime.pseudonymize(subjectId)]);
    expect((await t.runtime.anomalies.scan()).opened).toEqual([]);
    const incidents = await t.runtime.incidents.list();
    expect(incidents.map((i) => [i.rule, i.alerted])).toEqual([['break-glass', true]]);
    expect(t.logs.filter((l) => l.includes('anomaly.break-glass'))).toHaveLength(1);
  });
});

describe('anomaly detector: alerts that do not get through', () => {
  let t: TestApp;
  const clock = new Date('2026-06-01T03:00:00.000Z');
  const hooks: Record<string, unknown>[] = [];
  const webhook = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  let port = 0;
  const anomalyHooks = () => hooks.filter((h) => String(h['kind']).startsWith('anomaly.'));

  beforeAll(async () => {
    // A port nothing listens on (yet): the webhook fails until the server starts on it.
    webhook.listen(0, '127.0.0.1');
    await once(webhook, 'listening');
    port = (webhook.address() as AddressInfo).port;
    webhook.close();
    await once(webhook, 'close');
    t = await testApp({
      now: () => clock,
      edit: edit([
        '  webhook:',
        `    url: http://127.0.0.1:${port}/alerts`,
        '    secret: hook-secret',
        '    timeoutMs: 2000',
      ]),
    });
  });
  afterAll(async () => {
    await t.close();
    if (webhook.listening) webhook.close();
  });

  it('leaves an incident unalerted while the webhook fails, and delivers and marks it once the webhook works', async () => {
    const subjectId = await collectOne(t, 'alert-retry');
    await t.runtime.anomalies.scan();
    await breakGlass(t, subjectId);

    const first = await t.runtime.anomalies.scan();
    expect(first.opened.map((i) => i.rule)).toEqual(['break-glass']);
    const id = first.opened[0]!.id;
    expect(await t.runtime.incidents.get(id)).toMatchObject({ alerted: false });
    expect(t.logs.some((l) => l.includes('alert delivery failed') && l.includes('webhook'))).toBe(true);
    expect(t.logs.join('\n')).not.toContain('hook-secret');

    // Still down: tried again, still not alerted, no second incident.
    expect((await t.runtime.anomalies.scan()).opened).toEqual([]);
    expect(await t.runtime.incidents.get(id)).toMatchObject({ alerted: false });
    expect(await t.runtime.incidents.list()).toHaveLength(1);

    webhook.listen(port, '127.0.0.1');
    await once(webhook, 'listening');
    expect((await t.runtime.anomalies.scan()).opened).toEqual([]);
    expect(await t.runtime.incidents.get(id)).toMatchObject({ alerted: true });
    expect(anomalyHooks()).toHaveLength(1);
    expect(anomalyHooks()[0]).toMatchObject({
      source: 'custodian',
      kind: 'anomaly.break-glass',
      details: { incident: id, rule: 'break-glass', actor: operator.id },
    });

    // Delivered: never again.
    await t.runtime.anomalies.scan();
    expect(anomalyHooks()).toHaveLength(1);
  });

  it('alerts an incident recorded by a process that stopped before alerting, oldest first', async () => {
    const base: Omit<IncidentRecord, 'id' | 'detectedAt' | 'updatedAt'> = {
      status: 'pending',
      rule: 'bulk-read',
      severity: 'critical',
      actor: 'tok-crashed',
      role: 'operator',
      evidence: {
        window: { start: '2026-06-01T02:50:00.000Z', end: '2026-06-01T02:59:00.000Z' },
        windowMinutes: 10,
        count: 201,
        firstSeq: 1,
        lastSeq: 2,
        subjectRefs: [],
        hits: 1,
      },
      alerted: false,
    };
    const older = {
      ...base,
      id: randomUUID(),
      detectedAt: '2026-06-01T02:59:00.000Z',
      updatedAt: '2026-06-01T02:59:00.000Z',
    };
    const newer = {
      ...base,
      id: randomUUID(),
      detectedAt: '2026-06-01T02:59:30.000Z',
      updatedAt: '2026-06-01T02:59:30.000Z',
    };
    await t.store.incidents.insert(newer);
    await t.store.incidents.insert(older);
    const seen = anomalyHooks().length;

    expect((await t.runtime.anomalies.scan()).opened).toEqual([]);
    expect(await t.runtime.incidents.get(older.id)).toMatchObject({ alerted: true });
    expect(await t.runtime.incidents.get(newer.id)).toMatchObject({ alerted: true });
    expect(
      anomalyHooks()
        .slice(seen)
        .map((h) => (h['details'] as { incident: string }).incident),
    ).toEqual([older.id, newer.id]);
  });
});
