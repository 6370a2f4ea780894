import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expandProfile, expandProfileRuns, loadProfile, PROFILES, profileAnalysis, profileFromSpec, validateProfile } from '../../lib/experiments/profiles';

function count(name: string, f = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of expandProfileRuns(name, f)) out[r.group] = (out[r.group] ?? 0) + 1;
  return out;
}

describe('experiments/profiles', () => {
  it("cpu: the paper's full MLP protocol (5 widths x 10 init seeds x 5 data seeds x 2 inits) plus the CIFAR regimes on the full split with early stopping", () => {
    assert.deepEqual(count('cpu'), { mlp: 500, 'conv2-adam': 12, 'conv2-adagrad': 12, resnet: 12 });
    assert.deepEqual(
      expandProfileRuns('cpu')
        .slice(0, 500)
        .map((r) => r.group),
      Array(500).fill('mlp'),
      'the MLP part runs first',
    );
    const mlp = expandProfile('cpu', { arch: 'mlp' });
    assert.deepEqual([...new Set(mlp.map((d) => d.width))], [0.1, 0.5, 1, 2, 5]);
    assert.deepEqual([...new Set(mlp.map((d) => d.initSeed))], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual([...new Set(mlp.map((d) => d.dataSeed))], [0, 1, 2, 3, 4]);
    assert.ok(mlp.every((d) => d.trainSubset === undefined && d.validationSize === 5000 && d.stop.kind === 'targetTrainLoss'));
    // Baselines exactly on init seeds 0-4 x data seeds 0-1 (100 runs); layer-wise only elsewhere.
    const withBaselines = mlp.filter((d) => d.pruning.strategies.length === 3);
    assert.equal(withBaselines.length, 100);
    assert.ok(withBaselines.every((d) => d.initSeed < 5 && d.dataSeed < 2));
    assert.ok(mlp.filter((d) => d.initSeed >= 5 || d.dataSeed >= 2).every((d) => d.pruning.strategies.join() === 'layerwiseMagnitude'));
    // The same runs as the paper profile's MLP part: one sweep serves both.
    assert.deepEqual(
      expandProfileRuns('cpu', { arch: 'mlp' }).map((r) => r.hash),
      expandProfileRuns('paper', { arch: 'mlp' }).map((r) => r.hash),
    );
    const adagrad = expandProfileRuns('cpu', { groups: ['conv2-adagrad'] }).map((r) => r.descriptor);
    assert.ok(adagrad.every((d) => d.optimizer === 'adagrad' && d.learningRate === 0.01));
    // CIFAR: 45,000 / 5,000 images of data seed 0, widths 0.1 / 0.5 / 1, n = 4 per width (2 inits x 2 init seeds),
    // the paper's caps with patience (the paper profile's CIFAR runs keep every epoch: no patience field).
    const cifar = expandProfile('cpu', { arch: ['conv2', 'resnet'] });
    assert.ok(cifar.every((d) => d.trainSubset === undefined && d.validationSize === 5000 && d.dataSeed === 0));
    for (const w of [0.1, 0.5, 1]) assert.equal(cifar.filter((d) => d.width === w).length, 12, `width ${w}`);
    const caps = new Map(cifar.map((d) => [`${d.architecture}/${d.optimizer}`, d.stop]));
    assert.deepEqual(caps.get('conv2/adam'), { kind: 'bestValidationLoss', epochs: 100, patience: 3 });
    assert.deepEqual(caps.get('conv2/adagrad'), { kind: 'bestValidationLoss', epochs: 25, patience: 3 });
    assert.deepEqual(caps.get('resnet/sgd'), { kind: 'bestValidationLoss', epochs: 90, patience: 5 });
    assert.ok(expandProfile('paper', { arch: ['conv2', 'resnet'] }).every((d) => d.stop.kind === 'bestValidationLoss' && !('patience' in d.stop)));
  });

  it('paper: the full protocol (10 init x 5 data seeds x 2 inits per width; conv up to 2x) with no subsets', () => {
    assert.deepEqual(count('paper'), { mlp: 500, 'conv2-adam': 400, 'conv2-adagrad': 400, resnet: 400 });
    const all = expandProfile('paper');
    assert.ok(all.every((d) => d.trainSubset === undefined && d.validationSize === 5000 && d.pruning.levels === 50));
    assert.deepEqual(expandProfile('paper', { arch: 'resnet' })[0].stop, { kind: 'bestValidationLoss', epochs: 90 });
  });

  it('smoke: a handful of tiny runs covering every regime', () => {
    const runs = expandProfile('smoke');
    assert.ok(runs.length <= 8);
    assert.deepEqual(new Set(runs.map((d) => `${d.architecture}/${d.optimizer}`)), new Set(['mlp/sgd', 'conv2/adam', 'conv2/adagrad', 'resnet/sgd']));
    assert.ok(runs.every((d) => d.trainSubset !== undefined && d.trainSubset <= 2000 && d.validationSize <= 500));
  });

  it('every profile states its budget and how it departs from the paper', () => {
    for (const p of Object.values(PROFILES)) {
      assert.ok(p.budget.length > 10, p.name);
      assert.ok(p.departures.length > 0, p.name);
      assert.deepEqual(profileAnalysis(p), { metric: 'accuracy', threshold: 5, mode: 'points', overlapQuantile: 0.4 });
      assert.doesNotThrow(() => validateProfile(p));
    }
  });

  it('filters by architecture and width, in a stable order without duplicates', () => {
    const a = expandProfileRuns('cpu', { arch: ['mlp'], widths: [0.1, 1] });
    assert.equal(a.length, 200);
    assert.ok(a.every((r) => r.descriptor.architecture === 'mlp' && [0.1, 1].includes(r.descriptor.width)));
    assert.deepEqual(
      a.map((r) => r.hash),
      expandProfileRuns('cpu', { arch: ['mlp'], widths: [0.1, 1] }).map((r) => r.hash),
    );
    assert.equal(new Set(expandProfileRuns('paper').map((r) => r.hash)).size, 1700);
    assert.throws(() => expandProfileRuns('cpu', { arch: ['mlpp' as 'mlp'] }), /--arch: got 'mlpp'/);
  });

  it('loads a profile from a JSON file, with errors that name the file and the field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'density-profile-'));
    const file = path.join(dir, 'p.json');
    const good = {
      name: 'mine',
      description: '',
      budget: 'tiny',
      departures: ['tiny'],
      analysis: { threshold: 2 },
      groups: [{ label: 'm', base: { architecture: 'mlp', trainSubset: 100 }, widths: [0.1], inits: ['he'], initSeeds: 2, dataSeeds: [3] }],
    };
    fs.writeFileSync(file, JSON.stringify(good));
    const p = loadProfile(file);
    assert.deepEqual(
      expandProfile(p).map((d) => [d.initSeed, d.dataSeed, d.init]),
      [
        [0, 3, 'he'],
        [1, 3, 'he'],
      ],
    );
    assert.equal(profileAnalysis(p).threshold, 2);
    process.env.DENSITY_PROFILE = file;
    try {
      assert.equal(profileFromSpec(undefined).name, 'mine');
    } finally {
      delete process.env.DENSITY_PROFILE;
    }
    assert.throws(() => profileFromSpec(undefined), /no profile: give --profile/);

    fs.writeFileSync(file, JSON.stringify({ ...good, groups: [{ ...good.groups[0], base: { architecture: 'mlp', width: 1 } }] }));
    assert.throws(() => loadProfile(file), /p\.json.*group 'm'/);
    fs.writeFileSync(file, JSON.stringify({ ...good, groups: [{ ...good.groups[0], widths: [-1] }] }));
    assert.throws(() => loadProfile(file), /descriptor\.width: got -1/);
    fs.writeFileSync(file, JSON.stringify({ ...good, analysis: { threshold: 500 } }));
    assert.throws(() => loadProfile(file), /analysis\.threshold: got 500/);
    // Overrides: extra fields for a block of the group's seeds; errors name the override and the field.
    fs.writeFileSync(
      file,
      JSON.stringify({ ...good, groups: [{ ...good.groups[0], overrides: [{ initSeeds: [1], dataSeeds: [3], base: { learningRate: 0.05 } }] }] }),
    );
    assert.deepEqual(
      expandProfile(loadProfile(file)).map((d) => [d.initSeed, d.learningRate]),
      [
        [0, 0.1],
        [1, 0.05],
      ],
    );
    fs.writeFileSync(file, JSON.stringify({ ...good, groups: [{ ...good.groups[0], overrides: [{ initSeeds: [5], dataSeeds: [3], base: {} }] }] }));
    assert.throws(() => loadProfile(file), /overrides\[0\]: got 'init seed 5'.*seeds of the group/);
    fs.writeFileSync(file, JSON.stringify({ ...good, groups: [{ ...good.groups[0], overrides: [{ initSeeds: [0], dataSeeds: [3], base: { width: 2 } }] }] }));
    assert.throws(() => loadProfile(file), /overrides\[0\]\.base\.width/);
    fs.writeFileSync(file, JSON.stringify({ ...good, groups: [{ ...good.groups[0], overrides: [{ initSeeds: [0], dataSeeds: [3], base: {}, seeds: 1 }] }] }));
    assert.throws(() => loadProfile(file), /overrides\[0\]\.seeds.*known fields: initSeeds, dataSeeds, base/);
    fs.writeFileSync(
      file,
      JSON.stringify({ ...good, groups: [{ ...good.groups[0], overrides: [{ initSeeds: [0], dataSeeds: [3], base: { learningRate: -1 } }] }] }),
    );
    assert.throws(() => loadProfile(file), /learningRate: got -1/);
    fs.writeFileSync(file, '{ not json');
    assert.throws(() => loadProfile(file), /not valid JSON/);
    assert.throws(() => loadProfile('nope'), /unknown profile 'nope'/);
  });
});
