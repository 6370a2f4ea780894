import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { architectures } from '../../lib/models';
import { correctness, epochOrder, evaluate, predictLogits, trainModel, type TrainConfig } from '../../lib/train';
import { allWeights, mnistSubsets, sameBits, syntheticImages } from './fixtures';
import type { ImageSet } from '../../lib/data';

const sgd = (lr: number, stop: TrainConfig['stop'], extra: Partial<TrainConfig> = {}): TrainConfig => ({
  optimizer: 'sgd',
  learningRate: lr,
  batchSize: 128,
  shuffleSeed: 0,
  stop,
  ...extra,
});

describe('train: training loop', function () {
  let mnist: { train: ImageSet; validation: ImageSet };

  before(async () => {
    await initBackend();
    mnist = await mnistSubsets(2000, 1000);
  });

  it('epochOrder: a seeded permutation per epoch, reproducible, different across epochs and seeds', () => {
    const a = epochOrder(3, 0, 1000);
    assert.deepEqual(
      Array.from(a).sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.deepEqual(epochOrder(3, 0, 1000), a);
    assert.notDeepEqual(epochOrder(3, 1, 1000), a);
    assert.notDeepEqual(epochOrder(4, 0, 1000), a);
  });

  it('evaluate: loss is the mean cross-entropy of the logits and accuracy the mean of correctness', () => {
    const m = architectures.mlp.build(0.1, 'he', 2);
    const set = { x: mnist.validation.x.subarray(0, 300 * 784), y: mnist.validation.y.subarray(0, 300), n: 300 };
    const logits = predictLogits(m, set, 128); // batch size not dividing n: the last batch is partial
    const ok = correctness(m, set, 77);
    let loss = 0;
    let hits = 0;
    for (let i = 0; i < set.n; i++) {
      const row = Array.from(logits.subarray(i * 10, i * 10 + 10));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      loss += lse - row[set.y[i]];
      const top = row.indexOf(max);
      assert.equal(ok[i], top === set.y[i] ? 1 : 0);
      hits += ok[i];
    }
    const e = evaluate(m, set, 64);
    assert.ok(Math.abs(e.loss - loss / set.n) < 1e-4, `${e.loss} vs ${loss / set.n}`);
    assert.equal(e.accuracy, hits / set.n);
    m.dispose();
  });

  it('the curve is the mean per-step loss over each window (checked with a model that does not move)', async () => {
    // lr 1e-30 leaves the model's function unchanged (kernel updates round away; zero biases move by ~1e-31),
    // so each step's loss is the fixed model's loss on that batch, and a window of one epoch of equal batches
    // averages to the loss on the whole set.
    const train = { x: mnist.train.x.subarray(0, 256 * 784), y: mnist.train.y.subarray(0, 256), n: 256 };
    const m = architectures.mlp.build(0.25, 'glorot', 1);
    const before = allWeights(m);
    const r = await trainModel(
      m,
      { train, validation: mnist.validation },
      sgd(1e-30, { kind: 'targetTrainLoss', target: 0, window: 8, checkEvery: 8, maxEpochs: 2 }, { batchSize: 32 }),
    );
    allWeights(m).forEach((w, i) => w.forEach((v, j) => assert.ok(Math.abs(v - before[i][j]) < 1e-20)));
    assert.equal(r.steps, 16);
    assert.deepEqual(
      r.curve.map((c) => c.step),
      [8, 16],
    );
    const full = evaluate(m, train).loss;
    for (const c of r.curve) assert.ok(Math.abs(c.loss - full) < 1e-5, `${c.loss} vs ${full}`);
    assert.equal(r.stopReason, 'epochCap');
    m.dispose();
  });

  it('a small MLP on 2k MNIST images reaches training loss 0.2 (lr 0.1, batch 128)', async () => {
    const m = architectures.mlp.build(1, 'he', 0);
    const progress: number[] = [];
    const r = await trainModel(
      m,
      mnist,
      sgd(
        0.1,
        { kind: 'targetTrainLoss', target: 0.2, window: 100, checkEvery: 100, maxEpochs: 30 },
        { onProgress: (p) => p.trainLoss !== undefined && progress.push(p.trainLoss) },
      ),
    );
    m.dispose();
    assert.equal(r.status, 'complete');
    assert.equal(r.stopReason, 'targetReached');
    assert.equal(r.steps % 100, 0, 'checked every 100 steps');
    assert.equal(r.stepsPerEpoch, 16);
    assert.equal(r.epochs, r.steps / 16);
    assert.ok(r.epochs < 30);
    assert.deepEqual(
      r.curve.map((c) => c.step),
      Array.from({ length: r.steps / 100 }, (_, i) => 100 * (i + 1)),
    );
    assert.ok(r.curve[r.curve.length - 1].loss <= 0.2);
    assert.ok(
      r.curve.slice(0, -1).every((c) => c.loss > 0.2),
      'stops at the first check below the target',
    );
    assert.deepEqual(
      progress,
      r.curve.map((c) => c.loss),
    );
    assert.equal(r.validation.length, 1, 'one validation pass at the end');
    assert.equal(r.validation[0].epoch, r.epochs);
    assert.ok(r.validation[0].accuracy > 0.85, `validation accuracy ${r.validation[0].accuracy}`);
    assert.ok(r.wallSeconds > 0);
  });

  it('lets timers run during a training (it yields to the event loop at every check)', async () => {
    // No counting against the clock: a callback that re-queues itself with setImmediate must run between every
    // two checks (each check yields a macrotask), however fast or slow the machine is. A loop that never
    // yielded would report every check with the count it had at the start.
    const m = architectures.mlp.build(0.1, 'he', 0);
    let beats = 0;
    let running = true;
    const beat = () => {
      beats++;
      if (running) setImmediate(beat);
    };
    setImmediate(beat); // queued before the training starts
    const seenAtCheck: number[] = [];
    try {
      await trainModel(
        m,
        mnist,
        sgd(
          0.1,
          { kind: 'targetTrainLoss', target: 0, window: 5, checkEvery: 5, maxEpochs: 2 },
          {
            onProgress: (p) => {
              if (p.trainLoss !== undefined) seenAtCheck.push(beats);
            },
          },
        ),
      );
    } finally {
      running = false;
      m.dispose();
    }
    assert.ok(seenAtCheck.length >= 3, `${seenAtCheck.length} checks reported`);
    assert.ok(seenAtCheck[0] >= 1, 'the callback queued before training ran before the first check was reported');
    for (let i = 1; i < seenAtCheck.length; i++) {
      assert.ok(seenAtCheck[i] > seenAtCheck[i - 1], `no event-loop turn between checks ${i - 1} and ${i}: ${seenAtCheck.join(', ')}`);
    }
  });

  it('an unreachable target stops at the epoch cap (fractional cap allowed)', async () => {
    const m = architectures.mlp.build(0.1, 'he', 0);
    const r = await trainModel(m, mnist, sgd(0.1, { kind: 'targetTrainLoss', target: 0, window: 10, checkEvery: 10, maxEpochs: 1.5 }));
    m.dispose();
    assert.equal(r.stopReason, 'epochCap');
    assert.equal(r.status, 'complete');
    assert.equal(r.steps, 24);
    assert.equal(r.epochs, 1.5);
    assert.deepEqual(
      r.curve.map((c) => c.step),
      [10, 20, 24],
    );
  });

  it('bestValidationLoss restores exactly the weights of the epoch with the lowest validation loss', async () => {
    // 64 training images, lr 0.5: the model overfits, validation loss bottoms out around epoch 12 and then rises.
    const tiny = { train: { x: mnist.train.x.subarray(0, 64 * 784), y: mnist.train.y.subarray(0, 64), n: 64 }, validation: mnist.validation };
    const m = architectures.mlp.build(1, 'he', 0);
    const snapshots = new Map<number, Float32Array[]>();
    const r = await trainModel(m, tiny, {
      optimizer: 'sgd',
      learningRate: 0.5,
      batchSize: 16,
      shuffleSeed: 0,
      stop: { kind: 'bestValidationLoss', epochs: 20 },
      onProgress: (p) => p.validation && snapshots.set(p.validation.epoch, allWeights(m)),
    });
    assert.equal(r.status, 'complete');
    assert.equal(r.stopReason, 'bestValidationLoss');
    assert.equal(r.steps, 20 * 4);
    assert.deepEqual(
      r.validation.map((v) => v.epoch),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const losses = r.validation.map((v) => v.loss);
    const bestEpoch = losses.indexOf(Math.min(...losses)) + 1;
    assert.equal(r.bestEpoch, bestEpoch);
    assert.ok(bestEpoch > 1 && bestEpoch < 20, `the construction must put the best epoch in the middle (got ${bestEpoch})`);
    assert.ok(sameBits(allWeights(m), snapshots.get(bestEpoch)!), 'model holds the best epoch weights');
    assert.ok(!sameBits(allWeights(m), snapshots.get(20)!), "and not the last epoch's");
    const again = evaluate(m, tiny.validation);
    assert.ok(Math.abs(again.loss - losses[bestEpoch - 1]) < 1e-6);
    m.dispose();
  });

  it('is deterministic: same init, seeds and backend give bit-identical trained weights; another shuffle seed does not', async () => {
    const data = { train: { x: mnist.train.x.subarray(0, 500 * 784), y: mnist.train.y.subarray(0, 500), n: 500 }, validation: mnist.validation };
    const run = async (shuffleSeed: number, optimizer: TrainConfig['optimizer']) => {
      const m = architectures.mlp.build(0.25, 'glorot', 9);
      const r = await trainModel(m, data, {
        optimizer,
        learningRate: optimizer === 'sgd' ? 0.1 : 1e-3,
        batchSize: 64,
        shuffleSeed,
        stop: { kind: 'bestValidationLoss', epochs: 2 },
      });
      const w = allWeights(m);
      m.dispose();
      return { r, w };
    };
    for (const opt of ['sgd', 'adam'] as const) {
      const a = await run(1, opt);
      const b = await run(1, opt);
      assert.ok(sameBits(a.w, b.w), `${opt}: identical weights`);
      assert.deepEqual(a.r.validation, b.r.validation);
      assert.deepEqual(a.r.curve, b.r.curve);
      const c = await run(2, opt);
      assert.ok(!sameBits(a.w, c.w), `${opt}: shuffle seed matters`);
    }
  });

  it('an absurd learning rate ends the run as diverged with the first non-finite step, without throwing or leaking', async () => {
    const before = tf.memory().numTensors;
    const m = architectures.mlp.build(0.5, 'he', 0);
    const r = await trainModel(m, mnist, sgd(1e6, { kind: 'targetTrainLoss', target: 0.2, window: 100, checkEvery: 100, maxEpochs: 30 }));
    assert.equal(r.status, 'diverged');
    assert.equal(r.stopReason, 'diverged');
    assert.ok(r.divergedAtStep !== undefined && r.divergedAtStep >= 1 && r.divergedAtStep <= r.steps, `divergedAtStep ${r.divergedAtStep}, steps ${r.steps}`);
    assert.ok(r.steps <= 100, 'stopped at the first check after the divergence');
    assert.equal(r.validation.length, 0);
    // The same for the epoch-budget rule.
    const r2 = await trainModel(m, mnist, sgd(1e6, { kind: 'bestValidationLoss', epochs: 3 }));
    assert.equal(r2.status, 'diverged');
    assert.ok(r2.divergedAtStep !== undefined);
    m.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects bad configs and data with messages naming the value', async () => {
    const m = architectures.mlp.build(0.1, 'he', 0);
    await assert.rejects(trainModel(m, mnist, sgd(0.1, { kind: 'bestValidationLoss', epochs: 0 })), /epochs.*got 0/);
    await assert.rejects(trainModel(m, mnist, sgd(0.1, { kind: 'bestValidationLoss', epochs: 1 }, { batchSize: 0 })), /batchSize.*got 0/);
    await assert.rejects(
      trainModel(m, mnist, sgd(0.1, { kind: 'bestValidationLoss', epochs: 1 }, { shuffleSeed: -3 })),
      /shuffleSeed must be an integer.*got -3/,
    );
    const cifarLike = syntheticImages(10, [32, 32, 3], 0);
    await assert.rejects(
      trainModel(m, { train: cifarLike, validation: cifarLike }, sgd(0.1, { kind: 'bestValidationLoss', epochs: 1 })),
      /training set: x has 30720 values, expected n\*784/,
    );
    m.dispose();
  });
});

describe('train: conv models on the default backend', function () {
  before(async () => {
    await initBackend();
  });

  const cases = [
    // Learning rates above the paper defaults so that 24 steps show learning on the synthetic task.
    { arch: 'conv2' as const, width: 0.1, optimizer: 'adam' as const, lr: 3e-3 },
    { arch: 'conv2' as const, width: 0.1, optimizer: 'adagrad' as const, lr: 3e-2 },
    { arch: 'resnet' as const, width: 0.25, optimizer: 'sgd' as const, lr: 0.1 },
  ];
  for (const c of cases) {
    it(`${c.arch} ${c.width}x with ${c.optimizer}: a few epochs on 256 images bring the loss down`, async () => {
      const train = syntheticImages(256, [32, 32, 3], 1);
      const validation = syntheticImages(200, [32, 32, 3], 2);
      const m = architectures[c.arch].build(c.width, 'he', 0);
      const before = evaluate(m, validation);
      const r = await trainModel(
        m,
        { train, validation },
        { optimizer: c.optimizer, learningRate: c.lr, batchSize: 32, shuffleSeed: 0, stop: { kind: 'bestValidationLoss', epochs: 3 }, curveWindow: 4 },
      );
      m.dispose();
      assert.equal(r.status, 'complete');
      assert.equal(r.steps, 24);
      const first = r.curve[0].loss;
      const last = r.curve[r.curve.length - 1].loss;
      assert.ok(last < 0.8 * first, `training loss ${first} -> ${last}`);
      const bestVal = Math.min(...r.validation.map((v) => v.loss));
      assert.ok(bestVal < before.loss, `validation loss ${before.loss} -> ${bestVal}`);
    });
  }
});
