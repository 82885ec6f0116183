import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentEventRecord } from '../../src/store/consent.js';
import type { ApiTokenRecord, Store } from '../../src/store/store.js';

export interface StoreHarness {
  readonly store: Store;
  /** Removes the database the harness created. */
  dispose(): Promise<void>;
}

/**
 * The store contract: every engine passes these same tests (aesthetics habit 2). A skip must
 * name its reason; there are none today.
 */
export function storeContract(engine: string, open: () => Promise<StoreHarness>, variant?: string): void {
  describe(`store contract [${engine}${variant === undefined ? '' : `, ${variant}`}]`, () => {
    let harness: StoreHarness;
    let store: Store;

    beforeAll(async () => {
      harness = await open();
      store = harness.store;
      await store.migrate();
    });
    afterAll(async () => {
      await store.close();
      await harness.dispose();
    });

    const token = (
      overrides: Partial<ApiTokenRecord> = {},
    ): Omit<ApiTokenRecord, 'revokedAt' | 'lastUsedAt'> => ({
      id: randomUUID(),
      name: 'contract',
      role: 'operator',
      tokenHash: randomBytes(32),
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt: null,
      ...overrides,
    });

    it('reports its engine and answers a ping', async () => {
      expect(store.engine).toBe(engine);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('applies every migration on a fresh database, and migrating again is a no-op', async () => {
      const applied = await store.migrations();
      expect(applied).toContain('0001-foundation');
      const again = await store.migrate();
      expect(again.applied).toEqual([]);
      expect(again.current).toBe(applied.at(-1));
    });

    it('rolls the latest migration back and forward again', async () => {
      const before = await store.migrations();
      const down = await store.migrateDown();
      expect(down.current).toBe(before.at(-2));
      const up = await store.migrate();
      expect(up.applied).toEqual([before.at(-1)]);
    });

    it('stores a token and finds it by hash with bytes intact', async () => {
      const t = token({ expiresAt: '2027-01-01T00:00:00.000Z' });
      await store.tokens.insert(t);
      const found = await store.tokens.findByHash(t.tokenHash);
      expect(found).toEqual({ ...t, revokedAt: null, lastUsedAt: null });
      expect(Buffer.isBuffer(found?.tokenHash)).toBe(true);
      expect(await store.tokens.findByHash(randomBytes(32))).toBeUndefined();
    });

    it('refuses a second token with the same hash', async () => {
      const t = token();
      await store.tokens.insert(t);
      await expect(store.tokens.insert(token({ tokenHash: t.tokenHash }))).rejects.toThrow();
    });

    it('touches and revokes, reporting whether anything changed', async () => {
      const t = token();
      await store.tokens.insert(t);
      expect(await store.tokens.touch(t.id, '2026-02-01T00:00:00.000Z')).toBe(true);
      expect(await store.tokens.revoke(t.id, '2026-02-02T00:00:00.000Z')).toBe(true);
      expect(await store.tokens.revoke(t.id, '2026-02-03T00:00:00.000Z')).toBe(false);
      expect(await store.tokens.touch(randomUUID(), '2026-02-01T00:00:00.000Z')).toBe(false);
      const found = await store.tokens.findByHash(t.tokenHash);
      expect(found?.lastUsedAt).toBe('2026-02-01T00:00:00.000Z');
      expect(found?.revokedAt).toBe('2026-02-02T00:00:00.000Z');
    });

    it('commits every write of a unit of work together', async () => {
      const a = token();
      const b = token();
      const result = await store.transaction(async (tx) => {
        await tx.tokens.insert(a);
        await tx.tokens.insert(b);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await store.tokens.findByHash(a.tokenHash)).toBeDefined();
      expect(await store.tokens.findByHash(b.tokenHash)).toBeDefined();
    });

    it('leaves nothing behind when a unit of work throws midway', async () => {
      const a = token();
      await expect(
        store.transaction(async (tx) => {
          await tx.tokens.insert(a);
          expect(await tx.tokens.findByHash(a.tokenHash)).toBeDefined();
          throw new Error('crash after the first write');
        }),
      ).rejects.toThrow('crash after the first write');
      expect(await store.tokens.findByHash(a.tokenHash)).toBeUndefined();
    });

    it('rolls back a unit of work whose later write violates a constraint', async () => {
      const existing = token();
      await store.tokens.insert(existing);
      const fresh = token();
      await expect(
        store.transaction(async (tx) => {
          await tx.tokens.insert(fresh);
          await tx.tokens.insert(token({ tokenHash: existing.tokenHash }));
        }),
      ).rejects.toThrow();
      expect(await store.tokens.findByHash(fresh.tokenHash)).toBeUndefined();
    });

    it('lists tokens oldest first', async () => {
      const early = token({ createdAt: '2000-01-01T00:00:00.000Z', name: 'early' });
      await store.tokens.insert(early);
      const list = await store.tokens.list();
      expect(list[0]?.name).toBe('early');
      expect(list.length).toBeGreaterThan(3);
    });

    describe('vault repositories', () => {
      const at = (n: number) => `2026-03-01T00:00:${String(n).padStart(2, '0')}.000Z`;
      const subject = async (n: number) => {
        const id = `0190${String(n).padStart(4, '0')}-0000-7000-8000-${randomBytes(6).toString('hex')}`;
        await store.subjects.insert({ id, createdAt: at(n % 60) });
        return id;
      };

      it('stores subjects, tombstones them once, counts and pages them', async () => {
        const a = await subject(1);
        const b = await subject(2);
        expect(await store.subjects.get(a)).toEqual({ id: a, createdAt: at(1), erasedAt: null });
        const before = await store.subjects.count();
        expect(await store.subjects.markErased(a, at(3))).toBe(true);
        expect(await store.subjects.markErased(a, at(4))).toBe(false);
        expect((await store.subjects.get(a))?.erasedAt).toBe(at(3));
        expect(await store.subjects.count()).toEqual({
          active: before.active - 1,
          erased: before.erased + 1,
        });
        const page = await store.subjects.activeAfter('', 1000);
        expect(page.map((s) => s.id)).toContain(b);
        expect(page.map((s) => s.id)).not.toContain(a);
        expect([...page.map((s) => s.id)].sort()).toEqual(page.map((s) => s.id));
        await store.transaction(async (tx) => {
          await tx.subjects.lock(b);
        });
      });

      it('keeps wrapped subject keys by version, rewraps, pages by root, destroys, and reports stats', async () => {
        const s = await subject(5);
        const wrapped = randomBytes(60);
        await store.keys.insert({
          subjectId: s,
          version: 1,
          suite: 'aes-256-gcm',
          rootKeyId: 'file:aaaa',
          wrapped,
          createdAt: at(5),
        });
        await store.keys.insert({
          subjectId: s,
          version: 2,
          suite: 'sm4-gcm',
          rootKeyId: 'file:aaaa',
          wrapped: randomBytes(44),
          createdAt: at(6),
        });
        expect((await store.keys.current(s))?.version).toBe(2);
        expect((await store.keys.get(s, 1))?.wrapped.equals(wrapped)).toBe(true);
        const others = await store.keys.wrappedByOtherRoots('file:bbbb', '', 1000);
        expect(others.filter((k) => k.subjectId === s).map((k) => k.version)).toEqual([1, 2]);
        expect(await store.keys.rewrap(s, 1, randomBytes(60), 'file:bbbb')).toBe(true);
        expect(
          (await store.keys.wrappedByOtherRoots('file:bbbb', '', 1000))
            .filter((k) => k.subjectId === s)
            .map((k) => k.version),
        ).toEqual([2]);
        const stats = await store.keys.stats();
        expect(stats.byRoot).toEqual(expect.arrayContaining([{ rootKeyId: 'file:bbbb', keys: 1 }]));
        expect(stats.bySuite.map((x) => x.suite)).toEqual(expect.arrayContaining(['aes-256-gcm', 'sm4-gcm']));
        expect(stats.keys).toBeGreaterThanOrEqual(2);
        expect(await store.keys.deleteVersion(s, 1)).toBe(1);
        expect(await store.keys.deleteForSubject(s)).toBe(1);
        expect(await store.keys.current(s)).toBeUndefined();
      });

      it('indexes identities idempotently, finds subjects by token, keeps platform ids unique', async () => {
        const a = await subject(7);
        const b = await subject(8);
        const token = randomBytes(16);
        const row = (subjectId: string, kind: string, t: Buffer, indexVersion = 1) => ({
          subjectId,
          kind,
          indexVersion,
          token: t,
          sealed: randomBytes(40),
          keyVersion: 1,
          createdAt: at(7),
        });
        await store.identities.insertMany([row(a, 'phone', token), row(b, 'phone', token)]);
        await store.identities.insertMany([row(a, 'phone', token)]);
        const found = await store.identities.findSubjects([{ kind: 'phone', indexVersion: 1, token }]);
        expect(found.map((f) => f.subjectId)).toEqual([a, b].sort());
        expect(await store.identities.findSubjects([{ kind: 'phone', indexVersion: 2, token }])).toEqual([]);
        const oaid = randomBytes(16);
        await store.identities.insertMany([row(a, 'oaid', oaid)]);
        await expect(
          store.transaction((tx) => tx.identities.insertMany([row(b, 'oaid', oaid)])),
        ).rejects.toMatchObject({ code: 'ERR_STORE_CONFLICT' });
        await store.identities.replaceForSubject(a, [row(a, 'phone', token, 2)]);
        expect((await store.identities.listForSubject(a)).map((r) => [r.kind, r.indexVersion])).toEqual([
          ['phone', 2],
        ]);
        expect(await store.identities.subjectsOnOtherVersions(2, '', 1000)).toContain(b);
        expect(await store.identities.subjectsOnOtherVersions(2, '', 1000)).not.toContain(a);
        expect((await store.identities.versionCounts()).map((v) => v.indexVersion)).toEqual(
          expect.arrayContaining([1, 2]),
        );
        expect(await store.identities.deleteForSubject(b)).toBe(1);
      });

      it('lets one of two concurrent batches of the same new platform ids, in opposite orders, commit and the other conflict, never deadlock', async () => {
        const n = 400;
        for (let round = 0; round < 5; round++) {
          const tokens = Array.from({ length: n }, () => randomBytes(16));
          // Where writers run concurrently, both units of work reach their identity insert before
          // either starts it, so that the two inserts overlap.
          let arrived = 0;
          let go!: () => void;
          const together = new Promise<void>((resolve) => (go = resolve));
          const meet = async (): Promise<void> => {
            if (++arrived === 2) go();
            if (store.capabilities.concurrentWriters) await together;
          };
          const batch = (order: readonly Buffer[]) =>
            store.transaction(async (tx) => {
              const id = `0192${String(round).padStart(4, '0')}-0000-7000-8000-${randomBytes(6).toString('hex')}`;
              await tx.subjects.insert({ id, createdAt: at(30) });
              await meet();
              await tx.identities.insertMany(
                order.map((token) => ({
                  subjectId: id,
                  kind: 'oaid',
                  indexVersion: 1,
                  token,
                  sealed: randomBytes(40),
                  keyVersion: 1,
                  createdAt: at(30),
                })),
              );
              return id;
            });
          const outcomes = await Promise.allSettled([batch(tokens), batch([...tokens].reverse())]);
          const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
          const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          // The later batch waited for the earlier one and then found its rows: the conflict the
          // vault retries, from a unique key, not from the server breaking a deadlock.
          expect(lost[0]).toMatchObject({ name: 'CustodianError', code: 'ERR_STORE_CONFLICT' });
          expect(((lost[0] as Error).cause as { code?: unknown }).code).not.toBe('40P01');
          const owners = await store.identities.findSubjects(
            tokens.map((token) => ({ kind: 'oaid', indexVersion: 1, token })),
          );
          expect(owners).toHaveLength(n);
          expect(new Set(owners.map((o) => o.subjectId))).toEqual(new Set(won));
        }
      });

      it('stores sealed records with bytes and plain fields intact, reseals and deletes them', async () => {
        const s = await subject(9);
        const sealed = randomBytes(300);
        const record = {
          id: randomUUID(),
          subjectId: s,
          collection: 'order',
          keyVersion: 1,
          sealed,
          plain: { orderId: '2026010112345678901', amount: '128.00' },
          purpose: 'order-fulfilment',
          source: 'tmall-store',
          createdAt: at(9),
          updatedAt: at(9),
        };
        await store.records.insert(record);
        await store.records.insert({
          ...record,
          id: randomUUID(),
          plain: null,
          source: null,
          createdAt: at(10),
          updatedAt: at(10),
        });
        const rows = await store.records.listForSubject(s);
        expect(rows[0]).toEqual(record);
        expect(rows[1]?.plain).toBeNull();
        expect(await store.records.reseal(record.id, 2, Buffer.from([1, 2, 3]), at(11))).toBe(true);
        expect((await store.records.listForSubject(s))[0]).toMatchObject({
          keyVersion: 2,
          sealed: Buffer.from([1, 2, 3]),
          updatedAt: at(11),
        });
        expect(await store.records.deleteForSubject(s)).toBe(2);
      });

      it('writes and reads subjects, keys, records and identities in batches larger than one statement', async () => {
        // Two full statements, then the rest in statements of 128, 64, 8, 2 and 1 rows.
        const n = 1_203;
        const ids = Array.from(
          { length: n },
          (_, i) => `0191${String(i).padStart(4, '0')}-0000-7000-8000-${randomBytes(6).toString('hex')}`,
        );
        const tokens = ids.map(() => randomBytes(16));
        await store.transaction(async (tx) => {
          await tx.subjects.insertMany(ids.map((id) => ({ id, createdAt: at(20) })));
          await tx.keys.insertMany(
            ids.flatMap((id) =>
              [1, 2].map((version) => ({
                subjectId: id,
                version,
                suite: 'aes-256-gcm',
                rootKeyId: 'file:batch',
                wrapped: randomBytes(60),
                createdAt: at(20 + version),
              })),
            ),
          );
          await tx.records.insertMany(
            ids.map((id) => ({
              id: randomUUID(),
              subjectId: id,
              collection: 'order',
              keyVersion: 2,
              sealed: randomBytes(80),
              plain: null,
              purpose: 'order-fulfilment',
              source: null,
              createdAt: at(22),
              updatedAt: at(22),
            })),
          );
          await tx.identities.insertMany(
            ids.map((id, i) => ({
              subjectId: id,
              kind: 'oaid',
              indexVersion: 1,
              token: tokens[i]!,
              sealed: randomBytes(40),
              keyVersion: 2,
              createdAt: at(22),
            })),
          );
          await tx.subjects.lockMany([...ids].reverse());
        });
        const unknown = `0191ffff-0000-7000-8000-${randomBytes(6).toString('hex')}`;
        const got = await store.subjects.getMany([...ids, unknown, ids[0]!]);
        expect(got).toHaveLength(n);
        expect(new Set(got.map((s) => s.id))).toEqual(new Set(ids));
        const current = await store.keys.currentMany([...ids, unknown]);
        expect(current).toHaveLength(n);
        expect(current.every((k) => k.version === 2 && k.rootKeyId === 'file:batch')).toBe(true);
        expect(await store.records.listForSubject(ids[n - 1]!)).toHaveLength(1);
        const lookups = tokens.map((token) => ({ kind: 'oaid', indexVersion: 1, token }));
        const matches = await store.identities.findSubjects(lookups);
        expect(matches).toHaveLength(n);
        const byToken = new Map(matches.map((m) => [m.token.toString('hex'), m]));
        expect(byToken.get(tokens[700]!.toString('hex'))).toMatchObject({
          subjectId: ids[700],
          kind: 'oaid',
          indexVersion: 1,
        });
        expect(await store.subjects.getMany([])).toEqual([]);
        expect(await store.keys.currentMany([])).toEqual([]);
        expect(await store.identities.findSubjects([])).toEqual([]);
      });

      it('serialises audit appends so the Merkle log never forks', async () => {
        const { appendAudit } = await import('../../src/services/audit.js');
        const { verifyAuditLog } = await import('../../src/services/audit-log-verify.js');
        const start = await store.audit.lockHead();
        const entry = (n: number) => ({
          v: 1 as const,
          at: at(n % 60),
          action: 'read' as const,
          actor: { id: `a${n}`, role: 'operator' },
          subject: null,
        });
        await Promise.all(
          Array.from({ length: 12 }, (_, n) =>
            store.transaction((tx) => appendAudit(tx, [entry(n), entry(n + 100)])),
          ),
        );
        const rows = await store.audit.range(start.size + 1, start.size + 1000);
        expect(rows).toHaveLength(24);
        expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 24 }, (_, i) => start.size + 1 + i));
        expect((await verifyAuditLog(store)).problems).toEqual([]);
        expect((await store.audit.lockHead()).size).toBe(start.size + 24);
        expect(await store.audit.count()).toBeGreaterThanOrEqual(24);
      });

      it('rolls an audit append back with its unit of work', async () => {
        const { appendAudit } = await import('../../src/services/audit.js');
        const head = await store.audit.lockHead();
        await expect(
          store.transaction(async (tx) => {
            await appendAudit(tx, [
              { v: 1, at: at(1), action: 'read', actor: { id: 'x', role: 'r' }, subject: null },
            ]);
            throw new Error('after the audit write');
          }),
        ).rejects.toThrow('after the audit write');
        expect(await store.audit.lockHead()).toEqual(head);
      });

      it('records key rotations and finds the unfinished one', async () => {
        const id = randomUUID();
        await store.rotations.insert({
          id,
          kind: 'contract',
          cutoff: at(1),
          target: 't',
          startedAt: at(1),
          finishedAt: null,
          processed: 0,
        });
        expect((await store.rotations.unfinished('contract'))?.id).toBe(id);
        await store.rotations.progress(id, 42, null);
        expect((await store.rotations.unfinished('contract'))?.processed).toBe(42);
        await store.rotations.progress(id, 50, at(2));
        expect(await store.rotations.unfinished('contract')).toBeUndefined();
      });

      it('records the suite of a blind-index version once, and keeps it', async () => {
        expect(await store.rotations.indexSuite(901)).toBeUndefined();
        expect(await store.rotations.pinIndexSuite(901, 'aes-256-gcm', at(1))).toBe('aes-256-gcm');
        // A later pin with another suite changes nothing: the version keeps its hash.
        expect(await store.rotations.pinIndexSuite(901, 'sm4-gcm', at(2))).toBe('aes-256-gcm');
        expect(await store.rotations.indexSuite(901)).toBe('aes-256-gcm');
        expect(await store.rotations.pinIndexSuite(902, 'sm4-gcm', at(3))).toBe('sm4-gcm');
      });
    });

    describe('access and policy repositories', () => {
      const t = (n: number) => `2026-04-01T00:00:${String(n).padStart(2, '0')}.000Z`;
      /** An unreviewed break-glass grant of operator `p1` for customer service, from t(10) to t(40). */
      const grantRow = (id: string, subjectId: string, ticket: string, grantedAt = t(10)) => ({
        id,
        principalId: 'p1',
        role: 'operator',
        subjectId,
        purpose: 'customer-service',
        justification: 'refund dispute',
        ticket,
        grantedAt,
        expiresAt: t(40),
        revokedAt: null,
        reviewedBy: null,
        reviewedAt: null,
        reviewOutcome: null,
        reviewNote: null,
      });
      /** A staff row with nothing enrolled, locked or disabled. */
      const staffRow = (id: string, prefix: string, role: string) => ({
        id,
        username: `${prefix}-${id.slice(0, 8)}`,
        displayName: prefix,
        role,
        passwordHash: 'h',
        totpSealed: null,
        totpEnrolledAt: null,
        failedAttempts: 0,
        lockedUntil: null,
        disabledAt: null,
        createdAt: t(1),
        lastLoginAt: null,
      });
      it('stores staff, updates them partially, and finds them by username', async () => {
        const id = randomUUID();
        const staff = {
          ...staffRow(id, 'u', 'operator'),
          displayName: '运营 小王',
          passwordHash: '$argon2id$v=19$x',
        };
        await store.staff.insert(staff);
        expect(await store.staff.byUsername(staff.username)).toEqual(staff);
        const secret = randomBytes(50);
        expect(
          await store.staff.update(id, { totpSealed: secret, totpEnrolledAt: t(2), failedAttempts: 3 }),
        ).toBe(true);
        expect(await store.staff.byId(id)).toMatchObject({
          totpSealed: secret,
          failedAttempts: 3,
          role: 'operator',
        });
        expect(await store.staff.update(randomUUID(), { role: 'x' })).toBe(false);
        await expect(
          store.transaction((tx) => tx.staff.insert({ ...staff, id: randomUUID() })),
        ).rejects.toMatchObject({ code: 'ERR_STORE_CONFLICT' });
        expect((await store.staff.list()).map((x) => x.id)).toContain(id);
      });

      it('records failed sign-ins atomically: counts on, stops at maxFailures, restarts once a lockout ran out', async () => {
        const id = randomUUID();
        await store.staff.insert(staffRow(id, 'f', 'operator'));
        // Refusal ends a test can tell apart: the n-th failure refuses until minute n.
        const until = (n: number) => `2026-04-01T00:${String(n).padStart(2, '0')}:30.000Z`;
        const policy = (at: string) => ({ at, maxFailures: 3, lockedUntil: until });
        expect(await store.staff.recordFailure(id, policy(t(1)))).toEqual({
          failedAttempts: 1,
          lockedUntil: until(1),
        });
        // Concurrent failures each count once, and the count stops at maxFailures.
        const counts = await Promise.all(
          Array.from({ length: 5 }, () => store.staff.recordFailure(id, policy(t(2)))),
        );
        expect(counts.map((c) => c?.failedAttempts).sort()).toEqual([2, 3, 3, 3, 3]);
        expect(await store.staff.byId(id)).toMatchObject({ failedAttempts: 3, lockedUntil: until(3) });
        // A running lockout is never shortened, even by a policy that asks for an earlier end.
        expect(
          await store.staff.recordFailure(id, { at: t(3), maxFailures: 3, lockedUntil: () => t(4) }),
        ).toEqual({ failedAttempts: 3, lockedUntil: until(3) });
        // Inside a unit of work, and undone with it.
        await expect(
          store.transaction(async (tx) => {
            expect(await tx.staff.recordFailure(id, policy(until(3)))).toMatchObject({ failedAttempts: 1 });
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
        expect(await store.staff.byId(id)).toMatchObject({ failedAttempts: 3, lockedUntil: until(3) });
        // Once the lockout has run out (its end is at or before `at`), counting starts afresh.
        expect(await store.staff.recordFailure(id, policy(until(3)))).toEqual({
          failedAttempts: 1,
          lockedUntil: until(1),
        });
        expect(await store.staff.recordFailure(id, policy(until(3)))).toMatchObject({ failedAttempts: 2 });
        expect(await store.staff.recordFailure(randomUUID(), policy(t(5)))).toBeUndefined();
      });

      it('keeps sessions by hash, touches and revokes them', async () => {
        const staffId = randomUUID();
        await store.staff.insert(staffRow(staffId, 's', 'auditor'));
        const idHash = randomBytes(32);
        await store.sessions.insert({
          idHash,
          staffId,
          createdAt: t(1),
          lastSeenAt: t(1),
          expiresAt: t(59),
          revokedAt: null,
        });
        await store.sessions.touch(idHash, t(5));
        expect((await store.sessions.byHash(idHash))?.lastSeenAt).toBe(t(5));
        expect(await store.sessions.revokeForStaff(staffId, t(6))).toBe(1);
        expect(await store.sessions.revoke(idHash, t(7))).toBe(false);
        await store.training.insert({
          id: randomUUID(),
          staffId,
          course: 'PIPL basics',
          completedAt: t(1),
          expiresAt: '2027-04-01T00:00:00.000Z',
          recordedBy: 'x',
        });
        await store.training.insert({
          id: randomUUID(),
          staffId,
          course: 'Refresher',
          completedAt: t(2),
          expiresAt: '2027-06-01T00:00:00.000Z',
          recordedBy: 'x',
        });
        expect(await store.training.currentUntil(staffId)).toBe('2027-06-01T00:00:00.000Z');
        expect(await store.training.currentUntil(randomUUID())).toBeNull();
        expect(await store.training.listForStaff(staffId)).toHaveLength(2);
      });

      it('finds only active break-glass grants and reviews each once', async () => {
        const id = randomUUID();
        const grant = grantRow(id, 's1', 'CS-1');
        await store.breakGlass.insert(grant);
        expect((await store.breakGlass.active('p1', 's1', 'customer-service', t(20)))?.id).toBe(id);
        expect(await store.breakGlass.active('p1', 's1', 'customer-service', t(41))).toBeUndefined();
        expect(await store.breakGlass.active('p1', 's2', 'customer-service', t(20))).toBeUndefined();
        expect((await store.breakGlass.pendingReview({ limit: 500 })).map((g) => g.id)).toContain(id);
        expect(await store.breakGlass.review(id, 'officer', t(50), 'justified', 'ok')).toBe(true);
        expect(await store.breakGlass.review(id, 'officer', t(51), 'unjustified', 'again')).toBe(false);
        expect(await store.breakGlass.byId(id)).toMatchObject({
          reviewOutcome: 'justified',
          reviewedBy: 'officer',
        });
      });

      it('moves export requests through their states exactly once', async () => {
        const id = randomUUID();
        await store.exports.insert({
          id,
          requestedBy: 'p1',
          requesterRole: 'operator',
          purpose: 'order-fulfilment',
          subjectIds: ['a', 'b'],
          recipient: { kind: 'passphrase' },
          recipientId: 'sf-express',
          status: 'pending',
          decidedBy: null,
          decidedAt: null,
          decisionNote: null,
          createdAt: t(1),
          downloadedAt: null,
        });
        expect(
          await store.exports.transition(id, 'pending', 'approved', { decidedBy: 'p2', decidedAt: t(2) }),
        ).toBe(true);
        expect(await store.exports.transition(id, 'pending', 'denied', { decidedBy: 'p3' })).toBe(false);
        expect(await store.exports.byId(id)).toMatchObject({
          status: 'approved',
          decidedBy: 'p2',
          subjectIds: ['a', 'b'],
          recipient: { kind: 'passphrase' },
          recipientId: 'sf-express',
        });
        expect((await store.exports.list({ status: 'approved', limit: 500 })).map((e) => e.id)).toContain(id);
      });

      // Ids above any random (v4) id of the other tests: each page below is exactly these rows.
      const high = (n: number) => `ffffffff-ffff-7fff-bfff-${String(n).padStart(12, '0')}`;

      it('pages export requests newest first by id, counting subjects without loading them', async () => {
        for (const n of [1, 2, 3, 4, 5])
          await store.exports.insert({
            id: high(n),
            requestedBy: 'p1',
            requesterRole: 'operator',
            purpose: 'order-fulfilment',
            subjectIds: Array.from({ length: n }, () => randomUUID()),
            recipient: n === 5 ? { kind: 'public-key', publicKey: 'pk' } : { kind: 'passphrase' },
            recipientId: null,
            status: n % 2 === 0 ? 'denied' : 'pending',
            decidedBy: null,
            decidedAt: null,
            decisionNote: null,
            createdAt: t(n),
            downloadedAt: null,
          });
        const first = await store.exports.list({ limit: 2, before: high(9) });
        expect(first).toEqual([
          {
            id: high(5),
            requestedBy: 'p1',
            requesterRole: 'operator',
            purpose: 'order-fulfilment',
            subjectCount: 5,
            recipient: { kind: 'public-key', publicKey: 'pk' },
            recipientId: null,
            status: 'pending',
            decidedBy: null,
            decidedAt: null,
            decisionNote: null,
            createdAt: t(5),
            downloadedAt: null,
          },
          expect.objectContaining({ id: high(4), subjectCount: 4 }),
        ]);
        for (const e of first) expect(e).not.toHaveProperty('subjectIds');
        const second = await store.exports.list({ limit: 2, before: high(4) });
        expect(second.map((e) => [e.id, e.subjectCount])).toEqual([
          [high(3), 3],
          [high(2), 2],
        ]);
        expect((await store.exports.list({ limit: 1, before: high(2) })).map((e) => e.id)).toEqual([high(1)]);
        expect(
          (await store.exports.list({ limit: 5, before: high(9), status: 'denied' })).map((e) => e.id),
        ).toEqual([high(4), high(2)]);
        // The single fetch still loads the ids, for approval and download.
        expect((await store.exports.byId(high(3)))?.subjectIds).toHaveLength(3);
      });

      it('pages unreviewed break-glass grants newest first by id', async () => {
        for (const n of [1, 2, 3]) await store.breakGlass.insert(grantRow(high(n), `s${n}`, `CS-${n}`, t(n)));
        expect(await store.breakGlass.review(high(2), 'officer', t(50), 'justified', 'ok')).toBe(true);
        const first = await store.breakGlass.pendingReview({ limit: 1, before: high(9) });
        expect(first.map((g) => g.id)).toEqual([high(3)]);
        expect(first[0]).toMatchObject({ ticket: 'CS-3', grantedAt: t(3), reviewedAt: null });
        expect(
          (await store.breakGlass.pendingReview({ limit: 1, before: high(3) })).map((g) => g.id),
        ).toEqual([high(1)]);
        expect((await store.breakGlass.pendingReview({ limit: 500 })).map((g) => g.id)).not.toContain(
          high(2),
        );
      });

      it('stores policy versions in order', async () => {
        const before = (await store.policies.latest())?.number ?? 0;
        await store.policies.insert({
          number: before + 1,
          fingerprint: `fp-${randomUUID()}`,
          scope: '{"a":1}',
          publishedAt: t(1),
          requiresReconsent: false,
          reconsentPurposes: [],
        });
        await store.policies.insert({
          number: before + 2,
          fingerprint: `fp-${randomUUID()}`,
          scope: '{"a":2}',
          publishedAt: t(2),
          requiresReconsent: true,
          reconsentPurposes: ['marketing'],
        });
        expect(await store.policies.latest()).toMatchObject({
          number: before + 2,
          requiresReconsent: true,
          reconsentPurposes: ['marketing'],
        });
        expect((await store.policies.byNumber(before + 1))?.scope).toBe('{"a":1}');
        expect((await store.policies.list()).length).toBeGreaterThanOrEqual(2);
      });

      it('stores a version whose fingerprint an older version has (content reverted, R5)', async () => {
        const before = (await store.policies.latest())?.number ?? 0;
        const fingerprint = `fp-${randomUUID()}`;
        const version = (number: number, fp: string, scope: string) => ({
          number,
          fingerprint: fp,
          scope,
          publishedAt: t(number % 60),
          requiresReconsent: false,
          reconsentPurposes: [],
        });
        await store.policies.insert(version(before + 1, fingerprint, '{"v":1}'));
        await store.policies.insert(version(before + 2, `fp-${randomUUID()}`, '{"v":2}'));
        // Refused by migration 0003's unique fingerprint; 0014 drops it.
        await store.transaction((tx) => tx.policies.insert(version(before + 3, fingerprint, '{"v":1}')));
        expect(await store.policies.latest()).toMatchObject({ number: before + 3, fingerprint });
        const same = (await store.policies.list()).filter((v) => v.fingerprint === fingerprint);
        expect(same.map((v) => v.number)).toEqual([before + 1, before + 3]);
        // The number still identifies a version.
        await expect(
          store.transaction((tx) => tx.policies.insert(version(before + 3, fingerprint, '{"v":1}'))),
        ).rejects.toMatchObject({ code: 'ERR_STORE_CONFLICT' });
      });
    });

    describe('consent ledger repository', () => {
      const event = (
        subjectId: string,
        subjectRef: string,
        seq: number,
        overrides: Partial<ConsentEventRecord> = {},
      ): ConsentEventRecord => ({
        id: randomUUID(),
        seq,
        subjectId,
        subjectRef,
        purpose: 'marketing',
        kind: 'purpose',
        recipient: null,
        action: 'grant',
        policyVersion: 1,
        channel: 'tmall-store',
        uiVersion: null,
        locale: null,
        ipHash: null,
        userAgentHash: null,
        guardianRelationship: null,
        guardianHash: null,
        minor: false,
        recordedAt: `2026-05-01T00:00:0${seq}.000Z`,
        recordedBy: 'tok-contract',
        receiptId: randomUUID(),
        receipt: `eyJ.${seq}.sig`,
        ...overrides,
      });

      it('appends events, lists them in ledger order with bytes intact, and finds them by receipt', async () => {
        const subjectId = randomUUID();
        const ref = randomBytes(16).toString('hex');
        const second = event(subjectId, ref, 2, {
          kind: 'provide_to_third_party',
          recipient: 'acme',
          action: 'withdraw',
          policyVersion: 3,
          uiVersion: 'ui/2',
          locale: 'zh-CN',
          ipHash: randomBytes(32),
          userAgentHash: randomBytes(32),
          guardianRelationship: 'parent',
          guardianHash: randomBytes(32),
          minor: true,
          recordedAt: '2026-05-01T00:00:00.000Z',
        });
        const first = event(subjectId, ref, 1, { recordedAt: '2026-05-01T00:00:00.000Z' });
        await store.transaction(async (tx) => {
          await tx.consents.insert(second);
          await tx.consents.insert(first);
        });
        const listed = await store.consents.listForSubject(subjectId);
        expect(listed).toEqual([first, second]);
        expect(Buffer.isBuffer(listed[1]?.ipHash)).toBe(true);
        expect(await store.consents.lastSeq(subjectId)).toBe(2);
        expect(await store.consents.lastSeq(randomUUID())).toBe(0);
        expect(await store.consents.byReceiptId(second.receiptId)).toEqual(second);
        expect(await store.consents.byReceiptId(randomUUID())).toBeUndefined();
        // One place in the ledger per event, one event per receipt.
        await expect(store.consents.insert(event(subjectId, ref, 2))).rejects.toThrow();
        await expect(
          store.consents.insert(event(subjectId, ref, 3, { receiptId: first.receiptId })),
        ).rejects.toThrow();
      });

      it('unlinks a subject on erasure, keeping the events under the pseudonym without hashes', async () => {
        const subjectId = randomUUID();
        const ref = randomBytes(16).toString('hex');
        const hashed = {
          ipHash: randomBytes(32),
          userAgentHash: randomBytes(32),
          guardianHash: randomBytes(32),
        };
        const a = event(subjectId, ref, 1, { ...hashed, guardianRelationship: 'legal-guardian' });
        const b = event(subjectId, ref, 2, hashed);
        await store.consents.insert(a);
        await store.consents.insert(b);
        const other = event(randomUUID(), randomBytes(16).toString('hex'), 1, hashed);
        await store.consents.insert(other);
        expect(await store.consents.unlinkSubject(subjectId)).toBe(2);
        expect(await store.consents.unlinkSubject(subjectId)).toBe(0);
        expect(await store.consents.listForSubject(subjectId)).toEqual([]);
        expect(await store.consents.byReceiptId(a.receiptId)).toEqual({
          ...a,
          subjectId: null,
          ipHash: null,
          userAgentHash: null,
          guardianHash: null,
        });
        // Unlinked events belong to no subject any more.
        expect(await store.consents.lastSeq(subjectId)).toBe(0);
        expect((await store.consents.byReceiptId(other.receiptId))?.ipHash?.equals(hashed.ipHash)).toBe(true);
        // A rolled-back unit of work leaves nothing behind.
        const kept = other.subjectId!;
        await expect(
          store.transaction(async (tx) => {
            await tx.consents.insert(event(kept, other.subjectRef, 2));
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
        expect(await store.consents.lastSeq(kept)).toBe(1);
      });
    });

    describe('audit log repositories (Merkle log)', () => {
      const entry = (n: number) => ({
        v: 1 as const,
        at: `2026-04-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`,
        action: 'read' as const,
        actor: { id: `contract-${n}`, role: 'auditor' },
        subject: n % 4 === 0 ? null : n.toString(16).padStart(32, '0'),
        detail: { n },
      });

      it('appends leaves, nodes and the head in one unit of work, and scans them back in batches', async () => {
        const { appendAudit } = await import('../../src/services/audit.js');
        const { nodeCount, nodeAt, popcount } = await import('../../src/domain/audit/tree.js');
        const { leafHash } = await import('../../src/crypto/merkle.js');
        const start = await store.audit.head();
        const appended = await store.transaction((tx) =>
          appendAudit(
            tx,
            Array.from({ length: 37 }, (_, i) => entry(i)),
          ),
        );
        expect(appended.map((r) => r.leafIndex)).toEqual(
          Array.from({ length: 37 }, (_, i) => start.size + i),
        );
        const head = await store.audit.head();
        expect(head.size).toBe(start.size + 37);
        expect(head.frontier).toHaveLength(32 * popcount(head.size));
        expect(store.audit.headHint()?.size).toBe(head.size);

        const rows = await store.audit.range(start.size + 1, head.size + 1);
        expect(rows.map((r) => r.subjectRef)).toEqual(appended.map((r) => r.subjectRef));
        expect(rows[5]).toMatchObject({ action: 'read', actor: 'contract-5', at: entry(5).at });
        const batch = await store.audit.scanEntries(start.size + 1, head.size + 1);
        expect(batch.count).toBe(37);
        // canonical, 0x01, "=<subject>" or "-"; 0x00 between entries.
        const joined = rows.map((r) =>
          Buffer.concat([
            r.canonical,
            Buffer.of(1),
            Buffer.from(r.subjectRef === null ? '-' : `=${r.subjectRef}`),
          ]),
        );
        expect(
          batch.bytes.equals(Buffer.concat(joined.flatMap((b, i) => (i === 0 ? [b] : [Buffer.of(0), b])))),
        ).toBe(true);
        expect((await store.audit.scanEntries(head.size + 1, head.size + 10)).count).toBe(0);

        const from = nodeCount(start.size);
        const to = nodeCount(head.size);
        const nodes = await store.audit.nodeRange(from, to);
        expect(nodes.map((n) => n.id)).toEqual(Array.from({ length: to - from }, (_, i) => from + i));
        expect(
          (await store.audit.scanNodes(from, to)).bytes.equals(Buffer.concat(nodes.map((n) => n.hash))),
        ).toBe(true);
        // The leaf nodes are the entries' leaf hashes.
        for (const n of nodes) {
          const { level, index } = nodeAt(n.id);
          if (level === 0) expect(n.hash.equals(leafHash(rows[index - start.size]!.canonical))).toBe(true);
        }
        const some = await store.audit.nodes([from, to - 1, to + 5]);
        expect([...some.keys()].sort((a, b) => a - b)).toEqual([from, to - 1]);

        const stats = await store.audit.stats();
        expect(stats.entries).toEqual({ count: head.size, min: head.size > 0 ? 1 : null, max: head.size });
        expect(stats.nodes).toEqual({ count: to, min: 0, max: to - 1 });
        const { verifyAuditLog } = await import('../../src/services/audit-log-verify.js');
        expect((await verifyAuditLog(store, { batchSize: 8 })).problems).toEqual([]);
      });

      it('swaps the head only from the expected state, and finds stray rows', async () => {
        const head = await store.audit.head();
        const other = { size: head.size + 1, frontier: Buffer.alloc(32 * 9) };
        expect(
          await store.transaction((tx) => tx.audit.swapHead({ ...head, size: head.size + 7 }, other)),
        ).toBe(false);
        expect(await store.audit.head()).toEqual(head);
        await expect(
          store.transaction(async (tx) => {
            expect(await tx.audit.swapHead(head, other)).toBe(true);
            expect((await tx.audit.head()).size).toBe(head.size + 1);
            await tx.audit.insertMany([
              {
                seq: head.size + 50,
                at: '',
                action: '',
                actor: '',
                subjectRef: null,
                canonical: Buffer.from('{}'),
              },
            ]);
            await tx.audit.insertNodes([{ id: -4, hash: Buffer.alloc(32) }]);
            expect(await tx.audit.strays(head.size, (await tx.audit.stats()).nodes.count - 1, 10)).toEqual({
              seqs: [head.size + 50],
              nodeIds: [-4],
            });
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
        expect(await store.audit.head()).toEqual(head);
        expect(await store.audit.strays(head.size, (await store.audit.stats()).nodes.count, 10)).toEqual({
          seqs: [],
          nodeIds: [],
        });
      });

      it('stores checkpoints once per tree size and lists them in order', async () => {
        const record = (treeSize: number) => ({
          treeSize,
          rootHash: randomBytes(32),
          origin: 'contract.custodian.local/log',
          signedAt: '2026-04-01T00:00:00.000Z',
          keyId: 0xfedcba98,
          signature: randomBytes(64),
        });
        // Unsigned records: rolled back, so no later verification meets them.
        await expect(
          store.transaction(async (tx) => {
            const base = (await tx.audit.latestCheckpoint())?.treeSize ?? 0;
            const a = record(base + 10);
            expect(await tx.audit.insertCheckpoint(a)).toBe(true);
            expect(await tx.audit.insertCheckpoint({ ...a, rootHash: randomBytes(32) })).toBe(false);
            expect(await tx.audit.insertCheckpoint(record(base + 3))).toBe(true);
            expect(await tx.audit.latestCheckpoint()).toEqual(a);
            expect((await tx.audit.checkpoints(base, 10)).map((c) => c.treeSize)).toEqual([
              base + 3,
              base + 10,
            ]);
            expect((await tx.audit.checkpoints(base + 3, 10)).map((c) => c.treeSize)).toEqual([base + 10]);
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
        expect(await store.audit.latestCheckpoint()).toBeUndefined();
      });

      it('prunes a prefix of entries and nodes, keeping the nodes asked for, and records the state', async () => {
        const { appendAudit } = await import('../../src/services/audit.js');
        const { nodeCount, nodeId } = await import('../../src/domain/audit/tree.js');
        expect(await store.audit.retention()).toEqual({ prunedSize: 0, prunedAt: null, pruneSeq: null });
        await expect(
          store.transaction(async (tx) => {
            await appendAudit(
              tx,
              Array.from({ length: 40 }, (_, i) => entry(i)),
            );
            const head = await tx.audit.lockHead();
            const boundary = 24;
            const keep = [nodeId(4, 0), nodeId(3, 2)]; // leaves [0, 16) and [16, 24)
            const state = {
              prunedSize: boundary,
              prunedAt: '2026-10-01T00:00:00.000Z',
              pruneSeq: head.size + 1,
            };
            await expect(
              tx.audit.prune(state, nodeCount(boundary), [...keep, nodeCount(head.size) + 99]),
            ).rejects.toThrow();
            await tx.audit.prune(state, nodeCount(boundary), keep);
            expect(await tx.audit.retention()).toEqual(state);
            expect(await tx.audit.range(1, boundary + 1)).toEqual([]);
            expect((await tx.audit.range(boundary + 1, boundary + 2))[0]?.seq).toBe(boundary + 1);
            expect((await tx.audit.nodeRange(0, nodeCount(boundary))).map((n) => n.id)).toEqual(keep);
            const stats = await tx.audit.stats(nodeCount(boundary));
            expect(stats.entries).toEqual({ count: head.size - boundary, min: boundary + 1, max: head.size });
            expect(stats.nodes).toEqual({
              count: nodeCount(head.size) - nodeCount(boundary),
              min: nodeCount(boundary),
              max: nodeCount(head.size) - 1,
            });
            expect(await tx.audit.strays(head.size, nodeCount(head.size), 10, boundary)).toEqual({
              seqs: [],
              nodeIds: [],
            });
            // A later prune replaces the state.
            const later = { prunedSize: 32, prunedAt: '2027-01-01T00:00:00.000Z', pruneSeq: head.size + 2 };
            await tx.audit.prune(later, nodeCount(32), [nodeId(5, 0)]);
            expect(await tx.audit.retention()).toEqual(later);
            expect((await tx.audit.nodeRange(0, nodeCount(32))).map((n) => n.id)).toEqual([nodeId(5, 0)]);
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
        expect(await store.audit.retention()).toEqual({ prunedSize: 0, prunedAt: null, pruneSeq: null });
      });
    });

    describe('privacy centre repository', () => {
      it('stores notices and lists them newest first', async () => {
        const older = {
          id: randomUUID(),
          publishedAt: '2026-06-01T00:00:00.000Z',
          author: 'tok-officer',
          title: { 'zh-CN': '旧', en: 'Old' },
          body: { 'zh-CN': '正文', en: 'Body' },
        };
        const newer = { ...older, id: randomUUID(), publishedAt: '2099-06-02T00:00:00.000Z' };
        await store.privacy.insertNotice(older);
        await store.privacy.insertNotice(newer);
        const listed = await store.privacy.listNotices(1000);
        expect(listed[0]).toEqual(newer);
        expect(listed).toContainEqual(older);
        expect(await store.privacy.listNotices(1)).toHaveLength(1);
      });

      it('keeps sign-in codes: counts per requester, attempts, single use', async () => {
        const requester = randomBytes(32);
        const code = {
          id: randomUUID(),
          requester,
          subjectId: null,
          codeHash: randomBytes(32),
          createdAt: '2026-06-01T00:00:00.000Z',
          expiresAt: '2026-06-01T00:10:00.000Z',
          attempts: 0,
          usedAt: null,
        };
        await store.privacy.insertCode(code);
        await store.privacy.insertCode({ ...code, id: randomUUID(), createdAt: '2026-06-01T00:05:00.000Z' });
        expect(await store.privacy.code(code.id)).toEqual(code);
        expect(await store.privacy.countCodesSince(requester, '2026-06-01T00:00:00.000Z')).toBe(2);
        expect(await store.privacy.countCodesSince(requester, '2026-06-01T00:00:00.001Z')).toBe(1);
        expect(await store.privacy.countCodesSince(randomBytes(32), '2000-01-01T00:00:00.000Z')).toBe(0);
        expect(await store.privacy.claimAttempt(code.id, 2)).toBe(true);
        expect(await store.privacy.claimAttempt(code.id, 2)).toBe(true);
        // Out of tries: refused, and not counted.
        expect(await store.privacy.claimAttempt(code.id, 2)).toBe(false);
        expect(await store.privacy.claimAttempt(randomUUID(), 2)).toBe(false);
        expect(await store.privacy.useCode(code.id, '2026-06-01T00:01:00.000Z')).toBe(true);
        expect(await store.privacy.useCode(code.id, '2026-06-01T00:02:00.000Z')).toBe(false);
        expect(await store.privacy.code(code.id)).toMatchObject({
          attempts: 2,
          usedAt: '2026-06-01T00:01:00.000Z',
        });
        expect(await store.privacy.deleteCodesBefore('2026-06-01T00:05:00.000Z')).toBeGreaterThanOrEqual(1);
        expect(await store.privacy.code(code.id)).toBeUndefined();
        expect(await store.privacy.countCodesSince(requester, '2000-01-01T00:00:00.000Z')).toBe(1);
      });

      it('keeps customer sessions and requests', async () => {
        const subjectId = randomUUID();
        const session = {
          idHash: randomBytes(32),
          subjectId,
          createdAt: '2026-06-01T00:00:00.000Z',
          expiresAt: '2026-06-01T01:00:00.000Z',
          revokedAt: null,
        };
        await store.privacy.insertSession(session);
        expect(await store.privacy.session(session.idHash)).toEqual(session);
        expect(await store.privacy.revokeSession(session.idHash, '2026-06-01T00:30:00.000Z')).toBe(true);
        expect(await store.privacy.revokeSession(session.idHash, '2026-06-01T00:31:00.000Z')).toBe(false);
        expect(await store.privacy.session(randomBytes(32))).toBeUndefined();
        await store.privacy.insertCode({
          id: randomUUID(),
          requester: randomBytes(32),
          subjectId,
          codeHash: randomBytes(32),
          createdAt: '2026-06-01T00:00:00.000Z',
          expiresAt: '2026-06-01T00:10:00.000Z',
          attempts: 0,
          usedAt: null,
        });
        expect(await store.privacy.deleteSignInsFor(subjectId)).toBe(2);
        expect(await store.privacy.session(session.idHash)).toBeUndefined();
        expect(await store.privacy.deleteSignInsFor(subjectId)).toBe(0);
        const first = {
          id: randomUUID(),
          subjectId,
          kind: 'copy' as const,
          receivedAt: '2026-06-01T00:00:00.000Z',
          status: 'received' as const,
        };
        const second = {
          ...first,
          id: randomUUID(),
          kind: 'deletion' as const,
          receivedAt: '2026-06-02T00:00:00.000Z',
        };
        await store.privacy.insertRequest(first);
        await store.privacy.insertRequest(second);
        expect(await store.privacy.listRequests(subjectId)).toEqual([second, first]);
        expect(await store.privacy.listRequests(randomUUID())).toEqual([]);
      });
    });

    describe('incident repository', () => {
      it('stores, finds the open incident of a rule and actor, updates and lists incidents', async () => {
        const actor = `tok-${randomUUID()}`;
        const incident = {
          id: randomUUID(),
          status: 'pending' as const,
          rule: 'bulk-read',
          severity: 'critical',
          detectedAt: '2026-06-01T03:10:00.000Z',
          updatedAt: '2026-06-01T03:10:00.000Z',
          actor,
          role: 'operator',
          evidence: {
            window: { start: '2026-06-01T03:00:00.000Z', end: '2026-06-01T03:09:00.000Z' },
            windowMinutes: 10,
            count: 201,
            firstSeq: 7,
            lastSeq: 9000,
            subjectRefs: ['00ff'],
            hits: 1,
          },
          alerted: false,
        };
        await store.incidents.insert(incident);
        expect(await store.incidents.get(incident.id)).toEqual(incident);
        expect(await store.incidents.openFor('bulk-read', actor, '2026-06-01T03:00:00.000Z')).toEqual(
          incident,
        );
        expect(await store.incidents.openFor('bulk-read', actor, '2026-06-01T03:09:00.001Z')).toBeUndefined();
        expect(await store.incidents.openFor('off-hours', actor, '2026-06-01T00:00:00.000Z')).toBeUndefined();
        const evidence = { ...incident.evidence, lastSeq: 9100, count: 250, hits: 2 };
        expect(
          await store.incidents.update(incident.id, {
            evidence,
            severity: 'critical',
            updatedAt: '2026-06-01T03:12:00.000Z',
            alerted: true,
          }),
        ).toBe(true);
        expect(await store.incidents.get(incident.id)).toMatchObject({ evidence, alerted: true });
        expect(
          await store.incidents.update(randomUUID(), {
            evidence,
            severity: 'info',
            updatedAt: incident.updatedAt,
            alerted: true,
          }),
        ).toBe(false);
        const listed = await store.incidents.list({ status: 'pending' });
        expect(listed.some((i) => i.id === incident.id)).toBe(true);
      });

      it('lists unalerted incidents oldest first and marks one alerted, changing nothing else', async () => {
        const actor = `tok-${randomUUID()}`;
        const at = (minute: number) => `1999-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;
        const make = (minute: number, alerted: boolean) => ({
          id: randomUUID(),
          status: 'pending' as const,
          rule: 'off-hours',
          severity: 'warning',
          detectedAt: at(minute),
          updatedAt: at(minute),
          actor,
          role: 'operator',
          evidence: {
            window: { start: at(minute), end: at(minute) },
            windowMinutes: 60,
            count: 1,
            firstSeq: minute,
            lastSeq: minute,
            subjectRefs: [],
            hits: 1,
          },
          alerted,
        });
        // Older than anything the other tests store, so they come first.
        const [late, done, early, middle] = [
          make(30, false),
          make(5, true),
          make(10, false),
          make(20, false),
        ];
        for (const i of [late, done, early, middle]) await store.incidents.insert(i);
        const ours = (list: readonly { id: string }[]) =>
          list.map((i) => i.id).filter((id) => [late, done, early, middle].some((i) => i.id === id));
        expect(ours(await store.incidents.unalerted(100))).toEqual([early.id, middle.id, late.id]);
        expect((await store.incidents.unalerted(2)).map((i) => i.id)).toEqual([early.id, middle.id]);
        expect((await store.incidents.unalerted(1))[0]).toEqual(early);

        expect(await store.incidents.markAlerted(middle.id)).toBe(true);
        expect(await store.incidents.get(middle.id)).toEqual({ ...middle, alerted: true });
        expect(ours(await store.incidents.unalerted(100))).toEqual([early.id, late.id]);
        expect(await store.incidents.markAlerted(randomUUID())).toBe(false);
        for (const i of [early, late]) await store.incidents.markAlerted(i.id);
        expect(ours(await store.incidents.unalerted(100))).toEqual([]);
      });

      it('keeps the detector cursor', async () => {
        await expect(
          store.transaction(async (tx) => {
            const base = await tx.incidents.cursor();
            await tx.incidents.setCursor(base + 5);
            expect(await tx.incidents.cursor()).toBe(base + 5);
            await tx.incidents.setCursor(base + 2 ** 40);
            expect(await tx.incidents.cursor()).toBe(base + 2 ** 40);
            expect(await tx.incidents.advanceCursor(base, base + 7)).toBe(false);
            expect(await tx.incidents.advanceCursor(base + 2 ** 40, base + 2 ** 40 + 3)).toBe(true);
            expect(await tx.incidents.cursor()).toBe(base + 2 ** 40 + 3);
            throw new Error('roll back');
          }),
        ).rejects.toThrow('roll back');
      });
    });
  });
}
