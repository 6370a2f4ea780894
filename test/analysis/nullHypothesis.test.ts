import { strict as assert } from 'assert';
import { coreSize, nullHypothesisDensity, pairWithBaseline, NullHypothesisRow } from '../../lib/analysis/nullHypothesis';

// MLP weight counts (weights only, PROTOCOL.md Table 1): 0.1x 23,920; 0.5x 125,600; 1x 266,200; 2x 592,400; 5x 1,931,000.
const TOTAL: Record<number, number> = { 0.1: 23920, 0.5: 125600, 1: 266200, 2: 592400, 5: 1931000 };

describe('analysis/nullHypothesis', () => {
  it('coreSize is density% of the total weights', () => {
    assert.equal(coreSize(50, 266200), 133100);
    assert.equal(coreSize(100, 23920), 23920);
    assert.equal(coreSize(0, 23920), 0);
    // 43.3% of 266,200 = 115,264.6 (not rounded)
    assert.ok(Math.abs(coreSize(43.3, 266200) - 115264.6) < 1e-6);
    assert.throws(() => coreSize(101, 10), /effectiveDensityPercent = 101/);
    assert.throws(() => coreSize(50, 0), /totalWeights = 0/);
  });

  it('nullHypothesisDensity divides the 1x core by the other size, capped at 100', () => {
    const core = coreSize(43.3, TOTAL[1]); // 115,264.6 weights
    // 2x: 115,264.6 / 592,400 = 19.457...%  (paper's null mean for 2x MLP: 19.5)
    assert.ok(Math.abs(nullHypothesisDensity(core, TOTAL[2]) - (100 * 115264.6) / 592400) < 1e-9);
    assert.ok(Math.abs(nullHypothesisDensity(core, TOTAL[5]) - 5.9691) < 1e-4);
    // 0.5x: 115,264.6 / 125,600 = 91.77% (< 100, not capped); 0.1x: 481.9% -> capped at 100
    assert.ok(Math.abs(nullHypothesisDensity(core, TOTAL[0.5]) - 91.7712) < 1e-4);
    assert.equal(nullHypothesisDensity(core, TOTAL[0.1]), 100);
    assert.equal(nullHypothesisDensity(TOTAL[1], TOTAL[1]), 100);
    assert.equal(nullHypothesisDensity(core, TOTAL[1]), 43.3);
    assert.throws(() => nullHypothesisDensity(-1, 10), /coreSizeOf1x = -1/);
    assert.throws(() => nullHypothesisDensity(1, NaN), /totalWeights = NaN/);
  });

  it('pairWithBaseline matches on regime, init scheme, init seed and data seed', () => {
    interface Row extends NullHypothesisRow {
      id: string;
    }
    const row = (id: string, regime: string, width: number, init: string, initSeed: number, dataSeed: number, ed: number): Row => ({
      id,
      regime,
      width,
      init,
      initSeed,
      dataSeed,
      effectiveDensity: ed,
      totalWeights: TOTAL[width],
    });
    const rows: Row[] = [
      row('a', 'mlp', 2, 'glorot', 1, 0, 30),
      row('b', 'mlp', 1, 'glorot', 1, 0, 50), // core 133,100
      row('c', 'mlp', 1, 'he', 1, 0, 40), // core 106,480
      row('d', 'mlp', 2, 'he', 1, 0, 28),
      row('e', 'mlp', 0.1, 'glorot', 1, 0, 70), // 133,100 / 23,920 > 1 -> 100
      row('f', 'mlp', 2, 'glorot', 2, 0, 30), // no 1x with init seed 2
      row('g', 'mlp', 2, 'glorot', 1, 1, 30), // no 1x with data seed 1
      row('h', 'conv', 2, 'glorot', 1, 0, 30), // other regime
    ];
    const { paired, unmatched } = pairWithBaseline(rows);
    assert.deepEqual(
      paired.map((p) => p.row.id),
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      'input order kept',
    );
    const byId = Object.fromEntries(paired.map((p) => [p.row.id, p]));
    assert.equal(byId.a.baselineCoreSize, 133100);
    assert.ok(Math.abs((byId.a.nullDensity as number) - (100 * 133100) / 592400) < 1e-9);
    assert.equal(byId.b.nullDensity, 50, 'a 1x row is its own baseline');
    assert.ok(Math.abs((byId.d.nullDensity as number) - (100 * 106480) / 592400) < 1e-9, 'He 2x pairs with He 1x');
    assert.equal(byId.e.nullDensity, 100);
    for (const id of ['f', 'g', 'h']) {
      assert.equal(byId[id].nullDensity, null);
      assert.equal(byId[id].baselineCoreSize, null);
    }
    assert.deepEqual(
      unmatched.map((r) => r.id),
      ['f', 'g', 'h'],
    );
  });

  it('pairWithBaseline takes the regime from opts.regimeOf, and skips baselines without an effective density', () => {
    // results-table rows carry arch/optimizer/dataset rather than a regime field
    type Row = Omit<NullHypothesisRow, 'regime'> & { arch: string; optimizer: string };
    const base = { init: 'he', initSeed: 0, dataSeed: 0 };
    const rows: Row[] = [
      { ...base, arch: 'conv2', optimizer: 'adam', width: 1, effectiveDensity: 50, totalWeights: 1000 },
      { ...base, arch: 'conv2', optimizer: 'adagrad', width: 1, effectiveDensity: 20, totalWeights: 1000 },
      { ...base, arch: 'conv2', optimizer: 'adam', width: 2, effectiveDensity: 30, totalWeights: 4000 },
      { ...base, arch: 'conv2', optimizer: 'adagrad', width: 2, effectiveDensity: 30, totalWeights: 4000 },
      { ...base, arch: 'mlp', optimizer: 'sgd', width: 1, effectiveDensity: null, totalWeights: 1000 }, // diverged
      { ...base, arch: 'mlp', optimizer: 'sgd', width: 2, effectiveDensity: 40, totalWeights: 4000 },
    ];
    const r = pairWithBaseline(rows, { regimeOf: (x) => `${x.arch}/${x.optimizer}` });
    assert.deepEqual(
      r.paired.map((p) => p.nullDensity),
      [50, 20, 12.5, 5, null, null],
    ); // 500/4000, 200/4000
    assert.deepEqual(r.unmatched, [rows[4], rows[5]]);
    assert.throws(() => pairWithBaseline(rows), /row\.regime = undefined .*opts\.regimeOf/);
  });

  it('pairWithBaseline rejects ambiguous baselines', () => {
    const r: NullHypothesisRow = { regime: 'mlp', width: 1, init: 'he', initSeed: 0, dataSeed: 0, effectiveDensity: 40, totalWeights: 100 };
    assert.throws(() => pairWithBaseline([r, { ...r, effectiveDensity: 41 }]), /occurs twice/);
    assert.deepEqual(pairWithBaseline([]), { paired: [], unmatched: [] });
  });
});
