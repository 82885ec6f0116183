import { describe, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { freshDatabase, probePostgres } from '../support/pg.js';
import { storeContract } from './contract.js';

const probe = await probePostgres();

if (probe.ok) {
  storeContract('postgres', async () => {
    const db = await freshDatabase();
    return { store: openStore({ engine: 'postgres', url: db.url, poolSize: 4 }), dispose: () => db.drop() };
  });
} else {
  describe('store contract [postgres]', () => {
    it.skip(`skipped: ${probe.reason}`, () => undefined);
  });
}
