import { strict as assert } from 'assert';
import * as data from '../lib/data';
import * as models from '../lib/models';
import { weightCounts } from '../lib/models';
import * as prune from '../lib/prune';
import * as train from '../lib/train';
import {
  ARCH_DATASET,
  ARCH_NAMES,
  DATASET_NAMES,
  DEFAULT_BATCH_SIZE,
  DEFAULT_PRUNING,
  DEFAULT_VALIDATION_SIZE,
  INIT_NAMES,
  OPTIMIZER_NAMES,
  PAPER_DATA,
  PAPER_REGIMES,
  STRATEGY_NAMES,
  TRAIN_SIZE,
  chanceOverlap,
  defaultLearningRate,
  defaultOptimizer,
  defaultStop,
  PAPER_TABLE2,
  PAPER_TABLE3,
  PAPER_TABLE4,
  paperOverlapTable,
  paperRegimeOf,
  paperTable2Row,
  type PaperRegime,
} from '../lib/protocol';

describe('protocol: names and regimes', () => {
  it("name lists are the registries' own", () => {
    assert.deepEqual([...ARCH_NAMES].sort(), Object.keys(models.architectures).sort());
    assert.deepEqual([...DATASET_NAMES].sort(), Object.keys(data.datasets).sort());
    assert.deepEqual([...INIT_NAMES].sort(), Object.keys(models.initializers).sort());
    assert.deepEqual([...OPTIMIZER_NAMES].sort(), Object.keys(train.optimizers).sort());
    assert.deepEqual([...STRATEGY_NAMES].sort(), Object.keys(prune.strategies).sort());
    for (const a of ARCH_NAMES) assert.equal(ARCH_DATASET[a], models.architectures[a].dataset);
    assert.deepEqual(TRAIN_SIZE, { mnist: 60000, cifar10: 50000 });
    assert.deepEqual(PAPER_DATA.cifar10, { train: 50000, validation: 5000, test: 10000 });
  });

  it('the four regimes: learning rates, batch size, stop rules (PROTOCOL.md)', () => {
    assert.equal(defaultLearningRate('mlp', 'sgd'), 0.1);
    assert.equal(defaultLearningRate('conv2', 'adam'), 2e-4);
    assert.equal(defaultLearningRate('conv2', 'adagrad'), 1e-2);
    assert.equal(defaultLearningRate('resnet', 'sgd'), 0.1);
    assert.equal(defaultLearningRate('mlp', 'adam'), undefined);
    assert.equal(DEFAULT_BATCH_SIZE, 128);
    assert.equal(DEFAULT_VALIDATION_SIZE, 5000);
    assert.deepEqual(defaultStop('mlp', 'sgd'), { kind: 'targetTrainLoss', target: 0.2, window: 100, checkEvery: 100, maxEpochs: 50 });
    assert.deepEqual(defaultStop('conv2', 'adam'), { kind: 'bestValidationLoss', epochs: 100 });
    assert.deepEqual(defaultStop('conv2', 'adagrad'), { kind: 'bestValidationLoss', epochs: 25 });
    assert.deepEqual(defaultStop('resnet', 'sgd'), { kind: 'bestValidationLoss', epochs: 90 });
    // Pairs that are not regimes take their architecture's default regime's rule (the descriptors' frozen rule).
    assert.deepEqual(defaultStop('conv2', 'sgd'), { kind: 'bestValidationLoss', epochs: 100 });
    assert.deepEqual(defaultStop('mlp', 'adam'), defaultStop('mlp', 'sgd'));
    assert.deepEqual(defaultStop('resnet', 'adam'), { kind: 'bestValidationLoss', epochs: 90 });
    for (const a of ARCH_NAMES) assert.ok(paperRegimeOf(a, defaultOptimizer(a)), a);
    for (const [key, r] of Object.entries(PAPER_REGIMES)) assert.equal(paperRegimeOf(r.architecture, r.optimizer), key);
    // A copy: the caller may change it without changing the protocol.
    (defaultStop('resnet', 'sgd') as { epochs: number }).epochs = 1;
    assert.deepEqual(defaultStop('resnet', 'sgd'), { kind: 'bestValidationLoss', epochs: 90 });
    assert.deepEqual(DEFAULT_PRUNING, { levels: 50, step: 0.02, strategies: ['layerwiseMagnitude'], seed: 0 });
  });
});

describe("protocol: the paper's numbers", () => {
  it('Table 2: the 1x rows are their own null hypothesis, narrow rows cap at 100, widths match the paper (no 5x Conv-2/ResNet)', () => {
    for (const [regime, rows] of Object.entries(PAPER_TABLE2)) {
      const one = rows.find((r) => r.width === 1);
      assert.ok(one, regime);
      assert.deepEqual(one.observed, one.nullHypothesis, `${regime} 1x`);
      assert.deepEqual(rows.find((r) => r.width === 0.1)?.nullHypothesis, { mean: 100, sd: 0 });
      for (const r of rows) assert.ok(r.observed.sd !== null, `${regime} ${r.width}: every observed sd survived extraction`);
      assert.deepEqual(
        rows.map((r) => r.width),
        regime === 'mlp-sgd' ? [0.1, 0.5, 1, 2, 5] : [0.1, 0.5, 1, 2],
      );
    }
    // The null-hypothesis means fall with width, as a fixed core over a growing model must.
    for (const rows of Object.values(PAPER_TABLE2)) {
      const nulls = rows.map((r) => r.nullHypothesis.mean as number);
      for (let i = 1; i < nulls.length; i++) assert.ok(nulls[i] <= nulls[i - 1]);
    }
    assert.deepEqual(
      PAPER_TABLE2['mlp-sgd'].map((r) => r.observed.mean),
      [null, 50.7, 43.3, null, 32.2],
    );
  });

  it("Tables 3 and 4 name our architectures' prunable layers, so ours and the paper's line up", () => {
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
