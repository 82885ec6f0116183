import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as GrapheneModule from 'graphene-pk11';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustodianError, type ErrorCode } from '../../src/domain/errors.js';
import {
  Pkcs11RootKeyProvider,
  WRAP_NONCE_BYTES,
  WRAP_TAG_BYTES,
  openRootKeyProvider,
  type Pkcs11RootKeyOptions,
  type RootKeyProvider,
} from '../../src/keys/index.js';
import { tempDir } from '../support/tmp.js';

/**
 * Runs against a private SoftHSM2 token created in a temporary folder by scripts/softhsm-init.sh;
 * never the user's global SoftHSM configuration. SoftHSM reads SOFTHSM2_CONF in C_Initialize,
 * which the provider calls on first use, after beforeAll has set it.
 */

const LIBRARY = process.env['CUSTODIAN_TEST_PKCS11_LIBRARY'] ?? '/usr/lib/softhsm/libsofthsm2.so';
const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/softhsm-init.sh');
const SO_PIN = '12345678';
const PIN = '87654321';
const TOKEN = 'custodian-test';
const KEY = 'custodian-root';

function hasSoftHsmUtil(): boolean {
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = !existsSync(LIBRARY)
  ? `${LIBRARY} is missing`
  : !hasSoftHsmUtil()
    ? 'softhsm2-util is not on the PATH'
    : undefined;
const SKIP_REASON =
  missing === undefined
    ? undefined
    : `SoftHSM2 is not installed (${missing}); install it with \`apt-get install softhsm2\` to run the PKCS#11 tests`;

type Graphene = typeof GrapheneModule;

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<CustodianError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CustodianError);
  expect((error as CustodianError).code).toBe(code);
  return error as CustodianError;
}

function flip(blob: Buffer, index: number): Buffer {
  const copy = Buffer.from(blob);
  copy[index]! ^= 0x01;
  return copy;
}

if (SKIP_REASON !== undefined) {
  describe('Pkcs11RootKeyProvider (SoftHSM2)', () => {
    if (process.env['CI'] === 'true') {
      it('needs SoftHSM2 in CI', () => {
        expect.fail(`${SKIP_REASON}. CI must install softhsm2.`);
      });
    } else {
      it('is skipped', (ctx) => {
        console.warn(`PKCS#11 tests skipped: ${SKIP_REASON}`);
        ctx.skip(SKIP_REASON);
      });
    }
  });
} else {
  describe('Pkcs11RootKeyProvider (SoftHSM2)', () => {
    const dir = tempDir('custodian-softhsm-');
    const savedConf = process.env['SOFTHSM2_CONF'];
    const options: Pkcs11RootKeyOptions = { library: LIBRARY, tokenLabel: TOKEN, pin: PIN, keyLabel: KEY };
    const aad = Buffer.from('subject:42/v1');
    let graphene: Graphene;

    /**
     * Direct graphene access to the token, independent of the provider. Only while no provider is
     * open: it shares the process's one C_Initialize and finalises it at the end.
     */
    function withToken<T>(use: (session: GrapheneModule.Session) => T): T {
      const module = graphene.Module.load(LIBRARY);
      module.initialize();
      try {
        const slots = module.getSlots(true);
        let slot: GrapheneModule.Slot | undefined;
        for (let i = 0; i < slots.length; i++) {
          if (slots.items(i).getToken().label === TOKEN) slot = slots.items(i);
        }
        const session = slot!.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
        session.login(PIN);
        try {
          return use(session);
        } finally {
          session.logout();
          session.close();
        }
      } finally {
        module.finalize();
        module.close();
      }
    }

    beforeAll(async () => {
      const out = execFileSync('bash', [SCRIPT, dir.path], {
        encoding: 'utf8',
        env: { ...process.env, CUSTODIAN_TEST_SO_PIN: SO_PIN, CUSTODIAN_TEST_PIN: PIN },
      });
      const conf = join(realpathSync(dir.path), 'softhsm2.conf');
      expect(out).toContain(`export SOFTHSM2_CONF=${conf}\n`);
      process.env['SOFTHSM2_CONF'] = conf;
      const namespace = await import('graphene-pk11');
      graphene = (namespace as Graphene & { default?: Graphene }).default ?? namespace;
    });

    afterAll(() => {
      if (savedConf === undefined) delete process.env['SOFTHSM2_CONF'];
      else process.env['SOFTHSM2_CONF'] = savedConf;
      dir.remove();
    });

    it('reports a missing root key before setup', async () => {
      await expectCode(Pkcs11RootKeyProvider.open(options), 'ERR_KEY_UNAVAILABLE');
    });

    it('generates the root key once, inside the token', async () => {
      expect(await Pkcs11RootKeyProvider.ensureKey(options)).toEqual({
        keyId: `pkcs11:${TOKEN}/${KEY}`,
        created: true,
      });
      expect(await Pkcs11RootKeyProvider.ensureKey(options)).toEqual({
        keyId: `pkcs11:${TOKEN}/${KEY}`,
        created: false,
      });
    });

    it('keeps the key token-resident, sensitive and non-extractable', () => {
      withToken((session) => {
        const found = session.find({ class: graphene.ObjectClass.SECRET_KEY, label: KEY });
        expect(found.length).toBe(1);
        const key = found.items(0).toType<GrapheneModule.SecretKey>();
        expect(
          key.getAttribute({
            token: null,
            private: null,
            keyType: null,
            valueLen: null,
            sensitive: null,
            alwaysSensitive: null,
            extractable: null,
            neverExtractable: null,
            encrypt: null,
            decrypt: null,
            wrap: null,
            unwrap: null,
          }),
        ).toEqual({
          token: true,
          private: true,
          keyType: graphene.KeyType.AES,
          valueLen: 32,
          sensitive: true,
          alwaysSensitive: true,
          extractable: false,
          neverExtractable: true,
          encrypt: true,
          decrypt: true,
          wrap: true,
          unwrap: true,
        });
        // The value cannot be read...
        expect(() => {
          key.getAttribute('value');
        }).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
        // ...nor exported under another key.
        const exporter = session.generateKey(graphene.KeyGenMechanism.AES, {
          keyType: graphene.KeyType.AES,
          token: false,
          valueLen: 32,
          wrap: true,
          encrypt: true,
        });
        expect(() => session.wrapKey('AES_KEY_WRAP', exporter, key)).toThrow(/CKR_KEY_UNEXTRACTABLE/);
        session.destroy(exporter);
      });
    });

    describe('with an open provider', () => {
      let provider: RootKeyProvider;

      beforeAll(async () => {
        provider = await openRootKeyProvider({ provider: 'pkcs11', ...options });
      });

      afterAll(async () => {
        await provider.close();
      });

      it('names the key by token and label', () => {
        expect(provider.keyId).toBe(`pkcs11:${TOKEN}/${KEY}`);
      });

      it('round-trips a data key, nonce ‖ ciphertext ‖ tag, with a fresh nonce', async () => {
        const dataKey = randomBytes(32);
        const a = await provider.wrap(dataKey, aad);
        const b = await provider.wrap(dataKey, aad);
        expect(a.length).toBe(WRAP_NONCE_BYTES + 32 + WRAP_TAG_BYTES);
        expect(a.subarray(0, WRAP_NONCE_BYTES)).not.toEqual(b.subarray(0, WRAP_NONCE_BYTES));
        expect(await provider.unwrap(a, aad)).toEqual(dataKey);
        expect(await provider.unwrap(b, aad)).toEqual(dataKey);
        const empty = Buffer.alloc(0);
        expect(await provider.unwrap(await provider.wrap(dataKey, empty), empty)).toEqual(dataKey);
      });

      it('refuses every altered, truncated or misattributed blob, and stays usable', async () => {
        const dataKey = randomBytes(32);
        const wrapped = await provider.wrap(dataKey, aad);
        const code = 'ERR_CRYPTO_DECRYPTION_FAILED';
        await expectCode(provider.unwrap(wrapped, Buffer.from('subject:43/v1')), code);
        await expectCode(provider.unwrap(wrapped, Buffer.alloc(0)), code);
        await expectCode(provider.unwrap(flip(wrapped, 0), aad), code); // nonce
        await expectCode(provider.unwrap(flip(wrapped, WRAP_NONCE_BYTES - 1), aad), code); // nonce
        await expectCode(provider.unwrap(flip(wrapped, WRAP_NONCE_BYTES), aad), code); // ciphertext
        await expectCode(provider.unwrap(flip(wrapped, wrapped.length - WRAP_TAG_BYTES), aad), code); // tag
        await expectCode(provider.unwrap(flip(wrapped, wrapped.length - 1), aad), code); // tag
        await expectCode(provider.unwrap(wrapped.subarray(0, wrapped.length - 1), aad), code);
        await expectCode(provider.unwrap(wrapped.subarray(1), aad), code);
        await expectCode(
          provider.unwrap(wrapped.subarray(0, WRAP_NONCE_BYTES + WRAP_TAG_BYTES - 1), aad),
          code,
        );
        await expectCode(provider.unwrap(wrapped.subarray(0, WRAP_NONCE_BYTES + WRAP_TAG_BYTES), aad), code);
        await expectCode(provider.unwrap(Buffer.alloc(0), aad), code);
        await expectCode(provider.unwrap(Buffer.concat([wrapped, Buffer.from([0])]), aad), code);
        // No failure left an operation active on the session.
        expect(await provider.unwrap(wrapped, aad)).toEqual(dataKey);
        expect(await provider.unwrap(await provider.wrap(dataKey, aad), aad)).toEqual(dataKey);
      });

      it('serialises concurrent calls on its one session', async () => {
        const keys = Array.from({ length: 64 }, () => randomBytes(32));
        const wrapped = await Promise.all(keys.map((key, i) => provider.wrap(key, Buffer.from(`s${i}`))));
        const results = await Promise.allSettled(
          wrapped.flatMap((blob, i) => [
            provider.unwrap(blob, Buffer.from(`s${i}`)),
            provider.unwrap(blob, Buffer.from(`wrong${i}`)),
          ]),
        );
        results.forEach((result, j) => {
          const i = Math.floor(j / 2);
          if (j % 2 === 0) {
            expect(result.status).toBe('fulfilled');
            expect((result as PromiseFulfilledResult<Buffer>).value).toEqual(keys[i]);
          } else {
            expect(result.status).toBe('rejected');
            expect(((result as PromiseRejectedResult).reason as CustodianError).code).toBe(
              'ERR_CRYPTO_DECRYPTION_FAILED',
            );
          }
        });
      });

      it('lets a second instance (its own session) unwrap what the first wrapped, and outlive it', async () => {
        const dataKey = randomBytes(32);
        const wrapped = await provider.wrap(dataKey, aad);
        const second = await Pkcs11RootKeyProvider.open(options);
        const third = await Pkcs11RootKeyProvider.open(options);
        try {
          expect(second.keyId).toBe(provider.keyId);
          expect(await second.unwrap(wrapped, aad)).toEqual(dataKey);
          // Closing one instance neither logs the others out nor finalises the library.
          await third.close();
          expect(await second.unwrap(wrapped, aad)).toEqual(dataKey);
          expect(await provider.unwrap(await second.wrap(dataKey, aad), aad)).toEqual(dataKey);
        } finally {
          await second.close();
          await third.close();
        }
        expect(await provider.unwrap(wrapped, aad)).toEqual(dataKey);
      });

      it('refuses a wrong PIN even while the token is logged in for this process', async () => {
        const error = await expectCode(
          Pkcs11RootKeyProvider.open({ ...options, pin: '00000000' }),
          'ERR_KEY_UNAVAILABLE',
        );
        expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain('00000000');
        expect(await provider.unwrap(await provider.wrap(Buffer.alloc(32, 1), aad), aad)).toEqual(
          Buffer.alloc(32, 1),
        );
      });

      it('refuses calls once closed', async () => {
        const closing = await Pkcs11RootKeyProvider.open(options);
        const wrapped = await closing.wrap(randomBytes(32), aad);
        await closing.close();
        await closing.close();
        await expectCode(closing.wrap(randomBytes(32), aad), 'ERR_KEY_UNAVAILABLE');
        await expectCode(closing.unwrap(wrapped, aad), 'ERR_KEY_UNAVAILABLE');
        expect((await provider.unwrap(wrapped, aad)).length).toBe(32);
      });

      it('wraps and unwraps 1000 keys (throughput sanity)', async () => {
        const count = 1000;
        const keys = Array.from({ length: count }, () => randomBytes(32));
        const started = performance.now();
        const wrapped: Buffer[] = [];
        for (const [i, key] of keys.entries())
          wrapped.push(await provider.wrap(key, Buffer.from(`subject:${i}`)));
        const wrappedAt = performance.now();
        const unwrapped: Buffer[] = [];
        for (const [i, blob] of wrapped.entries()) {
          unwrapped.push(await provider.unwrap(blob, Buffer.from(`subject:${i}`)));
        }
        const done = performance.now();
        expect(unwrapped.every((key, i) => key.equals(keys[i]!))).toBe(true);
        expect(new Set(wrapped.map((b) => b.toString('hex'))).size).toBe(count);
        const rate = (ms: number): number => Math.round((count / ms) * 1000);
        console.info(
          `pkcs11 provider (SoftHSM2): ${rate(wrappedAt - started)} wraps/s, ${rate(done - wrappedAt)} unwraps/s (${count} keys)`,
        );
      });
    });

    it('reports a wrong PIN, a missing token, key or library as ERR_KEY_UNAVAILABLE, PIN-free', async () => {
      const wrongPin = await expectCode(
        Pkcs11RootKeyProvider.open({ ...options, pin: '11112222' }),
        'ERR_KEY_UNAVAILABLE',
      );
      expect(wrongPin.details).toMatchObject({ ckr: 'CKR_PIN_INCORRECT' });
      expect(JSON.stringify({ message: wrongPin.message, details: wrongPin.details })).not.toContain(
        '11112222',
      );
      await expectCode(
        Pkcs11RootKeyProvider.open({ ...options, tokenLabel: 'no-such-token' }),
        'ERR_KEY_UNAVAILABLE',
      );
      await expectCode(
        Pkcs11RootKeyProvider.open({ ...options, keyLabel: 'no-such-key' }),
        'ERR_KEY_UNAVAILABLE',
      );
      await expectCode(
        Pkcs11RootKeyProvider.open({ ...options, library: join(dir.path, 'no-such-library.so') }),
        'ERR_KEY_UNAVAILABLE',
      );
      await expectCode(
        Pkcs11RootKeyProvider.ensureKey({ ...options, tokenLabel: 'no-such-token' }),
        'ERR_KEY_UNAVAILABLE',
      );
      // The failures released everything they took: a correct open still works.
      const provider = await Pkcs11RootKeyProvider.open(options);
      const dataKey = randomBytes(32);
      expect(await provider.unwrap(await provider.wrap(dataKey, aad), aad)).toEqual(dataKey);
      await provider.close();
    });

    it('refuses a key that is unfit to be a root key, or ambiguous', async () => {
      withToken((session) => {
        const weak = {
          keyType: graphene.KeyType.AES,
          token: true,
          valueLen: 32,
          sensitive: false,
          extractable: true,
          encrypt: true,
          decrypt: true,
        };
        session.generateKey(graphene.KeyGenMechanism.AES, { ...weak, label: 'weak' });
        session.generateKey(graphene.KeyGenMechanism.AES, {
          ...weak,
          label: 'short',
          sensitive: true,
          valueLen: 16,
        });
        session.generateKey(graphene.KeyGenMechanism.AES, { ...weak, label: 'twice', sensitive: true });
        session.generateKey(graphene.KeyGenMechanism.AES, { ...weak, label: 'twice', sensitive: true });
      });
      await expectCode(Pkcs11RootKeyProvider.open({ ...options, keyLabel: 'weak' }), 'ERR_KEY_INVALID');
      await expectCode(Pkcs11RootKeyProvider.open({ ...options, keyLabel: 'short' }), 'ERR_KEY_INVALID');
      await expectCode(Pkcs11RootKeyProvider.open({ ...options, keyLabel: 'twice' }), 'ERR_KEY_INVALID');
      await expectCode(Pkcs11RootKeyProvider.ensureKey({ ...options, keyLabel: 'weak' }), 'ERR_KEY_INVALID');
    });
  });
}
