// Notebooks 01, 04 and 09: setting tables and training figures, regime comparisons, threshold sensitivity,
// criteria, strategies and the per-layer core; plus the figure helpers.
import { strict as assert } from 'assert';
import { curvesFigure } from '../../lib/plots/figures';
import { regimesOf } from '../../lib/report/aggregate';
import {
  baselinesPresent,
  criterionRows,
  layerCoreRows,
  strategyFigure,
  strategyRows,
  thresholdCurves,
  thresholdRows,
  thresholdVerdicts,
} from '../../lib/report/beyond';
import { curveFromStart, curveSpreadRows, preAccuracyRows, regimeCurveSpread, regimeVerdicts, startSpread, weightScalingRows } from '../../lib/report/regimes';
import { datasetRows, profileGroupRows, stopRuleText, trainingFigures, trainingSummaryRows } from '../../lib/report/setting';
import { figureHasData, verdictHtml } from '../../lib/report/show';
import { ANALYSIS, allRuns, fakeProfile, fakeRun, fakeStudy, trajectory } from './fixtures';

describe('report: setting (01)', () => {
  it('dataset rows: one per copy, sizes and data seeds of the runs; profile groups as trained', () => {
    const profile = fakeProfile([
      { label: 'mlp', arch: 'mlp', widths: [1], dataSeeds: 2 },
      { label: 'conv2-adam', arch: 'conv2', optimizer: 'adam', widths: [0.1] },
    ]);
    const study = fakeStudy(profile, allRuns(profile));
    const rows = datasetRows(study);
    assert.deepEqual(
      rows.map((r) => [r.dataset, r['train images (ours)'], r['validation images (ours)'], r['data seeds']]),
      [
        ['mnist', '55,000', '5,000', '0, 1'],
        ['cifar10', '45,000', '5,000', '0'],
      ],
    );
    assert.equal(rows[0]['train / validation / test (paper)'], '55,000 / 5,000 / 10,000');
    const groups = profileGroupRows(study);
    assert.deepEqual(
      groups.map((g) => [g.group, g.optimizer, g['learning rate'], g.runs]),
      [
        ['mlp', 'sgd', 0.1, 2],
        ['conv2-adam', 'adam', 2e-4, 1],
      ],
    );
    assert.match(String(groups[0].stop), /mean training loss over 100 steps .* <= 0.2/);
    assert.match(String(groups[1].stop), /100 epochs, keeping the epoch with the lowest validation loss/);
    assert.equal(
      stopRuleText({ kind: 'bestValidationLoss', epochs: 90, patience: 5 }),
      'up to 90 epochs, stopping once 5 epochs in a row have not lowered the validation loss; the epoch with the lowest validation loss is kept',
    );
  });

  it('training figures: curves in epochs with the stop marked; the kept epoch marked on the validation losses', () => {
    const mlp = fakeRun({ width: 1, epochs: 2, trainSubset: 12_800 }); // 100 steps per epoch at batch 128
    const conv = fakeRun({ arch: 'conv2', optimizer: 'adam', width: 0.1, epochs: 3 });
    const study = fakeStudy(fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [1] }]), [mlp, conv]);
    const [m, c] = regimesOf([mlp, conv]);
    const fm = trainingFigures(study, m);
    assert.equal(fm.validationLoss, null);
    const stop = fm.trainLoss?.data.find((t) => String(t.name).endsWith('stop'));
    assert.deepEqual(stop?.x, [mlp.record.training.steps / 100]);
    assert.deepEqual(stop?.y, [0.2]);
    assert.deepEqual(fm.trainLoss?.data.find((t) => String(t.name).startsWith('target'))?.y, [0.2, 0.2]);
    const fc = trainingFigures(study, c);
    const kept = fc.validationLoss?.data.find((t) => String(t.name).endsWith('kept epoch'));
    assert.deepEqual(kept?.x, [3]);
    assert.deepEqual(trainingSummaryRows(m)[0]['stop reasons'], 'targetReached x1');
  });
});

describe('report: regimes (04)', () => {
  it('start spread and curve spread per regime; weight scaling relative to 1x', () => {
    const runs = [
      fakeRun({ width: 0.1, accuracy: 0.8, dropAt: 10 }),
      fakeRun({ width: 1, accuracy: 0.9, dropAt: 10 }),
      fakeRun({ width: 1, initSeed: 1, accuracy: 0.95, dropAt: 10 }),
    ];
    const [regime] = regimesOf(runs);
    const s = startSpread(regime);
    assert.ok(Math.abs((s.accuracySpread as number) - 12.5) < 1e-9); // means 80 and 92.5
    assert.equal(s.lossSpread, 0);
    const rows = preAccuracyRows([regime]);
    assert.deepEqual(
      rows.map((r) => [r.width, r.runs]),
      [
        [0.1, 1],
        [1, 2],
      ],
    );
    const spread = curveSpreadRows([regime])[0];
    assert.equal(spread['effective density range (points)'], 0);
    assert.ok((spread['curve spread (accuracy points)'] as number) > 0);
    // The same fall from different starts: measured from each run's unpruned accuracy the curves coincide.
    const parallel = regimesOf(
      runs.map((r) => ({
        ...r,
        record: { ...r.record, trajectory: (r.record.trajectory ?? []).map((p, k) => ({ ...p, accuracy: (r.row.validationAccuracy as number) - 0.01 * k })) },
      })),
    )[0];
    assert.ok((regimeCurveSpread(parallel) as number) > 5);
    assert.ok((regimeCurveSpread(parallel, { fromStart: true }) as number) < 1e-9);
    assert.equal(typeof spread['curve spread from start (points)'], 'number');
    assert.equal(regimeCurveSpread(regime, { widths: [1] }), null);
    assert.deepEqual(
      curveFromStart(runs[0].record.trajectory)
        ?.slice(9, 12)
        .map((p) => Math.round(100 * p.accuracy)),
      [0, -10, -20],
    );
    assert.equal(curveFromStart(null), null);
    assert.match(regimeVerdicts([regime])[0], /span 12\.5 points/);
    assert.match(regimeVerdicts(regimesOf([runs[0]]))[0], /one width only/);
    const w = weightScalingRows(['mlp', 'resnet'], [0.1, 1, 2]);
    assert.equal(w[1]['mlp / 1x (ours)'], 1);
    assert.equal(w[2]['mlp / 1x (paper)'], 592_400 / 266_200);
    assert.equal(w[2]['resnet / 1x (paper)'], 886_194 / 443_122);
  });
});

describe('report: beyond the paper (09)', () => {
  const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1], initSeeds: 2 }]);
  const drop: Record<string, number> = { '0.1': 15, '1': 25 };
  const study = fakeStudy(
    profile,
    allRuns(profile, (d) => ({ dropAt: drop[String(d.width)] })),
  );
  const [regime] = regimesOf(study.runs);

  it('threshold curves: mean effective density per threshold and width; rankings compared with the chosen threshold', () => {
    const curves = thresholdCurves(regime, ANALYSIS, [1, 5, 10, 20, 60]);
    assert.deepEqual(
      curves.map((c) => c.width),
      [0.1, 1],
    );
    // the fixture drops 10 points per level after dropAt: thresholds 1, 5 fall at dropAt, 10 at dropAt + 1, 20 at dropAt + 2
    assert.deepEqual(curves[0].mean, [70, 70, 68, 66, 58]); // 60 points: accuracy 0.2 at dropAt + 6
    assert.deepEqual(curves[1].mean, [50, 50, 48, 46, 38]);
    const rows = thresholdRows(curves, [5, 20, 7]);
    assert.deepEqual(rows[1], { width: 1, runs: 2, 'left out': 0, 'threshold 5': 50, 'threshold 20': 46 });
    const v = thresholdVerdicts(regime, curves, 5);
    assert.match(v[0], /widths rank 0\.1x > 1x .* same ranking holds at 5 of 5 thresholds/);
    assert.match(v[1], /spread between widths' means is 20\.0 points at threshold 1, 20\.0 at 5 and 20\.0 at 60/);
    assert.match(thresholdVerdicts(regime, curves, 3)[0], /not among the thresholds swept/);
  });

  it("criteria: the paper's rule and the variants give their own effective densities", () => {
    const rows = criterionRows(regime);
    assert.equal(rows[0]['accuracy -5 points (paper)'], 70);
    // loss rises 0.5 at dropAt: > 5% of 0.3 and > 0.1 nats, so the loss rules agree with the accuracy rule here
    assert.equal(rows[0]['loss +5% relative'], 70);
    assert.equal(rows[0]['loss +0.1 nats'], 70);
  });

  it('strategies: baselines listed only when present; their effective densities per width', () => {
    assert.deepEqual(baselinesPresent(regime), []);
    const withGlobal = fakeRun({ width: 1, dropAt: 25, baselines: { globalMagnitude: trajectory(35) } });
    // A run without the baseline (layer-wise only, effective density 80%) is left out of the comparison:
    // strategies are compared on the same networks.
    const layerwiseOnly = fakeRun({ width: 1, dropAt: 10, initSeed: 1 });
    const [r2] = regimesOf([withGlobal, layerwiseOnly]);
    assert.equal(r2.runs.length, 2);
    assert.deepEqual(baselinesPresent(r2), ['globalMagnitude']);
    assert.deepEqual(strategyRows(r2, ANALYSIS), [{ width: 1, n: 1, 'left out': 0, 'layerwiseMagnitude (%)': 50, 'globalMagnitude (%)': 30 }]);
    const fig = strategyFigure(study, r2);
    assert.deepEqual(
      fig.data.map((t) => [t.name, (t.line as { dash: string }).dash]),
      [
        ['1x layerwiseMagnitude', 'solid'],
        ['1x globalMagnitude', 'dash'],
      ],
    );
  });

  it('per-layer core at the effective-density level: weights left, share of the core, fraction of the layer', () => {
    const rows = layerCoreRows(regime, ANALYSIS).filter((r) => r.width === 1);
    // level 25 of 50 leaves n - floor(25 n / 50) = n / 2 of every layer
    assert.deepEqual(
      rows.map((r) => [r.layer, r['weights left (mean)'], r['layer left (%)']]),
      [
        ['fc1', 117_600, 50],
        ['fc2', 15_000, 50],
        ['proj', 500, 50],
      ],
    );
    assert.ok(Math.abs(rows.reduce((s, r) => s + (r['share of the core (%)'] as number), 0) - 100) < 1e-9);
  });
});

describe('report: figure helpers', () => {
  it('figureHasData: only traces with a finite y (or z) count', () => {
    assert.equal(figureHasData({ data: [] }), false);
    assert.equal(figureHasData({ data: [{ x: [1], y: [NaN] }] }), false);
    assert.equal(figureHasData({ data: [{ z: [[NaN, 2]] }] }), true);
    assert.equal(
      figureHasData({
        data: [
          { x: [], y: [] },
          { x: [1], y: [0] },
        ],
      }),
      true,
    );
  });

  it('curvesFigure: legend groups, markers only for marker modes, log axes, source line', () => {
    const fig = curvesFigure(
      [
        { name: '1x', x: [1, 2], y: [0.5, 0.2], group: '1x' },
        { name: '1x stop', x: [2], y: [0.2], group: '1x', showLegend: false, mode: 'markers', symbol: 'x' },
      ],
      { title: 't', xTitle: 'epoch', yTitle: 'loss', logY: true, source: 'source: x' },
    );
    assert.equal(fig.data[0].legendgroup, '1x');
    assert.equal(fig.data[1].showlegend, false);
    assert.equal('marker' in fig.data[0], false);
    assert.equal((fig.data[1].marker as { symbol: string }).symbol, 'x');
    const layout = fig.layout as { yaxis: { type: string }; annotations: { text: string }[] };
    assert.equal(layout.yaxis.type, 'log');
    assert.equal(layout.annotations[0].text, 'source: x');
  });

  it('verdict HTML escapes its lines', () => {
    assert.equal(verdictHtml(['a < b', 'c']).replace(/<div[^>]*>|<\/div>/g, ''), 'a &lt; b<br>c');
  });
});
