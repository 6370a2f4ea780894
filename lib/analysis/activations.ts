// Sec 5.3: activation sparsity (Hoyer 2004) and class selectivity (CCMAS, Morcos et al. 2018), measured on
// this project's own models (the paper only cites Park 2022 for them). The metric functions are pure;
// hiddenActivations is the one tfjs entry point that reads hidden-layer outputs off a model.
import * as tf from '@tensorflow/tfjs';

function fail(fn: string, field: string, value: unknown, why: string): never {
  throw new Error(`${fn}: ${field} = ${String(value)} ${why}`);
}

/** Hoyer sparsity from the norms of an n-vector. All-zero (l2 = 0): 1, see hoyerSparsity. */
export function hoyerFromNorms(l1: number, l2: number, n: number): number {
  if (!(Number.isInteger(n) && n >= 2)) fail('hoyerSparsity', 'n', n, 'must be an integer >= 2 (the measure divides by sqrt(n) - 1)');
  if (l2 === 0) return 1;
  const r = Math.sqrt(n);
  return (r - l1 / l2) / (r - 1);
}

/**
 * Hoyer sparsity (sqrt(n) - L1/L2) / (sqrt(n) - 1) of a vector of n >= 2 values: 0 when all |v_i| are equal
 * and non-zero, 1 for a one-hot vector. An all-zero vector (0/0) is defined as 1: no unit is active, which
 * is at least as sparse as one active unit (a dead layer for that example).
 */
export function hoyerSparsity(v: ArrayLike<number>): number {
  let l1 = 0,
    l2 = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) fail('hoyerSparsity', `v[${i}]`, x, 'is not finite');
    l1 += Math.abs(x);
    l2 += x * x;
  }
  return hoyerFromNorms(l1, Math.sqrt(l2), v.length);
}

function rowsOf(fn: string, acts: Float32Array, units: number): number {
  if (!(Number.isInteger(units) && units >= 1)) fail(fn, 'units', units, 'must be a positive integer');
  if (acts.length % units !== 0) fail(fn, 'acts.length', acts.length, `is not a multiple of units = ${units}`);
  return acts.length / units;
}

/**
 * Mean over examples of the Hoyer sparsity of each example's activation vector across the layer's units
 * (acts is n x units, row-major): the per-example POPULATION sparsity, as in Park 2022, not the sparsity of
 * one unit across examples.
 */
export function meanHoyer(acts: Float32Array, units: number): number {
  const n = rowsOf('meanHoyer', acts, units);
  if (n === 0) fail('meanHoyer', 'acts.length', 0, 'is empty');
  let s = 0;
  for (let r = 0; r < n; r++) s += hoyerSparsity(acts.subarray(r * units, (r + 1) * units));
  return s / n;
}

/**
 * Class selectivity (CCMAS) per unit: (mu_max - mu_rest) / (mu_max + mu_rest), where mu_c is the unit's mean
 * activation over the examples of class c, mu_max the largest mu_c and mu_rest the mean of the other classes'
 * mu_c. acts is n x units (row-major), labels has n entries < numClasses.
 * Defined for non-negative (post-ReLU) activations, so in [0, 1]; negative values throw. A dead unit (all
 * mu_c = 0, so 0/0) gets 0: it prefers no class. Classes absent from `labels` are left out of both mu_max
 * and mu_rest; at least two classes must be present.
 */
export function classSelectivity(acts: Float32Array, labels: Uint8Array, units: number, numClasses: number): Float64Array {
  const fn = 'classSelectivity';
  const n = rowsOf(fn, acts, units);
  if (labels.length !== n) fail(fn, 'labels.length', labels.length, `differs from the ${n} rows of acts`);
  if (!(Number.isInteger(numClasses) && numClasses >= 2)) fail(fn, 'numClasses', numClasses, 'must be an integer >= 2');
  const counts = new Float64Array(numClasses);
  for (let r = 0; r < n; r++) {
    if (labels[r] >= numClasses) fail(fn, `labels[${r}]`, labels[r], `is not below numClasses = ${numClasses}`);
    counts[labels[r]]++;
  }
  const present: number[] = [];
  for (let c = 0; c < numClasses; c++) if (counts[c] > 0) present.push(c);
  if (present.length < 2) fail(fn, 'classes present', present.length, 'must be at least 2');

  const sums = new Float64Array(numClasses * units); // class-major: sums[c * units + u]
  for (let r = 0; r < n; r++) {
    const base = labels[r] * units;
    for (let u = 0; u < units; u++) {
      const a = acts[r * units + u];
      if (!(a >= 0)) fail(fn, `acts[${r * units + u}]`, a, 'is negative or NaN (CCMAS needs post-ReLU activations)');
      sums[base + u] += a;
    }
  }
  const out = new Float64Array(units);
  for (let u = 0; u < units; u++) {
    let max = -Infinity,
      total = 0;
    for (const c of present) {
      const m = sums[c * units + u] / counts[c];
      total += m;
      if (m > max) max = m;
    }
    const rest = (total - max) / (present.length - 1);
    out[u] = max + rest === 0 ? 0 : (max - rest) / (max + rest);
  }
  return out;
}

/** Activations of one hidden layer over a dataset, as returned by hiddenActivations. */
export interface LayerActivations {
  name: string;
  /** Per-example output shape of the layer, e.g. [300] or [h, w, channels]. */
  shape: number[];
  /** Units for selectivity: the dense layer's units, or a conv layer's channels. */
  units: number;
  /**
   * n x units, row-major. For a conv layer (rank > 1 per example), each channel's activation AVERAGED over
   * spatial positions: the channel is the unit, as in Morcos et al.'s treatment of conv feature maps.
   */
  values: Float32Array;
  /**
   * Per-example Hoyer sparsity over the layer's FULL flattened output (all positions and channels), so conv
   * sparsity is not washed out by the spatial average. For a dense layer it equals hoyerSparsity of each row.
   */
  hoyer: Float32Array;
}

function prod(xs: readonly number[]): number {
  return xs.reduce((a, b) => a * b, 1);
}

/**
 * Hidden-layer outputs of `model` for the examples in x (n x prod(shape), row-major; `shape` is ONE example's
 * shape, e.g. [28, 28, 1]). Pass the layers whose outputs are post-ReLU (a Dense/Conv2D layer with
 * activation 'relu', or a separate ReLU/Activation layer). Runs in batches of `batchSize`; every tensor it
 * creates is disposed (the derived model shares the original's weights, so it is deliberately NOT disposed:
 * that would release layers the original still uses).
 */
export function hiddenActivations(
  model: tf.LayersModel,
  layerNames: readonly string[],
  x: Float32Array,
  shape: readonly number[],
  batchSize = 256,
): LayerActivations[] {
  const fn = 'hiddenActivations';
  if (layerNames.length === 0) fail(fn, 'layerNames.length', 0, 'is empty');
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) fail(fn, 'batchSize', batchSize, 'must be a positive integer');
  const per = prod(shape);
  if (!(per >= 1 && shape.every((d) => Number.isInteger(d) && d >= 1))) fail(fn, 'shape', `[${shape.join(', ')}]`, 'must be positive integers');
  if (x.length % per !== 0) fail(fn, 'x.length', x.length, `is not a multiple of prod(shape) = ${per}`);
  const n = x.length / per;

  // Feed in the model's own input shape when it differs only by layout (e.g. [784] vs [28, 28, 1]).
  const modelShape = model.inputs[0].shape.slice(1);
  let inputShape: number[] = [...shape];
  if (modelShape.every((d): d is number => typeof d === 'number')) {
    if (prod(modelShape) !== per) fail(fn, 'shape', `[${shape.join(', ')}]`, `does not fit the model input [${modelShape.join(', ')}]`);
    inputShape = modelShape;
  }

  const outputs = layerNames.map((name) => model.getLayer(name).output);
  if (outputs.some((o) => Array.isArray(o))) fail(fn, 'layerNames', layerNames.join(','), 'include a layer with several outputs');
  const probe = tf.model({ inputs: model.inputs, outputs: outputs as tf.SymbolicTensor[] });

  const layerShapes = (outputs as tf.SymbolicTensor[]).map((o) => o.shape.slice(1) as number[]);
  const result: LayerActivations[] = layerNames.map((name, i) => {
    const s = layerShapes[i];
    const units = s[s.length - 1];
    return { name, shape: s, units, values: new Float32Array(n * units), hoyer: new Float32Array(n) };
  });

  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const perLayer = tf.tidy((): tf.Tensor[][] => {
      const input = tf.tensor(x.subarray(start * per, (start + b) * per), [b, ...inputShape]);
      const outs = probe.predict(input, { batchSize: b });
      const list = Array.isArray(outs) ? outs : [outs];
      return list.map((o) => {
        const flat = o.reshape([b, -1]);
        const l1 = flat.abs().sum(1);
        const l2 = flat.square().sum(1).sqrt();
        // Channels last: averaging over every axis but the last leaves one mean per channel (a no-op for dense).
        const channels = o.rank > 2 ? o.mean(Array.from({ length: o.rank - 2 }, (_, k) => k + 1)) : o;
        return [channels, l1, l2];
      });
    });
    try {
      perLayer.forEach(([channels, l1, l2], i) => {
        const r = result[i];
        r.values.set(channels.dataSync() as Float32Array, start * r.units);
        const l1s = l1.dataSync(),
          l2s = l2.dataSync();
        const size = prod(r.shape);
        for (let j = 0; j < b; j++) r.hoyer[start + j] = hoyerFromNorms(l1s[j], l2s[j], size);
      });
    } finally {
      for (const ts of perLayer) for (const t of ts) t.dispose();
    }
  }
  return result;
}
