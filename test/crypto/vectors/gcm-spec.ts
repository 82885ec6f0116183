/**
 * Known answers from McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised
 * submission to NIST (2005), Appendix B: test cases 13-16 (AES-256) and intermediate GHASH values.
 * Hex, lower-case, as printed in the specification.
 */

export interface GcmVector {
  readonly name: string;
  readonly key: string;
  readonly iv: string;
  readonly plaintext: string;
  readonly aad: string;
  readonly ciphertext: string;
  readonly tag: string;
}

const K15 = 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308';
const IV15 = 'cafebabefacedbaddecaf888';
const P15 =
  'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
  '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255';
const C15 =
  '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
  '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad';

export const AES_256_GCM_VECTORS: readonly GcmVector[] = [
  {
    name: 'test case 13 (empty plaintext and AAD)',
    key: '0'.repeat(64),
    iv: '0'.repeat(24),
    plaintext: '',
    aad: '',
    ciphertext: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    name: 'test case 14 (one zero block)',
    key: '0'.repeat(64),
    iv: '0'.repeat(24),
    plaintext: '0'.repeat(32),
    aad: '',
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    name: 'test case 15 (64-byte plaintext)',
    key: K15,
    iv: IV15,
    plaintext: P15,
    aad: '',
    ciphertext: C15,
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    name: 'test case 16 (60-byte plaintext, 20-byte AAD)',
    key: K15,
    iv: IV15,
    plaintext: P15.slice(0, 120),
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ciphertext: C15.slice(0, 120),
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

export interface GhashVector {
  readonly name: string;
  /** H = E(K, 0^128). */
  readonly h: string;
  readonly aad: string;
  readonly ciphertext: string;
  readonly ghash: string;
}

export const GHASH_VECTORS: readonly GhashVector[] = [
  {
    name: 'test case 1 (nothing to hash)',
    h: '66e94bd4ef8a2c3b884cfa59ca342b2e',
    aad: '',
    ciphertext: '',
    ghash: '00000000000000000000000000000000',
  },
  {
    name: 'test case 2',
    h: '66e94bd4ef8a2c3b884cfa59ca342b2e',
    aad: '',
    ciphertext: '0388dace60b6a392f328c2b971b2fe78',
    ghash: 'f38cbb1ad69223dcc3457ae5b6b0f885',
  },
  {
    name: 'test case 14',
    h: 'dc95c078a2408989ad48a21492842087',
    aad: '',
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18',
    ghash: '83de425c5edc5d498f382c441041ca92',
  },
  {
    name: 'test case 18 (partial blocks in AAD and ciphertext)',
    h: 'acbef20579b4b8ebce889bac8732dad7',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ciphertext:
      '5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4' +
      '0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f',
    ghash: 'd5ffcf6fc5ac4d69722187421a7f170b',
  },
];
