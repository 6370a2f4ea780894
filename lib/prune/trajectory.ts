// The pruning trajectory: prune a trained model level by level (no retraining) and evaluate each level on
// the validation set. Two evaluators compute the same numbers:
//  - generic: writes each level's masked kernels into the model's own variables and runs model.predict
//    (any architecture; the original kernels are written back at the end, also on error);
//  - dense-stack fast path (denseStackTrajectory): for plain Dense/ReLU stacks (the MLP, run hundreds of times in
//    the study) lib/fast/denseStackTrajectory.ts computes the same points without touching the model, updating
//    the first layer incrementally per level; the generic evaluator here is the reference it is tested against.
// Both score the model outputs with the same function (scoreOutputs), so they differ only by float rounding
// in the products.
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data';
import {
  DEFAULT_STEP,
  densityAt,
  remainingAt,
  strategies,
  stepFraction,
  fullLevel,
  type LayerWeights,
  type PruningPlan,
  type StrategyName,
} from './strategies';
import { denseChain } from '../models/denseChain';
import { kernelOf, readKernels } from '../models/kernels';
import { denseStackLevelSums, type DenseStackLayer } from '../fast/denseStackTrajectory';
import { denseFastPathsAllowed } from '../fast/levers';

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
export function scoreOutputs(
  out: Float32Array,
  y: Uint8Array,
  from: number,
  count: number,
  numClasses: number,
  kind: OutputKind,
): { lossSum: number; correct: number } {
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
  if (names.length === 0) throw new Error('pruning trajectory needs at least one prunable layer');
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

  const variables = kernels.map((k) => kernelOf(model, k.name));
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
      let lossSum = 0,
        correct = 0,
        from = 0;
      for (const xb of inputs) {
        // batchSize: predict would otherwise split our batch into its default 32-image batches (far slower).
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
// Which models take the dense-stack fast path (lib/fast/denseStackTrajectory.ts)

/** Layer classes that are the identity at inference on a [n, features] tensor (Flatten reshapes NHWC row-major, as validation.x is). */
const PASS_THROUGH: ReadonlySet<string> = new Set(['InputLayer', 'Dropout']);

/**
 * The model as a chain of Dense layers when it is one: a single input, layers connected one after the other,
 * only InputLayer / Flatten / Dropout / Dense, hidden Dense activations relu or linear, the last layer a
 * Dense with linear or softmax output, a Flatten before the first Dense when the input is not a vector,
 * and every prunable name a Dense layer in the chain. Returns null otherwise (the generic path applies).
 */
export function denseStack(model: tf.LayersModel, prunableLayerNames: string[]): DenseStackLayer[] | null {
  const chain = denseChain(model, PASS_THROUGH);
  if (!chain) return null;
  const dense: DenseStackLayer[] = [];
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

/** The points of the dense-stack fast path (lib/fast/denseStackTrajectory.ts), scored as the generic evaluator scores. */
async function fastTrajectory(
  model: tf.LayersModel,
  prep: Prepared,
  validation: ImageSet,
  opts: TrajectoryOptions,
  stack: DenseStackLayer[],
): Promise<TrajectoryPoint[]> {
  const { plan, kernels, levels } = prep;
  const inputSize = shapeSize(inputShapeOf(model));
  checkValidation(validation, inputSize);
  const fastOpts = { batchSize: opts.batchSize, refreshEvery: opts.refreshEvery, activationBudgetFloats: ACTIVATION_BUDGET_FLOATS };
  const sums = await denseStackLevelSums(model, stack, plan, kernels, levels, validation, inputSize, fastOpts, scoreOutputs);
  return sums.map((s, level) => point(plan, level, s.lossSum, s.correct, validation.n));
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
export async function pruningTrajectory(
  model: tf.LayersModel,
  prunable: PrunableLayers,
  validation: ImageSet,
  opts: TrajectoryOptions,
): Promise<TrajectoryPoint[]> {
  const prunableLayerNames = prunableNames(prunable);
  const prep = await prepare(model, prunableLayerNames, opts);
  // Not on webgpu (denseFastPathsAllowed): the generic evaluator runs there.
  const stack = opts.fastPath === false || !denseFastPathsAllowed() ? null : denseStack(model, prunableLayerNames);
  return stack ? fastTrajectory(model, prep, validation, opts, stack) : genericTrajectory(model, prep, validation, opts);
}

/** The dense-stack fast path, explicitly (any plain Dense/ReLU stack, e.g. the MLP); throws for any other model. */
export async function denseStackTrajectory(
  model: tf.LayersModel,
  prunable: PrunableLayers,
  validation: ImageSet,
  opts: TrajectoryOptions,
): Promise<TrajectoryPoint[]> {
  const prunableLayerNames = prunableNames(prunable);
  const stack = denseStack(model, prunableLayerNames);
  if (!stack) throw new Error('denseStackTrajectory: the model is not a plain Dense/ReLU stack with the prunable layers in it; use pruningTrajectory');
  return fastTrajectory(model, await prepare(model, prunableLayerNames, opts), validation, opts, stack);
}
