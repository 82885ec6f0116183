import { readFileSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import SqliteDatabase from 'better-sqlite3';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { ImporterDeps } from '../../src/services/importer.js';
import { createLogger } from '../../src/services/logger.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { initProject } from '../../src/services/setup.js';
import { TEST_ROLES } from '../support/roles.js';
import { tempDir } from '../support/tmp.js';

export interface TmallEnv {
  readonly dir: string;
  readonly configPath: string;
  readonly config: Config;
  readonly runtime: Runtime;
  readonly deps: ImporterDeps;
  /** Every log line the runtime wrote. */
  readonly logs: string[];
  /** Path of the SQLite database file. */
  readonly dbPath: string;
  /** Runs a read-only query on the database file (counts, checks). */
  query<T>(sql: string, ...params: unknown[]): T[];
  close(): Promise<void>;
}

/** A fresh folder made by `init`, a runtime over it with the test roles, its log lines captured. */
export async function tmallEnv(options: { edit?: (yaml: string) => string } = {}): Promise<TmallEnv> {
  const dir = tempDir('custodian-tmall-');
  const { configPath } = await initProject({ dir: dir.path });
  if (options.edit) writeFileSync(configPath, options.edit(readFileSync(configPath, 'utf8')));
  const { config } = loadConfig({ explicit: configPath, env: {} });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const runtime = await openRuntime(config, { roles: TEST_ROLES, logger: createLogger('debug', sink) });
  const dbPath = config.database.engine === 'sqlite' ? config.database.path : '';
  return {
    dir: dir.path,
    configPath,
    config,
    runtime,
    deps: { store: runtime.store, vault: runtime.vault, datamap: config.datamap, now: () => new Date() },
    logs,
    dbPath,
    query<T>(sql: string, ...params: unknown[]): T[] {
      const db = new SqliteDatabase(dbPath, { readonly: true, fileMustExist: true });
      try {
        return db.prepare(sql).all(...params) as T[];
      } finally {
        db.close();
      }
    },
    async close() {
      await runtime.close();
      dir.remove();
    },
  };
}
