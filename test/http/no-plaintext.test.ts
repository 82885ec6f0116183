import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCustomers, generateOrders } from '../../src/domain/synthetic/index.js';
import { testApp, type TestApp } from '../support/app.js';
import { ByteScanner } from '../support/scan.js';

/**
 * Acceptance (issue 3): collect 1,000 synthetic customers, then byte-scan the database file, its WAL
 * and every log line: none of their names, phones, emails, national ids or street addresses appear.
 */
describe('no personal data in clear at rest or in logs', () => {
  let t: TestApp;
  const customers = generateCustomers('no-plaintext', 1000);
  const orders = generateOrders('no-plaintext', customers.slice(0, 200), { piiRate: 0.5 });

  beforeAll(async () => {
    t = await testApp({ edit: (yaml) => yaml.replace('max: 600 ', 'max: 1000000 ') });
    const headers = { authorization: `Bearer ${t.testerToken}` };
    for (const c of customers) {
      const profile = await t.app.inject({
        method: 'POST',
        url: '/v1/records',
        headers,
        payload: {
          collection: 'profile',
          identities: { oaid: c.oaid, memberId: c.memberId },
          fields: { name: c.name, phone: c.mobile, email: c.email, birthDate: c.birthDate },
          purpose: 'marketing',
        },
      });
      expect(profile.statusCode).toBe(201);
      const { subjectId } = profile.json<{ subjectId: string }>();
      for (const [collection, fields, purpose] of [
        [
          'address',
          {
            recipientName: c.name,
            phone: c.mobile,
            province: c.address.province,
            city: c.address.city,
            district: c.address.district,
            street: c.address.street,
          },
          'order-fulfilment',
        ],
        ['customs', { realName: c.name, nationalId: c.nationalId }, 'customs-clearance'],
      ] as const) {
        const res = await t.app.inject({
          method: 'POST',
          url: '/v1/records',
          headers,
          payload: { collection, subjectId, fields, purpose },
        });
        expect(res.statusCode).toBe(201);
      }
    }
    for (const o of orders) {
      const owner = customers.find((c) => c.id === o.customerId)!;
      await t.app.inject({
        method: 'POST',
        url: '/v1/records',
        headers,
        payload: {
          collection: 'order',
          identities: { oaid: owner.oaid },
          fields: { orderId: o.orderId, amount: o.amount, status: o.status, buyerMessage: o.buyerMessage },
          purpose: 'order-fulfilment',
        },
      });
    }
    // Reads and searches put values through the masking and logging paths too.
    for (const c of customers.slice(0, 50)) {
      const found = await t.app.inject({
        method: 'GET',
        url: `/v1/subjects?phone=${encodeURIComponent(c.mobile)}&purpose=customer-service`,
        headers,
      });
      expect(found.statusCode).toBe(200);
    }
  }, 240_000);
  afterAll(() => t.close());

  it('leaves no name, phone, email, national id or street in the database files or logs', () => {
    const dbPath = t.config.database.engine === 'sqlite' ? t.config.database.path : '';
    const files = readdirSync(dirname(dbPath)).map((f) => join(dirname(dbPath), f));
    expect(files.some((f) => f.endsWith('-wal'))).toBe(true);
    const haystacks = [...files.map((f) => readFileSync(f)), Buffer.from(t.logs.join('\n'), 'utf8')];
    expect(t.logs.length).toBeGreaterThan(1000);
    const needles = customers.flatMap((c) =>
      (
        [
          ['name', c.name],
          ['phone', c.mobile],
          ['email', c.email],
          ['nationalId', c.nationalId],
          ['street', c.address.street],
        ] as const
      ).flatMap(([kind, value]) => [
        { label: `${kind} of ${c.id}`, bytes: Buffer.from(value, 'utf8') },
        // A 4-byte needle (a two-character name in UTF-16) turns up in megabytes of random
        // ciphertext by chance about once per thousand names; 6 bytes and more do not.
        ...(Buffer.byteLength(value, 'utf16le') >= 6
          ? [{ label: `${kind} of ${c.id} (UTF-16)`, bytes: Buffer.from(value, 'utf16le') }]
          : []),
      ]),
    );
    const scanner = new ByteScanner(needles);
    // The scanner itself finds a planted value, so an empty result means something.
    const planted = Buffer.concat([
      Buffer.from('…"x":"'),
      Buffer.from(customers[7]!.address.street),
      Buffer.from('"…'),
    ]);
    expect([...scanner.scan(planted)]).toContain(`street of ${customers[7]!.id}`);
    const leaks = [...new Set(haystacks.flatMap((h) => [...scanner.scan(h)]))];
    expect(leaks).toEqual([]);
  });
});
