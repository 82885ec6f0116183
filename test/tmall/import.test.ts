import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import SqliteDatabase from 'better-sqlite3';
import { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustodianError, isCustodianError } from '../../src/domain/errors.js';
import { maskPhone } from '../../src/domain/masking.js';
import {
  syntheticExportRows,
  writeSyntheticExport,
  type ExportRowTruth,
  type SyntheticExportResult,
} from '../../src/platforms/tmall/synthetic-export.js';
import {
  emptyCounts,
  EXPORT_RECORD_SOURCE,
  IMPORTER,
  ImportWriter,
  importTmallOrders,
  TMALL_SOURCE,
  type ImportProgress,
  type ImportSummary,
} from '../../src/services/importer.js';
import type { OrderMeta } from '../../src/services/import-batch.js';
import type { SubjectView } from '../../src/services/vault.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { ImmediateSqliteDialect, SQLITE_PRAGMAS } from '../../src/store/open.js';
import type { Repositories } from '../../src/store/store.js';
import type { Database } from '../../src/store/types.js';
import { runCli } from '../support/cli.js';
import { tester } from '../support/roles.js';
import { ByteScanner } from '../support/scan.js';
import { tmallEnv, type TmallEnv } from './helpers.js';

const SEED = 'tmall-import';
const ROWS = 600;

function truths(options: Parameters<typeof syntheticExportRows>[0]): ExportRowTruth[] {
  return [...syntheticExportRows(options)].map((r) => r.truth);
}

function recordOf(view: SubjectView, collection: string, field: string, value: string) {
  return view.records.find((r) => r.collection === collection && r.fields[field]?.value === value);
}

/** The headers of the hand-made exports below, and one row of them. */
const EXPORT_HEADER =
  '订单编号,买家会员名,收货人姓名,收货地址,联系手机,订单创建时间,总金额,订单状态,买家留言,OAID,buyer_open_uid';
function exportLine(
  r: ExportRowTruth,
  o: { orderId?: string; message?: string; openUid?: string } = {},
): string {
  return [
    o.orderId ?? r.orderId,
    r.customer.nick,
    r.customer.name,
    r.customer.address.full,
    r.customer.mobile,
    r.order.createdAt,
    r.order.amount,
    r.order.status,
    o.message ?? '',
    r.customer.oaid,
    o.openUid ?? r.customer.buyerOpenUid,
  ]
    .map((c) => `"${c}"`)
    .join(',');
}

/** The env's store, counting its units of work; the `fail`th is refused as a concurrent writer's would be. */
function counting(env: TmallEnv, fail?: number) {
  let units = 0;
  const store = new Proxy(env.runtime.store, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (name !== 'transaction')
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      return (work: (tx: Repositories) => Promise<unknown>) => {
        units++;
        if (units === fail)
          return Promise.reject(new CustodianError('ERR_STORE_CONFLICT', 'a concurrent writer'));
        return target.transaction(work);
      };
    },
  });
  return { deps: { ...env.deps, store }, units: () => units };
}

describe.each([{ threads: true }, { threads: false }])(
  'import tmall-orders: a GBK export with Chinese headers (threads: $threads)',
  ({ threads }) => {
    let env: TmallEnv;
    let file: string;
    let written: SyntheticExportResult;
    let first: ImportSummary;
    const options = { seed: SEED, rows: ROWS, malformedEvery: 100, encoding: 'gbk' as const };
    const rows = truths(options);
    const good = rows.filter((r) => r.malformed === undefined);

    beforeAll(async () => {
      env = await tmallEnv();
      file = join(env.dir, 'orders-export.csv');
      written = await writeSyntheticExport(file, options);
      first = await importTmallOrders(env.deps, IMPORTER, { file, batchSize: 128, threads });
    }, 120_000);
    afterAll(() => env.close());

    it('is read as GB18030 and imports every well-formed row', () => {
      expect(readFileSync(file).subarray(0, 8)).toEqual(iconv.encode('订单编号', 'gbk'));
      expect(first).toMatchObject({
        format: 'csv',
        encoding: 'gb18030',
        encodingDetectedBy: 'chardet',
        resumed: false,
      });
      expect(first.counts).toMatchObject({
        rows: ROWS,
        imported: written.good,
        duplicates: 0,
        rejected: written.malformed.length,
        records: written.good * 2,
      });
      expect(first.counts.subjects.new + first.counts.subjects.linked).toBe(written.good);
      expect(first.counts.subjects.new).toBe(written.customers);
      expect(first.ignoredColumns).toContain('买家支付宝账号');
      const orders = env.query<{ n: number }>(
        "select count(*) as n from import_orders where source = 'tmall'",
      );
      expect(orders[0]!.n).toBe(written.good);
    });

    it('reads the values back through the vault, linked by OAID', async () => {
      const sample = good.filter((r) => r.mobile === 'real').slice(0, 25);
      for (const row of sample) {
        const [view] = await env.runtime.vault.search(tester, 'oaid', row.customer.oaid, 'order-fulfilment');
        expect(view).toBeDefined();
        const order = recordOf(view!, 'order', 'orderId', row.orderId);
        expect(order?.fields).toMatchObject({
          amount: { access: 'clear', value: row.order.amount },
          status: { access: 'clear', value: row.order.status },
          createdAt: { access: 'clear', value: row.order.createdAt },
          itemTitle: { access: 'clear', value: row.order.itemTitle },
        });
        const address = view!.records.find(
          (r) =>
            r.collection === 'address' &&
            r.fields['street']?.value === row.customer.address.street &&
            r.fields['phone'] !== undefined,
        );
        expect(address?.fields).toMatchObject({
          phone: { access: 'clear', value: row.customer.mobile },
          province: { value: row.customer.address.province },
          city: { value: row.customer.address.city },
          district: { value: row.customer.address.district },
        });
        // Every order of the buyer in the file is on the same subject.
        const theirs = good.filter((g) => g.customer.id === row.customer.id);
        expect(view!.records.filter((r) => r.collection === 'order')).toHaveLength(theirs.length);
      }
      // A read by subject id gives the same, the name in clear for fulfilment.
      const row = sample[0]!;
      const [found] = await env.runtime.vault.search(tester, 'oaid', row.customer.oaid, 'order-fulfilment');
      const read = await env.runtime.vault.read(tester, found!.subjectId, 'order-fulfilment');
      expect(read.records.map((r) => r.fields['recipientName']?.value)).toContain(row.customer.name);
      expect(recordOf(read, 'order', 'orderId', row.orderId)).toBeDefined();
      // The nick is stored encrypted and shown in clear only where the data map says so.
      const nickRow = good.find((r) => !r.customer.nick.includes('*'))!;
      const [service] = await env.runtime.vault.search(
        tester,
        'memberId',
        nickRow.customer.buyerOpenUid,
        'customer-service',
      );
      expect(service!.records.some((r) => r.fields['buyerNick']?.value === nickRow.customer.nick)).toBe(true);
    });

    it('rejects malformed rows by line number and reason, with no personal data in the rejects file', () => {
      const expected = written.malformed.map((m) => ({ line: m.line, reasons: [m.kind] }));
      expect(first.rejects.map((r) => ({ line: r.line, reasons: r.reasons }))).toEqual(expected);
      expect(first.rejects.find((r) => r.reasons[0] === 'date-invalid')?.columns).toEqual(['订单创建时间']);
      const lines = readFileSync(`${file}.rejects.jsonl`, 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(
        first.rejects.map((r) => ({ line: r.line, row: r.row, columns: r.columns, reasons: r.reasons })),
      );
      const text = lines.join('\n');
      for (const row of rows) {
        expect(text).not.toContain(row.customer.name);
        expect(text).not.toContain(row.customer.mobile);
        expect(text).not.toContain(row.orderId);
      }
    });

    it('never takes a masked value or a privacy number for a phone (R30)', async () => {
      const virtual = good.filter((r) => r.mobile === 'virtual');
      const masked = good.filter((r) => r.mobile === 'masked');
      expect(virtual.length).toBeGreaterThan(0);
      expect(masked.length).toBeGreaterThan(0);
      expect(first.counts.dropped.privacyNumberStored).toBe(virtual.length);
      expect(first.counts.dropped.masked).toBeGreaterThanOrEqual(masked.length);
      for (const row of virtual) {
        const [view] = await env.runtime.vault.search(tester, 'oaid', row.customer.oaid, 'order-fulfilment');
        const address = view!.records.find((r) => r.fields['privacyNumber'] !== undefined);
        expect(address?.fields['phone']).toBeUndefined();
        expect(address?.fields['privacyNumber']?.value).toMatch(/^1\d{10}-\d{3,4}$/);
        const number = address!.fields['privacyNumber']!.value!;
        expect(await env.runtime.vault.search(tester, 'phone', number, 'order-fulfilment')).toEqual([]);
      }
      const row = masked[0]!;
      const [view] = await env.runtime.vault.search(tester, 'oaid', row.customer.oaid, 'order-fulfilment');
      const values = view!.records.flatMap((r) => Object.values(r.fields).map((f) => f.value));
      expect(values).not.toContain(maskPhone(row.customer.mobile));
    });

    it('adds nothing when the same file is imported again', async () => {
      const count = (): number => env.query<{ n: number }>('select count(*) as n from records')[0]!.n;
      const audit = (): number => env.query<{ n: number }>('select count(*) as n from audit_log')[0]!.n;
      const [records, entries] = [count(), audit()];
      const again = await importTmallOrders(env.deps, IMPORTER, { file, batchSize: 500, threads });
      expect(again.counts).toMatchObject({
        rows: ROWS,
        imported: 0,
        duplicates: written.good,
        rejected: written.malformed.length,
        records: 0,
        subjects: { new: 0, linked: 0, unkeyed: 0 },
      });
      expect(again.runId).not.toBe(first.runId);
      expect(count()).toBe(records);
      expect(audit()).toBe(entries);
    });

    it('leaves no buyer name, phone or address in clear in the database files or the logs', () => {
      const dbDir = dirname(env.dbPath);
      const files = readdirSync(dbDir).map((f) => join(dbDir, f));
      expect(files.some((f) => f.endsWith('-wal'))).toBe(true);
      const haystacks = [
        ...files.map((f) => readFileSync(f)),
        Buffer.from(env.logs.join('\n'), 'utf8'),
        readFileSync(`${file}.rejects.jsonl`),
      ];
      const needles = rows.flatMap((r) =>
        (
          [
            ['name', r.customer.name],
            ['phone', r.customer.mobile],
            ['street', r.customer.address.street],
          ] as const
        ).flatMap(([kind, value]) =>
          [
            { label: `${kind} of ${r.customer.id}`, bytes: Buffer.from(value, 'utf8') },
            { label: `${kind} of ${r.customer.id} (UTF-16)`, bytes: Buffer.from(value, 'utf16le') },
            { label: `${kind} of ${r.customer.id} (GBK)`, bytes: iconv.encode(value, 'gbk') },
            // A 4-byte needle (a two-character name in UTF-16 or GBK) turns up in megabytes of random
            // ciphertext by chance in a few runs of a hundred; 6 bytes and more do not. The UTF-8
            // form of such a name (6 bytes) is still looked for.
          ].filter((needle) => needle.bytes.length >= 6),
        ),
      );
      const scanner = new ByteScanner(needles);
      const planted = Buffer.from(`…"x":"${rows[3]!.customer.address.street}"…`);
      expect([...scanner.scan(planted)]).toContain(`street of ${rows[3]!.customer.id}`);
      const leaks = [...new Set(haystacks.flatMap((h) => [...scanner.scan(h)]))];
      expect(leaks).toEqual([]);
    });
  },
);

describe('import tmall-orders: other shapes of export', () => {
  let env: TmallEnv;
  beforeAll(async () => {
    env = await tmallEnv();
  });
  afterAll(() => env.close());

  it('keeps buyers apart when the export has no OAID or buyer_open_uid (never merged on phone, R30)', async () => {
    const file = join(env.dir, 'no-ids.csv');
    const options = { seed: 'no-ids', rows: 60, encoding: 'gbk' as const, withoutPlatformIds: true };
    const written = await writeSyntheticExport(file, options);
    const summary = await importTmallOrders(env.deps, IMPORTER, { file });
    expect(summary.counts).toMatchObject({
      imported: 60,
      subjects: { new: 60, linked: 0, unkeyed: 60 },
      records: 120,
    });
    expect(written.good).toBe(60);
  });

  it('never keys buyers on a masked or placeholder OAID (R30)', async () => {
    const file = join(env.dir, 'masked-ids.csv');
    writeFileSync(
      file,
      [
        '订单编号,收货人姓名,联系手机,订单创建时间,OAID',
        '910000000000000001,王小明,13900000011,2025-05-01 10:00:00,****',
        '910000000000000002,李娜,13900000012,2025-05-01 11:00:00,****',
        '910000000000000003,赵四,13900000013,2025-05-01 12:00:00,-',
      ].join('\n'),
    );
    const summary = await importTmallOrders(env.deps, IMPORTER, { file });
    // Two strangers whose keys were masked alike stay two customers; the masks are counted.
    expect(summary.counts).toMatchObject({
      imported: 2,
      rejected: 1,
      subjects: { new: 2, linked: 0, unkeyed: 2 },
    });
    expect(summary.counts.dropped.masked).toBe(2);
    const rejects = readFileSync(`${file}.rejects.jsonl`, 'utf8').trim().split('\n');
    expect(rejects.map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ line: 4, reasons: ['identity-invalid'], columns: ['OAID'] }),
    ]);
  });

  it('reads UTF-8 with a byte-order mark', async () => {
    const file = join(env.dir, 'utf8.csv');
    await writeSyntheticExport(file, { seed: 'utf8', rows: 20, encoding: 'utf-8', bom: true });
    const summary = await importTmallOrders(env.deps, IMPORTER, { file });
    expect(summary).toMatchObject({ encoding: 'utf-8', encodingDetectedBy: 'bom' });
    expect(summary.counts).toMatchObject({ imported: 20, rejected: 0 });
  });

  it('writes nothing on a dry run', async () => {
    const file = join(env.dir, 'dry.csv');
    const written = await writeSyntheticExport(file, { seed: 'dry', rows: 40, malformedEvery: 10 });
    const before = env.query<{ n: number }>('select count(*) as n from records')[0]!.n;
    const summary = await importTmallOrders(env.deps, IMPORTER, { file, dryRun: true });
    expect(summary).toMatchObject({ dryRun: true, runId: null });
    expect(summary.counts).toMatchObject({ rows: 40, imported: written.good, rejected: 4 });
    expect(env.query<{ n: number }>('select count(*) as n from records')[0]!.n).toBe(before);
  });

  it('imports an XLSX export: text order ids, date cells, numbers', async () => {
    const file = join(env.dir, 'orders.xlsx');
    const customers = truths({ seed: 'xlsx', rows: 5 });
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('订单报表');
    sheet.addRow([
      '订单编号',
      '买家会员名',
      '收货人姓名',
      '收货地址',
      '联系手机',
      '订单创建时间',
      '总金额',
      '订单状态',
      'OAID',
    ]);
    for (const r of customers)
      sheet.addRow([
        r.orderId,
        r.customer.nick,
        r.customer.name,
        r.customer.address.full,
        r.customer.mobile,
        new Date(`${r.order.createdAt.replace(' ', 'T')}Z`),
        Number(r.order.amount),
        r.order.status,
        r.customer.oaid,
      ]);
    // A row Excel damaged: the order id became a float, the date is text nobody can read.
    sheet.addRow([4.1234567890123e18, 'x', '张三', '', '', 'someday', 1, '交易成功', 'OAIDX']);
    await workbook.xlsx.writeFile(file);

    const summary = await importTmallOrders(env.deps, IMPORTER, { file });
    expect(summary).toMatchObject({ format: 'xlsx', encoding: 'xlsx' });
    expect(summary.counts).toMatchObject({ rows: 6, imported: 5, rejected: 1 });
    expect(summary.rejects).toEqual([
      {
        line: 7,
        row: 6,
        columns: ['订单编号', '订单创建时间'],
        reasons: ['order-id-invalid', 'date-invalid'],
      },
    ]);
    const r = customers[0]!;
    const [view] = await env.runtime.vault.search(tester, 'oaid', r.customer.oaid, 'order-fulfilment');
    expect(recordOf(view!, 'order', 'orderId', r.orderId)?.fields).toMatchObject({
      createdAt: { value: r.order.createdAt },
      amount: { value: r.order.amount },
    });
    expect(view!.records.find((x) => x.collection === 'address')?.fields).toMatchObject({
      recipientName: { value: r.customer.name },
      street: { value: r.customer.address.street },
    });
  });

  it('rejects an XLSX order id stored as a number of 16 digits or more (Excel keeps 15)', async () => {
    const file = join(env.dir, 'numeric-ids.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('订单报表');
    sheet.addRow(['订单编号', '收货人姓名', '订单创建时间']);
    sheet.addRow(['920000000000000001', '王小明', '2025-05-01 10:00:00']);
    // 4123456789012345 typed into a cell: Excel keeps 4123456789012340, and …341 would collide with it.
    sheet.addRow([4123456789012340, '李娜', '2025-05-01 11:00:00']);
    sheet.addRow([4123456789012341, '赵四', '2025-05-01 12:00:00']);
    // Fifteen digits are exact: imported.
    sheet.addRow([412345678901234, '张三', '2025-05-01 13:00:00']);
    await workbook.xlsx.writeFile(file);

    const summary = await importTmallOrders(env.deps, IMPORTER, { file });
    expect(summary.counts).toMatchObject({ rows: 4, imported: 2, rejected: 2 });
    expect(summary.rejects).toEqual([
      { line: 3, row: 2, columns: ['订单编号'], reasons: ['order-id-invalid'] },
      { line: 4, row: 3, columns: ['订单编号'], reasons: ['order-id-invalid'] },
    ]);
    const ids = env.query<{ order_id: string }>(
      "select order_id from import_orders where source = 'tmall' and order_id in ('920000000000000001', '412345678901234', '4123456789012340', '4123456789012341')",
    );
    expect(ids.map((r) => r.order_id).sort()).toEqual(['412345678901234', '920000000000000001']);
  });

  it('rejects a row the vault refuses and imports the rest of its batch, writing the batch in halves', async () => {
    const file = join(env.dir, 'ambiguous.csv');
    const customers = truths({ seed: 'ambiguous', rows: 40 });
    const [a, b] = [customers[0]!, customers.find((r) => r.customer.oaid !== customers[0]!.customer.oaid)!];
    const rows = customers.map((r) => exportLine(r));
    // A's OAID with B's buyer_open_uid: two buyers at once, which the vault refuses (R30).
    rows.splice(20, 0, exportLine(a, { orderId: '4000000000000000001', openUid: b.customer.buyerOpenUid }));
    writeFileSync(file, [EXPORT_HEADER, ...rows].join('\n'));
    const counted = counting(env);

    const summary = await importTmallOrders(counted.deps, IMPORTER, { file, batchSize: 64 });
    expect(summary.counts).toMatchObject({ rows: 41, imported: 40, rejected: 1, records: 80 });
    expect(summary.rejects).toEqual([{ line: 22, row: 21, columns: [], reasons: ['ERR_SUBJECT_AMBIGUOUS'] }]);
    // The run's start and end; the batch of 41, refused; then two halves per level down to the
    // refused row (rows 1–21 and 22–41, 1–11 and 12–21, 12–16 and 17–21, 17–19 and 20–21, 20 and
    // 21); the row again as a reject: 14 units of work, where one per row took 45.
    expect(counted.units()).toBe(14);
    // Both buyers' own orders are in; the refused one is with neither.
    for (const [kind, value, orderId] of [
      ['oaid', a.customer.oaid, a.orderId],
      ['memberId', b.customer.buyerOpenUid, b.orderId],
    ] as const) {
      const [view] = await env.runtime.vault.search(tester, kind, value, 'order-fulfilment');
      const orders = view!.records.map((r) => r.fields.orderId?.value);
      expect(orders).toContain(orderId);
      expect(orders).not.toContain('4000000000000000001');
    }
  });

  it('writes a batch again once another process releases the write lock, and stops with ERR_STORE_BUSY while it keeps it', async () => {
    // The store as another process opens it (`custodian import` beside `custodian serve`), waiting
    // 20 ms for SQLite's write lock instead of 5 s; a third connection takes the lock.
    const database = new SqliteDatabase(env.dbPath);
    for (const pragma of SQLITE_PRAGMAS) database.pragma(pragma);
    database.pragma('busy_timeout = 20');
    const busy = new KyselyStore(
      'sqlite',
      new Kysely<Database>({ dialect: new ImmediateSqliteDialect(database) }),
    );
    const other = new SqliteDatabase(env.dbPath);
    /** The store, with the lock taken at the first batch (the run's start is the first unit of work). */
    const locking = (releaseAfter: number) => {
      const refusals: unknown[] = [];
      let units = 0;
      const store = new Proxy(busy, {
        get(target, name, receiver) {
          if (name === 'transaction')
            return async <T>(work: (tx: Repositories) => Promise<T>): Promise<T> => {
              if (++units === 2) other.exec('begin immediate');
              try {
                return await target.transaction(work);
              } catch (error) {
                refusals.push(isCustodianError(error) ? error.code : error);
                if (refusals.length === releaseAfter) other.exec('rollback');
                throw error;
              }
            };
          const value: unknown = Reflect.get(target, name, receiver);
          return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
        },
      });
      return { deps: { ...env.deps, store }, refusals };
    };
    const exact = (written: SyntheticExportResult) => ({
      rows: written.rows,
      imported: written.good,
      duplicates: 0,
      rejected: written.malformed.length,
      records: written.good * 2,
      subjects: { new: written.customers, linked: written.good - written.customers, unkeyed: 0 },
    });
    const ordersOf = (runId: string | null) =>
      env.query<{ n: number }>('select count(*) as n from import_orders where run_id = ?', runId)[0]!.n;
    try {
      // Released after two refusals: the first batch goes in at its third try, and nothing twice.
      const file = join(env.dir, 'busy.csv');
      const written = await writeSyntheticExport(file, { seed: 'busy', rows: 48, encoding: 'utf-8' });
      const released = locking(2);
      const summary = await importTmallOrders(released.deps, IMPORTER, { file, batchSize: 16 });
      expect(released.refusals).toEqual(['ERR_STORE_BUSY', 'ERR_STORE_BUSY']);
      expect(summary.counts).toMatchObject(exact(written));
      expect(ordersOf(summary.runId)).toBe(written.good);

      // Kept: a few tries, then the import stops with the code; run again, it resumes and ends
      // with the same counts as an undisturbed run.
      const kept = join(env.dir, 'busy-kept.csv');
      const keptWritten = await writeSyntheticExport(kept, {
        seed: 'busy-kept',
        rows: 48,
        encoding: 'utf-8',
      });
      const held = locking(Number.POSITIVE_INFINITY);
      await expect(
        importTmallOrders(held.deps, IMPORTER, { file: kept, batchSize: 16 }),
      ).rejects.toMatchObject({
        code: 'ERR_STORE_BUSY',
      });
      expect(held.refusals.length).toBeGreaterThan(1);
      expect(new Set(held.refusals)).toEqual(new Set(['ERR_STORE_BUSY']));
      other.exec('rollback');
      const resumed = await importTmallOrders(env.deps, IMPORTER, { file: kept, batchSize: 16 });
      expect(resumed.resumed).toBe(true);
      expect(resumed.counts).toMatchObject(exact(keptWritten));
      expect(ordersOf(resumed.runId)).toBe(keptWritten.good);
    } finally {
      if (other.inTransaction) other.exec('rollback');
      other.close();
      await busy.close();
    }
  });

  it('follows a --map file, and refuses one that names fields the data map lacks or maps a phone onto a field', async () => {
    const file = join(env.dir, 'custom.csv');
    writeFileSync(
      file,
      [
        '单号,客户,手机号码,下单日期,备注',
        '900000000000000001,王小明,13900000001,2025-05-01 10:00:00,尽快发货',
        '900000000000000002,李小红,13900000002,2025-05-02 10:00:00,',
      ].join('\n'),
    );
    const mapFile = join(env.dir, 'map.yaml');
    writeFileSync(
      mapFile,
      'columns:\n  单号: orderId\n  客户: recipientName\n  手机号码: mobile\n  下单日期: createdAt\n  备注: order.buyerMessage\n',
    );
    const run = await runCli([
      'import',
      'tmall-orders',
      file,
      '--map',
      mapFile,
      '--config',
      env.configPath,
      '--json',
      '--no-threads',
    ]);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as ImportSummary;
    expect(summary.counts).toMatchObject({ imported: 2, subjects: { unkeyed: 2 } });
    expect(run.stderr).toMatch(/importing rows: \d+\/\d+/);

    // A phone column mapped straight onto a field would skip the masked and privacy-number checks.
    writeFileSync(mapFile, 'columns:\n  单号: orderId\n  手机号码: address.phone\n');
    const direct = await runCli([
      'import',
      'tmall-orders',
      file,
      '--map',
      mapFile,
      '--config',
      env.configPath,
    ]);
    expect(direct.code).toBe(2);
    expect(direct.stderr).toContain('columns.手机号码');

    writeFileSync(mapFile, 'columns:\n  单号: orderId\n  备注: order.sellerNote\n');
    const bad = await runCli(['import', 'tmall-orders', file, '--map', mapFile, '--config', env.configPath]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('order.sellerNote');

    writeFileSync(join(env.dir, 'no-id.csv'), '收货人姓名,联系手机\n王小明,13900000001\n');
    const noId = await runCli([
      'import',
      'tmall-orders',
      join(env.dir, 'no-id.csv'),
      '--config',
      env.configPath,
    ]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain('订单编号');
  });
});

/**
 * The import in two threads (src/services/import-worker.ts): the next batch prepared, planned and
 * sealed while the one before is written. It must store what the import in one thread stores,
 * and fall back to one unit of work per batch, exactly, wherever the plan made ahead fails.
 */
describe('import tmall-orders: in two threads', () => {
  const tally = (env: TmallEnv): Record<string, number> =>
    Object.fromEntries(
      ['subjects', 'subject_keys', 'identities', 'records', 'audit_log', 'import_orders'].map((table) => [
        table,
        env.query<{ n: number }>(`select count(*) as n from ${table}`)[0]!.n,
      ]),
    );
  const envs: TmallEnv[] = [];
  const fresh = async (options: Parameters<typeof tmallEnv>[0] = {}): Promise<TmallEnv> => {
    const env = await tmallEnv(options);
    envs.push(env);
    return env;
  };
  afterAll(async () => {
    for (const env of envs) await env.close();
  });

  it('stores what one thread stores, buyers found across batches not yet committed', async () => {
    const [one, two] = [await fresh(), await fresh()];
    const options = { seed: 'two-threads', rows: 400, malformedEvery: 50, encoding: 'gbk' as const };
    const files = [join(one.dir, 'orders.csv'), join(two.dir, 'orders.csv')];
    const written = await writeSyntheticExport(files[0]!, options);
    await writeSyntheticExport(files[1]!, options);
    // Batches of 8: most buyers come back in a batch planned before theirs was committed.
    const single = await importTmallOrders(one.deps, IMPORTER, {
      file: files[0]!,
      batchSize: 8,
      threads: false,
    });
    const counted = counting(two);
    const threaded = await importTmallOrders(counted.deps, IMPORTER, {
      file: files[1]!,
      batchSize: 8,
      threads: true,
    });
    // The run's start and finish and one unit of work per batch: no plan made ahead failed.
    expect(counted.units()).toBe(2 + 400 / 8);
    expect(threaded.counts).toEqual(single.counts);
    expect(threaded.counts.subjects.new).toBe(written.customers);
    expect(threaded.rejects).toEqual(single.rejects);
    expect(tally(two)).toEqual(tally(one));
    expect(two.query('select count(*) as n from identities group by kind order by kind')).toEqual(
      one.query('select count(*) as n from identities group by kind order by kind'),
    );
  });

  it('reports progress by the bytes the thread has read, the whole file at the end', async () => {
    const env = await fresh();
    const file = join(env.dir, 'orders.csv');
    // More than the 1 MiB the file is read in at a time.
    await writeSyntheticExport(file, { seed: 'progress', rows: 4000, encoding: 'gbk' });
    const seen: ImportProgress[] = [];
    await importTmallOrders(env.deps, IMPORTER, { file, threads: true, onProgress: (p) => seen.push(p) });
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(1 << 20);
    expect(seen.at(-1)).toEqual({ rows: 4000, bytesRead: size, bytesTotal: size });
    expect(seen.slice(1).every((p, i) => p.rows >= seen[i]!.rows)).toBe(true);
  });

  it('takes from the thread only records the data map allows, clear values only of plain fields', async () => {
    const env = await fresh();
    const writer = new ImportWriter(env.deps, IMPORTER, {
      source: TMALL_SOURCE,
      recordSource: EXPORT_RECORD_SOURCE,
      plan: { purpose: 'order-fulfilment', orderCollection: 'order' },
      run: undefined,
      counts: emptyCounts(),
    });
    const row = (fieldNames: string[], plain: Record<string, string>): OrderMeta => ({
      kind: 'order',
      ordinal: 1,
      orderId: '1000000000000000001',
      keyed: false,
      drops: {},
      records: [
        {
          collection: 'order',
          purpose: 'order-fulfilment',
          source: EXPORT_RECORD_SOURCE,
          subjectId: undefined,
          subjectOf: undefined,
          given: [],
          identities: [],
          fieldNames,
          plain,
          sensitive: false,
          stripped: [],
          screened: [],
        },
      ],
    });
    // The nick is encrypted by the data map: a clear value of it is refused, as is an undeclared field.
    for (const bad of [
      row(['orderId', 'buyerNick'], { orderId: '1000000000000000001', buyerNick: '张三' }),
      row(['orderId', 'sellerNote'], { orderId: '1000000000000000001' }),
    ])
      await expect(writer.stage(0, [bad], 0, undefined)).rejects.toThrow('the data map does not allow');
    const staged = await writer.stage(
      0,
      [row(['orderId'], { orderId: '1000000000000000001' })],
      0,
      undefined,
    );
    expect(staged.metas).toHaveLength(1);
  });

  it('counts an order repeated in the next batch, before the first is committed, as a duplicate', async () => {
    const env = await fresh();
    const file = join(env.dir, 'repeated.csv');
    const [a, b, c] = truths({ seed: 'repeated', rows: 3 });
    writeFileSync(
      file,
      [EXPORT_HEADER, exportLine(a!), exportLine(b!), exportLine(a!), exportLine(c!)].join('\n'),
    );
    const counted = counting(env);
    const summary = await importTmallOrders(counted.deps, IMPORTER, { file, batchSize: 2, threads: true });
    expect(summary.counts).toMatchObject({ rows: 4, imported: 3, duplicates: 1, records: 6 });
    expect(counted.units()).toBe(4);
    expect(tally(env)['import_orders']).toBe(3);
  });

  it('writes a batch whose unit of work failed again in one unit of work, and the batch planned after it too', async () => {
    const [reference, env] = [await fresh(), await fresh()];
    const options = { seed: 'conflict', rows: 120, encoding: 'gbk' as const };
    const [kept, file] = [join(reference.dir, 'orders.csv'), join(env.dir, 'orders.csv')];
    await writeSyntheticExport(kept, options);
    await writeSyntheticExport(file, options);
    const expected = await importTmallOrders(reference.deps, IMPORTER, {
      file: kept,
      batchSize: 16,
      threads: false,
    });
    // The run's start is unit of work 1, the first batch 2; the second batch's fails once, as a
    // concurrent writer's would (ERR_STORE_CONFLICT).
    const counted = counting(env, 3);
    const summary = await importTmallOrders(counted.deps, IMPORTER, {
      file,
      batchSize: 16,
      threads: true,
    });
    // Then the second batch in a unit of work of its own (4) and the third, planned after it,
    // too (5); the five batches left as planned (6-10); the finish (11).
    expect(counted.units()).toBe(11);
    expect(summary.counts).toEqual(expected.counts);
    expect(tally(env)).toEqual(tally(reference));
  });

  it('collects a batch the thread cannot prepare in one unit of work, rejecting the refused row by the vault code', async () => {
    // Free text with personal data in it refused outright, not masked.
    const env = await fresh({
      edit: (yaml) => yaml.replace('freeText: { pii: mask }', 'freeText: { pii: reject }'),
    });
    const file = join(env.dir, 'refused.csv');
    const rows = truths({ seed: 'refused', rows: 12 });
    const lines = rows.map((r, i) =>
      exportLine(r, { message: i === 5 ? '请打电话 13912345678 再送' : '放门口' }),
    );
    writeFileSync(file, [EXPORT_HEADER, ...lines].join('\n'));
    const counted = counting(env);
    const summary = await importTmallOrders(counted.deps, IMPORTER, { file, batchSize: 4, threads: true });
    expect(summary.counts).toMatchObject({ rows: 12, imported: 11, rejected: 1, records: 22 });
    // Start (1), the first batch (2); the second refused whole (3), rows 5-6 (4), 5 (5), 6 (6), 6
    // as a reject (7), 7-8 (8); the third batch (9); the finish (10).
    expect(counted.units()).toBe(10);
    expect(summary.rejects).toEqual([
      { line: 7, row: 6, columns: [], reasons: ['ERR_COLLECT_PII_REJECTED'] },
    ]);
  });
});
