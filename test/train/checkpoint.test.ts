// Patience and epoch checkpoints: a run stopped at an epoch boundary and resumed ends bit-identical to one never
// stopped (weights, BatchNorm statistics, optimiser state, curve, validation log), for each optimiser.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { architectures, type ArchName } from '../../lib/models';
import { trainModel, TrainingInterrupted, type TrainConfig, type TrainResult } from '../../lib/train';
import { readCheckpoint } from '../../lib/train/checkpoint';
import type { OptimizerName } from '../../lib/train/optimizers';
import { allWeights, mnistSubsets, sameBits, syntheticImages } from './fixtures';
import type { ImageSet } from '../../lib/data';

describe('train: patience and epoch checkpoints', function () {
  let dir: string;
  before(async () => {
    await initBackend();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'density-ckpt-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('patience stops once that many epochs have not improved on the best, and keeps the best epoch', async () => {
    // 64 MNIST images at lr 0.5 overfit: the validation minimum comes a few epochs in, then the loss rises.
    const mnist = await mnistSubsets(2000, 1000);
    const tiny = { train: { x: mnist.train.x.subarray(0, 64 * 784), y: mnist.train.y.subarray(0, 64), n: 64 }, validation: mnist.validation };
    const config = (stop: TrainConfig['stop']): TrainConfig => ({ optimizer: 'sgd', learningRate: 0.5, batchSize: 16, shuffleSeed: 0, stop });
    const full = architectures.mlp.build(1, 'he', 0);
    const all = await trainModel(full, tiny, config({ kind: 'bestValidationLoss', epochs: 20 }));
    const early = architectures.mlp.build(1, 'he', 0);
    const r = await trainModel(early, tiny, config({ kind: 'bestValidationLoss', epochs: 20, patience: 3 }));
    assert.equal(r.stopReason, 'noImprovement');
    assert.equal(r.bestEpoch, all.bestEpoch, 'the same best epoch as training all 20');
    assert.equal(r.validation.length, (all.bestEpoch ?? 0) + 3, 'stops exactly 3 epochs after the best');
    assert.deepEqual(r.validation, all.validation.slice(0, r.validation.length), 'identical epochs up to the stop');
    assert.ok(sameBits(allWeights(early), allWeights(full)), 'holds the same best weights');
    full.dispose();
    early.dispose();
    await assert.rejects(
      trainModel(architectures.mlp.build(0.1, 'he', 0), tiny, config({ kind: 'bestValidationLoss', epochs: 5, patience: 0 })),
      /stop\.patience must be a positive integer.*got 0/,
    );
  });

  const cases: { arch: ArchName; width: number; optimizer: OptimizerName; lr: number }[] = [
    { arch: 'conv2', width: 0.1, optimizer: 'adam', lr: 3e-3 },
    { arch: 'conv2', width: 0.1, optimizer: 'adagrad', lr: 3e-2 },
    { arch: 'resnet', width: 0.25, optimizer: 'sgd', lr: 0.1 }, // BatchNorm moving statistics
  ];
  for (const c of cases) {
    it(`${c.arch} ${c.width}x / ${c.optimizer}: stopped after epoch 3 and resumed = never stopped, bit for bit`, async () => {
      const data: { train: ImageSet; validation: ImageSet } = { train: syntheticImages(96, [32, 32, 3], 1), validation: syntheticImages(64, [32, 32, 3], 2) };
      const file = path.join(dir, `${c.arch}-${c.optimizer}.bin`);
      const config = (extra: Partial<TrainConfig>): TrainConfig => ({
        optimizer: c.optimizer,
        learningRate: c.lr,
        batchSize: 16,
        shuffleSeed: 0,
        curveWindow: 4,
        stop: { kind: 'bestValidationLoss', epochs: 4 },
        ...extra,
      });
      const plain = architectures[c.arch].build(c.width, 'he', 0);
      const reference = await trainModel(plain, data, config({}));

      const tensorsBefore = tf.memory().numTensors;
      const first = architectures[c.arch].build(c.width, 'he', 0);
      let epochsSeen = 0;
      await assert.rejects(
        trainModel(
          first,
          data,
          config({
            checkpointFile: file,
            onProgress: (p) => {
              if (p.validation) epochsSeen = p.validation.epoch;
            },
            stopAtEpochEnd: () => epochsSeen >= 3,
          }),
        ),
        // 18 Adam steps: tfjs's setWeights would recompute beta^t with pow, whose bits differ from the running product there.
        (err: unknown) => err instanceof TrainingInterrupted && err.epoch === 3,
      );
      first.dispose();
      assert.equal(tf.memory().numTensors, tensorsBefore, 'an interrupted training leaks no tensors');
      assert.ok(fs.existsSync(file), 'the checkpoint stays for the resume');

      const resumed = architectures[c.arch].build(c.width, 'he', 0); // fresh init, as a new process would build it
      // Its weights are named differently in this process ('conv1/kernel_2'): the checkpoint must still be its own.
      assert.notEqual(resumed.weights[0].name, first.weights[0].name);
      const epochsRun: number[] = [];
      const r: TrainResult = await trainModel(
        resumed,
        data,
        config({
          checkpointFile: file,
          onProgress: (p) => {
            if (p.validation) epochsRun.push(p.validation.epoch);
          },
        }),
      );
      assert.deepEqual(epochsRun, [4], 'resumed after epoch 3: only epoch 4 is trained (a restart from scratch would give the same weights)');
      assert.ok(sameBits(allWeights(resumed), allWeights(plain)), 'final weights (BatchNorm statistics included) bit-identical');
      assert.deepEqual(r.validation, reference.validation);
      assert.deepEqual(r.curve, reference.curve);
      assert.equal(r.steps, reference.steps);
      assert.equal(r.bestEpoch, reference.bestEpoch);
      assert.ok(!fs.existsSync(file), 'a finished training removes its checkpoint');
      plain.dispose();
      resumed.dispose();
    });
  }

  it('a checkpoint of another configuration, or a damaged one, is ignored (the run starts from scratch)', async () => {
    const data = { train: syntheticImages(64, [32, 32, 3], 1), validation: syntheticImages(32, [32, 32, 3], 2) };
    const file = path.join(dir, 'other.bin');
    const config = (lr: number, extra: Partial<TrainConfig> = {}): TrainConfig => ({
      optimizer: 'adam',
      learningRate: lr,
      batchSize: 32,
      shuffleSeed: 0,
      stop: { kind: 'bestValidationLoss', epochs: 3 },
      ...extra,
    });
    const m = architectures.conv2.build(0.1, 'glorot', 0);
    let seen = 0;
    await assert.rejects(
      trainModel(
        m,
        data,
        config(1e-3, {
          checkpointFile: file,
          onProgress: (p) => {
            if (p.validation) seen = p.validation.epoch;
          },
          stopAtEpochEnd: () => seen >= 1,
        }),
      ),
      TrainingInterrupted,
    );
    m.dispose();
    // Another learning rate: its key differs, so the file is not read as its state.
    const keyOf = (buf: Buffer) => (JSON.parse(buf.subarray(4, 4 + buf.readUInt32LE(0)).toString('utf8')) as { key: string }).key;
    const key = keyOf(fs.readFileSync(file));
    assert.ok(readCheckpoint(file, key), 'readable with its own key');
    assert.equal(readCheckpoint(file, key.replace('0.001', '0.002')), null);
    const fresh = architectures.conv2.build(0.1, 'glorot', 0);
    const other = await trainModel(fresh, data, config(2e-3, { checkpointFile: file }));
    const plain = architectures.conv2.build(0.1, 'glorot', 0);
    const ref = await trainModel(plain, data, config(2e-3));
    assert.deepEqual(other.validation, ref.validation, 'trained from scratch, as without a checkpoint');
    // A truncated file is no checkpoint.
    fs.writeFileSync(file, fs.readFileSync(path.join(__dirname, 'checkpoint.test.ts')).subarray(0, 100));
    assert.equal(readCheckpoint(file, key), null);
    fresh.dispose();
    plain.dispose();
  });
});
