import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_SECTION_IDS } from '../../src/domain/policy/index.js';
import { runCli } from '../support/cli.js';
import { testApp } from '../support/app.js';
import { tempDir } from '../support/tmp.js';

describe('custodian policy', () => {
  const d = tempDir('custodian-policy-');
  const cwd = d.path;
  beforeAll(async () => {
    expect((await runCli(['init', '--json'], { cwd })).code).toBe(0);
  });
  afterAll(() => d.remove());

  it('renders every required section in both languages before anything is published (a draft)', async () => {
    for (const lang of ['zh-CN', 'en']) {
      for (const format of ['html', 'md']) {
        const r = await runCli(['policy', 'render', '--lang', lang, '--format', format], { cwd });
        expect(r.code).toBe(0);
        for (const id of POLICY_SECTION_IDS) {
          if (id === 'cross-border') continue; // only when the data map declares transfers abroad
          expect(r.stdout, `${lang} ${format} lacks #${id}`).toContain(`id="${id}"`);
        }
      }
    }
    const zh = await runCli(['policy', 'render'], { cwd });
    expect(zh.stdout).toContain('<html lang="zh-CN"');
    expect(zh.stdout).toContain('订单履行');
    expect(Buffer.byteLength(zh.stdout)).toBeLessThan(50_000);
    expect((await runCli(['policy', 'render', '--lang', 'fr'], { cwd })).code).toBe(2);
  });

  it('publishes versions only when the policy changes, and marks a widened consent scope for re-consent (R5)', async () => {
    const first = await runCli(['policy', 'publish', '--json'], { cwd });
    expect(JSON.parse(first.stdout)).toMatchObject({ number: 1, created: true, requiresReconsent: false });
    expect(JSON.parse((await runCli(['policy', 'publish', '--json'], { cwd })).stdout)).toMatchObject({
      number: 1,
      created: false,
    });

    // A marketing partner receives contact data: a new recipient for a consent-based purpose.
    const path = join(cwd, 'custodian.yaml');
    const yaml = readFileSync(path, 'utf8');
    const recipient = [
      '    - id: sms-marketing',
      '      name: { zh-CN: 某短信营销服务商, en: An SMS marketing provider }',
      '      contact: partner@example.com',
      '      role: processor',
      '      purposes: [marketing]',
      '      categories: [identity.name, contact.phone]',
      '',
    ].join('\n');
    expect(yaml).toContain('  recipients:\n');
    writeFileSync(path, yaml.replace('  recipients:\n', `  recipients:\n${recipient}`));
    const lint = await runCli(['datamap', 'lint', '--json'], { cwd });
    expect(JSON.parse(lint.stdout)).toMatchObject({ errors: 0 });
    const second = JSON.parse((await runCli(['policy', 'publish', '--json'], { cwd })).stdout) as Record<
      string,
      unknown
    >;
    expect(second).toMatchObject({
      number: 2,
      created: true,
      requiresReconsent: true,
      reconsentPurposes: ['marketing'],
    });
    const diff = await runCli(['policy', 'diff', '1', '2', '--lang', 'en'], { cwd });
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('An SMS marketing provider');
    expect(diff.stdout.toLowerCase()).toContain('consent');
    expect((await runCli(['policy', 'diff', '1', '9'], { cwd })).code).toBe(2);
    const versions = JSON.parse(
      (await runCli(['policy', 'versions', '--json'], { cwd })).stdout,
    ) as unknown[];
    expect(versions).toHaveLength(2);
    const v1 = await runCli(['policy', 'render', '--version', '1', '--lang', 'en', '--format', 'md'], {
      cwd,
    });
    expect(v1.stdout).not.toContain('SMS marketing');
  });

  it('publishes a return to older content as a new version (v3 = v1), diffed against v2', async () => {
    // Continues from the test above: v1 is the template, v2 adds the SMS marketing recipient.
    const versions = () =>
      runCli(['policy', 'versions', '--json'], { cwd }).then(
        (r) => JSON.parse(r.stdout) as { number: number; fingerprint: string }[],
      );
    const [v1, v2] = await versions();
    expect([v1?.number, v2?.number]).toEqual([1, 2]);
    const path = join(cwd, 'custodian.yaml');
    const yaml = readFileSync(path, 'utf8');
    const start = yaml.indexOf('    - id: sms-marketing\n');
    expect(start).toBeGreaterThan(0);
    const end = yaml.indexOf('    - id:', start + 1);
    writeFileSync(path, yaml.slice(0, start) + yaml.slice(end));

    // Refused by the unique fingerprint before migration 0014, which also stopped `serve` starting.
    const third = await runCli(['policy', 'publish', '--json'], { cwd });
    expect(third.code).toBe(0);
    const published = JSON.parse(third.stdout) as { fingerprint: string };
    expect(published).toMatchObject({
      number: 3,
      created: true,
      // Removing a recipient narrows processing: nobody is asked again (R5).
      requiresReconsent: false,
      reconsentPurposes: [],
    });
    // The same content as v1 (the listing shows 12 hex digits of the fingerprint).
    expect(published.fingerprint.slice(0, 12)).toBe(v1!.fingerprint);
    expect(JSON.parse((await runCli(['policy', 'publish', '--json'], { cwd })).stdout)).toMatchObject({
      number: 3,
      created: false,
    });
    expect((await versions()).map((v) => v.number)).toEqual([1, 2, 3]);
    const diff = await runCli(['policy', 'diff', '2', '3', '--lang', 'en'], { cwd });
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('An SMS marketing provider');
    expect(diff.stdout).toContain('No re-consent needed');
  });

  it('writes a storefront QR code as PNG and SVG', async () => {
    const r = await runCli(['policy', 'qr', '--url', 'https://shop.example/privacy/policy', '--out', 'qr'], {
      cwd,
    });
    expect(r.code).toBe(0);
    expect(
      readFileSync(join(cwd, 'qr.png'))
        .subarray(0, 8)
        .equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    ).toBe(true);
    expect(readFileSync(join(cwd, 'qr.svg'), 'utf8')).toContain('<svg');
    expect((await runCli(['policy', 'qr', '--url', 'not a url', '--out', 'bad'], { cwd })).code).toBe(2);
    expect(existsSync(join(cwd, 'bad.png'))).toBe(false);
  });
});

describe('GET /privacy/policy', () => {
  it('serves the published policy without authentication, in zh-CN by default and in English', async () => {
    const t = await testApp();
    await t.runtime.privacyPolicy.publish();
    const zh = await t.app.inject({ method: 'GET', url: '/privacy/policy' });
    expect(zh.statusCode).toBe(200);
    expect(zh.headers['content-type']).toContain('text/html');
    expect(zh.body).toContain('<html lang="zh-CN"');
    const en = await t.app.inject({ method: 'GET', url: '/privacy/policy?lang=en' });
    expect(en.body).toContain('<html lang="en"');
    expect(en.body).toContain('Order fulfilment');
    expect((await t.app.inject({ method: 'GET', url: '/privacy/policy?version=7' })).statusCode).toBe(404);
    await t.close();
  });
});
