// Edge-popup (Ramanujan et al. 2020, "What's hidden in a randomly weighted neural network?") over a TRAINED,
// frozen network: the paper's proposed follow-up (Section 6, issue 16 part 1) of finding a better subnetwork of
// a given size than magnitude pruning finds.
//
// Reading of the reference (allenai/hidden-networks, utils/conv_type.py, SubnetConv + GetSubnet):
//   forward:  mask = top-k of |score| in each layer (k = the kept fraction), kernel_used = kernel * mask
//   backward: GetSubnet passes its incoming gradient through unchanged (straight-through), and |.| before it
//             contributes sign(score), so  dL/dscore = dL/dkernel_used * kernel * sign(score)
//   optimiser: SGD, momentum 0.9 (PyTorch form: v = m v + g + wd s; s -= lr v), weight decay 1e-4 on the scores,
//             lr 0.1 with a per-epoch cosine schedule lr_e = 0.5 (1 + cos(pi e / E)) lr, batch 128 (configs/smallscale/fc).
// Here the kernels and biases are the trained ones and never change; only the scores move.
//
// Scope: plain dense stacks (the MLP: Flatten then Dense layers, relu hidden, linear logits out), the shape
// lib/prune's denseStack recognises. Conv models would need the masked forward built per layer type (later).
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../data';
import type { PrunableLayer } from '../models/types';
import { getLayerKernels, setKernels, type LayerWeights } from '../models/kernels';
import { Rng, deriveSeed } from '../rng';
import { epochOrder, evaluate } from '../train/train';
import { magnitudeOrder, prunedAt, stepFraction } from './strategies';
import { denseStack } from './trajectory';

export type ScoreInit = 'magnitude' | 'kaimingUniform';

export interface EdgePopupOptions {
  /** Percent of each prunable layer's weights kept, in (0, 100] (the same in every layer, as the paper prunes). */
  density: number;
  /** Search epochs over `train` (0: no search, the initial mask is returned). */
  epochs: number;
  /** Seeds the per-epoch shuffles (lib/train's epochOrder) and the random score init. */
  seed: number;
  /**
   * 'magnitude' (default): score = |w|, so the first mask IS the layer-wise magnitude mask at this density and the
   * search starts from the magnitude subnetwork. 'kaimingUniform': the reference's init, U(-1/sqrt(fanIn), 1/sqrt(fanIn))
   * (PyTorch's kaiming_uniform_ with a = sqrt(5)), seeded per layer.
   */
  scoreInit?: ScoreInit;
  learningRate?: number; // 0.1
  momentum?: number; // 0.9
  weightDecay?: number; // 1e-4
  batchSize?: number; // 128
  /**
   * Default true: evaluate the full training loss of the mask before the search and after every epoch and return
   * the best. With the magnitude init this makes the result never worse than magnitude pruning on the training
   * split (the known answer); SGD alone guarantees no such thing.
   */
  keepBest?: boolean;
  /** Steps per point of the training-loss curve (mean minibatch loss). Default 10. */
  curveWindow?: number;
  /** Batch size of the full-set evaluations (memory only). Default 1000. */
  evalBatchSize?: number;
}

export interface EdgePopupResult {
  density: number;
  /** Per prunable layer (order of `prunableLayers`): 1 = kept. */
  masks: Uint8Array[];
  /** The scores the returned masks were taken from (the top `kept` of |score| per layer). */
  scores: Float32Array[];
  /** Per prunable layer: how many weights each mask keeps (keptCount(n, density)). */
  kept: number[];
  /** Mean minibatch training loss of the masked network per `curveWindow` steps, at the window's last step. */
  curve: { step: number; loss: number }[];
  /** Full training-split loss/accuracy of each epoch's mask (epoch 0: the initial mask), as maskedEvaluate gives it. */
  epochLosses: { epoch: number; loss: number; accuracy: number }[];
  /** The epoch whose mask is returned (the last one when keepBest is false). */
  chosenEpoch: number;
  steps: number;
  wallSeconds: number;
}

/**
 * How many of a layer's n weights are kept at `density` percent: n - floor((100 - density) n / 100), computed in
 * integers. This is the layer-wise magnitude plan's count at the same density: with step 0.01 at level 100 - density
 * (and with the paper's step 0.02 wherever density is even).
 */
export function keptCount(n: number, density: number): number {
  checkDensity(density);
  if (density === 100) return n;
  return n - prunedAt(n, 1, stepFraction((100 - density) / 100));
}

function checkDensity(density: number): void {
  if (!(density > 0 && density <= 100)) throw new Error(`edge-popup density must be a percentage in (0, 100], got ${density}`);
}

/**
 * The mask keeping the `kept` largest |score| (ties: the higher index kept, so scores = w give exactly the
 * layer-wise magnitude plan's mask, whose order prunes the lower index first).
 */
export function topMask(scores: Float32Array, kept: number, out: Uint8Array = new Uint8Array(scores.length)): Uint8Array {
  const order = magnitudeOrder(scores); // ascending |score|; also throws on NaN (a diverged search)
  const pruned = scores.length - kept;
  out.fill(1);
  for (let i = 0; i < pruned; i++) out[order[i]] = 0;
  return out;
}

/**
 * Validation (or any set's) loss and accuracy of the model with each prunable kernel multiplied by its mask, by
 * lib/train's evaluate; the original kernels are restored afterwards (also on error), bit for bit.
 */
export function maskedEvaluate(
  model: tf.LayersModel,
  prunableLayers: PrunableLayer[],
  masks: Uint8Array[],
  set: ImageSet,
  batchSize = 1000,
): { loss: number; accuracy: number } {
  if (masks.length !== prunableLayers.length) throw new Error(`maskedEvaluate: ${masks.length} masks for ${prunableLayers.length} layers`);
  const original = getLayerKernels(model, prunableLayers);
  const masked: LayerWeights[] = original.map((k, i) => {
    if (masks[i].length !== k.values.length) throw new Error(`maskedEvaluate: layer '${k.name}' has ${k.values.length} weights, mask has ${masks[i].length}`);
    return { name: k.name, values: k.values.map((v, j) => (masks[i][j] ? v : 0)) };
  });
  try {
    setKernels(model, masked);
    return evaluate(model, set, batchSize);
  } finally {
    setKernels(model, original);
  }
}

/** One Dense layer of the stack as the search sees it. */
interface StackLayer {
  name: string;
  relu: boolean;
  kernel: tf.Tensor2D;
  bias: tf.Tensor1D | null;
  /** Index into the prunable layers, or -1 for a Dense layer that is not pruned (used as is). */
  prunable: number;
}

function buildStack(model: tf.LayersModel, prunableLayers: PrunableLayer[]): StackLayer[] {
  const names = prunableLayers.map((l) => l.name);
  const chain = denseStack(model, names);
  if (!chain) throw new Error('edgePopupSubnetwork: the model is not a plain dense stack (only the MLP is supported so far)');
  if (chain[chain.length - 1].activation !== 'linear') throw new Error('edgePopupSubnetwork: the last layer must output logits (linear)');
  return chain.map((c) => {
    // getWeights hands out the variables' own tensors: clones (shared data, own lifetime) are ours to dispose.
    const w = model.getLayer(c.name).getWeights();
    return {
      name: c.name,
      relu: c.activation === 'relu',
      kernel: tf.clone(w[0]) as tf.Tensor2D,
      bias: w[1] ? (tf.clone(w[1]) as tf.Tensor1D) : null,
      prunable: names.indexOf(c.name),
    };
  });
}

function initialScores(kernels: LayerWeights[], layers: PrunableLayer[], init: ScoreInit, seed: number): Float32Array[] {
  if (init === 'magnitude') return kernels.map((k) => k.values.map(Math.abs));
  if (init === 'kaimingUniform') {
    return layers.map((l) => {
      const rng = new Rng(deriveSeed(seed, 'edgePopupScores', l.name));
      const bound = 1 / Math.sqrt(l.fanIn); // gain sqrt(2 / (1 + 5)) times sqrt(3 / fanIn)
      return Float32Array.from({ length: l.count }, () => rng.uniform(-bound, bound));
    });
  }
  throw new Error(`unknown score init '${String(init)}' (magnitude or kaimingUniform)`);
}

/**
 * Edge-popup on a trained dense stack: the masks (per prunable layer, `density` percent kept in each) whose masked
 * network has the lowest training loss the search found, scores fitted on `train`. The model's weights are
 * frozen: it ends exactly as it started. Deterministic for a given seed, data and backend.
 */
export async function edgePopupSubnetwork(
  model: tf.LayersModel,
  prunableLayers: PrunableLayer[],
  train: ImageSet,
  opts: EdgePopupOptions,
): Promise<EdgePopupResult> {
  const started = process.hrtime.bigint();
  checkDensity(opts.density);
  const epochs = opts.epochs;
  if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`epochs must be an integer >= 0, got ${epochs}`);
  const lr = opts.learningRate ?? 0.1;
  const momentum = opts.momentum ?? 0.9;
  const weightDecay = opts.weightDecay ?? 1e-4;
  const batchSize = opts.batchSize ?? 128;
  const keepBest = opts.keepBest ?? true;
  const curveWindow = opts.curveWindow ?? 10;
  const evalBatchSize = opts.evalBatchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(curveWindow) || curveWindow < 1) throw new Error(`curveWindow must be a positive integer, got ${curveWindow}`);
  if (train.n < 1) throw new Error('edgePopupSubnetwork: empty training set');

  const kernels = getLayerKernels(model, prunableLayers); // also checks shapes against the descriptions
  const kept = kernels.map((k) => keptCount(k.values.length, opts.density));
  const scores = initialScores(kernels, prunableLayers, opts.scoreInit ?? 'magnitude', opts.seed);
  const velocity = scores.map((s) => new Float32Array(s.length));
  const masks = scores.map((s, i) => topMask(s, kept[i]));
  const maskF32 = masks.map((m) => new Float32Array(m.length));

  const stack = buildStack(model, prunableLayers); // before any evaluation: throws for models it cannot search
  const evalMasks = (): { loss: number; accuracy: number } => maskedEvaluate(model, prunableLayers, masks, train, evalBatchSize);
  const history: { epoch: number; loss: number; accuracy: number }[] = [];
  let best = masks.map((m) => m.slice());
  let bestScores = scores.map((s) => s.slice());
  let chosenEpoch = 0;

  const inputSize = train.x.length / train.n;
  const numClasses = stack[stack.length - 1].kernel.shape[1];
  const curve: { step: number; loss: number }[] = [];
  let step = 0;
  try {
    history.push({ epoch: 0, ...evalMasks() });
    // Masked forward of a batch given the masked kernels of the prunable layers; mean cross-entropy.
    const lossOf =
      (x: tf.Tensor2D, onehot: tf.Tensor2D) =>
      (...used: tf.Tensor[]): tf.Scalar => {
        let h: tf.Tensor2D = x;
        for (const l of stack) {
          const k = l.prunable >= 0 ? (used[l.prunable] as tf.Tensor2D) : l.kernel;
          h = tf.matMul(h, k);
          if (l.bias) h = tf.add(h, l.bias);
          if (l.relu) h = tf.relu(h);
        }
        return tf.losses.softmaxCrossEntropy(onehot, h) as tf.Scalar;
      };
    const xb = new Float32Array(batchSize * inputSize);
    const yb = new Float32Array(batchSize * numClasses);
    let windowSum = 0;
    let windowCount = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const rate = 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs)) * lr;
      const order = epochOrder(opts.seed, epoch, train.n);
      for (let from = 0; from < train.n; from += batchSize) {
        const count = Math.min(batchSize, train.n - from);
        yb.fill(0, 0, count * numClasses);
        for (let j = 0; j < count; j++) {
          const i = order[from + j];
          xb.set(train.x.subarray(i * inputSize, (i + 1) * inputSize), j * inputSize);
          yb[j * numClasses + train.y[i]] = 1;
        }
        for (let l = 0; l < masks.length; l++) for (let j = 0; j < masks[l].length; j++) maskF32[l][j] = masks[l][j];
        // dL/d(kernel * mask) for each prunable layer, read back to update the scores in JS.
        const out = tf.tidy(() => {
          const x = tf.tensor2d(xb.subarray(0, count * inputSize), [count, inputSize]);
          const y = tf.tensor2d(yb.subarray(0, count * numClasses), [count, numClasses]);
          const used = prunableLayers.map((_, p) => {
            const l = stack.find((s) => s.prunable === p) as StackLayer; // buildStack checked every prunable layer is in the stack
            return tf.mul(l.kernel, tf.tensor(maskF32[p], l.kernel.shape));
          });
          const { value, grads: g } = tf.valueAndGrads(lossOf(x, y))(used);
          return [value, ...g];
        });
        // Read outside tf.tidy: tidy walks what it returns element by element, typed arrays included.
        const loss = out[0].dataSync()[0];
        const grads = out.slice(1).map((t) => (t.dataSync() as Float32Array).slice()); // copies: a backend may reuse its storage
        tf.dispose(out);
        if (!Number.isFinite(loss)) throw new Error(`edge-popup: training loss ${loss} at step ${step + 1}`);
        // Straight-through: dL/ds = dL/d(w*m) * w * sign(s); then PyTorch's SGD with momentum and weight decay.
        for (let p = 0; p < scores.length; p++) {
          const s = scores[p],
            v = velocity[p],
            w = kernels[p].values,
            g = grads[p];
          for (let j = 0; j < s.length; j++) {
            const gs = g[j] * w[j] * Math.sign(s[j]) + weightDecay * s[j];
            v[j] = momentum * v[j] + gs;
            s[j] -= rate * v[j];
          }
          topMask(s, kept[p], masks[p]);
        }
        step++;
        windowSum += loss;
        windowCount++;
        if (windowCount === curveWindow) {
          curve.push({ step, loss: windowSum / windowCount });
          windowSum = 0;
          windowCount = 0;
        }
      }
      const r = evalMasks();
      history.push({ epoch: epoch + 1, ...r });
      if (!keepBest || r.loss < history[chosenEpoch].loss) {
        chosenEpoch = epoch + 1;
        best = masks.map((m) => m.slice());
        bestScores = scores.map((s) => s.slice());
      }
      await new Promise((resolve) => setImmediate(resolve)); // let timers (progress, lock heartbeats) run between epochs
    }
    if (windowCount > 0) curve.push({ step, loss: windowSum / windowCount });
  } finally {
    for (const l of stack) {
      l.kernel.dispose();
      l.bias?.dispose();
    }
  }
  return {
    density: opts.density,
    masks: best,
    scores: bestScores,
    kept,
    curve,
    epochLosses: history,
    chosenEpoch,
    steps: step,
    wallSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
