import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvelopeHeader } from '../../src/crypto/envelope.js';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { decodeSealedFields } from '../../src/services/sealed-record.js';
import { initProject } from '../../src/services/setup.js';
import type { Principal } from '../../src/services/tokens.js';
import { tempDir } from '../support/tmp.js';
import { TEST_ROLES } from '../support/roles.js';

const operator: Principal = { kind: 'token', id: 'tok', name: 'op', role: 'tester', trainingCurrent: true };

/** A deployment that must use the SM algorithms (R14): SM4-GCM data keys and HMAC-SM3 indexes. */
describe('vault under crypto.suite: sm4-gcm', () => {
  const dir = tempDir('custodian-sm4-');
  let rt: Runtime;
  beforeAll(async () => {
    const { configPath } = await initProject({ dir: dir.path, suite: 'sm4-gcm' });
    rt = await openRuntime(loadConfig({ explicit: configPath, env: {} }).config, { roles: TEST_ROLES });
  });
  afterAll(async () => {
    await rt.close();
    dir.remove();
  });

  it('seals with SM4-GCM under 16-byte subject keys and reads back', async () => {
    const { subjectId } = await rt.vault.collect(operator, {
      collection: 'customs',
      identities: { memberId: 'M0001' },
      fields: { realName: '欧阳娜娜', nationalId: '11010519491231002X' },
      purpose: 'customs-clearance',
    });
    const record = (await rt.store.records.listForSubject(subjectId))[0]!;
    for (const envelope of decodeSealedFields(record.sealed).values()) {
      const header = readEnvelopeHeader(envelope);
      expect(header.suite.id).toBe('sm4-gcm');
      expect(header.keyVersion).toBe(1);
    }
    expect((await rt.store.keys.current(subjectId))?.suite).toBe('sm4-gcm');
    const view = await rt.vault.read(operator, subjectId, 'customs-clearance');
    expect(view.records[0]?.fields['realName']).toEqual({ access: 'clear', value: '欧阳娜娜' });
    expect((await rt.vault.search(operator, 'memberId', 'M0001', 'customs-clearance'))[0]?.subjectId).toBe(
      subjectId,
    );
    expect((await rt.rotation.status()).keys.bySuite).toEqual([{ suite: 'sm4-gcm', keys: 1 }]);
  });
});
