// Seeded pseudo-random numbers. Math.random is never used for anything that ends up in a result:
// every random choice (init, shuffling, splits, random pruning, t-SNE) takes an Rng built from an explicit seed.

/** Mix a 32-bit value (splitmix32 finaliser): turns consecutive seeds into unrelated streams. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Seeds are user-facing integers in [0, 2^32): Rng would silently alias anything else (1.5 -> 1, -1 -> 2^32-1), so refuse it. */
export function checkSeed(what: string, seed: number): void {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`${what} must be an integer in [0, 2^32), got ${seed}`);
}

/**
 * Derive a 32-bit seed from a base seed and labels, so independent uses of one user-facing seed
 * (e.g. init seed 3 for layer 'fc1' vs 'fc2') draw from unrelated streams.
 */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  let h = mix32(seed >>> 0);
  for (const label of labels) {
    const s = String(label);
    for (let i = 0; i < s.length; i++) h = mix32(h ^ s.charCodeAt(i));
    h = mix32(h ^ 0x2f);
  }
  return h;
}

/** sfc32: small, fast, passes PractRand to 2^40+; state seeded from splitmix32 of the seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    const s = seed >>> 0;
    this.a = mix32(s);
    this.b = mix32(this.a ^ 0x1234567);
    this.c = mix32(this.b ^ 0x89abcdef);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Fill `out` with standard normals: exactly the values out.length calls of normal() would give (the same
   * stream, spare value included), with the generator's state in locals (bulk noise, e.g. an SGLD step).
   */
  fillNormal(out: Float32Array): Float32Array {
    let i = 0;
    if (out.length > 0 && this.spareNormal !== null) {
      out[i++] = this.spareNormal;
      this.spareNormal = null;
    }
    let a = this.a,
      b = this.b,
      c = this.c,
      d = this.d;
    const TWO_PI = 2 * Math.PI;
    while (i < out.length) {
      let u = 0;
      while (u === 0) {
        const t = (((a + b) | 0) + d) | 0;
        d = (d + 1) | 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) | 0;
        c = (c << 21) | (c >>> 11);
        c = (c + t) | 0;
        u = (t >>> 0) / 4294967296;
      }
      const t2 = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t2) | 0;
      const v = (t2 >>> 0) / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      out[i++] = r * Math.cos(TWO_PI * v);
      if (i < out.length) out[i++] = r * Math.sin(TWO_PI * v);
      else this.spareNormal = r * Math.sin(TWO_PI * v);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return out;
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}
