/**
 * Signed checkpoints: the signature is plain Ed25519 over the note text (checked here with
 * node:crypto alone), the key id follows c2sp.org/signed-note, the text format round-trips, and
 * the signing key file is created and guarded like the other key files.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { noteSigner } from '../../src/crypto/signed-note.js';
import {
  checkpointBody,
  formatSignedNote,
  parseCheckpointBody,
  parseSignedNote,
} from '../../src/domain/audit/checkpoint.js';
import { appendAudit } from '../../src/services/audit.js';
import { AuditLog, checkpointNote } from '../../src/services/audit-log.js';
import { defaultOrigin, readSigningKey } from '../../src/services/audit-log-key.js';
import { openRuntime, type Runtime } from '../../src/services/runtime.js';
import { initProject } from '../../src/services/setup.js';
import { openStore } from '../../src/store/open.js';
import { tempDir } from '../support/tmp.js';

const entry = (i: number) => ({
  v: 1 as const,
  at: new Date(1_767_225_600_000 + i * 1000).toISOString(),
  action: 'read' as const,
  actor: { id: 'tok-checkpoint', role: 'auditor' },
  subject: null,
  detail: { i },
});

/** Splits a signed note by hand (c2sp.org/signed-note), without the implementation's parser. */
function splitNote(note: string): { text: string; name: string; keyId: Buffer; signature: Buffer } {
  const at = note.lastIndexOf('\n\n');
  const line = note.slice(at + 2).trimEnd();
  const [dash, name, b64] = line.split(' ');
  expect(dash).toBe('\u2014');
  const bytes = Buffer.from(b64!, 'base64');
  return {
    text: note.slice(0, at + 1),
    name: name!,
    keyId: bytes.subarray(0, 4),
    signature: bytes.subarray(4),
  };
}

describe('signed checkpoints', () => {
  const dir = tempDir('custodian-checkpoint-');
  let runtime: Runtime;
  let keyPath: string;

  beforeAll(async () => {
    const { configPath } = await initProject({ dir: dir.path });
    const { config } = loadConfig({ explicit: configPath, env: {} });
    keyPath = config.audit.signingKey;
    runtime = await openRuntime(config, { checkpoints: false });
    await runtime.store.transaction((tx) =>
      appendAudit(
        tx,
        Array.from({ length: 13 }, (_, i) => entry(i)),
      ),
    );
  });
  afterAll(async () => {
    await runtime.close();
    dir.remove();
  });

  it('init creates an Ed25519 PKCS#8 PEM signing key of mode 0600', () => {
    expect(keyPath).toBe(join(dir.path, 'keys', 'audit-signing.key'));
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    const pem = readFileSync(keyPath, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ed25519');
  });

  it('signs checkpoints that a standard Ed25519 verifier accepts, with the signed-note key id', async () => {
    const { checkpoint, created } = await runtime.auditLog.checkpoint();
    expect(created).toBe(true);
    expect(checkpoint.treeSize).toBe(13);
    const publicKey = createPublicKey(createPrivateKey(readFileSync(keyPath)));
    const parts = splitNote(checkpoint.note);
    expect(verify(null, Buffer.from(parts.text, 'utf8'), publicKey, parts.signature)).toBe(true);
    // key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4]
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const id = createHash('sha256')
      .update(parts.name)
      .update(Buffer.of(0x0a, 0x01))
      .update(raw)
      .digest()
      .subarray(0, 4);
    expect(parts.keyId.equals(id)).toBe(true);
    expect(parts.name).toBe(checkpoint.origin);
    expect(checkpoint.origin).toBe(defaultOrigin(publicKey));
    expect(checkpoint.origin).toMatch(/^custodian\.local\/[0-9a-f]{16}$/);
    // The text: origin, size, base64 root, time extension line.
    const lines = parts.text.split('\n');
    expect(lines).toEqual([
      checkpoint.origin,
      '13',
      checkpoint.rootHash.toString('base64'),
      `time ${checkpoint.time}`,
      '',
    ]);
    // Nothing grew: the latest one is returned, not a new one.
    expect((await runtime.auditLog.checkpoint()).created).toBe(false);
  });

  it('round-trips the text format, and the stored checkpoint rebuilds the same note', async () => {
    const latest = (await runtime.auditLog.latestCheckpoint())!;
    const note = parseSignedNote(latest.note);
    const body = parseCheckpointBody(note.text);
    expect(body).toEqual({
      origin: latest.origin,
      treeSize: 13,
      rootHash: latest.rootHash,
      time: latest.time,
    });
    expect(checkpointBody(body)).toBe(note.text);
    expect(formatSignedNote(note.text, note.signatures)).toBe(latest.note);
    const stored = (await runtime.store.audit.latestCheckpoint())!;
    expect(checkpointNote(stored)).toBe(latest.note);
    // Unknown extension lines are kept out of the parse but allowed.
    expect(parseCheckpointBody(`${note.text}x-extension 1\n`).treeSize).toBe(13);
  });

  it('rejects malformed checkpoint text', () => {
    const good = parseSignedNote(
      formatSignedNote('o\n1\n' + Buffer.alloc(32).toString('base64') + '\n', [
        { name: 'o', keyId: 1, signature: Buffer.alloc(64) },
      ]),
    );
    expect(good.signatures).toHaveLength(1);
    for (const text of [
      'o\n01\nAAAA\n',
      'o\n1\nnot base64!\n',
      'o with space\n1\n' + Buffer.alloc(32).toString('base64') + '\n',
      'o\n1\n' + Buffer.alloc(31).toString('base64') + '\n',
      'o\n1\n' + Buffer.alloc(32).toString('base64') + '\n\n',
      'o\n-1\n' + Buffer.alloc(32).toString('base64') + '\n',
      'o\n1\n' + Buffer.alloc(32).toString('base64'),
    ])
      expect(() => parseCheckpointBody(text), JSON.stringify(text)).toThrow(
        expect.objectContaining({ code: 'ERR_AUDIT_CHECKPOINT_INVALID' }),
      );
    for (const note of [
      'no signatures\n',
      'text\n\nsig line\n',
      'text\n\n\u2014 name !!!\n',
      'text\u0007\n\n\u2014 a AAAAAAA=\n',
    ])
      expect(() => parseSignedNote(note)).toThrow(
        expect.objectContaining({ code: 'ERR_AUDIT_CHECKPOINT_INVALID' }),
      );
  });

  it('checks an off-site checkpoint: a good one passes, any change fails', async () => {
    const off = (await runtime.auditLog.latestCheckpoint())!.note;
    await runtime.store.transaction((tx) => appendAudit(tx, [entry(100), entry(101)]));
    const good = await runtime.auditLog.verify({ offsite: off });
    expect(good).toMatchObject({ ok: true, offsite: { treeSize: 13, ok: true } });

    const { text, signatures } = parseSignedNote(off);
    const lines = text.split('\n');
    const root = Buffer.from(lines[2]!, 'base64');
    root[3]! ^= 1;
    const forgeries = [
      formatSignedNote([lines[0], '12', ...lines.slice(2)].join('\n'), signatures),
      formatSignedNote(
        [lines[0], lines[1], root.toString('base64'), ...lines.slice(3)].join('\n'),
        signatures,
      ),
      formatSignedNote(text.replace(/time .*/, 'time 2031-01-01T00:00:00.000Z'), signatures),
      formatSignedNote(text, [{ ...signatures[0]!, signature: Buffer.alloc(64, 1) }]),
    ];
    for (const forged of forgeries) {
      const report = await runtime.auditLog.verify({ offsite: forged });
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.kind)).toEqual(['offsite-signature']);
    }
    // Correctly signed by this key, but not a state of this log (a root it never had).
    const key = runtime.auditLog.key!;
    const signer = noteSigner(key.name, createPrivateKey(readFileSync(keyPath)));
    const fork = checkpointBody({ origin: key.name, treeSize: 13, rootHash: root, time: lines[3]!.slice(5) });
    const report = await runtime.auditLog.verify({ offsite: formatSignedNote(fork, [signer.sign(fork)]) });
    expect(report.problems.map((p) => p.kind)).toEqual(['offsite-mismatch']);
    // And one from a longer log than this one.
    const ahead = checkpointBody({
      origin: key.name,
      treeSize: 1000,
      rootHash: root,
      time: lines[3]!.slice(5),
    });
    const beyond = await runtime.auditLog.verify({ offsite: formatSignedNote(ahead, [signer.sign(ahead)]) });
    expect(beyond.problems.map((p) => p.kind)).toEqual(['offsite-beyond-log']);
    await expect(runtime.auditLog.verify({ offsite: 'not a checkpoint\n' })).rejects.toMatchObject({
      code: 'ERR_AUDIT_CHECKPOINT_INVALID',
    });
  });

  it('refuses a signing key that others can read, that is not Ed25519, or that is missing', () => {
    const other = join(dir.path, 'keys', 'other.key');
    writeFileSync(other, readFileSync(keyPath), { mode: 0o644 });
    chmodSync(other, 0o644);
    expect(() => readSigningKey(other)).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_FILE_PERMISSIONS' }),
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    writeFileSync(join(dir.path, 'keys', 'rsa.key'), rsa, { mode: 0o600 });
    expect(() => readSigningKey(join(dir.path, 'keys', 'rsa.key'))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    );
    writeFileSync(join(dir.path, 'keys', 'junk.key'), 'junk', { mode: 0o600 });
    expect(() => readSigningKey(join(dir.path, 'keys', 'junk.key'))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    );
    expect(() => readSigningKey(join(dir.path, 'keys', 'absent.key'))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_UNAVAILABLE' }),
    );
  });

  it('fails closed at start when the signing key is unusable', async () => {
    const { config } = loadConfig({ explicit: join(dir.path, 'custodian.yaml'), env: {} });
    chmodSync(keyPath, 0o640);
    try {
      await expect(openRuntime(config, { migrate: false })).rejects.toMatchObject({
        code: 'ERR_KEY_FILE_PERMISSIONS',
      });
    } finally {
      chmodSync(keyPath, 0o600);
    }
  });
});

describe('the checkpointer', () => {
  const dir = tempDir('custodian-checkpointer-');
  const signer = noteSigner('tests.custodian.local/checkpointer', generateKeyPairSync('ed25519').privateKey);
  afterAll(() => dir.remove());

  it('signs when N entries or T seconds have passed, and refuses to sign over a rewritten past', async () => {
    const store = openStore({ engine: 'sqlite', path: join(dir.path, 'log.db') });
    await store.migrate();
    let clock = Date.parse('2026-05-01T00:00:00Z');
    const log = new AuditLog({
      store,
      signer,
      policy: { everyEntries: 10, everySeconds: 60 },
      now: () => new Date(clock),
    });
    const add = (n: number, from: number) =>
      store.transaction((tx) =>
        appendAudit(
          tx,
          Array.from({ length: n }, (_, i) => entry(from + i)),
        ),
      );
    expect(await log.checkpointIfDue()).toBe(false); // empty log
    await add(3, 0);
    expect(await log.checkpointIfDue()).toBe(true); // first entries: sign at once
    await add(4, 3);
    clock += 10_000;
    expect(await log.checkpointIfDue()).toBe(false); // 4 entries, 10 s
    await add(6, 7);
    expect(await log.checkpointIfDue()).toBe(true); // 10 entries
    await add(1, 13);
    clock += 59_000;
    expect(await log.checkpointIfDue()).toBe(false);
    clock += 1_000;
    expect(await log.checkpointIfDue()).toBe(true); // 60 s
    expect((await store.audit.checkpoints(-1, 10)).map((c) => c.treeSize)).toEqual([3, 13, 14]);

    // Rewrite the stored subtree over leaves 0-7, which the proof from 14 to 16 rests on: the
    // next checkpoint is refused. (The guard reads the O(log n) nodes of one consistency proof;
    // checking every node is `custodian log verify`.)
    await add(2, 14);
    const { nodeId } = await import('../../src/domain/audit/tree.js');
    const raw = new SqliteDatabase(join(dir.path, 'log.db'));
    raw.prepare('update audit_nodes set hash = ? where id = ?').run(Buffer.alloc(32, 9), nodeId(3, 0));
    raw.close();
    await expect(log.checkpoint()).rejects.toMatchObject({ code: 'ERR_CHECK_FAILED' });
    expect((await store.audit.latestCheckpoint())?.treeSize).toBe(14);
    await store.close();
  });

  it('runs in the background and stops cleanly', async () => {
    const store = openStore({ engine: 'sqlite', path: join(dir.path, 'bg.db') });
    await store.migrate();
    const log = new AuditLog({ store, signer, policy: { everyEntries: 2, everySeconds: 1 } });
    log.start();
    await store.transaction((tx) => appendAudit(tx, [entry(0), entry(1)]));
    for (let i = 0; i < 40 && (await store.audit.latestCheckpoint()) === undefined; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await store.audit.latestCheckpoint())?.treeSize).toBe(2);
    await store.transaction((tx) => appendAudit(tx, [entry(2), entry(3), entry(4)]));
    await log.stop(); // signs the due checkpoint on the way out
    expect((await store.audit.latestCheckpoint())?.treeSize).toBe(5);
    expect(log.lastError).toBeUndefined();
    await store.close();
  });
});
