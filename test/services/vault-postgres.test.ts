import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { initProject } from '../../src/services/setup.js';
import type { Principal } from '../../src/services/tokens.js';
import { freshDatabase, probePostgres, type FreshDatabase } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';
import { TEST_ROLES } from '../support/roles.js';

const probe = await probePostgres();
const operator: Principal = { kind: 'token', id: 'tok', name: 'op', role: 'tester', trainingCurrent: true };

if (!probe.ok) {
  describe('vault on PostgreSQL', () => {
    it.skip(`skipped: ${probe.reason}`, () => undefined);
  });
} else {
  describe('vault on PostgreSQL', () => {
    const dir = tempDir('custodian-pgvault-');
    let db: FreshDatabase;
    let rt: Runtime;
    beforeAll(async () => {
      db = await freshDatabase();
      const { configPath } = await initProject({ dir: dir.path });
      writeFileSync(
        configPath,
        readFileSync(configPath, 'utf8').replace(
          'database:\n  engine: sqlite\n  path: data/custodian.db',
          `database:\n  engine: postgres\n  url: \${env:TEST_DATABASE_URL}`,
        ),
      );
      rt = await openRuntime(
        loadConfig({ explicit: configPath, env: { TEST_DATABASE_URL: db.url } }).config,
        { roles: TEST_ROLES },
      );
      expect(rt.store.engine).toBe('postgres');
    });
    afterAll(async () => {
      await rt.close();
      await db.drop();
      dir.remove();
    });

    it('collects, reads, searches and erases', async () => {
      const [c] = generateCustomers('pg-vault', 1);
      const { subjectId } = await rt.vault.collect(operator, {
        collection: 'address',
        identities: { oaid: c!.oaid },
        fields: { recipientName: c!.name, phone: c!.mobile, street: c!.address.street },
        purpose: 'order-fulfilment',
      });
      const view = await rt.vault.read(operator, subjectId, 'order-fulfilment');
      expect(view.records[0]?.fields['street']).toEqual({ access: 'clear', value: c!.address.street });
      expect((await rt.vault.search(operator, 'phone', c!.mobile, 'customer-service'))[0]?.subjectId).toBe(
        subjectId,
      );
      const receipt = await rt.vault.erase(operator, subjectId);
      expect(receipt.recordsDeleted).toBe(1);
      await expect(rt.vault.read(operator, subjectId, 'order-fulfilment')).rejects.toMatchObject({
        code: 'ERR_SUBJECT_ERASED',
      });
    });

    it('creates one subject when concurrent collects race for the same new buyer', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          rt.vault.collect(operator, {
            collection: 'order',
            identities: { oaid: 'race-oaid' },
            fields: { orderId: `T${i}` },
            purpose: 'order-fulfilment',
          }),
        ),
      );
      expect(new Set(results.map((r) => r.subjectId)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const view = await rt.vault.read(operator, results[0]!.subjectId, 'order-fulfilment');
      expect(view.records).toHaveLength(8);
      expect((await rt.auditLog.verify()).problems).toEqual([]);
    });
  });
}
