// Small synthetic classification data and tiny models for the trajectory tests (no dependency on lib/data,
// lib/models or lib/train, so these tests check lib/prune alone).
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../lib/rng';
import type { ImageSet } from '../../lib/data';

/**
 * n images of shape [side, side, 1] in 10 classes. A fixed ~40% of pixels are always 0 (like MNIST's border,
 * so the fast path's zero skipping is exercised); the others are a class prototype plus heavy noise, clipped
 * to [0,1] (more zeros). Noise is tuned so a small MLP reaches ~90%, not 100%: a loss near 0 would make
 * relative loss comparisons meaningless.
 */
const NOISE = 0.5;
export function syntheticImages(n: number, side: number, seed: number): ImageSet {
  const d = side * side;
  const protoRng = new Rng(12345); // same prototypes for every split
  const live = Array.from({ length: d }, () => protoRng.next() >= 0.4);
  const protos = Array.from({ length: 10 }, () => Float32Array.from({ length: d }, () => protoRng.next()));
  const r = new Rng(seed);
  const x = new Float32Array(n * d);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = r.int(10);
    y[i] = c;
    for (let p = 0; p < d; p++) {
      x[i * d + p] = live[p] ? Math.min(1, Math.max(0, protos[c][p] + NOISE * r.normal())) : 0;
    }
  }
  return { x, y, n };
}

export function oneHot(y: Uint8Array, n: number): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(y.subarray(0, n)), 'int32'), 10).toFloat() as tf.Tensor2D);
}

/** Functional model like lib/models' MLP: NHWC input, flatten, dense relu..., dense linear (logits). */
export function denseLogitsModel(side: number, hidden: number[], seed: number): tf.LayersModel {
  const input = tf.input({ shape: [side, side, 1] });
  let h = tf.layers.flatten({ name: 'flatten' }).apply(input) as tf.SymbolicTensor;
  const names = [...hidden.map((_, i) => `fc${i + 1}`), 'proj'];
  [...hidden, 10].forEach((units, i) => {
    h = tf.layers
      .dense({
        name: names[i],
        units,
        activation: i < hidden.length ? 'relu' : 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }),
        biasInitializer: 'zeros',
      })
      .apply(h) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: h });
}

/** Sequential model with a dropout layer and a softmax output (probabilities, not logits). */
export function denseSoftmaxModel(side: number, seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [side, side, 1], name: 'flatten' }),
      tf.layers.dense({ name: 'fc1', units: 24, activation: 'relu', kernelInitializer: tf.initializers.heUniform({ seed }) }),
      tf.layers.dropout({ rate: 0.2, seed }),
      tf.layers.dense({ name: 'proj', units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

/** conv -> relu -> flatten -> dense: not a dense stack, so only the generic path applies. */
export function convModel(side: number, seed: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        name: 'conv1',
        inputShape: [side, side, 1],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.heUniform({ seed }),
      }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ name: 'proj', units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

/** A few hundred SGD steps (no shuffling, so the result is deterministic for a given seed). */
export async function trainBriefly(model: tf.LayersModel, set: ImageSet, side: number, epochs: number, logits: boolean): Promise<void> {
  model.compile({
    optimizer: tf.train.adam(0.01),
    loss: logits ? (yt: tf.Tensor, yp: tf.Tensor) => tf.losses.softmaxCrossEntropy(yt, yp) : 'categoricalCrossentropy',
  });
  const xs = tf.tensor4d(set.x, [set.n, side, side, 1]);
  const ys = oneHot(set.y, set.n);
  await model.fit(xs, ys, { epochs, batchSize: 32, shuffle: false, verbose: 0 });
  xs.dispose();
  ys.dispose();
}

/** Independent reference: loss (mean softmax cross-entropy) and accuracy of the model as it stands. */
export function tfEvaluate(model: tf.LayersModel, set: ImageSet, side: number, logits: boolean): { loss: number; accuracy: number } {
  return tf.tidy(() => {
    const out = model.predict(tf.tensor4d(set.x, [set.n, side, side, 1])) as tf.Tensor2D;
    const ys = oneHot(set.y, set.n);
    const loss = logits ? tf.losses.softmaxCrossEntropy(ys, out) : tf.mean(tf.metrics.categoricalCrossentropy(ys, out));
    const correct = tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), tf.tensor1d(Array.from(set.y), 'int32')), 'float32'));
    return { loss: loss.dataSync()[0], accuracy: correct.dataSync()[0] / set.n };
  });
}

/** Copies of every weight of the model (kernels, biases), to check it is unchanged. */
export function snapshot(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
}
