// The webgpu tier (issue 18): tfjs-backend-webgpu on Dawn's Node binding, here on a software Vulkan adapter
// (Mesa's lavapipe, ~2 GFLOP/s: tiny models only). Checks against the cpu backend: the synchronous reads, the
// kernel fix and the kernels the project relies on, and a training step plus a 51-level pruning trajectory of
// MLP, Conv-2 and ResNet. Skips, saying why, where no Vulkan device exists (npm test installs Mesa's lavapipe
// on Debian as root: scripts/ensure-setup.js).
//
// Selecting webgpu goes through a fresh copy of lib/backend (as select.test.ts does), so the shared instance
// the other test files use keeps its choice; the tfjs backend is set back to what it was afterwards.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { registerWebgpu, type WebgpuAdapter } from '../../lib/backend/webgpu';
import { upstreamWebgpuKernel, WEBGPU_KERNEL_FIXES } from '../../lib/backend/webgpu-kernels';
import { denseFastPathsAllowed } from '../../lib/fast/levers';
import { architectures, type ArchName } from '../../lib/models';
import { trainModel, type TrainConfig } from '../../lib/train';
import { pruningTrajectory, type TrajectoryPoint } from '../../lib/prune/trajectory';
import type { ImageSet } from '../../lib/data';
import { randomArray, valuesOn } from './helpers';
import { syntheticImages } from '../train/fixtures';

type BackendModule = typeof import('../../lib/backend');
type ProvenanceModule = typeof import('../../lib/experiments/provenance');

/** Values rounded to halves: many exact ties, as in an image's constant regions. */
function tiedArray(n: number, seed: number): Float32Array {
  return randomArray(n, seed).map((v) => Math.round(v * 2) / 2);
}

/** max |got - ref| <= rel * max |ref| + abs, NaN where ref has NaN. */
function assertClose(ref: Float32Array, got: Float32Array, label: string, rel = 1e-4, abs = 1e-6): void {
  assert.equal(got.length, ref.length, `${label}: length`);
  let maxRef = 0,
    maxDiff = 0;
  for (let i = 0; i < ref.length; i++) {
    if (Number.isNaN(ref[i])) {
      assert.ok(Number.isNaN(got[i]), `${label}[${i}]: cpu NaN, webgpu ${got[i]}`);
      continue;
    }
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
  }
  assert.ok(maxRef > 0, `${label}: the reference is all zeros, so the comparison would prove nothing`);
  assert.ok(maxDiff <= rel * maxRef + abs, `${label}: max |webgpu - cpu| = ${maxDiff} > ${rel * maxRef + abs} (max |cpu| = ${maxRef})`);
}

async function compare(label: string, f: () => tf.Tensor | tf.Tensor[], exact = false): Promise<void> {
  const ref = await valuesOn('cpu', f);
  const got = await valuesOn('webgpu', f);
  assert.equal(got.length, ref.length);
  ref.forEach((r, i) =>
    exact ? assert.deepEqual(Array.from(got[i]), Array.from(r), `${label} [output ${i}]`) : assertClose(r, got[i], `${label} [output ${i}]`),
  );
}

describe('backend/webgpu (software adapter)', function () {
  this.timeout(300_000);
  const backendPath = require.resolve('../../lib/backend');
  const provenancePath = require.resolve('../../lib/experiments/provenance');
  const saved = {
    backend: require.cache[backendPath],
    provenance: require.cache[provenancePath],
    env: process.env.DENSITY_BACKEND,
    quiet: process.env.DENSITY_QUIET,
  };
  let previousBackend = '';
  let adapter: WebgpuAdapter;
  let fresh: { backend: BackendModule; provenance: ProvenanceModule };

  before(async function () {
    const probe = await registerWebgpu({ allowSoftware: true });
    if (!probe.ok) {
      process.stderr.write(
        `      [webgpu tier skipped] ${probe.reason}\n` +
          '      (Debian as root: npm test installs mesa-vulkan-drivers from bookworm-backports; see environment.md)\n',
      );
      this.skip();
    }
    adapter = probe.adapter;
    previousBackend = tf.getBackend();
    process.env.DENSITY_BACKEND = 'webgpu';
    process.env.DENSITY_QUIET = '1';
    delete require.cache[backendPath];
    delete require.cache[provenancePath];
    // Provenance first: it loads the fresh lib/backend, which is then the one required here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const provenance = require(provenancePath) as ProvenanceModule;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    fresh = { backend: require(backendPath) as BackendModule, provenance };
  });

  after(async () => {
    for (const [k, v] of [
      ['DENSITY_BACKEND', saved.env],
      ['DENSITY_QUIET', saved.quiet],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (saved.backend) require.cache[backendPath] = saved.backend;
    if (saved.provenance) require.cache[provenancePath] = saved.provenance;
    if (previousBackend) await tf.setBackend(previousBackend);
  });

  it('DENSITY_BACKEND=webgpu takes the software adapter; BackendInfo and provenance name it', async () => {
    const info = await fresh.backend.initBackend();
    assert.equal(info.name, 'webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
    assert.equal(info.package, '@tensorflow/tfjs-backend-webgpu');
    assert.equal(info.gpu, !adapter.software, 'a software adapter is not a GPU');
    assert.deepEqual(info.kernelFixes, [...WEBGPU_KERNEL_FIXES]);
    assert.deepEqual(info.adapter, adapter);
    for (const k of ['vendor', 'device', 'driver'] as const) assert.ok(info.adapter![k].length > 0, `adapter.${k} is empty`);
    const p = fresh.provenance.provenance().backend as { name: string; adapter?: WebgpuAdapter };
    assert.equal(p.name, 'webgpu');
    assert.deepEqual(p.adapter, adapter);
    assert.equal(denseFastPathsAllowed(), false, 'the dense fast paths are off on webgpu');
  });

  it('dataSync/arraySync read GPU results synchronously (float32, int32, bool), many times over', async () => {
    await tf.setBackend('webgpu');
    tf.tidy(() => {
      const x = tf.tensor2d(randomArray(64 * 33, 1), [64, 33]);
      const y = tf.matMul(x, x, false, true);
      const ref = tf.tidy(() => y.dataSync().slice()); // first read: from the GPU
      assert.equal(ref.length, 64 * 64);
      for (let i = 0; i < 20; i++) {
        const z = tf.add(y, tf.scalar(i)); // fresh GPU buffers each time
        const v = z.dataSync();
        assert.equal(v[5], ref[5] + i);
      }
      assert.deepEqual(tf.argMax(tf.tensor2d([1, 3, 3, 0, 7, 2], [2, 3]), 1).arraySync(), [1, 1]);
      assert.deepEqual(Array.from(tf.greater(tf.tensor1d([1, -1, 2]), 0).dataSync()), [1, 0, 1]);
    });
  });

  describe('MaxPoolGrad (upstream gives tied maxima the last position; cpu the first)', () => {
    const withTies = (h: number, f: number, s: number, pad: 'same' | 'valid', seed: number) => () => {
      const x = tf.tensor4d(tiedArray(2 * h * h * 3, seed), [2, h, h, 3]);
      const y = tf.maxPool(x, f, s, pad);
      // Halves: sums over overlapping windows are exact in any order, so the comparison is exact routing.
      const dy = tf.tensor(tiedArray(y.size, seed + 1), y.shape);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, f, s, pad), dy)))(x);
    };

    it('the upstream webgpu kernel really differs from cpu on ties (remove this fix if this fails)', async () => {
      const up = upstreamWebgpuKernel('MaxPoolGrad');
      assert.ok(up, 'the upstream kernel was kept');
      const ref = await valuesOn('cpu', withTies(8, 2, 2, 'valid', 3));
      const mine = tf.getKernel('MaxPoolGrad', 'webgpu')!;
      tf.unregisterKernel('MaxPoolGrad', 'webgpu');
      tf.registerKernel(up);
      let got: Float32Array[];
      try {
        got = await valuesOn('webgpu', withTies(8, 2, 2, 'valid', 3));
      } finally {
        tf.unregisterKernel('MaxPoolGrad', 'webgpu');
        tf.registerKernel(mine);
      }
      assert.notDeepEqual(Array.from(got[0]), Array.from(ref[0]));
    });

    for (const [h, f, s, pad] of [
      [8, 2, 2, 'valid'],
      [9, 3, 2, 'same'],
      [7, 3, 1, 'same'],
      [10, 3, 3, 'valid'],
      [6, 4, 2, 'same'],
    ] as const) {
      it(`equals cpu exactly with ties: ${h}x${h}, window ${f}, stride ${s}, ${pad}`, async () => {
        await compare('maxPool grad', withTies(h, f, s, pad, h * 10 + f), true);
      });
    }

    it('NaN and -Infinity never win; a window of both routes its gradient nowhere (as on cpu)', async () => {
      const x = () => tf.tensor4d([NaN, NaN, -Infinity, -Infinity, NaN, NaN, -Infinity, 5, NaN, 1, 2, 2, 1, NaN, 2, 2], [1, 4, 4, 1]);
      await compare(
        'maxPool grad NaN',
        () => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]))))(x()),
        true,
      );
    });
  });

  describe('kernels the project relies on, against cpu', () => {
    for (const [pad, stride] of [
      ['same', 1],
      ['valid', 2],
    ] as const) {
      it(`fused conv2d (bias, relu) and its gradients wrt x, filter, bias: ${pad}, stride ${stride}`, async () => {
        await compare('conv2d', () => {
          const x = tf.tensor4d(randomArray(2 * 9 * 9 * 3, 1), [2, 9, 9, 3]);
          const w = tf.tensor4d(randomArray(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]);
          const b = tf.tensor1d(randomArray(4, 3));
          const conv = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: stride, pad, bias: bb, activation: 'relu' });
          const dy = tf.tensor(randomArray(conv(x, w, b).size, 4), conv(x, w, b).shape);
          return [conv(x, w, b), ...tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(conv(xx, ww, bb), dy)))([x, w, b])];
        });
      });
    }

    it('matMul with every transpose (inner size 3072, as Conv-2 1x fc1 at 0.25x)', async () => {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        await compare(`matMul ${ta} ${tb}`, () =>
          tf.matMul(
            tf.tensor2d(randomArray(9 * 3072, 5), ta ? [3072, 9] : [9, 3072]),
            tf.tensor2d(randomArray(3072 * 7, 6), tb ? [7, 3072] : [3072, 7]),
            ta,
            tb,
          ),
        );
      }
    });

    it('BatchNorm in training mode (moments over N, H, W): output and gradients', async () => {
      await compare('batchNorm', () => {
        const x = tf.tensor4d(randomArray(2 * 5 * 5 * 3, 7, 2, 1), [2, 5, 5, 3]);
        const dy = tf.tensor4d(randomArray(2 * 5 * 5 * 3, 8), [2, 5, 5, 3]);
        const f = (a: tf.Tensor, sc: tf.Tensor, of: tf.Tensor) => {
          const m = tf.moments(a, [0, 1, 2]);
          return tf.batchNorm(a as tf.Tensor4D, m.mean, m.variance, of as tf.Tensor1D, sc as tf.Tensor1D, 1e-3);
        };
        const args = [x, tf.tensor1d([1, 2, 0.5]), tf.tensor1d([0, 1, -1])];
        return [f(args[0], args[1], args[2]), ...tf.grads((a: tf.Tensor, sc: tf.Tensor, of: tf.Tensor) => tf.sum(tf.mul(f(a, sc, of), dy)))(args)];
      });
    });

    it('argMax over 10 classes gives ties to the lowest index, like cpu (correctness, accuracy)', async () => {
      const logits = () =>
        tf.tensor2d(
          Float32Array.from({ length: 200 * 10 }, (_, i) => ((i * 7919) % 13) % 4),
          [200, 10],
        );
      await compare('argMax', () => tf.cast(tf.argMax(logits(), 1), 'float32'), true);
    });

    it('softmax cross-entropy, mean over leading axes, tile, gather, scatter update', async () => {
      await compare('misc', () => [
        tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.tensor1d([0, 3, 9], 'int32'), 10),
          tf.tensor2d(randomArray(30, 9, 30), [3, 10]),
          undefined,
          undefined,
          tf.Reduction.NONE,
        ),
        tf.mean(tf.tensor4d(randomArray(4 * 6 * 6 * 5, 10), [4, 6, 6, 5]), [0, 1, 2]),
        tf.tile(tf.tensor2d(randomArray(6, 11), [2, 3]), [4, 2]),
        tf.gather(tf.tensor2d(randomArray(50 * 7, 12), [50, 7]), tf.tensor1d([5, 49, 0, 5], 'int32')),
        tf.tensorScatterUpdate(tf.tensor2d(randomArray(20, 13), [5, 4]), tf.tensor2d([[1], [3]], [2, 1], 'int32'), tf.tensor2d(randomArray(8, 14), [2, 4])),
      ]);
    });
  });

  describe('a training step and a 51-level trajectory equal the cpu backend', () => {
    // Tiny widths: lavapipe runs at ~2 GFLOP/s.
    const cases: { arch: ArchName; width: number; optimizer: TrainConfig['optimizer']; learningRate: number }[] = [
      { arch: 'mlp', width: 0.1, optimizer: 'sgd', learningRate: 0.1 },
      { arch: 'conv2', width: 0.05, optimizer: 'adam', learningRate: 1e-3 },
      { arch: 'resnet', width: 0.125, optimizer: 'adam', learningRate: 1e-3 },
    ];

    /**
     * Train one step from the seeded init on `backend`, then prune from `pruneFrom` (the cpu-trained weights) when
     * given, else from the weights just trained: both trajectories then start from the same bits, so they differ
     * only by the forward passes (after Adam's first step many biases are equal, and a 1-ulp difference in them
     * would break logit ties differently once pruning has silenced the hidden units).
     */
    async function runOn(backend: 'cpu' | 'webgpu', c: (typeof cases)[number], train: ImageSet, validation: ImageSet, pruneFrom?: Float32Array[]) {
      await tf.setBackend(backend);
      const a = architectures[c.arch];
      const model = a.build(c.width, 'he', 3);
      try {
        const result = await trainModel(
          model,
          { train, validation },
          {
            optimizer: c.optimizer,
            learningRate: c.learningRate,
            batchSize: train.n,
            shuffleSeed: 0,
            stop: { kind: 'bestValidationLoss', epochs: 1 },
            evalBatchSize: validation.n,
          },
        );
        const weights = model.weights.map((w) => Float32Array.from(w.read().dataSync()));
        if (pruneFrom) tf.tidy(() => model.setWeights(model.weights.map((w, i) => tf.tensor(pruneFrom[i], w.read().shape))));
        const trajectory = await pruningTrajectory(model, a, validation, { strategy: 'layerwiseMagnitude', batchSize: validation.n });
        return { result, weights, trajectory };
      } finally {
        model.dispose();
      }
    }

    for (const c of cases) {
      it(`${c.arch} ${c.width}x (${c.optimizer}): weights after a step, validation, and all 51 levels`, async () => {
        const shape = architectures[c.arch].inputShape;
        const train = syntheticImages(8, shape, 1);
        const validation = syntheticImages(8, shape, 2);
        const ref = await runOn('cpu', c, train, validation);
        const got = await runOn('webgpu', c, train, validation, ref.weights);
        assert.equal(got.result.trainer, 'generic', 'webgpu trains through the plain layer path');
        assert.equal(got.result.steps, 1);
        ref.weights.forEach((w, i) => assertClose(w, got.weights[i], `${c.arch} weight ${i}`, 1e-4, 1e-6));
        assert.ok(Math.abs(got.result.validation[0].loss - ref.result.validation[0].loss) <= 1e-4 * ref.result.validation[0].loss);
        assert.equal(got.trajectory.length, 51);
        got.trajectory.forEach((p: TrajectoryPoint, k) => {
          const r = ref.trajectory[k];
          assert.equal(p.density, r.density);
          assert.deepEqual(p.remaining, r.remaining);
          assert.ok(Math.abs(p.loss - r.loss) <= 1e-4 * Math.abs(r.loss) + 1e-6, `level ${k}: loss ${p.loss} vs cpu ${r.loss}`);
          assert.equal(p.accuracy, r.accuracy, `level ${k}: accuracy`);
        });
      });
    }
  });
});
