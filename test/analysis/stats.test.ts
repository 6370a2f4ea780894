import { strict as assert } from 'assert';
import { mean, sd, variance, oneWayAnova, anova, tTest, fSurvival, tTwoTailed } from '../../lib/analysis/stats';

// Reference p-values below were computed with SciPy 1.10.1 (Debian python3-scipy) via
//   scipy.stats.f_oneway(...), scipy.stats.ttest_ind(a, b, equal_var=True|False)
// and pasted here; the statistics themselves are also recomputed by hand in each test from the formulas.
// p-values are compared at 1e-6 relative: jstat's incomplete beta converges to ~1e-7 (see stats.ts).
const P_TOL = 1e-6;
/** Relative comparison, so a p-value of 1e-8 is checked as tightly as one of 0.5. */
function close(actual: number, expected: number, relTol = 1e-9, msg?: string): void {
  const ok = Math.abs(actual - expected) <= relTol * Math.abs(expected) + 1e-300;
  assert.ok(ok, `${msg ?? ''} expected ${expected}, got ${actual}`);
}

describe('analysis/stats', () => {
  it('mean and sample sd', () => {
    assert.equal(mean([1, 2, 3, 4]), 2.5);
    // sum of squared deviations 5, n - 1 = 3
    close(variance([1, 2, 3, 4]), 5 / 3);
    close(sd([1, 2, 3, 4]), Math.sqrt(5 / 3));
    close(sd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7)); // population sd would be 2
    assert.equal(mean([0.1, 0.1, 0.1]), 0.1, 'exact for constant data');
    assert.equal(sd([0.1, 0.1, 0.1]), 0);
    assert.throws(() => mean([]), /values\.length = 0/);
    assert.throws(() => sd([3]), /values\.length = 1/);
    assert.throws(() => mean([1, NaN]), /values\[1\] = NaN/);
  });

  it('one-way ANOVA: a hand-computed case', () => {
    // Group means 2, 5, 8; grand mean 5. SSB = 3 * (9 + 0 + 9) = 54 on 2 df; SSW = 3 * 2 = 6 on 6 df.
    // F = (54 / 2) / (6 / 6) = 27. scipy: p = 0.0010000000000000002 (exactly 0.001: F(2,6) survival is (1 + 2F/6)^-3).
    const r = oneWayAnova([
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    assert.equal(r.dfBetween, 2);
    assert.equal(r.dfWithin, 6);
    close(r.ssBetween, 54);
    close(r.ssWithin, 6);
    close(r.F, 27);
    close(r.p, Math.pow(1 + (2 * 27) / 6, -3), P_TOL, 'closed form');
    close(r.p, 0.0010000000000000002, P_TOL, 'scipy');
  });

  it('one-way ANOVA: the textbook example from Wikipedia "One-way analysis of variance"', () => {
    // Wikipedia's worked example: a1 = 6 8 4 5 3 4, a2 = 8 12 9 11 6 8, a3 = 13 9 11 8 7 12;
    // means 5, 9, 10; SSB = 84 (df 2), SSW = 68 (df 15); F = 42 / 4.533 = 9.26 ("F = 9.3" in the article).
    // scipy.stats.f_oneway: F = 9.264705882352942, p = 0.0023987773293929083.
    const r = anova([
      [6, 8, 4, 5, 3, 4],
      [8, 12, 9, 11, 6, 8],
      [13, 9, 11, 8, 7, 12],
    ]);
    close(r.ssBetween, 84);
    close(r.ssWithin, 68);
    assert.equal(r.dfBetween, 2);
    assert.equal(r.dfWithin, 15);
    close(r.F, 9.264705882352942);
    close(r.p, 0.0023987773293929083, P_TOL);
    // unequal group sizes, one singleton group: scipy F = 0.6923076923076924, p = 0.5659585523310864
    const u = oneWayAnova([[1, 2], [3], [2, 2, 5]]);
    close(u.F, 0.6923076923076924);
    close(u.p, 0.5659585523310864, P_TOL);
  });

  it('one-way ANOVA: degenerate and invalid inputs', () => {
    const same = oneWayAnova([
      [5, 5],
      [5, 5, 5],
    ]);
    assert.ok(Number.isNaN(same.F) && Number.isNaN(same.p), 'all identical: 0/0');
    const sep = oneWayAnova([
      [0.1, 0.1],
      [0.2, 0.2, 0.2],
    ]);
    assert.equal(sep.F, Infinity, 'constant groups with different means');
    assert.equal(sep.p, 0);
    assert.throws(() => oneWayAnova([[1, 2, 3]]), /groups\.length = 1/);
    assert.throws(() => oneWayAnova([[1], [2]]), /total n - groups = 0/);
    assert.throws(() => oneWayAnova([[1, 2], []]), /groups\[1\]\.length = 0/);
  });

  it("t-test on Student's sleep data (Cushny & Peebles; R's `t.test(extra ~ group, data = sleep)`)", () => {
    const g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    // R documents t = -1.8608, df = 17.776, p = 0.07939 (Welch) and df = 18, p = 0.07919 (var.equal = TRUE).
    // scipy: Student t = -1.8608134674868524, p = 0.07918671421593829; Welch p = 0.07939414018735823, df 17.776473516178495.
    const s = tTest(g1, g2);
    close(s.t, -1.8608134674868524);
    assert.equal(s.df, 18);
    close(s.p, 0.07918671421593829, P_TOL);
    const w = tTest(g1, g2, { welch: true });
    close(w.t, -1.8608134674868526);
    close(w.df, 17.776473516178495);
    close(w.p, 0.07939414018735823, P_TOL);
    close(s.meanA, 0.75);
    close(s.meanB, 2.33);
  });

  it('t-test: unequal sizes by hand, and an extreme separation with a tiny p', () => {
    // a = 1..4: mean 2.5, SS 5; b = 2,4,..,12: mean 7, SS 70. Pooled var = 75 / 8;
    // t = -4.5 / sqrt(75/8 * (1/4 + 1/6)) = -2.27684; Welch se^2 = (5/3)/4 + 14/6, df by Welch-Satterthwaite.
    const a = [1, 2, 3, 4],
      b = [2, 4, 6, 8, 10, 12];
    const s = tTest(a, b);
    close(s.t, -4.5 / Math.sqrt((75 / 8) * (1 / 4 + 1 / 6)));
    close(s.t, -2.2768399153212333);
    close(s.p, 0.052328795428400174, P_TOL); // scipy
    const va = 5 / 3 / 4,
      vb = 14 / 6;
    const w = tTest(a, b, { welch: true });
    close(w.t, -4.5 / Math.sqrt(va + vb));
    close(w.df, (va + vb) ** 2 / (va ** 2 / 3 + vb ** 2 / 5));
    close(w.df, 6.59467097295115);
    close(w.p, 0.03182444378084147, P_TOL); // scipy
    // scipy: t = -19.078075714625232, p = 5.901239019954369e-08 (tiny p keeps its relative precision)
    const x = tTest([10, 11, 12, 13, 14], [30, 31, 32, 33, 34.5]);
    close(x.t, -19.078075714625232);
    close(x.p, 5.901239019954369e-8, P_TOL);
  });

  it('t-test: degenerate and invalid inputs', () => {
    const eq = tTest([5, 5, 5], [5, 5, 5]);
    assert.ok(Number.isNaN(eq.t) && Number.isNaN(eq.p), 'two equal constant samples: 0/0');
    const ne = tTest([5, 5, 5], [6, 6, 6]);
    assert.equal(ne.t, -Infinity);
    assert.equal(ne.p, 0);
    const neW = tTest([6, 6, 6], [5, 5, 5], { welch: true });
    assert.equal(neW.t, Infinity);
    assert.equal(neW.p, 0);
    assert.ok(Number.isNaN(neW.df), 'Welch df is 0/0 for two constant samples');
    // one constant sample against a varying one is fine (e.g. 0.1x null densities, all 100)
    const c = tTest([100, 100, 100], [30, 35, 40]);
    close(c.t, 65 / Math.sqrt((50 / 4) * (1 / 3 + 1 / 3)));
    const cw = tTest([100, 100, 100], [30, 35, 40], { welch: true });
    close(cw.df, 2, 1e-12, 'Welch df falls back to nb - 1 when a has no variance');
    assert.throws(() => tTest([1], [2]), /a\.length \+ b\.length = 2/);
    assert.throws(() => tTest([1], [2, 3], { welch: true }), /a\.length = 1/);
    assert.throws(() => tTest([], [2, 3]), /a\.length = 0/);
    // Student with one singleton is allowed (df = 1 + 2 - 2 = 1)
    assert.equal(tTest([1], [2, 3]).df, 1);
  });

  it('tail functions agree with closed forms', () => {
    // F(2, d2) survival = (1 + 2F/d2)^(-d2/2); t with 1 df is Cauchy: P(|T| > t) = 1 - 2 atan(t) / pi.
    close(fSurvival(3, 2, 10), Math.pow(1 + (2 * 3) / 10, -5), P_TOL);
    close(tTwoTailed(1.5, 1), 1 - (2 * Math.atan(1.5)) / Math.PI, P_TOL);
    // t with 2 df: P(|T| > t) = 1 - t / sqrt(2 + t^2)
    close(tTwoTailed(-2.5, 2), 1 - 2.5 / Math.sqrt(2 + 6.25), P_TOL);
    assert.equal(tTwoTailed(0, 5), 1);
    assert.equal(fSurvival(0, 2, 5), 1);
  });
});
