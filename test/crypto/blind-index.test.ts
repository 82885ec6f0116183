import { createHmac, createSecretKey, hkdfSync, randomBytes } from 'node:crypto';

import fc from 'fast-check';
import { hkdf as smHkdf, sm3 } from 'sm-crypto-v2';
import { describe, expect, it } from 'vitest';

import {
  BlindIndexer,
  hkdf,
  normalizeEmail,
  normalizeIdentifier,
  normalizePhone,
  toHalfWidth,
  type IndexRootKey,
} from '../../src/crypto/blind-index.js';
import { hex } from './helpers.js';
import { RFC5869_CASE_1 } from './vectors/rfc5869.js';

const ROOT = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

function indexer(suite: IndexRootKey['suite'], secret: Uint8Array = ROOT, version = 1): BlindIndexer {
  return new BlindIndexer({ current: { version, suite, secret } });
}

/** The documented derivation, rebuilt outside the module: HKDF info = label ‖ 0 ‖ u32 version ‖ u8 len ‖ name. */
function info(version: number, kind: string): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt32BE(version, 1);
  fixed[5] = kind.length;
  return Buffer.concat([Buffer.from('custodian.blind-index.v1'), fixed, Buffer.from(kind)]);
}
const SALT = Buffer.from('custodian.blind-index.salt');

describe('HKDF', () => {
  it('matches RFC 5869 test case 1 (SHA-256)', () => {
    const v = RFC5869_CASE_1;
    expect(hkdf('sha256', hex(v.ikm), hex(v.salt), hex(v.info), v.length).toString('hex')).toBe(v.okm);
  });

  it('HKDF-SM3 matches sm-crypto-v2', () => {
    const ikm = randomBytes(32);
    const salt = randomBytes(16);
    const infoBytes = Buffer.from('custodian');
    const ours = hkdf('sm3', createSecretKey(ikm), salt, infoBytes, 32);
    expect(ours.toString('hex')).toBe(Buffer.from(smHkdf(ikm, salt, infoBytes, 32)).toString('hex'));
  });
});

describe('normalisation', () => {
  it.each([
    '+86 138-0013-8000',
    '0086 13800138000',
    '１３８００１３８０００',
    '8613800138000',
    '(+86) 138 0013 8000',
    '＋８６\u3000１３８－００１３－８０００',
    '138\u20130013\u20148000',
    ' 13800138000 ',
  ])('phone %j is 13800138000', (value) => {
    expect(normalizePhone(value)).toBe('13800138000');
  });

  it('keeps the country code of numbers that are not mainland mobiles', () => {
    expect(normalizePhone('+86 10 8888 8888')).toBe('+861088888888');
    expect(normalizePhone('8612345678901')).toBe('8612345678901');
    expect(normalizePhone('+852 9123 4567')).toBe('+85291234567');
  });

  it.each([
    ' Zhang.San@Example.COM ',
    'zhang.san@example.com',
    'ＺＨＡＮＧ.ＳＡＮ＠ＥＸＡＭＰＬＥ.ＣＯＭ',
    '\u3000zhang.san@example.com',
  ])('email %j is zhang.san@example.com', (value) => {
    expect(normalizeEmail(value)).toBe('zhang.san@example.com');
  });

  it('identifiers: full-width to half-width and trimmed, case kept', () => {
    expect(normalizeIdentifier(' ＡｂＣ１２３ ')).toBe('AbC123');
    expect(normalizeIdentifier('oaid-Xy9')).toBe('oaid-Xy9');
    expect(toHalfWidth('！～\u3000中文')).toBe('!~ 中文');
  });

  it('every normaliser is idempotent', () => {
    const anyText = fc.string({ unit: 'binary', maxLength: 40 });
    fc.assert(
      fc.property(anyText, (value) => {
        for (const normalize of [normalizePhone, normalizeEmail, normalizeIdentifier]) {
          expect(normalize(normalize(value))).toBe(normalize(value));
        }
      }),
    );
  });
});

describe('BlindIndexer', () => {
  it('is deterministic, across instances too', () => {
    const a = indexer('aes-256-gcm');
    const b = indexer('aes-256-gcm');
    expect(a.token('phone', '13800138000').equals(a.token('phone', '13800138000'))).toBe(true);
    expect(a.token('phone', '13800138000').equals(b.token('phone', '13800138000'))).toBe(true);
  });

  it('gives equivalent spellings the same token', () => {
    const ix = indexer('sm4-gcm');
    const phone = ix.token('phone', '13800138000');
    for (const spelling of ['+86 138-0013-8000', '0086 13800138000', '１３８００１３８０００']) {
      expect(ix.token('phone', spelling).equals(phone)).toBe(true);
    }
    expect(
      ix.token('email', ' Zhang.San@Example.COM ').equals(ix.token('email', 'zhang.san@example.com')),
    ).toBe(true);
  });

  it('gives different index names different tokens for the same value', () => {
    const ix = indexer('aes-256-gcm');
    const tokens = ['phone', 'email', 'oaid', 'memberId'].map((kind) =>
      ix.token(kind, '13800138000').toString('hex'),
    );
    expect(new Set(tokens).size).toBe(4);
  });

  it('outputs 16 bytes', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 50 }).filter((s) => s.trim() !== ''),
        (value) => {
          expect(indexer('aes-256-gcm').token('oaid', value)).toHaveLength(16);
          expect(indexer('sm4-gcm').token('oaid', value)).toHaveLength(16);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('uses HMAC-SM3 under the SM suite, which differs from HMAC-SHA-256', () => {
    const sha = indexer('aes-256-gcm').token('phone', '13800138000');
    const sm = indexer('sm4-gcm').token('phone', '13800138000');
    expect(sha.equals(sm)).toBe(false);
  });

  it('pins the derivation: known answers, recomputed independently (node:crypto and sm-crypto-v2)', () => {
    expect(indexer('aes-256-gcm').token('phone', '13800138000').toString('hex')).toBe(
      'ea3e84ddc5569e0cce7679b0d5059fc5',
    );
    expect(indexer('aes-256-gcm').token('email', 'zhang.san@example.com').toString('hex')).toBe(
      'b711eb5250b938786acfb3633f9efd94',
    );
    expect(indexer('sm4-gcm').token('phone', '13800138000').toString('hex')).toBe(
      'fc6729caf367e45e2ed28174bddbc5cf',
    );
    expect(indexer('sm4-gcm').token('email', 'zhang.san@example.com').toString('hex')).toBe(
      'ac19a6e61d3c8f435ef0cf59886b98c8',
    );

    const shaKey = Buffer.from(hkdfSync('sha256', ROOT, SALT, info(1, 'phone'), 32));
    expect(createHmac('sha256', shaKey).update('13800138000').digest('hex').slice(0, 32)).toBe(
      'ea3e84ddc5569e0cce7679b0d5059fc5',
    );
    const smKey = smHkdf(ROOT, SALT, info(1, 'phone'), 32);
    expect(sm3('13800138000', { key: smKey, mode: 'hmac' }).slice(0, 32)).toBe(
      'fc6729caf367e45e2ed28174bddbc5cf',
    );
  });

  it('binds the index key version: the same root under another version gives other tokens', () => {
    expect(
      indexer('aes-256-gcm', ROOT, 1)
        .token('phone', '13800138000')
        .equals(indexer('aes-256-gcm', ROOT, 2).token('phone', '13800138000')),
    ).toBe(false);
  });

  it('during a rotation, looks up under every version but stores under the current one', () => {
    const oldRoot = randomBytes(32);
    const newRoot = createSecretKey(randomBytes(32));
    const rotating = new BlindIndexer({
      current: { version: 2, suite: 'sm4-gcm', secret: newRoot },
      previous: [{ version: 1, suite: 'aes-256-gcm', secret: oldRoot }],
    });
    const before = indexer('aes-256-gcm', oldRoot, 1).token('phone', '13800138000');

    expect(rotating.currentVersion).toBe(2);
    expect(rotating.versions).toEqual([2, 1]);
    const lookups = rotating.lookupTokens('phone', '+86 138 0013 8000');
    expect(lookups.map((t) => t.version)).toEqual([2, 1]);
    expect(lookups[0]!.token.equals(rotating.token('phone', '13800138000'))).toBe(true);
    expect(lookups[1]!.token.equals(before)).toBe(true);
    expect(lookups[0]!.token.equals(before)).toBe(false);
  });

  it('accepts extra normalisers by index name, keeping the defaults', () => {
    const ix = new BlindIndexer({
      current: { version: 1, suite: 'aes-256-gcm', secret: ROOT },
      normalizers: { idCard: (v) => toHalfWidth(v).trim().toUpperCase() },
    });
    expect(ix.normalize('idCard', ' 11010519491231002x ')).toBe('11010519491231002X');
    expect(ix.normalize('phone', '+86 13800138000')).toBe('13800138000');
  });

  describe('rejects', () => {
    it('ensure-short-root-fails with ERR_KEY_INVALID', () => {
      expect(() => indexer('aes-256-gcm', randomBytes(31))).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
      );
    });

    it('ensure-unknown-suite-fails with ERR_CRYPTO_UNSUPPORTED', () => {
      expect(() => indexer('md5' as 'aes-256-gcm')).toThrow(
        expect.objectContaining({ code: 'ERR_CRYPTO_UNSUPPORTED' }),
      );
    });

    it('ensure-repeated-versions-fail', () => {
      expect(
        () =>
          new BlindIndexer({
            current: { version: 1, suite: 'aes-256-gcm', secret: ROOT },
            previous: [{ version: 1, suite: 'sm4-gcm', secret: randomBytes(32) }],
          }),
      ).toThrow(TypeError);
      expect(() => indexer('aes-256-gcm', ROOT, -1)).toThrow(TypeError);
    });

    it('ensure-bad-index-names-fail', () => {
      const ix = indexer('aes-256-gcm');
      for (const kind of ['', ' phone', 'a'.repeat(65), '电话']) {
        expect(() => ix.token(kind, '13800138000')).toThrow(TypeError);
      }
    });

    it('ensure-empty-values-fail with ERR_VALIDATION_FAILED', () => {
      const ix = indexer('aes-256-gcm');
      for (const [kind, value] of [
        ['phone', ' - ( ) '],
        ['email', '\u3000'],
        ['oaid', ''],
        ['oaid', 'a\uD800'],
      ] as const) {
        expect(() => ix.lookupTokens(kind, value)).toThrow(
          expect.objectContaining({ code: 'ERR_VALIDATION_FAILED' }),
        );
      }
    });
  });
});
