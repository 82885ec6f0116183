import { existsSync, readFileSync } from 'node:fs';
import { generate } from 'otplib';

/** A clock the test moves by hand; starts 10 s into a TOTP step so step boundaries are explicit. */
export interface TestClock {
  readonly now: () => Date;
  advance(ms: number): void;
}

export function testClock(start = '2026-03-02T01:00:10.000Z'): TestClock {
  let t = Date.parse(start);
  return {
    now: () => new Date(t),
    advance(ms) {
      t += ms;
    },
  };
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** The TOTP code an authenticator app shows at `at`, `steps` periods later (or earlier). */
export function totpAt(secret: string, at: Date, steps = 0): Promise<string> {
  return generate({ secret, epoch: Math.floor(at.getTime() / 1000) + steps * 30 });
}

/** The SQLite file and its WAL, as raw bytes, for plaintext scans. */
export function sqliteBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

/** RFC 4648 base32, enough to find a TOTP secret's raw bytes. */
export function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** Adds an `access:` section to a config made by `init`. */
export function withAccess(section: string): (yaml: string) => string {
  return (yaml) => `${yaml}\naccess:\n${section.replace(/^/gm, '  ')}\n`;
}

/** Turns on trustProxy, so a test can say `x-forwarded-proto: https`. */
export function trustingProxy(yaml: string): string {
  return yaml.replace('server:\n', 'server:\n  trustProxy: true\n');
}
