// Records that cannot lie: a run counts as done only while run.json is the assembly of sound stage records.
// Synthetic records (no training), written where a sweep would write them.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { resolveAnalysisSettings } from '../../lib/store/descriptor';
import { analysisFile, findNonFinite, inspectRun, RUN_FILE, runFile, sealStageRecord, stageRecordId, type RunRecord } from '../../lib/store/runRecord';
import { fakeRecords, writeRun } from './fixtures';
import { runStatus, runStatusAt } from '../../lib/experiments/results';

function edit<T>(dir: string, file: string, change: (v: T) => void): void {
  const v = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as T;
  change(v);
  fs.writeFileSync(path.join(dir, file), JSON.stringify(v, null, 1));
}

const expanded = (r: ReturnType<typeof fakeRecords>) => ({ hash: r.hash, group: 'mlp', descriptor: r.descriptor });

describe('store/runRecord: records that cannot lie', () => {
  it('a run whose run.json is the assembly of its sound records is done', () => {
    const r = fakeRecords(900);
    const dir = writeRun(r);
    const ins = inspectRun(dir, r.hash);
    assert.deepEqual([ins.train.state, ins.prune.state, ins.analysis.state, ins.run.state], ['done', 'done', 'done', 'done']);
    assert.equal(runStatus(expanded(r)).state, 'complete');
  });

  it('a hand-edited effective density in run.json makes the run partial (status), absent (results) and redone (sweep)', () => {
    const r = fakeRecords(901);
    const dir = writeRun(r);
    edit<RunRecord>(dir, RUN_FILE, (v) => {
      v.effectiveDensity = 94;
    });
    const ins = inspectRun(dir, r.hash);
    assert.equal(ins.run.state, 'invalid');
    assert.match(
      ins.run.state === 'invalid' ? ins.run.problem : '',
      /differs from the assembly of its stage records \(first at \$\.effectiveDensity: 94, the records give 62\)/,
    );
    assert.equal(ins.analysis.state, 'done', 'the stage records are still sound: only run.json is reassembled');
    const s = runStatus(expanded(r));
    assert.equal(s.state, 'partial');
    assert.equal(s.record, undefined, 'results do not read a run.json that lies');
  });

  it('a null (JSON for NaN) in a trajectory makes the prune record unsound, even when run.json was edited to match', () => {
    const r = fakeRecords(902);
    const dir = writeRun(r);
    for (const f of ['prune.json', RUN_FILE])
      edit<{ trajectory: { accuracy: number | null }[] }>(dir, f, (v) => {
        v.trajectory[3].accuracy = null;
      });
    const ins = inspectRun(dir, r.hash);
    assert.equal(ins.train.state, 'done');
    assert.equal(ins.prune.state, 'invalid');
    assert.match(ins.prune.state === 'invalid' ? ins.prune.problem : '', /prune\.json: \$\.trajectory\[3\]\.accuracy is null/);
    assert.equal(ins.analysis.state, 'invalid', 'computed from a prune record that is no longer sound');
    assert.equal(ins.run.state, 'invalid');
    assert.equal(runStatus(expanded(r)).state, 'partial');
  });

  it('an edited stage record no longer matches its content id', () => {
    const r = fakeRecords(903);
    const dir = writeRun(r);
    for (const f of ['analysis.json', RUN_FILE])
      edit<{ effectiveDensity: number }>(dir, f, (v) => {
        v.effectiveDensity = 94;
      });
    const ins = inspectRun(dir, r.hash);
    assert.equal(ins.analysis.state, 'invalid');
    assert.match(ins.analysis.state === 'invalid' ? ins.analysis.problem : '', /is not the hash of its content/);
    assert.equal(ins.run.state, 'invalid');
  });

  it('a stage that computes a non-finite number fails naming the field instead of writing it', () => {
    const r = fakeRecords(904);
    const bad = { ...r.prune, trajectory: r.prune.trajectory.map((p, i) => (i === 7 ? { ...p, loss: NaN } : p)) };
    assert.throws(() => sealStageRecord(bad), /prune stage of run [0-9a-f]{16} computed \$\.trajectory\[7\]\.loss is NaN, expected a finite number/);
    assert.equal(findNonFinite({ a: [1, { b: null }] }), '$.a[1].b is null (a non-finite number, or a value missing where one belongs)');
    assert.equal(findNonFinite({ activations: { fc1: { hoyer: null } } }, [/^\$\.activations\.[^.]+\.hoyer$/]), null);
  });
});

describe('store/runRecord: no machine paths, content ids', () => {
  it("a stage's id depends on what it computed, not on where, when or by which process", () => {
    const r = fakeRecords(905);
    const elsewhere = {
      ...r.train,
      hostname: 'machine-b',
      pid: 7,
      startedAt: '2027-01-01T00:00:00.000Z',
      endedAt: '2027-01-01T00:00:09.000Z',
      wallSeconds: 9,
      provenance: { ...r.train.provenance, hostname: 'machine-b', cpuModel: 'other' },
      training: { ...r.train.training, wallSeconds: 99 },
    };
    assert.equal(stageRecordId(elsewhere), r.train.id);
    assert.notEqual(stageRecordId({ ...r.train, training: { ...r.train.training, steps: 11 } }), r.train.id);
    assert.equal('path' in r.train.dataset, false);
  });

  it('a train record that names a machine path (older code) is not sound, and says how to migrate', () => {
    const r = fakeRecords(906);
    const dir = writeRun(r);
    edit<{ dataset: Record<string, unknown> }>(dir, 'train.json', (v) => {
      v.dataset.path = '/home/someone/mnist';
    });
    const ins = inspectRun(dir, r.hash);
    assert.equal(ins.train.state, 'invalid');
    assert.match(ins.train.state === 'invalid' ? ins.train.problem : '', /machine path.*lib\/store\/migrate\.ts/);
  });
});

describe('store/runRecord: analyses keyed by their settings', () => {
  it('the default settings keep analysis.json and run.json; other settings get their own files', () => {
    const d = resolveAnalysisSettings();
    const t10 = resolveAnalysisSettings({ threshold: 10 });
    assert.equal(analysisFile(d), 'analysis.json');
    assert.equal(runFile(d), 'run.json');
    assert.match(analysisFile(t10), /^analysis-[0-9a-f]{12}\.json$/);
    assert.match(runFile(t10), /^run-[0-9a-f]{12}\.json$/);
    assert.notEqual(runFile(t10), runFile(resolveAnalysisSettings({ threshold: 2 })));
  });

  it('status at a profile whose threshold differs reports the analysis as stale, and the default run as complete', () => {
    const r = fakeRecords(907);
    writeRun(r);
    const t10 = resolveAnalysisSettings({ threshold: 10 });
    const s = runStatusAt(expanded(r), t10);
    assert.equal(s.state, 'partial');
    assert.equal(s.stale, true);
    assert.match(s.problems.join(';'), /stale analysis: analysed only at other settings \(accuracy 5 points/);
    assert.equal(s.record?.effectiveDensity, 62, 'the other analysis still gives rows (recomputed at any threshold)');
    assert.equal(runStatus(expanded(r)).state, 'complete');
    assert.equal(runStatus(expanded(r)).stale, false);
  });
});
