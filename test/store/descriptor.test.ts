import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import {
  canonicalJson,
  DescriptorError,
  descriptorHash,
  resolveAnalysisSettings,
  resolveDescriptor,
  shortLabel,
  validateAnalysisSettings,
  validateDescriptor,
} from '../../lib/store/descriptor';

const base = { architecture: 'mlp', width: 1, init: 'glorot', initSeed: 3, dataSeed: 1 } as const;

/** The same object with its keys (and nested keys) in reverse order. */
function reversed(o: unknown): unknown {
  if (Array.isArray(o)) return o.map(reversed);
  if (o && typeof o === 'object')
    return Object.fromEntries(
      Object.entries(o)
        .reverse()
        .map(([k, v]) => [k, reversed(v)]),
    );
  return o;
}

function throwsField(fn: () => unknown, field: string, ...mentions: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DescriptorError, `expected a DescriptorError, got ${String(err)}`);
    assert.equal(err.field, field);
    for (const m of mentions) assert.ok(err.message.includes(m), `message '${err.message}' should mention '${m}'`);
    return true;
  });
}

describe('store/descriptor', () => {
  describe('hash', () => {
    it('is stable under key order, top-level and nested', () => {
      const d = {
        ...base,
        trainSubset: 1000,
        stop: { kind: 'targetTrainLoss', target: 0.3, window: 10, checkEvery: 10, maxEpochs: 2 },
        pruning: { levels: 10, step: 0.1 },
      };
      assert.equal(descriptorHash(reversed(d)), descriptorHash(d));
      assert.equal(canonicalJson(reversed(d)), canonicalJson(d));
    });

    it('treats an explicit default exactly like an omitted field', () => {
      const h = descriptorHash(base);
      const explicit = {
        ...base,
        dataset: 'mnist',
        validationSize: 5000,
        optimizer: 'sgd',
        learningRate: 0.1,
        batchSize: 128,
        stop: { kind: 'targetTrainLoss', target: 0.2, window: 100, checkEvery: 100, maxEpochs: 50 },
        pruning: { levels: 50, step: 0.02, strategies: ['layerwiseMagnitude'], seed: 0 },
      };
      assert.equal(descriptorHash(explicit), h);
      assert.equal(descriptorHash({ ...base, stop: { maxEpochs: 50 } }), h, 'a partial stop rule of the default kind');
      assert.equal(descriptorHash({ ...base, pruning: {} }), h);
      assert.equal(canonicalJson(explicit), canonicalJson(base));
      // Conv-2's defaults depend on the optimizer.
      const c = { architecture: 'conv2', width: 1, init: 'he', initSeed: 0, dataSeed: 0 };
      assert.equal(descriptorHash({ ...c, optimizer: 'adam', learningRate: 2e-4, stop: { kind: 'bestValidationLoss', epochs: 100 } }), descriptorHash(c));
      assert.equal(descriptorHash({ ...c, optimizer: 'adagrad', learningRate: 0.01, stop: { epochs: 25 } }), descriptorHash({ ...c, optimizer: 'adagrad' }));
    });

    it('pins the hash of a known descriptor (a change here renames every run on disk)', () => {
      assert.equal(canonicalJson(base), '{"architecture":"mlp","dataSeed":1,"init":"glorot","initSeed":3,"width":1}');
      assert.equal(descriptorHash(base), crypto.createHash('sha256').update(canonicalJson(base)).digest('hex').slice(0, 16));
      assert.match(descriptorHash(base), /^[0-9a-f]{16}$/);
    });

    it('normalises numbers (float noise, 1e-2 vs 0.01) and strategy order', () => {
      assert.equal(descriptorHash({ ...base, width: 0.1 + 0.2 }), descriptorHash({ ...base, width: 0.3 }));
      assert.equal(descriptorHash({ ...base, learningRate: 1e-2 }), descriptorHash({ ...base, learningRate: 0.01 }));
      assert.equal(
        descriptorHash({ ...base, pruning: { strategies: ['random', 'layerwiseMagnitude', 'random'] } }),
        descriptorHash({ ...base, pruning: { strategies: ['layerwiseMagnitude', 'random'] } }),
      );
    });

    it('differs when anything that changes training or pruning differs', () => {
      const hashes = new Set(
        [
          base,
          { ...base, width: 2 },
          { ...base, initSeed: 4 },
          { ...base, dataSeed: 2 },
          { ...base, init: 'he' },
          { ...base, trainSubset: 1000 },
          { ...base, validationSize: 1000 },
          { ...base, learningRate: 0.05 },
          { ...base, batchSize: 64 },
          { ...base, stop: { maxEpochs: 3 } },
          { ...base, pruning: { strategies: ['layerwiseMagnitude', 'random'] } },
          { ...base, pruning: { levels: 10, step: 0.1 } },
        ].map(descriptorHash),
      );
      assert.equal(hashes.size, 12);
    });
  });

  describe('validation', () => {
    it('names the field, the value and what was expected', () => {
      throwsField(() => validateDescriptor({ ...base, architecture: 'mlpp' }), 'descriptor.architecture', "'mlpp'", 'mlp, conv2, resnet', "did you mean 'mlp'");
      throwsField(() => validateDescriptor({ ...base, width: 0 }), 'descriptor.width', 'got 0', '> 0');
      throwsField(() => validateDescriptor({ ...base, width: -1 }), 'descriptor.width', '-1');
      throwsField(() => validateDescriptor({ ...base, width: Infinity }), 'descriptor.width', 'finite');
      throwsField(() => validateDescriptor({ ...base, width: NaN }), 'descriptor.width');
      throwsField(() => validateDescriptor({ ...base, initSeed: 1.5 }), 'descriptor.initSeed', '1.5', 'non-negative integer');
      throwsField(() => validateDescriptor({ ...base, dataSeed: -1 }), 'descriptor.dataSeed', '-1');
      throwsField(() => validateDescriptor({ ...base, batchSize: 0 }), 'descriptor.batchSize', 'integer');
      throwsField(() => validateDescriptor({ ...base, learningRate: 0 }), 'descriptor.learningRate', '> 0');
      throwsField(() => validateDescriptor({ ...base, optimizer: 'rmsprop' }), 'descriptor.optimizer', 'sgd, adam, adagrad');
      throwsField(() => validateDescriptor({ ...base, init: 'xavier' }), 'descriptor.init', 'glorot, he');
      throwsField(() => validateDescriptor({ ...base, dataset: 'cifar10' }), 'descriptor.dataset', "'mnist'");
      throwsField(() => validateDescriptor({ ...base, dataset: 'imagenet' }), 'descriptor.dataset', 'mnist, cifar10');
      throwsField(() => validateDescriptor({ ...base, pruning: { strategies: ['magnitude'] } }), 'descriptor.pruning.strategies[0]', 'layerwiseMagnitude');
      throwsField(() => validateDescriptor({ ...base, pruning: { strategies: ['random'] } }), 'descriptor.pruning.strategies', "includes 'layerwiseMagnitude'");
      throwsField(() => validateDescriptor({ ...base, pruning: { levels: 60 } }), 'descriptor.pruning.step', 'levels x step <= 1');
      throwsField(() => validateDescriptor({ ...base, trainSubset: 60000 }), 'descriptor.trainSubset', '55000');
    });

    it('rejects unknown keys (typos) at every level, with a suggestion', () => {
      const { width: _w, ...noWidth } = base;
      throwsField(() => validateDescriptor({ ...noWidth, widht: 1 }), 'descriptor.widht', "did you mean 'width'");
      throwsField(() => validateDescriptor({ ...base, stop: { maxEpoch: 3 } }), 'descriptor.stop.maxEpoch', "'maxEpochs'");
      throwsField(() => validateDescriptor({ ...base, pruning: { level: 3 } }), 'descriptor.pruning.level', "'levels'");
      throwsField(() => validateDescriptor({ ...base, threshold: 5 }), 'descriptor.threshold', 'no such field');
    });

    it('requires the identifying fields, and a learning rate outside the paper regimes', () => {
      const { initSeed: _s, ...noSeed } = base;
      throwsField(() => validateDescriptor(noSeed), 'descriptor.initSeed', 'required');
      throwsField(() => validateDescriptor({ ...base, optimizer: 'adam' }), 'descriptor.learningRate', 'no default');
      assert.doesNotThrow(() => validateDescriptor({ ...base, optimizer: 'adam', learningRate: 1e-3 }));
    });

    it('checks analysis settings: threshold range, metric, unknown keys', () => {
      assert.deepEqual(resolveAnalysisSettings({}), { metric: 'accuracy', threshold: 5, mode: 'points', overlapQuantile: 0.4 });
      for (const bad of [0, -1, 101, NaN, Infinity, '5']) throwsField(() => validateAnalysisSettings({ threshold: bad }), 'analysis.threshold', '(0, 100]');
      assert.doesNotThrow(() => validateAnalysisSettings({ threshold: 100 }));
      throwsField(() => validateAnalysisSettings({ metric: 'f1' }), 'analysis.metric', 'accuracy, loss');
      throwsField(() => validateAnalysisSettings({ treshold: 2 }), 'analysis.treshold', "did you mean 'threshold'");
      throwsField(() => validateAnalysisSettings({ overlapQuantile: 1 }), 'analysis.overlapQuantile');
    });
  });

  it('resolves defaults per architecture (PROTOCOL.md)', () => {
    const m = resolveDescriptor(base);
    assert.deepEqual([m.dataset, m.optimizer, m.learningRate, m.batchSize, m.validationSize, m.trainSubset], ['mnist', 'sgd', 0.1, 128, 5000, undefined]);
    assert.deepEqual(m.stop, { kind: 'targetTrainLoss', target: 0.2, window: 100, checkEvery: 100, maxEpochs: 50 });
    assert.deepEqual(m.pruning, { levels: 50, step: 0.02, strategies: ['layerwiseMagnitude'], seed: 0 });
    const c = resolveDescriptor({ ...base, architecture: 'conv2', optimizer: 'adagrad' });
    assert.deepEqual([c.dataset, c.learningRate, c.stop], ['cifar10', 0.01, { kind: 'bestValidationLoss', epochs: 25 }]);
    const r = resolveDescriptor({ ...base, architecture: 'resnet' });
    assert.deepEqual([r.optimizer, r.learningRate, r.stop], ['sgd', 0.1, { kind: 'bestValidationLoss', epochs: 90 }]);
    assert.equal(shortLabel(base), 'mlp 1x glorot i3 d1');
  });
});
