import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { buildApp, type App } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { initProject } from '../../src/services/setup.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from './tmp.js';

export interface TestApp {
  readonly app: App;
  readonly store: Store;
  readonly runtime: Runtime;
  readonly config: Config;
  readonly dir: string;
  /** The bootstrap token. */
  readonly token: string;
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
  const runtime = await openRuntime(config, options.now ? { now: options.now } : {});
  const store = runtime.store;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = await buildApp({
    runtime,
    logger: createLogger('debug', sink),
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
    logs,
    async close() {
      await app.close();
      await runtime.close();
      dir.remove();
    },
  };
}
