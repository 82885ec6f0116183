import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openRuntime } from '../../src/services/runtime.js';
import { issueToken } from '../../src/services/tokens.js';
import { runCli } from '../support/cli.js';
import { TEST_ROLES, tester } from '../support/roles.js';
import { tempDir } from '../support/tmp.js';

describe('custodian export and breakglass', () => {
  const d = tempDir('custodian-exp-');
  let op = '';
  let dpo = '';
  let subject = '';
  beforeAll(async () => {
    expect((await runCli(['init', '--json'], { cwd: d.path })).code).toBe(0);
    const path = join(d.path, 'custodian.yaml');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(
        'log:\n  level: info\n',
        'log:\n  level: silent\naccess:\n  exportApproval:\n    threshold: 1\n',
      ),
    );
    const rt = await openRuntime(loadConfig({ explicit: path, env: {} }).config, { roles: TEST_ROLES });
    const ids: string[] = [];
    for (const name of ['甲一', '乙二']) {
      ids.push(
        (
          await rt.vault.collect(tester, {
            collection: 'address',
            fields: { recipientName: name, district: '西湖区' },
            purpose: 'order-fulfilment',
          })
        ).subjectId,
      );
    }
    subject = ids[0]!;
    writeFileSync(join(d.path, 'subjects.txt'), ids.join('\n'));
    op = (await issueToken(rt.store, { name: 'op', role: 'operator' })).token;
    dpo = (await issueToken(rt.store, { name: 'dpo', role: 'privacy-officer' })).token;
    await rt.close();
    writeFileSync(join(d.path, 'pass.txt'), 'a sufficiently long passphrase\n');
  });
  afterAll(() => d.remove());

  /** `export request` of subjects.txt for the registered carrier, as the operator. */
  const requestForCarrier = (cwd: string) =>
    runCli(
      [
        'export',
        'request',
        '--purpose',
        'order-fulfilment',
        '--subjects',
        'subjects.txt',
        '--to',
        'sf-express',
        '--json',
      ],
      { cwd, env: { CUSTODIAN_TOKEN: op } },
    );

  it('requests, approves (second person), downloads encrypted and decrypts an export', async () => {
    const cwd = d.path;
    expect(
      (
        await runCli(['export', 'request', '--purpose', 'order-fulfilment', '--subjects', 'subjects.txt'], {
          cwd,
        })
      ).code,
    ).toBe(2);
    // R31: buyer data for no named recipient is refused, naming the reason (exit 2).
    const unnamed = await runCli(
      ['export', 'request', '--purpose', 'order-fulfilment', '--subjects', 'subjects.txt', '--json'],
      { cwd, env: { CUSTODIAN_TOKEN: op } },
    );
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('registered processor');
    const req = await requestForCarrier(cwd);
    expect(req.code).toBe(0);
    const { id, status } = JSON.parse(req.stdout) as { id: string; status: string };
    expect(status).toBe('pending');
    const self = await runCli(['export', 'approve', id, '--note', 'mine'], {
      cwd,
      env: { CUSTODIAN_TOKEN: op },
    });
    expect(self.code).toBe(2);
    expect(self.stderr).toContain('someone other than');
    expect(
      (
        await runCli(['export', 'approve', id, '--note', 'manifest CS-7'], {
          cwd,
          env: { CUSTODIAN_TOKEN: dpo },
        })
      ).code,
    ).toBe(0);
    const list = await runCli(['export', 'list', '--status', 'approved', '--json'], { cwd });
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id, subjects: 2 })]);
    const dl = await runCli(
      ['export', 'download', id, '--out', 'out.json', '--passphrase-file', 'pass.txt'],
      { cwd, env: { CUSTODIAN_TOKEN: op } },
    );
    expect(dl.code).toBe(0);
    expect(statSync(join(cwd, 'out.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(cwd, 'out.json')).includes(Buffer.from('甲一'))).toBe(false);
    expect(
      (
        await runCli(['export', 'download', id, '--out', 'again.json', '--passphrase-file', 'pass.txt'], {
          cwd,
          env: { CUSTODIAN_TOKEN: op },
        })
      ).code,
    ).toBe(2);
    const dec = await runCli(
      ['export', 'decrypt', 'out.json', '--passphrase-file', 'pass.txt', '--out', 'clear.json'],
      { cwd },
    );
    expect(dec.code).toBe(0);
    const content = JSON.parse(readFileSync(join(cwd, 'clear.json'), 'utf8')) as {
      subjects: { records: { fields: Record<string, { access: string }> }[] }[];
    };
    expect(content.subjects).toHaveLength(2);
    expect(content.subjects[0]?.records[0]?.fields['recipientName']?.access).toBe('masked');
  });

  let downloaded = '';

  it('export download to an existing file or a missing folder exits 2 naming it and leaves the export downloadable', async () => {
    const cwd = d.path;
    const req = await requestForCarrier(cwd);
    const { id } = JSON.parse(req.stdout) as { id: string };
    expect(
      (await runCli(['export', 'approve', id, '--note', 'CS-9'], { cwd, env: { CUSTODIAN_TOKEN: dpo } }))
        .code,
    ).toBe(0);
    const download = (out: string) =>
      runCli(['export', 'download', id, '--out', out, '--passphrase-file', 'pass.txt'], {
        cwd,
        env: { CUSTODIAN_TOKEN: op },
      });
    writeFileSync(join(cwd, 'taken.json'), 'keep me');
    const exists = await download('taken.json');
    expect(exists.code).toBe(2);
    expect(exists.stderr).toContain('--out taken.json: the file exists already');
    expect(readFileSync(join(cwd, 'taken.json'), 'utf8')).toBe('keep me');
    const noFolder = await download('missing/out.json');
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toContain('--out missing/out.json: its folder does not exist');
    expect(existsSync(join(cwd, 'missing'))).toBe(false);
    // A failed download (another person's token) leaves neither the file nor a consumed export.
    const other = await runCli(
      ['export', 'download', id, '--out', 'denied.json', '--passphrase-file', 'pass.txt'],
      {
        cwd,
        env: { CUSTODIAN_TOKEN: dpo },
      },
    );
    expect(other.code).toBe(2);
    expect(existsSync(join(cwd, 'denied.json'))).toBe(false);
    const list = await runCli(['export', 'list', '--status', 'approved', '--json'], { cwd });
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id })]);
    const ok = await download('fresh.json');
    expect(ok.code).toBe(0);
    expect(statSync(join(cwd, 'fresh.json')).mode & 0o777).toBe(0o600);
    downloaded = 'fresh.json';
  });

  it('export decrypt exits 2 for a bad PEM private key or an existing --out and writes nothing', async () => {
    const cwd = d.path;
    // The key is checked before the export is read as one, so any file will do here.
    writeFileSync(join(cwd, 'sealed.json'), '{}');
    writeFileSync(
      join(cwd, 'bad.pem'),
      '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n',
    );
    const badPem = await runCli(
      ['export', 'decrypt', 'sealed.json', '--private-key', 'bad.pem', '--out', 'plain-a.json'],
      { cwd },
    );
    expect(badPem.code).toBe(2);
    expect(badPem.stderr).toContain('--private-key bad.pem: not a PEM private key');
    expect(existsSync(join(cwd, 'plain-a.json'))).toBe(false);
    writeFileSync(
      join(cwd, 'ed.pem'),
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    const notX = await runCli(
      ['export', 'decrypt', 'sealed.json', '--private-key', 'ed.pem', '--out', 'plain-a.json'],
      { cwd },
    );
    expect(notX.code).toBe(2);
    expect(notX.stderr).toContain('--private-key ed.pem: not an X25519 private key');
    expect(downloaded).not.toBe('');
    writeFileSync(join(cwd, 'plain-b.json'), 'keep me');
    const exists = await runCli(
      ['export', 'decrypt', downloaded, '--passphrase-file', 'pass.txt', '--out', 'plain-b.json'],
      { cwd },
    );
    expect(exists.code).toBe(2);
    expect(exists.stderr).toContain('--out plain-b.json: the file exists already');
    expect(readFileSync(join(cwd, 'plain-b.json'), 'utf8')).toBe('keep me');
    const wrong = await runCli(
      ['export', 'decrypt', downloaded, '--passphrase-file', 'subjects.txt', '--out', 'plain-c.json'],
      { cwd },
    );
    expect(wrong.code).toBe(1);
    expect(existsSync(join(cwd, 'plain-c.json'))).toBe(false);
  });

  it('lists and closes break-glass reviews as a second person', async () => {
    const cwd = d.path;
    const path = join(cwd, 'custodian.yaml');
    const rt = await openRuntime(loadConfig({ explicit: path, env: {} }).config);
    const opPrincipal = await (await import('../../src/services/tokens.js')).authenticate(rt.store, op);
    const grant = await rt.oversight.requestBreakGlass(opPrincipal, {
      subjectId: subject,
      purpose: 'order-fulfilment',
      justification: 'courier lost the label',
      ticket: 'CS-8',
    });
    await rt.close();
    const reviews = await runCli(['breakglass', 'reviews', '--json'], { cwd });
    expect(JSON.parse(reviews.stdout)).toEqual([expect.objectContaining({ id: grant.id, ticket: 'CS-8' })]);
    expect(
      (
        await runCli(['breakglass', 'review', grant.id, '--outcome', 'justified', '--note', 'x'], {
          cwd,
          env: { CUSTODIAN_TOKEN: op },
        })
      ).code,
    ).toBe(2);
    expect(
      (
        await runCli(['breakglass', 'review', grant.id, '--outcome', 'maybe', '--note', 'x'], {
          cwd,
          env: { CUSTODIAN_TOKEN: dpo },
        })
      ).code,
    ).toBe(2);
    const ok = await runCli(
      ['breakglass', 'review', grant.id, '--outcome', 'justified', '--note', 'label reprint confirmed'],
      { cwd, env: { CUSTODIAN_TOKEN: dpo } },
    );
    expect(ok.code).toBe(0);
    expect((await runCli(['breakglass', 'reviews'], { cwd })).stdout).toContain('Nothing to review');
  });
});
