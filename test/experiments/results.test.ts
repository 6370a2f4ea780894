import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { validateProfile, type Profile } from '../../lib/experiments/profiles';
import { loadResults, RESULT_COLUMNS, runStatus, toCsv, toDataFrame } from '../../lib/experiments/results';
import { descriptorHash, resolveAnalysisSettings } from '../../lib/store/descriptor';
import { runDir } from '../../lib/paths';
import { readEvents } from '../../lib/store/runRecord';

const profile: Profile = validateProfile({
  name: 'results-test',
  description: '',
  budget: 'seconds',
  departures: ['tiny'],
  analysis: {},
  groups: [
    {
      label: 'mlp',
      widths: [0.1, 0.5],
      inits: ['he'],
      initSeeds: [7],
      dataSeeds: [0],
      base: {
        architecture: 'mlp',
        trainSubset: 1000,
        validationSize: 500,
        stop: { window: 10, checkEvery: 10, maxEpochs: 1 },
        pruning: { levels: 10, step: 0.1 },
      },
    },
  ],
});

describe('experiments/results', function () {
  this.timeout(120_000);

  it('lists missing runs without training, computes them only when asked, then reads a tidy table', async () => {
    const before = await loadResults(profile);
    assert.equal(before.rows.length, 0);
    assert.equal(before.missing.length, 2);
    assert.ok(
      before.missing.every((d) => !fs.existsSync(runDir(descriptorHash(d)))),
      'reading created nothing',
    );

    const computed = await loadResults(profile, { compute: true });
    assert.equal(computed.sweep?.done, 2);
    assert.equal(computed.rows.length, 2);
    assert.equal(computed.missing.length, 0);
    const row = computed.rows[1];
    assert.deepEqual(
      [row.arch, row.dataset, row.width, row.init, row.optimizer, row.initSeed, row.dataSeed, row.trainSubset, row.status],
      ['mlp', 'mnist', 0.5, 'he', 'sgd', 7, 0, 1000, 'complete'],
    );
    assert.equal(row.totalWeights, 784 * 150 + 150 * 50 + 50 * 10);
    assert.equal(row.validationAccuracy, computed.runs[1].trajectory?.[0].accuracy);
    assert.equal(row.effectiveDensity, computed.runs[1].effectiveDensity);
    assert.equal(row.coreSize, ((row.effectiveDensity as number) / 100) * row.totalWeights);
    assert.equal(row.group, 'mlp');
    assert.match(row.commit ?? '', /^[0-9a-f]{40}$/);
    assert.equal(runStatus({ hash: row.hash, group: 'mlp', descriptor: computed.runs[1].descriptor }).state, 'complete');

    // Another threshold is recomputed from the stored trajectory: no stage runs again.
    const strict = await loadResults(profile, { analysis: resolveAnalysisSettings({ threshold: 0.5 }) });
    for (const r of strict.rows) assert.ok((r.effectiveDensity as number) >= (computed.rows.find((x) => x.hash === r.hash)?.effectiveDensity as number));
    for (const r of strict.rows) assert.equal(readEvents(runDir(r.hash)).filter((e) => e.event === 'stage-start').length, 3);

    const csv = toCsv(computed.rows).trim().split('\n');
    assert.equal(csv.length, 3);
    assert.deepEqual(csv[0].split(','), [...RESULT_COLUMNS]);
    assert.equal(csv[1].split(',')[0], computed.rows[0].hash);

    const df = toDataFrame(computed.rows);
    assert.deepEqual(df.shape, [2, RESULT_COLUMNS.length]);
    assert.deepEqual(df.column('width').values, [0.1, 0.5]);
    assert.deepEqual(toDataFrame([]).shape, [0, RESULT_COLUMNS.length]);
  });

  it('reports a run with stage records but no run.json as partial', async () => {
    const { rows, runs } = await loadResults(profile);
    const dir = runDir(rows[0].hash);
    fs.rmSync(path.join(dir, 'analysis.json'));
    const s = runStatus({ hash: rows[0].hash, group: 'mlp', descriptor: runs[0].descriptor });
    assert.equal(s.state, 'partial');
    assert.deepEqual(s.stagesDone, ['train', 'prune']);
    assert.equal((await loadResults(profile)).missing.length, 1);
  });
});
