// lib/prune against the project's own models and data (lib/models, lib/data): the registry's MLP takes the
// fast path and gives the generic path's numbers on real MNIST images; the conv models take the generic path.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { loadDataset, type ImageSet } from '../../lib/data';
import { architectures } from '../../lib/models';
import { denseStack, defaultBatchSize, pruningTrajectory } from '../../lib/prune';
import { evaluate } from '../../lib/train';
import { Rng } from '../../lib/rng';
import { oneHot, snapshot } from './fixtures';

describe('prune with lib/models and lib/data', function () {
  this.timeout(120000);
  let val: ImageSet;
  let train: ImageSet;

  before(async () => {
    await initBackend();
    const ds = await loadDataset('mnist');
    const d = 28 * 28;
    // Slices of the official sets (no validation split file needed for this check).
    val = { x: ds.test.x.subarray(0, 1000 * d), y: ds.test.y.subarray(0, 1000), n: 1000 };
    train = { x: ds.train.x.subarray(0, 3200 * d), y: ds.train.y.subarray(0, 3200), n: 3200 };
  });

  it('detects the registry MLP as a dense stack, and conv2/resnet as not', () => {
    const names = (arch: keyof typeof architectures) => architectures[arch].prunableLayers(0.1).map((l) => l.name);
    const mlp = architectures.mlp.build(0.1, 'glorot', 1);
    assert.deepEqual(
      denseStack(mlp, names('mlp'))?.map((l) => l.activation),
      ['relu', 'relu', 'linear'],
    );
    for (const arch of ['conv2', 'resnet'] as const) {
      const m = architectures[arch].build(0.1, 'he', 1);
      assert.equal(denseStack(m, names(arch)), null, arch);
      m.dispose();
    }
    mlp.dispose();
  });

  it('MLP 0.1x briefly trained on MNIST: fast path == generic path, 100% -> near chance, model unchanged', async () => {
    const model = architectures.mlp.build(0.1, 'glorot', 1);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: (a: tf.Tensor, b: tf.Tensor) => tf.losses.softmaxCrossEntropy(a, b) });
    const xs = tf.tensor4d(train.x, [train.n, 28, 28, 1]);
    const ys = oneHot(train.y, train.n);
    await model.fit(xs, ys, { epochs: 4, batchSize: 32, shuffle: false, verbose: 0 }); // 400 steps
    xs.dispose();
    ys.dispose();
    const before = snapshot(model);
    // Passing the architecture (ARCHITECTURE.md's form) and passing the names give the same result.
    const fast = await pruningTrajectory(model, architectures.mlp, val, { strategy: 'layerwiseMagnitude' });
    const slow = await pruningTrajectory(model, ['fc1', 'fc2', 'proj'], val, { strategy: 'layerwiseMagnitude', fastPath: false });
    assert.deepEqual(snapshot(model), before);
    assert.ok(fast[0].accuracy > 0.8, `unpruned accuracy ${fast[0].accuracy}`);
    assert.ok(fast[50].accuracy < 0.2, `fully pruned accuracy ${fast[50].accuracy}`);
    fast.forEach((p, k) => {
      assert.ok(Math.abs(p.accuracy - slow[k].accuracy) <= 1 / val.n, `level ${k}`);
      assert.ok(Math.abs(p.loss - slow[k].loss) <= 1e-4 * slow[k].loss, `level ${k}`);
      assert.deepEqual(p.remaining, slow[k].remaining);
    });
    // 0.1x: 784*30 + 30*10 + 10*10 = 23,920 weights; fc1 loses floor(470.4k), so densities are off round numbers.
    assert.deepEqual(fast[1].remaining, { fc1: 23520 - 470, fc2: 300 - 6, proj: 100 - 2 });
    assert.equal(fast[1].density, (100 * (23920 - 478)) / 23920);
    assert.equal(fast[50].density, 0);
    model.dispose();
  });

  for (const arch of ['conv2', 'resnet'] as const) {
    it(`${arch} 0.1x (generic path, BatchNorm in inference mode): starts at lib/train's evaluate, model unchanged`, async () => {
      const model = architectures[arch].build(0.1, 'he', 2);
      const r = new Rng(3);
      const n = 200;
      const set: ImageSet = { x: Float32Array.from({ length: n * 32 * 32 * 3 }, () => r.next()), y: Uint8Array.from({ length: n }, () => r.int(10)), n };
      const before = snapshot(model);
      const names = architectures[arch].prunableLayers(0.1).map((l) => l.name);
      const traj = await pruningTrajectory(model, names, set, { strategy: 'globalMagnitude', step: 0.25 });
      assert.equal(traj.length, 5);
      const ref = evaluate(model, set);
      assert.equal(traj[0].accuracy, ref.accuracy);
      assert.ok(Math.abs(traj[0].loss - ref.loss) < 1e-5 * ref.loss, `${traj[0].loss} vs ${ref.loss}`);
      assert.equal(traj[4].density, 0);
      assert.deepEqual(snapshot(model), before);
      assert.ok(defaultBatchSize(model, 5000) >= 100 && defaultBatchSize(model, 5000) < 5000);
      model.dispose();
    });
  }
});
