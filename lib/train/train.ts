// The training loop and its stop rules (paper Sec 3.1 "Stopping Criteria"), hand-written rather than model.fit
// so the step stays lean and the stop rules see every step's loss. One step: gather a batch from the typed arrays
// into preallocated buffers, one tf.tensor each for images and one-hot labels, optimizer.minimize inside a
// tidy. Per-step losses stay tensors until a check, so the backend is synced once per check, not per step.
// Plain Dense stacks trained with SGD (the MLP) take a hand-written step instead (lib/fast/denseSgdStep.ts): the same kernels
// on the same inputs, so the same bits, without the tape and layer overhead; `trainer: 'generic'` turns it off.
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data';
import { Rng, checkSeed, deriveSeed } from '../rng';
import { makeOptimizer, type OptimizerName } from './optimizers';
import { DenseSgdTrainer, denseTrainingStack } from '../fast/denseSgdStep';
import { denseFastPathsAllowed } from '../fast/levers';
import { optimizerState, readCheckpoint, restoreOptimizer, writeCheckpoint } from './checkpoint';

export type StopRule =
  /** Stop when the mean training loss over the last `window` steps is <= target, checked every `checkEvery` steps. */
  | { kind: 'targetTrainLoss'; target: number; window: number; checkEvery: number; maxEpochs: number }
  /**
   * Train up to `epochs` epochs, evaluate validation loss after each, keep (restore) the weights of the best epoch.
   * With `patience`, stop once that many epochs in a row have not improved on the best (absent: all epochs).
   */
  | { kind: 'bestValidationLoss'; epochs: number; patience?: number };

export interface TrainConfig {
  optimizer: OptimizerName;
  learningRate: number;
  batchSize: number;
  stop: StopRule;
  shuffleSeed: number;
  /** bestValidationLoss runs: steps per training-curve point (targetTrainLoss uses its window/checkEvery). Default 100. */
  curveWindow?: number;
  /** Batch size of validation passes (memory only; results do not depend on it beyond float rounding). Default 1000. */
  evalBatchSize?: number;
  /**
   * 'auto' (default): the dense SGD step for plain Dense stacks with SGD (same results, faster), else the generic
   * step. 'generic': always optimizer.minimize over the model (e.g. to compare the two).
   */
  trainer?: 'auto' | 'generic';
  /**
   * Called at every curve point and after every validation pass, while the model holds the weights of that
   * moment (progress display; exceptions are swallowed so a display bug never ends a run).
   */
  onProgress?: (p: TrainProgress) => void;
  /**
   * bestValidationLoss runs: after every epoch the loop's whole state is written here (lib/train/checkpoint.ts),
   * and a run started with a checkpoint of the same configuration resumes from it, bit-identical to a run never
   * stopped. The file is removed when training ends. Absent: no checkpoints.
   */
  checkpointFile?: string;
  /** Mixed into the checkpoint's key, e.g. the code's commit, so a checkpoint from other code is never resumed. */
  checkpointTag?: string;
  /** Polled after each epoch's checkpoint: true ends training there by throwing TrainingInterrupted. */
  stopAtEpochEnd?: () => boolean;
}

/** Thrown when `stopAtEpochEnd` asked to stop: the checkpoint after `epoch` holds the run's state. */
export class TrainingInterrupted extends Error {
  constructor(readonly epoch: number) {
    super(`training interrupted after epoch ${epoch} (checkpoint written; the next run resumes there)`);
    this.name = 'TrainingInterrupted';
  }
}

export interface TrainProgress {
  step: number;
  epochs: number;
  trainLoss?: number;
  validation?: { epoch: number; loss: number; accuracy: number };
}

export interface TrainResult {
  status: 'complete' | 'diverged';
  /** Which step ran: the dense SGD step (lib/fast/denseSgdStep.ts) or optimizer.minimize over the model. */
  trainer: 'dense-sgd' | 'generic';
  stopReason: 'targetReached' | 'bestValidationLoss' | 'noImprovement' | 'epochCap' | 'diverged';
  /** Optimiser steps taken (all of them, including those after the best epoch of a bestValidationLoss run). */
  steps: number;
  /** steps / stepsPerEpoch (fractional for targetTrainLoss runs). */
  epochs: number;
  stepsPerEpoch: number;
  wallSeconds: number;
  /** First step (1-based) whose training loss was NaN or infinite. */
  divergedAtStep?: number;
  /** bestValidationLoss runs: the epoch (1-based) whose weights the model holds at the end. */
  bestEpoch?: number;
  /** Mean training loss over each window of steps, at the window's last step. */
  curve: { step: number; loss: number }[];
  /** Validation loss/accuracy after each epoch (bestValidationLoss) or once at the end (targetTrainLoss; fractional epoch). */
  validation: { epoch: number; loss: number; accuracy: number }[];
}

/** Training and validation images; lib/data's Split has this shape. */
export interface TrainData {
  train: ImageSet;
  validation: ImageSet;
}

/** The order in which epoch `epoch` (0-based) visits the n training images: a seeded permutation per epoch. */
export function epochOrder(shuffleSeed: number, epoch: number, n: number): Uint32Array {
  return new Rng(deriveSeed(shuffleSeed, 'shuffle', epoch)).permutation(n);
}

/**
 * Let timers and I/O run (progress output, lock heartbeats): a training can take minutes of synchronous
 * backend work. Costs microseconds, done once per check.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Per-image input size and class count the model expects (the model's input is NHWC, output logits). */
function modelDims(model: tf.LayersModel): { inputShape: number[]; inputSize: number; numClasses: number } {
  const inShape = model.inputs[0].shape.slice(1);
  const outShape = model.outputs[0].shape;
  if (inShape.some((d) => d === null) || outShape.length !== 2 || outShape[1] === null) {
    throw new Error(`model must have a fixed input shape and [batch, classes] output, got ${JSON.stringify(inShape)} -> ${JSON.stringify(outShape)}`);
  }
  const inputShape = inShape as number[];
  return { inputShape, inputSize: inputShape.reduce((a, b) => a * b, 1), numClasses: outShape[1] };
}

function checkSet(set: ImageSet, inputSize: number, numClasses: number, what: string): void {
  if (set.x.length !== set.n * inputSize) throw new Error(`${what}: x has ${set.x.length} values, expected n*${inputSize} = ${set.n * inputSize}`);
  if (set.y.length !== set.n) throw new Error(`${what}: y has ${set.y.length} labels, expected n = ${set.n}`);
  for (let i = 0; i < set.n; i++) {
    if (set.y[i] >= numClasses) throw new Error(`${what}: label ${set.y[i]} at index ${i} is not below ${numClasses} classes`);
  }
}

/**
 * Copies images `order[from..from+count)` of `set` (`order` null: images from..from+count) into x (NHWC rows)
 * and their one-hot labels into y.
 */
function gather(
  set: ImageSet,
  order: ArrayLike<number> | null,
  from: number,
  count: number,
  inputSize: number,
  numClasses: number,
  x: Float32Array,
  y: Float32Array,
): void {
  y.fill(0, 0, count * numClasses);
  for (let j = 0; j < count; j++) {
    const i = order ? order[from + j] : from + j;
    x.set(set.x.subarray(i * inputSize, (i + 1) * inputSize), j * inputSize);
    y[j * numClasses + set.y[i]] = 1;
  }
}

/** Mean softmax cross-entropy of logits against one-hot labels. */
function meanCrossEntropy(onehot: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.mean(tf.losses.softmaxCrossEntropy(onehot, logits, undefined, undefined, tf.Reduction.NONE));
}

/**
 * Runs the model over `set` in inference mode (BatchNorm uses its moving statistics) in batches.
 * `perBatch` gets each batch's logits and one-hot labels inside a tidy.
 */
function forEachBatch(
  model: tf.LayersModel,
  set: ImageSet,
  batchSize: number,
  perBatch: (logits: tf.Tensor2D, onehot: tf.Tensor2D, count: number, from: number) => void,
): void {
  const { inputShape, inputSize, numClasses } = modelDims(model);
  checkSet(set, inputSize, numClasses, 'evaluation set');
  const b = Math.min(batchSize, Math.max(1, set.n));
  const x = new Float32Array(b * inputSize);
  const y = new Float32Array(b * numClasses);
  for (let from = 0; from < set.n; from += b) {
    const count = Math.min(b, set.n - from);
    gather(set, null, from, count, inputSize, numClasses, x, y);
    tf.tidy(() => {
      const xs = tf.tensor(x.subarray(0, count * inputSize), [count, ...inputShape], 'float32');
      const ys = tf.tensor2d(y.subarray(0, count * numClasses), [count, numClasses], 'float32');
      const logits = model.apply(xs, { training: false }) as tf.Tensor2D;
      perBatch(logits, ys, count, from);
    });
  }
}

/** Mean cross-entropy loss and accuracy (fraction in [0,1]) of `model` on `set`, BatchNorm in inference mode. */
export function evaluate(model: tf.LayersModel, set: ImageSet, batchSize = 1000): { loss: number; accuracy: number } {
  if (set.n === 0) throw new Error('evaluate: empty set');
  // Sums stay on the backend across batches: one read at the end instead of one per batch.
  let lossSum: tf.Scalar = tf.scalar(0);
  let correct: tf.Scalar = tf.scalar(0);
  forEachBatch(model, set, batchSize, (logits, onehot) => {
    const losses = tf.losses.softmaxCrossEntropy(onehot, logits, undefined, undefined, tf.Reduction.NONE);
    const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(onehot, 1)), 'float32'));
    const nextLoss = tf.keep(tf.add(lossSum, tf.sum(losses)));
    const nextCorrect = tf.keep(tf.add(correct, hits));
    lossSum.dispose();
    correct.dispose();
    lossSum = nextLoss as tf.Scalar;
    correct = nextCorrect as tf.Scalar;
  });
  const sums = { loss: lossSum.dataSync()[0], correct: correct.dataSync()[0] };
  lossSum.dispose();
  correct.dispose();
  return { loss: sums.loss / set.n, accuracy: sums.correct / set.n };
}

/** Logits of every image of `set` (n x classes, row-major), inference mode. */
export function predictLogits(model: tf.LayersModel, set: ImageSet, batchSize = 1000): Float32Array {
  const { numClasses } = modelDims(model);
  const out = new Float32Array(set.n * numClasses);
  forEachBatch(model, set, batchSize, (logits, _onehot, _count, from) => {
    out.set(logits.dataSync() as Float32Array, from * numClasses);
  });
  return out;
}

/** 1 where the model's top logit is the label (ties: the lowest class index wins), else 0 (paper Sec 5.2). */
export function correctness(model: tf.LayersModel, set: ImageSet, batchSize = 1000): Uint8Array {
  const out = new Uint8Array(set.n);
  forEachBatch(model, set, batchSize, (logits, onehot, _count, from) => {
    out.set(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(onehot, 1)), 'int32').dataSync() as Int32Array, from);
  });
  return out;
}

function validateConfig(config: TrainConfig): void {
  const { batchSize, stop } = config;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  checkSeed('shuffleSeed', config.shuffleSeed);
  if (stop.kind === 'targetTrainLoss') {
    for (const k of ['window', 'checkEvery'] as const) {
      if (!Number.isInteger(stop[k]) || stop[k] < 1) throw new Error(`stop.${k} must be a positive integer, got ${stop[k]}`);
    }
    if (!(stop.maxEpochs > 0)) throw new Error(`stop.maxEpochs must be positive, got ${stop.maxEpochs}`);
    if (!Number.isFinite(stop.target)) throw new Error(`stop.target must be a finite number, got ${stop.target}`);
  } else if (stop.kind === 'bestValidationLoss') {
    if (!Number.isInteger(stop.epochs) || stop.epochs < 1) throw new Error(`stop.epochs must be a positive integer, got ${stop.epochs}`);
    if (stop.patience !== undefined && (!Number.isInteger(stop.patience) || stop.patience < 1)) {
      throw new Error(`stop.patience must be a positive integer (epochs without improvement before stopping), got ${stop.patience}`);
    }
  } else {
    throw new Error(`unknown stop rule ${JSON.stringify(stop)}`);
  }
}

/**
 * Train `model` in place until its stop rule (see StopRule). Never throws for a diverging run: a NaN or
 * infinite training loss ends it with status 'diverged' and the first such step. Disposes everything it
 * creates (the optimiser, weight copies); the caller still owns (and disposes) the model.
 * For bestValidationLoss the model ends holding the best epoch's weights (BatchNorm statistics included); a run
 * that diverges after some epochs still restores the best epoch before the divergence (`bestEpoch` says which).
 * Per-step losses stay on the backend as scalars and are read together at each check (one sync per check,
 * and the exact first non-finite step is known).
 * Deterministic: same model weights, data, config and backend give bit-identical results.
 */
export async function trainModel(model: tf.LayersModel, data: TrainData, config: TrainConfig): Promise<TrainResult> {
  validateConfig(config);
  const started = process.hrtime.bigint();
  const { inputShape, inputSize, numClasses } = modelDims(model);
  const { train, validation } = data;
  checkSet(train, inputSize, numClasses, 'training set');
  if (train.n === 0) throw new Error('training set is empty');
  const stop = config.stop;
  if (stop.kind === 'bestValidationLoss' && validation.n === 0) throw new Error('bestValidationLoss needs a non-empty validation set');
  const evalBatch = config.evalBatchSize ?? 1000;

  const batchSize = config.batchSize;
  const stepsPerEpoch = Math.ceil(train.n / batchSize); // the last batch of an epoch may be smaller (nothing dropped)
  const window = stop.kind === 'targetTrainLoss' ? stop.window : (config.curveWindow ?? 100);
  const checkEvery = stop.kind === 'targetTrainLoss' ? stop.checkEvery : window;
  const maxSteps = stop.kind === 'targetTrainLoss' ? Math.ceil(stop.maxEpochs * stepsPerEpoch) : stop.epochs * stepsPerEpoch;

  const optimizer = makeOptimizer(config.optimizer, config.learningRate); // also validates the learning rate
  // Not on webgpu: the plain layer path is what runs there (denseFastPathsAllowed).
  const stack = config.trainer !== 'generic' && config.optimizer === 'sgd' && denseFastPathsAllowed() ? denseTrainingStack(model) : null;
  const dense = stack ? new DenseSgdTrainer(stack, config.learningRate, batchSize) : null;
  // The variables behind the trainable LayerVariables (BatchNorm moving statistics are not trainable).
  const varList = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const xBuf = new Float32Array(batchSize * inputSize);
  const yBuf = new Float32Array(batchSize * numClasses);

  const curve: TrainResult['curve'] = [];
  const validationLog: TrainResult['validation'] = [];
  const recent = new Float64Array(window); // ring buffer of the last `window` step losses
  let pending: tf.Scalar[] = []; // step losses not yet read back
  let step = 0;
  let divergedAtStep: number | undefined;
  let stopReason: TrainResult['stopReason'] | undefined;
  let best: { epoch: number; loss: number; weights: tf.Tensor[] } | undefined;

  const progress = (p: TrainProgress) => {
    try {
      config.onProgress?.(p);
    } catch {
      // Progress display must never end a training run.
    }
  };

  /** Read the pending step losses back (one sync), fill the ring buffer, note the first non-finite loss. */
  const flush = () => {
    if (pending.length === 0) return;
    const values = tf.tidy(() => tf.stack(pending).dataSync());
    const firstStep = step - pending.length + 1;
    for (const t of pending) t.dispose();
    pending = [];
    for (let k = 0; k < values.length; k++) {
      const s = firstStep + k;
      if (!Number.isFinite(values[k]) && divergedAtStep === undefined) divergedAtStep = s;
      recent[(s - 1) % window] = values[k];
    }
  };
  const windowMean = () => {
    let sum = 0;
    for (let k = 0; k < window; k++) sum += recent[k];
    return sum / window;
  };
  const fractionalEpochs = () => step / stepsPerEpoch;

  // Epoch checkpoints (bestValidationLoss only: the MLP's targetTrainLoss runs take seconds).
  const checkpointFile = stop.kind === 'bestValidationLoss' ? config.checkpointFile : undefined;
  const checkpointKey = JSON.stringify({
    // Shapes in order, not names: tfjs suffixes weight names per process (a second 'conv1' is 'conv1/kernel_1'), so a
    // resuming process, which builds its model first, would never match the names of the process that stopped.
    weights: model.weights.map((w) => w.shape),
    train: train.n,
    validation: validation.n,
    optimizer: config.optimizer,
    learningRate: config.learningRate,
    batchSize,
    stop,
    shuffleSeed: config.shuffleSeed,
    window,
    trainer: dense ? 'dense-sgd' : 'generic',
    tag: config.checkpointTag ?? null,
  });
  let resumedSeconds = 0;

  try {
    let epoch = 0;
    const resumed = checkpointFile ? readCheckpoint(checkpointFile, checkpointKey) : null;
    if (resumed) {
      const saved = model.weights.map((w, i) => tf.tensor(resumed.model[i], w.shape as number[], 'float32'));
      model.setWeights(saved); // the variables take their own references
      tf.dispose(saved);
      await restoreOptimizer(
        optimizer,
        resumed.optimizer,
        resumed.adamBetaPowers,
        varList.map((v) => ({ name: v.name, shape: v.shape })),
      );
      if (resumed.best) {
        const b = resumed.best;
        best = { epoch: b.epoch, loss: b.loss, weights: model.weights.map((w, i) => tf.keep(tf.tensor(b.weights[i], w.shape as number[], 'float32'))) };
      }
      epoch = resumed.epoch;
      step = resumed.step;
      resumedSeconds = resumed.wallSeconds;
      curve.push(...resumed.curve);
      validationLog.push(...resumed.validation);
      recent.set(resumed.recent);
    }
    while (stopReason === undefined && step < maxSteps) {
      const order = epochOrder(config.shuffleSeed, epoch, train.n);
      for (let from = 0; from < train.n && step < maxSteps; from += batchSize) {
        const count = Math.min(batchSize, train.n - from);
        if (!dense) gather(train, order, from, count, inputSize, numClasses, xBuf, yBuf);
        const cost = dense
          ? dense.stepFrom(train, order, from, count)
          : tf.tidy(() => {
              // tf.tensor copies (wasm) or holds (cpu) the buffer view; either way it is disposed before the next fill.
              const xs = tf.tensor(xBuf.subarray(0, count * inputSize), [count, ...inputShape], 'float32');
              const ys = tf.tensor2d(yBuf.subarray(0, count * numClasses), [count, numClasses], 'float32');
              return optimizer.minimize(() => meanCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor), true, varList) as tf.Scalar;
            });
        pending.push(cost);
        step++;

        if (step % checkEvery === 0 || step === maxSteps) {
          flush();
          await yieldToEventLoop();
          if (divergedAtStep !== undefined) {
            stopReason = 'diverged';
            break;
          }
          if (step >= window) {
            const mean = windowMean();
            curve.push({ step, loss: mean });
            progress({ step, epochs: fractionalEpochs(), trainLoss: mean });
            if (stop.kind === 'targetTrainLoss' && mean <= stop.target) {
              stopReason = 'targetReached';
              break;
            }
          }
        }
      }
      epoch++;
      if (stopReason !== undefined) break;

      if (stop.kind === 'bestValidationLoss') {
        flush();
        if (divergedAtStep !== undefined) {
          stopReason = 'diverged';
          break;
        }
        const v = evaluate(model, validation, evalBatch);
        const entry = { epoch, loss: v.loss, accuracy: v.accuracy };
        validationLog.push(entry);
        progress({ step, epochs: epoch, validation: entry });
        if (!Number.isFinite(v.loss)) {
          divergedAtStep = step;
          stopReason = 'diverged';
          break;
        }
        if (best === undefined || v.loss < best.loss) {
          // All weights, BatchNorm moving statistics included: restoring must reproduce the epoch's model.
          const weights = model.weights.map((w) => tf.keep(w.read().clone()));
          if (best) tf.dispose(best.weights);
          best = { epoch, loss: v.loss, weights };
        }
        if (stop.patience !== undefined && best && epoch - best.epoch >= stop.patience) {
          stopReason = 'noImprovement';
          break;
        }
        if (checkpointFile && step < maxSteps) {
          const opt = await optimizerState(optimizer);
          const b = best;
          writeCheckpoint(checkpointFile, {
            key: checkpointKey,
            epoch,
            step,
            wallSeconds: resumedSeconds + Number(process.hrtime.bigint() - started) / 1e9,
            curve,
            validation: validationLog,
            model: model.weights.map((w) => w.read().dataSync() as Float32Array),
            best: b ? { epoch: b.epoch, loss: b.loss, weights: b.weights.map((t) => t.dataSync() as Float32Array) } : null,
            optimizer: opt.values,
            adamBetaPowers: opt.adamBetaPowers,
            recent,
          });
          if (config.stopAtEpochEnd?.()) throw new TrainingInterrupted(epoch);
        }
      }
    }
    flush();
    if (stopReason === undefined && divergedAtStep !== undefined) stopReason = 'diverged';
    if (stopReason === undefined) stopReason = stop.kind === 'bestValidationLoss' ? 'bestValidationLoss' : 'epochCap';

    if (best) model.setWeights(best.weights);
    if (stop.kind === 'targetTrainLoss' && stopReason !== 'diverged' && validation.n > 0) {
      const v = evaluate(model, validation, evalBatch);
      const entry = { epoch: fractionalEpochs(), loss: v.loss, accuracy: v.accuracy };
      validationLog.push(entry);
      progress({ step, epochs: entry.epoch, validation: entry });
    }
  } finally {
    tf.dispose(pending);
    if (best) tf.dispose(best.weights);
    optimizer.dispose();
    dense?.dispose();
  }

  const result: TrainResult = {
    status: stopReason === 'diverged' ? 'diverged' : 'complete',
    trainer: dense ? 'dense-sgd' : 'generic',
    stopReason,
    steps: step,
    epochs: fractionalEpochs(),
    stepsPerEpoch,
    wallSeconds: resumedSeconds + Number(process.hrtime.bigint() - started) / 1e9,
    curve,
    validation: validationLog,
  };
  if (divergedAtStep !== undefined) result.divergedAtStep = divergedAtStep;
  if (best) result.bestEpoch = best.epoch;
  if (checkpointFile) fs.rmSync(checkpointFile, { force: true }); // finished: nothing to resume
  return result;
}
