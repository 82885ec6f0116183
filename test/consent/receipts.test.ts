import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RECEIPT_TYPE,
  RECEIPT_VERSION,
  type ConsentReceiptClaims,
} from '../../src/domain/consent/receipt.js';
import { createSigningKeyFile } from '../../src/services/audit-log-key.js';
import { loadReceiptSigner, readReceiptKey } from '../../src/services/consent-receipt-key.js';
import { testApp, type TestApp } from '../support/app.js';
import { tester } from '../support/roles.js';
import { tempDir } from '../support/tmp.js';

describe('consent receipts and the consent API', () => {
  let t: TestApp;
  let subjectId: string;
  const auth = () => ({ authorization: `Bearer ${t.testerToken}` });
  beforeAll(async () => {
    t = await testApp();
    await t.runtime.privacyPolicy.publish();
    ({ subjectId } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: '陈静', phone: '13700001234' },
      purpose: 'marketing',
    }));
  });
  afterAll(() => t.close());

  const jwks = async (): Promise<JSONWebKeySet> => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toContain('max-age');
    return res.json<JSONWebKeySet>();
  };

  const grant = (payload: Record<string, unknown> = {}) =>
    t.app.inject({
      method: 'POST',
      url: `/v1/subjects/${subjectId}/consents`,
      headers: auth(),
      payload: {
        purpose: 'marketing',
        action: 'grant',
        channel: 'tmall-store',
        evidence: { uiVersion: 'popup-3', locale: 'zh-CN', ip: '198.51.100.23', userAgent: 'TmallApp/10.1' },
        ...payload,
      },
    });

  it('publishes the receipt keys without authentication, kid = RFC 7638 thumbprint', async () => {
    const set = await jwks();
    expect(set.keys).toHaveLength(1);
    const [key] = set.keys;
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(key!.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: key!.crv!, x: key!.x! }));
    expect(JSON.stringify(set)).not.toMatch(/"d"/);
  });

  it('answers a grant with a receipt that verifies against the published JWKS', async () => {
    const res = await grant();
    expect(res.statusCode).toBe(201);
    const { receipt, claims } = res.json<{ receipt: string; claims: Record<string, unknown> }>();
    expect(decodeProtectedHeader(receipt)).toMatchObject({ alg: 'EdDSA', typ: RECEIPT_TYPE });
    const keys = createLocalJWKSet(await jwks());
    const { payload, protectedHeader } = await jwtVerify(receipt, keys, {
      typ: RECEIPT_TYPE,
      algorithms: ['EdDSA'],
      issuer: t.config.datamap.processor.name,
    });
    expect(payload).toEqual(claims);
    expect(protectedHeader.kid).toBe((await jwks()).keys[0]!.kid);
    expect(payload).toMatchObject({
      version: RECEIPT_VERSION,
      jurisdiction: 'CN',
      sub: t.runtime.pseudonymize(subjectId),
      controller: { name: t.config.datamap.processor.name, contact: t.config.datamap.processor.contact },
      action: 'grant',
      kind: 'purpose',
      channel: 'tmall-store',
      language: 'zh-CN',
      policyVersion: 1,
      policyUrl: '/privacy/policy?version=1',
      purposes: [
        { id: 'marketing', name: { 'zh-CN': '会员营销', en: 'Member marketing' }, legalBasis: 'consent' },
      ],
      separateConsents: {
        provide_to_third_party: false,
        sensitive_pi: false,
        cross_border: false,
        public_disclosure: false,
      },
    });
    expect(typeof payload.jti).toBe('string');
    expect(typeof payload.iat).toBe('number');
    const text = JSON.stringify(payload);
    for (const secret of [subjectId, '198.51.100.23', 'TmallApp', '陈静', '13700001234'])
      expect(text).not.toContain(secret);
    const { payload: bytes } = await compactVerify(receipt, keys);
    expect(JSON.parse(Buffer.from(bytes).toString('utf8'))).toEqual(claims);
  });

  it('rejects a tampered receipt', async () => {
    const { receipt } = (await grant({ action: 'withdraw' })).json<{ receipt: string }>();
    const keys = createLocalJWKSet(await jwks());
    const [header, payload, signature] = receipt.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { action: string };
    claims.action = 'grant';
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await expect(jwtVerify(forged, keys)).rejects.toMatchObject({
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
    const flipped = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    await expect(compactVerify(flipped, keys)).rejects.toThrow();
    // A receipt signed by another key does not verify against ours.
    const dir = tempDir('custodian-receipt-');
    try {
      createSigningKeyFile(join(dir.path, 'other.key'));
      const other = await loadReceiptSigner({
        receiptKey: join(dir.path, 'other.key'),
        retiredReceiptKeys: [],
        refusalQuietDays: 365,
        policyUrl: '/p',
      });
      const foreign = await other.sign(
        JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ConsentReceiptClaims,
      );
      await expect(jwtVerify(foreign, keys)).rejects.toThrow();
    } finally {
      dir.remove();
    }
  });

  it('lists where the consents stand and their history, without personal data', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/subjects/${subjectId}/consents`,
      headers: auth(),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      subjectRef: string;
      purposes: { purpose: string; granted: boolean; mayAsk: boolean }[];
      current: { purpose: string; state: string; effective: boolean }[];
      history: { action: string; evidence: Record<string, unknown>; receipt: string }[];
    }>();
    expect(body.subjectRef).toBe(t.runtime.pseudonymize(subjectId));
    expect(body.purposes).toEqual([
      expect.objectContaining({ purpose: 'marketing', granted: false, mayAsk: true }),
    ]);
    expect(body.current).toEqual([
      expect.objectContaining({ purpose: 'marketing', state: 'withdraw', effective: false }),
    ]);
    expect(body.history.map((h) => h.action)).toEqual(['grant', 'withdraw']);
    expect(body.history[0]!.evidence).toEqual({
      uiVersion: 'popup-3',
      locale: 'zh-CN',
      ip: true,
      userAgent: true,
    });
    for (const secret of ['198.51.100.23', 'TmallApp', '陈静', '13700001234'])
      expect(res.body).not.toContain(secret);
  });

  it('answers with coded problems and never echoes what was sent', async () => {
    expect((await grant({ channel: 'carrier-pigeon' })).json()).toMatchObject({
      code: 'ERR_VALIDATION_FAILED',
    });
    const notApplicable = await grant({ purpose: 'order-fulfilment' });
    expect(notApplicable.statusCode).toBe(422);
    expect(notApplicable.json()).toMatchObject({ code: 'ERR_CONSENT_NOT_APPLICABLE' });
    const minor = await grant({ birthDate: '2016-08-08' });
    expect(minor.statusCode).toBe(422);
    expect(minor.json()).toMatchObject({ code: 'ERR_CONSENT_GUARDIAN_REQUIRED' });
    expect(minor.body).not.toContain('2016-08-08');
    const guarded = await grant({
      birthDate: '2016-08-08',
      guardian: { name: '陈父', relationship: 'parent' },
    });
    expect(guarded.statusCode).toBe(201);
    expect(guarded.body).not.toContain('陈父');
    const anonymous = await t.app.inject({
      method: 'POST',
      url: `/v1/subjects/${subjectId}/consents`,
      payload: { purpose: 'marketing', action: 'grant', channel: 'h5' },
    });
    expect(anonymous.statusCode).toBe(401);
    const missing = await t.app.inject({
      method: 'GET',
      url: '/v1/subjects/01890000-0000-7000-8000-000000000000/consents',
      headers: auth(),
    });
    expect(missing.json()).toMatchObject({ code: 'ERR_SUBJECT_NOT_FOUND' });
  });

  it('keeps retired keys in the JWKS, and refuses a missing or world-readable key', async () => {
    const dir = tempDir('custodian-receipt-');
    try {
      const [current, old] = [join(dir.path, 'current.key'), join(dir.path, 'old.key')];
      createSigningKeyFile(current);
      createSigningKeyFile(old);
      const config = { retiredReceiptKeys: [], refusalQuietDays: 365, policyUrl: '/p' };
      const before = await loadReceiptSigner({ ...config, receiptKey: old });
      const receipt = await before.sign({ iss: 'x' } as never);
      const after = await loadReceiptSigner({ ...config, receiptKey: current, retiredReceiptKeys: [old] });
      expect(after.jwks.keys.map((k) => k.kid)).toEqual([after.kid, before.kid]);
      await expect(
        compactVerify(receipt, createLocalJWKSet({ keys: [...after.jwks.keys] })),
      ).resolves.toBeDefined();
      expect(() => readReceiptKey(join(dir.path, 'none.key'))).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_UNAVAILABLE' }),
      );
      chmodSync(current, 0o644);
      expect(() => readReceiptKey(current)).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_FILE_PERMISSIONS' }),
      );
    } finally {
      dir.remove();
    }
  });
});
