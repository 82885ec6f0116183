import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustodianError } from '../../src/domain/errors.js';
import { DEFAULT_SCENE_PURPOSES, assertScenePurpose } from '../../src/platforms/tmall/rules.js';
import { decryptIntoVault, syncTmallOrders } from '../../src/platforms/tmall/sync.js';
import { TopClient, topSignature, topTimestamp, type SignMethod } from '../../src/platforms/tmall/top.js';
import { generateCustomers, generateOrders } from '../../src/domain/synthetic/index.js';
import { IMPORTER, importTmallOrders } from '../../src/services/importer.js';
import { tester } from '../support/roles.js';
import { tmallEnv, type TmallEnv } from './helpers.js';
import { startTopGateway, type TopGateway } from './top-gateway.js';

/** The official vector (regulation.md §7.1, TOP docId 101617). */
const OFFICIAL = {
  method: 'taobao.item.seller.get',
  app_key: '12345678',
  session: 'test',
  timestamp: '2016-01-01 12:00:00',
  format: 'json',
  v: '2.0',
  sign_method: 'md5',
  fields: 'num_iid,title,nick,price,num',
  num_iid: '11223344',
};

describe('TOP request signing (R29)', () => {
  it('reproduces the official published vector', () => {
    expect(topSignature(OFFICIAL, 'helloworld', 'md5')).toBe('66987CB115214E59E6EC978214934FB8');
  });

  it('reproduces the second published vector', () => {
    const params = {
      method: 'taobao.user.seller.get',
      timestamp: '2013-05-06 13:52:03',
      format: 'xml',
      app_key: 'test',
      v: '2.0',
      fields: 'nick',
      sign_method: 'md5',
      session: 'test',
    };
    expect(topSignature(params, 'test', 'md5')).toBe('72CB4D809B375A54502C09360D879C64');
  });

  it('signs hmac and hmac-sha256 (computed vectors and the RFC 2202 / RFC 4231 anchors)', () => {
    expect(topSignature({ ...OFFICIAL, sign_method: 'hmac' }, 'helloworld', 'hmac')).toBe(
      'D56D7858309C31B6251083A874D48273',
    );
    expect(topSignature({ ...OFFICIAL, sign_method: 'hmac-sha256' }, 'helloworld', 'hmac-sha256')).toBe(
      '04DB15AD0774D5CFCE2C837DE43E3FCEA9011ED74F3038FB6AB5F3C4CEA119E8',
    );
    expect(topSignature({ Hi: ' There' }, '\x0b'.repeat(16), 'hmac')).toBe(
      '9294727A3638BB1C13F48EF8158BFC9D',
    );
    expect(topSignature({ Hi: ' There' }, '\x0b'.repeat(20), 'hmac-sha256')).toBe(
      'B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7',
    );
  });

  it('leaves out sign and empty parameters, and appends a signed body', () => {
    const base = topSignature(OFFICIAL, 'helloworld', 'md5');
    expect(
      topSignature(
        { ...OFFICIAL, sign: 'X', partner_id: '', target_app_key: undefined },
        'helloworld',
        'md5',
      ),
    ).toBe(base);
    expect(topSignature(OFFICIAL, 'helloworld', 'md5', '{"a":1}')).not.toBe(base);
  });

  it('writes timestamps in GMT+8 whatever the host zone', () => {
    expect(topTimestamp(new Date('2016-01-01T04:00:00Z'))).toBe('2016-01-01 12:00:00');
    expect(topTimestamp(new Date('2025-12-31T20:30:05Z'))).toBe('2026-01-01 04:30:05');
  });
});

describe('TOP client against a TOP-compatible gateway', () => {
  const appKey = '12345678';
  const appSecret = 'test-secret-不要泄露';
  const customers = generateCustomers('top', 30);
  const orders = generateOrders('top', customers, { perCustomer: 1 });
  const trades = orders.map((o) => ({
    tid: o.orderId,
    status: o.statusCode,
    created: o.createdAt,
    modified: o.createdAt,
    payment: o.amount,
    title: o.itemTitle,
    buyer_nick: `${o.buyerNick.slice(0, 1)}**`,
    buyer_open_uid: o.buyerOpenUid,
    oaid: o.oaid,
    receiver_name: '张**',
    receiver_mobile: '138****0000',
    receiver_state: '浙江省',
    receiver_city: '杭州市',
    receiver_district: '西湖区',
    receiver_address: '****',
  }));
  const receivers = customers.map((c, i) => ({
    oaid: c.oaid,
    tid: orders[i]!.orderId,
    name: c.name,
    mobile: i % 5 === 0 ? `188${String(i).padStart(8, '0')}-123` : c.mobile,
    privacy_protection: i % 5 === 0,
    state: c.address.province,
    city: c.address.city,
    district: c.address.district,
    address_detail: c.address.street,
  }));
  let gateway: TopGateway;
  let env: TmallEnv;
  const client = (overrides: { appSecret?: string; signMethod?: SignMethod } = {}): TopClient =>
    new TopClient({
      gateway: gateway.url,
      appKey,
      appSecret: overrides.appSecret ?? appSecret,
      signMethod: overrides.signMethod ?? 'hmac-sha256',
      session: 'seller-session',
      scenes: DEFAULT_SCENE_PURPOSES,
    });

  beforeAll(async () => {
    gateway = await startTopGateway({ appKey, appSecret, trades, receivers });
    env = await tmallEnv();
  });
  afterAll(async () => {
    await gateway.close();
    await env.close();
  });

  it('is accepted with every signing method', async () => {
    for (const signMethod of ['md5', 'hmac', 'hmac-sha256'] as const) {
      const page = await client({ signMethod }).tradesPage({ start: new Date(0), end: new Date() }, 1, 5);
      expect(page.trades).toHaveLength(5);
    }
  });

  it('is refused with the TOP error shape when the signature is wrong', async () => {
    const before = gateway.refused.length;
    const failure = await client({ appSecret: 'wrong' })
      .tradesPage({ start: new Date(0), end: new Date() }, 1)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CustodianError);
    expect(failure).toMatchObject({ code: 'ERR_TMALL_TOP_FAILED', details: { code: 25 } });
    expect((failure as Error).message).toContain('Invalid signature');
    expect((failure as Error).message).not.toContain('wrong');
    expect(gateway.refused.slice(before)).toEqual([25]);
  });

  it('pages through the incremental sync until has_next is false, and imports each order once', async () => {
    const sync = await syncTmallOrders(env.deps, tester, client(), {
      start: new Date('2025-01-01T00:00:00Z'),
      end: new Date('2025-01-02T00:00:00Z'),
      pageSize: 7,
    });
    expect(sync.pages).toBe(5);
    expect(sync.counts).toMatchObject({
      rows: 30,
      imported: 30,
      rejected: 0,
      subjects: { new: 30, linked: 0 },
    });
    // Masked receiver fields from TOP are never stored as if they were real.
    expect(sync.counts.dropped.masked).toBeGreaterThanOrEqual(90);
    const pages = gateway.calls.filter((c) => c.method === 'taobao.trades.sold.increment.get').slice(-5);
    expect(pages.map((c) => c.params['page_no'])).toEqual(['1', '2', '3', '4', '5']);
    expect(pages[0]!.params).toMatchObject({
      start_modified: '2025-01-01 08:00:00',
      end_modified: '2025-01-02 08:00:00',
      session: 'seller-session',
    });
    const again = await syncTmallOrders(env.deps, tester, client(), {
      start: new Date(0),
      end: new Date(),
      pageSize: 50,
    });
    expect(again.counts).toMatchObject({ imported: 0, duplicates: 30 });
  });

  it('refuses to decrypt for a purpose the scene does not serve, before asking TOP (R30)', async () => {
    const calls = gateway.calls.length;
    const order = { tid: orders[0]!.orderId, oaid: customers[0]!.oaid };
    for (const [scene, purpose] of [
      [1001, 'customer-service'],
      [2001, 'order-fulfilment'],
      [1001, 'marketing'],
    ] as const) {
      await expect(
        decryptIntoVault({ ...env.deps, policy: env.runtime.policy }, tester, client(), {
          scene,
          purpose,
          orders: [order],
        }),
      ).rejects.toMatchObject({ code: 'ERR_TMALL_SCENE_PURPOSE' });
    }
    expect(() => assertScenePurpose(3001, 'order-fulfilment', DEFAULT_SCENE_PURPOSES)).toThrow(
      /not a decryption scene/,
    );
    expect(gateway.calls.length).toBe(calls);
  });

  it('decrypts in calls of at most 20 and collects straight into the vault for the scene purpose', async () => {
    const request = customers.map((c, i) => ({ tid: orders[i]!.orderId, oaid: c.oaid }));
    const before = gateway.calls.length;
    const result = await decryptIntoVault({ ...env.deps, policy: env.runtime.policy }, tester, client(), {
      scene: 1001,
      purpose: 'order-fulfilment',
      orders: request,
    });
    expect(result).toEqual({
      requested: 30,
      collected: 30,
      unmatched: 0,
      desensitized: 0,
      dropped: { masked: 0 },
      subjects: { new: 0, linked: 30 },
    });
    const decrypts = gateway.calls.slice(before).filter((c) => c.method === 'taobao.top.oaid.decrypt');
    expect(decrypts.map((c) => (JSON.parse(c.params['query_list']!) as unknown[]).length)).toEqual([20, 10]);
    expect(JSON.parse(decrypts[0]!.params['query_list']!)).toContainEqual({
      oaid: customers[0]!.oaid,
      tid: orders[0]!.orderId,
      scene: '1001',
    });

    const [found] = await env.runtime.vault.search(tester, 'oaid', customers[1]!.oaid, 'order-fulfilment');
    const address = found!.records.find(
      (r) => r.collection === 'address' && r.fields['recipientName'] !== undefined,
    );
    expect(address?.fields).toMatchObject({
      recipientName: { access: 'clear', value: customers[1]!.name },
      phone: { access: 'clear', value: customers[1]!.mobile },
      street: { access: 'clear', value: customers[1]!.address.street },
    });
    // A privacy number is kept as such, never as the buyer's phone (R30).
    const [virtual] = await env.runtime.vault.search(tester, 'oaid', customers[0]!.oaid, 'order-fulfilment');
    const decrypted = virtual!.records.find((r) => r.fields['recipientName'] !== undefined)!;
    expect(decrypted.fields['phone']).toBeUndefined();
    expect(decrypted.fields['privacyNumber']?.value).toMatch(/^188\d{8}-123$/);
    expect(await env.runtime.vault.search(tester, 'phone', receivers[0]!.mobile, 'order-fulfilment')).toEqual(
      [],
    );
  });

  it('collects only the mobile for an after-sales scene, for customer service', async () => {
    const result = await decryptIntoVault({ ...env.deps, policy: env.runtime.policy }, tester, client(), {
      scene: 2001,
      purpose: 'customer-service',
      orders: [{ tid: orders[2]!.orderId, oaid: customers[2]!.oaid }],
    });
    expect(result.collected).toBe(1);
    const [found] = await env.runtime.vault.search(tester, 'oaid', customers[2]!.oaid, 'customer-service');
    const service = env.query<{ n: number }>(
      "select count(*) as n from records where purpose = 'customer-service' and source = 'tmall:top-decrypt'",
    );
    expect(service[0]!.n).toBe(1);
    const latest = found!.records.filter((r) => r.collection === 'address').at(-1)!;
    expect(Object.keys(latest.fields)).toEqual(['phone']);
  });
});

describe('TOP order ids and masked receivers', () => {
  const appKey = '12345678';
  const appSecret = 'test-secret';
  /** 19 digits: `JSON.parse` makes both `3563214785236987400`. */
  const big = ['3563214785236987456', '3563214785236987457'];
  const trade = (tid: string, oaid: string) => ({
    tid,
    status: 'WAIT_SELLER_SEND_GOODS',
    created: '2025-01-01 10:00:00',
    modified: '2025-01-01 10:00:00',
    payment: '88.00',
    title: '保温杯',
    oaid,
  });
  let env: TmallEnv;
  const gateways: TopGateway[] = [];
  const gateway = async (options: Omit<Parameters<typeof startTopGateway>[0], 'appKey' | 'appSecret'>) => {
    const g = await startTopGateway({ appKey, appSecret, ...options });
    gateways.push(g);
    return g;
  };
  const client = (g: TopGateway): TopClient =>
    new TopClient({
      gateway: g.url,
      appKey,
      appSecret,
      signMethod: 'hmac-sha256',
      session: 'seller-session',
      scenes: DEFAULT_SCENE_PURPOSES,
    });
  const window = { start: new Date('2025-01-01T00:00:00Z'), end: new Date('2025-01-02T00:00:00Z') };
  const importedIds = (runId: string): string[] =>
    env
      .query<{ order_id: string }>(
        'select order_id from import_orders where run_id = ? order by order_id',
        runId,
      )
      .map((r) => r.order_id);

  beforeAll(async () => {
    env = await tmallEnv();
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await env.close();
  });

  it('stores 19-digit order ids exactly from tid_str, so neighbours do not collide and an export matches', async () => {
    const g = await gateway({
      trades: [trade(big[0]!, 'OAIDBIG0000000001'), trade(big[1]!, 'OAIDBIG0000000002')],
    });
    const sync = await syncTmallOrders(env.deps, tester, client(g), window);
    expect(sync.counts).toMatchObject({ rows: 2, imported: 2, duplicates: 0, rejected: 0 });
    expect(importedIds(sync.runId)).toEqual(big);
    expect(g.calls[0]!.params['fields']!.split(',')).toContain('tid_str');
    const [view] = await env.runtime.vault.search(tester, 'oaid', 'OAIDBIG0000000001', 'order-fulfilment');
    expect(view!.records.map((r) => r.fields['orderId']?.value)).toContain(big[0]);

    // The same order in a file export is the same order.
    const file = join(env.dir, 'big-ids.csv');
    writeFileSync(file, `订单编号,订单创建时间,总金额\n"${big[0]!}",2025-01-01 10:00:00,88.00\n`);
    const exported = await importTmallOrders(env.deps, IMPORTER, { file });
    expect(exported.counts).toMatchObject({ rows: 1, imported: 0, duplicates: 1, rejected: 0 });
  });

  it('accepts a numeric tid only while it is exact, and refuses a rounded one as order-id-invalid', async () => {
    const g = await gateway({
      tidStr: false,
      trades: [
        trade('90071992547409', 'OAIDNUM0000000001'),
        trade('3563214785236987999', 'OAIDNUM0000000002'),
      ],
    });
    const sync = await syncTmallOrders(env.deps, tester, client(g), window);
    expect(sync.counts).toMatchObject({ rows: 2, imported: 1, duplicates: 0, rejected: 1 });
    expect(importedIds(sync.runId)).toEqual(['90071992547409']);
    const rejects = env.query<{ ordinal: number; columns: string; reasons: string }>(
      'select ordinal, columns, reasons from import_rejects where run_id = ?',
      sync.runId,
    );
    expect(rejects).toHaveLength(1);
    expect(rejects[0]!.ordinal).toBe(2);
    expect(JSON.parse(rejects[0]!.reasons)).toEqual(['order-id-invalid']);
    expect(JSON.parse(rejects[0]!.columns)).toEqual(['tid']);
    // Nothing of the refused trade reached the vault.
    expect(await env.runtime.vault.search(tester, 'oaid', 'OAIDNUM0000000002', 'order-fulfilment')).toEqual(
      [],
    );
  });

  it('never stores masked decrypted values, counts them, and skips receivers with a desensitize rule (R30)', async () => {
    const address = { state: '浙江省', city: '杭州市', district: '西湖区' };
    const g = await gateway({
      receivers: [
        // Scene 1001 answered with masks: none of them is the real name, mobile or street.
        {
          oaid: 'OAIDMASK000000001',
          tid: '4000000000000000011',
          name: '张*',
          mobile: '138****1234',
          address_detail: '****',
          ...address,
        },
        // A privacy-protected receiver whose number came back masked: not a privacy number.
        {
          oaid: 'OAIDMASK000000002',
          tid: '4000000000000000012',
          name: '李四',
          mobile: '138****1234',
          privacy_protection: true,
          address_detail: '文三路 478 号',
          ...address,
        },
        // Decryption refused for a closed order: plausible-looking values, none collected.
        {
          oaid: 'OAIDMASK000000003',
          tid: '4000000000000000013',
          name: '王五',
          mobile: '13900000003',
          address_detail: '文二路 1 号',
          desensitize_rule: 'DECRYPTION_DISABLED_BY_ORDERCLOSED',
          ...address,
        },
      ],
    });
    const result = await decryptIntoVault({ ...env.deps, policy: env.runtime.policy }, tester, client(g), {
      scene: 1001,
      purpose: 'order-fulfilment',
      orders: [
        { tid: '4000000000000000011', oaid: 'OAIDMASK000000001' },
        { tid: '4000000000000000012', oaid: 'OAIDMASK000000002' },
        { tid: '4000000000000000013', oaid: 'OAIDMASK000000003' },
      ],
    });

    const fieldsOf = async (oaid: string) => {
      const [view] = await env.runtime.vault.search(tester, 'oaid', oaid, 'order-fulfilment');
      return Object.fromEntries(
        Object.entries(view!.records.find((r) => r.collection === 'address')!.fields).map(([k, v]) => [
          k,
          v.value,
        ]),
      );
    };
    expect(await fieldsOf('OAIDMASK000000001')).toEqual({
      province: '浙江省',
      city: '杭州市',
      district: '西湖区',
    });
    expect(await fieldsOf('OAIDMASK000000002')).toEqual({
      recipientName: '李四',
      province: '浙江省',
      city: '杭州市',
      district: '西湖区',
      street: '文三路 478 号',
    });
    expect(await env.runtime.vault.search(tester, 'oaid', 'OAIDMASK000000003', 'order-fulfilment')).toEqual(
      [],
    );
    expect(result).toEqual({
      requested: 3,
      collected: 2,
      unmatched: 0,
      desensitized: 1,
      dropped: { masked: 4 },
      subjects: { new: 2, linked: 0 },
    });
    const stored = env.query<{ n: number }>(
      "select count(*) as n from records where source = 'tmall:top-decrypt'",
    );
    expect(stored[0]!.n).toBe(2);
  });
});
