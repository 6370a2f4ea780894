// Edge-popup over a trained, frozen MLP (issue 16 part 1): the magnitude start, the known answer (never worse than
// magnitude on the training split), exact kept counts, frozen weights, determinism, no tensor leak.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import type { ImageSet } from '../../lib/data';
import { architectures, getKernels, type PrunableLayer } from '../../lib/models';
import { edgePopupSubnetwork, keptCount, layerwiseMagnitude, masksAt, maskedEvaluate } from '../../lib/prune';
import { evaluate, setKernels, trainModel } from '../../lib/train';
import { allWeights, mnistSubsets, sameBits } from '../train/fixtures';
import { EDGE_POPUP_SETTINGS } from '../../lib/experiments/followupRecords';

const WIDTH = 0.1; // 784-30-10-10: trains in about a second on 2,000 images
const DENSITY = 10; // percent kept per layer: far below this model's magnitude effective density, so there is room to improve

function count(mask: Uint8Array): number {
  let c = 0;
  for (const v of mask) c += v;
  return c;
}

describe('prune: edge-popup over a trained frozen MLP', function () {
  let data: { train: ImageSet; validation: ImageSet };
  let model: tf.LayersModel;
  let layers: PrunableLayer[];
  let magnitude: Uint8Array[]; // the layer-wise magnitude plan's masks at DENSITY

  before(async () => {
    await initBackend();
    data = await mnistSubsets(2000, 1000);
    model = architectures.mlp.build(WIDTH, 'glorot', 0);
    layers = architectures.mlp.prunableLayers(WIDTH);
    const r = await trainModel(model, data, {
      optimizer: 'sgd',
      learningRate: 0.1,
      batchSize: 128,
      shuffleSeed: 0,
      stop: { kind: 'bestValidationLoss', epochs: 5 },
    });
    assert.equal(r.status, 'complete');
    // step 0.01: level 100 - d is density d for every integer d, e.g. the grid's odd 25, 15, 7, 5, 3.
    const plan = layerwiseMagnitude(getKernels(model, layers), { step: 0.01, seed: 0 });
    magnitude = masksAt(plan, 100 - DENSITY);
  });

  after(() => model.dispose());

  it("keptCount: n - floor((100 - d) n / 100), the magnitude plan's count at every grid density", () => {
    assert.equal(keptCount(23520, 10), 2352);
    assert.equal(keptCount(300, 7), 21); // 300 - floor(279)
    assert.equal(keptCount(10, 25), 3); // 10 - floor(7.5): the rounding keeps the extra weight, as the plan does
    assert.equal(keptCount(7, 100), 7);
    assert.throws(() => keptCount(10, 0), /density/);
    const plan = layerwiseMagnitude(getKernels(model, layers), { step: 0.01, seed: 0 });
    for (const d of EDGE_POPUP_SETTINGS.densities) {
      const planKept = plan.layers.map((l, i) => l.count - plan.prunedCount(100 - d)[i]);
      assert.deepEqual(
        layers.map((l) => keptCount(l.count, d)),
        planKept,
        `density ${d}`,
      );
    }
  });

  it('scores at |w| and no search steps: the mask is the layer-wise magnitude mask', async () => {
    const r = await edgePopupSubnetwork(model, layers, data.train, { density: DENSITY, epochs: 0, seed: 0 });
    assert.equal(r.steps, 0);
    assert.deepEqual(r.masks, magnitude);
    // The same numbers as evaluating the magnitude masks directly.
    assert.deepEqual(r.epochLosses, [{ epoch: 0, ...maskedEvaluate(model, layers, magnitude, data.train) }]);
  });

  it('straight-through gradient: one full-batch step moves each score by -lr * dL/d(w*m) * w (finite differences)', async () => {
    // One step over the whole training split, no momentum or decay: s1 - s0 = -lr * dL/du * w * sign(s0), u = w * m,
    // and sign(s0) = 1 (s0 = |w|). dL/du is checked by central differences of the full-split loss in u, for the kept
    // and the pruned weight of fc2 with the largest step: a pruned weight's score must move too (that is how
    // edge-popup swaps weights in), by its would-be gradient times its weight.
    const lr = 1;
    const r = await edgePopupSubnetwork(model, layers, data.train, {
      density: DENSITY,
      epochs: 1,
      seed: 0,
      batchSize: data.train.n,
      momentum: 0,
      weightDecay: 0,
      learningRate: lr,
      keepBest: false,
    });
    assert.equal(r.steps, 1);
    const li = layers.findIndex((l) => l.name === 'fc2');
    const w = getKernels(model, layers)[li].values;
    const s1 = r.scores[li];
    const predicted = (j: number): number => -(s1[j] - Math.abs(w[j])) / (lr * w[j]); // dL/du_j implied by the step
    const largest = (kept: 0 | 1): number => {
      let best = -1;
      for (let j = 0; j < w.length; j++) {
        if (magnitude[li][j] === kept && w[j] !== 0 && (best < 0 || Math.abs(predicted(j)) > Math.abs(predicted(best)))) best = j;
      }
      return best;
    };
    const original = getKernels(model, layers);
    const lossAt = (j: number, delta: number): number => {
      const used = original.map((k, i) => ({ name: k.name, values: k.values.map((v, q) => (magnitude[i][q] ? v : 0)) }));
      used[li].values[j] += delta;
      setKernels(model, used);
      return evaluate(model, data.train).loss;
    };
    try {
      for (const j of [largest(1), largest(0)]) {
        const eps = 1e-2;
        const numeric = (lossAt(j, eps) - lossAt(j, -eps)) / (2 * eps);
        assert.ok(Math.abs(numeric) > 1e-3, `gradient too small to check: ${numeric}`);
        assert.ok(
          Math.abs(predicted(j) - numeric) < 0.05 * Math.abs(numeric),
          `weight ${j} (kept ${magnitude[li][j]}): step implies ${predicted(j)}, finite differences ${numeric}`,
        );
      }
    } finally {
      setKernels(model, original);
    }
  });

  it("known answer: after a search from |w| the training loss is <= magnitude's; exact counts; weights frozen", async () => {
    const before = allWeights(model);
    const unpruned = evaluate(model, data.validation);
    const r = await edgePopupSubnetwork(model, layers, data.train, { density: DENSITY, epochs: 5, seed: 0 });
    assert.ok(sameBits(allWeights(model), before), 'kernels and biases must be unchanged by the search');
    assert.equal(r.steps, 5 * Math.ceil(2000 / 128));
    assert.deepEqual(
      r.masks.map(count),
      layers.map((l) => keptCount(l.count, DENSITY)),
    );
    assert.deepEqual(
      r.kept,
      layers.map((l) => keptCount(l.count, DENSITY)),
    );

    const magTrain = maskedEvaluate(model, layers, magnitude, data.train);
    const epTrain = maskedEvaluate(model, layers, r.masks, data.train);
    // Guaranteed: the magnitude mask is candidate 0 and the returned mask is the candidate with the lowest value of
    // this same number, so it cannot be higher.
    assert.ok(epTrain.loss <= magTrain.loss, `edge-popup ${epTrain.loss} vs magnitude ${magTrain.loss}`);
    // Not a theorem but a measured property of this seed (deterministic): the search does find a better mask. A wrong
    // gradient (sign, missing * w) would leave candidate 0 chosen and fail here.
    assert.ok(r.chosenEpoch > 0 && epTrain.loss < 0.9 * magTrain.loss, `edge-popup ${epTrain.loss} vs magnitude ${magTrain.loss}`);
    assert.ok(r.curve.length > 0 && r.curve.every((p) => Number.isFinite(p.loss)));

    // Validation: reported, not asserted (scores are fitted on the training split; a better training loss does not
    // guarantee a better validation accuracy).
    const magVal = maskedEvaluate(model, layers, magnitude, data.validation);
    const epVal = maskedEvaluate(model, layers, r.masks, data.validation);
    console.log(
      `      unpruned: val acc ${unpruned.accuracy.toFixed(3)} loss ${unpruned.loss.toFixed(3)}; at ${DENSITY}% per layer:` +
        ` magnitude train loss ${magTrain.loss.toFixed(3)} val acc ${magVal.accuracy.toFixed(3)} loss ${magVal.loss.toFixed(3)};` +
        ` edge-popup train loss ${epTrain.loss.toFixed(3)} val acc ${epVal.accuracy.toFixed(3)} loss ${epVal.loss.toFixed(3)}` +
        ` (chosen epoch ${r.chosenEpoch}, ${r.wallSeconds.toFixed(2)} s)`,
    );
  });

  it('determinism: same seed, same masks and curve; another seed or the random score init searches differently', async () => {
    const opts = { density: DENSITY, epochs: 2, seed: 3, keepBest: false };
    const a = await edgePopupSubnetwork(model, layers, data.train, opts);
    const b = await edgePopupSubnetwork(model, layers, data.train, opts);
    assert.deepEqual(a.masks, b.masks);
    assert.deepEqual(a.curve, b.curve);
    const c = await edgePopupSubnetwork(model, layers, data.train, { ...opts, seed: 4 });
    assert.notDeepEqual(c.masks, a.masks);

    const k0 = await edgePopupSubnetwork(model, layers, data.train, { density: DENSITY, epochs: 0, seed: 5, scoreInit: 'kaimingUniform' });
    const k1 = await edgePopupSubnetwork(model, layers, data.train, { density: DENSITY, epochs: 0, seed: 5, scoreInit: 'kaimingUniform' });
    assert.deepEqual(k0.masks, k1.masks);
    assert.notDeepEqual(k0.masks, magnitude);
    assert.deepEqual(
      k0.masks.map(count),
      layers.map((l) => keptCount(l.count, DENSITY)),
    );
  });

  it('no tensor leak and errors for what it cannot do', async () => {
    await edgePopupSubnetwork(model, layers, data.train, { density: DENSITY, epochs: 1, seed: 0 }); // warm-up: backend caches
    const n0 = tf.memory().numTensors;
    await edgePopupSubnetwork(model, layers, data.train, { density: DENSITY, epochs: 2, seed: 1 });
    maskedEvaluate(model, layers, magnitude, data.validation);
    assert.equal(tf.memory().numTensors, n0);

    await assert.rejects(edgePopupSubnetwork(model, layers, data.train, { density: 0, epochs: 1, seed: 0 }), /density/);
    const conv = architectures.conv2.build(0.1, 'glorot', 0);
    try {
      const convLayers = architectures.conv2.prunableLayers(0.1);
      const tiny: ImageSet = { x: new Float32Array(32 * 32 * 3), y: new Uint8Array(1), n: 1 };
      await assert.rejects(edgePopupSubnetwork(conv, convLayers, tiny, { density: 50, epochs: 1, seed: 0 }), /plain dense stack/);
    } finally {
      conv.dispose();
    }
    assert.equal(tf.memory().numTensors, n0);
  });
});
