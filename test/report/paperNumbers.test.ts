import { strict as assert } from 'assert';
import { weightCounts } from '../../lib/models';
import {
  chanceOverlap, PAPER_TABLE2, PAPER_TABLE3, PAPER_TABLE4, paperOverlapTable, paperRegimeOf, paperTable2Row, type PaperRegime,
} from '../../lib/report/paperNumbers';

describe('report/paperNumbers', () => {
  it('Table 2: the 1x rows are their own null hypothesis, narrow rows cap at 100, widths match the paper (no 5x Conv-2/ResNet)', () => {
    for (const [regime, rows] of Object.entries(PAPER_TABLE2)) {
      const one = rows.find((r) => r.width === 1);
      assert.ok(one, regime);
      assert.deepEqual(one.observed, one.nullHypothesis, `${regime} 1x`);
      assert.deepEqual(rows.find((r) => r.width === 0.1)?.nullHypothesis, { mean: 100, sd: 0 });
      for (const r of rows) assert.ok(r.observed.sd !== null, `${regime} ${r.width}: every observed sd survived extraction`);
      assert.deepEqual(rows.map((r) => r.width), regime === 'mlp-sgd' ? [0.1, 0.5, 1, 2, 5] : [0.1, 0.5, 1, 2]);
    }
    // The null-hypothesis means fall with width, as a fixed core over a growing model must.
    for (const rows of Object.values(PAPER_TABLE2)) {
      const nulls = rows.map((r) => r.nullHypothesis.mean as number);
      for (let i = 1; i < nulls.length; i++) assert.ok(nulls[i] <= nulls[i - 1]);
    }
    assert.deepEqual(PAPER_TABLE2['mlp-sgd'].map((r) => r.observed.mean), [null, 50.7, 43.3, null, 32.2]);
  });

  it('Tables 3 and 4 name our architectures\' prunable layers, so ours and the paper\'s line up', () => {
    assert.deepEqual([...PAPER_TABLE3.layers], Object.keys(weightCounts('mlp', 1).perLayer));
    assert.deepEqual([...PAPER_TABLE4.layers], Object.keys(weightCounts('conv2', 1).perLayer));
    for (const t of [PAPER_TABLE3, PAPER_TABLE4]) for (const r of t.rows) assert.equal(r.overlap.length, t.layers.length);
  });

  it('lookups: regime keys, rows by width, overlap tables; chance overlap', () => {
    assert.equal(paperRegimeOf('conv2', 'adagrad'), 'conv2-adagrad');
    assert.equal(paperRegimeOf('mlp', 'adam'), null);
    assert.equal(paperTable2Row('resnet-sgd', 2)?.nullHypothesis.mean, 26.4);
    assert.equal(paperTable2Row('conv2-adam', 5), null);
    assert.equal(paperTable2Row(null, 1), null);
    assert.equal(paperOverlapTable('mlp-sgd'), PAPER_TABLE3);
    assert.equal(paperOverlapTable('conv2-adam'), PAPER_TABLE4);
    assert.equal(paperOverlapTable('conv2-adagrad' as PaperRegime), null);
    assert.ok(Math.abs(chanceOverlap(0.4) - 16) < 1e-12);
  });
});
