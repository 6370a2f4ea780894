// Pruning strategies: pure functions from per-layer kernels to a pruning plan. No tfjs here, so plans can
// be built, tested and cached without a backend.
//
// A plan is an ORDER per layer (weight indices, first pruned first) plus how many of that order are pruned
// at each level k. Masks at level k are "everything but the first prunedCount(k) of the order", so masks are
// nested across levels by construction (a weight pruned at level k stays pruned at every later level).
//
// The strategies only ever see kernels: callers pass the prunable layers' weight matrices / conv kernels,
// never biases or batch-norm parameters, so those are never pruned (the paper prunes weights only, and its
// Table 1 counts weights only).
import { Rng, deriveSeed } from '../rng';
import type { LayerWeights } from '../models/kernels';

export type StrategyName = 'layerwiseMagnitude' | 'globalMagnitude' | 'random';
export const STRATEGY_NAMES: readonly StrategyName[] = ['layerwiseMagnitude', 'globalMagnitude', 'random'];

// One prunable layer's kernel, flattened row-major (tfjs order): lib/models owns the type.
export type { LayerWeights };

/** The paper's pruning step: 2% of each layer's original count per level (1/50 exactly, see stepFraction). */
export const DEFAULT_STEP = 0.02;

export interface StrategyOptions {
  /** Fraction of each layer's ORIGINAL weight count pruned per level (paper: 0.02). */
  step: number;
  /** Only the random strategy uses it. */
  seed: number;
}

export interface PruningPlan {
  strategy: StrategyName;
  /** The prunable layers, in the order given to the strategy; `order[i]` belongs to `layers[i]`. */
  layers: { name: string; count: number }[];
  step: number;
  /** The first level at which every weight is pruned: ceil(1 / step) (50 for step 0.02). */
  levels: number;
  /** Per layer: every weight index exactly once, in pruning order. */
  order: Uint32Array[];
  /** Per layer: how many weights are pruned at level k (integer k >= 0; levels past `levels` prune all). */
  prunedCount(level: number): number[];
}

export type Strategy = (layers: LayerWeights[], opts: StrategyOptions) => PruningPlan;

// ---------------------------------------------------------------------------------------------------------
// Exact level arithmetic

/** `step` as an exact fraction num/den. */
export interface StepFraction {
  num: number;
  den: number;
}

const MAX_STEP_DENOMINATOR = 1_000_000;

/**
 * Turn `step` into the fraction num/den (smallest den <= 10^6) it was meant to be, so level counts are
 * computed in integers: floor(k * 0.02 * n) in floats gives e.g. 35 * 0.02 = 0.7000000000000001 and
 * 0.7000000000000001 * n can round across an integer; floor(35 * 1 * n / 50) cannot.
 */
export function stepFraction(step: number): StepFraction {
  if (!(step > 0 && step <= 1)) throw new Error(`pruning step must be in (0, 1], got ${step}`);
  for (let den = 1; den <= MAX_STEP_DENOMINATOR; den++) {
    const num = Math.round(step * den);
    // step is a decimal literal such as 0.02; step*den carries ~1e-16*den float error, far below 1e-9.
    if (num > 0 && Math.abs(step * den - num) < 1e-9) return { num, den };
  }
  throw new Error(`pruning step ${step} is not a fraction with denominator <= ${MAX_STEP_DENOMINATOR}`);
}

/** The first level at which everything is pruned: ceil(den / num). */
export function fullLevel(frac: StepFraction): number {
  return Math.ceil(frac.den / frac.num);
}

/** floor(a / b) for non-negative integers a, b < 2^53 (a/b in floats can round up to the next integer). */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/**
 * How many of `n` weights are pruned at `level`: min(n, floor(level * step * n)) computed exactly as
 * floor(level * num * n / den). Beyond the full level it is n.
 */
export function prunedAt(n: number, level: number, frac: StepFraction): number {
  if (!Number.isInteger(level) || level < 0) throw new Error(`pruning level must be an integer >= 0, got ${level}`);
  const kNum = Math.min(level * frac.num, frac.den); // k*step >= 1 means everything: cap keeps the product small
  const a = kNum * n;
  if (!Number.isSafeInteger(a)) throw new Error(`pruning level arithmetic overflows for n=${n}, step=${frac.num}/${frac.den}`);
  return Math.min(n, floorDiv(a, frac.den));
}

// ---------------------------------------------------------------------------------------------------------
// Sorting by magnitude

/**
 * |w| as a sortable uint32: for non-negative IEEE-754 floats the bit pattern orders like the value, so
 * clearing the sign bit gives a key whose unsigned order is the order of |w| (and -0 == +0).
 */
export function magnitudeKeys(values: Float32Array, out: Uint32Array = new Uint32Array(values.length), offset = 0): Uint32Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const key = bits[i] & 0x7fffffff;
    if (key > 0x7f800000) throw new Error(`cannot prune by magnitude: weight ${i} is NaN`);
    out[offset + i] = key;
  }
  return out;
}

const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const RADIX_MASK = RADIX - 1;

/**
 * Indices 0..n-1 sorted by `keys` ascending; equal keys keep ascending index order (stable).
 * LSD radix sort, 3 passes of 11 bits (covers 33 bits; magnitude keys use 31), skipping any pass whose
 * digit is the same for every key. O(n): ~1.9M keys sort in tens of milliseconds. `keys` is not modified.
 */
export function stableArgsortUint32(keys: Uint32Array): Uint32Array {
  const n = keys.length;
  let srcK = keys;
  let srcI = new Uint32Array(n);
  for (let i = 0; i < n; i++) srcI[i] = i;
  if (n < 2) return srcI;
  const counts = new Uint32Array(3 * RADIX);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    counts[k & RADIX_MASK]++;
    counts[RADIX + ((k >>> RADIX_BITS) & RADIX_MASK)]++;
    counts[2 * RADIX + (k >>> (2 * RADIX_BITS))]++;
  }
  let dstK: Uint32Array | null = null;
  let dstI: Uint32Array | null = null;
  for (let pass = 0; pass < 3; pass++) {
    const base = pass * RADIX;
    const shift = pass * RADIX_BITS;
    // All keys share this digit: the pass would be the identity permutation.
    if (counts[base + ((keys[0] >>> shift) & RADIX_MASK)] === n) continue;
    // Exclusive prefix sums: where each digit's run starts.
    const starts = new Uint32Array(RADIX);
    let sum = 0;
    for (let d = 0; d < RADIX; d++) {
      starts[d] = sum;
      sum += counts[base + d];
    }
    if (dstK === null || dstK === keys) dstK = new Uint32Array(n);
    if (dstI === null) dstI = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const k = srcK[i];
      const p = starts[(k >>> shift) & RADIX_MASK]++;
      dstK[p] = k;
      dstI[p] = srcI[i];
    }
    const tk = srcK,
      ti = srcI;
    srcK = dstK;
    srcI = dstI;
    dstK = tk === keys ? null : tk; // never write into the caller's keys
    dstI = ti;
  }
  return srcI;
}

/** Weight indices of one layer from smallest to largest |w|; ties: lower index first. */
export function magnitudeOrder(values: Float32Array): Uint32Array {
  return stableArgsortUint32(magnitudeKeys(values));
}

// ---------------------------------------------------------------------------------------------------------
// Strategies

function checkLayers(layers: LayerWeights[]): void {
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l.name)) throw new Error(`duplicate prunable layer name '${l.name}'`);
    seen.add(l.name);
  }
}

function layerwisePlan(strategy: StrategyName, layers: LayerWeights[], step: number, order: Uint32Array[]): PruningPlan {
  const frac = stepFraction(step);
  const sizes = layers.map((l) => l.values.length);
  return {
    strategy,
    layers: layers.map((l) => ({ name: l.name, count: l.values.length })),
    step,
    levels: fullLevel(frac),
    order,
    prunedCount: (level) => sizes.map((n) => prunedAt(n, level, frac)),
  };
}

/** The paper's: at level k each layer loses floor(k * step * n_layer) of its smallest-|w| weights. */
export const layerwiseMagnitude: Strategy = (layers, opts) => {
  checkLayers(layers);
  stepFraction(opts.step); // validate before the sort
  return layerwisePlan(
    'layerwiseMagnitude',
    layers,
    opts.step,
    layers.map((l) => magnitudeOrder(l.values)),
  );
};

/**
 * Baseline: at level k the floor(k * step * N) smallest |w| over all prunable layers together are pruned
 * (N = total prunable weights), so layers lose different fractions. Ties: lower layer index (in the order
 * given), then lower weight index, first.
 */
export const globalMagnitude: Strategy = (layers, opts) => {
  checkLayers(layers);
  const frac = stepFraction(opts.step);
  const levels = fullLevel(frac);
  const sizes = layers.map((l) => l.values.length);
  const offsets: number[] = [];
  let total = 0;
  for (const n of sizes) {
    offsets.push(total);
    total += n;
  }
  const keys = new Uint32Array(total);
  layers.forEach((l, li) => magnitudeKeys(l.values, keys, offsets[li]));
  const global = stableArgsortUint32(keys);

  // Layer of each global index, for splitting the global order into per-layer orders.
  if (layers.length > 65535) throw new Error('globalMagnitude: more than 65535 layers');
  const layerOf = new Uint16Array(total);
  for (let li = 0; li < layers.length; li++) layerOf.fill(li, offsets[li], offsets[li] + sizes[li]);

  const order = sizes.map((n) => new Uint32Array(n));
  const filled = new Array<number>(layers.length).fill(0);
  // table[k] = per-layer pruned counts at level k, recorded as the global prefix passes each level's cut.
  const table: number[][] = [];
  let pos = 0;
  for (let k = 0; k <= levels; k++) {
    const cut = prunedAt(total, k, frac);
    for (; pos < cut; pos++) {
      const g = global[pos];
      const li = layerOf[g];
      order[li][filled[li]++] = g - offsets[li];
    }
    table.push(filled.slice());
  }
  return {
    strategy: 'globalMagnitude',
    layers: layers.map((l) => ({ name: l.name, count: l.values.length })),
    step: opts.step,
    levels,
    order,
    prunedCount: (level) => {
      if (!Number.isInteger(level) || level < 0) throw new Error(`pruning level must be an integer >= 0, got ${level}`);
      return table[Math.min(level, levels)].slice();
    },
  };
};

/**
 * Baseline: the same per-layer counts as layerwiseMagnitude, but each layer's order is a seeded uniform
 * permutation (Rng(deriveSeed(seed, 'random-prune', layerName))), independent of the weights' values.
 */
export const random: Strategy = (layers, opts) => {
  checkLayers(layers);
  if (!Number.isInteger(opts.seed)) throw new Error(`random pruning needs an integer seed, got ${opts.seed}`);
  const order = layers.map((l) => new Rng(deriveSeed(opts.seed, 'random-prune', l.name)).permutation(l.values.length));
  return layerwisePlan('random', layers, opts.step, order);
};

export const strategies: Record<StrategyName, Strategy> = { layerwiseMagnitude, globalMagnitude, random };

// ---------------------------------------------------------------------------------------------------------
// Reading a plan

/** Per layer, 1 = kept, 0 = pruned at `level`. */
export function masksAt(plan: PruningPlan, level: number): Uint8Array[] {
  const counts = plan.prunedCount(level);
  return plan.order.map((order, li) => {
    const mask = new Uint8Array(order.length).fill(1);
    for (let j = 0; j < counts[li]; j++) mask[order[j]] = 0;
    return mask;
  });
}

/** Per layer name, how many weights remain at `level`. */
export function remainingAt(plan: PruningPlan, level: number): Record<string, number> {
  const counts = plan.prunedCount(level);
  const out: Record<string, number> = {};
  plan.layers.forEach((l, li) => (out[l.name] = l.count - counts[li]));
  return out;
}

/** Percent of all prunable weights remaining at `level`, from the exact counts (100 at level 0). */
export function densityAt(plan: PruningPlan, level: number): number {
  const counts = plan.prunedCount(level);
  let total = 0,
    pruned = 0;
  plan.layers.forEach((l, li) => {
    total += l.count;
    pruned += counts[li];
  });
  return total === 0 ? 100 : (100 * (total - pruned)) / total;
}

/** The kernel with the weights pruned at `level` set to zero (a copy; `values` is not modified). */
export function prunedValues(values: Float32Array, order: Uint32Array, prunedCount: number): Float32Array {
  const out = values.slice();
  for (let j = 0; j < prunedCount; j++) out[order[j]] = 0;
  return out;
}
