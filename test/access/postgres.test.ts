import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { postgresProject, probePostgres } from '../support/pg.js';
import { tempDir } from '../support/tmp.js';
import { MINUTE, SECOND, testClock, totpAt, type TestClock } from './helpers.js';

const probe = await probePostgres();
const ADMIN = { id: 'test-admin', role: 'security-admin' };
const PASSWORD = 'correct horse battery staple';

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
  });
}
