import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openExport, parseX25519PublicKey, sealExport } from '../../src/crypto/export-file.js';

describe('encrypted export files', () => {
  const payload = Buffer.from(JSON.stringify({ subjects: [{ name: '张三', phone: '13800138000' }] }));

  it('round-trips with a passphrase and fails uniformly otherwise', () => {
    const file = sealExport(payload, { kind: 'passphrase', passphrase: 'correct horse battery staple' });
    expect(file.includes(Buffer.from('13800138000'))).toBe(false);
    const doc = JSON.parse(file.toString()) as { format: string; recipient: { kind: string; kdf: string } };
    expect(doc).toMatchObject({
      format: 'custodian-export/1',
      recipient: { kind: 'passphrase', kdf: 'scrypt' },
    });
    expect(openExport(file, { passphrase: 'correct horse battery staple' }).equals(payload)).toBe(true);
    expect(() => openExport(file, { passphrase: 'wrong horse battery staple' })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' }),
    );
    const tampered = JSON.parse(file.toString()) as Record<string, unknown>;
    tampered['nonce'] = Buffer.alloc(12).toString('base64');
    expect(() =>
      openExport(Buffer.from(JSON.stringify(tampered)), { passphrase: 'correct horse battery staple' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' }));
    expect(() => openExport(Buffer.from('not json'), { passphrase: 'x' })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' }),
    );
  });

  it('round-trips to an X25519 public key given as PEM or raw base64', () => {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64');
    for (const text of [pem, raw]) {
      const file = sealExport(payload, { kind: 'public-key', publicKey: parseX25519PublicKey(text) });
      expect(openExport(file, { privateKey }).equals(payload)).toBe(true);
    }
    const other = generateKeyPairSync('x25519').privateKey;
    const file = sealExport(payload, { kind: 'public-key', publicKey });
    expect(() => openExport(file, { privateKey: other })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' }),
    );
    expect(() => openExport(file, { passphrase: 'x' })).toThrow(
      expect.objectContaining({ code: 'ERR_CRYPTO_DECRYPTION_FAILED' }),
    );
    const pkcs8 = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(openExport(file, { privateKey: createPrivateKey(pkcs8) }).equals(payload)).toBe(true);
  });

  it('refuses a recipient key that is not X25519', () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => parseX25519PublicKey(ed)).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION_FAILED' }),
    );
    expect(() => parseX25519PublicKey('not a key at all, not even close to one')).toThrow(
      expect.objectContaining({ code: 'ERR_VALIDATION_FAILED' }),
    );
  });
});
