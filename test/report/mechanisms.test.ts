// Notebooks 05-08: init schemes, init/trained overlap, functional similarity, activation statistics.
import { strict as assert } from 'assert';
import { regimesOf } from '../../lib/report/aggregate';
import { activationRows, activationVerdicts, networkMean } from '../../lib/report/activationSparsity';
import {
  agreementByWidth,
  agreementRows,
  correctnessSet,
  similarityVerdicts,
  tsneFigure,
  widthAgreement,
  widthStructure,
} from '../../lib/report/functionalSimilarity';
import { overlapCaption, overlapCells, overlapRows, overlapVerdicts } from '../../lib/report/initOverlap';
import { compareInits, initBoxFigure, initComparisonRows, initVerdicts } from '../../lib/report/initSchemes';
import { allRuns, fakeProfile, fakeRun, fakeStudy } from './fixtures';

describe('report: init schemes (05)', () => {
  const profile = fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1], inits: ['glorot', 'he'], initSeeds: 3 }]);
  // He keeps 2 more levels at 1x (4 density points) than its Glorot twin, plus seed noise shared by the pair.
  const study = fakeStudy(
    profile,
    allRuns(profile, (d) => ({ dropAt: 20 + d.initSeed + (d.init === 'he' && d.width === 1 ? -2 : 0), epochs: d.init === 'he' ? 1 : 2 })),
  );
  const [regime] = regimesOf(study.runs);

  it('pairs He with its Glorot twin by seeds: an equal gap gives t = inf, p = 0; no gap gives no verdict', () => {
    const cmp = compareInits(regime);
    assert.deepEqual(
      cmp.map((c) => [c.width, c.paired.n, c.paired.meanDiff]),
      [
        [0.1, 3, 0],
        [1, 3, 4],
      ],
    );
    assert.equal(cmp[1].paired.t, Infinity);
    assert.equal(cmp[1].paired.p, 0);
    assert.ok(Number.isNaN(cmp[0].paired.p as number));
    assert.deepEqual([cmp[1].glorotEpochs, cmp[1].heEpochs], [2, 1]);
    const rows = initComparisonRows(cmp);
    assert.equal(rows[1]['he - glorot (points)'], 4);
    assert.equal(rows[1]['glorot mean (%)'], 58);
    const v = initVerdicts(cmp);
    assert.match(v[1], /^1x: He - Glorot = \+4\.0 points over 3 seed pair\(s\), p < 1e-16: significant at 0.05\.$/);
    assert.match(v[0], /not testable/);
    assert.match(v[2], /He gives the higher mean effective density at 1 of 2 width\(s\).*gap is increasing with width/);
    assert.match(v[3], /He trains in fewer epochs than Glorot at 2 of 2 width\(s\)/);
    assert.deepEqual(
      initBoxFigure(study, regime).data.map((t) => t.name),
      ['0.1x glorot', '0.1x he', '1x glorot', '1x he'],
    );
  });
});

describe('report: initialisation overlap (06)', () => {
  it("means per width and layer beside the paper's Table 3, and which side of chance each falls on", () => {
    const runs = [
      fakeRun({ width: 0.1, overlaps: { fc1: 30, fc2: 20, proj: 10 } }),
      fakeRun({ width: 0.1, initSeed: 1, overlaps: { fc1: 20, fc2: 22, proj: 12 } }),
      fakeRun({ width: 1, overlaps: { fc1: 5, fc2: 8, proj: 18 } }),
    ];
    const [regime] = regimesOf(runs);
    const cells = overlapCells(regime);
    assert.equal(cells.length, 6);
    const c = cells.find((x) => x.width === 0.1 && x.layer === 'fc1');
    assert.deepEqual([c?.ours.mean, c?.ours.n, c?.paper], [25, 2, 25.5]);
    const rows = overlapRows(regime, cells);
    assert.deepEqual(Object.keys(rows[0]), ['width', 'fc1 ours', 'fc1 paper', 'fc2 ours', 'fc2 paper', 'proj ours', 'proj paper', 'left out']);
    assert.deepEqual(rows[1], {
      width: 1,
      'fc1 ours': 5,
      'fc1 paper': 7.2,
      'fc2 ours': 8,
      'fc2 paper': 9.3,
      'proj ours': 18,
      'proj paper': 16.7,
      'left out': 0,
    });
    assert.match(overlapCaption(regime), /smallest 40% \|w\|.*chance 16%/);
    const v = overlapVerdicts(regime, cells);
    // ours above 16: 0.1x fc1 (25), fc2 (21), 1x proj (18); paper above: 0.1x fc1, fc2, proj and 1x proj
    assert.match(v[0], /3 of 6 \(width, layer\) cells are above chance \(16%\); below: 0\.1x proj, 1x fc1, 1x fc2\./);
    assert.match(v[1], /Paper: 4 of those 6 cells above chance; ours and the paper's fall on the same side of chance in 5 of 6\./);
  });
});

describe('report: functional similarity (07)', () => {
  it('agreementByWidth averages model pairs by width pair, never pairing a model with itself', () => {
    const A = [
      [1, 0.9, 0.5, 0.4],
      [0.9, 1, 0.6, 0.5],
      [0.5, 0.6, 1, 0.8],
      [0.4, 0.5, 0.8, 1],
    ];
    const wa = agreementByWidth(A, [0.1, 0.1, 1, 1]);
    assert.deepEqual(wa.widths, [0.1, 1]);
    assert.deepEqual(wa.mean, [
      [0.9, 0.5],
      [0.5, 0.8],
    ]);
    assert.deepEqual(wa.pairs, [
      [2, 4],
      [4, 2],
    ]);
    const single = agreementByWidth(
      [
        [1, 0.7],
        [0.7, 1],
      ],
      [0.1, 1],
    );
    assert.deepEqual(single.mean, [
      [null, 0.7],
      [0.7, null],
    ]);
    assert.deepEqual(agreementRows(wa)[0], { width: 0.1, 'with 0.1x (%)': 90, 'with 1x (%)': 50 });
    assert.throws(() => agreementByWidth(A, [1]), /4 rows but 1 widths/);
  });

  it('correctness vectors of one data seed only; t-SNE needs 3 models; verdicts from the agreement', () => {
    const runs = [
      fakeRun({ width: 0.1, correctness: [1, 1, 0, 0], accuracy: 0.5 }),
      fakeRun({ width: 0.1, initSeed: 1, correctness: [1, 1, 0, 1], accuracy: 0.75 }),
      fakeRun({ width: 1, correctness: [1, 1, 1, 1], accuracy: 1 }),
      fakeRun({ width: 1, dataSeed: 1, correctness: [0, 0, 0, 0] }),
    ];
    const [regime] = regimesOf(runs);
    const set = correctnessSet(regime);
    assert.ok(set);
    assert.equal(set.dataSeed, 0);
    assert.equal(set.runs.length, 3);
    assert.deepEqual(Array.from(set.vectors[1]), [1, 1, 0, 1]);
    assert.equal(correctnessSet(regime, 1)?.runs.length, 1);
    const wa = widthAgreement(set);
    assert.deepEqual(wa.mean, [
      [0.75, 0.625],
      [0.625, null],
    ]);
    const v = similarityVerdicts(set, wa);
    assert.match(
      v[0],
      /^0\.1x: models agree on 75\.0% of images with each other and on 62\.5% with the other widths' models \(mean accuracy 62\.5%: two models this accurate can disagree on at most 75\.0% of images\)\.$/,
    );
    // The permutation test's line: 3 models, one labelling in 3 puts the 0.1x pair together.
    const structure = widthStructure(set, { permutations: 300 });
    assert.ok(structure);
    assert.equal(structure.within, 0.75);
    assert.match(
      similarityVerdicts(set, wa, structure)[0],
      /^Width structure: models agree on 75\.0% of images with models of their own width and on 62\.5% with other widths'; .* p = 0\.\d+: no width structure detected \(at 0\.05\)\.$/,
    );
    assert.equal(widthStructure({ ...set, runs: set.runs.slice(0, 2), vectors: set.vectors.slice(0, 2) }), null);
    const study = fakeStudy(fakeProfile([{ label: 'mlp', arch: 'mlp', widths: [0.1, 1] }]), runs);
    const fig = tsneFigure(study, regime, set, 0);
    assert.ok(fig);
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ['0.1x glorot', '1x glorot'],
    );
    assert.deepEqual(
      fig.data.map((t) => (t.x as number[]).length),
      [2, 1],
    );
    assert.equal(tsneFigure(study, regime, { ...set, runs: set.runs.slice(0, 2), vectors: set.vectors.slice(0, 2) }), null);
  });
});

describe('report: activation statistics (08)', () => {
  it('network mean over layers (skipping missing values), rows per layer, trends and ordering', () => {
    const acts = (h: number, s: number) => ({ fc1: { hoyer: h, selectivity: s, units: 30 }, fc2: { hoyer: h + 0.1, selectivity: null, units: 10 } });
    const runs = [
      fakeRun({ width: 0.1, activations: acts(0.2, 0.3) }),
      fakeRun({ width: 1, activations: acts(0.4, 0.2) }),
      fakeRun({ arch: 'conv2', optimizer: 'adam', width: 0.1, activations: { conv1: { hoyer: 0.9, selectivity: 0.5, units: 6 } } }),
    ];
    assert.ok(Math.abs((networkMean(runs[0], 'hoyer') as number) - 0.25) < 1e-12);
    assert.equal(networkMean(runs[0], 'selectivity'), 0.3);
    assert.equal(networkMean(fakeRun({ activations: null }), 'hoyer'), null);
    const regimes = regimesOf(runs);
    const rows = activationRows(regimes);
    assert.deepEqual(
      rows.map((r) => [r.regime, r.width, r.layer]),
      [
        ['MLP (SGD, MNIST)', 0.1, 'fc1'],
        ['MLP (SGD, MNIST)', 0.1, 'fc2'],
        ['MLP (SGD, MNIST)', 1, 'fc1'],
        ['MLP (SGD, MNIST)', 1, 'fc2'],
        ['Conv-2 (Adam, CIFAR-10)', 0.1, 'conv1'],
      ],
    );
    assert.equal(rows[1]['selectivity mean'], null);
    const v = activationVerdicts(regimes);
    assert.equal(v[0], 'MLP (SGD, MNIST): Hoyer sparsity increasing with width, class selectivity decreasing with width.');
    assert.equal(v[1], 'Conv-2 (Adam, CIFAR-10): one width only, so no trend with width.');
    assert.equal(v[2], '0.1x: Hoyer sparsity from highest to lowest: Conv-2 (Adam, CIFAR-10) 0.900 > MLP (SGD, MNIST) 0.250.');
  });
});
