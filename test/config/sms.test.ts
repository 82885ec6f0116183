import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import type { CustodianError } from '../../src/domain/errors.js';
import { thrownBy } from '../support/codes.js';

const template = configTemplate({ suite: 'aes-256-gcm', storeName: 'Test Store' });

/** The template's recipients list is last: entries appended here join it. */
const RECIPIENT = (id: string, role: string, categories: string): string =>
  [
    `    - id: ${id}`,
    '      name: { zh-CN: 阿里云短信服务, en: Alibaba Cloud SMS }',
    "      contact: '95187'",
    `      role: ${role}`,
    '      purposes: [customer-service]',
    `      categories: [${categories}]`,
    '',
  ].join('\n');

const SMS = (over: Record<string, string> = {}): string => {
  const fields = {
    provider: 'aliyun',
    accessKeyId: '${env:SMS_KEY_ID}',
    accessKeySecret: '${env:SMS_KEY_SECRET}',
    signName: '示例商店',
    templateCode: 'SMS_123456789',
    recipient: 'aliyun-sms',
    ...over,
  };
  return [
    'privacyCentre:',
    '  codeChannel: deliver',
    '  sms:',
    ...Object.entries(fields).map(([k, v]) => `    ${k}: ${v}`),
    '',
  ].join('\n');
};

const ENV = { SMS_KEY_ID: 'LTAI-id', SMS_KEY_SECRET: 'the-secret-value' };

const problemOf = (text: string): CustodianError => thrownBy(() => parseConfig(text, 'custodian.yaml', ENV));

/** The 1-based line of the last line containing `needle` (the template's comments come first). */
const lineOf = (text: string, needle: string): number =>
  text.split('\n').findLastIndex((l) => l.includes(needle)) + 1;

describe('privacyCentre.sms configuration', () => {
  it('accepts an Alibaba Cloud SMS gateway whose provider is a declared processor, secrets from the environment', () => {
    const config = parseConfig(
      `${template}${RECIPIENT('aliyun-sms', 'processor', 'contact.phone')}${SMS()}`,
      'custodian.yaml',
      ENV,
    );
    expect(config.privacyCentre.codeChannel).toBe('deliver');
    expect(config.privacyCentre.sms).toEqual({
      provider: 'aliyun',
      endpoint: 'https://dysmsapi.aliyuncs.com/',
      accessKeyId: 'LTAI-id',
      accessKeySecret: 'the-secret-value',
      signName: '示例商店',
      templateCode: 'SMS_123456789',
      regionId: 'cn-hangzhou',
      timeoutMs: 5000,
      recipient: 'aliyun-sms',
    });
  });

  it('still accepts codeChannel smtp, as the earlier name of deliver', () => {
    const text = `${template}notify:\n  smtp:\n    host: smtp.example.com\n    from: a@example.com\n    to: [b@example.com]\nprivacyCentre:\n  codeChannel: smtp\n`;
    expect(parseConfig(text, 'custodian.yaml').privacyCentre.codeChannel).toBe('deliver');
    expect(parseConfig(template, 'custodian.yaml').privacyCentre.codeChannel).toBe('log');
  });

  it('refuses an SMS provider that is not in datamap.recipients, naming the key and line (R6, R13)', () => {
    const text = `${template}${SMS({ recipient: 'aliyun-sms' })}`;
    const error = problemOf(text);
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.message).toContain(
      `custodian.yaml:${lineOf(text, 'recipient: aliyun-sms')}:16: privacyCentre.sms.recipient: no datamap.recipients entry "aliyun-sms"`,
    );
  });

  it('refuses an SMS provider declared as a third party or joint controller (R13: processor only)', () => {
    for (const role of ['third-party', 'joint-controller']) {
      const text = `${template}${RECIPIENT('aliyun-sms', role, 'contact.phone')}${SMS()}`;
      const error = problemOf(text);
      expect(error.code).toBe('ERR_CONFIG_INVALID');
      expect(error.message).toContain(`custodian.yaml:${lineOf(text, 'recipient: aliyun-sms')}:`);
      expect(error.message).toContain(
        `privacyCentre.sms.recipient: datamap recipient "aliyun-sms" has role ${role}: the provider must be an entrusted processor`,
      );
    }
    // The template's China Customs is a third party.
    const customs = problemOf(`${template}${SMS({ recipient: 'china-customs' })}`);
    expect(customs.code).toBe('ERR_CONFIG_INVALID');
    expect(customs.message).toContain('has role third-party');
  });

  it('refuses an SMS provider whose entry does not list contact.phone (R6)', () => {
    const text = `${template}${RECIPIENT('aliyun-sms', 'processor', 'identity.name')}${SMS()}`;
    const error = problemOf(text);
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.message).toContain(
      'privacyCentre.sms.recipient: datamap recipient "aliyun-sms" does not list category contact.phone',
    );
  });

  it('refuses deliver with neither notify.smtp nor privacyCentre.sms', () => {
    const text = `${template}privacyCentre:\n  codeChannel: deliver\n`;
    const error = problemOf(text);
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.message).toContain(
      `custodian.yaml:${lineOf(text, 'codeChannel: deliver')}:16: privacyCentre.codeChannel: deliver needs notify.smtp`,
    );
  });

  it('refuses plain http except to this machine, other providers, bad template codes and unknown keys', () => {
    const ok = `${template}${RECIPIENT('aliyun-sms', 'processor', 'contact.phone')}`;
    for (const endpoint of ['http://127.0.0.1:8081/', 'http://localhost:8081/'])
      expect(
        parseConfig(`${ok}${SMS({ endpoint })}`, 'custodian.yaml', ENV).privacyCentre.sms?.endpoint,
      ).toBe(endpoint);
    const cases: [Record<string, string>, string, string][] = [
      [{ endpoint: 'http://dysmsapi.aliyuncs.com/' }, 'privacyCentre.sms.endpoint', 'an https URL'],
      [{ endpoint: 'ftp://127.0.0.1/' }, 'privacyCentre.sms.endpoint', ''],
      [{ provider: 'tencent' }, 'privacyCentre.sms.provider', ''],
      [{ templateCode: 'verify-code' }, 'privacyCentre.sms.templateCode', 'an Alibaba Cloud template code'],
      [{ regionId: 'Hangzhou' }, 'privacyCentre.sms.regionId', 'a region id'],
      [{ timeoutMs: '0' }, 'privacyCentre.sms.timeoutMs', ''],
      [{ accessKeySecrt: 'x' }, 'privacyCentre.sms.accessKeySecrt', 'unknown key'],
    ];
    for (const [over, key, message] of cases) {
      const error = problemOf(`${ok}${SMS(over)}`);
      expect(error.code, key).toBe('ERR_CONFIG_INVALID');
      expect(error.message, key).toContain(`${key}: ${message}`);
    }
  });

  it('names an unset secret variable and never echoes a secret', () => {
    const text = `${template}${RECIPIENT('aliyun-sms', 'processor', 'contact.phone')}${SMS({ signName: '' })}`;
    let error: CustodianError | undefined;
    try {
      parseConfig(text, 'custodian.yaml', { SMS_KEY_ID: 'LTAI-id' });
    } catch (e) {
      error = e as CustodianError;
    }
    expect(error?.code).toBe('ERR_CONFIG_INVALID');
    expect(error?.message).toContain(
      'privacyCentre.sms.accessKeySecret: environment variable SMS_KEY_SECRET is not set',
    );
    const bad = problemOf(
      `${template}${RECIPIENT('aliyun-sms', 'processor', 'contact.phone')}${SMS({ templateCode: 'x' })}`,
    );
    expect(bad.message).not.toContain(ENV.SMS_KEY_SECRET);
  });
});
