import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { strategies, densityAt } from '../../lib/prune/strategies';
import { denseStack, denseStackTrajectory, pruningTrajectory, scoreOutputs, defaultBatchSize, type TrajectoryPoint } from '../../lib/prune/trajectory';
import { CSR_MATMUL } from '../../lib/fast/wasmSimd';
import { levers, resetLevers } from '../../lib/fast/levers';
import type { StrategyName } from '../../lib/prune/strategies';
import { convModel, denseLogitsModel, denseSoftmaxModel, snapshot, syntheticImages, tfEvaluate, trainBriefly } from './fixtures';

const SIDE = 10; // 100 input features: every layer below has a multiple of 50 weights, so 2% steps are exact
const NAMES = ['fc1', 'fc2', 'proj'];

function assertSameTrajectory(fast: TrajectoryPoint[], slow: TrajectoryPoint[], n: number, what: string): void {
  assert.equal(fast.length, slow.length);
  fast.forEach((p, k) => {
    const q = slow[k];
    assert.equal(p.level, q.level);
    assert.equal(p.density, q.density);
    assert.deepEqual(p.remaining, q.remaining);
    // Float summation order differs between the paths: allow one image whose argmax is a near-tie to flip.
    assert.ok(Math.abs(p.accuracy - q.accuracy) <= 1 / n + 1e-12, `${what} level ${k}: accuracy ${p.accuracy} vs ${q.accuracy}`);
    assert.ok(Math.abs(p.loss - q.loss) <= 1e-4 * Math.max(1, Math.abs(q.loss)), `${what} level ${k}: loss ${p.loss} vs ${q.loss}`);
  });
}

describe('prune/trajectory', function () {
  this.timeout(120000);
  const train = syntheticImages(2000, SIDE, 1);
  const validation = syntheticImages(1000, SIDE, 2);
  let mlp: tf.LayersModel; // 100 -> 50 -> 50 -> 10 (5000 + 2500 + 500 weights), logits
  let softmaxModel: tf.Sequential;

  before(async () => {
    await initBackend();
    mlp = denseLogitsModel(SIDE, [50, 50], 3);
    await trainBriefly(mlp, train, SIDE, 4, true); // 252 steps
    softmaxModel = denseSoftmaxModel(SIDE, 5);
    await trainBriefly(softmaxModel, train, SIDE, 3, false);
  });

  it('the test model learned something (so the curve below has room to fall)', () => {
    const { accuracy } = tfEvaluate(mlp, validation, SIDE, true);
    assert.ok(accuracy > 0.8, `validation accuracy ${accuracy}`);
  });

  it("starts at the intact model's tf evaluation, ends near chance with exact densities (generic path)", async () => {
    const intact = tfEvaluate(mlp, validation, SIDE, true);
    const traj = await pruningTrajectory(mlp, NAMES, validation, { strategy: 'layerwiseMagnitude', fastPath: false });
    assert.equal(traj.length, 51);
    assert.equal(traj[0].accuracy, intact.accuracy);
    assert.ok(Math.abs(traj[0].loss - intact.loss) < 1e-5 * intact.loss, `${traj[0].loss} vs ${intact.loss}`);
    traj.forEach((p, k) => {
      assert.equal(p.level, k);
      assert.ok(Math.abs(p.density - (100 - 2 * k)) < 1e-9, `density ${p.density} at level ${k}`);
      assert.deepEqual(p.remaining, { fc1: 5000 - 100 * k, fc2: 2500 - 50 * k, proj: 500 - 10 * k });
    });
    // Everything pruned: every image gets the same output (biases only), so accuracy is one class's share.
    const last = traj[50];
    const shares = Array.from({ length: 10 }, (_, c) => validation.y.filter((v) => v === c).length / validation.n);
    assert.ok(
      shares.some((s) => s === last.accuracy),
      `final accuracy ${last.accuracy} is not a class share`,
    );
    assert.ok(last.accuracy < 0.2);
    // Pruning hurts: the middle of the curve is below the start and above the end on average.
    assert.ok(traj[45].accuracy < traj[0].accuracy - 0.1);
  });

  it('leaves the model exactly as it was (both paths) and leaks no tensors', async () => {
    const before = snapshot(mlp);
    const tensors = tf.memory().numTensors;
    for (const fastPath of [false, true]) {
      await pruningTrajectory(mlp, NAMES, validation, { strategy: 'globalMagnitude', fastPath, levels: 10 });
      assert.deepEqual(snapshot(mlp), before, `fastPath=${fastPath}`);
      assert.equal(tf.memory().numTensors, tensors, `fastPath=${fastPath} leaked tensors`);
    }
    assert.deepEqual(tfEvaluate(mlp, validation, SIDE, true), tfEvaluate(mlp, validation, SIDE, true));
  });

  it('restores the model when evaluation fails midway', async () => {
    const before = snapshot(mlp);
    const tensors = tf.memory().numTensors;
    const bad = { ...validation, y: validation.y.map((v, i) => (i === validation.n - 1 ? 10 : v)) }; // label 10 of 10 classes
    await assert.rejects(pruningTrajectory(mlp, NAMES, bad, { strategy: 'layerwiseMagnitude', fastPath: false }), /label 10/);
    assert.deepEqual(snapshot(mlp), before);
    assert.equal(tf.memory().numTensors, tensors);
  });

  for (const strategy of ['layerwiseMagnitude', 'globalMagnitude', 'random'] as StrategyName[]) {
    it(`fast path equals the generic path (${strategy})`, async () => {
      const slow = await pruningTrajectory(mlp, NAMES, validation, { strategy, fastPath: false, seed: 7 });
      const fast = await denseStackTrajectory(mlp, NAMES, validation, { strategy, seed: 7 });
      assertSameTrajectory(fast, slow, validation.n, strategy);
      // Small batches on the generic path and chunks on the fast path change nothing but rounding.
      const chunked = await denseStackTrajectory(mlp, NAMES, validation, { strategy, seed: 7, batchSize: 300 });
      assertSameTrajectory(chunked, slow, validation.n, `${strategy} chunked`);
    });
  }

  it('fast path: the sparse second layer (wasm) gives the same trajectory bit for bit, and runs where the layer is mostly pruned', async function () {
    if (tf.getBackend() !== 'wasm') this.skip();
    try {
      levers.trajectorySparseFirstProduct = false; // so the only sparse products are the second layer's
      levers.trajectorySparseSecondBelow = 0;
      for (const strategy of ['layerwiseMagnitude', 'globalMagnitude', 'random'] as StrategyName[]) {
        const dense = await denseStackTrajectory(mlp, NAMES, validation, { strategy, seed: 7 });
        levers.trajectorySparseSecondBelow = 0.45;
        let sparse: Awaited<ReturnType<typeof denseStackTrajectory>> = [];
        const info = await tf.profile(async () => {
          sparse = await denseStackTrajectory(mlp, NAMES, validation, { strategy, seed: 7 });
        });
        levers.trajectorySparseSecondBelow = 0;
        assert.deepEqual(sparse, dense, strategy);
        // fc2 (50 x 50) has < 45% left from level 28 on (layer-wise): those levels use the sparse product.
        const calls = info.kernels.filter((k) => k.name === CSR_MATMUL).length;
        if (strategy === 'layerwiseMagnitude') assert.equal(calls, 23, 'levels 28-50');
        else assert.ok(calls > 0, strategy);
      }
    } finally {
      resetLevers();
    }
  });

  it('fast path: incremental first-layer updates do not drift (same as a full recompute every level)', async () => {
    const incremental = await denseStackTrajectory(mlp, NAMES, validation, { strategy: 'layerwiseMagnitude' });
    const full = await denseStackTrajectory(mlp, NAMES, validation, { strategy: 'layerwiseMagnitude', refreshEvery: 1 });
    incremental.forEach((p, k) => {
      assert.ok(Math.abs(p.loss - full[k].loss) <= 1e-6 * Math.max(1, full[k].loss), `level ${k}: ${p.loss} vs ${full[k].loss}`);
      assert.ok(Math.abs(p.accuracy - full[k].accuracy) <= 1 / validation.n);
    });
  });

  it('fast path handles a sequential softmax model with dropout, and a partial layer list', async () => {
    assert.ok(denseStack(softmaxModel, ['fc1', 'proj']));
    const intact = tfEvaluate(softmaxModel, validation, SIDE, false);
    for (const names of [['fc1', 'proj'], ['fc1'], ['proj']]) {
      const slow = await pruningTrajectory(softmaxModel, names, validation, { strategy: 'layerwiseMagnitude', fastPath: false, step: 0.1 });
      const fast = await pruningTrajectory(softmaxModel, names, validation, { strategy: 'layerwiseMagnitude', step: 0.1 });
      assert.equal(fast.length, 11);
      assertSameTrajectory(fast, slow, validation.n, names.join('+'));
      assert.equal(fast[0].accuracy, intact.accuracy);
      assert.ok(Math.abs(fast[0].loss - intact.loss) < 1e-5 * intact.loss, `${fast[0].loss} vs ${intact.loss}`);
      assert.deepEqual(Object.keys(fast[0].remaining), names);
    }
  });

  it('picks the fast path automatically for dense stacks and never calls predict there', async () => {
    let predictCalls = 0;
    const original = mlp.predict.bind(mlp);
    mlp.predict = (x, args) => {
      predictCalls++;
      return original(x, args);
    };
    try {
      await pruningTrajectory(mlp, NAMES, validation, { strategy: 'layerwiseMagnitude', levels: 3 });
      assert.equal(predictCalls, 0);
      await pruningTrajectory(mlp, NAMES, validation, { strategy: 'layerwiseMagnitude', levels: 3, fastPath: false });
      assert.equal(predictCalls, 4); // one batch per level: the 1000 images fit one pass
    } finally {
      mlp.predict = original;
    }
  });

  it('detects dense stacks by layer types and topology', () => {
    assert.deepEqual(denseStack(mlp, NAMES), [
      { name: 'fc1', activation: 'relu' },
      { name: 'fc2', activation: 'relu' },
      { name: 'proj', activation: 'linear' },
    ]);
    assert.equal(denseStack(mlp, ['fc1', 'nope']), null);
    const conv = convModel(SIDE, 1);
    assert.equal(denseStack(conv, ['proj']), null);
    const tanh = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'tanh', name: 'a' }), tf.layers.dense({ units: 2, name: 'b' })],
    });
    assert.equal(denseStack(tanh, ['a']), null);
    // Dense straight on an image input acts on the last axis only: not the flattened product.
    const noFlatten = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4, 4, 1], units: 3, name: 'a' }), tf.layers.flatten(), tf.layers.dense({ units: 2, name: 'b' })],
    });
    assert.equal(denseStack(noFlatten, ['a']), null);
    // A skip connection is not a chain.
    const inp = tf.input({ shape: [4] });
    const a = tf.layers.dense({ units: 4, name: 'a', activation: 'relu' }).apply(inp) as tf.SymbolicTensor;
    const sum = tf.layers.add().apply([a, inp]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'b' }).apply(sum) as tf.SymbolicTensor;
    assert.equal(denseStack(tf.model({ inputs: inp, outputs: out }), ['a', 'b']), null);
    return denseStackTrajectory(conv, ['proj'], validation, { strategy: 'random' }).then(
      () => assert.fail('denseStackTrajectory accepted a conv model'),
      (err: Error) => assert.match(err.message, /not a plain Dense/),
    );
  });

  it('generic path on a conv model: starts intact, prunes conv kernels, restores the model', async () => {
    const conv = convModel(SIDE, 2);
    await trainBriefly(conv, train, SIDE, 2, true);
    const before = snapshot(conv);
    const intact = tfEvaluate(conv, validation, SIDE, true);
    const names = ['conv1', 'proj'];
    const traj = await pruningTrajectory(conv, names, validation, { strategy: 'layerwiseMagnitude', batchSize: 256 });
    assert.equal(traj[0].accuracy, intact.accuracy);
    assert.ok(Math.abs(traj[0].loss - intact.loss) < 1e-5 * intact.loss);
    // conv1: 3*3*1*4 = 36 weights, floor(0.72k) pruned; proj: (8*8*4)*10 = 2560 weights, floor(51.2k) pruned.
    assert.deepEqual(traj[25].remaining, { conv1: 36 - 18, proj: 2560 - 1280 });
    assert.deepEqual(traj[1].remaining, { conv1: 36, proj: 2560 - 51 });
    assert.ok(traj[50].accuracy < 0.2);
    assert.deepEqual(snapshot(conv), before);
    // The level's model really is the masked one: level 25 equals evaluating a copy with masked kernels by hand.
    const plan = strategies.layerwiseMagnitude(
      names.map((n) => ({ name: n, values: (conv.getLayer(n).getWeights()[0].dataSync() as Float32Array).slice() })),
      { step: 0.02, seed: 0 },
    );
    const counts = plan.prunedCount(25);
    names.forEach((n, li) => {
      const v = conv.getLayer(n).weights[0].read() as tf.Variable;
      const masked = (v.dataSync() as Float32Array).slice();
      for (let j = 0; j < counts[li]; j++) masked[plan.order[li][j]] = 0;
      v.assign(tf.tensor(masked, v.shape));
    });
    const byHand = tfEvaluate(conv, validation, SIDE, true);
    conv.setWeights(before.map((b, i) => tf.tensor(b, conv.getWeights()[i].shape)));
    assert.equal(traj[25].accuracy, byHand.accuracy);
    assert.ok(Math.abs(traj[25].loss - byHand.loss) < 1e-5 * byHand.loss);
    assert.equal(traj[25].density, densityAt(plan, 25));
  });

  it('reports per-layer remaining counts for the baselines (global differs from layerwise, random matches its counts)', async () => {
    const layerwise = await pruningTrajectory(mlp, NAMES, validation, { strategy: 'layerwiseMagnitude' });
    const global = await pruningTrajectory(mlp, NAMES, validation, { strategy: 'globalMagnitude' });
    const rand = await pruningTrajectory(mlp, NAMES, validation, { strategy: 'random', seed: 1 });
    for (let k = 0; k <= 50; k++) {
      const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
      assert.equal(total(global[k].remaining), 8000 - 160 * k); // floor(k * 0.02 * 8000)
      assert.ok(Math.abs(global[k].density - (100 - 2 * k)) < 1e-9);
      assert.deepEqual(rand[k].remaining, layerwise[k].remaining);
    }
    assert.notDeepEqual(global[25].remaining, layerwise[25].remaining);
    // Magnitude pruning keeps accuracy longer than random pruning of the same counts.
    assert.ok(layerwise[20].accuracy > rand[20].accuracy, `${layerwise[20].accuracy} vs ${rand[20].accuracy}`);
  });

  it('scoreOutputs: cross-entropy from logits and from probabilities, argmax ties to the lowest class', () => {
    const logits = Float32Array.of(1, 2, 3, 0, 0, 0);
    const s = scoreOutputs(logits, Uint8Array.of(2, 1), 0, 2, 3, 'logits');
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    assert.ok(Math.abs(s.lossSum - (lse - 3 + Math.log(3))) < 1e-12);
    assert.equal(s.correct, 1); // row 2 is a 3-way tie: argmax 0, label 1
    const probs = Float32Array.of(0.5, 0.5, 0, 0, 1, 0);
    const p = scoreOutputs(probs, Uint8Array.of(1, 0), 0, 2, 3, 'probabilities');
    assert.ok(Math.abs(p.lossSum - (Math.log(2) - Math.log(1e-7))) < 1e-9);
    assert.equal(p.correct, 0);
    assert.equal(defaultBatchSize(mlp, 5000), 5000);
  });
});
