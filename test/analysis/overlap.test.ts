import { strict as assert } from 'assert';
import { smallestMask, smallestOverlap, chanceOverlap } from '../../lib/analysis/overlap';
import { Rng } from '../../lib/rng';

function randomWeights(rng: Rng, n: number): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = rng.uniform(-1, 1);
  return w;
}

describe('analysis/overlap', () => {
  it('smallestMask takes the floor(q n) smallest |w|, ties by lower index', () => {
    const w = Float32Array.from([0.5, -0.1, 0.3, -0.2, 0.9]);
    // q = 0.4 -> 2 weights: |-0.1| and |-0.2| at indices 1 and 3
    assert.deepEqual(Array.from(smallestMask(w, 0.4)), [0, 1, 0, 1, 0]);
    // q = 0.5 -> floor(2.5) = 2 as well
    assert.deepEqual(Array.from(smallestMask(w, 0.5)), [0, 1, 0, 1, 0]);
    // ties: five equal magnitudes (sign ignored), k = 2 -> the first two indices
    const t = Float32Array.from([0.2, -0.2, 0.2, 0.2, -0.2]);
    assert.deepEqual(Array.from(smallestMask(t, 0.4)), [1, 1, 0, 0, 0]);
    // tie at the cut only: 0.1 is in, then two of the three 0.3s
    const c = Float32Array.from([0.3, 0.9, -0.3, 0.1, 0.3, 0.8]);
    assert.deepEqual(Array.from(smallestMask(c, 0.5)), [1, 0, 1, 1, 0, 0]);
    assert.equal(
      smallestMask(Float32Array.from([1, 2]), 0.4).reduce((a, b) => a + b, 0),
      0,
      'floor(0.8) = 0',
    );
    assert.throws(() => smallestMask(w, 0), /q = 0/);
    assert.throws(() => smallestMask(w, 1.5), /q = 1.5/);
    assert.throws(() => smallestMask(Float32Array.from([1, NaN, 2]), 0.5), /values\[1\] = NaN/);
  });

  it('smallestMask agrees with an argsort reference (|w|, then index) on data full of ties', () => {
    const rng = new Rng(5);
    for (let t = 0; t < 300; t++) {
      const n = 1 + rng.int(300);
      // few distinct magnitudes (many ties), both signs, -0, tiny and huge values
      const pool = [0, -0, 1e-30, -1e-30, 0.25, -0.25, 0.5, 1, -1, 3e38, -Infinity];
      const v = Float32Array.from({ length: n }, () => pool[rng.int(pool.length)]);
      const q = 0.01 + 0.99 * rng.next();
      const k = Math.floor(q * n);
      const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => Math.abs(v[x]) - Math.abs(v[y]) || x - y);
      const ref = new Uint8Array(n);
      for (let i = 0; i < k; i++) ref[order[i]] = 1;
      assert.deepEqual(smallestMask(v, q), ref, `case ${t}: n ${n}, q ${q}`);
    }
  });

  it('overlap is |S_init ∩ S_trained| / n in percent', () => {
    // n = 5, k = 2: init smallest {1, 3}; trained smallest {1, 4} -> 1 shared of 5 weights = 20%
    const init = Float32Array.from([0.5, -0.1, 0.3, -0.2, 0.9]);
    const trained = Float32Array.from([0.5, 0.05, 0.3, 0.7, -0.01]);
    assert.equal(smallestOverlap(init, trained), 20);
    assert.equal(smallestOverlap(init, trained, 0.2), 0, 'k = 1: {1} vs {4}');
  });

  it('identical arrays give 100 q; disjoint masks give 0', () => {
    const w = randomWeights(new Rng(1), 1000);
    assert.equal(smallestOverlap(w, w), 40);
    assert.equal(smallestOverlap(w, w, 0.25), 25);
    assert.equal(
      smallestOverlap(
        w,
        w.map((x) => -3 * x),
      ),
      40,
      'scaling and sign do not change the order of |w|',
    );
    // trained = reversed magnitude order: the smallest 40% at init are the largest after training
    const rank = Float32Array.from({ length: 1000 }, (_, i) => i + 1);
    const reversed = Float32Array.from({ length: 1000 }, (_, i) => 1000 - i);
    assert.equal(smallestOverlap(rank, reversed), 0);
  });

  it('independent random weights average q^2 (16% for q = 0.4) over many draws', () => {
    const rng = new Rng(42);
    const n = 1000,
      draws = 300;
    let sum = 0,
      sumSq = 0;
    for (let d = 0; d < draws; d++) {
      const o = smallestOverlap(randomWeights(rng, n), randomWeights(rng, n));
      sum += o;
      sumSq += o * o;
    }
    const m = sum / draws;
    const se = Math.sqrt((sumSq / draws - m * m) / draws);
    // The shared count is hypergeometric (n = 1000, k = 400 drawn, 400 marked): mean k^2/n = 160 (16%),
    // variance 400 * 0.4 * 0.6 * 600/999 = 57.7, sd 0.76% per draw, so the mean of 300 draws has se ~0.044%.
    assert.ok(Math.abs(m - 16) < 0.25, `mean overlap ${m}`);
    assert.ok(se > 0.03 && se < 0.1, `se ${se}`);
    assert.ok(Math.abs(chanceOverlap() - 16) < 1e-12);
    assert.ok(Math.abs(chanceOverlap(0.5) - 25) < 1e-12);
  });

  it('rejects mismatched or empty inputs', () => {
    assert.throws(() => smallestOverlap(new Float32Array(3), new Float32Array(4)), /trained\.length = 4/);
    assert.throws(() => smallestOverlap(new Float32Array(0), new Float32Array(0)), /init\.length = 0/);
  });
});
