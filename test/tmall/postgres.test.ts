import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticExport } from '../../src/platforms/tmall/synthetic-export.js';
import { emptyCounts, IMPORTER, importTmallOrders, type ImporterDeps } from '../../src/services/importer.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { postgresProject, probePostgres } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';

const probe = await probePostgres();

if (!probe.ok) {
  describe('Tmall import on PostgreSQL', () => {
    it.skip(`skipped: ${probe.reason}`, () => undefined);
  });
} else {
  describe('Tmall import on PostgreSQL', () => {
    const dir = tempDir('custodian-pgtmall-');
    let drop: () => Promise<void> = () => Promise.resolve();
    let rt: Runtime;
    let deps: ImporterDeps;
    beforeAll(async () => {
      const project = await postgresProject(dir.path);
      drop = project.drop;
      const { config } = project;
      rt = await openRuntime(config);
      expect(rt.store.engine).toBe('postgres');
      deps = { store: rt.store, vault: rt.vault, datamap: config.datamap, now: () => new Date() };
    });
    afterAll(async () => {
      await rt.close();
      await drop();
      dir.remove();
    });

    it('imports once, rejects by line, and resumes an unfinished run from its checkpoint', async () => {
      const file = join(dir.path, 'orders.csv');
      const written = await writeSyntheticExport(file, { seed: 'pg', rows: 300, malformedEvery: 50 });
      const first = await importTmallOrders(deps, IMPORTER, { file, batchSize: 40 });
      expect(first.counts).toMatchObject({
        rows: 300,
        imported: written.good,
        rejected: written.malformed.length,
      });
      expect(first.rejects.map((r) => r.line)).toEqual(written.malformed.map((m) => m.line));
      expect(await rt.store.imports.countOrders('tmall')).toBe(written.good);
      expect(await rt.store.imports.getRun(first.runId!)).toMatchObject({ checkpoint: 300 });

      const again = await importTmallOrders(deps, IMPORTER, { file, batchSize: 100 });
      expect(again.counts).toMatchObject({ imported: 0, duplicates: written.good });

      // A run left unfinished (as by a crash) is found again and resumed from its checkpoint.
      const run = (await rt.store.imports.getRun(again.runId!))!;
      await rt.store.transaction((tx) =>
        tx.imports.insertRun({
          ...run,
          id: '00000000-0000-7000-8000-000000000001',
          finishedAt: null,
          checkpoint: 250,
          counts: JSON.stringify(emptyCounts()),
        }),
      );
      const resumed = await importTmallOrders(deps, IMPORTER, { file });
      expect(resumed).toMatchObject({ resumed: true, runId: '00000000-0000-7000-8000-000000000001' });
      expect(resumed.counts).toMatchObject({ rows: 50, imported: 0 });
    });
  });
}
