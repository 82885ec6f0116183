import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import { tempDir } from '../support/tmp.js';
import { storeContract } from './contract.js';

storeContract('sqlite', () => {
  const dir = tempDir('custodian-sqlite-');
  return Promise.resolve({
    store: openStore({ engine: 'sqlite', path: join(dir.path, 'db', 'test.db') }),
    dispose: () => Promise.resolve(dir.remove()),
  });
});
