// The pruning trajectory's fast path for plain Dense/ReLU stacks (the MLP, run hundreds of times in the study). It
// computes what lib/prune/trajectory.ts's generic evaluator computes (the reference it is tested against, bit for
// bit) without touching the model:
//  - the first layer's pre-activations X·W1 + b1 are computed once (on wasm by a product that skips the inputs'
//    zeros) and then updated per level only by the weights removed at that level (2% of the multiply-adds, fewer on
//    MNIST where ~80% of pixels are 0 and zero inputs are skipped), in float64 so 50 updates add no drift. The
//    update is a scattered sparse operation with no tfjs kernel: on wasm a small wasm kernel (wasmSimd.ts) working
//    in the backend's memory, elsewhere the JS reference below; both do the same float64 operations in the same order;
//  - the remaining layers run in full (fused matMul + bias + ReLU, as tfjs-layers' Dense);
//  - where the second layer is mostly pruned (under levers.trajectorySparseSecondBelow left) it runs as a sparse
//    product instead: its kernel, transposed, in CSR form times the activations written transposed by the
//    first-layer kernel, accumulated from the bias in the dense product's order, so the trajectory is bit-identical.
// Skipping the ReLU zeros instead does not pay: trained MLPs have ~55-60% of hidden units active, where a sparse
// kernel only matches XNNPACK. Timings: README (Performance) and `npm run bench`.
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data/types';
import type { LayerWeights } from '../models/kernels';
import { levers } from './levers';
import { csrMatMulOp, hasCsrMatMul, wasmFirstLayer, type RemovedByRow, type RowSparseInput } from './wasmSimd';

/** What the stack's last layer emits: 'logits' (linear) or 'probabilities' (softmax). */
type OutputKind = 'logits' | 'probabilities';

/** One Dense layer of the stack, in forward order (lib/prune/trajectory.ts's denseStack finds them). */
export interface DenseStackLayer {
  name: string;
  activation: 'relu' | 'linear' | 'softmax';
}

/** The pruning plan as the fast path reads it: per plan layer the weight order, and how many are pruned at a level. */
export interface DenseStackPlan {
  order: Uint32Array[];
  prunedCount(level: number): number[];
}

export interface DenseStackOptions {
  /** Images per forward pass; default: as many as keep the widest activation within activationBudgetFloats / 2. */
  batchSize?: number;
  /** Floats one forward pass may hold in activations. */
  activationBudgetFloats: number;
  /** Recompute the first layer's pre-activations in full every this many levels (0 = never). */
  refreshEvery?: number;
}

/** Sum of per-image losses and number of correct predictions of `count` output rows (the trajectory's scoring). */
export type ScoreOutputs = (
  out: Float32Array,
  y: Uint8Array,
  from: number,
  count: number,
  numClasses: number,
  kind: OutputKind,
) => { lossSum: number; correct: number };

/** One level's validation loss sum and correct count. */
export interface LevelSums {
  lossSum: number;
  correct: number;
}

/** The masked kernel w [inDim, outDim] transposed into CSR form: row c holds the nonzero w[j, c], j ascending. */
function transposedCsr(w: Float32Array, inDim: number, outDim: number): { rowPtr: Int32Array; idx: Int32Array; vals: Float32Array } {
  let nnz = 0;
  for (let p = 0; p < w.length; p++) if (w[p] !== 0) nnz++;
  const rowPtr = new Int32Array(outDim + 1),
    idx = new Int32Array(nnz),
    vals = new Float32Array(nnz);
  let q = 0;
  for (let c = 0; c < outDim; c++) {
    for (let j = 0, p = c; j < inDim; j++, p += outDim) {
      if (w[p] !== 0) {
        idx[q] = j;
        vals[q++] = w[p];
      }
    }
    rowPtr[c + 1] = q;
  }
  return { rowPtr, idx, vals };
}

interface DenseSpec {
  name: string;
  inDim: number;
  outDim: number;
  activation: 'relu' | 'linear' | 'softmax';
  kernel: Float32Array;
  bias: Float32Array;
  /** Index into the plan's layers, or -1 when this layer is not pruned. */
  planIndex: number;
}

function rowSparse(x: Float32Array, n: number, d: number): RowSparseInput {
  let nnz = 0;
  for (let p = 0; p < n * d; p++) if (x[p] !== 0) nnz++;
  const start = new Uint32Array(n + 1);
  const feat = new Uint32Array(nnz);
  const val = new Float32Array(nnz);
  let q = 0;
  for (let r = 0; r < n; r++) {
    const row = r * d;
    for (let i = 0; i < d; i++) {
      const v = x[row + i];
      if (v !== 0) {
        feat[q] = i;
        val[q++] = v;
      }
    }
    start[r + 1] = q;
  }
  return { start, feat, val };
}

/**
 * pre[n, out] (float64) = X · W + b, by one float32 tfjs product per chunk of rows. On wasm the product skips
 * X's zeros (DensityCsrMatMul: the same bits as the dense product, ~3.4x fewer multiply-adds on MNIST).
 */
async function fullFirstLayer(
  x: Float32Array,
  xs: RowSparseInput,
  n: number,
  spec: DenseSpec,
  kernel: Float32Array,
  chunk: number,
  pre: Float64Array,
): Promise<void> {
  const w = tf.tensor2d(kernel, [spec.inDim, spec.outDim], 'float32');
  const b = tf.tensor1d(spec.bias, 'float32');
  const sparse = hasCsrMatMul() && levers.trajectorySparseFirstProduct;
  try {
    for (let from = 0; from < n; from += chunk) {
      const count = Math.min(chunk, n - from);
      const out = tf.tidy(() => {
        if (!sparse) return tf.add(tf.matMul(tf.tensor2d(x.subarray(from * spec.inDim, (from + count) * spec.inDim), [count, spec.inDim]), w), b);
        const p0 = xs.start[from],
          p1 = xs.start[from + count];
        const rowPtr = tf.tensor1d(
          Int32Array.from(xs.start.subarray(from, from + count + 1), (p) => p - p0),
          'int32',
        );
        const idx = tf.tensor1d(new Int32Array(xs.feat.buffer, xs.feat.byteOffset + 4 * p0, p1 - p0), 'int32');
        return tf.add(csrMatMulOp(rowPtr, idx, tf.tensor1d(xs.val.subarray(p0, p1), 'float32'), w), b);
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      pre.set(data, from * spec.outDim);
    }
  } finally {
    w.dispose();
    b.dispose();
  }
}

/**
 * The first-layer weights (i, j, w) in order[from..to) (those pruned at this level) grouped by input row i
 * (a counting sort, stable within a row), with w in float64.
 */
export function removedByRow(kernel: Float32Array, inDim: number, outDim: number, order: Uint32Array, from: number, to: number): RemovedByRow {
  const m = Math.max(0, to - from);
  const rowStart = new Uint32Array(inDim + 1);
  for (let t = from; t < to; t++) rowStart[Math.floor(order[t] / outDim) + 1]++;
  for (let i = 0; i < inDim; i++) rowStart[i + 1] += rowStart[i];
  const fill = rowStart.slice(0, inDim);
  const cols = new Uint32Array(m);
  const ws = new Float64Array(m);
  for (let t = from; t < to; t++) {
    const idx = order[t];
    const i = Math.floor(idx / outDim);
    const p = fill[i]++;
    cols[p] = idx - i * outDim;
    ws[p] = kernel[idx];
  }
  return { rowStart, cols, ws };
}

/**
 * pre -= X[:, i] · w for every removed weight (i, j, w), then hidden = activation(pre) in float32. Image by
 * image, so the image's row of `pre` stays in cache for both steps; within an image only its nonzero inputs
 * are visited, each with the removed weights of that input row. The reference for the wasm kernel
 * (wasmSimd.ts), which does the same float64 operations in the same order.
 */
export function updateFirstLayer(pre: Float64Array, hidden: Float32Array, relu: boolean, xs: RowSparseInput, h: number, removed: RemovedByRow | null): void {
  const { start, feat, val } = xs;
  const n = start.length - 1;
  for (let r = 0; r < n; r++) {
    const base = r * h;
    if (removed && removed.cols.length > 0) {
      const { rowStart, cols, ws } = removed;
      for (let p = start[r]; p < start[r + 1]; p++) {
        const i = feat[p];
        const r0 = rowStart[i],
          r1 = rowStart[i + 1];
        if (r0 === r1) continue;
        const xv = val[p];
        for (let t = r0; t < r1; t++) pre[base + cols[t]] -= ws[t] * xv;
      }
    }
    if (relu) {
      for (let j = base; j < base + h; j++) {
        const v = pre[j];
        hidden[j] = v > 0 ? v : 0;
      }
    } else {
      for (let j = base; j < base + h; j++) hidden[j] = pre[j];
    }
  }
}

/**
 * The first layer's state across levels: float64 pre-activations and float32 activations, updated by each
 * level's removed weights. On wasm both live in the backend's memory and the update is a wasm kernel
 * (levers.trajectoryWasmUpdate); elsewhere plain JS arrays.
 */
interface FirstLayerState {
  /** `transposed` (wasm only, see `transposes`): write the activations as [h, n] for allTransposed(). */
  update(removed: RemovedByRow | null, transposed?: boolean): void;
  /** Rows [from, from + count) of the activations as a tensor (the caller disposes it); after a row-major update. */
  rows(from: number, count: number): tf.Tensor2D;
  /** Whether update() can write the activations transposed. */
  readonly transposes: boolean;
  /** All activations as [h, n] (the caller disposes it); after a transposed update. */
  allTransposed(): tf.Tensor2D;
  /** Overwrite the pre-activations (a full recompute). */
  reset(pre: Float64Array): void;
  dispose(): void;
}

function firstLayerState(xs: RowSparseInput, n: number, d: number, h: number, relu: boolean, pre: Float64Array): FirstLayerState {
  const make = () => (levers.trajectoryWasmUpdate ? wasmFirstLayer(xs, n, d, h, pre) : null);
  let wasm = make();
  if (wasm) {
    return {
      update: (removed, transposed) => wasm!.update(removed, relu, transposed),
      rows: (from, count) => {
        const all = tf.reshape(wasm!.hidden, [n, h]) as tf.Tensor2D; // shares the data, no copy
        return from === 0 && count === n ? all : tf.slice(all, [from, 0], [count, h]);
      },
      transposes: true,
      allTransposed: () => tf.reshape(wasm!.hidden, [h, n]) as tf.Tensor2D,
      reset(next) {
        wasm!.dispose();
        pre = next;
        wasm = make();
      },
      dispose: () => wasm!.dispose(),
    };
  }
  const hidden = new Float32Array(n * h);
  return {
    update: (removed, transposed) => {
      if (transposed) throw new Error('the JS first-layer state writes row-major activations only');
      updateFirstLayer(pre, hidden, relu, xs, h, removed);
    },
    rows: (from, count) => tf.tensor2d(hidden.subarray(from * h, (from + count) * h), [count, h]),
    transposes: false,
    allTransposed: () => {
      throw new Error('the JS first-layer state writes row-major activations only');
    },
    reset(next) {
      pre.set(next);
    },
    dispose() {},
  };
}

/**
 * The dense-stack fast path (see the header): the validation loss and correct count of `stack` at every pruning level
 * 0..levels of `plan`, scored by `score`, bit-identical to the generic evaluator (lib/prune/trajectory.ts) wherever
 * levers.trajectoryFusedLayers is on. `kernels` are the plan's layers' trained kernels (never modified);
 * `validation` has been checked against `inputSize` by the caller.
 */
export async function denseStackLevelSums(
  model: tf.LayersModel,
  stack: readonly DenseStackLayer[],
  plan: DenseStackPlan,
  kernels: readonly LayerWeights[],
  levels: number,
  validation: ImageSet,
  inputSize: number,
  opts: DenseStackOptions,
  score: ScoreOutputs,
): Promise<LevelSums[]> {
  const n = validation.n;
  const planIndex = new Map(kernels.map((k, i) => [k.name, i]));

  const specs: DenseSpec[] = [];
  for (const { name, activation } of stack) {
    const weights = model.getLayer(name).getWeights();
    const kshape = weights[0].shape as number[]; // a Dense kernel: [inDim, outDim]
    const pi = planIndex.get(name) ?? -1;
    const kernel = pi >= 0 ? kernels[pi].values : ((await weights[0].data()) as Float32Array).slice();
    const bias = weights.length > 1 ? ((await weights[1].data()) as Float32Array).slice() : new Float32Array(kshape[1]);
    specs.push({ name, inDim: kshape[0], outDim: kshape[1], activation, kernel, bias, planIndex: pi });
  }
  if (specs[0].inDim !== inputSize) throw new Error(`first dense layer takes ${specs[0].inDim} inputs, the model input has ${inputSize}`);
  const numClasses = specs[specs.length - 1].outDim;
  const kind: OutputKind = specs[specs.length - 1].activation === 'softmax' ? 'probabilities' : 'logits';
  const widest = Math.max(...specs.map((s) => Math.max(s.inDim, s.outDim)));
  // Chunk so the largest activation of one pass stays within the same budget as the generic path.
  const chunk = opts.batchSize ?? Math.max(1, Math.min(n, Math.floor(opts.activationBudgetFloats / (2 * widest))));
  const refreshEvery = opts.refreshEvery ?? 0;

  const first = specs[0];
  const rest = specs.slice(1);
  const xs = rowSparse(validation.x, n, first.inDim);
  const pre = new Float64Array(n * first.outDim);
  const firstWorking = first.kernel.slice();
  await fullFirstLayer(validation.x, xs, n, first, firstWorking, chunk, pre);
  const relu = first.activation === 'relu';
  const state = firstLayerState(xs, n, first.inDim, first.outDim, relu, pre);
  const done = new Array<number>(kernels.length).fill(0);
  const biases = rest.map((s) => tf.tensor1d(s.bias, 'float32'));
  // The sparse second layer needs the transposed activations of the whole set at once (one chunk) and a hidden
  // layer after it (the one feeding the output stays a dense product).
  const second = rest[0];
  const sparseSecondOk = state.transposes && hasCsrMatMul() && rest.length >= 2 && first.planIndex >= 0 && second.planIndex >= 0 && chunk >= n;
  const sums: LevelSums[] = [];
  try {
    for (let level = 0; level <= levels; level++) {
      const counts = plan.prunedCount(level);
      const sparseSecond = sparseSecondOk && 1 - counts[second.planIndex] / (second.inDim * second.outDim) < levers.trajectorySparseSecondBelow;
      // First layer: incremental update of its pre-activations (or a full recompute every refreshEvery levels).
      const pi = first.planIndex;
      if (pi >= 0) {
        const order = plan.order[pi];
        for (let j = done[pi]; j < counts[pi]; j++) firstWorking[order[j]] = 0;
        if (refreshEvery > 0 && level > 0 && level % refreshEvery === 0) {
          await fullFirstLayer(validation.x, xs, n, first, firstWorking, chunk, pre);
          state.reset(pre);
          state.update(null, sparseSecond);
        } else {
          state.update(removedByRow(first.kernel, first.inDim, first.outDim, order, done[pi], counts[pi]), sparseSecond);
        }
      } else if (level === 0) {
        state.update(null); // first layer not pruned: constant
      }
      // Later layers: this level's masked kernels, then full products (the second one sparse where it pays).
      const masked = rest.map((s) => {
        if (s.planIndex < 0) return s.kernel;
        const order = plan.order[s.planIndex];
        const m = s.kernel.slice();
        for (let j = 0; j < counts[s.planIndex]; j++) m[order[j]] = 0;
        return m;
      });
      const ws = rest.map((s, li) => (li === 0 && sparseSecond ? null : tf.tensor2d(masked[li], [s.inDim, s.outDim], 'float32')));
      const csr = sparseSecond ? transposedCsr(masked[0], second.inDim, second.outDim) : null;
      counts.forEach((c, i) => (done[i] = c));
      let lossSum = 0,
        correct = 0;
      try {
        for (let from = 0; from < n; from += chunk) {
          const count = Math.min(chunk, n - from);
          const out = tf.tidy(() => {
            let a: tf.Tensor2D;
            if (csr) {
              // [out2, n] = bias + W2^T (CSR) x hidden^T: the same sums in the same order as the fused dense product.
              const zT = csrMatMulOp(
                tf.tensor1d(csr.rowPtr, 'int32'),
                tf.tensor1d(csr.idx, 'int32'),
                tf.tensor1d(csr.vals, 'float32'),
                state.allTransposed(),
                biases[0],
              );
              a = tf.transpose(second.activation === 'relu' ? tf.relu(zT) : zT);
            } else {
              a = state.rows(from, count);
            }
            // Bias and ReLU fused into the product, as tfjs-layers' Dense does (so the generic path's arithmetic).
            const fused = levers.trajectoryFusedLayers;
            rest.forEach((s, li) => {
              const w = ws[li];
              if (!w) return; // done above
              if (fused) {
                a = tf.fused.matMul({ a, b: w, bias: biases[li], activation: s.activation === 'relu' ? 'relu' : 'linear' }) as tf.Tensor2D;
              } else {
                a = tf.add(tf.matMul(a, w), biases[li]);
                if (s.activation === 'relu') a = tf.relu(a);
              }
            });
            const lastAct = specs[specs.length - 1].activation;
            return lastAct === 'softmax' ? tf.softmax(a) : a;
          });
          const data = (await out.data()) as Float32Array;
          out.dispose();
          const s = score(data, validation.y, from, count, numClasses, kind);
          lossSum += s.lossSum;
          correct += s.correct;
        }
      } finally {
        for (const w of ws) w?.dispose();
      }
      sums.push({ lossSum, correct });
    }
  } finally {
    for (const b of biases) b.dispose();
    state.dispose();
  }
  return sums;
}
