import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { appendAudit } from '../../src/services/audit.js';
import { openRuntime } from '../../src/services/runtime.js';
import { initProject } from '../../src/services/setup.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { readEntry } from '../support/audit.js';

/** Entries written (and a checkpoint signed) long before the CLI runs: past six months. */
const OLD = new Date('2024-01-10T00:00:00.000Z');

const entry = (i: number) => readEntry(i, OLD);

describe('custodian log prune', () => {
  const dir = tempDir('custodian-log-prune-');
  let configPath = '';
  let dbPath = '';

  beforeAll(async () => {
    ({ configPath } = await initProject({ dir: dir.path }));
    const { config } = loadConfig({ explicit: configPath, env: {} });
    dbPath = config.database.engine === 'sqlite' ? config.database.path : '';
    const rt = await openRuntime(config, {
      checkpoints: false,
      now: () => new Date(OLD.getTime() + 86_400_000),
    });
    await rt.store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 70 }, (_, i) => entry(i)),
      ),
    );
    await rt.auditLog.checkpoint();
    await rt.close();
  });
  afterAll(() => dir.remove());

  const cli = (...args: string[]) => runCli(['log', ...args, '--config', configPath], { cwd: dir.path });

  it('--dry-run says what would go and changes nothing; exit 0', async () => {
    const res = await cli('prune', '--dry-run', '--json');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      dryRun: true,
      from: 0,
      prunedSize: 70,
      segments: 1,
      entries: 70,
    });
    const text = await cli('prune', '--dry-run');
    expect(text.stdout).toContain('Would prune 1 sealed segment(s): 70 entries, leaves 0 to 69');
    const raw = new SqliteDatabase(dbPath, { readonly: true });
    expect(raw.prepare('select count(*) from audit_log').pluck().get()).toBe(70);
    raw.close();
  });

  it('refuses, exit 1, while the log does not verify', async () => {
    const raw = new SqliteDatabase(dbPath);
    raw.prepare('delete from audit_log where seq = 5').run();
    try {
      const res = await cli('prune');
      expect(res.code).toBe(1);
      expect(res.stderr).toContain('the audit log does not verify, so nothing is pruned');
      expect(raw.prepare('select count(*) from audit_log').pluck().get()).toBe(69);
    } finally {
      raw.close();
    }
  });

  it('prunes the sealed segment, audits itself, and verify starts from the boundary; exit 0', async () => {
    // The deleted row goes back (the same canonical bytes), and the log verifies again.
    const raw = new SqliteDatabase(dbPath);
    const { canonicalEntry } = await import('../../src/domain/audit/entry.js');
    raw
      .prepare('insert into audit_log (seq, subject_ref, canonical) values (?, ?, ?)')
      .run(5, entry(4).subject, Buffer.from(canonicalEntry(entry(4)), 'utf8'));
    raw.close();
    expect((await cli('verify')).code).toBe(0);

    const res = await cli('prune');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Pruned 1 sealed segment(s): 70 entries, leaves 0 to 69');
    expect(res.stdout).toContain('The prune is recorded as leaf 70.');
    const verify = await cli('verify');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('entries      71 (leaves before 70 pruned; verified from there)');
    expect(verify.stdout).toContain('The audit log verifies.');
    const again = await cli('prune', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ from: 70, prunedSize: 70, segments: 0 });
  });

  it('exits 2 on bad usage', async () => {
    expect((await cli('prune', '--bogus')).code).toBe(2);
  });
});
