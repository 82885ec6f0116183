import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { appendAudit } from '../../src/services/audit.js';
import { openRuntime } from '../../src/services/runtime.js';
import { initProject } from '../../src/services/setup.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { readEntry } from '../support/audit.js';

const entry = readEntry;

describe('custodian log', () => {
  const dir = tempDir('custodian-log-cli-');
  let configPath = '';
  let dbPath = '';

  beforeAll(async () => {
    ({ configPath } = await initProject({ dir: dir.path }));
    const { config } = loadConfig({ explicit: configPath, env: {} });
    dbPath = config.database.engine === 'sqlite' ? config.database.path : '';
    const rt = await openRuntime(config, { checkpoints: false });
    await rt.store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 70 }, (_, i) => entry(i)),
      ),
    );
    await rt.close();
  });
  afterAll(() => dir.remove());

  const cli = (...args: string[]) => runCli(['log', ...args, '--config', configPath], { cwd: dir.path });

  it('checkpoint signs and prints the signed note; --export writes it for off-site keeping', async () => {
    const printed = await cli('checkpoint');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(
      /^custodian\.local\/[0-9a-f]{16}\n70\n[A-Za-z0-9+/]{43}=\ntime \S+\n\n\u2014 custodian\.local\/[0-9a-f]{16} \S+\n$/,
    );
    const exported = await cli('checkpoint', '--export', 'offsite.checkpoint');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toContain('Exported the latest checkpoint at size 70');
    expect(readFileSync(join(dir.path, 'offsite.checkpoint'), 'utf8')).toBe(printed.stdout);
    expect(statSync(join(dir.path, 'offsite.checkpoint')).mode & 0o777).toBe(0o644);
    const json = await cli('checkpoint', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ treeSize: 70, created: false, note: printed.stdout });
  });

  it('verify recomputes the tree, checks checkpoints and reports progress; exit 0', async () => {
    const res = await cli('verify', '--batch', '16');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('entries      70');
    expect(res.stdout).toContain('checkpoints  1 checked, signatures verified');
    expect(res.stdout).toContain('The audit log verifies.');
    expect(res.stderr).toMatch(/verifying audit log: 70\/70 \(100%/);
    const json = await cli('verify', '--json', '--from-checkpoint', 'offsite.checkpoint');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      treeSize: 70,
      offsite: { treeSize: 70, ok: true },
      problems: [],
    });
  });

  it('verify exits 1 naming the first bad entry when a row was changed', async () => {
    const raw = new SqliteDatabase(dbPath);
    const original = raw.prepare('select canonical from audit_log where seq = 42').pluck().get() as Buffer;
    raw
      .prepare('update audit_log set canonical = ? where seq = 42')
      .run(Buffer.from(original.toString().replace('order-fulfilment', 'order-fulfilmenx')));
    try {
      const res = await cli('verify');
      expect(res.code).toBe(1);
      expect(res.stdout).toContain('PROBLEM      entry seq 42 (leaf 41)');
      expect(res.stdout).toContain('The audit log does NOT verify.');
      expect(res.stderr).toContain('custodian: audit log verification failed: entry seq 42 (leaf 41)');
      const json = await cli('verify', '--json');
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBadLeaf: 41 });
    } finally {
      raw.prepare('update audit_log set canonical = ? where seq = 42').run(original);
      raw.close();
    }
    expect((await cli('verify')).code).toBe(0);
  });

  it('verify --from-checkpoint exits 1 for a tampered checkpoint and 2 for a malformed one', async () => {
    const good = readFileSync(join(dir.path, 'offsite.checkpoint'), 'utf8');
    writeFileSync(join(dir.path, 'tampered.checkpoint'), good.replace('\n70\n', '\n69\n'));
    const tampered = await cli('verify', '--from-checkpoint', 'tampered.checkpoint');
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('off-site checkpoint (size 69) carries no valid signature');
    writeFileSync(join(dir.path, 'junk.checkpoint'), 'hello\n');
    const junk = await cli('verify', '--from-checkpoint', 'junk.checkpoint');
    expect(junk.code).toBe(2);
    expect(junk.stderr).toContain('not a valid checkpoint');
    expect((await cli('verify', '--from-checkpoint', 'absent.checkpoint')).code).toBe(2);
    expect((await cli('verify', '--batch', 'x')).code).toBe(2);
  });
});
