import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { postgresProject, probePostgres } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';
import { MINUTE, SECOND, testClock, totpAt, type TestClock } from './helpers.js';

const probe = await probePostgres();
const ADMIN = { id: 'test-admin', role: 'security-admin' };
const PASSWORD = 'correct horse battery staple';
type Detail = { reason: string; failures: number; locked: boolean };

if (!probe.ok) {
  describe('staff sign-in on PostgreSQL', () => {
    it.skip(`skipped: ${probe.reason}`, () => undefined);
  });
} else {
  describe('staff sign-in on PostgreSQL', () => {
    const dir = tempDir('custodian-pgstaff-');
    let drop: () => Promise<void> = () => Promise.resolve();
    let rt: Runtime;
    let clock: TestClock;
    beforeAll(async () => {
      const project = await postgresProject(dir.path);
      drop = project.drop;
      clock = testClock();
      const { config } = project;
      rt = await openRuntime(config, { now: clock.now });
      expect(rt.store.engine).toBe('postgres');
    });
    afterAll(async () => {
      await rt.close();
      await drop();
      dir.remove();
    });

    it('adds, signs in, locks out, rotates and reviews', async () => {
      const { staff: s, totp } = await rt.staff.add(
        { username: 'pg-user', role: 'operator', password: PASSWORD },
        ADMIN,
      );
      const first = await rt.staff.signIn({
        username: 'pg-user',
        password: PASSWORD,
        totp: await totpAt(totp.secret, clock.now()),
      });
      await expect(rt.staff.authenticateSession(first.token)).resolves.toMatchObject({ id: s.id });
      for (let i = 0; i < 5; i++) {
        clock.advance(20 * SECOND);
        await expect(
          rt.staff.signIn({ username: 'pg-user', password: 'wrong password', totp: '000000' }),
        ).rejects.toMatchObject({ code: 'ERR_AUTH_INVALID' });
      }
      await expect(
        rt.staff.signIn({
          username: 'pg-user',
          password: PASSWORD,
          totp: await totpAt(totp.secret, clock.now()),
        }),
      ).rejects.toMatchObject({ code: 'ERR_AUTH_LOCKED' });
      clock.advance(15 * MINUTE);
      const second = await rt.staff.signIn({
        username: 'pg-user',
        password: PASSWORD,
        totp: await totpAt(totp.secret, clock.now()),
        currentSession: first.token,
      });
      await expect(rt.staff.authenticateSession(first.token)).rejects.toMatchObject({
        code: 'ERR_AUTH_INVALID',
      });
      await expect(rt.staff.authenticateSession(second.token)).resolves.toMatchObject({ id: s.id });
      await rt.staff.recordTraining('pg-user', { course: 'PIPL basics' }, ADMIN);
      const review = await rt.staff.review();
      expect(review.staff.find((x) => x.id === s.id)).toMatchObject({ trainingLapsed: false, unused: false });
    });

    it('counts every failed sign-in when several servers on one database are guessed at in parallel', async () => {
      // Each runtime has its own connections and in-process queue, as a separate server would.
      const others = await Promise.all(
        [1, 2, 3].map(() => openRuntime(rt.config, { now: clock.now, checkpoints: false, anomalies: false })),
      );
      try {
        const servers = [rt, ...others];
        const { staff: s, totp } = await rt.staff.add(
          { username: 'pg-race', role: 'operator', password: PASSWORD },
          ADMIN,
        );
        const wrong = { username: 'pg-race', password: 'wrong password', totp: '000000' };
        /** One guess at every server at once; how many were checked (not refused unchecked). */
        const round = async (): Promise<number> => {
          const results = await Promise.allSettled(servers.map((x) => x.staff.signIn(wrong)));
          const codes = results.map((r) =>
            r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok',
          );
          expect(codes.every((c) => c === 'ERR_AUTH_INVALID' || c === 'ERR_RATE_LIMITED')).toBe(true);
          return codes.filter((c) => c === 'ERR_AUTH_INVALID').length;
        };
        const checked = await round();
        // The guesses overlapped (all read the account before any failure was written) ...
        expect(checked).toBeGreaterThan(1);
        const record = await rt.store.staff.byId(s.id);
        // ... and each one counted, with the back-off of the count it reached.
        expect(record?.failedAttempts).toBe(checked);
        expect(Date.parse(record!.lockedUntil!) - clock.now().getTime()).toBe(2 ** (checked - 1) * SECOND);
        let guesses = checked;
        while (guesses < 5) {
          clock.advance(20 * SECOND);
          guesses += await round();
        }
        // maxFailures (5) guesses in all lock the account, however many servers took them.
        expect((await rt.store.staff.byId(s.id))?.failedAttempts).toBe(5);
        const right = async () => ({
          username: 'pg-race',
          password: PASSWORD,
          totp: await totpAt(totp.secret, clock.now()),
        });
        for (const server of servers)
          await expect(server.staff.signIn(await right())).rejects.toMatchObject({
            code: 'ERR_AUTH_LOCKED',
            details: { retryAfterSeconds: 900 },
          });
        // The audit trail tells the same story: one event per checked guess, the count it reached.
        const failed = (await rt.store.audit.range(1, 1_000_000))
          .filter((r) => r.action === 'staff.sign-in-failed')
          .map((r) => JSON.parse(r.canonical.toString('utf8')) as { actor: { id: string }; detail: Detail })
          .filter((e) => e.actor.id === s.id && e.detail.reason === 'password')
          .map((e) => e.detail);
        expect(failed).toHaveLength(guesses);
        expect(Math.max(...failed.map((d) => d.failures))).toBe(5);
        expect(failed.filter((d) => d.locked).map((d) => d.failures)).toEqual(
          Array<number>(guesses - 4).fill(5),
        );
        clock.advance(15 * MINUTE);
        await expect(others[0]!.staff.signIn(await right())).resolves.toMatchObject({
          principal: { id: s.id },
        });
      } finally {
        await Promise.all(others.map((x) => x.close()));
      }
    });
  });
}
