import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, resolveConfigPath } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import { tempDir } from '../support/tmp.js';
import { thrownBy as problemOf } from '../support/codes.js';

const template = configTemplate({ suite: 'aes-256-gcm', storeName: 'Test Store' });

describe('configuration', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  it('loads the init template with defaults filled in', () => {
    const config = parseConfig(template, 'custodian.yaml');
    expect(config.server).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      rateLimit: { max: 600, windowMs: 60000 },
    });
    expect(config.database).toEqual({ engine: 'sqlite', path: 'data/custodian.db' });
    expect(config.crypto.suite).toBe('aes-256-gcm');
    expect(config.datamap.purposes.map((p) => p.id)).toEqual([
      'order-fulfilment',
      'customer-service',
      'customs-clearance',
      'marketing',
    ]);
    expect(Object.keys(config.datamap.collections)).toEqual(['profile', 'address', 'order', 'customs']);
  });

  it('contains the example data map the issues promise', () => {
    const { datamap } = parseConfig(template, 'custodian.yaml');
    const fields = (c: string): string[] => Object.keys(datamap.collections[c]?.fields ?? {});
    expect(fields('profile')).toEqual(['name', 'phone', 'email', 'birthDate']);
    expect(fields('address')).toEqual([
      'recipientName',
      'phone',
      'province',
      'city',
      'district',
      'street',
      'privacyNumber',
    ]);
    expect(fields('order')).toEqual([
      'orderId',
      'amount',
      'status',
      'buyerMessage',
      'buyerNick',
      'createdAt',
      'paidAt',
      'itemTitle',
    ]);
    expect(fields('customs')).toEqual(['realName', 'nationalId']);
    const basis = Object.fromEntries(datamap.purposes.map((p) => [p.id, p.legalBasis]));
    expect(basis).toEqual({
      'order-fulfilment': 'contract',
      'customer-service': 'contract',
      'customs-clearance': 'legal_obligation',
      marketing: 'consent',
    });
    expect(datamap.collections['customs']?.fields['nationalId']?.sensitivity).toBe('sensitive');
  });

  it('deep-freezes the validated config', () => {
    const config = parseConfig(template, 'custodian.yaml');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server.rateLimit)).toBe(true);
    expect(Object.isFrozen(config.datamap.purposes[0])).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('names file, line and key for an unknown key', () => {
    const text = template.replace('  port: 8080\n', '  port: 8080\n  prot: 9090\n');
    const error = problemOf(() => parseConfig(text, 'custodian.yaml'));
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    const line = text.split('\n').findIndex((l) => l.includes('prot: 9090')) + 1;
    expect(error.message).toBe(`custodian.yaml:${line}:3: server.prot: unknown key`);
  });

  it('names file, line and key for a wrong value', () => {
    const text = template.replace('  engine: sqlite\n', '  engine: mysql\n');
    const error = problemOf(() => parseConfig(text, 'conf/custodian.yaml'));
    const line = text.split('\n').findIndex((l) => l.includes('engine: mysql')) + 1;
    expect(error.message).toMatch(new RegExp(`^conf/custodian\\.yaml:${line}:\\d+: database\\.engine: `));
  });

  it('names the line of a deeply nested mistake', () => {
    const text = template.replace(
      '          category: identity.national-id',
      '          category: identity.nationalid',
    );
    const error = problemOf(() => parseConfig(text, 'custodian.yaml'));
    const line = text.split('\n').findIndex((l) => l.includes('identity.nationalid')) + 1;
    expect(error.message).toContain(`custodian.yaml:${line}:`);
    expect(error.message).toContain('datamap.collections.customs.fields.nationalId.category');
  });

  it('keeps audit entries six months and provision records three years, longer only when configured', () => {
    const defaults = parseConfig(template, 'custodian.yaml');
    expect(defaults.audit.retention).toEqual({
      entries: { count: 6, unit: 'mo' },
      sharing: { count: 3, unit: 'y' },
    });
    const longer = parseConfig(
      `${template}audit:\n  retention:\n    entries: 400d\n    sharing: 5y\n`,
      'custodian.yaml',
    );
    expect(longer.audit.retention).toEqual({
      entries: { count: 400, unit: 'd' },
      sharing: { count: 5, unit: 'y' },
    });
  });

  it('accepts the commented examples of the template once they are uncommented', () => {
    /** The `#   key:` block that starts with `first`, uncommented (its own indentation kept). */
    const example = (first: string): string => {
      const lines = template.split('\n');
      const start = lines.indexOf(`#   ${first}:`);
      expect(start, first).toBeGreaterThan(0);
      const block: string[] = [];
      for (const line of lines.slice(start)) {
        if (!line.startsWith('#   ')) break;
        block.push(line.slice(4));
      }
      return `${block.join('\n')}\n`;
    };
    const env = {
      SMTP_PASSWORD: 'pw',
      TMALL_APP_SECRET: 'secret',
      TMALL_SESSION: 'session',
      ALIYUN_SMS_ACCESS_KEY_ID: 'LTAI-id',
      ALIYUN_SMS_ACCESS_KEY_SECRET: 'sms-secret',
    };
    // The SMS provider's recipient entry is commented in place at the end of the data map.
    const recipient = template.replace(/^ {4}# (- id: aliyun-sms| {2}.*)$/gmu, '    $1');
    expect(recipient).not.toBe(template);
    const config = parseConfig(
      `${recipient}${example('audit')}${example('privacyCentre')}${example('tmall')}`,
      'custodian.yaml',
      env,
    );
    expect(config.privacyCentre).toMatchObject({
      codeChannel: 'deliver',
      codeTtlMinutes: 10,
      sessionMinutes: 60,
      sms: {
        provider: 'aliyun',
        endpoint: 'https://dysmsapi.aliyuncs.com/',
        accessKeyId: 'LTAI-id',
        accessKeySecret: 'sms-secret',
        templateCode: 'SMS_123456789',
        regionId: 'cn-hangzhou',
        timeoutMs: 5000,
        recipient: 'aliyun-sms',
      },
    });
    expect(config.datamap.recipients.find((r) => r.id === 'aliyun-sms')).toMatchObject({
      role: 'processor',
      categories: ['contact.phone'],
    });
    expect(config.notify.smtp).toMatchObject({ host: 'smtp.example.com', port: 587, password: 'pw' });
    expect(config.audit.retention.sharing).toEqual({ count: 3, unit: 'y' });
    expect(config.tmall.signMethod).toBe('hmac-sha256');
  });

  it('refuses an audit retention below the legal minimum, naming the key (R17, R13/R19)', () => {
    const cases: [string, string, string][] = [
      ['entries: 3mo', 'audit.retention.entries', 'at least 6 months (R17'],
      ['entries: 183d', 'audit.retention.entries', 'at least 6 months'],
      ['sharing: 2y', 'audit.retention.sharing', 'at least 3 years (R13/R19'],
      ['entries: forever', 'audit.retention.entries', 'a retention period such as 184d, 6mo or 3y'],
    ];
    for (const [line, key, message] of cases) {
      const text = `${template}audit:\n  retention:\n    ${line}\n`;
      const error = problemOf(() => parseConfig(text, 'custodian.yaml'));
      expect(error.code).toBe('ERR_CONFIG_INVALID');
      expect(error.exitCode).toBe(2);
      const at = text.split('\n').findIndex((l) => l.includes(line)) + 1;
      expect(error.message).toContain(`custodian.yaml:${at}:`);
      expect(error.message).toContain(`${key}: ${message}`);
    }
  });

  it('reports a YAML syntax error with its line and the key it broke', () => {
    const text = 'server:\n  host: [unclosed\nlog:\n  level: info\n';
    const error = problemOf(() => parseConfig(text, 'custodian.yaml'));
    expect(error.code).toBe('ERR_CONFIG_INVALID');
    expect(error.exitCode).toBe(2);
    // The parser stops where the next key begins (line 3); the key is the one left open.
    expect(error.message).toMatch(/^custodian\.yaml:3:1: server\.host: Flow sequence /);
    const cases: [string, string][] = [
      // An unclosed quote runs to the end of the file.
      ['server:\n  host: "127.0.0.1\n  port: 8080\n', 'server.host'],
      // A duplicate is named itself, not the key before it.
      ['server:\n  host: a\n  port: 1\n  host: b\n', 'server.host'],
      // Inside a list of purposes, the path runs through the index.
      [
        'datamap:\n  purposes:\n    - id: a\n      name: { en: x\n    - id: b\n',
        'datamap.purposes.0.name.en',
      ],
    ];
    for (const [broken, key] of cases) {
      const message = problemOf(() => parseConfig(broken, 'custodian.yaml')).message;
      expect(message, broken).toMatch(
        new RegExp(`^custodian\\.yaml:\\d+:\\d+: ${key.replace(/\./g, '\\.')}: `),
      );
    }
    // Before the first key there is none to name.
    expect(problemOf(() => parseConfig('[\n', 'custodian.yaml')).message).toMatch(
      /^custodian\.yaml:2:1: Flow sequence must end with a \]/,
    );
  });

  it('refuses a purpose the data map does not declare', () => {
    const text = template.replace('purposes: { marketing: masked }', 'purposes: { marketting: masked }');
    const error = problemOf(() => parseConfig(text, 'custodian.yaml'));
    expect(error.message).toContain(
      'datamap.collections.profile.fields.birthDate.purposes.marketting: unknown purpose',
    );
  });

  it('takes secrets from the environment and never echoes them', () => {
    const text = template.replace(
      'database:\n  engine: sqlite\n  path: data/custodian.db',
      'database:\n  engine: postgres\n  url: postgres://app:${env:TEST_PG_PASSWORD}@db:5432/custodian',
    );
    const config = parseConfig(text, 'custodian.yaml', { TEST_PG_PASSWORD: 's3cret-value' });
    expect(config.database).toMatchObject({
      engine: 'postgres',
      url: 'postgres://app:s3cret-value@db:5432/custodian',
    });
    const error = problemOf(() => parseConfig(text, 'custodian.yaml', {}));
    expect(error.message).toMatch(
      /custodian\.yaml:\d+:\d+: database\.url: environment variable TEST_PG_PASSWORD is not set/,
    );
  });

  it('resolves relative paths against the file and picks the file by precedence', () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir.path, 'etc'));
    writeFileSync(join(dir.path, 'etc', 'custodian.yaml'), template);
    const loaded = loadConfig({ explicit: 'etc/custodian.yaml', cwd: dir.path, env: {} });
    expect(loaded.config.database).toMatchObject({ path: join(dir.path, 'etc', 'data', 'custodian.db') });
    expect(loaded.config.keys.root).toMatchObject({ path: join(dir.path, 'etc', 'keys', 'root.key') });

    expect(resolveConfigPath({ explicit: 'a.yaml', env: { CUSTODIAN_CONFIG: 'b.yaml' }, cwd: '/x' })).toBe(
      '/x/a.yaml',
    );
    expect(resolveConfigPath({ env: { CUSTODIAN_CONFIG: 'b.yaml' }, cwd: '/x' })).toBe('/x/b.yaml');
    expect(resolveConfigPath({ env: {}, cwd: '/x' })).toBe('/x/custodian.yaml');
  });

  it('reports a missing file with its own code', () => {
    const error = problemOf(() => loadConfig({ explicit: '/nonexistent/custodian.yaml', env: {} }));
    expect(error.code).toBe('ERR_CONFIG_NOT_FOUND');
    expect(error.exitCode).toBe(2);
  });
});
