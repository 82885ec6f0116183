import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openExport } from '../../src/crypto/export-file.js';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import type { Principal } from '../../src/services/tokens.js';
import { testApp, type TestApp } from '../support/app.js';
import { operator, tester } from '../support/roles.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

const officer: Principal = {
  kind: 'token',
  id: 'dpo-1',
  name: 'Officer',
  role: 'privacy-officer',
  trainingCurrent: true,
};

describe('break-glass and export approval', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  const hooks: { body: Record<string, unknown>; auth: string | undefined }[] = [];
  const webhook = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push({ body: JSON.parse(body) as Record<string, unknown>, auth: req.headers.authorization });
      res.writeHead(204).end();
    });
  });
  let clock = new Date('2026-06-01T09:00:00.000Z');
  const ids: string[] = [];
  const customers = generateCustomers('oversight', 5);

  beforeAll(async () => {
    smtp = await startSmtpSink();
    webhook.listen(0, '127.0.0.1');
    await once(webhook, 'listening');
    const hookPort = (webhook.address() as AddressInfo).port;
    t = await testApp({
      now: () => clock,
      edit: (y) =>
        y.replace(
          'log:\n  level: info\n',
          [
            'log:',
            '  level: info',
            'notify:',
            '  webhook:',
            `    url: http://127.0.0.1:${hookPort}/alerts`,
            '    secret: hook-secret',
            '  smtp:',
            '    host: 127.0.0.1',
            `    port: ${smtp.port}`,
            '    requireTls: false',
            '    from: custodian@shop.example',
            '    to: [dpo@shop.example]',
            'access:',
            '  exportApproval:',
            '    threshold: 3',
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
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
    webhook.close();
  });

  it('break-glass gives clear access for at most the grant’s minutes, audited and alerted', async () => {
    const { vault, oversight } = t.runtime;
    const before = await vault.read(operator, ids[0]!, 'order-fulfilment');
    expect(before.records[0]?.fields['phone']).toEqual({
      access: 'masked',
      value: `${customers[0]!.mobile.slice(0, 3)}****${customers[0]!.mobile.slice(7)}`,
    });

    await expect(
      oversight.requestBreakGlass(operator, {
        subjectId: ids[0]!,
        purpose: 'order-fulfilment',
        justification: 'courier cannot reach buyer',
        ticket: 'CS-42',
        minutes: 90,
      }),
    ).rejects.toMatchObject({ code: 'ERR_VALIDATION_FAILED' });
    const grant = await oversight.requestBreakGlass(operator, {
      subjectId: ids[0]!,
      purpose: 'order-fulfilment',
      justification: 'courier cannot reach buyer',
      ticket: 'CS-42',
    });
    expect(Date.parse(grant.expiresAt) - Date.parse(grant.grantedAt)).toBe(60 * 60_000);
    const during = await vault.read(operator, ids[0]!, 'order-fulfilment');
    expect(during.records[0]?.fields['phone']).toEqual({ access: 'clear', value: customers[0]!.mobile });
    // Only the subject the grant names.
    expect(
      (await vault.read(operator, ids[1]!, 'order-fulfilment')).records[0]?.fields['phone']?.access,
    ).toBe('masked');

    clock = new Date(clock.getTime() + 61 * 60_000);
    expect(
      (await vault.read(operator, ids[0]!, 'order-fulfilment')).records[0]?.fields['phone']?.access,
    ).toBe('masked');

    await smtp.waitFor(1);
    expect(smtp.messages[0]?.to).toEqual(['dpo@shop.example']);
    expect(smtp.messages[0]?.raw).toContain('Break-glass access granted');
    expect(smtp.messages[0]?.raw).not.toContain(customers[0]!.mobile);
    expect(hooks[0]).toMatchObject({
      auth: 'Bearer hook-secret',
      body: { kind: 'break-glass.granted', source: 'custodian' },
    });
    const actions = (await t.store.audit.range(1, 1_000_000)).map((r) => r.action);
    expect(actions).toContain('break-glass.grant');
    expect(t.logs.join('\n')).toContain('Break-glass access granted');
  });

  it('lands break-glass in a review queue that a second person closes', async () => {
    const { oversight } = t.runtime;
    const [pending] = (await oversight.pendingReviews()).items;
    expect(pending?.principalId).toBe(operator.id);
    await expect(oversight.reviewBreakGlass(operator, pending!.id, 'justified', 'me')).rejects.toMatchObject({
      code: 'ERR_APPROVAL_SECOND_PERSON',
    });
    const reviewed = await oversight.reviewBreakGlass(
      officer,
      pending!.id,
      'justified',
      'courier ticket checked',
    );
    expect(reviewed).toMatchObject({ reviewOutcome: 'justified', reviewedBy: officer.id });
    await expect(
      oversight.reviewBreakGlass(officer, pending!.id, 'unjustified', 'again'),
    ).rejects.toMatchObject({ code: 'ERR_BREAKGLASS_REVIEWED' });
    expect(await oversight.pendingReviews()).toEqual({ items: [], next: null });
  });

  it('refuses break-glass to roles that may not use it', async () => {
    const marketing: Principal = {
      kind: 'token',
      id: 'mk',
      name: 'mk',
      role: 'marketing',
      trainingCurrent: true,
    };
    await expect(
      t.runtime.oversight.requestBreakGlass(marketing, {
        subjectId: ids[0]!,
        purpose: 'marketing',
        justification: 'want to see it all',
        ticket: 'X-1',
      }),
    ).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });
  });

  it('holds an export over the threshold for a second person, then encrypts and audits the download', async () => {
    const { oversight } = t.runtime;
    const small = await oversight.requestExport(operator, {
      purpose: 'order-fulfilment',
      subjectIds: ids.slice(0, 2),
      recipient: { kind: 'passphrase' },
      recipientId: 'sf-express',
    });
    expect(small.status).toBe('approved');
    const big = await oversight.requestExport(operator, {
      purpose: 'order-fulfilment',
      subjectIds: ids,
      recipient: { kind: 'passphrase' },
      recipientId: 'sf-express',
    });
    expect(big).toMatchObject({ status: 'pending', recipientId: 'sf-express' });
    await expect(
      oversight.downloadExport(operator, big.id, { kind: 'passphrase', passphrase: 'a long passphrase' }),
    ).rejects.toMatchObject({ code: 'ERR_EXPORT_STATE' });
    await expect(oversight.decideExport(operator, big.id, true, 'self')).rejects.toMatchObject({
      code: 'ERR_APPROVAL_SECOND_PERSON',
    });
    await oversight.decideExport(officer, big.id, true, 'carrier manifest for CS-42');
    await expect(oversight.decideExport(officer, big.id, false, 'changed my mind')).rejects.toMatchObject({
      code: 'ERR_EXPORT_STATE',
    });
    await expect(
      oversight.downloadExport(officer, big.id, { kind: 'passphrase', passphrase: 'a long passphrase' }),
    ).rejects.toMatchObject({ code: 'ERR_ACCESS_DENIED' });

    const { file, subjects } = await oversight.downloadExport(operator, big.id, {
      kind: 'passphrase',
      passphrase: 'a long passphrase',
    });
    expect(subjects).toBe(5);
    expect(file.includes(Buffer.from(customers[0]!.name))).toBe(false);
    const content = JSON.parse(openExport(file, { passphrase: 'a long passphrase' }).toString()) as {
      subjects: { records: { fields: Record<string, { access: string; value?: string }> }[] }[];
    };
    // The same engine decides: an operator's export carries masked phones.
    expect(content.subjects[1]?.records[0]?.fields['phone']?.access).toBe('masked');
    expect(content.subjects[1]?.records[0]?.fields['district']).toEqual({
      access: 'clear',
      value: customers[1]!.address.district,
    });
    await expect(
      oversight.downloadExport(operator, big.id, { kind: 'passphrase', passphrase: 'a long passphrase' }),
    ).rejects.toMatchObject({ code: 'ERR_EXPORT_STATE' });
    const audit = (await t.store.audit.range(1, 1_000_000)).map((r) => r.action);
    expect(audit.filter((a) => a === 'export')).toHaveLength(5);
    expect(audit).toEqual(expect.arrayContaining(['export.request', 'export.decide', 'export.download']));
    expect(hooks.some((h) => h.body['kind'] === 'export.approval-needed')).toBe(true);
  });

  it('lets buyer data leave only for a registered processor or a statutory recipient (R31)', async () => {
    const { oversight } = t.runtime;
    const before = (await oversight.listExports({ limit: 500 })).items.length;
    const refused = async (purpose: string, recipientId?: string) => {
      const error = await oversight
        .requestExport(operator, {
          purpose,
          subjectIds: ids.slice(0, 1),
          recipient: { kind: 'passphrase' },
          ...(recipientId === undefined ? {} : { recipientId }),
        })
        .then(
          () => undefined,
          (e: unknown) => e as { code: string; details?: { reason?: string } },
        );
      return `${error?.code}:${error?.details?.reason}`;
    };
    expect(await refused('order-fulfilment')).toBe('ERR_TMALL_EXPORT_REFUSED:no-recipient');
    expect(await refused('order-fulfilment', 'data-broker')).toBe(
      'ERR_TMALL_EXPORT_REFUSED:unknown-recipient',
    );
    // The customs recipient gets nothing of a fulfilment export, and is not registered for it.
    expect(await refused('order-fulfilment', 'china-customs')).toBe(
      'ERR_TMALL_EXPORT_REFUSED:purpose-not-agreed',
    );
    expect(await refused('customer-service', 'sf-express')).toBe('ERR_TMALL_EXPORT_REFUSED:not-fulfilment');
    expect((await oversight.listExports({ limit: 500 })).items.length).toBe(before);
    const audit = await t.store.audit.range(1, 1_000_000);
    const requested = audit.filter((r) => r.action === 'export.request').length;
    const ok = await oversight.requestExport(operator, {
      purpose: 'order-fulfilment',
      subjectIds: ids.slice(0, 1),
      recipient: { kind: 'passphrase' },
      recipientId: 'sf-express',
    });
    expect(ok.recipientId).toBe('sf-express');
    const after = (await t.store.audit.range(1, 1_000_000)).filter((r) => r.action === 'export.request');
    expect(after).toHaveLength(requested + 1);
    expect(after.at(-1)?.canonical.toString()).toContain('"recipient":"sf-express"');

    // The file carries only what the carrier is registered to receive: the buyer's nick stays out,
    // the order number (not personal data) goes with the address.
    await t.runtime.vault.collect(tester, {
      collection: 'order',
      subjectId: ids[0]!,
      fields: { orderId: 'T2026112900001', buyerNick: 'tb_buyer_nick' },
      purpose: 'order-fulfilment',
    });
    const one = await oversight.requestExport(operator, {
      purpose: 'order-fulfilment',
      subjectIds: ids.slice(0, 1),
      recipient: { kind: 'passphrase' },
      recipientId: 'sf-express',
    });
    const { file } = await oversight.downloadExport(operator, one.id, {
      kind: 'passphrase',
      passphrase: 'a long passphrase',
    });
    const content = JSON.parse(openExport(file, { passphrase: 'a long passphrase' }).toString()) as {
      subjects: {
        records: { collection: string; fields: Record<string, { access: string; reason?: string }> }[];
      }[];
    };
    const order = content.subjects[0]!.records.find((r) => r.collection === 'order')!;
    expect(order.fields['buyerNick']).toEqual({ access: 'withheld', reason: 'not-for-recipient' });
    expect(order.fields['orderId']).toMatchObject({ access: 'clear' });
    const address = content.subjects[0]!.records.find((r) => r.collection === 'address')!;
    expect(address.fields['district']).toMatchObject({ access: 'clear' });
  });

  it('denies an export that a second person refuses', async () => {
    const { oversight } = t.runtime;
    const big = await oversight.requestExport(operator, {
      purpose: 'order-fulfilment',
      subjectIds: ids,
      recipient: { kind: 'passphrase' },
      recipientId: 'sf-express',
    });
    const denied = await oversight.decideExport(officer, big.id, false, 'no ticket');
    expect(denied.status).toBe('denied');
    await expect(
      oversight.downloadExport(operator, big.id, { kind: 'passphrase', passphrase: 'a long passphrase' }),
    ).rejects.toMatchObject({ code: 'ERR_EXPORT_STATE' });
    await expect(
      oversight.requestExport(operator, {
        purpose: 'marketing',
        subjectIds: ids,
        recipient: { kind: 'passphrase' },
      }),
    ).rejects.toMatchObject({
      code: 'ERR_PURPOSE_NOT_PERMITTED',
    });
  });

  it('lists exports a page at a time over HTTP, with subject counts but never subject ids', async () => {
    const { oversight } = t.runtime;
    for (const n of [1, 2, 3, 4, 5])
      await oversight.requestExport(operator, {
        purpose: 'order-fulfilment',
        subjectIds: ids.slice(0, n),
        recipient: { kind: 'passphrase' },
        recipientId: 'sf-express',
      });
    const get = (query: string) =>
      t.app.inject({
        method: 'GET',
        url: `/v1/exports${query}`,
        headers: { authorization: `Bearer ${t.testerToken}` },
      });
    type ListBody = { exports: { id: string; subjectCount: number }[]; next: string | null };
    const everything = await get('?limit=500');
    expect(everything.statusCode).toBe(200);
    expect(everything.body).not.toContain('subjectIds');
    expect(everything.body).not.toContain(ids[0]!);
    const all = everything.json<ListBody>();
    expect(all.next).toBeNull();
    expect(all.exports.length).toBeGreaterThanOrEqual(7);
    // Newest first: UUIDv7 ids, descending.
    expect(all.exports.map((e) => e.id)).toEqual(
      all.exports
        .map((e) => e.id)
        .sort()
        .reverse(),
    );
    for (const e of all.exports) {
      const stored = await t.store.exports.byId(e.id);
      expect(e.subjectCount).toBe(stored!.subjectIds.length);
    }

    const first = (await get('?limit=2')).json<ListBody>();
    expect(first.exports.map((e) => e.id)).toEqual(all.exports.slice(0, 2).map((e) => e.id));
    expect(first.next).toBe(all.exports[1]!.id);
    const second = (await get(`?limit=2&before=${first.next}`)).json<ListBody>();
    expect(second.exports.map((e) => e.id)).toEqual(all.exports.slice(2, 4).map((e) => e.id));
    const last = (await get(`?limit=500&before=${second.next}`)).json<ListBody>();
    expect(last.exports.map((e) => e.id)).toEqual(all.exports.slice(4).map((e) => e.id));
    expect(last.next).toBeNull();
    const approved = (await get('?status=approved&limit=1')).json<ListBody>();
    expect(approved.exports).toHaveLength(1);
    expect(approved.next).toBe(approved.exports[0]!.id);

    const defaulted = (await get('')).json<ListBody>();
    expect(defaulted.exports).toHaveLength(all.exports.length);
    for (const bad of ['?limit=501', '?limit=0', '?before=not-an-id']) {
      const refused = await get(bad);
      expect(refused.statusCode).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'ERR_VALIDATION_FAILED' });
    }
    await expect(oversight.listExports({ limit: 501 })).rejects.toMatchObject({
      code: 'ERR_VALIDATION_FAILED',
    });
  });

  it('lists break-glass reviews a page at a time over HTTP', async () => {
    const { oversight } = t.runtime;
    const granted = [];
    for (const ticket of ['CS-91', 'CS-92', 'CS-93']) {
      granted.push(
        await oversight.requestBreakGlass(operator, {
          subjectId: ids[1]!,
          purpose: 'order-fulfilment',
          justification: 'courier cannot reach buyer',
          ticket,
        }),
      );
      clock = new Date(clock.getTime() + 1000);
    }
    const newestFirst = granted.map((g) => g.id).reverse();
    const get = (query: string) =>
      t.app.inject({
        method: 'GET',
        url: `/v1/break-glass/reviews${query}`,
        headers: { authorization: `Bearer ${t.testerToken}` },
      });
    type ListBody = { grants: { id: string }[]; next: string | null };
    const first = (await get('?limit=2')).json<ListBody>();
    expect(first.grants.map((g) => g.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.next).toBe(newestFirst[1]);
    const second = (await get(`?limit=2&before=${first.next}`)).json<ListBody>();
    expect(second).toEqual({ grants: [expect.objectContaining({ id: newestFirst[2] })], next: null });
    expect((await get('')).json<ListBody>().grants.map((g) => g.id)).toEqual(newestFirst);
    const refused = await get('?limit=501');
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'ERR_VALIDATION_FAILED' });
  });
});
