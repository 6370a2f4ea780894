// The pruning trajectory: prune a trained model level by level (no retraining) and evaluate each level on
// the validation set. Two evaluators compute the same numbers:
//  - generic: writes each level's masked kernels into the model's own variables and runs model.predict
//    (any architecture; the original kernels are written back at the end, also on error);
//  - dense-stack fast path (mlpTrajectory): for plain Dense/ReLU stacks (the MLP, run hundreds of times in
//    the study) it never touches the model. The first layer's pre-activations X·W1 + b1 are computed once
//    (on wasm by a product that skips the inputs' zeros) and then updated per level only by the weights removed
//    at that level (2% of the multiply-adds, fewer on MNIST where ~80% of pixels are 0 and zero inputs are
//    skipped), in float64 so 50 updates add no drift; the remaining layers run in full (fused matMul + bias +
//    ReLU, as tfjs-layers' Dense). The update is a scattered sparse operation with no tfjs kernel: on wasm it
//    is a small wasm kernel (lib/backend/wasm-simd.ts) working in the backend's memory, elsewhere the JS
//    reference below; both do the same float64 operations in the same order (tested bit for bit).
//    Where the second layer is mostly pruned (under 45% left) it runs as a sparse product instead: its kernel,
//    transposed, in CSR form times the activations written transposed by the first-layer kernel, accumulated
//    from the bias in the dense product's order, so the trajectory is bit-identical (tested).
//    Measured (MLP 1x, 5,000 MNIST images, wasm, bench/ab.ts): 51 levels in ~1.0 s against 2.15 s with the JS
//    update and unfused layers, and 5-8 s for the generic path; per level ~7-8 ms update and ~10 ms for the
//    second layer's dense product (5,000 x 300 x 100, XNNPACK), less where it is sparse. Skipping the ReLU zeros
//    instead does not pay: trained MLPs have ~55-60% of hidden units active, where the sparse kernel only
//    matches XNNPACK.
// Both score the model outputs with the same function (scoreOutputs), so they differ only by float rounding
// in the products.
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data';
import { DEFAULT_STEP, densityAt, remainingAt, strategies, stepFraction, fullLevel, type LayerWeights, type PruningPlan, type StrategyName } from './strategies';
import { denseChain } from '../models/denseChain';
import { csrMatMulOp, hasCsrMatMul, wasmFirstLayer, type RemovedByRow, type RowSparseInput } from '../backend/wasm-simd';
import { denseFastPathsAllowed } from '../backend';

export interface TrajectoryPoint {
  level: number;
  /** Percent of all prunable weights remaining, from the exact counts (100 at level 0). */
  density: number;
  /** Fraction of validation images classified correctly. */
  accuracy: number;
  /** Mean softmax cross-entropy over the validation set. */
  loss: number;
  /** Unpruned weights per prunable layer. */
  remaining: Record<string, number>;
}

export interface TrajectoryOptions {
  strategy: StrategyName;
  /** Fraction of each layer's original count pruned per level (globalMagnitude: of all weights). Default DEFAULT_STEP (0.02). */
  step?: number;
  /** Last level evaluated; default ceil(1 / step) (50 for step 0.02), where everything is pruned. */
  levels?: number;
  /** Seed of the random strategy. Default 0. */
  seed?: number;
  /** Images per forward pass; default sized from the model's activations (see defaultBatchSize). */
  batchSize?: number;
  /** Use the dense-stack fast path when the model qualifies (default true); false forces the generic path. */
  fastPath?: boolean;
  /**
   * Fast path only: recompute the first layer's pre-activations in full every this many levels (0 = never,
   * the default). Not needed in practice: the incremental updates accumulate in float64, so they add no
   * error beyond the float32 rounding of the one full product (see the tests); kept as a safety valve.
   */
  refreshEvery?: number;
}

/**
 * Switches for the dense-stack fast path's levers (all on by default; bench/ab.ts turns them off one at a time
 * to measure each side by side). Every setting computes the same trajectory bit for bit (see the tests), except
 * fusedLayers off, which adds the bias after the product instead of before and so rounds differently.
 */
export const denseTrajectoryLevers = {
  /** The first-layer update as a wasm kernel on the wasm backend (off: the JS reference). */
  wasmFirstLayer: true,
  /** The one full first-layer product skipping the inputs' zeros on wasm (off: tf.matMul). */
  sparseFirstProduct: true,
  /** Later layers as tf.fused.matMul with bias and ReLU (off: matMul, add, relu). */
  fusedLayers: true,
  /**
   * On wasm, the second layer as a sparse product (its pruned kernel, transposed, in CSR form, times the
   * transposed activations, accumulated from the bias: XNNPACK's bits) at the levels where less than this
   * fraction of its weights is left; 0 = never. Below ~45% the sparse product plus the transposes beats the dense one.
   */
  sparseSecondLayerBelow: 0.45,
};

/** The masked kernel w [inDim, outDim] transposed into CSR form: row c holds the nonzero w[j, c], j ascending. */
function transposedCsr(w: Float32Array, inDim: number, outDim: number): { rowPtr: Int32Array; idx: Int32Array; vals: Float32Array } {
  let nnz = 0;
  for (let p = 0; p < w.length; p++) if (w[p] !== 0) nnz++;
  const rowPtr = new Int32Array(outDim + 1), idx = new Int32Array(nnz), vals = new Float32Array(nnz);
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

/** What a trajectory run needs besides the model: the plan and the kernels it was built from. */
interface Prepared {
  plan: PruningPlan;
  kernels: LayerWeights[];
  levels: number;
}

// ---------------------------------------------------------------------------------------------------------
// Scoring

/**
 * What the model's last layer emits: 'logits' (linear, the project's architectures) or 'probabilities'
 * (a softmax layer).
 */
export type OutputKind = 'logits' | 'probabilities';

/** Softmax probabilities are clipped like tfjs's categoricalCrossentropy so log(0) never occurs. */
const PROBABILITY_EPSILON = 1e-7;

/**
 * Sum of per-image cross-entropy and number of correct argmax predictions for `count` rows of `out`
 * (row-major, numClasses per row) against labels y[from..from+count). In float64.
 * Logits: log-sum-exp minus the label's logit (= tf.losses.softmaxCrossEntropy, as lib/train reports).
 * Probabilities: -log(clip(p_y / sum p, eps, 1 - eps)) (= tfjs categoricalCrossentropy).
 * Argmax ties go to the lowest class index, like tf.argMax.
 */
export function scoreOutputs(out: Float32Array, y: Uint8Array, from: number, count: number, numClasses: number, kind: OutputKind): { lossSum: number; correct: number } {
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < count; r++) {
    const row = r * numClasses;
    const label = y[from + r];
    if (label >= numClasses) throw new Error(`label ${label} of image ${from + r} is not a class of a ${numClasses}-class model`);
    let best = 0;
    let max = out[row];
    for (let c = 1; c < numClasses; c++) {
      if (out[row + c] > max) {
        max = out[row + c];
        best = c;
      }
    }
    if (best === label) correct++;
    if (kind === 'logits') {
      let s = 0;
      for (let c = 0; c < numClasses; c++) s += Math.exp(out[row + c] - max);
      lossSum += Math.log(s) + max - out[row + label];
    } else {
      let s = 0;
      for (let c = 0; c < numClasses; c++) s += out[row + c];
      const p = Math.min(Math.max(out[row + label] / s, PROBABILITY_EPSILON), 1 - PROBABILITY_EPSILON);
      lossSum -= Math.log(p);
    }
  }
  return { lossSum, correct };
}

/** The activation name in a layer's config ('relu', 'linear', 'softmax', ...), or undefined. */
function activationOf(layer: tf.layers.Layer): string | undefined {
  const act = layer.getConfig().activation;
  return typeof act === 'string' ? act : undefined;
}

/** 'probabilities' when the model's last layer applies a softmax, otherwise 'logits'. */
export function outputKind(model: tf.LayersModel): OutputKind {
  const last = model.outputLayers.length === 1 ? model.outputLayers[0] : undefined;
  if (!last) throw new Error('pruning trajectory needs a single-output model');
  return activationOf(last) === 'softmax' ? 'probabilities' : 'logits';
}

function shapeSize(shape: (number | null)[]): number {
  return shape.reduce<number>((a, d) => a * (d ?? 1), 1);
}

/** The model's input shape without the batch axis; throws if it is not fully known. */
function inputShapeOf(model: tf.LayersModel): number[] {
  if (model.inputs.length !== 1) throw new Error('pruning trajectory needs a single-input model');
  const dims = model.inputs[0].shape.slice(1);
  if (dims.some((d) => d === null)) throw new Error(`model input shape ${JSON.stringify(model.inputs[0].shape)} is not fully known`);
  return dims as number[];
}

/** Floats of activations one image produces across all layers: the basis of the default batch size. */
function activationFloatsPerImage(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    let shape: tf.Shape | tf.Shape[];
    try {
      shape = layer.outputShape;
    } catch {
      continue; // a layer applied several times with different shapes has no single output shape
    }
    // A layer with several outputs reports a list of shapes.
    const shapes = (Array.isArray(shape[0]) ? shape : [shape]) as (number | null)[][];
    for (const s of shapes) total += shapeSize(s.slice(1));
  }
  return Math.max(1, total);
}

/** Activation budget of one forward pass, in floats (256 MB): big batches for the MLP, a few hundred images for the CIFAR convs. */
const ACTIVATION_BUDGET_FLOATS = 64 * 1024 * 1024;

/**
 * Images per forward pass: as many as fit the activation budget, counting every layer's output (an upper
 * bound: predict frees intermediates as it goes). MLP 1x on MNIST: the whole 5,000-image set at once;
 * Conv-2 1x on CIFAR (~160k floats per image): ~400.
 */
export function defaultBatchSize(model: tf.LayersModel, n: number): number {
  return Math.max(1, Math.min(n, Math.floor(ACTIVATION_BUDGET_FLOATS / activationFloatsPerImage(model))));
}

// ---------------------------------------------------------------------------------------------------------
// Preparation

function kernelVariable(model: tf.LayersModel, name: string): tf.Variable {
  const layer = model.getLayer(name);
  const lv = layer.weights[0];
  if (!lv) throw new Error(`prunable layer '${name}' has no weights`);
  const v = lv.read();
  if (!(v instanceof tf.Variable)) throw new Error(`prunable layer '${name}': its first weight is not a variable`);
  if (v.shape.length < 2) throw new Error(`prunable layer '${name}': first weight has shape [${v.shape}], not a kernel`);
  return v;
}

async function readKernels(model: tf.LayersModel, names: string[]): Promise<LayerWeights[]> {
  if (names.length === 0) throw new Error('pruning trajectory needs at least one prunable layer');
  const out: LayerWeights[] = [];
  for (const name of names) {
    const data = await kernelVariable(model, name).data();
    // slice(): some backends hand out their own storage; the plan and the restore need a private copy.
    out.push({ name, values: (data as Float32Array).slice() });
  }
  return out;
}

function checkValidation(validation: ImageSet, inputSize: number): void {
  if (!(validation.n > 0)) throw new Error('pruning trajectory needs a non-empty validation set');
  if (validation.x.length !== validation.n * inputSize) {
    throw new Error(`validation.x has ${validation.x.length} values; expected n * ${inputSize} = ${validation.n * inputSize}`);
  }
  if (validation.y.length < validation.n) throw new Error(`validation.y has ${validation.y.length} labels for n = ${validation.n}`);
}

async function prepare(model: tf.LayersModel, names: string[], opts: TrajectoryOptions): Promise<Prepared> {
  const step = opts.step ?? DEFAULT_STEP;
  const strategy = strategies[opts.strategy];
  if (!strategy) throw new Error(`unknown pruning strategy '${opts.strategy}'`);
  const levels = opts.levels ?? fullLevel(stepFraction(step));
  if (!Number.isInteger(levels) || levels < 0) throw new Error(`levels must be an integer >= 0, got ${levels}`);
  const kernels = await readKernels(model, names);
  const plan = strategy(kernels, { step, seed: opts.seed ?? 0 });
  return { plan, kernels, levels };
}

function point(plan: PruningPlan, level: number, lossSum: number, correct: number, n: number): TrajectoryPoint {
  return { level, density: densityAt(plan, level), accuracy: correct / n, loss: lossSum / n, remaining: remainingAt(plan, level) };
}

// ---------------------------------------------------------------------------------------------------------
// Generic evaluator

async function genericTrajectory(model: tf.LayersModel, prep: Prepared, validation: ImageSet, opts: TrajectoryOptions): Promise<TrajectoryPoint[]> {
  const { plan, kernels, levels } = prep;
  const inputShape = inputShapeOf(model);
  const inputSize = shapeSize(inputShape);
  checkValidation(validation, inputSize);
  const kind = outputKind(model);
  const numClasses = shapeSize(model.outputs[0].shape.slice(1));
  const n = validation.n;
  const batch = opts.batchSize ?? defaultBatchSize(model, n);

  const variables = kernels.map((k) => kernelVariable(model, k.name));
  const working = kernels.map((k) => k.values.slice());
  const done = new Array<number>(kernels.length).fill(0);
  const inputs: tf.Tensor[] = [];
  const points: TrajectoryPoint[] = [];
  try {
    // Input batches are built once and reused at every level.
    for (let from = 0; from < n; from += batch) {
      const count = Math.min(batch, n - from);
      inputs.push(tf.tensor(validation.x.subarray(from * inputSize, (from + count) * inputSize), [count, ...inputShape], 'float32'));
    }
    for (let level = 0; level <= levels; level++) {
      const counts = plan.prunedCount(level);
      kernels.forEach((k, li) => {
        if (counts[li] === done[li]) return; // nothing new pruned in this layer at this level
        const order = plan.order[li];
        for (let j = done[li]; j < counts[li]; j++) working[li][order[j]] = 0;
        done[li] = counts[li];
        // A copy: the cpu backend keeps the array it is given, and `working` changes at the next level.
        const t = tf.tensor(working[li].slice(), variables[li].shape, 'float32');
        variables[li].assign(t); // the variable now shares t's data; disposing t only drops our reference
        t.dispose();
      });
      let lossSum = 0, correct = 0, from = 0;
      for (const xb of inputs) {
        // batchSize: predict would otherwise split our batch into its default 32-image batches (~25x slower here).
        const out = model.predict(xb, { batchSize: xb.shape[0] }) as tf.Tensor;
        const data = (await out.data()) as Float32Array;
        out.dispose();
        const s = scoreOutputs(data, validation.y, from, xb.shape[0], numClasses, kind);
        lossSum += s.lossSum;
        correct += s.correct;
        from += xb.shape[0];
      }
      points.push(point(plan, level, lossSum, correct, n));
    }
  } finally {
    for (const x of inputs) x.dispose();
    // Restore the trained kernels exactly (our private copies were never modified).
    kernels.forEach((k, li) => {
      const t = tf.tensor(k.values, variables[li].shape, 'float32');
      variables[li].assign(t);
      t.dispose();
    });
  }
  return points;
}

// ---------------------------------------------------------------------------------------------------------
// Dense-stack fast path

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

/** Layer classes that are the identity at inference on a [n, features] tensor (Flatten reshapes NHWC row-major, as validation.x is). */
const PASS_THROUGH: ReadonlySet<string> = new Set(['InputLayer', 'Dropout']);

/**
 * The model as a chain of Dense layers when it is one: a single input, layers connected one after the other,
 * only InputLayer / Flatten / Dropout / Dense, hidden Dense activations relu or linear, the last layer a
 * Dense with linear or softmax output, a Flatten before the first Dense when the input is not a vector,
 * and every prunable name a Dense layer in the chain. Returns null otherwise (the generic path applies).
 */
export function denseStack(model: tf.LayersModel, prunableLayerNames: string[]): { name: string; activation: DenseSpec['activation'] }[] | null {
  const chain = denseChain(model, PASS_THROUGH);
  if (!chain) return null;
  const dense: { name: string; activation: DenseSpec['activation'] }[] = [];
  for (let i = 0; i < chain.length; i++) {
    const act = activationOf(chain[i]) ?? 'linear';
    const last = i === chain.length - 1;
    if (!(act === 'relu' || act === 'linear' || (last && act === 'softmax'))) return null;
    dense.push({ name: chain[i].name, activation: act });
  }
  const names = new Set(dense.map((d) => d.name));
  if (!prunableLayerNames.every((n) => names.has(n))) return null;
  return dense;
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
async function fullFirstLayer(x: Float32Array, xs: RowSparseInput, n: number, spec: DenseSpec, kernel: Float32Array, chunk: number, pre: Float64Array): Promise<void> {
  const w = tf.tensor2d(kernel, [spec.inDim, spec.outDim], 'float32');
  const b = tf.tensor1d(spec.bias, 'float32');
  const sparse = hasCsrMatMul() && denseTrajectoryLevers.sparseFirstProduct;
  try {
    for (let from = 0; from < n; from += chunk) {
      const count = Math.min(chunk, n - from);
      const out = tf.tidy(() => {
        if (!sparse) return tf.add(tf.matMul(tf.tensor2d(x.subarray(from * spec.inDim, (from + count) * spec.inDim), [count, spec.inDim]), w), b);
        const p0 = xs.start[from], p1 = xs.start[from + count];
        const rowPtr = tf.tensor1d(Int32Array.from(xs.start.subarray(from, from + count + 1), (p) => p - p0), 'int32');
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
 * (lib/backend/wasm-simd.ts), which does the same float64 operations in the same order.
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
        const r0 = rowStart[i], r1 = rowStart[i + 1];
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
 * (~3.7x faster per level than the JS reference at MLP 1x: 27.5 -> 7.4 ms); elsewhere plain JS arrays.
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
  const make = () => (denseTrajectoryLevers.wasmFirstLayer ? wasmFirstLayer(xs, n, d, h, pre) : null);
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

async function denseTrajectory(model: tf.LayersModel, prep: Prepared, validation: ImageSet, opts: TrajectoryOptions,
  stack: { name: string; activation: DenseSpec['activation'] }[]): Promise<TrajectoryPoint[]> {
  const { plan, kernels, levels } = prep;
  const inputSize = shapeSize(inputShapeOf(model));
  checkValidation(validation, inputSize);
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
  const chunk = opts.batchSize ?? Math.max(1, Math.min(n, Math.floor(ACTIVATION_BUDGET_FLOATS / (2 * widest))));
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
  const points: TrajectoryPoint[] = [];
  try {
    for (let level = 0; level <= levels; level++) {
      const counts = plan.prunedCount(level);
      const sparseSecond = sparseSecondOk && 1 - counts[second.planIndex] / (second.inDim * second.outDim) < denseTrajectoryLevers.sparseSecondLayerBelow;
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
      let lossSum = 0, correct = 0;
      try {
        for (let from = 0; from < n; from += chunk) {
          const count = Math.min(chunk, n - from);
          const out = tf.tidy(() => {
            let a: tf.Tensor2D;
            if (csr) {
              // [out2, n] = bias + W2^T (CSR) x hidden^T: the same sums in the same order as the fused dense product.
              const zT = csrMatMulOp(tf.tensor1d(csr.rowPtr, 'int32'), tf.tensor1d(csr.idx, 'int32'), tf.tensor1d(csr.vals, 'float32'), state.allTransposed(), biases[0]);
              a = tf.transpose(second.activation === 'relu' ? tf.relu(zT) : zT);
            } else {
              a = state.rows(from, count);
            }
            // Bias and ReLU fused into the product, as tfjs-layers' Dense does (so the generic path's arithmetic).
            const fused = denseTrajectoryLevers.fusedLayers;
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
          const s = scoreOutputs(data, validation.y, from, count, numClasses, kind);
          lossSum += s.lossSum;
          correct += s.correct;
        }
      } finally {
        for (const w of ws) w?.dispose();
      }
      points.push(point(plan, level, lossSum, correct, n));
    }
  } finally {
    for (const b of biases) b.dispose();
    state.dispose();
  }
  return points;
}

// ---------------------------------------------------------------------------------------------------------
// Entry points

/**
 * The prunable layers: their names in forward order, or an architecture (lib/models' `Architecture`, as in
 * ARCHITECTURE.md's contract), whose prunable layer names do not depend on the width.
 */
export type PrunableLayers = string[] | { prunableLayers(width: number): { name: string }[] };

function prunableNames(prunable: PrunableLayers): string[] {
  return Array.isArray(prunable) ? prunable : prunable.prunableLayers(1).map((l) => l.name);
}

/**
 * The trajectory of `model` pruned by `opts.strategy`: one point per level k = 0..levels (always all of them:
 * the plots need the full curve). `prunableLayerNames` are the layers whose kernels (first weight) are pruned;
 * biases and other weights are never pruned. Uses the dense-stack fast path when the model is a plain
 * Dense/ReLU chain (unless `fastPath: false`), otherwise the generic evaluator. The model is unchanged afterwards.
 */
export async function pruningTrajectory(model: tf.LayersModel, prunable: PrunableLayers, validation: ImageSet, opts: TrajectoryOptions): Promise<TrajectoryPoint[]> {
  const prunableLayerNames = prunableNames(prunable);
  const prep = await prepare(model, prunableLayerNames, opts);
  // Not on webgpu (denseFastPathsAllowed): the generic evaluator runs there.
  const stack = opts.fastPath === false || !denseFastPathsAllowed() ? null : denseStack(model, prunableLayerNames);
  return stack ? denseTrajectory(model, prep, validation, opts, stack) : genericTrajectory(model, prep, validation, opts);
}

/** The dense-stack fast path, explicitly; throws when the model is not a plain Dense/ReLU chain. */
export async function mlpTrajectory(model: tf.LayersModel, prunable: PrunableLayers, validation: ImageSet, opts: TrajectoryOptions): Promise<TrajectoryPoint[]> {
  const prunableLayerNames = prunableNames(prunable);
  const stack = denseStack(model, prunableLayerNames);
  if (!stack) throw new Error('mlpTrajectory: the model is not a plain Dense/ReLU stack with the prunable layers in it; use pruningTrajectory');
  return denseTrajectory(model, await prepare(model, prunableLayerNames, opts), validation, opts, stack);
}
