import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { hoyerSparsity, meanHoyer, classSelectivity, hiddenActivations } from '../../lib/analysis/activations';
import { initBackend } from '../../lib/backend';

function near(a: number, b: number, tol = 1e-6, msg = ''): void {
  assert.ok(Math.abs(a - b) <= tol, `${msg} expected ${b}, got ${a}`);
}

describe('analysis/activations', () => {
  describe('hoyerSparsity', () => {
    it('is 1 for one-hot, 0 for uniform magnitudes, and the formula in between', () => {
      assert.equal(hoyerSparsity([0, 0, 3, 0]), 1);
      assert.equal(hoyerSparsity([2, 2, 2, 2]), 0);
      assert.equal(hoyerSparsity([-2, 2, 2, -2]), 0, 'uses magnitudes');
      // [1, 1, 0, 0]: L1 = 2, L2 = sqrt(2), (sqrt(4) - sqrt(2)) / (sqrt(4) - 1) = 2 - sqrt(2)
      near(hoyerSparsity([1, 1, 0, 0]), 2 - Math.SQRT2, 1e-15);
      // [3, 4] : L1 = 7, L2 = 5, (sqrt2 - 1.4) / (sqrt2 - 1)
      near(hoyerSparsity(Float32Array.from([3, 4])), (Math.SQRT2 - 1.4) / (Math.SQRT2 - 1), 1e-15);
    });

    it('defines the all-zero vector as 1 and rejects n < 2', () => {
      assert.equal(hoyerSparsity(new Float32Array(5)), 1);
      assert.throws(() => hoyerSparsity([3]), /n = 1/);
      assert.throws(() => hoyerSparsity([1, NaN]), /v\[1\] = NaN/);
    });

    it('meanHoyer averages the per-example sparsity over rows', () => {
      const acts = Float32Array.from([0, 0, 3, 0, /* row 2 */ 2, 2, 2, 2, /* row 3 */ 1, 1, 0, 0]);
      near(meanHoyer(acts, 4), (1 + 0 + (2 - Math.SQRT2)) / 3, 1e-12);
      assert.throws(() => meanHoyer(acts, 5), /acts\.length = 12 is not a multiple of units = 5/);
    });
  });

  describe('classSelectivity (CCMAS)', () => {
    // 6 examples x 4 units; labels 0 0 1 1 2 2.
    //   unit 0: class means 3, 1, 1 -> (3 - 1) / (3 + 1) = 0.5
    //   unit 1: always 0 (dead) -> 0 by definition
    //   unit 2: only class 2 fires (mean 5) -> (5 - 0) / (5 + 0) = 1
    //   unit 3: always 2 -> 0
    const acts = Float32Array.from([4, 0, 0, 2, 2, 0, 0, 2, 1, 0, 0, 2, 1, 0, 0, 2, 0, 0, 4, 2, 2, 0, 6, 2]);
    const labels = Uint8Array.from([0, 0, 1, 1, 2, 2]);

    it('matches a hand-computed table', () => {
      assert.deepEqual(Array.from(classSelectivity(acts, labels, 4, 3)), [0.5, 0, 1, 0]);
    });

    it('leaves classes without examples out of mu_max and mu_rest', () => {
      // numClasses = 4 but class 3 never occurs: counting it as mean 0 would give unit 0 (3 - 2/3) / (3 + 2/3).
      assert.deepEqual(Array.from(classSelectivity(acts, labels, 4, 4)), [0.5, 0, 1, 0]);
    });

    it('a class-specific unit in a 10-class table', () => {
      // unit fires 1.0 for class 7, 0.1 for all others: mu_rest = 0.1 -> (1 - 0.1) / 1.1
      const n = 50,
        lab = Uint8Array.from({ length: n }, (_, i) => i % 10);
      const a = Float32Array.from(lab, (c) => (c === 7 ? 1 : 0.1));
      near(classSelectivity(a, lab, 1, 10)[0], 0.9 / 1.1, 1e-7);
    });

    it('validates its inputs', () => {
      assert.throws(() => classSelectivity(acts, labels.subarray(0, 5), 4, 3), /labels\.length = 5/);
      assert.throws(() => classSelectivity(acts, Uint8Array.from([0, 0, 1, 1, 2, 3]), 4, 3), /labels\[5\] = 3/);
      assert.throws(() => classSelectivity(acts, new Uint8Array(6), 4, 3), /classes present = 1/);
      const neg = acts.slice();
      neg[1] = -0.5;
      assert.throws(() => classSelectivity(neg, labels, 4, 3), /acts\[1\] = -0.5/);
    });
  });

  describe('hiddenActivations (tfjs)', () => {
    before(async () => {
      await initBackend();
    });

    it('returns post-ReLU dense activations and per-example Hoyer, disposing every tensor', () => {
      const input = tf.input({ shape: [3] });
      const hidden = tf.layers.dense({ units: 3, activation: 'relu', name: 'fc1' }).apply(input) as tf.SymbolicTensor;
      const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'proj' }).apply(hidden) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: out });
      // h = relu(x W + b), W = [[1, 0, -1], [0, 2, 0], [1, 1, 1]], b = [0, -1, 0]
      model.getLayer('fc1').setWeights([
        tf.tensor2d([
          [1, 0, -1],
          [0, 2, 0],
          [1, 1, 1],
        ]),
        tf.tensor1d([0, -1, 0]),
      ]);
      const x = Float32Array.from([1, 2, 3, /* */ -1, 0, 0, /* */ 0, 0, 0, /* */ 2, 1, -4]);
      // row 0: [1+3, 4+3-1, -1+3] = [4, 6, 2]; row 1: [-1, -1, 1] -> [0, 0, 1];
      // row 2: [0, -1, 0] -> [0, 0, 0]; row 3: [2-4, 2-4-1, -2-4] -> [0, 0, 0]
      const expected = [4, 6, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0];
      const before = tf.memory().numTensors;
      for (const batchSize of [1, 3, 256]) {
        const [fc1] = hiddenActivations(model, ['fc1'], x, [3], batchSize);
        assert.equal(fc1.name, 'fc1');
        assert.deepEqual(fc1.shape, [3]);
        assert.equal(fc1.units, 3);
        assert.deepEqual(Array.from(fc1.values), expected, `batchSize ${batchSize}`);
        // Hoyer per row: [4,6,2] by formula; one-hot 1; all-zero rows 1 by definition
        const l1 = 12,
          l2 = Math.sqrt(56),
          r = Math.sqrt(3);
        near(fc1.hoyer[0], (r - l1 / l2) / (r - 1), 1e-6);
        assert.deepEqual(Array.from(fc1.hoyer.subarray(1)), [1, 1, 1]);
        near(meanHoyer(fc1.values, 3), Array.from(fc1.hoyer).reduce((a, b) => a + b) / 4, 1e-6, 'dense hoyer = meanHoyer');
      }
      assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
      // the original model still works: its weights were not disposed along with the probe model
      const y = model.predict(tf.tensor2d([[1, 2, 3]])) as tf.Tensor;
      assert.equal(y.shape[1], 2);
      y.dispose();
      model.dispose();
    });

    it('averages conv channels over positions and measures Hoyer over the full feature map', () => {
      const input = tf.input({ shape: [2, 2, 1] });
      const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu', name: 'conv1' }).apply(input) as tf.SymbolicTensor;
      const flat = tf.layers.flatten().apply(conv) as tf.SymbolicTensor;
      const dense = tf.layers.dense({ units: 3, activation: 'relu', name: 'fc1', kernelInitializer: 'ones' }).apply(flat) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: dense });
      // channel 0 = relu(x), channel 1 = relu(-x)
      model.getLayer('conv1').setWeights([tf.tensor4d([[[[1, -1]]]]), tf.tensor1d([0, 0])]);
      const x = Float32Array.from([1, -2, 3, 0, /* */ -1, -1, -1, -1]);
      const [c, f] = hiddenActivations(model, ['conv1', 'fc1'], x, [2, 2, 1], 1);
      assert.deepEqual(c.shape, [2, 2, 2]);
      assert.equal(c.units, 2);
      // example 0: ch0 = [1, 0, 3, 0] mean 1, ch1 = [0, 2, 0, 0] mean 0.5; example 1: ch0 all 0, ch1 all 1
      assert.deepEqual(Array.from(c.values), [1, 0.5, 0, 1]);
      // full map of example 0: values 1, 3, 2 and five zeros: L1 = 6, L2 = sqrt(14), n = 8
      near(c.hoyer[0], (Math.sqrt(8) - 6 / Math.sqrt(14)) / (Math.sqrt(8) - 1), 1e-6);
      // example 1: four 1s among 8: (sqrt8 - 4/2) / (sqrt8 - 1)
      near(c.hoyer[1], (Math.sqrt(8) - 2) / (Math.sqrt(8) - 1), 1e-6);
      // fc1 with all-ones kernel: every unit = sum of the flattened map = 6 (ex. 0) and 4 (ex. 1)
      assert.equal(f.units, 3);
      assert.deepEqual(Array.from(f.values), [6, 6, 6, 4, 4, 4]);
      model.dispose();
    });

    it("feeds the model's own input layout and validates shapes", () => {
      const input = tf.input({ shape: [4] });
      const h = tf.layers.dense({ units: 2, activation: 'relu', name: 'fc1', kernelInitializer: 'ones' }).apply(input) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: h });
      // images given as [2, 2, 1] fit a flat [4] input
      const [a] = hiddenActivations(model, ['fc1'], Float32Array.from([1, 2, 3, 4]), [2, 2, 1]);
      assert.deepEqual(Array.from(a.values), [10, 10]);
      assert.throws(() => hiddenActivations(model, ['fc1'], new Float32Array(9), [3, 3]), /does not fit the model input/);
      assert.throws(() => hiddenActivations(model, ['fc1'], new Float32Array(7), [4]), /x\.length = 7/);
      assert.throws(() => hiddenActivations(model, [], new Float32Array(4), [4]), /layerNames\.length = 0/);
      assert.throws(() => hiddenActivations(model, ['nope'], new Float32Array(4), [4]));
      model.dispose();
    });
  });
});
