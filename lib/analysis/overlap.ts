// Sec 5.1: do the weights that are small at initialisation stay small after training? Overlap between the
// smallest q (40%) of |w| at init and the smallest q after training, per layer.

function fail(field: string, value: unknown, why: string): never {
  throw new Error(`smallestOverlap: ${field} = ${String(value)} ${why}`);
}

function checkQ(q: number): void {
  if (!(q > 0 && q <= 1)) fail('q', q, 'must be in (0, 1]');
}

/**
 * Mask (1 = member) of the floor(q * n) weights with the smallest |w|. Ties are broken by index (the lower
 * index is taken first), so the count is exact and the result deterministic. Throws on NaN weights.
 */
export function smallestMask(values: Float32Array, q: number): Uint8Array {
  checkQ(q);
  const n = values.length;
  const k = Math.floor(q * n);
  const mask = new Uint8Array(n);
  if (k === 0) return mask;
  const abs = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (Number.isNaN(v)) fail(`values[${i}]`, v, 'is NaN');
    abs[i] = Math.abs(v); // also turns -0 into +0
  }
  // For non-negative floats the IEEE-754 bit patterns order like the values, so the k-th smallest magnitude
  // can be found by a two-pass radix select on the bits: O(n), where sorting millions of weights is O(n log n).
  const bits = new Uint32Array(abs.buffer);
  const cut = kthSmallestBits(bits, k);
  let taken = 0;
  for (let i = 0; i < n; i++) {
    if (bits[i] < cut) {
      mask[i] = 1;
      taken++;
    }
  }
  for (let i = 0; i < n && taken < k; i++) {
    if (bits[i] === cut) {
      mask[i] = 1;
      taken++;
    }
  }
  return mask;
}

/** The k-th smallest (1-based) of uint32 values: histogram of the high 16 bits, then of the low 16 within that bucket. */
function kthSmallestBits(bits: Uint32Array, k: number): number {
  const hist = new Uint32Array(65536);
  for (let i = 0; i < bits.length; i++) hist[bits[i] >>> 16]++;
  let rank = k,
    high = 0;
  while (hist[high] < rank) rank -= hist[high++];
  hist.fill(0);
  for (let i = 0; i < bits.length; i++) if (bits[i] >>> 16 === high) hist[bits[i] & 0xffff]++;
  let low = 0;
  while (hist[low] < rank) rank -= hist[low++];
  return ((high << 16) | low) >>> 0;
}

/**
 * Percent of ALL n weights that are among the smallest q of |w| both at init and after training:
 * 100 * |S_init ∩ S_trained| / n, with |S| = floor(q * n) (ties by index, see smallestMask).
 * Dividing by n (not by |S|) makes independent masks give 100 * q^2 in expectation: the paper's chance level
 * 0.4 * 0.4 = 16%. Identical inputs give 100 * floor(q n) / n (= 100 q when q n is whole), the maximum.
 */
export function smallestOverlap(init: Float32Array, trained: Float32Array, q = 0.4): number {
  if (init.length !== trained.length) fail('trained.length', trained.length, `differs from init.length ${init.length}`);
  if (init.length === 0) fail('init.length', 0, 'is empty');
  const a = smallestMask(init, q),
    b = smallestMask(trained, q);
  let both = 0;
  for (let i = 0; i < a.length; i++) both += a[i] & b[i];
  return (100 * both) / init.length;
}

/** The overlap independent masks give in expectation, in percent (16 for q = 0.4). */
export function chanceOverlap(q = 0.4): number {
  checkQ(q);
  return 100 * q * q;
}
