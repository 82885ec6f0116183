import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyConsistency, verifyInclusion } from '../../src/crypto/merkle.js';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { issueToken } from '../../src/services/tokens.js';
import { testApp, type TestApp } from '../support/app.js';

const hex = (s: string) => Buffer.from(s, 'hex');

describe('audit log over HTTP', () => {
  let t: TestApp;
  let tester: Record<string, string>;
  let auditor: Record<string, string>;
  let admin: Record<string, string>;
  const customers = generateCustomers('http-audit-log', 12);

  beforeAll(async () => {
    t = await testApp();
    tester = { authorization: `Bearer ${t.testerToken}` };
    admin = { authorization: `Bearer ${t.token}` };
    auditor = {
      authorization: `Bearer ${(await issueToken(t.store, { name: 'auditor', role: 'auditor' })).token}`,
    };
  });
  afterAll(() => t.close());

  const get = (url: string, headers = auditor) => t.app.inject({ method: 'GET', url, headers });

  it('answers 404 for the latest checkpoint before any was signed', async () => {
    expect((await t.store.audit.head()).size).toBe(0);
    const res = await get('/v1/audit-log/checkpoints/latest');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'ERR_AUDIT_CHECKPOINT_NOT_FOUND' });
  });

  it('publishes the public key to any authenticated caller', async () => {
    const res = await get('/v1/audit-log/public-key', admin);
    expect(res.statusCode).toBe(200);
    const body = res.json<Record<string, string>>();
    expect(Object.keys(body).sort()).toEqual([
      'algorithm',
      'keyId',
      'keyName',
      'publicKey',
      'spki',
      'verifierKey',
    ]);
    const publicKey = createPublicKey(createPrivateKey(readFileSync(t.config.audit.signingKey)));
    expect(
      Buffer.from(body['publicKey']!, 'base64').equals(
        Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'),
      ),
    ).toBe(true);
    expect(
      Buffer.from(body['spki']!, 'base64').equals(publicKey.export({ format: 'der', type: 'spki' })),
    ).toBe(true);
    expect(body).toMatchObject({ algorithm: 'Ed25519', keyId: expect.stringMatching(/^[0-9a-f]{8}$/) });
    expect(body['verifierKey']).toBe(
      `${body['keyName']}+${body['keyId']}+${Buffer.concat([Buffer.of(1), Buffer.from(body['publicKey']!, 'base64')]).toString('base64')}`,
    );
    expect((await t.app.inject({ method: 'GET', url: '/v1/audit-log/public-key' })).statusCode).toBe(401);
  });

  it('serves entries, a signed checkpoint and proofs that verify against it', async () => {
    for (const c of customers) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/records',
        headers: tester,
        payload: {
          collection: 'profile',
          identities: { oaid: c.oaid },
          fields: { name: c.name, phone: c.mobile },
          purpose: 'marketing',
        },
      });
      expect(res.statusCode).toBe(201);
    }
    await t.runtime.auditLog.checkpoint();
    const latest = await get('/v1/audit-log/checkpoints/latest');
    expect(latest.statusCode).toBe(200);
    const cp = latest.json<{
      origin: string;
      treeSize: number;
      rootHash: string;
      time: string;
      keyId: string;
      signature: string;
      note: string;
    }>();
    expect(Object.keys(cp).sort()).toEqual([
      'keyId',
      'note',
      'origin',
      'rootHash',
      'signature',
      'time',
      'treeSize',
    ]);
    expect(cp.treeSize).toBe(12);
    const publicKey = createPublicKey(createPrivateKey(readFileSync(t.config.audit.signingKey)));
    const text = cp.note.slice(0, cp.note.lastIndexOf('\n\n') + 1);
    expect(text).toBe(`${cp.origin}\n12\n${hex(cp.rootHash).toString('base64')}\ntime ${cp.time}\n`);
    expect(verify(null, Buffer.from(text), publicKey, Buffer.from(cp.signature, 'base64'))).toBe(true);

    const page = await get('/v1/audit-log/entries?start=0&end=12');
    expect(page.statusCode).toBe(200);
    const body = page.json<{
      treeSize: number;
      start: number;
      end: number;
      entries: { leafIndex: number; leafHash: string; canonical: string }[];
    }>();
    expect(body).toMatchObject({ treeSize: 12, start: 0, end: 12 });
    expect(body.entries.map((e) => e.leafIndex)).toEqual([...Array(12).keys()]);
    const all = body.entries.map((e) => Buffer.from(e.canonical, 'base64'));
    for (const [i, e] of body.entries.entries()) {
      expect(Object.keys(e).sort()).toEqual(['canonical', 'leafHash', 'leafIndex']);
      expect(e.leafHash).toBe(createHash('sha256').update(Buffer.of(0)).update(all[i]!).digest('hex'));
      const parsed = JSON.parse(all[i]!.toString('utf8')) as { action: string; subject: string };
      expect(parsed.action).toBe('collect');
      expect(parsed.subject).toMatch(/^[0-9a-f]{32}$/);
    }
    // Pseudonyms only: no name or phone of any customer.
    const text2 = all.map((b) => b.toString('utf8')).join('\n');
    for (const c of customers) for (const v of [c.name, c.mobile, c.oaid]) expect(text2).not.toContain(v);

    for (const m of [0, 5, 11]) {
      const res = await get(`/v1/audit-log/proofs/inclusion?leafIndex=${m}&treeSize=12`);
      expect(res.statusCode).toBe(200);
      const p = res.json<{
        leafIndex: number;
        treeSize: number;
        leafHash: string;
        rootHash: string;
        auditPath: string[];
      }>();
      expect(Object.keys(p).sort()).toEqual(['auditPath', 'leafHash', 'leafIndex', 'rootHash', 'treeSize']);
      expect(p.leafHash).toBe(body.entries[m]!.leafHash);
      expect(p.rootHash).toBe(cp.rootHash);
      expect(verifyInclusion(m, 12, hex(p.leafHash), p.auditPath.map(hex), hex(cp.rootHash))).toBe(true);
    }
    await t.app.inject({
      method: 'POST',
      url: '/v1/records',
      headers: tester,
      payload: { collection: 'profile', fields: { name: 'x' }, purpose: 'marketing' },
    });
    const c = await get('/v1/audit-log/proofs/consistency?first=12&second=13');
    expect(c.statusCode).toBe(200);
    const cons = c.json<{
      first: number;
      second: number;
      firstRootHash: string;
      secondRootHash: string;
      proof: string[];
    }>();
    expect(cons.firstRootHash).toBe(cp.rootHash);
    expect(
      verifyConsistency(12, 13, hex(cons.firstRootHash), hex(cons.secondRootHash), cons.proof.map(hex)),
    ).toBe(true);
    const same = (await get('/v1/audit-log/proofs/consistency?first=13&second=13')).json<{
      proof: string[];
    }>();
    expect(same.proof).toEqual([]);
  });

  it('pages entries by default and caps the page size', async () => {
    const res = await get('/v1/audit-log/entries?start=10');
    expect(res.json()).toMatchObject({ start: 10, end: 13 });
    expect((await get('/v1/audit-log/entries?start=13')).json()).toMatchObject({
      start: 13,
      end: 13,
      entries: [],
    });
    for (const url of [
      '/v1/audit-log/entries?start=0&end=1001',
      '/v1/audit-log/entries?start=5&end=4',
      '/v1/audit-log/entries?start=-1',
      '/v1/audit-log/entries?start=x',
      '/v1/audit-log/entries?start=0&limit=3',
      '/v1/audit-log/entries',
      '/v1/audit-log/proofs/inclusion?leafIndex=0',
      '/v1/audit-log/proofs/inclusion?leafIndex=0&treeSize=0',
      '/v1/audit-log/proofs/consistency?first=3&second=2',
      '/v1/audit-log/proofs/consistency?first=0&second=2',
    ]) {
      const bad = await get(url);
      expect(bad.statusCode, url).toBe(400);
      expect(bad.json(), url).toMatchObject({ code: 'ERR_VALIDATION_FAILED' });
    }
    for (const url of [
      '/v1/audit-log/entries?start=0&end=14',
      '/v1/audit-log/entries?start=14',
      '/v1/audit-log/proofs/inclusion?leafIndex=13&treeSize=13',
      '/v1/audit-log/proofs/inclusion?leafIndex=0&treeSize=14',
      '/v1/audit-log/proofs/consistency?first=2&second=14',
    ]) {
      const beyond = await get(url);
      expect(beyond.statusCode, url).toBe(422);
      expect(beyond.json(), url).toMatchObject({ code: 'ERR_AUDIT_RANGE_INVALID' });
    }
  });

  it('requires audit.read for entries, checkpoints and proofs', async () => {
    for (const url of [
      '/v1/audit-log/entries?start=0&end=1',
      '/v1/audit-log/checkpoints/latest',
      '/v1/audit-log/proofs/inclusion?leafIndex=0&treeSize=1',
      '/v1/audit-log/proofs/consistency?first=1&second=1',
    ]) {
      const res = await get(url, admin);
      expect(res.statusCode, url).toBe(403);
      expect(res.json()).toMatchObject({ code: 'ERR_ACCESS_DENIED' });
      expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(401);
    }
  });

  it('describes the routes in OpenAPI', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, unknown>;
    }>();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/audit-log/public-key',
        '/v1/audit-log/checkpoints/latest',
        '/v1/audit-log/entries',
        '/v1/audit-log/proofs/inclusion',
        '/v1/audit-log/proofs/consistency',
      ]),
    );
  });
});
