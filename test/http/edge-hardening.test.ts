import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import { CustodianError } from '../../src/domain/errors.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { testApp, type TestApp } from '../support/app.js';

const opened: TestApp[] = [];
afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
});

async function limitedApp(max: number): Promise<TestApp> {
  const t = await testApp({ edit: (y) => y.replace('max: 600 ', `max: ${max} `) });
  opened.push(t);
  return t;
}

describe('the server-wide rate limit', () => {
  const failing: Record<string, Record<string, string>> = {
    'an unknown bearer key': { authorization: `Bearer cst_${'A'.repeat(43)}` },
    'a bogus session cookie': { cookie: 'custodian_session=not-a-session' },
    'no credentials': {},
  };

  for (const [name, headers] of Object.entries(failing)) {
    it(`counts /v1 requests with ${name} before authentication`, async () => {
      const t = await limitedApp(2);
      const codes: number[] = [];
      for (let i = 0; i < 3; i++)
        codes.push((await t.app.inject({ method: 'GET', url: '/v1/me', headers })).statusCode);
      expect(codes).toEqual([401, 401, 429]);
      const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers });
      expect(res.statusCode).toBe(429);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.json()).toMatchObject({ code: 'ERR_RATE_LIMITED', status: 429 });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });
  }

  it('counts anonymous requests for unknown /v1 paths', async () => {
    const t = await limitedApp(2);
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await t.app.inject({ method: 'GET', url: '/v1/nowhere' })).statusCode);
    expect(codes).toEqual([401, 401, 429]);
  });

  it('still limits valid credentials after the limit is spent by failures', async () => {
    const t = await limitedApp(2);
    await t.app.inject({ method: 'GET', url: '/v1/me' });
    await t.app.inject({ method: 'GET', url: '/v1/me' });
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${t.token}` },
    });
    expect(res.statusCode).toBe(429);
  });

  it("lets a route's own rateLimit config replace the server-wide limit", async () => {
    const t = await limitedApp(2);
    const app = await buildApp({ runtime: t.runtime, logger: createLogger('silent') });
    app.get('/tight', { config: { rateLimit: { max: 1, timeWindow: 60_000 } } }, () => ({ ok: true }));
    app.get('/free', { config: { rateLimit: false } }, () => ({ ok: true }));
    await app.ready();
    try {
      const tight: number[] = [];
      const free: number[] = [];
      for (let i = 0; i < 3; i++) {
        tight.push((await app.inject({ method: 'GET', url: '/tight' })).statusCode);
        free.push((await app.inject({ method: 'GET', url: '/free' })).statusCode);
      }
      expect(tight).toEqual([200, 429, 429]);
      expect(free).toEqual([200, 200, 200]);
      // Neither counted against the server-wide limit.
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

/** A log line with any serialised Buffer (`{type: 'Buffer', data: [...]}`) turned back into text. */
function decoded(line: string): string {
  return JSON.stringify(
    JSON.parse(line, (_key, value: unknown) => {
      const v = value as { type?: unknown; data?: unknown } | null;
      if (v !== null && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data))
        return Buffer.from(v.data as number[]).toString('latin1');
      return value;
    }),
  );
}

describe('logging malformed requests', () => {
  it('does not log the raw bytes of a request the HTTP parser refuses, even at trace level', async () => {
    const t = await testApp();
    opened.push(t);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const app = await buildApp({ runtime: t.runtime, logger: createLogger('trace', sink) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const token = `cst_${'Q'.repeat(43)}`;
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(address.port, '127.0.0.1');
        let received = '';
        socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
        socket.on('error', reject);
        socket.on('close', () => resolve(received));
        socket.write(
          'GET /v1/subjects?phone=13912345678 HTTP/1.1\r\n' +
            'Host: localhost\r\n' +
            `Authorization: Bearer ${token}\r\n` +
            'Bad Header Line\r\n\r\n',
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 400/);
    } finally {
      await app.close();
    }
    const logged = lines.map(decoded).join('\n');
    expect(logged).toContain('client error');
    expect(logged).not.toContain('13912345678');
    expect(logged).not.toContain(token);
  });
});

describe('server.trustProxy', () => {
  const template = configTemplate({ suite: 'aes-256-gcm', storeName: 'Test Store' });
  const withTrust = (value: string) =>
    parseConfig(template.replace('server:\n', `server:\n  trustProxy: ${value}\n`), 'custodian.yaml');

  it('accepts true, false, one proxy address, or a list of addresses, CIDR ranges and named ranges', () => {
    expect(parseConfig(template, 'custodian.yaml').server.trustProxy).toBe(false);
    expect(withTrust('true').server.trustProxy).toBe(true);
    expect(withTrust('10.0.0.1').server.trustProxy).toEqual(['10.0.0.1']);
    expect(withTrust('[127.0.0.1, 10.0.0.0/8, "fd00::/8", loopback]').server.trustProxy).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      'fd00::/8',
      'loopback',
    ]);
  });

  it('refuses hop counts, malformed addresses and an empty list, naming the key', () => {
    for (const value of ['2', 'proxy.example', '[10.0.0.0/33]', '[10.0.0.1/8/8]', '[]']) {
      let error: unknown;
      try {
        withTrust(value);
      } catch (e) {
        error = e;
      }
      expect(error, value).toBeInstanceOf(CustodianError);
      expect((error as CustodianError).message, value).toContain('server.trustProxy');
    }
  });

  it('takes the client address from X-Forwarded-For only past the listed proxies', async () => {
    const t = await testApp({ edit: (y) => y.replace('server:\n', 'server:\n  trustProxy: [127.0.0.1]\n') });
    opened.push(t);
    const app = await buildApp({ runtime: t.runtime, logger: createLogger('silent') });
    app.get('/ip', (request) => ({ ip: request.ip }));
    await app.ready();
    try {
      const res = await app.inject({
        method: 'GET',
        url: '/ip',
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': '1.1.1.1, 203.0.113.7' },
      });
      // The client wrote 1.1.1.1; the trusted proxy appended the address it saw.
      expect(res.json()).toEqual({ ip: '203.0.113.7' });
      const direct = await app.inject({
        method: 'GET',
        url: '/ip',
        remoteAddress: '198.51.100.9',
        headers: { 'x-forwarded-for': '1.1.1.1' },
      });
      expect(direct.json()).toEqual({ ip: '198.51.100.9' });
    } finally {
      await app.close();
    }
  });
});
