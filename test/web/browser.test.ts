import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { simpleParser } from 'mailparser';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../support/app.js';
import { tester } from '../support/roles.js';
import { ByteScanner } from '../support/scan.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

/**
 * The privacy centre in real headless Chromium against a real listening server: sign in with the
 * code from the SMTP sink, withdraw marketing consent, download and verify the receipt, do it all
 * again with JavaScript off, use the embeddable snippet from another origin, and run axe on every
 * page. Screenshots at phone size go to .ci-artifacts/screenshots/. In CI a missing Chromium fails.
 */

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env['CI'] === 'true')
  throw new Error(`${CHROMIUM} is missing: CI must install chromium (see .ci/run)`);

const SHOTS = join(process.cwd(), '.ci-artifacts', 'screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core');
const EMAIL = 'wang.fang@example.cn';
const PHONE = '13655556666';
const NAME = '王芳';
const CHILD_EMAIL = 'xiaoyu.chen@example.cn';
const CHILD_NAME = '陈小雨';
const GUARDIAN_NAME = '陈志强';
const PHONE_SIZE = { width: 390, height: 844 };

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: unknown[];
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  // A string, so the test needs no DOM typings: axe.run() on the whole document.
  const violations = await page.evaluate<AxeViolation[]>('axe.run().then((r) => r.violations)');
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes)`);
}

describe.skipIf(!haveChromium)('privacy centre in headless Chromium', () => {
  let t: TestApp;
  let smtp: SmtpSink;
  let browser: Browser;
  let base: string;
  let subjectId: string;
  let merchant: Server;
  /** Undone in reverse order, whatever beforeAll got to. */
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    smtp = await startSmtpSink();
    cleanups.push(() => smtp.stop());
    t = await testApp({
      edit: (y) =>
        y.replace(
          'log:\n  level: info\n',
          [
            'log:',
            '  level: info',
            'notify:',
            '  smtp:',
            '    host: 127.0.0.1',
            `    port: ${smtp.port}`,
            '    requireTls: false',
            '    from: privacy@shop.example',
            '    to: [dpo@shop.example]',
            'privacyCentre:',
            '  codeChannel: smtp',
            '  codeTtlMinutes: 7',
            '',
          ].join('\n'),
        ),
    });
    cleanups.push(() => t.close());
    await t.runtime.privacyPolicy.publish();
    ({ subjectId } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: NAME, phone: PHONE, email: EMAIL },
      identities: { phone: PHONE, email: EMAIL },
      purpose: 'marketing',
    }));
    await t.runtime.consent.record(tester, subjectId, {
      purpose: 'marketing',
      action: 'grant',
      channel: 'tmall-store',
    });
    await t.runtime.privacyCentre.postNotice(tester, {
      title: { 'zh-CN': '隐私政策第 1 版发布', en: 'Privacy policy version 1 published' },
      body: { 'zh-CN': '欢迎查看我们的隐私政策。', en: 'Please read our privacy policy.' },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    cleanups.push(() => browser.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  const newContext = (javaScriptEnabled: boolean): Promise<BrowserContext> =>
    browser.newContext({
      viewport: PHONE_SIZE,
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
      javaScriptEnabled,
      acceptDownloads: true,
      // axe is injected as a script tag; the pages' own CSP (script-src 'self') would refuse it.
      bypassCSP: true,
    });

  async function codeFromMail(count: number): Promise<string> {
    await smtp.waitFor(count);
    const message = smtp.messages[count - 1]!;
    expect(message.to).toEqual([EMAIL]);
    const parsed = await simpleParser(message.raw);
    const code = /\b(\d{6})\b/.exec(parsed.text ?? '')?.[1];
    expect(code).toBeDefined();
    // The message states the validity the store configured, as the page did.
    expect(parsed.text).toContain(`您的验证码是 ${code}，7 分钟内有效。`);
    return code!;
  }

  async function signIn(page: Page, mails: number, shot: string): Promise<void> {
    await page.goto(`${base}/privacy/sign-in`);
    await page.getByRole('radio', { name: '邮箱' }).check();
    await page.getByLabel('手机号或邮箱').fill(EMAIL);
    await page.getByRole('button', { name: '发送验证码' }).click();
    await page.waitForURL(`${base}/privacy/sign-in/code`);
    await page.screenshot({ path: join(SHOTS, `${shot}-code.png`), fullPage: true });
    await page.getByLabel('6 位验证码').fill(await codeFromMail(mails));
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(`${base}/privacy/account`);
  }

  it('has no serious or critical axe violations on any page, in both languages', async () => {
    const context = await newContext(true);
    const page = await context.newPage();
    const failures: string[] = [];
    for (const lang of ['zh-CN', 'en']) {
      for (const path of [
        '/privacy',
        '/privacy/versions',
        '/privacy/notices',
        '/privacy/sign-in',
        '/privacy/sign-in/code',
        '/privacy/policy',
      ]) {
        const response = await page.goto(`${base}${path}?lang=${lang}`);
        expect(response?.status(), path).toBe(200);
        const size = (await response!.body()).length;
        expect(size, `${path} is ${size} bytes`).toBeLessThan(50 * 1024);
        for (const v of await seriousViolations(page)) failures.push(`${lang} ${path}: ${v}`);
      }
    }
    await page.goto(`${base}/privacy?lang=zh-CN`);
    await page.screenshot({ path: join(SHOTS, 'home-zh-CN.png'), fullPage: true });
    await page.goto(`${base}/privacy?lang=en`);
    await page.screenshot({ path: join(SHOTS, 'home-en.png'), fullPage: true });
    await context.close();
    expect(failures).toEqual([]);
  }, 180_000);

  it('signs in with the emailed code, withdraws marketing and downloads a receipt that verifies', async () => {
    const context = await newContext(true);
    const page = await context.newPage();
    await signIn(page, 1, 'js');
    const account = await page.content();
    expect(Buffer.byteLength(account)).toBeLessThan(50 * 1024);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(SHOTS, 'account-before.png'), fullPage: true });

    const marketing = page.locator('[data-purpose="marketing"]');
    expect(await marketing.getByRole('switch').getAttribute('aria-checked')).toBe('true');
    await marketing.getByRole('switch').click();
    await page.waitForURL(`${base}/privacy/account?done=saved`);
    expect(
      await page.locator('[data-purpose="marketing"]').getByRole('switch').getAttribute('aria-checked'),
    ).toBe('false');
    await page.screenshot({ path: join(SHOTS, 'account-withdrawn.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    const status = await t.runtime.consent.list(tester, subjectId);
    expect(status.purposes.find((p) => p.purpose === 'marketing')?.granted).toBe(false);
    const withdrawal = status.history.at(-1)!;
    expect(withdrawal).toMatchObject({ action: 'withdraw', channel: 'h5' });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`a[href="/privacy/account/receipts/${withdrawal.receiptId}"]`).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`consent-receipt-${withdrawal.receiptId}.jws`);
    const jws = readFileSync(await download.path(), 'utf8');
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    const { payload } = await jwtVerify(jws, createLocalJWKSet(jwks), {
      issuer: t.config.datamap.processor.name,
    });
    expect(payload).toMatchObject({ action: 'withdraw', channel: 'h5', jti: withdrawal.receiptId });
    await context.close();
  }, 60_000);

  it('works with JavaScript disabled: sign in, consent again, ask for a copy', async () => {
    const context = await newContext(false);
    const page = await context.newPage();
    await signIn(page, 2, 'nojs');
    await page.locator('[data-purpose="marketing"]').getByRole('switch').click();
    await page.waitForURL(`${base}/privacy/account?done=saved`);
    expect(
      await page.locator('[data-purpose="marketing"]').getByRole('switch').getAttribute('aria-checked'),
    ).toBe('true');
    await page.getByLabel('请求类型').selectOption('copy');
    await page.getByRole('button', { name: '提交请求' }).click();
    await page.waitForURL(/done=requested/);
    expect(await page.getByRole('status').textContent()).toContain('已收到您的请求');
    await page.screenshot({ path: join(SHOTS, 'account-nojs.png'), fullPage: true });
    expect(await t.store.privacy.listRequests(subjectId)).toMatchObject([
      { kind: 'copy', status: 'received' },
    ]);
    const status = await t.runtime.consent.list(tester, subjectId);
    expect(status.purposes.find((p) => p.purpose === 'marketing')?.granted).toBe(true);
    await context.close();
  }, 60_000);

  /** The child of the guardian test, for the snippet's test after it. */
  let child = '';

  it('lets a parent fill in the guardian section for a child under 14 (R3)', async () => {
    ({ subjectId: child } = await t.runtime.vault.collect(tester, {
      collection: 'profile',
      fields: { name: CHILD_NAME, email: CHILD_EMAIL, birthDate: '2016-11-20' },
      identities: { email: CHILD_EMAIL },
      purpose: 'marketing',
    }));
    const context = await newContext(true);
    const page = await context.newPage();
    await page.goto(`${base}/privacy/sign-in`);
    await page.getByRole('radio', { name: '邮箱' }).check();
    await page.getByLabel('手机号或邮箱').fill(CHILD_EMAIL);
    const mails = smtp.messages.length;
    await page.getByRole('button', { name: '发送验证码' }).click();
    await page.waitForURL(`${base}/privacy/sign-in/code`);
    await smtp.waitFor(mails + 1);
    expect(smtp.messages[mails]!.to).toEqual([CHILD_EMAIL]);
    const mail = await simpleParser(smtp.messages[mails]!.raw);
    await page.getByLabel('6 位验证码').fill(/\b(\d{6})\b/.exec(mail.text ?? '')![1]!);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL(`${base}/privacy/account`);
    expect(await seriousViolations(page)).toEqual([]);

    const marketing = page.locator('[data-purpose="marketing"]');
    // The browser itself refuses the grant until the guardian section is filled in.
    await marketing.getByRole('switch').click();
    expect(page.url()).toBe(`${base}/privacy/account`);
    await marketing.getByLabel('与未成年人的关系').first().selectOption('parent');
    await marketing.getByLabel('监护人姓名').first().fill(GUARDIAN_NAME);
    await marketing.getByLabel('我是该未成年人的父母或其他监护人').first().check();
    await page.screenshot({ path: join(SHOTS, 'account-guardian.png'), fullPage: true });
    await marketing.getByRole('switch').click();
    await page.waitForURL(`${base}/privacy/account?done=saved`);
    expect(await seriousViolations(page)).toEqual([]);

    const status = await t.runtime.consent.list(tester, child);
    expect(status.history.at(-1)).toMatchObject({ action: 'grant', guardian: 'parent', minor: true });
    expect(status.purposes.find((p) => p.purpose === 'marketing')).toMatchObject({
      granted: true,
      sensitive: false,
    });
    await context.close();
  }, 60_000);

  it('embeds <custodian-consent> on a merchant page from another origin', async () => {
    const { token } = await t.runtime.privacyCentre.mintEmbedToken(tester, subjectId);
    const { token: childToken } = await t.runtime.privacyCentre.mintEmbedToken(tester, child);
    merchant = createServer((req, res) => {
      const pageToken = req.url === '/child' ? childToken : token;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Shop</title><script src="${base}/privacy/embed/consent.js" defer></script></head><body><main><h1>会员中心</h1><custodian-consent base="${base}" token="${pageToken}" lang="zh-CN"></custodian-consent></main></body></html>`,
      );
    });
    merchant.listen(0, '127.0.0.1');
    cleanups.push(() => {
      merchant.closeAllConnections();
      return new Promise((r) => merchant.close(r));
    });
    await new Promise((r) => merchant.once('listening', r));
    const origin = `http://localhost:${(merchant.address() as AddressInfo).port}`;
    const context = await newContext(true);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/`);
    const button = page.locator('custodian-consent button[data-purpose="marketing"]');
    await button.waitFor();
    expect(await button.getAttribute('aria-checked')).toBe('true');
    await button.click();
    await page.waitForFunction(
      `document.querySelector('custodian-consent')?.shadowRoot?.querySelector('button[aria-checked="false"]')`,
    );
    await page.screenshot({ path: join(SHOTS, 'embed.png'), fullPage: true });
    expect(errors).toEqual([]);
    const status = await t.runtime.consent.list(tester, subjectId);
    expect(status.history.at(-1)).toMatchObject({
      action: 'withdraw',
      channel: 'h5',
      recordedBy: 'privacy-embed',
    });

    // A child's page: withdrawing works; granting again says a guardian must, and records nothing.
    await page.goto(`${origin}/child`);
    const childButton = page.locator('custodian-consent button[data-purpose="marketing"]');
    await childButton.waitFor();
    expect(await childButton.getAttribute('aria-checked')).toBe('true');
    await childButton.click();
    await page.waitForFunction(
      `document.querySelector('custodian-consent')?.shadowRoot?.querySelector('button[aria-checked="false"]:not([disabled])')`,
    );
    const recorded = (await t.runtime.consent.list(tester, child)).history.length;
    await childButton.click();
    await page.waitForFunction(
      `document.querySelector('custodian-consent')?.shadowRoot?.querySelector('[role=status]')?.textContent.includes('监护人')`,
    );
    expect(await childButton.getAttribute('aria-checked')).toBe('false');
    expect((await t.runtime.consent.list(tester, child)).history).toHaveLength(recorded);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('left no phone, email or name in clear in the database or the logs', () => {
    const scanner = new ByteScanner(
      [PHONE, EMAIL, NAME, CHILD_EMAIL, CHILD_NAME, GUARDIAN_NAME].map((v) => ({
        label: v,
        bytes: Buffer.from(v),
      })),
    );
    const dataDir = join(t.dir, 'data');
    for (const file of readdirSync(dataDir))
      expect(scanner.scan(readFileSync(join(dataDir, file))), file).toEqual(new Set());
    expect(scanner.scan(Buffer.from(t.logs.join('\n')))).toEqual(new Set());
  });
});
