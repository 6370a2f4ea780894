// Models that never learned, or never degraded while pruned, have an "effective density" that measures nothing:
// the report leaves them out of means, tests and KDEs by default (an option keeps them), and every table says
// how many it left out.
import { strict as assert } from 'assert';
import { INCLUDE_DEGENERATE_ENV, leftOutText, regimesOf } from '../../lib/report/aggregate';
import { compareInits, initComparisonRows } from '../../lib/report/initSchemes';
import { anovaRows, regimeComparison, table2Rows } from '../../lib/report/nullHypothesis';
import { activationRows } from '../../lib/report/activationSparsity';
import { preAccuracyRows } from '../../lib/report/regimes';
import { criterionRows, thresholdCurves, thresholdRows } from '../../lib/report/beyond';
import { effectiveDensityKdeFigure, effectiveDensityRows } from '../../lib/report/trajectories';
import { ANALYSIS, fakeProfile, fakeRun, fakeStudy } from './fixtures';

const good = [0, 1, 2].flatMap((s) =>
  [1, 2].flatMap((width) => (['glorot', 'he'] as const).map((init) => fakeRun({ width, init, initSeed: s, dropAt: 20 + s + width }))),
);
// At chance (10 classes): accuracy 0.11 is 1 point above it; a model that never learned "prunes" to 0 density.
const atChance = fakeRun({ width: 2, init: 'glorot', initSeed: 3, accuracy: 0.11, dropAt: 1 });
const flat = fakeRun({ width: 1, init: 'he', initSeed: 4, dropAt: 99 });
const runs = [...good, atChance, flat];

describe('report: runs left out of means, tests and KDEs', () => {
  it('results rows carry the degraded flag and the margin over chance', () => {
    assert.equal(atChance.row.degraded, false, 'a model 1 point above chance cannot fall 5 points');
    assert.ok(Math.abs((atChance.row.chanceMargin as number) - 1) < 1e-9);
    assert.equal(flat.row.degraded, false);
    assert.ok((good[0].row.chanceMargin as number) > 70);
  });

  it('regimesOf leaves out near-chance and never-degraded runs by default; includeDegenerate keeps them', () => {
    const [regime] = regimesOf(runs);
    assert.equal(regime.runs.length, good.length);
    assert.deepEqual(
      regime.leftOut.map((l) => [l.run.row.hash, l.reason]),
      [
        [atChance.row.hash, 'near chance'],
        [flat.row.hash, 'never degraded'],
      ],
    );
    assert.equal(leftOutText(regime), '2 (1 near chance, 1 never degraded)');
    assert.equal(regimesOf(runs, { includeDegenerate: true })[0].runs.length, runs.length);
    assert.deepEqual(
      regimesOf(runs, { minChanceMargin: 0.5 })[0].leftOut.map((l) => l.reason),
      ['never degraded', 'never degraded'],
      'the margin is an option',
    );
  });

  it(`$${INCLUDE_DEGENERATE_ENV}=1 makes keeping them the default (an explicit option still wins)`, () => {
    const saved = process.env[INCLUDE_DEGENERATE_ENV];
    process.env[INCLUDE_DEGENERATE_ENV] = '1';
    try {
      assert.equal(regimesOf(runs)[0].runs.length, runs.length);
      assert.equal(regimesOf(runs, { includeDegenerate: false })[0].runs.length, good.length);
    } finally {
      if (saved === undefined) delete process.env[INCLUDE_DEGENERATE_ENV];
      else process.env[INCLUDE_DEGENERATE_ENV] = saved;
    }
    assert.equal(regimesOf(runs)[0].runs.length, good.length);
  });

  it('means leave them out: the at-chance run does not pull the 2x mean towards 0', () => {
    const [regime] = regimesOf(runs);
    const rows = effectiveDensityRows(regime, ANALYSIS);
    const mean2x = rows.find((r) => r.width === 2)?.['effective density mean (%)'] as number;
    const goodMean = good.filter((r) => r.row.width === 2).reduce((s, r) => s + (r.row.effectiveDensity as number), 0) / 6;
    assert.ok(Math.abs(mean2x - goodMean) < 1e-9);
    assert.deepEqual(
      rows.map((r) => [r.width, r.runs, r['left out']]),
      [
        [1, 6, 1],
        [2, 6, 1],
      ],
    );
    const kept = effectiveDensityRows(regimesOf(runs, { includeDegenerate: true })[0], ANALYSIS);
    assert.deepEqual(
      kept.map((r) => [r.runs, r['left out']]),
      [
        [7, 0],
        [7, 0],
      ],
    );
  });

  it('every table says how many runs it left out: Table 2, ANOVA, init comparison, thresholds, criteria, activations, accuracy', () => {
    const [regime] = regimesOf(runs);
    const cmp = regimeComparison(regime);
    assert.ok(cmp);
    assert.deepEqual(
      table2Rows(regime, cmp).map((r) => r['left out']),
      [1, 1],
    );
    assert.equal(anovaRows(cmp)[0]['left out'], 2);
    assert.deepEqual(
      initComparisonRows(compareInits(regime)).map((r) => r['left out']),
      [1, 1],
    );
    assert.deepEqual(
      thresholdRows(thresholdCurves(regime, ANALYSIS)).map((r) => r['left out']),
      [1, 1],
    );
    assert.deepEqual(
      criterionRows(regime).map((r) => r['left out']),
      [1, 1],
    );
    assert.deepEqual(
      activationRows([regime]).map((r) => r['left out']),
      [1, 1],
    );
    assert.deepEqual(
      preAccuracyRows([regime]).map((r) => r['left out']),
      [1, 1],
    );
  });

  it('a width whose every run was left out still gets a row saying so', () => {
    const [regime] = regimesOf([...good.filter((r) => r.row.width === 1), atChance]);
    assert.deepEqual(
      effectiveDensityRows(regime, ANALYSIS).map((r) => [r.width, r['left out']]),
      [
        [1, 0],
        [2, 1],
      ],
    );
  });

  it('KDEs leave them out', () => {
    const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [1, 2], inits: ['glorot', 'he'], initSeeds: 5 }]);
    const study = fakeStudy(profile, runs);
    const [regime] = regimesOf(study.runs);
    const fig = effectiveDensityKdeFigure(study, regime);
    const names = fig.data.map((t) => String(t.name));
    assert.ok(
      names.some((n) => /n=6/.test(n)),
      `KDE traces: ${names.join(', ')}`,
    );
    assert.ok(!names.some((n) => /n=7/.test(n)));
  });
});
