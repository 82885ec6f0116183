import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';

/** Runs `custodian demo` until it prints the "try it" lines; returns its output so far. */
async function startDemo(
  dir: string,
): Promise<{ child: ChildProcessWithoutNullStreams; stdout: () => string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--dir', dir, '--customers', '40', '--port', '0'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (stdout.includes('Try it')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`demo exited with ${code}: ${stderr}`));
    });
  });
  await ready;
  return { child, stdout: () => stdout };
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  return code;
}

describe('custodian demo', () => {
  const tmp = tempDir('custodian-demo-');
  afterAll(() => tmp.remove());
  const dir = join(tmp.path, 'demo');

  it('creates the store from a GBK export through the importer, prints how to try it, and serves', async () => {
    const { child, stdout } = await startDemo(dir);
    const out = stdout();
    const exportFile = readFileSync(join(dir, 'orders-export.csv'));
    expect(iconv.decode(exportFile.subarray(0, 200), 'gbk')).toMatch(/^订单编号,买家会员名/);
    expect(out).toMatch(/rows +\d+: \d+ imported, 0 already imported, \d+ rejected/);
    expect(out).toContain('staff officer (privacy-officer)');
    expect(out).toContain('TOTP secret');
    expect(statSync(join(dir, 'credentials.txt')).mode & 0o777).toBe(0o600);
    const token = /export TOKEN=(\S+)/.exec(out)![1]!;
    const url = /curl -s -H "Authorization: Bearer \$TOKEN" '([^']+oaid=[^']+)'/.exec(out)![1]!;
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { subjects: { records: { collection: string }[] }[] };
    expect(body.subjects).toHaveLength(1);
    expect(body.subjects[0]!.records.some((r) => r.collection === 'order')).toBe(true);
    expect(await stop(child)).toBe(0);
  }, 120_000);

  it('reuses the folder on a second run and just serves', async () => {
    const before = statSync(join(dir, 'orders-export.csv')).mtimeMs;
    const { child, stdout } = await startDemo(dir);
    expect(stdout()).toContain('Serving the demo store');
    expect(stdout()).not.toMatch(/rows +\d+:/);
    expect(statSync(join(dir, 'orders-export.csv')).mtimeMs).toBe(before);
    expect(existsSync(join(dir, 'custodian.yaml'))).toBe(true);
    expect(await stop(child)).toBe(0);
  }, 120_000);
});
