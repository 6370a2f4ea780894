import { strict as assert } from 'assert';
import { regimesOf } from '../../lib/report/aggregate';
import {
  baselineCoreSize,
  coreSizeFigure,
  effectiveDensityKdeFigure,
  effectiveDensityRows,
  trajectoryFigure,
  trajectoryVerdicts,
  undegradedRuns,
} from '../../lib/report/trajectories';
import { ANALYSIS, allRuns, fakeProfile, fakeRun, fakeStudy } from './fixtures';

const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1, 5], initSeeds: 2 }]);
// Effective density 100 - 2 * dropAt: 0.1x 70%, 1x 50% / 46%, 5x 40%.
const drop: Record<string, number[]> = { '0.1': [15, 15], '1': [25, 27], '5': [30, 30] };
const study = fakeStudy(
  profile,
  allRuns(profile, (d) => ({ dropAt: drop[String(d.width)][d.initSeed] })),
);
const [regime] = regimesOf(study.runs);

describe('report/trajectories', () => {
  it('effective density table per width: mean, sd, range, core size, never-degraded count', () => {
    const rows = effectiveDensityRows(regime, ANALYSIS);
    assert.deepEqual(
      rows.map((r) => [r.width, r.runs, r['effective density mean (%)'], r.min, r.max]),
      [
        [0.1, 2, 70, 70, 70],
        [1, 2, 48, 46, 50],
        [5, 2, 40, 40, 40],
      ],
    );
    assert.equal(rows[1].sd, Math.sqrt(8));
    assert.equal(rows[2]['core size mean'], 0.4 * 1_931_000);
    assert.deepEqual(
      rows.map((r) => r['never degraded']),
      [0, 0, 0],
    );
  });

  it('core size figure: a point per run at (weights, core), the null-hypothesis line at the mean 1x core', () => {
    const fig = coreSizeFigure(study, regime);
    const points = fig.data.filter((t) => t.mode === 'markers');
    assert.deepEqual(
      points.map((t) => t.name),
      ['0.1x', '1x', '5x'],
    );
    assert.deepEqual(points[2].x, [1_931_000, 1_931_000]);
    const nullLine = fig.data.find((t) => String(t.name).startsWith('null hypothesis'));
    const base = (0.5 * 266_200 + 0.46 * 266_200) / 2;
    assert.equal(baselineCoreSize(regime), base);
    // capped at the architecture's size: the 0.1x model cannot keep more weights than it has
    assert.deepEqual(nullLine?.x, [23_920, 266_200, 1_931_000]);
    assert.deepEqual(nullLine?.y, [23_920, base, base]);
    const layout = fig.layout as { xaxis: { type: string }; yaxis: { type: string }; annotations: { text: string }[] };
    assert.equal(layout.xaxis.type, 'log');
    assert.equal(layout.yaxis.type, 'log');
    assert.match(layout.annotations[0].text, /^source: profile fake \| MNIST/);
  });

  it('no 1x runs: no null-hypothesis line (nothing to hold constant)', () => {
    const narrow = regimesOf(study.runs.filter((r) => r.row.width !== 1))[0];
    assert.equal(baselineCoreSize(narrow), null);
    assert.ok(!coreSizeFigure(study, narrow).data.some((t) => String(t.name).startsWith('null hypothesis')));
  });

  it('trajectory and KDE figures: one band / one curve per width, in percent', () => {
    const t = trajectoryFigure(study, regime);
    const lines = t.data.filter((d) => d.fill !== 'toself');
    assert.equal(lines.length, 3);
    assert.equal((lines[0].y as number[])[0], 90);
    const k = effectiveDensityKdeFigure(study, regime);
    assert.deepEqual(
      k.data.filter((d) => d.showlegend !== false).map((d) => d.name),
      ['0.1x (n=2)', '1x (n=2)', '5x (n=2)'],
    );
    assert.match(String((k.layout as { title: { text: string } }).title.text), /0\.1x, 5x: fewer than 2 distinct values/);
  });

  it('verdicts: prunable share per width, and whether the pruned widest models outgrow the unpruned narrower ones', () => {
    const v = trajectoryVerdicts(regime, ANALYSIS);
    assert.match(v[0], /^0\.1x: mean effective density 70\.0% \(n=2, sd 0\.0\), i\.e\. 30\.0% of the weights prunable\.$/);
    assert.ok(v.includes('The pruned 5x models (mean core 772,400 weights) are LARGER than the unpruned 0.1x architecture (23,920 weights).'));
    assert.ok(v.includes('The pruned 5x models (mean core 772,400 weights) are LARGER than the unpruned 1x architecture (266,200 weights).'));
    assert.ok(v.some((s) => s.startsWith('Paper (MLP): about 30% prunable at 0.1x')));
  });

  it('runs that never degrade are found and reported as such, not as sparse', () => {
    const flat = fakeRun({ width: 0.1, dropAt: 99, group: 'x' });
    assert.equal(flat.row.effectiveDensity, 0);
    assert.equal(undegradedRuns([flat, ...study.runs], ANALYSIS).length, 1);
    // By default such a run is left out of the numbers, and the verdicts say so.
    const byDefault = regimesOf([flat])[0];
    assert.deepEqual([byDefault.runs.length, byDefault.leftOut.map((l) => l.reason)], [0, ['never degraded']]);
    assert.match(
      trajectoryVerdicts(byDefault, ANALYSIS).join('\n'),
      /1 \(1 never degraded\) run\(s\) left out of these numbers[^]*no run has an effective density that measures density/,
    );
    const v = trajectoryVerdicts(regimesOf([flat], { includeDegenerate: true })[0], ANALYSIS);
    assert.match(v[0], /no run's accuracy fell past the threshold even at the last pruning level/);
  });
});
