// Issue 16, part 2: the local learning coefficient (LLC) of singular learning theory, estimated by SGLD around a
// trained parameter w* as in Lau et al. 2023 ("Quantifying degeneracy in singular models via the learning
// coefficient") and timaeus-research/devinterp (slt/sampler.py, slt/llc.py, optim/sgld.py):
//
//   LLC(w*) = n*beta * (E_w[L_n(w)] - L_n(w*)),  n*beta = n / log n by default,
//
// the expectation over the tempered posterior localised at w*, exp(-n*beta L_n(w) - gamma/2 |w - w*|^2), sampled
// by SGLD: w <- w - eps/2 (n*beta grad L_m(w) + gamma (w - w*)) + N(0, eps), with L_m the mean loss on a minibatch.
// The estimator is generic: the caller supplies the mean loss of a flat parameter vector on a minibatch of row
// indices, so the same code serves the known-answer checks and (next) the MLPs. deepLinearRlct gives the known
// answer for deep linear networks (Aoyagi 2024), the singular check Lau et al. use.
import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed } from '../rng';

/**
 * Mean loss of `params` (a flat vector, w* 's layout) on the data rows `batch` (indices in [0, n)), as a scalar
 * tensor built from tfjs ops on `params` so it can be differentiated. Called inside tf.tidy: it need not dispose.
 */
export type LlcLossFn = (params: tf.Tensor1D, batch: Int32Array) => tf.Scalar;

export interface LlcOptions {
  /** Independent SGLD chains, all started at w*; their spread is the estimate's own error bar. */
  chains: number;
  /** Recorded SGLD steps per chain after burn-in (devinterp's num_draws, one draw per step). */
  draws: number;
  /** SGLD steps per chain before the first draw (not in the estimate; in lossTraces). */
  burnIn: number;
  /** SGLD step size epsilon (the injected noise has variance epsilon). */
  stepSize: number;
  /** Localisation strength gamma: pull towards w*, keeping the chain in w*'s basin. */
  gamma: number;
  /** Inverse temperature times data size; default n / ln n (Lau et al.'s beta* = 1 / ln n). */
  nBeta?: number;
  /** Minibatch size m; minibatches are drawn without replacement, reshuffled every epoch (per chain). */
  batchSize: number;
  seed: number;
  /**
   * Sample the loss minus its first-order term at w*, L(w) - <grad L_n(w*), w - w*>, instead of L (default false:
   * devinterp's estimator). The theory takes w* to be a local minimum; at a point the training left on a slope
   * (a run stopped at a loss target) the chain otherwise walks downhill and the estimate can go negative. Removing
   * the linear term makes w* a critical point of what is sampled, so the estimate measures the loss's curvature
   * and degeneracy around w*, not its slope.
   */
  removeLinearTerm?: boolean;
}

export interface LlcResult {
  /** Mean over chains of llcPerChain. */
  llc: number;
  /** Standard deviation of llcPerChain (n - 1 denominator; 0 with one chain). */
  llcStd: number;
  llcPerChain: number[];
  /** Per chain, the minibatch loss at every step, burn-in first (burnIn + draws values): to judge convergence. */
  lossTraces: number[][];
  /** L_n(w*): the mean loss over all n rows at w*. */
  lossAtOptimum: number;
  /** Every setting the estimate depends on, defaults filled in. */
  hyperparameters: Required<LlcOptions> & { n: number; parameters: number };
}

function fail(field: string, value: unknown, why: string): never {
  throw new Error(`estimateLlc: ${field} = ${String(value)} ${why}`);
}

function positiveInteger(field: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) fail(field, v, 'must be a positive integer');
}

function positiveFinite(field: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) fail(field, v, 'must be a finite number > 0');
}

/** Validate options and fill in defaults; n is the data size (rows the loss indexes). */
export function llcHyperparameters(n: number, parameters: number, opts: LlcOptions): LlcResult['hyperparameters'] {
  if (!(Number.isInteger(n) && n >= 2)) fail('n', n, 'must be an integer >= 2 (n*beta = n / ln n needs ln n > 0)');
  if (!(Number.isInteger(parameters) && parameters >= 1)) fail('w*.length', parameters, 'must be >= 1');
  positiveInteger('chains', opts.chains);
  positiveInteger('draws', opts.draws);
  if (!(Number.isInteger(opts.burnIn) && opts.burnIn >= 0)) fail('burnIn', opts.burnIn, 'must be an integer >= 0');
  positiveFinite('stepSize', opts.stepSize);
  if (!(Number.isFinite(opts.gamma) && opts.gamma >= 0)) fail('gamma', opts.gamma, 'must be a finite number >= 0');
  const nBeta = opts.nBeta ?? n / Math.log(n);
  positiveFinite('nBeta', nBeta);
  positiveInteger('batchSize', opts.batchSize);
  if (opts.batchSize > n) fail('batchSize', opts.batchSize, `must be <= n (${n})`);
  if (!Number.isFinite(opts.seed)) fail('seed', opts.seed, 'must be a finite number');
  return {
    chains: opts.chains,
    draws: opts.draws,
    burnIn: opts.burnIn,
    stepSize: opts.stepSize,
    gamma: opts.gamma,
    nBeta,
    batchSize: opts.batchSize,
    seed: opts.seed,
    removeLinearTerm: opts.removeLinearTerm ?? false,
    n,
    parameters,
  };
}

/** Minibatches of a chain: a fresh seeded permutation of 0..n-1 per epoch, cut into batchSize rows (tail dropped,
 *  as a DataLoader with drop_last: every batch has the same size, so every step has the same gradient noise). */
class Batches {
  private perm: Uint32Array = new Uint32Array(0);
  private pos = 0;
  private readonly rng: Rng;
  constructor(
    private readonly n: number,
    private readonly size: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }
  next(): Int32Array {
    if (this.pos + this.size > this.perm.length) {
      this.perm = this.rng.permutation(this.n);
      this.pos = 0;
    }
    const b = Int32Array.from(this.perm.subarray(this.pos, this.pos + this.size));
    this.pos += this.size;
    return b;
  }
}

/** grad L_n(w*) as the row-weighted mean of the gradient over consecutive chunks of batchSize rows. */
function fullGradient(loss: LlcLossFn, w: tf.Tensor1D, n: number, chunk: number): tf.Tensor1D {
  let total = tf.zerosLike(w);
  for (let start = 0; start < n; start += chunk) {
    const rows = new Int32Array(Math.min(chunk, n - start));
    for (let i = 0; i < rows.length; i++) rows[i] = start + i;
    const next = tf.tidy(() =>
      total.add(
        tf
          .grad((p: tf.Tensor) => loss(p as tf.Tensor1D, rows))(w)
          .mul(rows.length / n),
      ),
    );
    total.dispose();
    total = next as tf.Tensor1D;
  }
  return total;
}

/** L_n(w*) as the row-weighted mean of the loss over consecutive chunks of batchSize rows (bounded memory). */
function fullLoss(loss: LlcLossFn, w: tf.Tensor1D, n: number, chunk: number): number {
  let total = 0;
  for (let start = 0; start < n; start += chunk) {
    const rows = new Int32Array(Math.min(chunk, n - start));
    for (let i = 0; i < rows.length; i++) rows[i] = start + i;
    const l = tf.tidy(() => loss(w, rows));
    total += l.dataSync()[0] * rows.length;
    l.dispose();
  }
  return total / n;
}

/**
 * Estimate the local learning coefficient at `wStar` by SGLD (see the file comment). Deterministic given
 * opts.seed (and a deterministic loss): chain c draws its noise and minibatches from deriveSeed(seed, 'llc', c, ...).
 * Throws, naming the option, on bad options, and on a non-finite loss (the step size is too large: the chain diverged).
 */
export function estimateLlc(loss: LlcLossFn, wStar: Float32Array, n: number, opts: LlcOptions): LlcResult {
  const hp = llcHyperparameters(n, wStar.length, opts);
  const d = wStar.length;
  const w0 = tf.tensor1d(wStar);
  // Loss and its gradient in one pass; the loss value is what devinterp records for the draw (the minibatch loss
  // at the current point, before the step): an unbiased estimate of L_n there at no extra forward pass.
  let currentBatch = new Int32Array(0);
  const valueAndGrad = tf.valueAndGrad((p: tf.Tensor) => loss(p as tf.Tensor1D, currentBatch));
  const halfEps = hp.stepSize / 2;
  const noiseScale = Math.sqrt(hp.stepSize);
  const noise = new Float32Array(d);
  const gStar = hp.removeLinearTerm ? fullGradient(loss, w0, n, hp.batchSize) : null;
  try {
    const lossAtOptimum = fullLoss(loss, w0, n, hp.batchSize);
    if (!Number.isFinite(lossAtOptimum)) fail('loss(w*)', lossAtOptimum, 'is not finite');
    const lossTraces: number[][] = [];
    const llcPerChain: number[] = [];
    for (let c = 0; c < hp.chains; c++) {
      const batches = new Batches(n, hp.batchSize, deriveSeed(hp.seed, 'llc', c, 'batches'));
      const noiseRng = new Rng(deriveSeed(hp.seed, 'llc', c, 'noise'));
      let w: tf.Tensor1D = w0.clone();
      const trace: number[] = [];
      let drawSum = 0;
      try {
        for (let t = 0; t < hp.burnIn + hp.draws; t++) {
          currentBatch = batches.next();
          noiseRng.fillNormal(noise); // the same values as d calls of normal(), in bulk
          const [next, value] = tf.tidy((): [tf.Tensor1D, tf.Scalar] => {
            const vg = valueAndGrad(w);
            // Without the linear term: value - <g*, w - w*>, gradient - g*.
            const value = gStar ? (vg.value.sub(tf.dot(gStar, w.sub(w0))) as tf.Scalar) : vg.value;
            const grad = gStar ? vg.grad.sub(gStar) : vg.grad;
            const drift = grad.mul(hp.nBeta).add(w.sub(w0).mul(hp.gamma));
            return [w.sub(drift.mul(halfEps)).add(tf.tensor1d(noise).mul(noiseScale)), value];
          });
          const v = value.dataSync()[0];
          value.dispose();
          w.dispose();
          w = next;
          if (!Number.isFinite(v)) {
            fail('stepSize', hp.stepSize, `made chain ${c} diverge (loss ${v} at step ${t}); use a smaller step`);
          }
          trace.push(v);
          if (t >= hp.burnIn) drawSum += v;
        }
      } finally {
        w.dispose();
      }
      lossTraces.push(trace);
      llcPerChain.push(hp.nBeta * (drawSum / hp.draws - lossAtOptimum));
    }
    const llc = llcPerChain.reduce((a, b) => a + b, 0) / hp.chains;
    const llcStd = hp.chains > 1 ? Math.sqrt(llcPerChain.reduce((a, b) => a + (b - llc) ** 2, 0) / (hp.chains - 1)) : 0;
    return { llc, llcStd, llcPerChain, lossTraces, lossAtOptimum, hyperparameters: hp };
  } finally {
    w0.dispose();
    gStar?.dispose();
  }
}

/**
 * The learning coefficient (RLCT) of a deep linear network y = W_L ... W_1 x at a true parameter whose product has
 * rank `rank`, by Aoyagi's theorem (Aoyagi 2024, "Consideration on the learning efficiency of multiple-layered
 * neural networks with linear units"; the formula Lau et al. 2023 check their estimator against).
 * widths = [H_1 (input), H_2, ..., H_{L+1} (output)]. With M_i = H_i - rank, take the subset S of indices, |S| = l+1,
 * with max_S M < min_notS M, sum_S M >= l max_S M and sum_S M < l min_notS M (Aoyagi shows it exists); then with
 * M = ceil(sum_S M / l) and a = sum_S M - (M - 1) l:
 *   lambda = (-r^2 + r (H_1 + H_{L+1})) / 2 + a (l - a) / (4 l) - l (l - 1) / 4 (sum_S M / l)^2 + 1/2 sum_{i<j in S} M_i M_j.
 */
export function deepLinearRlct(widths: number[], rank: number): number {
  const where = `deepLinearRlct(widths = [${widths.join(', ')}], rank = ${rank})`;
  if (widths.length < 2) throw new Error(`${where}: widths needs the input and at least one layer's output`);
  for (const h of widths) if (!(Number.isInteger(h) && h >= 1)) throw new Error(`${where}: every width must be a positive integer`);
  if (!(Number.isInteger(rank) && rank >= 0 && rank <= Math.min(...widths))) {
    throw new Error(`${where}: rank must be an integer in [0, min(widths)]`);
  }
  const m = widths.map((h) => h - rank);
  const k = m.length;
  for (let mask = 1; mask < 1 << k; mask++) {
    const inS: number[] = [];
    const outS: number[] = [];
    for (let i = 0; i < k; i++) ((mask >> i) & 1 ? inS : outS).push(m[i]);
    const ell = inS.length - 1;
    if (ell < 1) continue; // l = 0 would divide by zero; the theorem's subset always has l >= 1 here
    const sum = inS.reduce((a, b) => a + b, 0);
    const maxIn = Math.max(...inS);
    const minOut = outS.length ? Math.min(...outS) : Infinity;
    if (!(maxIn < minOut && sum >= ell * maxIn && sum < ell * minOut)) continue;
    const bigM = Math.ceil(sum / ell);
    const a = sum - (bigM - 1) * ell;
    let pairs = 0;
    for (let i = 0; i < inS.length; i++) for (let j = i + 1; j < inS.length; j++) pairs += inS[i] * inS[j];
    const r = rank;
    return (-r * r + r * (widths[0] + widths[k - 1])) / 2 + (a * (ell - a)) / (4 * ell) - ((ell * (ell - 1)) / 4) * (sum / ell) ** 2 + pairs / 2;
  }
  throw new Error(`${where}: no index subset satisfies Aoyagi's conditions (should not happen)`);
}

export interface ChainDiagnostics {
  /** Mean of (draw loss - L_n(w*)) over the first and the second half of the draws. */
  firstHalf: number;
  secondHalf: number;
  /** The second half is above the first by more than `riseTolerance` of the first: the chain has not settled. */
  stillRising: boolean;
  /** The second half is below L_n(w*): the chain left w*'s basin (or walked down a slope), so it does not sample around w*. */
  belowOptimum: boolean;
}

/**
 * Convergence diagnostics of one chain's loss trace (burn-in first, as LlcResult.lossTraces holds it): whether the
 * draws have settled (their second half no higher than the first by more than riseTolerance of it) and whether
 * they stayed above L_n(w*).
 */
export function chainDiagnostics(trace: readonly number[], burnIn: number, lossAtOptimum: number, riseTolerance = 0.1): ChainDiagnostics {
  const draws = trace.slice(burnIn);
  if (draws.length < 2) throw new Error(`chainDiagnostics: ${draws.length} draws after a burn-in of ${burnIn}; need at least 2`);
  const half = Math.floor(draws.length / 2);
  const avg = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length - lossAtOptimum;
  const firstHalf = avg(draws.slice(0, half));
  const secondHalf = avg(draws.slice(half));
  return { firstHalf, secondHalf, stillRising: secondHalf - firstHalf > riseTolerance * Math.abs(firstHalf), belowOptimum: secondHalf < 0 };
}
