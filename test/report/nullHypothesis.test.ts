import { strict as assert } from 'assert';
import { regimesOf } from '../../lib/report/aggregate';
import { anovaVerdict, nullHypothesisVerdicts, regimeComparison, table2Figure, table2Rows, tTestVerdict } from '../../lib/report/nullHypothesis';
import { allRuns, fakeProfile, fakeStudy } from './fixtures';

const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1, 5], inits: ['glorot', 'he'], initSeeds: 3 }]);

describe('report/nullHypothesis', () => {
  it("Table 2 rows: ours from compareWidths beside the paper's numbers; the 1x null equals the observed", () => {
    // densities vary a little with the seed so the tests have variance: dropAt = base + seed
    const base: Record<string, number> = { '0.1': 15, '1': 25, '5': 30 };
    const study = fakeStudy(
      profile,
      allRuns(profile, (d) => ({ dropAt: base[String(d.width)] + d.initSeed })),
    );
    const [regime] = regimesOf(study.runs);
    const cmp = regimeComparison(regime);
    assert.ok(cmp);
    const rows = table2Rows(regime, cmp);
    assert.deepEqual(
      rows.map((r) => r.width),
      [0.1, 1, 5],
    );
    const one = rows[1];
    assert.equal(one['observed mean'], one['null mean']);
    assert.equal(one['paper observed mean'], 43.3);
    assert.equal(one.p, 1);
    assert.equal(rows[0]['paper null mean'], 100);
    assert.equal(rows[0]['null mean'], 100); // a 1x core is far above the 0.1x model's size: capped
    assert.equal(rows[2]['paper observed mean'], 32.2);
    assert.equal(rows[0]['paper observed mean'], null); // lost in extraction
    // 5x: observed ~36-40% vs null (1x core / 5x size) ~6-7%: the test rejects.
    assert.ok((rows[2].p as number) < 1e-6);
    const v = nullHypothesisVerdicts(cmp);
    assert.match(v[0], /^ANOVA of core sizes across widths: F\(2, 15\) = .*: REJECTS equal mean core sizes at 0.05/);
    assert.match(v[3], /^5x: observed 3\d\.\d% vs null \d\.\d%: t\(10\) = .*REJECTS equal means at 0.05\.$/);
    assert.match(v[2], /the 1x models are their own null hypothesis/);
    const fig = table2Figure(study, regime, cmp);
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ['observed (ours)', 'null hypothesis (ours)', 'observed (paper)', 'null hypothesis (paper)'],
    );
    assert.deepEqual(fig.data[2].y, [NaN, 43.3, 32.2]);
  });

  it('verdicts do not reject when the data do not allow it', () => {
    assert.match(anovaVerdict({ F: 0.5, dfBetween: 2, dfWithin: 10, p: 0.62, ssBetween: 1, ssWithin: 10 }), /does NOT reject equal mean core sizes at 0.05/);
    assert.match(anovaVerdict({ F: 5, dfBetween: 2, dfWithin: 10, p: 0.03, ssBetween: 1, ssWithin: 1 }, 0.01), /does NOT reject .* at 0.01/);
    assert.match(anovaVerdict({ F: NaN, dfBetween: 1, dfWithin: 2, p: NaN, ssBetween: 0, ssWithin: 0 }), /no p-value .* no verdict/);
    assert.match(anovaVerdict(null), /not computable here/);
    assert.match(
      tTestVerdict(2, { t: 1.2, df: 8, p: 0.26, meanA: 40, meanB: 38 }),
      /^2x: observed 40\.0% vs null 38\.0%: t\(8\) = 1\.20, p = 0\.260: does NOT reject equal means at 0\.05\.$/,
    );
    assert.match(tTestVerdict(0.5, null), /no t-test/);
  });

  it('a regime without 1x runs: no null densities, no t-tests, and the verdicts say why', () => {
    const narrow = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 5], initSeeds: 2 }]);
    const study = fakeStudy(narrow, allRuns(narrow));
    const cmp = regimeComparison(regimesOf(study.runs)[0]);
    assert.ok(cmp);
    assert.ok(cmp.widths.every((w) => w.tTest === null && w.null.n === 0));
    assert.ok(nullHypothesisVerdicts(cmp).some((s) => /4 run\(s\) have no 1x counterpart/.test(s)));
  });
});
