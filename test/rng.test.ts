import { strict as assert } from 'assert';
import { Rng, deriveSeed } from '../lib/rng';

describe('rng', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(7),
      b = new Rng(7),
      c = new Rng(8);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    assert.deepEqual(
      xs,
      Array.from({ length: 5 }, () => b.nextUint32()),
    );
    assert.notDeepEqual(
      xs,
      Array.from({ length: 5 }, () => c.nextUint32()),
    );
  });

  it('is uniform in [0,1) with mean ~0.5 and normal() has mean ~0, variance ~1', () => {
    const r = new Rng(1);
    const n = 20000;
    let s = 0,
      s1 = 0,
      s2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      assert.ok(u >= 0 && u < 1);
      s += u;
    }
    assert.ok(Math.abs(s / n - 0.5) < 0.01);
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s1 += z;
      s2 += z * z;
    }
    assert.ok(Math.abs(s1 / n) < 0.03);
    assert.ok(Math.abs(s2 / n - 1) < 0.05);
  });

  it('fillNormal gives exactly the values of repeated normal() calls, the spare value carried across calls', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (const n of [5, 1, 0, 4, 7]) {
      const bulk = b.fillNormal(new Float32Array(n));
      const one = Float32Array.from({ length: n }, () => a.normal());
      assert.deepEqual(Array.from(bulk), Array.from(one), `a block of ${n}`);
    }
    assert.equal(a.nextUint32(), b.nextUint32(), 'the generators end in the same state');
  });

  it('permutation is a permutation', () => {
    const p = new Rng(3).permutation(1000);
    assert.deepEqual(
      Array.from(p).sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, i) => i),
    );
  });

  it('deriveSeed separates labels and is stable', () => {
    assert.equal(deriveSeed(1, 'fc1'), deriveSeed(1, 'fc1'));
    assert.notEqual(deriveSeed(1, 'fc1'), deriveSeed(1, 'fc2'));
    assert.notEqual(deriveSeed(1, 'fc1'), deriveSeed(2, 'fc1'));
    assert.throws(() => new Rng(NaN), /seed/);
  });
});
