import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime } from '../../src/services/runtime.js';
import { initProject } from '../../src/services/setup.js';
import type { Principal } from '../../src/services/tokens.js';
import { tempDir } from '../support/tmp.js';
import { TEST_ROLES } from '../support/roles.js';

const operator: Principal = { kind: 'token', id: 'tok', name: 'op', role: 'tester', trainingCurrent: true };

/** `custodian keys rotate --subjects` in another process while this one keeps collecting and reading. */
describe('online key rotation beside a serving process', () => {
  const dir = tempDir('custodian-online-');
  afterAll(() => dir.remove());

  it('re-encrypts everyone while collects and reads keep succeeding', async () => {
    const { configPath } = await initProject({ dir: dir.path });
    const rt = await openRuntime(loadConfig({ explicit: configPath, env: {} }).config, { roles: TEST_ROLES });
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      const r = await rt.vault.collect(operator, {
        collection: 'profile',
        identities: { oaid: `o${i}` },
        fields: { name: `客户${i}`, phone: `139${String(i).padStart(8, '0')}` },
        purpose: 'customer-service',
      });
      ids.push(r.subjectId);
    }
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'keys',
        'rotate',
        '--subjects',
        '--batch',
        '10',
        '--json',
        '--config',
        configPath,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = once(child, 'exit');
    let served = 0;
    const child_ = { running: true };
    void exited.then(() => (child_.running = false));
    while (child_.running || served < 50) {
      const i = served % ids.length;
      const view = await rt.vault.read(operator, ids[i]!, 'customer-service');
      expect(view.records[0]?.fields['phone']?.access).toBe('masked');
      await rt.vault.collect(operator, {
        collection: 'profile',
        subjectId: ids[i]!,
        fields: { email: `c${served}@example.com` },
        purpose: 'customer-service',
      });
      served++;
      // better-sqlite3 answers synchronously; let the event loop see the child's output and exit.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await exited;
    expect(child.exitCode, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'subjects', processed: 300 });
    const status = await rt.rotation.status();
    expect(status.keys.byVersion).toEqual([{ version: 2, keys: 300 }]);
    for (const id of ids) {
      const view = await rt.vault.read(operator, id, 'customer-service');
      expect(view.records.length).toBeGreaterThanOrEqual(1);
    }
    expect(served).toBeGreaterThanOrEqual(50);
    await rt.close();
  }, 120_000);
});
