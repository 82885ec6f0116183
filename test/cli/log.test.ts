import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initProject } from '../../src/services/setup.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

describe('custodian log checkpoint --export', () => {
  const dir = tempDir('custodian-log-export-');
  let configPath = '';
  beforeAll(async () => {
    ({ configPath } = await initProject({ dir: dir.path }));
  });
  afterAll(() => dir.remove());

  const cli = (...args: string[]) =>
    runCli(['log', 'checkpoint', ...args, '--config', configPath], { cwd: dir.path });

  it('exits 2 naming the file for a folder that does not exist, and signs no checkpoint', async () => {
    const missing = await cli('--export', 'no-such-folder/offsite.checkpoint');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--export no-such-folder/offsite.checkpoint: its folder does not exist');
    expect(existsSync(join(dir.path, 'no-such-folder'))).toBe(false);
    const folder = await cli('--export', '.');
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain('--export .: it is a folder');
    // Nothing was signed by the refused commands: the first checkpoint is signed now.
    const first = await cli('--json');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ created: true });
  });

  it('replaces an existing export file with the latest checkpoint', async () => {
    writeFileSync(
      join(dir.path, 'offsite.checkpoint'),
      'an older checkpoint that is much longer than the new one'.repeat(20),
    );
    const res = await cli('--export', 'offsite.checkpoint');
    expect(res.code).toBe(0);
    const printed = await cli();
    expect(readFileSync(join(dir.path, 'offsite.checkpoint'), 'utf8')).toBe(printed.stdout);
  });
});
