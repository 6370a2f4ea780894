// Notebook 01's Table 1: both counting rules beside the paper's, the arithmetic, the ResNet question, null ratios.
import { strict as assert } from 'assert';
import { PAPER_TABLE1 } from '../../lib/protocol';
import {
  layerRows,
  nullRatioRows,
  nullRatioVerdicts,
  resnetPaperFit,
  resnetPartialPruningRows,
  resnetQuestionRows,
  table1Arithmetic,
  table1Rows,
} from '../../lib/report/setting';

const rowOf = (rows: ReturnType<typeof table1Rows>, arch: string, w: number) => rows.find((r) => r.architecture === arch && r['size (x)'] === w);

describe('report: Table 1 (01)', () => {
  it("one row per architecture and size; both rules beside the paper's; MLP and Conv-2 match under the paper's rule", () => {
    const rows = table1Rows();
    assert.equal(rows.length, 15);
    for (const w of [0.1, 0.5, 1, 2, 5]) {
      const m = rowOf(rows, 'mlp', w);
      assert.equal(m?.["paper - paper's rule (ours)"], 0, `mlp ${w}`);
      assert.equal(m?.['weights only (ours)'], m?.["paper's Table 1"]);
    }
    assert.deepEqual(
      [0.5, 1, 2].map((w) => rowOf(rows, 'conv2', w)?.["paper - paper's rule (ours)"]),
      [0, 0, 0],
    );
    const c01 = rowOf(rows, 'conv2', 0.1);
    assert.deepEqual([c01?.['hidden widths'], c01?.["paper's rule (ours)"], c01?.["paper - paper's rule (ours)"]], ['6, 25', 536_964, -1]);
    assert.equal(rowOf(rows, 'conv2', 1)?.['weights only (ours)'], 4_300_992);
    assert.equal(rowOf(rows, 'conv2', 5)?.["paper's Table 1"], null);
    assert.equal(rowOf(rows, 'conv2', 5)?.["paper - paper's rule (ours)"], null);
    const r1 = rowOf(rows, 'resnet', 1);
    assert.deepEqual([r1?.['hidden widths'], r1?.['weights only (ours)'], r1?.["paper's Table 1"]], ['16', 14_416, 443_122]);
    assert.equal(rowOf(rows, 'resnet', 0.1)?.['hidden widths'], '1');
  });

  it('the arithmetic in words carries the computed numbers', () => {
    const [weights, rule, width, resnet] = table1Arithmetic();
    assert.match(weights, /= 266,200\)/);
    assert.match(
      rule,
      /\(1,728 \+ 36,864\) x 1,024 positions .* = 39,518,208; dense weights 4,194,304 \+ 65,536 \+ 2,560; plus u = 256 .* = 43,780,864, the paper's 43,780,864/,
    );
    assert.match(rule, /536,964 vs the paper's 536,963/);
    assert.match(width, /truncation/);
    assert.match(resnet, /27,692 f \+ 50 \(exact at 0\.5x, 1x, 2x; off by 20 at 0\.1x\)/);
    assert.match(resnet, /14,416 weights at 1x \(14,598,304 by the paper's rule\)/);
    assert.match(resnet, /442,528, 594 short of the paper's 443,122/);
  });

  it("ResNet: the paper's counts are 27,692 f + 50, exact at 0.5x-2x and 20 off at 0.1x", () => {
    const fit = resnetPaperFit();
    assert.equal(fit.slope, 27_692);
    assert.equal(fit.intercept, 50);
    assert.deepEqual(fit.exactAt, [0.5, 1, 2]);
    assert.deepEqual(
      fit.rows.map((r) => [r.width, r.f, r.residual]),
      [
        [0.1, 1, 20],
        [0.5, 8, 0],
        [1, 16, 0],
        [2, 32, 0],
      ],
    );
    for (const r of fit.rows) assert.equal(r.paper, PAPER_TABLE1.resnet[String(r.width) as '1']);
  });

  it("the ResNet question: conv0 + proj are a small share of our weights but nearly all of the paper's count", () => {
    const rows = resnetQuestionRows();
    const one = rows.find((r) => r['size (x)'] === 1);
    assert.equal(one?.['conv0 + proj weights'], 432 + 160);
    assert.ok(Math.abs((one?.['conv0 + proj share of weights'] as number) - (100 * 592) / 14_416) < 1e-12);
    assert.equal(one?.['conv0 + proj connections'], 432 * 1024 + 160);
    assert.equal(one?.['paper - conv0 + proj connections'], 34 * 16 + 50);
    // The share falls as width grows: the blocks' convs grow with f^2, conv0 and proj with f.
    const shares = rows.map((r) => r['conv0 + proj share of weights'] as number);
    for (let i = 1; i < shares.length; i++) assert.ok(shares[i] < shares[i - 1]);
    assert.equal(rows.find((r) => r['size (x)'] === 5)?.["paper's Table 1"], null);
  });

  it('partial pruning: an effective density of conv0 + proj alone leaves 100 - (100 - ed) x share of all weights', () => {
    const [r] = resnetPartialPruningRows([53.1]).filter((x) => x['size (x)'] === 1);
    const share = 592 / 14_416;
    assert.ok(Math.abs((r['ED 53.1% of conv0 + proj = % of all weights'] as number) - (100 - 46.9 * share)) < 1e-9);
    const [z] = resnetPartialPruningRows([0]).filter((x) => x['size (x)'] === 0.1);
    assert.ok(Math.abs((z['ED 0% of conv0 + proj = % of all weights'] as number) - (100 - (100 * 37) / 91)) < 1e-9);
  });

  it("null-hypothesis ratios under each rule: 1x/2x Conv-2 0.250 by weights vs 0.255 by the paper's; the paper's Table 2 sides with its counts", () => {
    const rows = nullRatioRows();
    const c2 = rows.find((r) => r.regime === 'Conv-2 (Adam, CIFAR-10)' && r['size (x)'] === 2);
    assert.equal((c2?.['by weights (ours; used by our null hypothesis)'] as number).toFixed(3), '0.250');
    assert.equal((c2?.["by the paper's rule (ours)"] as number).toFixed(3), '0.255');
    assert.equal(c2?.["paper's Table 2: null mean / 1x mean"], 11.0 / 43.0);
    assert.equal(rows.find((r) => r['size (x)'] === 0.5)?.["paper's Table 2: null mean / 1x mean"], null); // capped below 1x: not shown
    const v = nullRatioVerdicts();
    assert.equal(v.length, 5); // MLP 2x, 5x; Conv-2 Adam 2x, Adagrad 2x; ResNet 2x
    assert.match(
      v[2],
      /Conv-2 \(Adam, CIFAR-10\) 2x: .*consistent with the paper's rule on our model \(0\.255\), the paper's Table 1 \(0\.255\); not with weights only \(0\.250\)/,
    );
    assert.match(v[4], /ResNet .* closest the paper's Table 1 \(0\.500\)/);
    assert.match(v[0], /MLP .*consistent with weights only \(0\.449\), the paper's rule on our model \(0\.449\), the paper's Table 1 \(0\.449\)\.$/);
  });

  it('layer rows: weights per prunable layer with shares summing to 100', () => {
    const layers = layerRows('mlp', 1);
    assert.deepEqual(
      layers.map((l) => [l.layer, l.weights]),
      [
        ['fc1', 235_200],
        ['fc2', 30_000],
        ['proj', 1_000],
      ],
    );
    assert.ok(Math.abs(layers.reduce((s, l) => s + (l.share as number), 0) - 100) < 1e-9);
  });
});
