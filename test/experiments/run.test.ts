// One run end to end on tiny MNIST data (real training; ~1-2 s per run on wasm).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runDir } from '../../lib/paths';
import { descriptorHash, resolveAnalysisSettings } from '../../lib/store/descriptor';
import { decodeBits } from '../../lib/store/bits';
import { tryLock } from '../../lib/store/lock';
import { analysisFile, inspectRun, readEvents, runFile, type RunRecord } from '../../lib/store/runRecord';
import { runStatus } from '../../lib/experiments/results';
import { downsample, executeRun, isRunDone, TRAIN_CHECKPOINT_FILE } from '../../lib/experiments/run';
import { tinyMlp } from './helpers';

const tiny = tinyMlp;

function readRun(hash: string, file = 'run.json'): RunRecord {
  return JSON.parse(fs.readFileSync(path.join(runDir(hash), file), 'utf8')) as RunRecord;
}
function trainStarts(hash: string): number {
  return readEvents(runDir(hash)).filter((e) => e.event === 'stage-start' && e.stage === 'train').length;
}

describe('experiments/run', function () {
  this.timeout(120_000);

  it('runs train, prune and analyse into a complete run.json', async () => {
    const d = tiny(100, { pruning: { levels: 10, step: 0.1, strategies: ['layerwiseMagnitude', 'random'] } });
    const out = await executeRun(d);
    assert.equal(out.kind, 'completed');
    assert.deepEqual(out.kind === 'completed' && out.stagesRun, ['train', 'prune', 'analysis']);
    const hash = descriptorHash(d);
    const r = readRun(hash);
    assert.equal(r.hash, hash);
    assert.equal(r.status, 'complete');
    assert.equal(r.weightCounts.total, 784 * 30 + 30 * 10 + 10 * 10);
    assert.equal(r.trajectory?.length, 11);
    assert.equal(r.trajectory?.[0].density, 100);
    assert.equal(r.trajectory?.[10].density, 0);
    assert.equal(r.baselines.random?.length, 11);
    assert.equal(r.trajectory?.[0].accuracy, r.training.validationAccuracy, 'unpruned point = trained model');
    // The correctness vector is the trained model's per-image result: its mean is the validation accuracy.
    const bits = decodeBits(r.correctness as { n: number; bits: string });
    assert.equal(bits.length, 500);
    assert.ok(Math.abs(bits.reduce((a, b) => a + b, 0) / 500 - (r.training.validationAccuracy as number)) < 1e-9);
    assert.deepEqual(Object.keys(r.overlaps ?? {}), ['fc1', 'fc2', 'proj']);
    assert.deepEqual(Object.keys(r.activations ?? {}), ['fc1', 'fc2']);
    assert.equal(r.provenance.dataset.trainImages, 1000);
    assert.equal(r.provenance.backend.name.length > 0, true);
    assert.match(r.provenance.commit ?? '', /^[0-9a-f]{40}$/);
    for (const w of ['init', 'trained']) assert.ok(fs.existsSync(path.join(runDir(hash), 'weights', w, 'model.json')));
    assert.equal(fs.existsSync(path.join(runDir(hash), '.lock')), false, 'lock released');
  });

  it('skips a finished run without training again', async () => {
    const d = tiny(101);
    await executeRun(d);
    const hash = descriptorHash(d);
    const before = fs.statSync(path.join(runDir(hash), 'run.json')).mtimeMs;
    const again = await executeRun(d);
    assert.equal(again.kind, 'existing');
    assert.equal(trainStarts(hash), 1);
    assert.equal(fs.statSync(path.join(runDir(hash), 'run.json')).mtimeMs, before);
    assert.ok(isRunDone(d));
  });

  it('redoes only the missing or unsound stages, with identical results', async () => {
    const d = tiny(102);
    const hash = descriptorHash(d);
    const dir = runDir(hash);
    await executeRun(d);
    const first = readRun(hash);

    fs.rmSync(path.join(dir, 'analysis.json'));
    fs.rmSync(path.join(dir, 'run.json'));
    let out = await executeRun(d);
    assert.deepEqual(out.kind === 'completed' && out.stagesRun, ['analysis']);

    fs.writeFileSync(path.join(dir, 'prune.json'), '{"stage": "prune", "trunc'); // a corrupt record
    out = await executeRun(d);
    // The redone prune computes the same trajectory, so it has the same content id and the analysis stays current.
    assert.deepEqual(out.kind === 'completed' && out.stagesRun, ['prune'], 'prune redone; analysis still computed from the same content');
    assert.deepEqual(readRun(hash).trajectory, first.trajectory);
    assert.equal(readRun(hash).effectiveDensity, first.effectiveDensity);

    const bin = path.join(dir, 'weights', 'trained', 'weights.bin');
    fs.truncateSync(bin, fs.statSync(bin).size - 4); // weights of a recorded stage damaged
    assert.equal(inspectRun(dir, hash).train.state, 'invalid');
    assert.equal(isRunDone(d), false, 'a run whose recorded weights are damaged is not a result');
    out = await executeRun(d);
    assert.deepEqual(out.kind === 'completed' && out.stagesRun, ['train', 'prune', 'analysis']);
    assert.deepEqual(readRun(hash).trajectory, first.trajectory, 'training is deterministic: a redone run gives the same trajectory');
    assert.deepEqual(readRun(hash).correctness, first.correctness);
  });

  it('counts records shipped without weights/ (a clone) as results; retrains only when a stage needs the weights', async () => {
    const d = tiny(104);
    const hash = descriptorHash(d);
    const dir = runDir(hash);
    await executeRun(d);
    const first = readRun(hash);
    fs.rmSync(path.join(dir, 'weights'), { recursive: true }); // what a fresh clone has: weights are git-ignored
    assert.equal(inspectRun(dir, hash).train.state, 'done');
    assert.ok(isRunDone(d), 'the committed records are a result without the weights');
    assert.equal((await executeRun(d)).kind, 'existing');
    assert.equal(trainStarts(hash), 1, 'nothing retrained for reading');

    // New analysis settings need the weights (overlaps, activations): the run retrains, deterministically, to
    // restore them; the training's content id is unchanged, so its record and the prune record stay.
    const defaultRun = fs.readFileSync(path.join(dir, 'run.json'), 'utf8');
    const t2 = resolveAnalysisSettings({ threshold: 2 });
    const out = await executeRun(d, { analysis: t2 });
    assert.deepEqual(out.kind === 'completed' && out.stagesRun, ['train', 'analysis']);
    assert.deepEqual(readRun(hash, runFile(t2)).trajectory, first.trajectory);
    assert.ok(fs.existsSync(path.join(dir, 'weights', 'trained', 'model.json')));
    assert.equal(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), defaultRun, 'what the default settings read is untouched');
    assert.ok(isRunDone(d));
  });

  it('re-analyses (never retrains) when the analysis settings change, into files of their own', async () => {
    const d = tiny(103);
    const hash = descriptorHash(d);
    const dir = runDir(hash);
    await executeRun(d);
    const defaults = { run: fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), analysis: fs.readFileSync(path.join(dir, 'analysis.json'), 'utf8') };
    const other = resolveAnalysisSettings({ threshold: 1 });
    assert.equal(isRunDone(d, other), false);
    const expanded = { hash, group: 'mlp', descriptor: readRun(hash).descriptor };
    const out = await executeRun(d, { analysis: other });
    assert.deepEqual(out.kind === 'completed' && out.stagesRun, ['analysis']);
    assert.equal(readRun(hash, runFile(other)).analysis.threshold, 1);
    assert.ok(fs.existsSync(path.join(dir, analysisFile(other))));
    assert.equal(trainStarts(hash), 1);
    // The profile at the defaults still reads its own analysis as current, byte for byte, and neither sweep redoes the other's.
    assert.equal(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'), defaults.run);
    assert.equal(fs.readFileSync(path.join(dir, 'analysis.json'), 'utf8'), defaults.analysis);
    assert.equal(runStatus(expanded).state, 'complete');
    assert.ok(isRunDone(d) && isRunDone(d, other));
    assert.equal((await executeRun(d)).kind, 'existing');
    assert.equal((await executeRun(d, { analysis: other })).kind, 'existing');
  });

  it('records the degraded flag and the unpruned margin over chance', async () => {
    const d = tiny(106);
    await executeRun(d);
    const r = readRun(descriptorHash(d));
    assert.equal(r.degraded, true);
    assert.ok(Math.abs((r.chanceMargin as number) - 100 * ((r.trajectory?.[0].accuracy as number) - 0.1)) < 1e-9);
    assert.equal(r.provenance.dataset.copy, 'original');
    assert.equal('path' in r.provenance.dataset, false, 'no machine path in a result');
  });

  it('redoes the training when weights of the right size hold NaN (damaged, not an analysis failure)', async () => {
    const d = tiny(107);
    const hash = descriptorHash(d);
    const dir = runDir(hash);
    await executeRun(d);
    const first = readRun(hash);
    const bin = path.join(dir, 'weights', 'trained', 'weights.bin');
    const bytes = fs.readFileSync(bin);
    bytes.writeFloatLE(NaN, 4 * 119);
    fs.writeFileSync(bin, bytes);
    fs.rmSync(path.join(dir, 'analysis.json')); // a later stage needs the weights
    const out = await executeRun(d);
    assert.equal(out.kind, 'completed', out.kind === 'failed' ? out.error.message : '');
    assert.deepEqual(out.kind === 'completed' && out.stagesRun, ['train', 'prune', 'analysis']);
    assert.ok(
      readEvents(dir).some(
        (e) => e.event === 'redo' && e.stage === 'train' && /damaged weights: .*weights\.bin: fc1\/kernel\[119\] is NaN/.test(String(e.problem)),
      ),
    );
    assert.deepEqual(readRun(hash).trajectory, first.trajectory);
    assert.ok(isRunDone(d));
  });

  it('repairs a run whose records hold a null (NaN) from the last sound stage; status and results agree before and after', async () => {
    const d = tiny(108);
    const hash = descriptorHash(d);
    const dir = runDir(hash);
    await executeRun(d);
    const first = readRun(hash);
    for (const f of ['prune.json', 'run.json']) {
      const v = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { trajectory: { accuracy: number | null }[] };
      v.trajectory[3].accuracy = null;
      fs.writeFileSync(path.join(dir, f), JSON.stringify(v));
    }
    const expanded = { hash, group: 'mlp', descriptor: first.descriptor };
    assert.equal(runStatus(expanded).state, 'partial');
    assert.equal(isRunDone(d), false);
    const out = await executeRun(d);
    // Training was sound: redone from the prune stage, whose sound recomputation has the analysis's input id again.
    assert.deepEqual(out.kind === 'completed' && out.stagesRun, ['prune'], 'redone from the last sound stage');
    assert.deepEqual(readRun(hash).trajectory, first.trajectory);
    assert.equal(runStatus(expanded).state, 'complete');
  });

  it('records a diverged run as finished with status diverged, and does not retry it', async () => {
    const d = tiny(104, { learningRate: 1e6 });
    const hash = descriptorHash(d);
    const out = await executeRun(d);
    assert.equal(out.kind === 'completed' && out.status, 'diverged');
    const r = readRun(hash);
    assert.equal(r.status, 'diverged');
    assert.equal(r.training.stopReason, 'diverged');
    assert.equal(r.trajectory, null);
    assert.equal(r.effectiveDensity, null);
    assert.equal((await executeRun(d)).kind, 'existing');
    assert.equal(trainStarts(hash), 1);
  });

  it('leaves a run locked by another live process alone', async () => {
    const d = tiny(105);
    const hash = descriptorHash(d);
    fs.mkdirSync(runDir(hash), { recursive: true });
    fs.writeFileSync(path.join(runDir(hash), '.lock'), JSON.stringify({ pid: 1, hostname: os.hostname(), startedAt: new Date().toISOString() }));
    const out = await executeRun(d);
    assert.equal(out.kind, 'locked');
    assert.equal(out.kind === 'locked' && out.holder?.pid, 1);
    assert.equal(fs.existsSync(path.join(runDir(hash), 'train.json')), false);
    fs.rmSync(path.join(runDir(hash), '.lock'));
    assert.ok(tryLock(runDir(hash)).acquired);
  });

  it('thins long curves evenly, keeping both ends', () => {
    const xs = Array.from({ length: 1001 }, (_, i) => i);
    const ys = downsample(xs, 200);
    assert.equal(ys.length, 200);
    assert.equal(ys[0], 0);
    assert.equal(ys[199], 1000);
    assert.deepEqual(downsample([1, 2, 3], 200), [1, 2, 3]);
  });

  it('a stop request during training ends the run at an epoch boundary (checkpoint kept); the next run resumes there, bit-identical', async () => {
    const d = tiny(101, { stop: { kind: 'bestValidationLoss', epochs: 3 } });
    const hash = descriptorHash(d);
    const dir = runDir(hash);
    const reference = await executeRun(d);
    assert.equal(reference.kind, 'completed');
    const whole = readRun(hash);
    fs.rmSync(dir, { recursive: true, force: true });

    let polls = 0;
    const stopped = await executeRun(d, { shouldStop: () => ++polls >= 1 }); // asked to stop from the first epoch on
    assert.equal(stopped.kind, 'interrupted');
    assert.ok(fs.existsSync(path.join(dir, TRAIN_CHECKPOINT_FILE)), 'the epoch checkpoint stays for the resume');
    assert.ok(!fs.existsSync(path.join(dir, 'train.json')), 'no training record for an unfinished training');
    assert.equal(isRunDone(d), false);
    assert.ok(readEvents(dir).some((e) => e.event === 'stage-interrupted' && e.stage === 'train'));

    let firstStep = Infinity;
    const resumed = await executeRun(d, {
      onTrainProgress: (p) => {
        firstStep = Math.min(firstStep, p.step);
      },
    });
    assert.equal(resumed.kind, 'completed');
    // Resumed, not restarted (which would end with the same numbers): no progress from the first epoch's steps.
    assert.ok(firstStep > Math.ceil(1000 / 128), `the resumed training reported step ${firstStep}, inside epoch 1`);
    const r = readRun(hash);
    assert.deepEqual(r.trajectory, whole.trajectory);
    assert.deepEqual(r.training.validation, whole.training.validation);
    assert.deepEqual(r.training.curve, whole.training.curve);
    assert.equal(r.training.bestEpoch, whole.training.bestEpoch);
    assert.equal(r.effectiveDensity, whole.effectiveDensity);
    assert.ok(!fs.existsSync(path.join(dir, TRAIN_CHECKPOINT_FILE)), 'removed once training finished');
  });
});
