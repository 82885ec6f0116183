import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

/** The real command in a child process: init, then serve on a free port, then HTTP over a socket. */
describe('custodian init + serve (child process)', () => {
  const dir = tempDir('custodian-e2e-');
  afterAll(() => dir.remove());
  const cli = ['--import', 'tsx', 'src/cli/main.ts'];

  it('serves /healthz, /openapi.json, /docs and refuses anonymous /v1', async () => {
    const init = spawnSync(process.execPath, [...cli, 'init', dir.path, '--json'], { encoding: 'utf8' });
    expect(init.status).toBe(0);
    const { configPath } = JSON.parse(init.stdout) as { configPath: string };

    const child = spawn(process.execPath, [...cli, 'serve', '--config', configPath, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let stderr = '';
      child.stderr.setEncoding('utf8');
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (chunk: string) => {
          stderr += chunk;
          const m = /listening on (http:\/\/\S+)/.exec(stderr);
          if (m?.[1]) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      });
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      const openapi = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string };
      expect(openapi.openapi).toBe('3.1.0');
      const docs = await fetch(`${url}/docs`);
      expect(docs.headers.get('content-type')).toContain('text/html');
      const anon = await fetch(`${url}/v1/me`);
      expect(anon.status).toBe(401);
      expect(anon.headers.get('content-type')).toContain('application/problem+json');
      // The init default delivers sign-in codes nowhere but the debug log, and says so.
      expect(stderr).toContain('privacyCentre.codeChannel is "log"');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    expect(child.exitCode).toBe(0);
  });
});
