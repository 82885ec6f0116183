import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

describe('custodian CLI', () => {
  const dirs: { remove: () => void }[] = [];
  const fresh = (): string => {
    const d = tempDir('custodian-cli-');
    dirs.push(d);
    return d.path;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  it('prints help and version with exit 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['init', 'serve', 'migrate', 'demo']) expect(help.stdout).toContain(command);
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['init', '--bogus'])).code).toBe(2);
    expect((await runCli(['serve', '--port', 'eighty'], { cwd: fresh() })).code).toBe(2);
  });

  it('init --json creates config, 0600 keys and database and prints the token once', async () => {
    const root = fresh();
    const run = await runCli(['init', 'store', '--json'], { cwd: root });
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { adminToken: string; configPath: string };
    expect(Object.keys(out).sort()).toEqual(['adminToken', 'configPath']);
    expect(out.configPath).toBe(join(root, 'store', 'custodian.yaml'));
    expect(out.adminToken).toMatch(/^cst_[A-Za-z0-9_-]{43}$/);
    for (const key of ['root.key', 'index.key']) {
      const stat = statSync(join(root, 'store', 'keys', key));
      expect(stat.mode & 0o777).toBe(0o600);
      expect(stat.size).toBe(32);
    }
    expect(existsSync(join(root, 'store', 'data', 'custodian.db'))).toBe(true);
    const db = readFileSync(join(root, 'store', 'data', 'custodian.db'));
    expect(db.includes(Buffer.from(out.adminToken))).toBe(false);
  });

  it('init refuses to overwrite an existing config, exit 2, and changes nothing', async () => {
    const root = fresh();
    expect((await runCli(['init', '--json'], { cwd: root })).code).toBe(0);
    const before = readFileSync(join(root, 'keys', 'root.key'));
    const again = await runCli(['init'], { cwd: root });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('refusing to overwrite');
    expect(readFileSync(join(root, 'keys', 'root.key')).equals(before)).toBe(true);
  });

  it('init leaves nothing behind when it cannot finish', async () => {
    const root = fresh();
    writeFileSync(join(root, 'keys'), 'a file where the keys folder should go');
    const run = await runCli(['init', '--json'], { cwd: root });
    expect(run.code).not.toBe(0);
    expect(readdirSync(root).sort()).toEqual(['keys']);
  });

  it('a config with a wrong key exits 2 with file:line and key, and creates nothing', async () => {
    const root = fresh();
    expect((await runCli(['init', 'a', '--json'], { cwd: root })).code).toBe(0);
    const text = readFileSync(join(root, 'a', 'custodian.yaml'), 'utf8')
      .replace('path: data/custodian.db', 'path: elsewhere/custodian.db')
      .replace('  engine: sqlite\n', '  engine: sqlite\n  enigne: postgres\n');
    writeFileSync(join(root, 'bad.yaml'), text);
    const line = text.split('\n').findIndex((l) => l.includes('enigne')) + 1;
    const run = await runCli(['serve', '--config', 'bad.yaml'], { cwd: root });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`bad.yaml:${line}:3: database.enigne: unknown key`);
    expect(existsSync(join(root, 'elsewhere'))).toBe(false);
    const migrate = await runCli(['migrate', '--config', 'bad.yaml'], { cwd: root });
    expect(migrate.code).toBe(2);
  });

  it('a config with a YAML error exits 2 with file:line and key, and creates nothing', async () => {
    const root = fresh();
    writeFileSync(join(root, 'custodian.yaml'), 'server:\n  port: [8080\n');
    for (const command of ['migrate', 'serve']) {
      const run = await runCli([command], { cwd: root });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/custodian\.yaml:\d+:\d+: server\.port: /);
      expect(readdirSync(root)).toEqual(['custodian.yaml']);
    }
  });

  it('finds the config through CUSTODIAN_CONFIG', async () => {
    const root = fresh();
    await runCli(['init', 'x', '--json'], { cwd: root });
    const run = await runCli(['migrate', '--json'], {
      cwd: root,
      env: { CUSTODIAN_CONFIG: 'x/custodian.yaml' },
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ applied: [] });
  });

  it('exits 2 when no config exists', async () => {
    const run = await runCli(['migrate'], { cwd: fresh() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot read the configuration file');
  });
});
