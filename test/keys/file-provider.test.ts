import { createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustodianError, type ErrorCode } from '../../src/domain/errors.js';
import { createKeyFile } from '../../src/keys/file.js';
import {
  FileRootKeyProvider,
  WRAP_NONCE_BYTES,
  WRAP_TAG_BYTES,
  openRootKeyProvider,
  type RootKeyProvider,
} from '../../src/keys/index.js';
import { tempDir } from '../support/tmp.js';

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CustodianError);
  expect((error as CustodianError).code).toBe(code);
}

function expectCodeSync(step: () => unknown, code: ErrorCode): void {
  let error: unknown;
  try {
    step();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CustodianError);
  expect((error as CustodianError).code).toBe(code);
}

function flip(blob: Buffer, index: number): Buffer {
  const copy = Buffer.from(blob);
  copy[index]! ^= 0x01;
  return copy;
}

describe('FileRootKeyProvider', () => {
  const dir = tempDir('custodian-keys-');
  const keyPath = join(dir.path, 'keys', 'root.key');
  const otherPath = join(dir.path, 'keys', 'other.key');
  let provider: RootKeyProvider;
  const aad = Buffer.from('subject:42/v1');

  beforeAll(async () => {
    createKeyFile(keyPath);
    createKeyFile(otherPath);
    provider = await openRootKeyProvider({ provider: 'file', path: keyPath });
  });

  afterAll(async () => {
    await provider.close();
    dir.remove();
  });

  it('round-trips a data key, nonce ‖ ciphertext ‖ tag', async () => {
    const dataKey = randomBytes(32);
    const wrapped = await provider.wrap(dataKey, aad);
    expect(wrapped.length).toBe(WRAP_NONCE_BYTES + dataKey.length + WRAP_TAG_BYTES);
    expect(await provider.unwrap(wrapped, aad)).toEqual(dataKey);

    // The layout, checked with an independent AES-256-GCM decryption under the raw key.
    const rootKey = readFileSync(keyPath);
    const decipher = createDecipheriv('aes-256-gcm', rootKey, wrapped.subarray(0, WRAP_NONCE_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(wrapped.subarray(wrapped.length - WRAP_TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(wrapped.subarray(WRAP_NONCE_BYTES, wrapped.length - WRAP_TAG_BYTES)),
      decipher.final(),
    ]);
    expect(plain).toEqual(dataKey);
  });

  it('uses a fresh nonce for every wrap', async () => {
    const dataKey = randomBytes(32);
    const a = await provider.wrap(dataKey, aad);
    const b = await provider.wrap(dataKey, aad);
    expect(a.subarray(0, WRAP_NONCE_BYTES)).not.toEqual(b.subarray(0, WRAP_NONCE_BYTES));
    expect(a).not.toEqual(b);
  });

  it('round-trips empty AAD and an empty data key', async () => {
    const empty = Buffer.alloc(0);
    expect(await provider.unwrap(await provider.wrap(empty, empty), empty)).toEqual(empty);
  });

  it('refuses every altered, truncated or misattributed blob with ERR_CRYPTO_DECRYPTION_FAILED', async () => {
    const wrapped = await provider.wrap(randomBytes(32), aad);
    const code = 'ERR_CRYPTO_DECRYPTION_FAILED';
    await expectCode(provider.unwrap(wrapped, Buffer.from('subject:43/v1')), code);
    await expectCode(provider.unwrap(wrapped, Buffer.alloc(0)), code);
    await expectCode(provider.unwrap(flip(wrapped, 0), aad), code); // nonce
    await expectCode(provider.unwrap(flip(wrapped, WRAP_NONCE_BYTES - 1), aad), code); // nonce
    await expectCode(provider.unwrap(flip(wrapped, WRAP_NONCE_BYTES), aad), code); // ciphertext
    await expectCode(provider.unwrap(flip(wrapped, wrapped.length - WRAP_TAG_BYTES - 1), aad), code); // ciphertext
    await expectCode(provider.unwrap(flip(wrapped, wrapped.length - WRAP_TAG_BYTES), aad), code); // tag
    await expectCode(provider.unwrap(flip(wrapped, wrapped.length - 1), aad), code); // tag
    await expectCode(provider.unwrap(wrapped.subarray(0, wrapped.length - 1), aad), code);
    await expectCode(provider.unwrap(wrapped.subarray(1), aad), code);
    await expectCode(provider.unwrap(wrapped.subarray(0, WRAP_NONCE_BYTES + WRAP_TAG_BYTES - 1), aad), code);
    await expectCode(provider.unwrap(Buffer.alloc(0), aad), code);
    await expectCode(provider.unwrap(Buffer.concat([wrapped, Buffer.from([0])]), aad), code);
    // The intact blob still unwraps.
    expect((await provider.unwrap(wrapped, aad)).length).toBe(32);
  });

  it('refuses a blob wrapped under another root key', async () => {
    const other = FileRootKeyProvider.open(otherPath);
    try {
      const wrapped = await other.wrap(randomBytes(32), aad);
      await expectCode(provider.unwrap(wrapped, aad), 'ERR_CRYPTO_DECRYPTION_FAILED');
    } finally {
      await other.close();
    }
  });

  it('derives a stable keyId from an HMAC of the key, never the key or its plain hash', async () => {
    const again = FileRootKeyProvider.open(keyPath);
    const other = FileRootKeyProvider.open(otherPath);
    try {
      expect(provider.keyId).toMatch(/^file:[0-9a-f]{8}$/);
      expect(again.keyId).toBe(provider.keyId);
      expect(other.keyId).not.toBe(provider.keyId);

      const rootKey = readFileSync(keyPath);
      const expected = createHmac('sha256', rootKey)
        .update('custodian/root-key-id')
        .digest('hex')
        .slice(0, 8);
      expect(provider.keyId).toBe(`file:${expected}`);
      const id = provider.keyId.slice('file:'.length);
      expect(rootKey.toString('hex')).not.toContain(id);
      expect(createHash('sha256').update(rootKey).digest('hex')).not.toContain(id);

      // An instance from raw bytes agrees, and a wrap by one instance unwraps with the other.
      const fromKey = FileRootKeyProvider.fromKey(rootKey);
      expect(fromKey.keyId).toBe(provider.keyId);
      const dataKey = randomBytes(32);
      expect(await again.unwrap(await fromKey.wrap(dataKey, aad), aad)).toEqual(dataKey);
      await fromKey.close();
    } finally {
      await again.close();
      await other.close();
    }
  });

  it('refuses a key file that group or others can read', async () => {
    const path = join(dir.path, 'keys', 'open.key');
    writeFileSync(path, randomBytes(32), { mode: 0o600 });
    chmodSync(path, 0o644);
    expectCodeSync(() => FileRootKeyProvider.open(path), 'ERR_KEY_FILE_PERMISSIONS');
    await expectCode(openRootKeyProvider({ provider: 'file', path }), 'ERR_KEY_FILE_PERMISSIONS');
    chmodSync(path, 0o640);
    expectCodeSync(() => FileRootKeyProvider.open(path), 'ERR_KEY_FILE_PERMISSIONS');
  });

  it('refuses a key file of the wrong size, and a missing one', async () => {
    for (const size of [0, 16, 31, 33, 64]) {
      const path = join(dir.path, 'keys', `size-${size}.key`);
      writeFileSync(path, randomBytes(size), { mode: 0o600 });
      chmodSync(path, 0o600);
      expectCodeSync(() => FileRootKeyProvider.open(path), 'ERR_KEY_INVALID');
    }
    await expectCode(
      openRootKeyProvider({ provider: 'file', path: join(dir.path, 'nope.key') }),
      'ERR_KEY_UNAVAILABLE',
    );
    expectCodeSync(() => FileRootKeyProvider.fromKey(randomBytes(16)), 'ERR_KEY_INVALID');
  });

  it('refuses to work once closed', async () => {
    const closing = FileRootKeyProvider.open(keyPath);
    const wrapped = await closing.wrap(randomBytes(32), aad);
    await closing.close();
    await closing.close();
    await expectCode(closing.wrap(randomBytes(32), aad), 'ERR_KEY_UNAVAILABLE');
    await expectCode(closing.unwrap(wrapped, aad), 'ERR_KEY_UNAVAILABLE');
  });

  it('never loads the PKCS#11 binding (graphene-pk11, pkcs11js)', () => {
    // The index module was imported and a file provider opened above; the native binding is
    // imported lazily by the PKCS#11 provider only, so it is absent from the module cache.
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((id) =>
      /[\\/](graphene-pk11|pkcs11js)[\\/]/.test(id),
    );
    expect(loaded).toEqual([]);
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
    for (const [i, blob] of wrapped.entries())
      unwrapped.push(await provider.unwrap(blob, Buffer.from(`subject:${i}`)));
    const done = performance.now();
    expect(unwrapped.every((key, i) => key.equals(keys[i]!))).toBe(true);
    const rate = (ms: number): number => Math.round((count / ms) * 1000);
    console.info(
      `file provider: ${rate(wrappedAt - started)} wraps/s, ${rate(done - wrappedAt)} unwraps/s (${count} keys)`,
    );
    expect(new Set(wrapped.map((b) => b.toString('hex'))).size).toBe(count);
  });
});
