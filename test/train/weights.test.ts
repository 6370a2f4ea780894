import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { architectures, getKernels } from '../../lib/models';
import { evaluate, hasSavedModel, loadModel, predictLogits, saveModel, trainModel } from '../../lib/train';
import { allWeights, sameBits, syntheticImages } from './fixtures';

describe('train: saved models (tfjs layers format)', function () {
  let tmp: string;
  before(async () => {
    await initBackend();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'density-weights-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('resnet: save/load round trip gives bit-identical weights (BatchNorm statistics included) and predictions', async () => {
    const train = syntheticImages(64, [32, 32, 3], 1);
    const validation = syntheticImages(40, [32, 32, 3], 2);
    const m = architectures.resnet.build(0.25, 'glorot', 3);
    const movingBefore = (m.getLayer('bn0').getWeights()[2].dataSync() as Float32Array).slice();
    await trainModel(
      m,
      { train, validation },
      { optimizer: 'sgd', learningRate: 0.05, batchSize: 32, shuffleSeed: 0, stop: { kind: 'bestValidationLoss', epochs: 1 } },
    );
    const moving = m.getLayer('bn0').getWeights()[2].dataSync() as Float32Array;
    assert.ok(
      moving.some((v, i) => v !== movingBefore[i]),
      'training mode updates the BatchNorm moving mean',
    );

    const dir = path.join(tmp, 'resnet');
    await saveModel(m, dir);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin'], 'no temp files left behind');
    assert.ok(hasSavedModel(dir));
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.equal(json.convertedBy, null);
    assert.match(json.generatedBy, /TensorFlow\.js/);
    assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
    assert.ok(json.weightsManifest[0].weights.some((w: { name: string }) => w.name === 'block2_conv1/kernel'));
    assert.equal(json.modelTopology.class_name, 'Model', 'keras-style topology');

    const loaded = await loadModel(dir);
    assert.ok(sameBits(allWeights(loaded), allWeights(m)));
    assert.deepEqual(
      loaded.weights.map((w) => w.originalName),
      m.weights.map((w) => w.originalName),
    );
    const layers = architectures.resnet.prunableLayers(0.25);
    assert.deepEqual(getKernels(loaded, layers), getKernels(m, layers));
    assert.deepEqual(predictLogits(loaded, validation), predictLogits(m, validation));
    assert.deepEqual(evaluate(loaded, validation), evaluate(m, validation));
    loaded.dispose();
    m.dispose();
  });

  it('mlp: saving over an existing save replaces it; a loaded model trains on', async () => {
    const dir = path.join(tmp, 'mlp');
    const a = architectures.mlp.build(0.1, 'he', 1);
    const b = architectures.mlp.build(0.1, 'he', 2);
    await saveModel(a, dir);
    await saveModel(b, dir);
    const loaded = await loadModel(dir);
    assert.ok(sameBits(allWeights(loaded), allWeights(b)));
    const set = syntheticImages(64, [28, 28, 1], 0);
    const r = await trainModel(
      loaded,
      { train: set, validation: set },
      { optimizer: 'adam', learningRate: 1e-3, batchSize: 32, shuffleSeed: 0, stop: { kind: 'bestValidationLoss', epochs: 1 } },
    );
    assert.equal(r.status, 'complete');
    assert.ok(!sameBits(allWeights(loaded), allWeights(b)));
    [a, b, loaded].forEach((m) => m.dispose());
  });

  it('loadModel refuses a weights.bin whose size does not match model.json', async () => {
    const dir = path.join(tmp, 'truncated');
    const m = architectures.mlp.build(0.1, 'he', 1);
    await saveModel(m, dir);
    m.dispose();
    const bin = path.join(dir, 'weights.bin');
    fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 100));
    await assert.rejects(loadModel(dir), /weight files hold 100 bytes but model.json describes 95880/);
    assert.equal(hasSavedModel(path.join(tmp, 'nothing-here')), false);
  });
});

describe('train: memory stays flat across trainings', function () {
  before(async () => {
    await initBackend();
  });

  it('build + train (each optimiser and stop rule) + evaluate + save/load + dispose leaves no tensors behind', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'density-mem-'));
    const mnistLike = syntheticImages(200, [28, 28, 1], 0);
    const cifarLike = syntheticImages(64, [32, 32, 3], 0);
    const cycle = async (k: number) => {
      const mlp = architectures.mlp.build(0.25, 'glorot', k);
      await trainModel(
        mlp,
        { train: mnistLike, validation: mnistLike },
        {
          optimizer: 'sgd',
          learningRate: 0.1,
          batchSize: 32,
          shuffleSeed: k,
          stop: { kind: 'targetTrainLoss', target: 0.01, window: 5, checkEvery: 5, maxEpochs: 1 },
        },
      );
      await trainModel(
        mlp,
        { train: mnistLike, validation: mnistLike },
        { optimizer: 'adam', learningRate: 1e-3, batchSize: 32, shuffleSeed: k, stop: { kind: 'bestValidationLoss', epochs: 2 } },
      );
      await trainModel(
        mlp,
        { train: mnistLike, validation: mnistLike },
        { optimizer: 'adagrad', learningRate: 1e-2, batchSize: 32, shuffleSeed: k, stop: { kind: 'bestValidationLoss', epochs: 1 } },
      );
      predictLogits(mlp, mnistLike);
      await saveModel(mlp, path.join(tmp, String(k)));
      const again = await loadModel(path.join(tmp, String(k)));
      evaluate(again, mnistLike);
      again.dispose();
      mlp.dispose();
      const res = architectures.resnet.build(0.125, 'he', k);
      await trainModel(
        res,
        { train: cifarLike, validation: cifarLike },
        { optimizer: 'sgd', learningRate: 0.1, batchSize: 32, shuffleSeed: k, stop: { kind: 'bestValidationLoss', epochs: 2 } },
      );
      res.dispose();
    };
    await cycle(0); // first use may create lasting backend state (e.g. cached kernels)
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    for (let k = 1; k <= 3; k++) await cycle(k);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.memory().numBytes, bytesBefore);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
