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

// What `serve` runs: WAL checkpoints in a thread of their own beside the store's writers.
storeContract(
  'sqlite',
  () => {
    const dir = tempDir('custodian-sqlite-bg-');
    return Promise.resolve({
      store: openStore(
        { engine: 'sqlite', path: join(dir.path, 'db', 'test.db') },
        { walCheckpoints: 'background' },
      ),
      dispose: () => Promise.resolve(dir.remove()),
    });
  },
  'background WAL checkpoints',
);
