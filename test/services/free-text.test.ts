import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openField } from '../../src/crypto/envelope.js';
import { decodeSealedFields } from '../../src/services/sealed-record.js';
import { runCli } from '../support/cli.js';
import { testApp, type TestApp } from '../support/app.js';
import { tester } from '../support/roles.js';

/** Issue 4 acceptance: PII in a buyer message is masked before it is stored, and `pii scan` finds it. */
describe('free-text screening at collection', () => {
  let t: TestApp;
  const id = '11010519491231002X';
  const message = `麻烦开发票，身份证号${id}，谢谢`;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  it('stores a buyer message with the national id masked and reports it', async () => {
    const result = await t.runtime.vault.collect(tester, {
      collection: 'order',
      fields: { orderId: '3512345678901234567', buyerMessage: message },
      purpose: 'order-fulfilment',
    });
    expect(result.screened).toEqual([{ field: 'buyerMessage', action: 'masked', types: ['national-id'] }]);
    const [record] = await t.store.records.listForSubject(result.subjectId);
    const envelope = decodeSealedFields(record!.sealed).get('buyerMessage')!;
    const key = await t.runtime.keyring.unwrap((await t.store.keys.current(result.subjectId))!);
    const stored = openField(envelope, {
      context: {
        subjectId: result.subjectId,
        collection: 'order',
        recordId: record!.id,
        field: 'buyerMessage',
      },
      key: key.key,
      keyVersion: key.version,
    }).toString('utf8');
    expect(stored).not.toContain(id);
    expect(stored).toContain('身份证号110***********002X');
    expect(stored).toContain('麻烦开发票');
  });

  it('refuses fields the purpose does not need, naming them, and stores nothing', async () => {
    const before = await t.store.subjects.count();
    await expect(
      t.runtime.vault.collect(tester, {
        collection: 'profile',
        fields: { name: '王五', birthDate: '1990-01-01' },
        purpose: 'customer-service',
      }),
    ).rejects.toMatchObject({ code: 'ERR_COLLECT_FIELDS_NOT_NEEDED', details: { fields: ['birthDate'] } });
    expect(await t.store.subjects.count()).toEqual(before);
  });

  it('is found by `custodian pii scan` without printing the value', async () => {
    writeFileSync(join(t.dir, 'messages.txt'), `${message}\n普通留言，没有个人信息\n`);
    const scan = await runCli(['pii', 'scan', 'messages.txt', '--json'], { cwd: t.dir });
    expect(scan.code).toBe(1);
    expect(scan.stdout).toContain('national-id');
    expect(scan.stdout).not.toContain(id);
    expect(scan.stderr).not.toContain(id);
  });
});
