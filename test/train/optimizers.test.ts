import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { ADAGRAD, OPTIMIZER_NAMES, makeOptimizer, type OptimizerName } from '../../lib/train/optimizers';

/** One minimize step on loss = sum(g * w) (gradient exactly g) from w0; returns the new w. */
function oneStep(name: OptimizerName, lr: number, w0: number[], g: number[], steps = 1): Float32Array {
  const opt = makeOptimizer(name, lr);
  const w = tf.tidy(() => tf.variable(tf.tensor1d(w0))); // tidy frees the initial value tensor
  const gt = tf.tensor1d(g);
  for (let i = 0; i < steps; i++) opt.minimize(() => tf.sum(tf.mul(gt, w)), false, [w]);
  const out = (w.dataSync() as Float32Array).slice();
  opt.dispose();
  w.dispose();
  gt.dispose();
  return out;
}

function close(a: ArrayLike<number>, b: number[], tol = 1e-6): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < tol, `[${i}] ${a[i]} vs ${b[i]}`);
}

describe('train: optimisers', () => {
  before(async () => {
    await initBackend();
  });

  it('sgd is plain gradient descent (no momentum): two steps move 2 * lr * g', () => {
    close(oneStep('sgd', 0.1, [1, -2], [0.5, -3], 2), [1 - 0.1, -2 + 0.6]);
  });

  it('adagrad starts its accumulator at 0.1: first step lr * g / sqrt(0.1 + g^2)', () => {
    assert.equal(ADAGRAD.initialAccumulatorValue, 0.1);
    const g = [0.5, -3];
    close(
      oneStep('adagrad', 0.01, [0, 0], g),
      g.map((x) => (-0.01 * x) / Math.sqrt(0.1 + x * x + 1e-7)),
    );
  });

  it("adam's first step is lr * sign(g) (bias-corrected moments)", () => {
    close(oneStep('adam', 2e-4, [1, 1], [0.5, -3]), [1 - 2e-4, 1 + 2e-4], 1e-7);
  });

  it('disposing an optimiser releases its state', () => {
    const before = tf.memory().numTensors;
    for (const name of OPTIMIZER_NAMES) oneStep(name, 0.01, [1, 2, 3], [1, 1, 1], 3);
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects unknown optimisers and bad learning rates', () => {
    assert.throws(() => makeOptimizer('rmsprop' as 'sgd', 0.1), /unknown optimizer 'rmsprop'/);
    assert.throws(() => makeOptimizer('sgd', 0), /got 0/);
    assert.throws(() => makeOptimizer('sgd', NaN), /got NaN/);
  });
});
