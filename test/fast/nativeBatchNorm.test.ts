// The native batch normalization (lib/fast/nativeBatchNorm.ts): its kernels against a double-precision reference
// written here, the layer's training step and inference against tfjs's own path (levers.nativeBatchNorm off) and the
// cpu backend, fallbacks, memory, determinism, what a record says and reproducing a record with what it names.
// The library is built by `npm ci` (postinstall); where it cannot be, these fail unless DENSITY_SKIP_NATIVE=1.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { levers } from '../../lib/fast/levers';
import { activeBatchNorm, batchNormTraining, nativeBatchNorm, nativeBatchNormCalls, NATIVE_BATCH_NORM, TFJS_BATCH_NORM } from '../../lib/fast/nativeBatchNorm';
import { provenance } from '../../lib/experiments/provenance';
import { useRecordedKernels } from '../../lib/experiments/reproduce';
import { NATIVE_KERNEL_FAMILIES, useRecordedFamily } from '../../lib/fast/nativeKernels';
import type { RunRecord } from '../../lib/store/runRecord';
import { maxRelDiff, randomArray, sameBits, valuesOn } from '../backend/helpers';

const EPS = 1e-5;

/** Training-mode batch normalization and its gradient for dy, in double precision, over the leading axes. */
function reference(x: Float32Array, c: number, scale: Float32Array, offset: Float32Array, dy: Float32Array) {
  const rows = x.length / c;
  const mean = new Float64Array(c),
    variance = new Float64Array(c);
  for (let i = 0; i < x.length; i++) mean[i % c] += x[i] / rows;
  for (let i = 0; i < x.length; i++) variance[i % c] += (x[i] - mean[i % c]) ** 2 / rows;
  const inv = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + EPS));
  const xhat = Float64Array.from(x, (v, i) => (v - mean[i % c]) * inv[i % c]);
  const y = Float64Array.from(xhat, (v, i) => v * scale[i % c] + offset[i % c]);
  const dOffset = new Float64Array(c),
    dScale = new Float64Array(c);
  for (let i = 0; i < x.length; i++) {
    dOffset[i % c] += dy[i];
    dScale[i % c] += dy[i] * xhat[i];
  }
  const dx = Float64Array.from(x, (_, i) => {
    const k = i % c;
    return scale[k] * inv[k] * (dy[i] - dOffset[k] / rows - (xhat[i] * dScale[k]) / rows);
  });
  return { y, mean, variance, dx, dScale, dOffset };
}

// [x shape]: NHWC activations (ResNet-like channel counts, one channel as ResNet 0.1x) and a rank-2 batch.
const SHAPES = [
  [4, 5, 5, 3],
  [8, 6, 6, 16],
  [16, 4, 4, 1],
  [2, 3, 3, 33],
  [64, 7],
];

/** A tiny ResNet-like model: conv, BatchNorm, ReLU, pooled, dense. */
function bnModel(seed: number, bnArgs: Parameters<typeof tf.layers.batchNormalization>[0] = {}): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 3] });
  let h = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.glorotNormal({ seed }) })
    .apply(input) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ momentum: 0.9, epsilon: EPS, ...bnArgs }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: h });
}

/** One training-mode pass: the loss, every trainable weight's gradient and the moving statistics afterwards. */
function trainingPass(model: tf.LayersModel, xv: Float32Array): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, [5, 6, 6, 3]);
    const w = tf.tensor(randomArray(15, 77), [5, 3]);
    const vars = model.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar, vars);
    const moving = model.weights.filter((v) => v.name.includes('moving')).map((v) => v.read().dataSync() as Float32Array);
    return [value.dataSync() as Float32Array, ...vars.map((v) => grads[v.name].dataSync() as Float32Array), ...moving];
  });
}

describe('fast/nativeBatchNorm', function () {
  before(async function () {
    await initBackend('wasm');
    const n = nativeBatchNorm();
    if (n.name === null) {
      if (process.env.DENSITY_SKIP_NATIVE === '1') this.skip();
      assert.fail(`the native batch normalization is not available: ${(n as { reason: string }).reason} (DENSITY_SKIP_NATIVE=1 skips these tests)`);
    }
  });

  afterEach(async () => {
    levers.nativeBatchNorm = true;
    await tf.setBackend('wasm');
  });

  it('reports what is active, as the lever has it', () => {
    assert.equal(activeBatchNorm(), NATIVE_BATCH_NORM);
    levers.nativeBatchNorm = false;
    assert.equal(activeBatchNorm(), TFJS_BATCH_NORM);
  });

  for (const shape of SHAPES) {
    it(`training forward and gradient match a double-precision reference: [${shape}]`, async () => {
      const c = shape[shape.length - 1];
      const n = shape.reduce((a, b) => a * b);
      const seed = n + c;
      // An offset mean (3) and spread (2) per element: the statistics must not cancel.
      const xv = randomArray(n, seed, 2, 3);
      const sv = randomArray(c, seed + 1, 0.5, 1);
      const ov = randomArray(c, seed + 2, 0.5);
      const dyv = randomArray(n, seed + 3);
      const ref = reference(xv, c, sv, ov, dyv);
      const before = { ...nativeBatchNormCalls };
      const [y, mean, variance, dx, dScale, dOffset] = await valuesOn('wasm', () => {
        const x = tf.tensor(xv, shape);
        const scale = tf.tensor1d(sv);
        const offset = tf.tensor1d(ov);
        const [yy, m, v] = batchNormTraining(x, scale, offset, EPS);
        const dy = tf.tensor(dyv, shape);
        const g = tf.grads((a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => tf.sum(tf.mul(batchNormTraining(a, s, o, EPS)[0], dy)))([x, scale, offset]);
        return [yy, m, v, ...g];
      });
      assert.equal(nativeBatchNormCalls.training - before.training, 2);
      assert.equal(nativeBatchNormCalls.gradient - before.gradient, 1);
      assert.ok(maxRelDiff(ref.y, y) < 2e-6, `y ${maxRelDiff(ref.y, y)}`);
      assert.ok(maxRelDiff(ref.mean, mean) < 1e-6, `mean ${maxRelDiff(ref.mean, mean)}`);
      assert.ok(maxRelDiff(ref.variance, variance) < 1e-6, `variance ${maxRelDiff(ref.variance, variance)}`);
      assert.ok(maxRelDiff(ref.dx, dx) < 1e-5, `dx ${maxRelDiff(ref.dx, dx)}`);
      assert.ok(maxRelDiff(ref.dScale, dScale) < 1e-5, `dscale ${maxRelDiff(ref.dScale, dScale)}`);
      assert.ok(maxRelDiff(ref.dOffset, dOffset) < 1e-5, `doffset ${maxRelDiff(ref.dOffset, dOffset)}`);
    });
  }

  it("a BatchNorm layer's training step computes what tfjs's computes (cpu backend and wasm with the lever off)", async () => {
    const xv = randomArray(5 * 6 * 6 * 3, 5, 1.5, 0.5);
    const model = bnModel(3);
    const initial = model.getWeights().map((w) => w.dataSync().slice());
    const reset = () => model.setWeights(initial.map((v, i) => tf.tensor(v, model.weights[i].shape as number[])));
    const run = async (backend: string, native: boolean) => {
      await tf.setBackend(backend);
      levers.nativeBatchNorm = native;
      reset();
      return trainingPass(model, xv);
    };
    const before = nativeBatchNormCalls.training;
    const native = await run('wasm', true);
    assert.equal(nativeBatchNormCalls.training - before, 1, 'the layer took the native kernel');
    const plain = await run('wasm', false);
    assert.equal(nativeBatchNormCalls.training - before, 1, 'lever off: tfjs ops');
    const cpu = await run('cpu', true);
    assert.equal(native.length, 1 + model.trainableWeights.length + 2);
    for (let i = 0; i < native.length; i++) {
      assert.ok(maxRelDiff(cpu[i], native[i]) < 1e-4, `value ${i}: native vs cpu ${maxRelDiff(cpu[i], native[i])}`);
      assert.ok(maxRelDiff(plain[i], native[i]) < 1e-4, `value ${i}: native vs tfjs on wasm ${maxRelDiff(plain[i], native[i])}`);
    }
    assert.ok(!sameBits(plain[0], native[0]) || !sameBits(plain[1], native[1]), 'the native path ran (other rounding)');
    model.dispose();
  });

  it('inference (FusedBatchNorm) matches the cpu backend, and runs natively', async () => {
    const model = bnModel(4);
    // Moving statistics away from their initial 0 and 1.
    model.weights.filter((v) => v.name.includes('moving')).forEach((v, i) => v.write(tf.tensor1d(randomArray(4, 40 + i, 0.3, i + 0.2))));
    const xv = randomArray(5 * 6 * 6 * 3, 6);
    const predict = () => model.predict(tf.tensor4d(xv, [5, 6, 6, 3])) as tf.Tensor;
    const before = nativeBatchNormCalls.inference;
    const [native] = await valuesOn('wasm', predict);
    assert.equal(nativeBatchNormCalls.inference - before, 1);
    const [cpu] = await valuesOn('cpu', predict);
    assert.ok(maxRelDiff(cpu, native) < 1e-5, `${maxRelDiff(cpu, native)}`);
    levers.nativeBatchNorm = false;
    const [plain] = await valuesOn('wasm', predict);
    assert.equal(nativeBatchNormCalls.inference - before, 1, 'lever off: wasm kernel');
    assert.ok(maxRelDiff(plain, native) < 1e-5);
    model.dispose();
  });

  it('gives the same bits twice', async () => {
    const xv = randomArray(5 * 6 * 6 * 3, 8);
    const model = bnModel(5);
    const initial = model.getWeights().map((w) => w.dataSync().slice());
    const once = () => {
      model.setWeights(initial.map((v, i) => tf.tensor(v, model.weights[i].shape as number[])));
      return trainingPass(model, xv);
    };
    const a = once();
    const b = once();
    a.forEach((v, i) => assert.ok(sameBits(v, b[i]), `value ${i}`));
    model.dispose();
  });

  it("leaves other backends to tfjs's code", async () => {
    const xv = randomArray(5 * 6 * 6 * 3, 9);
    const model = bnModel(6);
    await tf.setBackend('cpu');
    const before = { ...nativeBatchNormCalls };
    trainingPass(model, xv);
    tf.dispose(model.predict(tf.tensor4d(xv, [5, 6, 6, 3])) as tf.Tensor);
    assert.deepEqual(nativeBatchNormCalls, before);
    model.dispose();
  });

  it('frees what it allocates in a training step', () => {
    const xv = randomArray(5 * 6 * 6 * 3, 10);
    const model = bnModel(7);
    trainingPass(model, xv);
    const tensors = tf.memory().numTensors;
    const data = tf.engine().backend.numDataIds();
    trainingPass(model, xv);
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.engine().backend.numDataIds(), data);
    model.dispose();
  });

  it("records the batch normalization in a stage's provenance, as the lever has it", () => {
    assert.equal(provenance().backend.batchNorm, NATIVE_BATCH_NORM);
    levers.nativeBatchNorm = false;
    assert.equal(provenance().backend.batchNorm, TFJS_BATCH_NORM);
  });

  it('reproduces a record with the batch normalization it names, and refuses one this machine lacks', () => {
    const use = (recorded?: string) => useRecordedFamily(NATIVE_KERNEL_FAMILIES.batchNorm, recorded, 'abc');
    // Records from before the native batch normalization name none: tfjs's.
    assert.equal(use(), true, 'returns the setting to restore');
    assert.equal(levers.nativeBatchNorm, false);
    assert.equal(use(NATIVE_BATCH_NORM), false);
    assert.equal(levers.nativeBatchNorm, true);
    assert.throws(() => use('native-v9'), /run abc was computed with the batch normalization 'native-v9', and this machine has 'native'/);
    assert.equal(levers.nativeBatchNorm, true, 'a refused record leaves the lever as it was');
  });

  it('reproducing switches every family to what the record names, and restores them (also after a refusal)', () => {
    const record = (backend: Record<string, string>) => ({ hash: 'abc', provenance: { backend: { name: 'wasm', ...backend } } }) as unknown as RunRecord;
    const restore = useRecordedKernels(record({ convolutions: 'xnnpack' })); // an older record: no batchNorm field
    assert.deepEqual([levers.nativeConv, levers.nativeBatchNorm], [false, false]);
    restore();
    assert.deepEqual([levers.nativeConv, levers.nativeBatchNorm], [true, true]);
    // The convolutions are switched first; the refused batch normalization must not leave them switched.
    assert.throws(() => useRecordedKernels(record({ convolutions: 'xnnpack', batchNorm: 'native-v9' })), /batch normalization 'native-v9'/);
    assert.deepEqual([levers.nativeConv, levers.nativeBatchNorm], [true, true]);
  });
});
