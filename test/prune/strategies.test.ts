import { strict as assert } from 'assert';
import { Rng } from '../../lib/rng';
import {
  LayerWeights,
  PruningPlan,
  StrategyName,
  densityAt,
  fullLevel,
  magnitudeKeys,
  magnitudeOrder,
  masksAt,
  prunedAt,
  prunedValues,
  remainingAt,
  stableArgsortUint32,
  stepFraction,
  strategies,
} from '../../lib/prune/strategies';

/** Reference: indices sorted by (|w|, index) with a plain comparator sort. */
function naiveMagnitudeOrder(values: Float32Array): number[] {
  return Array.from(values.keys()).sort((a, b) => Math.abs(values[a]) - Math.abs(values[b]) || a - b);
}

function randomLayer(name: string, n: number, seed: number): LayerWeights {
  const r = new Rng(seed);
  return { name, values: Float32Array.from({ length: n }, () => r.normal() * 0.1) };
}

/** Expand run-length pairs [value, repeat] into an array: keeps the hand-computed tables readable. */
function runs(...pairs: [number, number][]): number[] {
  return pairs.flatMap(([v, r]) => new Array<number>(r).fill(v));
}

describe('prune/strategies', () => {
  describe('level arithmetic', () => {
    it('turns decimal steps into exact fractions', () => {
      assert.deepEqual(stepFraction(0.02), { num: 1, den: 50 });
      assert.deepEqual(stepFraction(0.1), { num: 1, den: 10 });
      assert.deepEqual(stepFraction(0.04), { num: 1, den: 25 });
      assert.deepEqual(stepFraction(0.3), { num: 3, den: 10 });
      assert.deepEqual(stepFraction(1), { num: 1, den: 1 });
      assert.equal(fullLevel(stepFraction(0.02)), 50);
      assert.equal(fullLevel(stepFraction(0.3)), 4);
      assert.throws(() => stepFraction(0), /step/);
      assert.throws(() => stepFraction(1.5), /step/);
      assert.throws(() => stepFraction(Math.PI / 10), /fraction/);
    });

    it('counts pruned weights exactly where floats would not (k=29, step 0.02, n=100 -> 58)', () => {
      // 29 * 0.02 * 100 = 57.99999999999999 in floats: a naive floor prunes 57.
      assert.equal(Math.floor(29 * 0.02 * 100), 57);
      assert.equal(prunedAt(100, 29, stepFraction(0.02)), 58);
      assert.equal(prunedAt(50, 29, stepFraction(0.02)), 29);
      assert.equal(prunedAt(266200, 35, stepFraction(0.02)), 186340);
      assert.equal(prunedAt(7, 51, stepFraction(0.02)), 7); // past the last level: all pruned
      assert.throws(() => prunedAt(7, 1.5, stepFraction(0.02)), /integer/);
      assert.throws(() => prunedAt(7, -1, stepFraction(0.02)), /integer/);
    });
  });

  describe('sorting', () => {
    it('radix argsort equals a naive stable sort (random keys, many ties, sparse digits)', () => {
      const r = new Rng(11);
      const cases: Uint32Array[] = [
        Uint32Array.from({ length: 5000 }, () => r.nextUint32()),
        Uint32Array.from({ length: 5000 }, () => r.int(7)), // heavy ties
        Uint32Array.from({ length: 5000 }, () => r.int(4) << 22), // only the top digit varies
        Uint32Array.from({ length: 3000 }, () => (r.int(3) << 11) | r.int(2)), // low and middle digits
        new Uint32Array(100).fill(42),
        new Uint32Array(0),
        Uint32Array.of(5),
      ];
      for (const keys of cases) {
        const copy = keys.slice();
        const got = Array.from(stableArgsortUint32(keys));
        const want = Array.from(keys.keys()).sort((a, b) => keys[a] - keys[b] || a - b);
        assert.deepEqual(got, want);
        assert.deepEqual(keys, copy, 'keys must not be modified');
      }
    });

    it('magnitude order equals a naive sort on |w|, with -0 == +0 and lower index first on ties', () => {
      const r = new Rng(5);
      const vals = Float32Array.from({ length: 4000 }, () => {
        const u = r.next();
        // Mix of exact ties (+-0.25, +-0), tiny and large values.
        return u < 0.1 ? 0.25 : u < 0.2 ? -0.25 : u < 0.25 ? -0 : u < 0.3 ? 0 : r.normal() * (u < 0.6 ? 1e-6 : 3);
      });
      assert.deepEqual(Array.from(magnitudeOrder(vals)), naiveMagnitudeOrder(vals));
      assert.deepEqual(Array.from(magnitudeOrder(Float32Array.of(-1, 1, 0.5, -0.5, -0, 0))), [4, 5, 2, 3, 0, 1]);
      assert.deepEqual(Array.from(magnitudeOrder(Float32Array.of(Infinity, -2, 1))), [2, 1, 0]);
      assert.throws(() => magnitudeKeys(Float32Array.of(1, NaN)), /NaN/);
    });

    it('orders 1.9M magnitudes: a permutation, ascending, ties by index', () => {
      // No timing here (a busy machine makes wall-clock bounds flaky): speed is bench/'s job.
      const layer = randomLayer('big', 1_931_000, 2);
      const order = magnitudeOrder(layer.values);
      assert.equal(order.length, layer.values.length);
      const seen = new Uint8Array(order.length);
      for (const i of order) seen[i]++;
      assert.ok(
        seen.every((c) => c === 1),
        'every index exactly once',
      );
      for (let i = 1; i < order.length; i++) {
        const a = Math.abs(layer.values[order[i - 1]]);
        const b = Math.abs(layer.values[order[i]]);
        if (!(a < b || (a === b && order[i - 1] < order[i]))) assert.fail(`positions ${i - 1}, ${i} out of order: |w| ${a}, ${b}`);
      }
    });
  });

  describe('layerwiseMagnitude', () => {
    const layers = [randomLayer('a', 7, 1), randomLayer('b', 100, 2)];

    it('prunes exactly floor(k * step * n) per layer at every level (step 0.02)', () => {
      const plan = strategies.layerwiseMagnitude(layers, { step: 0.02, seed: 0 });
      assert.equal(plan.levels, 50);
      // n=7: floor(7k/50), by hand: 0 up to k=7 (49/50), 1 from k=8 (56/50), ... 7 at k=50.
      const wantA = runs([0, 8], [1, 7], [2, 7], [3, 7], [4, 7], [5, 7], [6, 7], [7, 1]);
      const wantB = Array.from({ length: 51 }, (_, k) => 2 * k); // 2% of 100 is exactly 2 per level
      assert.equal(wantA.length, 51);
      for (let k = 0; k <= 50; k++) assert.deepEqual(plan.prunedCount(k), [wantA[k], wantB[k]], `level ${k}`);
      assert.deepEqual(plan.prunedCount(60), [7, 100]);
    });

    it('prunes exactly floor(k * step * n) per layer at every level (step 0.1)', () => {
      const plan = strategies.layerwiseMagnitude(layers, { step: 0.1, seed: 0 });
      assert.equal(plan.levels, 10);
      const wantA = [0, 0, 1, 2, 2, 3, 4, 4, 5, 6, 7]; // floor(0.7k)
      for (let k = 0; k <= 10; k++) assert.deepEqual(plan.prunedCount(k), [wantA[k], 10 * k], `level ${k}`);
    });

    it('prunes the smallest |w| of each layer, lower index first on ties', () => {
      const a = { name: 'a', values: Float32Array.of(0.3, -0.1, 0.2, 0.1, -0.5, 0.0, 0.2) };
      const plan = strategies.layerwiseMagnitude([a], { step: 0.1, seed: 0 });
      assert.deepEqual(Array.from(plan.order[0]), [5, 1, 3, 2, 6, 0, 4]);
      // Level 2 prunes floor(1.4) = 1 weight: the zero. Level 3: 2 weights: the zero and index 1 (tie with 3).
      assert.deepEqual(Array.from(masksAt(plan, 2)[0]), [1, 1, 1, 1, 1, 0, 1]);
      assert.deepEqual(Array.from(masksAt(plan, 3)[0]), [1, 0, 1, 1, 1, 0, 1]);
      assert.deepEqual(Array.from(prunedValues(a.values, plan.order[0], plan.prunedCount(3)[0])), [0.3, 0, 0.2, 0.1, -0.5, 0, 0.2].map(Math.fround));
      // Same input, same plan: determinism.
      const again = strategies.layerwiseMagnitude([{ name: 'a', values: a.values.slice() }], { step: 0.1, seed: 9 });
      assert.deepEqual(again.order, plan.order);
    });

    it('gives masks nested across levels, with the counts the plan reports', () => {
      const plan = strategies.layerwiseMagnitude(layers, { step: 0.02, seed: 0 });
      let prev = masksAt(plan, 0);
      assert.ok(prev.every((m) => m.every((v) => v === 1)));
      for (let k = 1; k <= 50; k++) {
        const cur = masksAt(plan, k);
        const counts = plan.prunedCount(k);
        cur.forEach((m, li) => {
          for (let i = 0; i < m.length; i++) assert.ok(m[i] <= prev[li][i], `level ${k} revived weight ${i}`);
          assert.equal(m.length - m.reduce((s, v) => s + v, 0), counts[li]);
          // every kept weight is at least as large as every pruned one
          const vals = layers[li].values;
          let maxPruned = -1,
            minKept = Infinity;
          for (let i = 0; i < m.length; i++) {
            if (m[i]) minKept = Math.min(minKept, Math.abs(vals[i]));
            else maxPruned = Math.max(maxPruned, Math.abs(vals[i]));
          }
          assert.ok(maxPruned <= minKept);
        });
        prev = cur;
      }
      assert.ok(prev.every((m) => m.every((v) => v === 0)));
    });

    it('reports remaining counts and exact densities', () => {
      const plan = strategies.layerwiseMagnitude(layers, { step: 0.02, seed: 0 });
      assert.deepEqual(remainingAt(plan, 0), { a: 7, b: 100 });
      assert.deepEqual(remainingAt(plan, 29), { a: 3, b: 42 });
      assert.equal(densityAt(plan, 0), 100);
      assert.equal(densityAt(plan, 29), (100 * 45) / 107);
      assert.equal(densityAt(plan, 50), 0);
      // MLP 1x layer sizes: 2% is an exact integer of every layer, so densities are 100, 98, ..., 0.
      const mlp = strategies.layerwiseMagnitude([randomLayer('fc1', 235200, 1), randomLayer('fc2', 30000, 2), randomLayer('proj', 1000, 3)], {
        step: 0.02,
        seed: 0,
      });
      for (let k = 0; k <= 50; k++) assert.ok(Math.abs(densityAt(mlp, k) - (100 - 2 * k)) < 1e-9, `level ${k}`);
      // MLP 0.1x: 23520 + 300 + 100 = 23920; fc1 loses floor(470.4k) so densities are slightly off round numbers.
      const small = strategies.layerwiseMagnitude([randomLayer('fc1', 23520, 1), randomLayer('fc2', 300, 2), randomLayer('proj', 100, 3)], {
        step: 0.02,
        seed: 0,
      });
      assert.equal(densityAt(small, 1), (100 * (23920 - 470 - 6 - 2)) / 23920);
    });

    it('rejects duplicate layer names', () => {
      assert.throws(() => strategies.layerwiseMagnitude([layers[0], layers[0]], { step: 0.02, seed: 0 }), /duplicate/);
    });
  });

  describe('globalMagnitude', () => {
    it('differs from layerwise on a constructed case: a layer of small weights is pruned first', () => {
      const small = { name: 'small', values: Float32Array.from({ length: 10 }, (_, i) => 0.01 * (i + 1)) };
      const large = { name: 'large', values: Float32Array.from({ length: 10 }, (_, i) => 1 + i) };
      const g = strategies.globalMagnitude([small, large], { step: 0.1, seed: 0 });
      const l = strategies.layerwiseMagnitude([small, large], { step: 0.1, seed: 0 });
      // Global level k prunes 2k of the 20 weights, all from `small` until it is empty (k=5).
      const want = [
        [0, 0],
        [2, 0],
        [4, 0],
        [6, 0],
        [8, 0],
        [10, 0],
        [10, 2],
        [10, 4],
        [10, 6],
        [10, 8],
        [10, 10],
      ];
      for (let k = 0; k <= 10; k++) {
        assert.deepEqual(g.prunedCount(k), want[k], `global level ${k}`);
        assert.deepEqual(l.prunedCount(k), [k, k], `layerwise level ${k}`);
      }
      assert.deepEqual(remainingAt(g, 3), { small: 4, large: 10 });
      assert.equal(densityAt(g, 3), 70);
    });

    it('prunes floor(k * step * N) globally smallest, ties by layer then index, nested', () => {
      // Ties across layers: equal |w| everywhere, so order is layer 0 (index order) then layer 1.
      const a = { name: 'a', values: new Float32Array(3).fill(0.5) };
      const b = { name: 'b', values: new Float32Array(4).fill(-0.5) };
      const g = strategies.globalMagnitude([a, b], { step: 0.25, seed: 0 });
      assert.deepEqual(Array.from(g.order[0]), [0, 1, 2]);
      assert.deepEqual(Array.from(g.order[1]), [0, 1, 2, 3]);
      // N=7: floor(7k/4) = 0, 1, 3, 5, 7
      assert.deepEqual(
        [0, 1, 2, 3, 4].map((k) => g.prunedCount(k)),
        [
          [0, 0],
          [1, 0],
          [3, 0],
          [3, 2],
          [3, 4],
        ],
      );
      // Against a naive global sort on random weights.
      const layers = [randomLayer('x', 300, 7), randomLayer('y', 1234, 8), randomLayer('z', 55, 9)];
      const plan = strategies.globalMagnitude(layers, { step: 0.02, seed: 0 });
      const flat: { li: number; i: number; m: number }[] = [];
      layers.forEach((l, li) => l.values.forEach((v, i) => flat.push({ li, i, m: Math.abs(v) })));
      flat.sort((p, q) => p.m - q.m || p.li - q.li || p.i - q.i);
      let prev = masksAt(plan, 0);
      for (let k = 0; k <= 50; k++) {
        const cut = Math.floor((k * flat.length) / 50);
        const want = [0, 0, 0];
        for (let j = 0; j < cut; j++) want[flat[j].li]++;
        assert.deepEqual(plan.prunedCount(k), want, `level ${k}`);
        const masks = masksAt(plan, k);
        for (let j = 0; j < flat.length; j++) assert.equal(masks[flat[j].li][flat[j].i], j < cut ? 0 : 1);
        masks.forEach((m, li) => m.forEach((v, i) => assert.ok(v <= prev[li][i])));
        prev = masks;
      }
    });
  });

  describe('random', () => {
    const layers = [randomLayer('a', 7, 1), randomLayer('b', 100, 2), randomLayer('c', 1000, 3)];

    it('prunes the same exact counts as layerwise magnitude', () => {
      const r = strategies.random(layers, { step: 0.02, seed: 4 });
      const l = strategies.layerwiseMagnitude(layers, { step: 0.02, seed: 4 });
      for (let k = 0; k <= 50; k++) assert.deepEqual(r.prunedCount(k), l.prunedCount(k));
      r.order.forEach((o, li) =>
        assert.deepEqual(
          Array.from(o).sort((x, y) => x - y),
          Array.from(layers[li].values.keys()),
        ),
      );
    });

    it('is determined by the seed and layer name, not by the weights', () => {
      const r1 = strategies.random(layers, { step: 0.02, seed: 4 });
      const r2 = strategies.random(
        layers.map((l) => ({ name: l.name, values: l.values.map((v) => -v * 3) })),
        { step: 0.02, seed: 4 },
      );
      const r3 = strategies.random(layers, { step: 0.02, seed: 5 });
      assert.deepEqual(r1.order, r2.order);
      assert.notDeepEqual(Array.from(r1.order[2]), Array.from(r3.order[2]));
      // Per-layer streams: the same layer keeps its order when the other layers change.
      const alone = strategies.random([layers[2]], { step: 0.02, seed: 4 });
      assert.deepEqual(alone.order[0], r1.order[2]);
      // And it is not the magnitude order.
      assert.notDeepEqual(Array.from(r1.order[2]), Array.from(magnitudeOrder(layers[2].values)));
    });
  });

  it('every strategy returns a permutation per layer and full pruning at the last level', () => {
    const layers = [randomLayer('a', 37, 1), randomLayer('b', 250, 2)];
    for (const name of Object.keys(strategies) as StrategyName[]) {
      const plan: PruningPlan = strategies[name](layers, { step: 0.05, seed: 1 });
      assert.equal(plan.strategy, name);
      assert.equal(plan.levels, 20);
      assert.deepEqual(plan.prunedCount(0), [0, 0]);
      assert.deepEqual(plan.prunedCount(20), [37, 250]);
      plan.order.forEach((o, li) => assert.equal(new Set(o).size, layers[li].values.length));
    }
  });
});
