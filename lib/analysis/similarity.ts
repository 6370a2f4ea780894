// Sec 5.2: do models of different widths implement different functions? Each model becomes a 0/1 vector
// over the validation set (1 = correctly classified); vectors are compared directly and embedded with t-SNE.
// tslab compiles the files a notebook imports without our tsconfig, so it only sees these declarations when referenced here.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- tslab needs the path (no tsconfig there)
/// <reference path="./types/tsne-js.d.ts" />
import TSNE from 'tsne-js';
import jointProbabilities from 'tsne-js/dist/joint-probabilities';
import klDivergence from 'tsne-js/dist/kl-divergence';
import pairwiseDistances from 'tsne-js/dist/pairwise-distances';
import { Rng } from '../rng';

function fail(fn: string, field: string, value: unknown, why: string): never {
  throw new Error(`${fn}: ${field} = ${String(value)} ${why}`);
}

/** 1 where the predicted class equals the label, else 0. */
export function correctnessVector(predicted: ArrayLike<number>, labels: ArrayLike<number>): Uint8Array {
  if (predicted.length !== labels.length) fail('correctnessVector', 'predicted.length', predicted.length, `differs from labels.length ${labels.length}`);
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = predicted[i] === labels[i] ? 1 : 0;
  return out;
}

/** Number of positions where a and b differ. */
export function hammingDistance(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) fail('hammingDistance', 'b.length', b.length, `differs from a.length ${a.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

function checkVectors(fn: string, vectors: readonly Uint8Array[]): number {
  if (vectors.length === 0) fail(fn, 'vectors.length', 0, 'is empty');
  const len = vectors[0].length;
  vectors.forEach((v, i) => {
    if (v.length !== len) fail(fn, `vectors[${i}].length`, v.length, `differs from vectors[0].length ${len}`);
  });
  return len;
}

/** Symmetric matrix of pairwise Hamming distances (counts). */
export function hammingMatrix(vectors: readonly Uint8Array[]): number[][] {
  checkVectors('hammingMatrix', vectors);
  const m = vectors.map(() => new Array<number>(vectors.length).fill(0));
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) m[i][j] = m[j][i] = hammingDistance(vectors[i], vectors[j]);
  }
  return m;
}

/** Symmetric matrix of agreement: the fraction of positions where two models are both right or both wrong. */
export function agreementMatrix(vectors: readonly Uint8Array[]): number[][] {
  const len = checkVectors('agreementMatrix', vectors);
  if (len === 0) fail('agreementMatrix', 'vectors[0].length', 0, 'is empty');
  return hammingMatrix(vectors).map((row) => row.map((d) => 1 - d / len));
}

/**
 * Runs fn with Math.random replaced by a seeded Rng stream, restoring the original in `finally` (also when fn
 * throws). Only for SYNCHRONOUS third-party code that draws from Math.random: nothing else can run while fn
 * runs, so no other caller ever sees the patched function.
 */
export function withSeededMathRandom<T>(seed: number, fn: () => T): T {
  const rng = new Rng(seed);
  const original = Math.random;
  Math.random = () => rng.next();
  try {
    const result = fn();
    // An async fn would draw from the restored, unseeded Math.random after its first await.
    if (result instanceof Promise) throw new Error('withSeededMathRandom: fn returned a Promise; it must be synchronous');
    return result;
  } finally {
    Math.random = original;
  }
}

/**
 * tsne-js puts its metric's distance d straight into exp(-beta * d). Standard t-SNE (and scikit-learn) uses
 * SQUARED Euclidean distance there; for 0/1 vectors that is the Hamming count, i.e. tsne-js's 'manhattan'.
 */
const AFFINITY_METRIC = 'manhattan';

function affinities(data: TSNE.NdArray, perplexity: number): TSNE.NdArray {
  return jointProbabilities(pairwiseDistances(data, AFFINITY_METRIC), perplexity);
}

// scikit-learn's TSNE optimisation schedule (sklearn/manifold/_t_sne.py, exact method): exploration with the
// affinities multiplied by the early exaggeration and momentum 0.5 for 250 iterations, then momentum 0.8; gains
// +0.2 where the update opposes the gradient, x0.8 elsewhere, floor 0.01; progress checked every 50 iterations,
// stop after 300 (exploration: 250) without progress or when the gradient norm falls to 1e-7.
const EXPLORATION_ITERATIONS = 250;
const CHECK_EVERY = 50;
const ITERATIONS_WITHOUT_PROGRESS = 300;
const MIN_GAIN = 0.01;
const MIN_GRAD_NORM = 1e-7;

/**
 * tsne-js 1.0.3 with scikit-learn's optimiser in place of its own. tsne-js's run() adapts per-coordinate gains
 * the wrong way round (it raises a gain when the new gradient has the same sign as the previous update, i.e.
 * after an overshoot, and lowers it while the descent direction is consistent: the opposite of van der
 * Maaten's rule and scikit-learn's), and it stops an optimisation phase after 30 iterations without a new best
 * KL, which cuts early exaggeration short. On 24 vectors in two clusters (perplexity 5, learning rate 200,
 * 1000 iterations, 4 seeds) it ended at KL 1.6-2.4 with points thrown out of their cluster (this optimiser:
 * 0.24-0.27, clusters intact); correcting only the gains sign still blew up mid-run at learning rate 50
 * (KL 0.32 -> 1.83). Everything else is tsne-js's: the pairwise distances, the perplexity-
 * calibrated affinities, the KL divergence and its gradient, and the initial embedding (N(0, 1e-4^2) from
 * Math.random in init()).
 */
class SklearnScheduleTSNE extends TSNE {
  override run(): [number, number] {
    const alpha = Math.max(this.dim - 1, 1); // Student-t degrees of freedom, as tsne-js and scikit-learn
    const P = affinities(this.inputData, this.perplexity);
    const plain = P.data.slice();
    for (let k = 0; k < P.data.length; k++) P.data[k] *= this.earlyExaggeration;
    let it = this.descend(P, alpha, 0, Math.min(EXPLORATION_ITERATIONS, this.nIter), 0.5, EXPLORATION_ITERATIONS)[1];
    let error: number;
    P.data.set(plain);
    if (this.nIter > EXPLORATION_ITERATIONS) {
      [error, it] = this.descend(P, alpha, it + 1, this.nIter, 0.8, ITERATIONS_WITHOUT_PROGRESS);
    } else {
      error = klDivergence(this.outputEmbedding, P, alpha)[0]; // report the KL under the true affinities
    }
    return [error, it];
  }

  /** scikit-learn's _gradient_descent on this.outputEmbedding (in place); returns [error, last iteration]. */
  private descend(P: TSNE.NdArray, alpha: number, from: number, to: number, momentum: number, withoutProgress: number): [number, number] {
    const y = this.outputEmbedding.data; // contiguous n x dim
    const update = new Float64Array(y.length);
    const gains = new Float64Array(y.length).fill(1);
    let error = Number.MAX_VALUE,
      bestError = Number.MAX_VALUE,
      bestIter = from;
    let i = from;
    for (; i < to; i++) {
      const [cost, grad] = klDivergence(this.outputEmbedding, P, alpha);
      const g = grad.data;
      error = cost;
      let norm = 0;
      for (let k = 0; k < y.length; k++) {
        norm += g[k] * g[k];
        // a descent direction that persists (update opposing the gradient) earns a larger step
        gains[k] = Math.max(update[k] * g[k] < 0 ? gains[k] + 0.2 : gains[k] * 0.8, MIN_GAIN);
        update[k] = momentum * update[k] - this.learningRate * gains[k] * g[k];
        y[k] += update[k];
      }
      if ((i + 1) % CHECK_EVERY === 0) {
        if (error < bestError) {
          bestError = error;
          bestIter = i;
        } else if (i - bestIter > withoutProgress) break;
        if (Math.sqrt(norm) <= MIN_GRAD_NORM) break;
      }
    }
    return [error, Math.min(i, to - 1)];
  }
}

export interface TsneOptions {
  seed: number;
  /**
   * Effective number of neighbours, below the number of vectors n. Default min(30, (n - 1) / 3): 30 is the
   * usual choice, and bhtsne's rule 3 * perplexity <= n - 1 keeps it meaningful for a few dozen models.
   */
  perplexity?: number;
  /** Total iterations, >= 250 (the first 250 are early exaggeration, as scikit-learn). Default 1000. */
  iterations?: number;
  /**
   * Gradient-descent learning rate. Default max(n / earlyExaggeration / 4, 50), scikit-learn's 'auto' rule
   * (Belkina et al. 2019): 50 for the few dozen models of Sec 5.2. tsne-js's default of 1000 is far too
   * large for so few points (on 50 synthetic correctness vectors it mixed the clusters; 50 did not).
   */
  learningRate?: number;
  /** Early exaggeration factor. Default 12 (scikit-learn's; tsne-js's is 4). */
  earlyExaggeration?: number;
}

/**
 * 2-D t-SNE embedding (exact; tsne-js with scikit-learn's optimiser, see SklearnScheduleTSNE) of 0/1 vectors,
 * one [x, y] per vector, in input order.
 * - Determinism: tsne-js draws its initial embedding from Math.random (dist/randn.js, in init()); the whole
 *   call runs under withSeededMathRandom(seed), so the same inputs and seed give the same embedding.
 * - Distances: affinities use the Hamming count, i.e. squared Euclidean distance as in standard t-SNE
 *   (see AFFINITY_METRIC and tsneAffinities).
 */
export function tsneEmbedding(vectors: readonly Uint8Array[], opts: TsneOptions): [number, number][] {
  return tsneRun(vectors, opts).embedding;
}

export interface TsneRun {
  embedding: [number, number][];
  /** Final KL(P || Q): lower is a better fit of the neighbourhoods. */
  kl: number;
  /** Index of the last iteration run (the optimiser stops early when it stalls). */
  iterations: number;
}

/** tsneEmbedding with the optimiser's final KL divergence and iteration count (for diagnostics and tests). */
export function tsneRun(vectors: readonly Uint8Array[], opts: TsneOptions): TsneRun {
  const fn = 'tsneEmbedding';
  const len = checkVectors(fn, vectors);
  if (len === 0) fail(fn, 'vectors[0].length', 0, 'is empty');
  const n = vectors.length;
  if (n < 3) fail(fn, 'vectors.length', n, 'must be at least 3');
  const perplexity = opts.perplexity ?? Math.min(30, (n - 1) / 3);
  const iterations = opts.iterations ?? 1000;
  const earlyExaggeration = opts.earlyExaggeration ?? 12;
  const learningRate = opts.learningRate ?? Math.max(n / earlyExaggeration / 4, 50);
  if (!Number.isFinite(opts.seed)) fail(fn, 'seed', opts.seed, 'must be a finite number');
  if (!(perplexity > 0 && perplexity < n)) fail(fn, 'perplexity', perplexity, `must be in (0, ${n}) (below the number of vectors)`);
  if (!(Number.isInteger(iterations) && iterations >= 250)) fail(fn, 'iterations', iterations, 'must be an integer >= 250');
  if (!(learningRate > 0)) fail(fn, 'learningRate', learningRate, 'must be > 0');
  if (!(earlyExaggeration >= 1)) fail(fn, 'earlyExaggeration', earlyExaggeration, 'must be >= 1');

  const data = vectors.map((v) => Array.from(v, (x) => (x ? 1 : 0)));
  const out = withSeededMathRandom(opts.seed, () => {
    const model = new SklearnScheduleTSNE({ dim: 2, perplexity, earlyExaggeration, learningRate, nIter: iterations, metric: AFFINITY_METRIC });
    model.init({ data, type: 'dense' });
    const [kl, lastIteration] = model.run();
    return { kl, iterations: lastIteration, points: model.getOutput() };
  });
  return { embedding: out.points.map((p): [number, number] => [p[0], p[1]]), kl: out.kl, iterations: out.iterations };
}

/**
 * The joint probabilities p_ij (n x n, summing to 1) that tsneEmbedding fits: Gaussian affinities on the
 * Hamming distance, each point's width calibrated to the perplexity. For inspection and tests.
 */
export function tsneAffinities(vectors: readonly Uint8Array[], perplexity: number): number[][] {
  const n = vectors.length;
  checkVectors('tsneAffinities', vectors);
  if (!(perplexity > 0 && perplexity < n)) fail('tsneAffinities', 'perplexity', perplexity, `must be in (0, ${n})`);
  const packer = new TSNE({ metric: AFFINITY_METRIC });
  // init() packs the data into an ndarray; it also draws an embedding (unused here), so keep that seeded too.
  withSeededMathRandom(0, () => packer.init({ data: vectors.map((v) => Array.from(v)), type: 'dense' }));
  const P = affinities(packer.inputData, perplexity).data;
  return Array.from({ length: n }, (_, i) => Array.from(P.subarray(i * n, (i + 1) * n)));
}

export interface GroupStructureTest {
  /** Mean agreement over pairs of models in the same group. */
  within: number;
  /** Mean agreement over pairs of models in different groups. */
  between: number;
  /** within - between. */
  statistic: number;
  /** One-sided permutation p-value of a statistic this large with the group labels shuffled: (1 + hits) / (1 + permutations). */
  p: number;
  permutations: number;
}

function pairMeans(m: readonly (readonly number[])[], groups: readonly number[]): { within: number; between: number } {
  let ws = 0,
    wn = 0,
    bs = 0,
    bn = 0;
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      if (groups[i] === groups[j]) {
        ws += m[i][j];
        wn++;
      } else {
        bs += m[i][j];
        bn++;
      }
    }
  }
  return { within: ws / wn, between: bs / bn };
}

/**
 * Do models of one group (e.g. one width) agree with each other more than with the other groups' models?
 * A permutation test on a symmetric similarity matrix: the statistic is the mean within-group similarity minus
 * the mean between-group similarity; the group labels are shuffled (seeded, group sizes kept) to get its
 * distribution when groups do not matter. Needs at least two groups and one group with two members.
 */
export function groupStructureTest(
  similarity: readonly (readonly number[])[],
  groups: readonly number[],
  opts: { permutations?: number; seed?: number } = {},
): GroupStructureTest {
  const n = groups.length;
  if (similarity.length !== n) fail('groupStructureTest', 'similarity.length', similarity.length, `differs from groups.length ${n}`);
  similarity.forEach((row, i) => {
    if (row.length !== n) fail('groupStructureTest', `similarity[${i}].length`, row.length, `differs from groups.length ${n}`);
  });
  const sizes = new Map<number, number>();
  for (const g of groups) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  if (sizes.size < 2) fail('groupStructureTest', 'groups', `[${[...sizes.keys()].join(', ')}]`, 'has fewer than two distinct groups');
  if (![...sizes.values()].some((s) => s >= 2)) fail('groupStructureTest', 'groups', `${n} models`, 'has no group with two members');
  const permutations = opts.permutations ?? 2000;
  if (!Number.isInteger(permutations) || permutations < 1) fail('groupStructureTest', 'permutations', permutations, 'must be a positive integer');
  const observed = pairMeans(similarity, groups);
  const statistic = observed.within - observed.between;
  const rng = new Rng(opts.seed ?? 0);
  const labels = [...groups];
  let hits = 0;
  for (let k = 0; k < permutations; k++) {
    rng.shuffle(labels);
    const s = pairMeans(similarity, labels);
    // A tolerance, so a permutation equal to the observed labelling counts as a hit despite summation order.
    if (s.within - s.between >= statistic - 1e-12) hits++;
  }
  return { within: observed.within, between: observed.between, statistic, p: (1 + hits) / (1 + permutations), permutations };
}
