import { describe, expect, it } from 'vitest';
import { Keyring } from '../../src/keys/keyring.js';
import type { RootKeyProvider } from '../../src/keys/provider.js';
import type { SubjectKeyRecord } from '../../src/store/store.js';

/**
 * A root-key provider as asynchronous as a PKCS#11 token: while `hold()` is in force, every wrap
 * and unwrap waits until the returned release is called. "Wrapping" is a plain copy.
 */
class SlowProvider implements RootKeyProvider {
  readonly keyId = 'test:slow';
  unwraps = 0;
  #gate: Promise<void> | undefined;

  hold(): () => void {
    let release!: () => void;
    this.#gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    return () => {
      this.#gate = undefined;
      release();
    };
  }

  async wrap(dataKey: Buffer): Promise<Buffer> {
    await this.#gate;
    return Buffer.from(dataKey);
  }

  async unwrap(wrapped: Buffer): Promise<Buffer> {
    this.unwraps += 1;
    await this.#gate;
    return Buffer.from(wrapped);
  }

  async close(): Promise<void> {}
}

function setup(): { provider: SlowProvider; keyring: Keyring; record: SubjectKeyRecord } {
  const provider = new SlowProvider();
  const keyring = new Keyring({
    root: provider,
    suite: 'aes-256-gcm',
    cacheSize: 8,
    random: (size) => Buffer.alloc(size, 7),
  });
  const record: SubjectKeyRecord = {
    subjectId: 'subject-1',
    version: 1,
    suite: 'aes-256-gcm',
    rootKeyId: provider.keyId,
    wrapped: Buffer.alloc(32, 7),
    createdAt: '2025-01-01T00:00:00.000Z',
  };
  return { provider, keyring, record };
}

describe('Keyring cache', () => {
  it('caches an unwrapped key: the provider is asked once', async () => {
    const { provider, keyring, record } = setup();
    await keyring.unwrap(record);
    await keyring.unwrap(record);
    expect(provider.unwraps).toBe(1);
  });

  it('drops a subject’s keys on forget', async () => {
    const { provider, keyring, record } = setup();
    await keyring.unwrap(record);
    keyring.forget(record.subjectId);
    await keyring.unwrap(record);
    expect(provider.unwraps).toBe(2);
  });

  it('does not cache a key whose unwrap finishes after forget (erasure committed meanwhile)', async () => {
    const { provider, keyring, record } = setup();
    const release = provider.hold();
    const pending = keyring.unwrap(record);
    keyring.forget(record.subjectId); // the erasure commits while the provider is still working
    release();
    // The read that started before the erasure still gets its key…
    const key = await pending;
    expect(key.subjectId).toBe(record.subjectId);
    // …but the key did not stay in memory: the next unwrap goes to the provider again.
    await keyring.unwrap(record);
    expect(provider.unwraps).toBe(2);
    // A later unwrap (no forget in between) is cached as usual.
    await keyring.unwrap(record);
    expect(provider.unwraps).toBe(2);
  });

  it('does not cache a key created while the subject is forgotten', async () => {
    const { provider, keyring, record } = setup();
    const release = provider.hold();
    const pending = keyring.create(record.subjectId, 1, record.createdAt);
    keyring.forget(record.subjectId);
    release();
    await pending;
    await keyring.unwrap(record);
    expect(provider.unwraps).toBe(1);
  });

  it('forgets only the subject it is asked to, even with unwraps in flight', async () => {
    const { provider, keyring, record } = setup();
    const other: SubjectKeyRecord = { ...record, subjectId: 'subject-2' };
    const release = provider.hold();
    const pending = [keyring.unwrap(record), keyring.unwrap(other)];
    keyring.forget(record.subjectId);
    release();
    await Promise.all(pending);
    await keyring.unwrap(other);
    expect(provider.unwraps).toBe(2); // subject-2 cached
    await keyring.unwrap(record);
    expect(provider.unwraps).toBe(3); // subject-1 not
  });

  it('keeps caching for a subject after a failed unwrap', async () => {
    const { provider, keyring, record } = setup();
    const short = { ...record, wrapped: Buffer.alloc(5) };
    await expect(keyring.unwrap(short)).rejects.toMatchObject({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' });
    await keyring.unwrap(record);
    await keyring.unwrap(record);
    expect(provider.unwraps).toBe(2);
  });
});
