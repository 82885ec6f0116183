/**
 * A small, fast, seedable pseudo-random generator for synthetic data: xoshiro128** (Blackman &
 * Vigna, 2018) seeded through cyrb128-style string hashing. Not for cryptography — only for
 * reproducible test, demo and benchmark data.
 */

/** A seed: any number or string. Equal seeds give equal sequences on every platform. */
export type Seed = number | string;

/** A deterministic random source. */
export interface Rng {
  /** A uniform 32-bit unsigned integer. */
  uint32(): number;
  /** A uniform float in [0, 1). */
  float(): number;
  /** A uniform integer in [0, n). `n` must be a positive integer ≤ 2³². */
  int(n: number): number;
  /** A uniform integer in [min, max], both inclusive. */
  between(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A uniform element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** `n` uniform decimal digits. */
  digits(n: number): string;
  /** `n` characters drawn uniformly from `alphabet`. */
  chars(alphabet: string, n: number): string;
}

/**
 * Hashes a seed and an optional label (so that one seed can drive independent streams, e.g.
 * customers and orders) into four 32-bit words.
 */
function seedState(seed: Seed, label: string): [number, number, number, number] {
  const text = `${typeof seed}:${String(seed)}|${label}`;
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const state: [number, number, number, number] = [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1; // xoshiro's one forbidden state
  return state;
}

const TWO_POW_32 = 4294967296;

class Xoshiro128StarStar implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(state: readonly [number, number, number, number]) {
    [this.a, this.b, this.c, this.d] = state;
  }

  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  float(): number {
    return this.uint32() / TWO_POW_32;
  }

  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty array');
    return items[this.int(items.length)]!;
  }

  digits(n: number): string {
    const codes = new Array<number>(n);
    for (let i = 0; i < n; i++) codes[i] = 48 + this.int(10);
    return String.fromCharCode(...codes);
  }

  chars(alphabet: string, n: number): string {
    const codes = new Array<number>(n);
    for (let i = 0; i < n; i++) codes[i] = alphabet.charCodeAt(this.int(alphabet.length));
    return String.fromCharCode(...codes);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A new generator for `seed`. `label` separates independent streams derived from one seed:
 * `createRng(7, 'orders')` and `createRng(7, 'customers')` are unrelated.
 */
export function createRng(seed: Seed, label = ''): Rng {
  return new Xoshiro128StarStar(seedState(seed, label));
}
