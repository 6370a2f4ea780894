import { strict as assert } from 'assert';
import { scalingExponent } from '../../lib/analysis/scaling';

describe('analysis/scaling', () => {
  it('recovers the exponent of an exact power law, with zero error', () => {
    const x = [1e3, 1e4, 1e5, 1e6];
    const f = scalingExponent(
      x,
      x.map((v) => 3 * v ** 0.8),
    )!;
    assert.ok(Math.abs(f.slope - 0.8) < 1e-12);
    assert.ok(Math.abs(f.intercept - Math.log(3)) < 1e-9);
    assert.ok(f.slopeSe < 1e-9);
    assert.ok(f.pConstant < 1e-12 && f.pProportional < 1e-12);
  });

  it('tests b = 0 and b = 1 with Student t on noisy data (a known case)', () => {
    // log y = b log x + noise with b = 1: proportional not rejected, constant rejected
    const x = [10, 10, 100, 100, 1000, 1000];
    const y = [10 * 1.1, 10 / 1.1, 100 * 1.1, 100 / 1.1, 1000 * 1.1, 1000 / 1.1];
    const f = scalingExponent(x, y)!;
    assert.ok(Math.abs(f.slope - 1) < 1e-12);
    assert.ok(f.pProportional > 0.99);
    assert.ok(f.pConstant < 1e-4);
    // slope se by hand: residuals +-log 1.1, sse = 6 log(1.1)^2, sxx = 4 (log 10)^2 ... over n - 2 = 4
    const se = Math.sqrt((6 * Math.log(1.1) ** 2) / 4 / (4 * Math.log(10) ** 2));
    assert.ok(Math.abs(f.slopeSe - se) < 1e-12);
  });

  it('leaves out values without a logarithm and says how many; too few points give null', () => {
    const f = scalingExponent([1, 2, 4, 8, 16], [1, -3, 4, 0, 16])!;
    assert.equal(f.n, 3);
    assert.equal(f.excluded, 2);
    assert.ok(Math.abs(f.slope - 1) < 1e-12);
    assert.equal(scalingExponent([1, 2], [1, 2]), null);
    assert.equal(scalingExponent([5, 5, 5], [1, 2, 3]), null);
    assert.throws(() => scalingExponent([1], [1, 2]), /1 x values and 2 y values/);
  });
});
