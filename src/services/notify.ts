import nodemailer from 'nodemailer';
import type { NotifyConfig } from '../config/schema.js';

/**
 * An alert: something a human must look at (break-glass use, an anomaly, an incident). Alerts
 * carry ids, roles, purposes and counts — never personal data — because they leave the vault by
 * email and webhook.
 */
export interface Alert {
  /** Stable kind, e.g. `break-glass.granted`, `anomaly.bulk-read`. */
  readonly kind: string;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly summary: string;
  readonly at: string;
  readonly details: Readonly<Record<string, string | number | boolean>>;
}

export interface Notifier {
  /** Delivers to every configured channel; resolves with the channels that failed (never throws). */
  notify(alert: Alert): Promise<readonly string[]>;
}

interface AlertLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** `notify.smtp.timeoutMs` when not set. */
export const SMTP_TIMEOUT_MS = 10_000;

/**
 * The one nodemailer transport for `notify.smtp`: implicit TLS, or STARTTLS — required, or with
 * `requireTls: false` opportunistic: used whenever the server offers it, so the password and the
 * mail go in clear only to a server that offers no STARTTLS at all. A STARTTLS that is offered but
 * fails (a bad certificate) fails the send rather than falling back to clear text.
 */
export function smtpTransport(smtp: NonNullable<NotifyConfig['smtp']>) {
  return nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: !smtp.secure && smtp.requireTls,
    ignoreTLS: false,
    opportunisticTLS: false,
    // A relay that stalls must not hold an alert (and the request that raised it) for nodemailer's
    // defaults: 2 minutes to connect, 30 s for the greeting, 10 minutes of silence.
    connectionTimeout: smtp.timeoutMs ?? SMTP_TIMEOUT_MS,
    greetingTimeout: smtp.timeoutMs ?? SMTP_TIMEOUT_MS,
    socketTimeout: smtp.timeoutMs ?? SMTP_TIMEOUT_MS,
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
  });
}

/** Log always; webhook and SMTP when configured. A failing channel is logged, never fatal to the caller. */
export function createNotifier(config: NotifyConfig, log: AlertLog): Notifier {
  const channels: { name: string; send: (alert: Alert) => Promise<void> }[] = [];
  if (config.webhook) {
    const { url, secret, timeoutMs } = config.webhook;
    channels.push({
      name: 'webhook',
      async send(alert) {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(secret ? { authorization: `Bearer ${secret}` } : {}),
          },
          body: JSON.stringify({ source: 'custodian', ...alert }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!response.ok) throw new Error(`webhook answered ${response.status}`);
      },
    });
  }
  if (config.smtp) {
    const smtp = config.smtp;
    const transport = smtpTransport(smtp);
    channels.push({
      name: 'smtp',
      async send(alert) {
        await transport.sendMail({
          from: smtp.from,
          to: smtp.to,
          subject: `[Custodian ${alert.severity}] ${alert.summary}`,
          text: formatAlert(alert),
        });
      },
    });
  }
  return {
    async notify(alert) {
      log.warn(
        { alert: { kind: alert.kind, severity: alert.severity, details: alert.details } },
        alert.summary,
      );
      const failed: string[] = [];
      await Promise.all(
        channels.map(async (channel) => {
          try {
            await channel.send(alert);
          } catch (error) {
            failed.push(channel.name);
            log.error(
              { channel: channel.name, kind: alert.kind, error: (error as Error).name },
              'alert delivery failed',
            );
          }
        }),
      );
      return failed;
    },
  };
}

export function formatAlert(alert: Alert): string {
  const lines = [
    alert.summary,
    '',
    `kind:     ${alert.kind}`,
    `severity: ${alert.severity}`,
    `at:       ${alert.at}`,
    '',
  ];
  for (const [key, value] of Object.entries(alert.details)) lines.push(`${key}: ${String(value)}`);
  return `${lines.join('\n')}\n`;
}
