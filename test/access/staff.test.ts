import { createSecretKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveRoles } from '../../src/domain/access/roles.js';
import {
  generatePassword,
  passwordProblem,
  StaffSecretBox,
  StaffService,
  type AccessEvent,
} from '../../src/services/staff.js';
import { openRuntime } from '../../src/services/runtime.js';
import { issueToken } from '../../src/services/tokens.js';
import { testApp, type TestApp } from '../support/app.js';
import {
  base32Decode,
  DAY,
  MINUTE,
  SECOND,
  sqliteBytes,
  testClock,
  totpAt,
  withAccess,
  type TestClock,
} from './helpers.js';

const ADMIN = { id: 'test-admin', role: 'security-admin' };
const PASSWORD = 'correct horse battery staple';

describe('staff passwords', () => {
  it('refuses short, common, repetitive, sequential and username-bearing passwords', () => {
    expect(passwordProblem('short-pass1')).toBe('too-short');
    expect(passwordProblem('x'.repeat(257))).toBe('too-long');
    expect(passwordProblem('Password1234')).toBe('too-common');
    expect(passwordProblem('woaini5201314')).toBe('too-common');
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).toBe('too-simple');
    expect(passwordProblem('abcabcabcabcabc')).toBe('too-simple');
    expect(passwordProblem('123456789012')).toBe('too-simple');
    expect(passwordProblem('zhangwei-likes-tea', 'zhangwei')).toBe('contains-username');
    expect(passwordProblem(PASSWORD)).toBeNull();
    // Length counts characters, not bytes: twelve Chinese characters are enough.
    expect(passwordProblem('我们一起去杭州西湖看断桥残雪')).toBeNull();
    expect(passwordProblem('杭州西湖断桥残雪')).toBe('too-short');
  });

  it('generates strong passwords that pass its own rules', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = generatePassword();
      expect(p).toHaveLength(24);
      expect(passwordProblem(p)).toBeNull();
      seen.add(p);
    }
    expect(seen.size).toBe(50);
  });
});

describe('staff service', () => {
  let t: TestApp;
  let clock: TestClock;
  beforeAll(async () => {
    clock = testClock();
    t = await testApp({ now: clock.now });
  });
  afterAll(() => t.close());

  const staff = () => t.runtime.staff;
  let n = 0;
  const add = async (role = 'operator', password: string | null = PASSWORD) => {
    n += 1;
    return staff().add(
      { username: `staff${n}`, role, displayName: `员工${n}`, password: password ?? undefined },
      ADMIN,
    );
  };
  /** The next attempt after a failure must wait out the back-off; this moves past any of it. */
  const pastBackoff = () => clock.advance(20 * SECOND);

  it('hashes passwords with argon2id and seals the TOTP secret (never in clear in the database)', async () => {
    const added = await add();
    const record = await t.store.staff.byId(added.staff.id);
    expect(record?.passwordHash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')).toBe(true);
    expect(record?.totpSealed).toBeInstanceOf(Buffer);
    expect(added.totp.uri).toMatch(/^otpauth:\/\/totp\/Custodian:staff\d+\?/);
    expect(added.totp.uri).toContain('issuer=Custodian');
    expect(added.generatedPassword).toBeUndefined();
    if (t.config.database.engine !== 'sqlite') throw new Error('sqlite expected');
    const db = sqliteBytes(t.config.database.path);
    expect(db.includes(Buffer.from(added.totp.secret))).toBe(false);
    expect(db.includes(base32Decode(added.totp.secret))).toBe(false);
    expect(db.includes(Buffer.from(PASSWORD))).toBe(false);
  });

  it('generates a password when none is given, and refuses weak ones', async () => {
    const generated = await add('auditor', null);
    expect(generated.generatedPassword).toHaveLength(24);
    await expect(
      staff().add({ username: 'weakling', role: 'operator', password: 'too-short' }, ADMIN),
    ).rejects.toMatchObject({ code: 'ERR_PASSWORD_WEAK', details: { reason: 'too-short', minLength: 12 } });
    expect(await t.store.staff.byUsername('weakling')).toBeUndefined();
  });

  it('refuses unknown roles, taken usernames and malformed usernames', async () => {
    await expect(
      staff().add({ username: 'nobody', role: 'superuser', password: PASSWORD }, ADMIN),
    ).rejects.toMatchObject({ code: 'ERR_ROLE_UNKNOWN' });
    const added = await add();
    await expect(
      staff().add(
        { username: added.staff.username.toUpperCase(), role: 'operator', password: PASSWORD },
        ADMIN,
      ),
    ).rejects.toMatchObject({ code: 'ERR_STAFF_EXISTS' });
    await expect(
      staff().add({ username: 'has space', role: 'operator', password: PASSWORD }, ADMIN),
    ).rejects.toMatchObject({ code: 'ERR_USAGE_INVALID' });
  });

  it('signs in with password and TOTP, and fails alike without a valid code', async () => {
    const { staff: s, totp } = await add();
    const signedIn = await staff().signIn({
      username: s.username,
      password: PASSWORD,
      totp: await totpAt(totp.secret, clock.now()),
    });
    expect(signedIn.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(signedIn.principal).toEqual({
      kind: 'staff',
      id: s.id,
      name: s.name,
      role: 'operator',
      trainingCurrent: true,
    });
    const message = 'the username, password or TOTP code is not valid';
    const attempts = [
      { username: s.username, password: PASSWORD },
      { username: s.username, password: PASSWORD, totp: '' },
      { username: s.username, password: PASSWORD, totp: '12345' },
      { username: s.username, password: PASSWORD, totp: 'abcdef' },
      { username: s.username, password: PASSWORD, totp: await totpAt(totp.secret, clock.now(), 2) },
      { username: s.username, password: 'wrong password!', totp: await totpAt(totp.secret, clock.now()) },
      { username: 'no-such-user', password: PASSWORD, totp: await totpAt(totp.secret, clock.now()) },
    ];
    for (const attempt of attempts) {
      // Start each attempt with a clean record, so the lockout does not answer instead.
      await t.store.staff.update(s.id, { failedAttempts: 0, lockedUntil: null });
      await expect(staff().signIn({ ...attempt, totp: attempt.totp ?? undefined })).rejects.toMatchObject({
        code: 'ERR_AUTH_INVALID',
        message,
      });
    }
  });

  it('accepts codes one step either side of now, not two', async () => {
    const { staff: s, totp } = await add();
    for (const steps of [-2, 2]) {
      const at = clock.now();
      await expect(
        staff().signIn({
          username: s.username,
          password: PASSWORD,
          totp: await totpAt(totp.secret, at, steps),
        }),
      ).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
      pastBackoff();
    }
    const now = clock.now();
    await expect(
      staff().signIn({ username: s.username, password: PASSWORD, totp: await totpAt(totp.secret, now, -1) }),
    ).resolves.toMatchObject({ principal: { id: s.id } });
    await expect(
      staff().signIn({ username: s.username, password: PASSWORD, totp: await totpAt(totp.secret, now, 1) }),
    ).resolves.toMatchObject({ principal: { id: s.id } });
  });

  it('never accepts the same code twice (nor an older one after a newer)', async () => {
    const { staff: s, totp } = await add();
    const code = await totpAt(totp.secret, clock.now());
    await staff().signIn({ username: s.username, password: PASSWORD, totp: code });
    clock.advance(5 * SECOND);
    await expect(
      staff().signIn({ username: s.username, password: PASSWORD, totp: code }),
    ).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    pastBackoff();
    await expect(
      staff().signIn({
        username: s.username,
        password: PASSWORD,
        totp: await totpAt(totp.secret, clock.now(), -1),
      }),
    ).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    clock.advance(30 * SECOND);
    await expect(
      staff().signIn({
        username: s.username,
        password: PASSWORD,
        totp: await totpAt(totp.secret, clock.now()),
      }),
    ).resolves.toMatchObject({ principal: { id: s.id } });
  });

  it('spends a code once even when two sign-ins race', async () => {
    const { staff: s, totp } = await add();
    const code = await totpAt(totp.secret, clock.now());
    const results = await Promise.allSettled([
      staff().signIn({ username: s.username, password: PASSWORD, totp: code }),
      staff().signIn({ username: s.username, password: PASSWORD, totp: code }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });

  it('spends a code once across processes: a second service on the same store sees it spent', async () => {
    const { staff: s, totp } = await add();
    // A second runtime on the same database has its own in-process queue, as a second server would.
    const second = await openRuntime(t.config, {
      now: clock.now,
      checkpoints: false,
      anomalies: false,
    });
    const other = second.staff;
    const code = await totpAt(totp.secret, clock.now());
    const results = await Promise.allSettled([
      staff().signIn({ username: s.username, password: PASSWORD, totp: code }),
      other.signIn({ username: s.username, password: PASSWORD, totp: code }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'ERR_AUTH_INVALID' });
    await second.close();
  });

  it('backs off exponentially after failures, locks after maxFailures, unlocks after lockMinutes', async () => {
    const { staff: s, totp } = await add();
    const wrong = { username: s.username, password: 'not the password', totp: '000000' };
    const waits: number[] = [];
    for (let failure = 1; failure <= 5; failure++) {
      await expect(staff().signIn(wrong)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
      const record = await t.store.staff.byId(s.id);
      expect(record?.failedAttempts).toBe(failure);
      const wait = Date.parse(record!.lockedUntil!) - clock.now().getTime();
      waits.push(wait);
      if (failure < 5) {
        // Within the back-off even the right credentials are refused, without being checked.
        await expect(
          staff().signIn({
            username: s.username,
            password: PASSWORD,
            totp: await totpAt(totp.secret, clock.now()),
          }),
        ).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED', details: { retryAfterSeconds: wait / 1000 } });
        clock.advance(wait);
      }
    }
    expect(waits).toEqual([1, 2, 4, 8].map((s) => s * SECOND).concat(15 * MINUTE));
    const right = async () => ({
      username: s.username,
      password: PASSWORD,
      totp: await totpAt(totp.secret, clock.now()),
    });
    await expect(staff().signIn(await right())).rejects.toMatchObject({
      code: 'ERR_AUTH_LOCKED',
      details: { retryAfterSeconds: 900 },
    });
    expect((await staff().list()).find((x) => x.id === s.id)?.lockedUntil).not.toBeNull();
    clock.advance(14 * MINUTE);
    await expect(staff().signIn(await right())).rejects.toMatchObject({ code: 'ERR_AUTH_LOCKED' });
    clock.advance(1 * MINUTE);
    await expect(staff().signIn(await right())).resolves.toMatchObject({ principal: { id: s.id } });
    const after = await t.store.staff.byId(s.id);
    expect(after).toMatchObject({ failedAttempts: 0, lockedUntil: null });
  });

  it('lets an administrator lift a lockout early, audited; a disabled account stays disabled', async () => {
    const { staff: s, totp } = await add();
    const wrong = { username: s.username, password: 'not the password', totp: '000000' };
    for (let failure = 1; failure <= 5; failure++) {
      await expect(staff().signIn(wrong)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
      if (failure < 5) pastBackoff();
    }
    const right = async () => ({
      username: s.username,
      password: PASSWORD,
      totp: await totpAt(totp.secret, clock.now()),
    });
    await expect(staff().signIn(await right())).rejects.toMatchObject({ code: 'ERR_AUTH_LOCKED' });
    expect(await staff().unlock(s.username, ADMIN)).toEqual({ wasLocked: true });
    expect(await t.store.staff.byId(s.id)).toMatchObject({ failedAttempts: 0, lockedUntil: null });
    await expect(staff().signIn(await right())).resolves.toMatchObject({ principal: { id: s.id } });
    expect(await staff().unlock(s.username, ADMIN)).toEqual({ wasLocked: false });
    await expect(staff().unlock('nobody-here', ADMIN)).rejects.toMatchObject({ code: 'ERR_STAFF_NOT_FOUND' });
    await staff().disable(s.username, ADMIN);
    await staff().unlock(s.username, ADMIN);
    clock.advance(31 * SECOND);
    await expect(staff().signIn(await right())).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    const actions = (await t.store.audit.range(1, 1_000_000)).map((r) => r.action);
    expect(actions.filter((a) => a === 'staff.unlock')).toHaveLength(3);
  });

  it('starts counting afresh once a lockout has run out', async () => {
    const { staff: s } = await add();
    const wrong = { username: s.username, password: 'not the password', totp: '000000' };
    for (let i = 0; i < 5; i++) {
      await expect(staff().signIn(wrong)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
      clock.advance(16 * SECOND);
    }
    clock.advance(15 * MINUTE);
    await expect(staff().signIn(wrong)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    expect((await t.store.staff.byId(s.id))?.failedAttempts).toBe(1);
  });

  it('counts every failure when servers sharing the database take guesses at the same moment', async () => {
    const { staff: s, totp } = await add();
    // Services of their own over the same store: each has its own in-process queue, as another
    // server on the same database would.
    const others = [1, 2].map(
      () =>
        new StaffService({
          store: t.store,
          access: t.config.access,
          roles: resolveRoles(),
          secrets: new StaffSecretBox({ current: { version: 1, key: createSecretKey(randomBytes(32)) } }),
          now: clock.now,
        }),
    );
    const servers = [staff(), ...others];
    const wrong = { username: s.username, password: 'not the password', totp: '000000' };
    const round = async () =>
      (await Promise.allSettled(servers.map((x) => x.signIn(wrong)))).map((r) =>
        r.status === 'rejected' ? (r.reason as { code: string }).code : 'signed-in',
      );
    expect(await round()).toEqual(Array<string>(3).fill('ERR_AUTH_INVALID'));
    const record = await t.store.staff.byId(s.id);
    expect(record?.failedAttempts).toBe(3);
    expect(Date.parse(record!.lockedUntil!) - clock.now().getTime()).toBe(4 * SECOND);
    pastBackoff();
    expect(await round()).toEqual(Array<string>(3).fill('ERR_AUTH_INVALID'));
    // Six guesses, counted up to maxFailures: the account is locked.
    expect(await t.store.staff.byId(s.id)).toMatchObject({
      failedAttempts: 5,
      lockedUntil: new Date(clock.now().getTime() + 15 * MINUTE).toISOString(),
    });
    await expect(
      staff().signIn({
        username: s.username,
        password: PASSWORD,
        totp: await totpAt(totp.secret, clock.now()),
      }),
    ).rejects.toMatchObject({ code: 'ERR_AUTH_LOCKED', details: { retryAfterSeconds: 900 } });
    expect(await round()).toEqual(Array<string>(3).fill('ERR_AUTH_LOCKED'));
  });

  it('answers for a username without an account as it would for an account: back-off and lockout', async () => {
    const { staff: s } = await add();
    const answers = async (username: string): Promise<string[]> => {
      const codes: string[] = [];
      const attempt = async () => {
        try {
          await staff().signIn({ username, password: 'not the password', totp: '000000' });
          codes.push('signed-in');
        } catch (e) {
          const { code, details } = e as { code: string; details?: { retryAfterSeconds?: number } };
          codes.push(
            details?.retryAfterSeconds === undefined ? code : `${code}/${details.retryAfterSeconds}`,
          );
        }
      };
      const start = clock.now().getTime();
      for (let failure = 1; failure <= 5; failure++) {
        await attempt();
        // At once again: refused while the back-off runs, as an account is.
        await attempt();
        if (failure < 5) clock.advance(2 ** (failure - 1) * SECOND);
      }
      clock.advance(start + 16 * MINUTE - clock.now().getTime());
      return codes;
    };
    const real = await answers(s.username);
    const unknown = await answers('nobody-by-this-name');
    expect(unknown).toEqual(real);
    expect(real).toEqual([
      'ERR_AUTH_INVALID',
      'ERR_RATE_LIMITED/1',
      'ERR_AUTH_INVALID',
      'ERR_RATE_LIMITED/2',
      'ERR_AUTH_INVALID',
      'ERR_RATE_LIMITED/4',
      'ERR_AUTH_INVALID',
      'ERR_RATE_LIMITED/8',
      'ERR_AUTH_INVALID',
      'ERR_AUTH_LOCKED/900',
    ]);
  });

  it('disables accounts: sessions end and sign-in fails like a wrong password', async () => {
    const { staff: s, totp } = await add();
    const { token } = await staff().signIn({
      username: s.username,
      password: PASSWORD,
      totp: await totpAt(totp.secret, clock.now()),
    });
    await expect(staff().authenticateSession(token)).resolves.toMatchObject({ id: s.id });
    expect(await staff().disable(s.username, ADMIN)).toEqual({ sessionsRevoked: 1 });
    await expect(staff().authenticateSession(token)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    clock.advance(30 * SECOND);
    await expect(
      staff().signIn({
        username: s.username,
        password: PASSWORD,
        totp: await totpAt(totp.secret, clock.now()),
      }),
    ).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    await expect(staff().disable('no-such-user', ADMIN)).rejects.toMatchObject({
      code: 'ERR_STAFF_NOT_FOUND',
    });
  });

  it('resets MFA: the old secret stops working, the new one works, sessions end', async () => {
    const { staff: s, totp } = await add();
    const { token } = await staff().signIn({
      username: s.username,
      password: PASSWORD,
      totp: await totpAt(totp.secret, clock.now()),
    });
    const reset = await staff().resetMfa(s.username, ADMIN);
    expect(reset.secret).not.toBe(totp.secret);
    expect(reset.sessionsRevoked).toBe(1);
    await expect(staff().authenticateSession(token)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    clock.advance(30 * SECOND);
    await expect(
      staff().signIn({
        username: s.username,
        password: PASSWORD,
        totp: await totpAt(totp.secret, clock.now()),
      }),
    ).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    pastBackoff();
    await expect(
      staff().signIn({
        username: s.username,
        password: PASSWORD,
        totp: await totpAt(reset.secret, clock.now()),
      }),
    ).resolves.toMatchObject({ principal: { id: s.id } });
  });

  it('ends sessions on sign-out, after the idle timeout and at the absolute timeout', async () => {
    const { staff: s, totp } = await add();
    const signIn = async () =>
      (
        await staff().signIn({
          username: s.username,
          password: PASSWORD,
          totp: await totpAt(totp.secret, clock.now()),
        })
      ).token;
    const out = await signIn();
    expect(await staff().signOut(out)).toBe(true);
    expect(await staff().signOut(out)).toBe(false);
    await expect(staff().authenticateSession(out)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });

    clock.advance(30 * SECOND);
    const idle = await signIn();
    clock.advance(29 * MINUTE);
    await expect(staff().authenticateSession(idle)).resolves.toMatchObject({ id: s.id });
    clock.advance(29 * MINUTE);
    await expect(staff().authenticateSession(idle)).resolves.toMatchObject({ id: s.id });
    clock.advance(30 * MINUTE);
    await expect(staff().authenticateSession(idle)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });

    const busy = await signIn();
    for (let i = 0; i < 12 * 4 - 1; i++) {
      clock.advance(15 * MINUTE);
      await expect(staff().authenticateSession(busy)).resolves.toMatchObject({ id: s.id });
    }
    clock.advance(15 * MINUTE);
    await expect(staff().authenticateSession(busy)).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
    await expect(staff().authenticateSession('not-a-session')).rejects.toMatchObject({
      code: 'ERR_AUTH_INVALID',
    });
  });

  it('records training with a yearly default expiry', async () => {
    const { staff: s } = await add();
    const record = await staff().recordTraining(
      s.username,
      { course: 'PIPL basics', completedAt: new Date('2026-01-15T00:00:00Z') },
      ADMIN,
    );
    expect(record).toMatchObject({
      staffId: s.id,
      course: 'PIPL basics',
      completedAt: '2026-01-15T00:00:00.000Z',
      expiresAt: '2027-01-15T00:00:00.000Z',
      recordedBy: ADMIN.id,
    });
    await expect(
      staff().recordTraining(
        s.username,
        { course: 'x', completedAt: new Date(clock.now().getTime() + DAY) },
        ADMIN,
      ),
    ).rejects.toMatchObject({ code: 'ERR_USAGE_INVALID' });
    await expect(
      staff().recordTraining(
        s.username,
        { course: 'x', completedAt: new Date('2026-01-15'), expiresAt: new Date('2026-01-01') },
        ADMIN,
      ),
    ).rejects.toMatchObject({ code: 'ERR_USAGE_INVALID' });
    await expect(staff().recordTraining('nobody-here', { course: 'x' }, ADMIN)).rejects.toMatchObject({
      code: 'ERR_STAFF_NOT_FOUND',
    });
    expect((await staff().list()).find((x) => x.id === s.id)?.trainingUntil).toBe('2027-01-15T00:00:00.000Z');
  });

  it('reports training as current when access.requireTraining is off', async () => {
    const { staff: s, totp } = await add();
    const { principal } = await staff().signIn({
      username: s.username,
      password: PASSWORD,
      totp: await totpAt(totp.secret, clock.now()),
    });
    expect(principal.trainingCurrent).toBe(true);
  });

  it('reviews access: last use, unused grants, lapsed training, expired keys', async () => {
    const review0 = await staff().review();
    expect(review0.unusedAfterDays).toBe(90);
    const { staff: idle } = await add('marketing');
    const { staff: active, totp } = await add('operator');
    await staff().recordTraining(active.username, { course: 'PIPL basics' }, ADMIN);
    const fresh = await issueToken(t.store, { name: 'crm', role: 'operator' }, clock.now());
    const expiring = await issueToken(
      t.store,
      { name: 'temp', role: 'auditor', expiresAt: new Date(clock.now().getTime() + DAY) },
      clock.now(),
    );
    clock.advance(91 * DAY);
    await staff().signIn({
      username: active.username,
      password: PASSWORD,
      totp: await totpAt(totp.secret, clock.now()),
    });
    await t.store.tokens.touch(fresh.record.id, clock.now().toISOString());
    const review = await staff().review();
    const row = (id: string) => review.staff.find((s) => s.id === id);
    expect(row(idle.id)).toMatchObject({
      role: 'marketing',
      unused: true,
      trainingLapsed: true,
      lastLoginAt: null,
    });
    expect(row(active.id)).toMatchObject({
      unused: false,
      trainingLapsed: false,
      lastLoginAt: clock.now().toISOString(),
      mfaEnrolled: true,
      status: 'active',
    });
    const key = (id: string) => review.apiKeys.find((k) => k.id === id);
    expect(key(fresh.record.id)).toMatchObject({ status: 'active', unused: false });
    expect(key(expiring.record.id)).toMatchObject({ status: 'expired' });
    const kinds = (id: string) => review.findings.filter((f) => f.principal.id === id).map((f) => f.kind);
    expect(kinds(idle.id).sort()).toEqual(['training-lapsed', 'unused-grant']);
    expect(kinds(active.id)).toEqual([]);
    expect(kinds(expiring.record.id)).toEqual(['expired-key']);
  });
});

describe('training currency with access.requireTraining', () => {
  let t: TestApp;
  let clock: TestClock;
  beforeAll(async () => {
    clock = testClock();
    t = await testApp({ now: clock.now, edit: withAccess('requireTraining: true') });
  });
  afterAll(() => t.close());

  it('is false without training, true while it is current, false once it lapses', async () => {
    const staff = t.runtime.staff;
    const { staff: s, totp } = await staff.add(
      { username: 'trainee', role: 'operator', password: PASSWORD },
      ADMIN,
    );
    const signIn = async () =>
      staff.signIn({
        username: s.username,
        password: PASSWORD,
        totp: await totpAt(totp.secret, clock.now()),
      });
    const untrained = await signIn();
    expect(untrained.principal.trainingCurrent).toBe(false);
    await staff.recordTraining(s.username, { course: 'PIPL basics' }, ADMIN);
    // The same session sees the new record at once: currency is computed per request.
    await expect(staff.authenticateSession(untrained.token)).resolves.toMatchObject({
      trainingCurrent: true,
    });
    clock.advance(364 * DAY);
    expect((await signIn()).principal.trainingCurrent).toBe(true);
    clock.advance(1 * DAY);
    const lapsed = await signIn();
    expect(lapsed.principal.trainingCurrent).toBe(false);
    await expect(staff.authenticateSession(lapsed.token)).resolves.toMatchObject({ trainingCurrent: false });
  });
});

describe('access events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(() => t.close());

  const service = (onEvent: (event: AccessEvent) => Promise<void>) =>
    new StaffService({
      store: t.store,
      access: t.config.access,
      roles: resolveRoles(),
      secrets: new StaffSecretBox({ current: { version: 1, key: createSecretKey(randomBytes(32)) } }),
      now: () => new Date(),
      onEvent: (_tx, event) => onEvent(event),
    });

  it('reports administration and sign-in, without usernames or secrets', async () => {
    const events: AccessEvent[] = [];
    const staff = service((e) => {
      events.push(e);
      return Promise.resolve();
    });
    const { staff: s, totp } = await staff.add(
      { username: 'evented', role: 'operator', password: PASSWORD },
      ADMIN,
    );
    const code = await totpAt(totp.secret, new Date());
    const { token } = await staff.signIn({ username: 'evented', password: PASSWORD, totp: code });
    await staff.signOut(token);
    await expect(staff.signIn({ username: 'ghost', password: PASSWORD })).rejects.toMatchObject({
      code: 'ERR_AUTH_INVALID',
    });
    await staff.disable('evented', ADMIN);
    expect(events.map((e) => e.name)).toEqual([
      'staff.add',
      'staff.sign-in',
      'staff.sign-out',
      'staff.sign-in-failed',
      'staff.disable',
    ]);
    expect(events[0]).toMatchObject({ actor: ADMIN, detail: { staff: s.id, role: 'operator' } });
    expect(events[3]).toMatchObject({ actor: { id: 'anonymous' }, detail: { reason: 'unknown-user' } });
    const text = JSON.stringify(events);
    for (const secret of ['evented', 'ghost', PASSWORD, totp.secret, code, token])
      expect(text).not.toContain(secret);
  });

  it('fails closed: when the event cannot be recorded, nothing changes', async () => {
    const staff = service(() => Promise.reject(new Error('audit down')));
    await expect(
      staff.add({ username: 'unrecorded', role: 'operator', password: PASSWORD }, ADMIN),
    ).rejects.toThrow('audit down');
    expect(await t.store.staff.byUsername('unrecorded')).toBeUndefined();
  });
});
