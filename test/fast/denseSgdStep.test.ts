// The dense SGD step (lib/fast/denseSgdStep.ts) against the generic step (optimizer.minimize over the model):
// same seeds and data must give the same weights (bit for bit: it runs the same kernels on the same inputs),
// the same losses and the same stop step; and trainModel must pick it exactly for plain Dense stacks with SGD.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { architectures } from '../../lib/models';
import { trainModel, type TrainConfig } from '../../lib/train';
import { DenseSgdTrainer, denseTrainingStack } from '../../lib/fast/denseSgdStep';
import type { ImageSet } from '../../lib/data';
import { allWeights, mnistSubsets, sameBits } from '../train/fixtures';

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((w, i) => w.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

function take(set: ImageSet, n: number): ImageSet {
  return { x: set.x.subarray(0, n * 784), y: set.y.subarray(0, n), n };
}

describe('fast/denseSgdStep: the dense SGD step', function () {
  let mnist: { train: ImageSet; validation: ImageSet };

  before(async () => {
    await initBackend();
    mnist = await mnistSubsets(2000, 500);
  });

  /** Train two copies of one init, generic and auto; returns both results and final weights. */
  async function both(width: number, config: TrainConfig, data = mnist) {
    const run = async (trainer: 'auto' | 'generic') => {
      const m = architectures.mlp.build(width, 'he', 3);
      const r = await trainModel(m, data, { ...config, trainer });
      const w = allWeights(m);
      m.dispose();
      return { r, w };
    };
    return { generic: await run('generic'), dense: await run('auto') };
  }

  it('reproduces the generic step bit for bit: weights, per-window losses and the stop step (target-loss rule)', async () => {
    const { generic, dense } = await both(0.5, {
      optimizer: 'sgd',
      learningRate: 0.1,
      batchSize: 128,
      shuffleSeed: 5,
      stop: { kind: 'targetTrainLoss', target: 0.35, window: 10, checkEvery: 10, maxEpochs: 20 },
    });
    assert.equal(generic.r.trainer, 'generic');
    assert.equal(dense.r.trainer, 'dense-sgd');
    assert.equal(dense.r.stopReason, 'targetReached');
    assert.equal(dense.r.steps, generic.r.steps, 'same stop step');
    assert.deepEqual(dense.r.curve, generic.r.curve);
    assert.deepEqual(
      dense.r.validation.map((v) => [v.loss, v.accuracy]),
      generic.r.validation.map((v) => [v.loss, v.accuracy]),
    );
    assert.ok(maxAbsDiff(dense.w, generic.w) <= 1e-6, `weights differ by ${maxAbsDiff(dense.w, generic.w)}`);
    assert.ok(sameBits(dense.w, generic.w), 'weights equal within 1e-6 but not bit for bit');
  });

  it('same bits with partial batches (500 images, batch 64) and a hidden linear layer', async () => {
    const data = { train: take(mnist.train, 500), validation: mnist.validation };
    const config: TrainConfig = { optimizer: 'sgd', learningRate: 0.05, batchSize: 64, shuffleSeed: 1, stop: { kind: 'bestValidationLoss', epochs: 2 } };
    const { generic, dense } = await both(0.25, config, data);
    assert.equal(dense.r.trainer, 'dense-sgd');
    assert.equal(dense.r.steps, 16); // 8 batches per epoch, the last of 52 images
    assert.ok(sameBits(dense.w, generic.w));
    assert.deepEqual(dense.r.validation, generic.r.validation);

    // flatten -> dense 32 linear -> dense 16 relu -> dense 10 linear (tf.layers fuses linear layers, not relu ones)
    const build = () => {
      const input = tf.input({ shape: [28, 28, 1] });
      let h = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
      h = tf.layers.dense({ units: 32, activation: 'linear', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(h) as tf.SymbolicTensor;
      return tf.model({
        inputs: input,
        outputs: tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(h) as tf.SymbolicTensor,
      });
    };
    const weights: Float32Array[][] = [];
    for (const trainer of ['generic', 'auto'] as const) {
      const m = build();
      const r = await trainModel(m, data, { ...config, trainer });
      assert.equal(r.trainer, trainer === 'auto' ? 'dense-sgd' : 'generic');
      weights.push(allWeights(m));
      m.dispose();
    }
    assert.ok(sameBits(weights[0], weights[1]), `linear hidden layer: differ by ${maxAbsDiff(weights[0], weights[1])}`);
  });

  it("the first layer's zero-skipping modes (sparse product, nonzero columns) change no bit, and leak no tensors", async () => {
    const x = mnist.train.x.subarray(0, 96 * 784);
    const y = new Float32Array(96 * 10);
    for (let i = 0; i < 96; i++) y[i * 10 + mnist.train.y[i]] = 1;
    let zeroColumns = 0;
    for (let j = 0; j < 784; j++) {
      let any = false;
      for (let i = 0; i < 96; i++) any ||= x[i * 784 + j] !== 0;
      if (!any) zeroColumns++;
    }
    assert.ok(zeroColumns > 100, `the batch must have zero columns to skip (${zeroColumns})`);
    const before = tf.memory().numTensors;
    const results: { w: Float32Array[]; losses: number[] }[] = [];
    const modes = tf.getBackend() === 'wasm' ? (['dense', 'columns', 'sparse'] as const) : (['dense'] as const);
    for (const firstLayer of modes) {
      const m = architectures.mlp.build(1, 'glorot', 7);
      const t = new DenseSgdTrainer(denseTrainingStack(m)!, 0.1, 96, { firstLayer });
      const losses: number[] = [];
      for (let s = 0; s < 3; s++) {
        const loss = t.step(x, y, 96 - s * 10); // shrinking batches: several batch sizes
        losses.push(loss.dataSync()[0]);
        loss.dispose();
      }
      t.dispose();
      results.push({ w: allWeights(m), losses });
      m.dispose();
    }
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    for (let k = 1; k < results.length; k++) {
      assert.deepEqual(results[k].losses, results[0].losses, modes[k]);
      assert.ok(sameBits(results[k].w, results[0].w), `${modes[k]}: differ by ${maxAbsDiff(results[k].w, results[0].w)}`);
    }
    const m = architectures.mlp.build(0.1, 'he', 0);
    const linearFirst = denseTrainingStack(m)!.map((s, i) => (i === 0 ? { ...s, activation: 'linear' as const } : s));
    assert.throws(() => new DenseSgdTrainer(linearFirst, 0.1, 8, { firstLayer: 'sparse' }), /relu first layer/);
    m.dispose();
  });

  it('on the cpu backend (every column, no sparse product) it also reproduces the generic step bit for bit', async () => {
    const data = { train: take(mnist.train, 256), validation: take(mnist.validation, 0) };
    await tf.setBackend('cpu');
    try {
      const { generic, dense } = await both(
        0.1,
        {
          optimizer: 'sgd',
          learningRate: 0.1,
          batchSize: 64,
          shuffleSeed: 2,
          stop: { kind: 'targetTrainLoss', target: 0, window: 4, checkEvery: 4, maxEpochs: 2 },
        },
        data,
      );
      assert.equal(dense.r.trainer, 'dense-sgd');
      assert.deepEqual(dense.r.curve, generic.r.curve);
      assert.ok(sameBits(dense.w, generic.w), `differ by ${maxAbsDiff(dense.w, generic.w)}`);
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('diverges at the same step as the generic step', async () => {
    const { generic, dense } = await both(0.25, {
      optimizer: 'sgd',
      learningRate: 1e6,
      batchSize: 128,
      shuffleSeed: 0,
      stop: { kind: 'targetTrainLoss', target: 0.2, window: 20, checkEvery: 20, maxEpochs: 5 },
    });
    assert.equal(dense.r.status, 'diverged');
    assert.equal(dense.r.divergedAtStep, generic.r.divergedAtStep);
    assert.equal(dense.r.steps, generic.r.steps);
  });

  it('trainModel uses it only for plain Dense stacks with SGD', async () => {
    const stop = { kind: 'targetTrainLoss' as const, target: 0, window: 2, checkEvery: 2, maxEpochs: 0.05 };
    const small = { train: take(mnist.train, 256), validation: take(mnist.validation, 0) };
    const m = architectures.mlp.build(0.1, 'he', 0);
    assert.equal((await trainModel(m, small, { optimizer: 'adam', learningRate: 1e-3, batchSize: 64, shuffleSeed: 0, stop })).trainer, 'generic');
    assert.equal((await trainModel(m, small, { optimizer: 'sgd', learningRate: 0.1, batchSize: 64, shuffleSeed: 0, stop })).trainer, 'dense-sgd');
    assert.equal(
      (await trainModel(m, small, { optimizer: 'sgd', learningRate: 0.1, batchSize: 64, shuffleSeed: 0, stop, trainer: 'generic' })).trainer,
      'generic',
    );
    m.dispose();
  });

  it('denseTrainingStack accepts the MLP and rejects what the dense step would get wrong', () => {
    const mlp = architectures.mlp.build(0.1, 'he', 0);
    const stack = denseTrainingStack(mlp);
    assert.deepEqual(
      stack?.map((s) => [s.inDim, s.outDim, s.activation]),
      [
        [784, 30, 'relu'],
        [30, 10, 'relu'],
        [10, 10, 'linear'],
      ],
    );
    mlp.dispose();
    for (const arch of ['conv2', 'resnet'] as const) {
      const m = architectures[arch].build(0.1, 'he', 0);
      assert.equal(denseTrainingStack(m), null, arch);
      m.dispose();
    }
    const seq = (layers: tf.layers.Layer[]) => {
      const m = tf.sequential();
      layers.forEach((l) => m.add(l));
      return m;
    };
    const rejected: [string, () => tf.LayersModel][] = [
      [
        'dropout (random in training)',
        () => seq([tf.layers.dense({ inputShape: [784], units: 8, activation: 'relu' }), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 10 })]),
      ],
      ['softmax output (the loss takes logits)', () => seq([tf.layers.dense({ inputShape: [784], units: 10, activation: 'softmax' })])],
      ['relu output', () => seq([tf.layers.dense({ inputShape: [784], units: 10, activation: 'relu' })])],
      ['no bias', () => seq([tf.layers.dense({ inputShape: [784], units: 10, useBias: false })])],
      ['a regularizer', () => seq([tf.layers.dense({ inputShape: [784], units: 10, kernelRegularizer: tf.regularizers.l2() })])],
      ['another activation', () => seq([tf.layers.dense({ inputShape: [784], units: 8, activation: 'tanh' }), tf.layers.dense({ units: 10 })])],
      [
        'a frozen layer',
        () => {
          const m = seq([tf.layers.dense({ inputShape: [784], units: 8, activation: 'relu' }), tf.layers.dense({ units: 10 })]);
          m.layers[0].trainable = false;
          return m;
        },
      ],
      ['Dense on an image without Flatten', () => seq([tf.layers.dense({ inputShape: [28, 28], units: 10 })])],
    ];
    for (const [why, make] of rejected) {
      const m = make();
      assert.equal(denseTrainingStack(m), null, why);
      m.dispose();
    }
    const plain = seq([tf.layers.dense({ inputShape: [784], units: 8, activation: 'relu' }), tf.layers.dense({ units: 10 })]);
    assert.ok(denseTrainingStack(plain), 'a sequential Dense stack on vectors qualifies');
    plain.dispose();
  });
});
