import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configTemplate } from '../../src/config/template.js';
import type { CustodianError } from '../../src/domain/errors.js';
import { createNotifier, smtpTransport, type Alert } from '../../src/services/notify.js';
import { startSmtpSink } from '../support/smtp.js';
import { thrownBy } from '../support/codes.js';

const template = configTemplate({ suite: 'aes-256-gcm', storeName: 'Test Store' });

const webhook = (url: string): string =>
  `${template}notify:\n  webhook:\n    url: ${url}\n    secret: \${env:HOOK_SECRET}\n`;

const ENV = { HOOK_SECRET: 'the-hook-secret' };

const problemOf = (text: string): CustodianError => thrownBy(() => parseConfig(text, 'custodian.yaml', ENV));

const ALERT: Alert = {
  kind: 'anomaly.break-glass',
  severity: 'critical',
  summary: 'Anomaly break-glass: op-1 (operator), 1 in 2026-06-01T03:00:00.000Z',
  at: '2026-06-01T03:00:00.000Z',
  details: { incident: '0190-test', count: 1 },
};

const silent = { warn: () => undefined, error: () => undefined };

/**
 * A bare SMTP server that offers STARTTLS and AUTH, records every byte the client sends in
 * clear, and hangs up when the client asks for TLS (it has none): what reaches it is exactly
 * what would cross the network unencrypted.
 */
async function startStarttlsServer(): Promise<{ port: number; received: () => string; close(): void }> {
  let received = '';
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    let data = false;
    const reply = (line: string) => socket.write(`${line}\r\n`);
    reply('220 mx.test ESMTP');
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 2);
        if (data) {
          if (line === '.') {
            data = false;
            reply('250 queued');
          }
          continue;
        }
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') reply('250-mx.test\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME');
        else if (verb === 'STARTTLS') {
          reply('220 go ahead');
          socket.destroy();
        } else if (verb === 'AUTH') reply('235 accepted');
        else if (verb === 'DATA') {
          data = true;
          reply('354 go on');
        } else if (verb === 'QUIT') reply('221 bye');
        else reply('250 ok');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    received: () => received,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('notify', () => {
  it('notify.webhook.url: https, or plain http only to this machine', () => {
    for (const url of [
      'https://alerts.example.com/hook',
      'http://127.0.0.1:8081/hook',
      'http://localhost/hook',
    ])
      expect(parseConfig(webhook(url), 'custodian.yaml', ENV).notify.webhook?.url).toBe(url);
    for (const url of ['http://alerts.example.com/hook', 'http://10.0.0.5/hook']) {
      const error = problemOf(webhook(url));
      expect(error.code).toBe('ERR_CONFIG_INVALID');
      expect(error.message).toContain('notify.webhook.url: an https URL');
      expect(error.message).not.toContain('the-hook-secret');
    }
  });

  it('with requireTls false still upgrades with STARTTLS when offered: password and mail never go in clear', async () => {
    const server = await startStarttlsServer();
    try {
      const transport = smtpTransport({
        host: '127.0.0.1',
        port: server.port,
        secure: false,
        requireTls: false,
        user: 'alerts',
        password: 'smtp-password-123',
        from: 'custodian@shop.example',
        to: ['dpo@shop.example'],
      });
      await expect(
        transport.sendMail({
          from: 'custodian@shop.example',
          to: 'dpo@shop.example',
          subject: 'alert',
          text: 'secret alert body',
        }),
      ).rejects.toThrow();
      transport.close();
      const clear = server.received();
      expect(clear).toMatch(/^STARTTLS\r$/m);
      for (const leak of [
        'smtp-password-123',
        Buffer.from('\u0000alerts\u0000smtp-password-123').toString('base64'),
        Buffer.from('smtp-password-123').toString('base64'),
        'MAIL FROM',
        'secret alert body',
      ])
        expect(clear).not.toContain(leak);
    } finally {
      server.close();
    }
  });

  it('with requireTls false still delivers to a server that offers no STARTTLS (the loopback sink)', async () => {
    const sink = await startSmtpSink();
    try {
      const notifier = createNotifier(
        {
          smtp: {
            host: '127.0.0.1',
            port: sink.port,
            secure: false,
            requireTls: false,
            from: 'custodian@shop.example',
            to: ['dpo@shop.example'],
          },
        },
        silent,
      );
      expect(await notifier.notify(ALERT)).toEqual([]);
      await sink.waitFor(1);
      expect(sink.messages[0]?.raw).toContain('anomaly.break-glass');
    } finally {
      await sink.stop();
    }
  });

  it('reports a webhook that cannot be reached as a failed channel, without throwing', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const errors: object[] = [];
    const notifier = createNotifier(
      { webhook: { url: `http://127.0.0.1:${port}/alerts`, secret: 'hook-secret', timeoutMs: 2000 } },
      { warn: () => undefined, error: (obj) => errors.push(obj) },
    );
    expect(await notifier.notify(ALERT)).toEqual(['webhook']);
    expect(JSON.stringify(errors)).toContain('webhook');
    expect(JSON.stringify(errors)).not.toContain('hook-secret');
  });

  it('gives up on an SMTP relay that accepts but never greets, after timeoutMs', async () => {
    const sockets: Socket[] = [];
    const mute = createServer((socket) => sockets.push(socket));
    mute.listen(0, '127.0.0.1');
    await once(mute, 'listening');
    const port = (mute.address() as AddressInfo).port;
    try {
      const notifier = createNotifier(
        {
          smtp: {
            host: '127.0.0.1',
            port,
            secure: false,
            requireTls: false,
            from: 'custodian@shop.example',
            to: ['dpo@shop.example'],
            timeoutMs: 200,
          },
        },
        silent,
      );
      // nodemailer's own greeting timeout is 30 s, longer than this test may run.
      expect(await notifier.notify(ALERT)).toEqual(['smtp']);
      expect(sockets).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      mute.close();
    }
  });
});
