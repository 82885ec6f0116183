import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime } from '../../src/services/runtime.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';
import { TEST_ROLES } from '../support/roles.js';

describe('custodian keys', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  async function store(subjects: number) {
    const d = tempDir('custodian-keys-');
    dirs.push(d);
    const init = await runCli(['init', '--json'], { cwd: d.path });
    expect(init.code).toBe(0);
    const configPath = join(d.path, 'custodian.yaml');
    const rt = await openRuntime(loadConfig({ explicit: configPath, env: {} }).config, { roles: TEST_ROLES });
    for (let i = 0; i < subjects; i++) {
      await rt.vault.collect(
        { kind: 'token', id: 't', name: 't', role: 'tester', trainingCurrent: true },
        {
          collection: 'profile',
          identities: { oaid: `oaid-${i}` },
          fields: { name: `客户${i}` },
          purpose: 'marketing',
        },
      );
    }
    await rt.close();
    return { dir: d.path, configPath };
  }

  it('status shows versions, counts and ages', async () => {
    const s = await store(3);
    const text = await runCli(['keys', 'status'], { cwd: s.dir });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('3 active, 0 erased');
    expect(text.stdout).toMatch(/wrapped by file:[0-9a-f]{8} \(current\): 3/);
    const json = await runCli(['keys', 'status', '--json'], { cwd: s.dir });
    expect(JSON.parse(json.stdout)).toMatchObject({
      suite: 'aes-256-gcm',
      subjects: { active: 3 },
      keys: { keys: 3, byVersion: [{ version: 1, keys: 3 }] },
    });
  });

  it('new-root writes a 0600 key file and rotate --root rewraps with progress', async () => {
    const s = await store(5);
    const created = await runCli(['keys', 'new-root', '--out', 'keys/root-2.key'], { cwd: s.dir });
    expect(created.code).toBe(0);
    expect(statSync(join(s.dir, 'keys', 'root-2.key')).mode & 0o777).toBe(0o600);
    expect((await runCli(['keys', 'new-root', '--out', 'keys/root-2.key'], { cwd: s.dir })).code).toBe(2);
    const yaml = readFileSync(s.configPath, 'utf8').replace(
      '  root:\n    provider: file\n    path: keys/root.key\n',
      '  root:\n    provider: file\n    path: keys/root-2.key\n  retiredRoots:\n    - provider: file\n      path: keys/root.key\n',
    );
    writeFileSync(s.configPath, yaml);
    const rotate = await runCli(['keys', 'rotate', '--root', '--batch', '2', '--json'], { cwd: s.dir });
    expect(rotate.code).toBe(0);
    expect(JSON.parse(rotate.stdout)).toEqual({ kind: 'root', processed: 5, resumed: false });
    expect(rotate.stderr).toContain('rewrapping keys: 5/5 (100%');
  });

  it('rotate needs exactly one target and valid numbers (exit 2)', async () => {
    const s = await store(0);
    expect((await runCli(['keys', 'rotate'], { cwd: s.dir })).code).toBe(2);
    expect((await runCli(['keys', 'rotate', '--root', '--index'], { cwd: s.dir })).code).toBe(2);
    expect((await runCli(['keys', 'rotate', '--subjects', '--batch', '0'], { cwd: s.dir })).code).toBe(2);
    expect(
      (await runCli(['keys', 'rotate', '--subjects', '--older-than', 'soon'], { cwd: s.dir })).code,
    ).toBe(2);
    const ok = await runCli(['keys', 'rotate', '--subjects', '--older-than', '0d', '--json'], { cwd: s.dir });
    expect(ok.code).toBe(0);
  });
});
