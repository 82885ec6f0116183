import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCustomers } from '../../src/domain/synthetic/index.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import type { Principal } from '../../src/services/tokens.js';
import { postgresProject, probePostgres } from '../support/pg.js';
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
    let drop: () => Promise<void> = () => Promise.resolve();
    let rt: Runtime;
    beforeAll(async () => {
      const project = await postgresProject(dir.path);
      drop = project.drop;
      rt = await openRuntime(project.config, { roles: TEST_ROLES });
      expect(rt.store.engine).toBe('postgres');
    });
    afterAll(async () => {
      await rt.close();
      await drop();
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
