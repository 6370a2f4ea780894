import { strict as assert } from 'assert';
import { compareWidths } from '../../lib/analysis/widthComparison';
import { tTwoTailed } from '../../lib/analysis/stats';
import type { NullHypothesisRow } from '../../lib/analysis/nullHypothesis';

function near(a: number | null | undefined, b: number, tol = 1e-9, msg = ''): void {
  assert.ok(typeof a === 'number' && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${msg} expected ${b}, got ${a}`);
}

describe('analysis/widthComparison (Table 2)', () => {
  const TOTAL: Record<number, number> = { 0.5: 250, 1: 1000, 2: 4000 };
  const row = (regime: string, width: number, initSeed: number, ed: number | null): NullHypothesisRow => ({
    regime,
    width,
    init: 'he',
    initSeed,
    dataSeed: 0,
    effectiveDensity: ed,
    totalWeights: TOTAL[width],
  });
  const rows = [
    row('mlp', 2, 0, 20),
    row('mlp', 2, 1, 25),
    row('mlp', 2, 2, 15),
    row('mlp', 1, 0, 40),
    row('mlp', 1, 1, 50),
    row('mlp', 1, 2, 60),
    row('mlp', 2, 3, null), // diverged: missing
    row('mlp', 0.5, 9, 80), // no 1x with init seed 9: unmatched
    row('conv', 1, 0, 30),
  ];

  it('summarises observed and null densities per width and tests them', () => {
    const [mlp, conv] = compareWidths(rows);
    assert.equal(mlp.regime, 'mlp');
    assert.deepEqual(
      mlp.widths.map((w) => w.width),
      [0.5, 1, 2],
    );
    assert.equal(mlp.missing, 1);
    assert.equal(mlp.unmatched, 1);
    const [half, one, two] = mlp.widths;
    // 2x: observed 20, 25, 15 -> mean 20, sd 5; null = 1x cores 400, 500, 600 over 4000 -> 10, 12.5, 15 -> mean 12.5, sd 2.5
    assert.equal(two.n, 3);
    near(two.observed.mean, 20);
    near(two.observed.sd, 5);
    near(two.null.mean, 12.5);
    near(two.null.sd, 2.5);
    near(two.coreSize.mean, 800); // 800, 1000, 600
    // Student: pooled variance (50 + 12.5) / 4 = 15.625; t = 7.5 / sqrt(15.625 * (1/3 + 1/3)), df 4
    const t = 7.5 / Math.sqrt(15.625 * (2 / 3));
    near(two.tTest?.t, t);
    assert.equal(two.tTest?.df, 4);
    near(two.tTest?.p, tTwoTailed(t, 4));
    // 1x is its own baseline: identical samples, t = 0, p = 1
    near(one.null.mean, 50);
    assert.equal(one.tTest?.t, 0);
    near(one.tTest?.p, 1);
    // 0.5x: a single unmatched run: no null column, no sd, no test
    assert.deepEqual(half.observed, { n: 1, mean: 80, sd: null });
    assert.deepEqual(half.null, { n: 0, mean: null, sd: null });
    assert.equal(half.tTest, null);
    // ANOVA of core sizes: 0.5x [200], 1x [400, 500, 600], 2x [800, 1000, 600]; grand mean 4100 / 7;
    // SSB = sum n_g (mean_g - grand)^2, SSW = 20000 + 80000; df 2 and 4
    const grand = 4100 / 7;
    const ssb = (200 - grand) ** 2 + 3 * (500 - grand) ** 2 + 3 * (800 - grand) ** 2;
    assert.ok(mlp.anova);
    near(mlp.anova.ssBetween, ssb);
    near(mlp.anova.ssWithin, 100000);
    assert.equal(mlp.anova.dfBetween, 2);
    assert.equal(mlp.anova.dfWithin, 4);
    near(mlp.anova.F, ssb / 2 / (100000 / 4));
    // conv has one width: no ANOVA
    assert.equal(conv.regime, 'conv');
    assert.equal(conv.anova, null);
  });

  it('two widths: the ANOVA F equals the squared pooled t of the core sizes', () => {
    const [mlp] = compareWidths(rows.filter((r) => r.width !== 0.5));
    // cores 1x [400, 500, 600] vs 2x [800, 1000, 600]: t = -300 / sqrt(25000 * 2/3), F = t^2 = 5.4
    near(mlp.anova?.F, 5.4);
    near(mlp.anova?.p, tTwoTailed(Math.sqrt(5.4), 4), 1e-6);
  });

  it('Welch option', () => {
    const [mlp] = compareWidths(rows, { welch: true });
    const two = mlp.widths[2];
    const va = 25 / 3,
      vb = 6.25 / 3;
    near(two.tTest?.t, 7.5 / Math.sqrt(va + vb));
    near(two.tTest?.df, (va + vb) ** 2 / (va ** 2 / 2 + vb ** 2 / 2));
  });
});
