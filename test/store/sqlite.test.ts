import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { WalCheckpoints } from '../../src/store/wal-checkpointer.js';
import { tempDir } from '../support/tmp.js';
import { storeContract } from './contract.js';

// SQLite's own checkpoints (`openStore`'s default) and a thread of their own (what `openRuntime`,
// and so `serve`, runs).
for (const walCheckpoints of ['inline', 'background'] as const satisfies readonly WalCheckpoints[]) {
  storeContract(
    'sqlite',
    () => {
      const dir = tempDir(`custodian-sqlite-${walCheckpoints}-`);
      return Promise.resolve({
        store: openStore({ engine: 'sqlite', path: join(dir.path, 'db', 'test.db') }, { walCheckpoints }),
        dispose: () => Promise.resolve(dir.remove()),
      });
    },
    `${walCheckpoints} WAL checkpoints`,
  );
}
