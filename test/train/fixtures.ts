// Small data for training tests: real MNIST subsets (lib/data) and a synthetic learnable image task.
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../../lib/data';
import { loadDataset, subsetOf, validationSplit } from '../../lib/data';
import { Rng } from '../../lib/rng';

/** MNIST train/validation subsets of a fixed split (data seed 0). */
export async function mnistSubsets(nTrain: number, nValidation: number): Promise<{ train: ImageSet; validation: ImageSet }> {
  const split = validationSplit(await loadDataset('mnist'), 0);
  return { train: subsetOf(split.train, nTrain, 1), validation: subsetOf(split.validation, nValidation, 2) };
}

/**
 * A learnable synthetic task: class k's images are a fixed random pattern of that class plus uniform noise,
 * pixels in [0,1]. `shape` is [h, w, c]. Patterns are constant over 4x4 pixel blocks so small conv models
 * (a few filters, then pooling) can see them within a few steps.
 */
export function syntheticImages(n: number, shape: [number, number, number], seed: number, numClasses = 10): ImageSet {
  const [h, w, c] = shape;
  const size = h * w * c;
  const patterns = new Rng(12345); // same class patterns for every set
  const blocks = Float32Array.from({ length: numClasses * Math.ceil(h / 4) * Math.ceil(w / 4) * c }, () => patterns.next());
  const proto = new Float32Array(numClasses * size);
  for (let k = 0; k < numClasses; k++) {
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        for (let ch = 0; ch < c; ch++) {
          proto[k * size + (r * w + q) * c + ch] = blocks[((k * Math.ceil(h / 4) + (r >> 2)) * Math.ceil(w / 4) + (q >> 2)) * c + ch];
        }
      }
    }
  }
  const rng = new Rng(seed);
  const x = new Float32Array(n * size);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const k = rng.int(numClasses);
    y[i] = k;
    for (let j = 0; j < size; j++) x[i * size + j] = 0.6 * proto[k * size + j] + 0.4 * rng.next();
  }
  return { x, y, n };
}

/** Copies of every weight of the model (kernels, biases, BatchNorm statistics), in model.weights order. */
export function allWeights(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => (w.read().dataSync() as Float32Array).slice());
}

/** Bitwise equality of two weight lists (NaN-safe, -0 vs 0 distinguished). */
export function sameBits(a: Float32Array[], b: Float32Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].length !== b[i].length) return false;
    const ua = new Uint32Array(a[i].buffer, a[i].byteOffset, a[i].length);
    const ub = new Uint32Array(b[i].buffer, b[i].byteOffset, b[i].length);
    for (let j = 0; j < ua.length; j++) if (ua[j] !== ub[j]) return false;
  }
  return true;
}
