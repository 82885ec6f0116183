import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime } from '../../src/services/runtime.js';
import { issueToken } from '../../src/services/tokens.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/tmp.js';

describe('custodian notice', () => {
  const d = tempDir('custodian-notice-');
  let dpo = '';
  let op = '';
  beforeAll(async () => {
    expect((await runCli(['init', '--json'], { cwd: d.path })).code).toBe(0);
    const path = join(d.path, 'custodian.yaml');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('log:\n  level: info\n', 'log:\n  level: silent\n'),
    );
    const rt = await openRuntime(loadConfig({ explicit: path, env: {} }).config);
    dpo = (await issueToken(rt.store, { name: 'dpo', role: 'privacy-officer' })).token;
    op = (await issueToken(rt.store, { name: 'op', role: 'operator' })).token;
    await rt.close();
  });
  afterAll(() => d.remove());

  const add = (env: Record<string, string>, overrides: string[] = []) =>
    runCli(
      [
        'notice',
        'add',
        '--title-zh',
        '隐私政策更新',
        '--title-en',
        'Privacy policy updated',
        '--body-zh',
        '我们更新了营销用途的说明。',
        '--body-en',
        'We clarified the marketing purpose.',
        '--json',
        ...overrides,
      ],
      { cwd: d.path, env },
    );

  it('posts a notice as the privacy officer and lists it', async () => {
    const res = await add({ CUSTODIAN_TOKEN: dpo });
    expect(res.code).toBe(0);
    const { id } = JSON.parse(res.stdout) as { id: string };
    const list = await runCli(['notice', 'list', '--json'], { cwd: d.path });
    expect(JSON.parse(list.stdout)).toMatchObject([{ id, title: { en: 'Privacy policy updated' } }]);
    const text = await runCli(['notice', 'list'], { cwd: d.path });
    expect(text.stdout).toContain('隐私政策更新');
  });

  it('refuses without a token, with a role that lacks privacy.notices, and with an empty text', async () => {
    const none = await add({});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('set CUSTODIAN_TOKEN'); // ERR_AUTH_REQUIRED
    const operator = await add({ CUSTODIAN_TOKEN: op });
    expect(operator.code).toBe(2);
    expect(operator.stderr).toContain('lacks privacy.notices'); // ERR_ACCESS_DENIED
    const empty = await add({ CUSTODIAN_TOKEN: dpo }, ['--body-en', ' ']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--body-en must be 1 to 4000 characters'); // ERR_USAGE_INVALID
    const list = await runCli(['notice', 'list', '--json'], { cwd: d.path });
    expect(JSON.parse(list.stdout)).toHaveLength(1);
  });
});
