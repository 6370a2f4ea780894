import { strict as assert } from 'assert';
import {
  bandSeries,
  byWidth,
  curveSpread,
  effectiveDensityKde,
  FALLBACK_BANDWIDTH,
  formatP,
  groupBy,
  meanSd,
  pairedTTest,
  regimesOf,
  trajectoryBands,
  trend,
} from '../../lib/report/aggregate';
import { fakeRun, trajectory } from './fixtures';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe('report/aggregate', () => {
  it('meanSd: sample sd (n - 1), sd null below 2 values, both null when empty', () => {
    const s = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
    close(s.mean as number, 5);
    close(s.sd as number, Math.sqrt(32 / 7));
    assert.deepEqual(meanSd([3]), { n: 1, mean: 3, sd: null });
    assert.deepEqual(meanSd([]), { n: 0, mean: null, sd: null });
  });

  it('groupBy keeps first-seen key order; byWidth sorts widths ascending', () => {
    const g = groupBy(['b1', 'a1', 'b2', 'c1'], (s) => s[0]);
    assert.deepEqual([...g.keys()], ['b', 'a', 'c']);
    assert.deepEqual(g.get('b'), ['b1', 'b2']);
    const runs = [fakeRun({ width: 2 }), fakeRun({ width: 0.1 }), fakeRun({ width: 2, initSeed: 1 })];
    assert.deepEqual(
      byWidth(runs).map((w) => [w.width, w.runs.length]),
      [
        [0.1, 1],
        [2, 2],
      ],
    );
  });

  it('trajectoryBands: per-level mean and sd over the runs of a width, accuracy in percent', () => {
    const t1 = trajectory(10, 0.9);
    const t2 = trajectory(20, 0.8);
    const [band] = trajectoryBands([
      { width: 1, trajectory: t1 },
      { width: 1, trajectory: t2 },
    ]);
    assert.equal(band.n, 2);
    assert.equal(band.density.length, 51);
    assert.deepEqual(band.density.slice(0, 3), [100, 98, 96]);
    close(band.mean[0], 85); // (90 + 80) / 2
    close(band.sd[0] as number, Math.sqrt(50)); // sd of [90, 80]
    close(band.upper[0], 85 + Math.sqrt(50));
    close(band.lower[0], 85 - Math.sqrt(50));
    // level 10: t1 has dropped to 0.8, t2 still 0.8
    close(band.mean[10], 80);
    close(band.sd[10] as number, 0);
  });

  it('trajectoryBands: one band per width in ascending order; a single run has sd null and no band in the series', () => {
    const bands = trajectoryBands([
      { width: 5, trajectory: trajectory(5) },
      { width: 0.1, trajectory: trajectory(5) },
      { width: 0.1, trajectory: trajectory(6) },
      { width: 1, trajectory: null },
    ]);
    assert.deepEqual(
      bands.map((b) => b.width),
      [0.1, 5],
    );
    assert.equal(bands[1].sd[0], null);
    assert.deepEqual(bands[1].lower, bands[1].mean);
    const series = bandSeries(bands);
    assert.ok(series[0].lower && series[0].upper, 'two runs: a band');
    assert.equal(series[1].lower, undefined, 'one run: no band');
    assert.match(series[0].name, /0\.1x \(n=2\)/);
  });

  it('trajectoryBands: runs of one width with different lengths are cut to the shortest', () => {
    const [band] = trajectoryBands([
      { width: 1, trajectory: trajectory(5) },
      { width: 1, trajectory: trajectory(5).slice(0, 11) },
    ]);
    assert.equal(band.mean.length, 11);
  });

  it('curveSpread: 0 for identical width curves, the mean over levels of the sd across widths otherwise, null for one width', () => {
    const same = trajectoryBands([
      { width: 0.1, trajectory: trajectory(10) },
      { width: 1, trajectory: trajectory(10) },
    ]);
    close(curveSpread(same) as number, 0);
    const a = trajectory(50, 0.9); // flat at 90 until the last level
    const b = trajectory(50, 0.7); // flat at 70
    const spread = curveSpread(
      trajectoryBands([
        { width: 0.1, trajectory: a },
        { width: 1, trajectory: b },
      ]),
    ) as number;
    close(spread, Math.sqrt(200), 1e-9); // sd of [90, 70] at every level (both drop by the same amount at 50)
    assert.equal(curveSpread(trajectoryBands([{ width: 1, trajectory: a }])), null);
  });

  it('effectiveDensityKde: a density over [0, 100] (integrates to ~1, peaks at the data); fixed bandwidth without spread', () => {
    const k = effectiveDensityKde([40, 42, 44, 46, 60]);
    assert.equal(k.rule, 'scott');
    const dx = k.x[1] - k.x[0];
    close(
      k.y.reduce((s, y) => s + y * dx, 0),
      1,
      0.01,
    );
    const peak = k.x[k.y.indexOf(Math.max(...k.y))];
    assert.ok(peak > 40 && peak < 50, `peak at ${peak}`);
    const one = effectiveDensityKde([30]);
    assert.equal(one.rule, 'fixed');
    assert.equal(one.bandwidth, FALLBACK_BANDWIDTH);
    assert.equal(one.x[one.y.indexOf(Math.max(...one.y))], 30);
    assert.equal(effectiveDensityKde([30, 30]).rule, 'fixed');
  });

  it('pairedTTest: pairs by key, ignores unmatched and null values, matches a hand computation', () => {
    const a = [
      { k: 'x', v: 10 },
      { k: 'y', v: 20 },
      { k: 'z', v: 30 },
      { k: 'only-a', v: 0 },
    ];
    const b = [
      { k: 'z', v: 33 },
      { k: 'x', v: 11 },
      { k: 'y', v: 22 },
      { k: 'only-b', v: 99 },
      { k: 'n', v: null },
    ];
    const r = pairedTTest<{ k: string; v: number | null }>(
      a,
      b,
      (t) => t.k,
      (t) => t.v,
    );
    // diffs 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 2 sqrt 3, df 2
    assert.equal(r.n, 3);
    close(r.meanDiff, 2);
    close(r.sdDiff as number, 1);
    close(r.t as number, 2 * Math.sqrt(3));
    assert.equal(r.df, 2);
    close(r.p as number, 1 - (2 * Math.sqrt(3)) / Math.sqrt(12 + 2), 1e-6); // df = 2: two-tailed p = 1 - |t| / sqrt(t^2 + 2) = 0.0742
    const one = pairedTTest(
      [{ k: 'x', v: 1 }],
      [{ k: 'x', v: 3 }],
      (t) => t.k,
      (t) => t.v,
    );
    assert.deepEqual([one.n, one.meanDiff, one.t, one.p], [1, 2, null, null]);
    const constant = pairedTTest(
      [
        { k: 'x', v: 1 },
        { k: 'y', v: 1 },
      ],
      [
        { k: 'x', v: 2 },
        { k: 'y', v: 2 },
      ],
      (t) => t.k,
      (t) => t.v,
    );
    assert.equal(constant.t, Infinity);
    assert.equal(constant.p, 0);
  });

  it('trend: increasing, decreasing, flat, mixed, one width only (by ascending x, whatever the input order)', () => {
    assert.equal(
      trend([
        { x: 5, y: 3 },
        { x: 0.1, y: 1 },
        { x: 1, y: 2 },
      ]),
      'increasing',
    );
    assert.equal(
      trend([
        { x: 0.1, y: 3 },
        { x: 1, y: 2 },
      ]),
      'decreasing',
    );
    assert.equal(
      trend([
        { x: 0.1, y: 3 },
        { x: 1, y: 3 },
      ]),
      'flat',
    );
    assert.equal(
      trend([
        { x: 0.1, y: 1 },
        { x: 1, y: 3 },
        { x: 2, y: 2 },
      ]),
      'mixed',
    );
    assert.equal(trend([{ x: 1, y: 1 }]), 'one width only');
  });

  it('formatP', () => {
    assert.equal(formatP(0.01234), 'p = 0.012');
    assert.equal(formatP(3.14e-5), 'p = 3.1e-5');
    assert.equal(formatP(0), 'p < 1e-16');
    assert.equal(formatP(null), 'n/a');
    assert.equal(formatP(NaN), 'n/a');
  });

  it('regimesOf: one regime per profile group, titled by the paper regime, with its paper key', () => {
    const runs = [
      fakeRun({ arch: 'mlp' }),
      fakeRun({ arch: 'conv2', optimizer: 'adagrad', width: 0.1 }),
      fakeRun({ arch: 'mlp', width: 0.1 }),
      fakeRun({ arch: 'conv2', optimizer: 'adam', width: 0.1 }),
    ];
    const regimes = regimesOf(runs);
    assert.deepEqual(
      regimes.map((r) => [r.key, r.paper, r.runs.length]),
      [
        ['mlp', 'mlp-sgd', 2],
        ['conv2-adagrad', 'conv2-adagrad', 1],
        ['conv2-adam', 'conv2-adam', 1],
      ],
    );
    assert.equal(regimes[0].title, 'MLP (SGD, MNIST)');
    // Two groups of one paper regime stay apart and are told apart by label.
    const two = regimesOf([fakeRun({ group: 'mlp-lr1' }), fakeRun({ group: 'mlp-lr2', initSeed: 1 })]);
    assert.deepEqual(
      two.map((r) => r.title),
      ['MLP (SGD, MNIST) [mlp-lr1]', 'MLP (SGD, MNIST) [mlp-lr2]'],
    );
  });
});
