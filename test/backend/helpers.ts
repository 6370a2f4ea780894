// Shared by the backend tests: seeded random inputs and a computation's values on a named backend.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../lib/rng';

/** n seeded normal values, scaled and shifted. */
export function randomArray(n: number, seed: number, scale = 1, shift = 0): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal() * scale + shift);
}

/** Values of `f()` computed on one backend; `f` builds its own tensors so each backend gets fresh ones. */
export async function valuesOn(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
  tf.dispose(list);
  return values;
}
