import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { buildApp, type App } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { initProject } from '../../src/services/setup.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { issueToken } from '../../src/services/tokens.js';
import { TEST_ROLES } from './roles.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from './tmp.js';

export interface TestApp {
  readonly app: App;
  readonly store: Store;
  readonly runtime: Runtime;
  readonly config: Config;
  readonly dir: string;
  /** The bootstrap token (role security-admin: no customer data). */
  readonly token: string;
  /** A token of the test role `tester`: every permission and purpose, capped only by the data map. */
  readonly testerToken: string;
  /** Every log line the app wrote, raw. */
  readonly logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Edits the config text before it is loaded. */
  readonly edit?: (yaml: string) => string;
  readonly now?: () => Date;
}

/** A real app on a fresh SQLite folder made by `init`, with its log lines captured. */
export async function testApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = tempDir('custodian-app-');
  const { configPath, adminToken } = await initProject({ dir: dir.path });
  if (options.edit) {
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(configPath, options.edit(readFileSync(configPath, 'utf8')));
  }
  const { config } = loadConfig({ explicit: configPath, env: {} });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const runtime = await openRuntime(config, {
    roles: TEST_ROLES,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  const { token: testerToken } = await issueToken(runtime.store, { name: 'tester', role: 'tester' });
  const store = runtime.store;
  const app = await buildApp({
    runtime,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  await app.ready();
  return {
    app,
    store,
    runtime,
    config,
    dir: dir.path,
    token: adminToken,
    testerToken,
    logs,
    async close() {
      await app.close();
      await runtime.close();
      dir.remove();
    },
  };
}
