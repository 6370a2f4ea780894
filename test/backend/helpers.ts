// Shared by the backend tests: seeded random inputs and a computation's values on a named backend.
import { strict as assert } from 'assert';
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

/** max |ref - got| / max |ref|; fails when the reference is all zeros (the comparison would prove nothing). */
export function maxRelDiff(ref: ArrayLike<number>, got: ArrayLike<number>): number {
  assert.equal(ref.length, got.length);
  let m = 0,
    d = 0;
  for (let i = 0; i < ref.length; i++) {
    m = Math.max(m, Math.abs(ref[i]));
    d = Math.max(d, Math.abs(ref[i] - got[i]));
  }
  assert.ok(m > 0, 'reference is all zeros: the comparison would prove nothing');
  return d / m;
}

/** Whether two float arrays hold the same bits. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
