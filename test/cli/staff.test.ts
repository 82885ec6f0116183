import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { createLogger } from '../../src/http/logger.js';
import { openRuntime } from '../../src/services/runtime.js';
import { issueToken } from '../../src/services/tokens.js';
import { base32Decode, sqliteBytes } from '../access/helpers.js';
import { tempDir } from '../support/tmp.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('custodian staff, apikey and access', () => {
  const dir = tempDir('custodian-staffcli-');
  const db = join(dir.path, 'data', 'custodian.db');
  const config = join(dir.path, 'custodian.yaml');

  const cli = async (argv: string[], stdin?: string): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const io: CliIO = {
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
      env: {},
      cwd: dir.path,
      isTTY: false,
      ...(stdin === undefined ? {} : { readStdin: () => Promise.resolve(stdin) }),
    };
    const code = await main(argv, io);
    return { code, stdout, stderr };
  };
  // Like light-my-request's `res.json<T>()`: the caller names the shape it expects.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  const json = <T>(run: Run): T => {
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as T;
  };

  /** Asks the HTTP API who a bearer token is, at `at`. */
  const whoAmI = async (token: string, at?: Date) => {
    const runtime = await openRuntime(loadConfig({ explicit: config, env: {} }).config);
    const app = await buildApp({ runtime, logger: createLogger('silent'), ...(at ? { now: () => at } : {}) });
    try {
      return await app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `Bearer ${token}` },
      });
    } finally {
      await app.close();
      await runtime.close();
    }
  };

  beforeAll(async () => {
    expect((await cli(['init', '--json'])).code).toBe(0);
  });
  afterAll(() => dir.remove());

  it('lists the new commands in help', async () => {
    const help = await cli(['--help']);
    for (const command of ['staff', 'apikey', 'access']) expect(help.stdout).toContain(command);
  });

  let alice: { id: string; password: string; totp: { secret: string; uri: string } };

  it('staff add generates a password and a TOTP enrolment, shown once, never stored in clear', async () => {
    alice = json(await cli(['staff', 'add', 'alice', '--role', 'operator', '--name', '张三', '--json']));
    expect(alice).toMatchObject({ username: 'alice', name: '张三', role: 'operator' });
    expect(alice.password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(alice.totp.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(alice.totp.uri).toMatch(/^otpauth:\/\/totp\/Custodian:alice\?.*issuer=Custodian/);
    const bytes = sqliteBytes(db);
    expect(bytes.includes(Buffer.from(alice.totp.secret))).toBe(false);
    expect(bytes.includes(base32Decode(alice.totp.secret))).toBe(false);
    expect(bytes.includes(Buffer.from(alice.password))).toBe(false);
    expect(bytes.includes(Buffer.from('$argon2id$v=19$'))).toBe(true);
  });

  it('staff add takes a password from stdin and refuses a short or weak one with exit 2', async () => {
    const short = await cli(['staff', 'add', 'bob', '--role', 'auditor', '--password-stdin'], 'short-pw\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
    const weak = await cli(
      ['staff', 'add', 'bob', '--role', 'auditor', '--password-stdin'],
      'password1234\n',
    );
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('most common passwords');
    expect(weak.stderr).not.toContain('password1234');
    const ok = await cli(
      ['staff', 'add', 'bob', '--role', 'auditor', '--password-stdin'],
      'a long and private passphrase\n',
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Added bob (bob) with role auditor.');
    expect(ok.stdout).not.toContain('Password (shown once');
    expect(ok.stdout).toMatch(/TOTP secret \(shown once.*\n {2}[A-Z2-7]{32}\n {2}otpauth:\/\/totp\//);
  });

  it('staff add refuses unknown roles, taken names and bad usernames with exit 2', async () => {
    const role = await cli(['staff', 'add', 'carol', '--role', 'root']);
    expect(role.code).toBe(2);
    expect(role.stderr).toContain('neither built in nor in access.roles');
    expect((await cli(['staff', 'add', 'alice', '--role', 'operator'])).code).toBe(2);
    expect((await cli(['staff', 'add', 'Not Valid', '--role', 'operator'])).code).toBe(2);
    expect((await cli(['staff', 'add', 'carol'])).code).toBe(2);
  });

  it('staff list shows accounts without secrets', async () => {
    const list = json<Record<string, unknown>[]>(await cli(['staff', 'list', '--json']));
    expect(list.map((s) => s['username'])).toEqual(['alice', 'bob']);
    expect(list[0]).toMatchObject({ role: 'operator', mfaEnrolled: true, disabledAt: null });
    const text = JSON.stringify(list);
    for (const secret of [alice.password, alice.totp.secret, 'argon2']) expect(text).not.toContain(secret);
    const human = await cli(['staff', 'list']);
    expect(human.stdout).toMatch(/^USERNAME +NAME +ROLE +STATUS +MFA +LAST LOGIN +TRAINED UNTIL\n/);
    expect(human.stdout).toMatch(/alice +张三 +operator +active +yes +- +-\n/);
  });

  it('staff training records a course, current for a year by default', async () => {
    const record = json<Record<string, unknown>>(
      await cli([
        'staff',
        'training',
        'alice',
        '--course',
        'PIPL 基础',
        '--completed',
        '2026-01-10',
        '--json',
      ]),
    );
    expect(record).toMatchObject({
      course: 'PIPL 基础',
      completedAt: '2026-01-10T00:00:00.000Z',
      expiresAt: '2027-01-10T00:00:00.000Z',
      staffId: alice.id,
      recordedBy: 'cli',
    });
    const explicit = await cli(['staff', 'training', 'bob', '--course', 'Drill', '--expires', '2099-01-01']);
    expect(explicit.stdout).toMatch(
      /^Recorded Drill for bob: completed \d{4}-\d{2}-\d{2}, current until 2099-01-01\.\n$/,
    );
    expect(
      (await cli(['staff', 'training', 'alice', '--course', 'x', '--completed', 'yesterday'])).code,
    ).toBe(2);
    expect((await cli(['staff', 'training', 'nobody', '--course', 'x'])).code).toBe(2);
  });

  it('staff reset-mfa prints a new secret once and keeps it sealed', async () => {
    const reset = json<{ secret: string; uri: string; sessionsRevoked: number }>(
      await cli(['staff', 'reset-mfa', 'alice', '--json']),
    );
    expect(reset.secret).not.toBe(alice.totp.secret);
    expect(reset.sessionsRevoked).toBe(0);
    expect(sqliteBytes(db).includes(Buffer.from(reset.secret))).toBe(false);
    expect((await cli(['staff', 'reset-mfa', 'nobody'])).code).toBe(2);
  });

  it('staff unlock clears a lockout, and names a missing account with exit 2', async () => {
    expect(await cli(['staff', 'unlock', 'alice'])).toMatchObject({
      code: 0,
      stdout: 'alice was not locked; failure count cleared.\n',
    });
    expect((await cli(['staff', 'unlock', 'nobody'])).code).toBe(2);
  });

  it('staff disable disables the account', async () => {
    const run = await cli(['staff', 'disable', 'bob']);
    expect(run).toMatchObject({ code: 0, stdout: 'Disabled bob; 0 session(s) ended.\n' });
    const list = json<{ username: string; disabledAt: string | null }[]>(
      await cli(['staff', 'list', '--json']),
    );
    expect(list.find((s) => s.username === 'bob')?.disabledAt).not.toBeNull();
    expect((await cli(['staff', 'disable', 'nobody'])).code).toBe(2);
  });

  let key: { token: string; id: string; role: string; expiresAt: string | null };

  it('apikey create prints the token once; only its hash is stored; it authenticates', async () => {
    key = json(
      await cli([
        'apikey',
        'create',
        '--role',
        'operator',
        '--name',
        'Tmall sync',
        '--expires',
        '30d',
        '--json',
      ]),
    );
    expect(Object.keys(key).sort()).toEqual(['expiresAt', 'id', 'role', 'token']);
    expect(key.token).toMatch(/^cst_[A-Za-z0-9_-]{43}$/);
    expect(key.role).toBe('operator');
    const days = (Date.parse(key.expiresAt!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    expect(sqliteBytes(db).includes(Buffer.from(key.token))).toBe(false);
    const me = await whoAmI(key.token);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ kind: 'token', id: key.id, name: 'Tmall sync', role: 'operator' });
    const human = await cli(['apikey', 'create', '--role', 'auditor']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /with role auditor, no expiry\.\n\nToken \(shown once.*\n {2}cst_[A-Za-z0-9_-]{43}\n$/,
    );
  });

  it('apikey create refuses unknown roles and malformed lifetimes with exit 2', async () => {
    expect((await cli(['apikey', 'create', '--role', 'root'])).code).toBe(2);
    expect((await cli(['apikey', 'create', '--role', 'operator', '--expires', '1y'])).code).toBe(2);
    expect((await cli(['apikey', 'create', '--role', 'operator', '--expires', '0d'])).code).toBe(2);
    expect((await cli(['apikey', 'create'])).code).toBe(2);
  });

  it('an expired key answers 401', async () => {
    const short = json<{ token: string }>(
      await cli(['apikey', 'create', '--role', 'operator', '--expires', '1h', '--json']),
    );
    const later = await whoAmI(short.token, new Date(Date.now() + 2 * 3_600_000));
    expect(later.statusCode).toBe(401);
    expect(later.json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
  });

  it('apikey list shows keys without tokens or hashes', async () => {
    const list = json<Record<string, unknown>[]>(await cli(['apikey', 'list', '--json']));
    const mine = list.find((k) => k['id'] === key.id);
    expect(mine).toMatchObject({ name: 'Tmall sync', role: 'operator', status: 'active', revokedAt: null });
    expect(Object.keys(mine!).sort()).toEqual(
      ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'role', 'status'].sort(),
    );
    expect(JSON.stringify(list)).not.toContain('cst_');
    const human = await cli(['apikey', 'list']);
    expect(human.stdout).toMatch(/^ID +NAME +ROLE +STATUS +CREATED +EXPIRES +LAST USED\n/);
    expect(human.stdout).toContain('bootstrap');
  });

  it('apikey revoke ends the key at once; revoking again or an unknown id exits 2', async () => {
    const run = await cli(['apikey', 'revoke', key.id]);
    expect(run).toMatchObject({ code: 0, stdout: `Revoked API key ${key.id}.\n` });
    const me = await whoAmI(key.token);
    expect(me.statusCode).toBe(401);
    expect(me.json()).toMatchObject({ code: 'ERR_AUTH_INVALID' });
    const again = await cli(['apikey', 'revoke', key.id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no active API key has that id');
    expect((await cli(['apikey', 'revoke', 'not-an-id'])).code).toBe(2);
  });

  it('access review lists staff, keys, last use and findings', async () => {
    const runtime = await openRuntime(loadConfig({ explicit: config, env: {} }).config);
    const stale = await issueToken(
      runtime.store,
      { name: 'stale', role: 'marketing', expiresAt: new Date(Date.now() - 86_400_000) },
      new Date(Date.now() - 200 * 86_400_000),
    );
    const dusty = await issueToken(
      runtime.store,
      { name: 'dusty', role: 'auditor' },
      new Date(Date.now() - 120 * 86_400_000),
    );
    await runtime.staff.add(
      { username: 'dave', role: 'marketing', password: 'a long and private passphrase' },
      {
        id: 'test',
        role: 'security-admin',
      },
    );
    await runtime.close();

    const review = json<{
      staff: {
        username: string;
        role: string;
        status: string;
        trainingLapsed: boolean;
        trainingUntil: string | null;
      }[];
      apiKeys: { id: string; status: string; unused: boolean; lastUsedAt: string | null }[];
      findings: { kind: string; principal: { kind: string; id: string; name: string } }[];
    }>(await cli(['access', 'review', '--json']));
    expect(review.staff.map((s) => [s.username, s.role, s.status])).toEqual([
      ['alice', 'operator', 'active'],
      ['bob', 'auditor', 'disabled'],
      ['dave', 'marketing', 'active'],
    ]);
    expect(review.staff[0]).toMatchObject({
      trainingLapsed: false,
      trainingUntil: '2027-01-10T00:00:00.000Z',
    });
    expect(review.staff[2]).toMatchObject({ trainingLapsed: true, trainingUntil: null });
    expect(review.apiKeys.find((k) => k.id === key.id)).toMatchObject({ status: 'revoked', unused: false });
    expect(review.apiKeys.find((k) => k.id === dusty.record.id)).toMatchObject({
      status: 'active',
      unused: true,
    });
    const findings = review.findings.map((f) => `${f.kind} ${f.principal.name}`);
    expect(findings).toEqual(
      expect.arrayContaining(['training-lapsed dave', 'expired-key stale', 'unused-grant dusty']),
    );
    expect(findings.some((f) => f.endsWith(' bob'))).toBe(false);
    expect(findings.some((f) => f.endsWith(' alice'))).toBe(false);
    expect(stale.record.id).toBeDefined();

    const human = await cli(['access', 'review']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Access review, \d{4}-/);
    expect(human.stdout).toContain('Staff (3)');
    expect(human.stdout).toMatch(/dave +marketing +active +yes +- +- +training-lapsed\n/);
    expect(human.stdout).toMatch(/Findings \(\d+\)\n/);
    expect(human.stdout).toContain(
      `expired-key: apikey stale (${stale.record.id}): expired: revoke it to tidy up`,
    );
  });
});
