// The paper's proposed follow-ups as cached analyses of finished runs (lib/experiments/followups.ts), on a tiny
// MNIST MLP trained for real: the edge-popup grid's rules, the dense-stack loss the LLC samples, and the cached
// record's life (restore weights by retraining, write, skip, reject a tampered file).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { runDir } from '../../lib/paths';
import { descriptorHash, resolveDescriptor, type DescriptorInput } from '../../lib/store/descriptor';
import { inspectRun, weightsDir } from '../../lib/store/runRecord';
import { executeRun, restoreWeights } from '../../lib/experiments/run';
import * as engine from '../../lib/experiments/engine';
import { computeFollowup, denseStackLoss, edgePopupGrid, magnitudeMasks } from '../../lib/experiments/followups';
import {
  EDGE_POPUP_SETTINGS,
  FOLLOWUP_SPECS,
  followupFile,
  followupRuns,
  readFollowup,
  type EdgePopupRecord,
  type EdgePopupSettings,
  type LlcRecord,
} from '../../lib/experiments/followupRecords';
import { getLayerKernels } from '../../lib/models/kernels';
import { maskedEvaluate } from '../../lib/prune/edgePopup';
import { effectiveDensityDetail } from '../../lib/analysis/effectiveDensity';
import { tinyMlp } from './helpers';

const tiny = (initSeed: number, extra: Partial<DescriptorInput> = {}): DescriptorInput =>
  tinyMlp(initSeed, { stop: { kind: 'targetTrainLoss', window: 10, checkEvery: 10, maxEpochs: 2 }, ...extra });
const threshold = { metric: 'accuracy' as const, threshold: 5, mode: 'points' as const };

describe('experiments/followups', function () {
  this.timeout(180_000);

  it('follow-up runs: 10 committed MLP runs per width (data seed 0, init seeds 0-4, both inits)', () => {
    const runs = followupRuns();
    assert.equal(runs.length, 50);
    for (const w of [0.1, 0.5, 1, 2, 5]) assert.equal(runs.filter((r) => r.descriptor.width === w).length, 10);
    assert.ok(runs.every((r) => r.descriptor.architecture === 'mlp' && r.descriptor.dataSeed === 0 && r.descriptor.initSeed < 5));
    assert.equal(runs.filter((r) => FOLLOWUP_SPECS.llcPlain.runs(r)).length, 6, 'plain LLC: init seed 0, both inits, widths 0.1-1');
    assert.equal(runs.filter((r) => FOLLOWUP_SPECS.llcStepSmall.runs(r)).length, 5, 'step-size check: Glorot init seed 0, 5 widths');
    assert.equal(runs.filter((r) => FOLLOWUP_SPECS.edgePopupRandomScores.runs(r)).length, 2);
  });

  it('edge-popup grid: magnitude at every density, search from one point above its first degraded one to two degraded, never worse on the fit set', async () => {
    const d = resolveDescriptor(tiny(300));
    await executeRun(d);
    const hash = descriptorHash(d);
    const data = await engine.prepareData(d);
    const model = await engine.loadModel(weightsDir(runDir(hash), 'trained'));
    const layers = engine.prunableLayers(d);
    const s: EdgePopupSettings = { ...EDGE_POPUP_SETTINGS, densities: [90, 70, 50, 40, 30, 20, 10, 5, 2], epochs: 2 };
    const before = tf.memory().numTensors;
    const g = await edgePopupGrid(model, layers, data.train, data.validation, s, threshold);
    assert.equal(tf.memory().numTensors, before, 'no tensor leak');
    const kernels = getLayerKernels(model, layers);
    // magnitude points are the layer-wise magnitude masks, evaluated on validation
    for (const [i, density] of s.densities.entries()) {
      const m = maskedEvaluate(model, layers, magnitudeMasks(kernels, density), data.validation);
      assert.equal(g.grid[i].magnitude.accuracy, m.accuracy, `magnitude ${density}%`);
    }
    const ev = engine.evaluate(model, data.validation);
    assert.equal(g.unpruned.accuracy, ev.accuracy);
    const degraded = (acc: number): boolean => (g.unpruned.accuracy - acc) * 100 > 5 + 1e-9;
    const firstMag = g.grid.findIndex((p) => degraded(p.magnitude.accuracy));
    assert.ok(firstMag > 0, `the tiny model degrades somewhere inside the grid (first at index ${firstMag})`);
    const searched = g.grid.map((p, i) => (p.edgePopup ? i : -1)).filter((i) => i >= 0);
    assert.equal(searched[0], firstMag - 1, 'search starts one grid point above the first degraded magnitude point');
    for (let k = 1; k < searched.length; k++) assert.equal(searched[k], searched[k - 1] + 1, 'contiguous');
    const last = searched[searched.length - 1];
    const ep = (i: number): number => (g.grid[i].edgePopup as { accuracy: number }).accuracy;
    if (last < s.densities.length - 1) assert.ok(degraded(ep(last)) && degraded(ep(last - 1)), 'stops after two degraded searched points');
    for (const i of searched) {
      const e = g.grid[i].edgePopup!;
      assert.ok(e.fitLoss <= e.magnitudeFitLoss, `${s.densities[i]}%: fit loss ${e.fitLoss} <= magnitude's ${e.magnitudeFitLoss}`);
      assert.equal(e.epochFitLosses.length, s.epochs + 1);
      assert.equal(e.epochFitLosses[0], e.magnitudeFitLoss);
      assert.ok(e.keptInMagnitude > 0 && e.keptInMagnitude <= 1);
      if (e.chosenEpoch === 0) assert.equal(e.keptInMagnitude, 1, 'no improvement: the magnitude mask itself');
    }
    // the effective densities are the paper's first-degraded rule on the grid curves
    const curve = (pick: (i: number) => { accuracy: number; loss: number }, upTo: number) => [
      { density: 100, ...g.unpruned },
      ...s.densities.slice(0, upTo + 1).map((density, i) => ({ density, ...pick(i) })),
    ];
    assert.equal(
      g.effectiveDensity.magnitude,
      effectiveDensityDetail(
        curve((i) => g.grid[i].magnitude, s.densities.length - 1),
        threshold,
      ).density,
    );
    assert.equal(
      g.effectiveDensity.edgePopup,
      effectiveDensityDetail(
        curve((i) => g.grid[i].edgePopup ?? g.grid[i].magnitude, last),
        threshold,
      ).density,
    );
    assert.ok(g.coreOverlap.keptInMagnitudeCore >= 0 && g.coreOverlap.keptInMagnitudeCore <= 1);
    assert.equal(g.coreOverlap.chance, g.effectiveDensity.magnitude / 100);
    model.dispose();
  });

  it('denseStackLoss: the flat vector holds every weight and bias, and its loss at w* is the model loss', async () => {
    const d = resolveDescriptor(tiny(300));
    await executeRun(d);
    const data = await engine.prepareData(d);
    const model = await engine.loadModel(weightsDir(runDir(descriptorHash(d)), 'trained'));
    const { wStar, loss } = denseStackLoss(model, data.validation);
    assert.equal(wStar.length, 784 * 30 + 30 + 30 * 10 + 10 + 10 * 10 + 10);
    const rows = Int32Array.from({ length: data.validation.n }, (_, i) => i);
    const l = tf.tidy(() => loss(tf.tensor1d(wStar), rows).dataSync()[0]);
    const ev = engine.evaluate(model, data.validation);
    assert.ok(Math.abs(l - ev.loss) < 1e-5, `${l} vs ${ev.loss}`);
    model.dispose();
  });

  it('computes a follow-up into its run folder, restoring weights by retraining, then skips it; a tampered record is named', async () => {
    const input = tiny(301);
    const d = resolveDescriptor(input);
    const hash = descriptorHash(d);
    await executeRun(d);
    const dir = runDir(hash);
    fs.rmSync(path.join(dir, 'weights'), { recursive: true });
    const run = { hash, group: 'test', descriptor: d };
    const trainBefore = fs.readFileSync(path.join(dir, 'train.json'), 'utf8');
    const o = await computeFollowup(run, 'edgePopup');
    assert.equal(o.kind, 'computed');
    assert.equal(fs.readFileSync(path.join(dir, 'train.json'), 'utf8'), trainBefore, 'the training record is kept as it was');
    const rec = readFollowup(hash, 'edgePopup') as EdgePopupRecord;
    assert.equal(rec.followup, 'edgePopup');
    assert.equal(rec.retrained, true);
    assert.equal(rec.hash, hash);
    assert.equal(rec.totalWeights, 784 * 30 + 30 * 10 + 10 * 10);
    assert.equal(rec.coreSize.edgePopup, Math.round((rec.effectiveDensity.edgePopup / 100) * rec.totalWeights));
    assert.equal(fs.existsSync(path.join(dir, followupFile('edgePopup'))), true);
    assert.equal((await computeFollowup(run, 'edgePopup')).kind, 'existing');
    const l = await computeFollowup(run, 'llc');
    assert.equal(l.kind, 'computed');
    const llc = readFollowup(hash, 'llc') as LlcRecord;
    assert.equal(llc.retrained, false, 'weights were there this time');
    assert.equal(llc.lossTraces.length, FOLLOWUP_SPECS.llc.settings.chains);
    assert.equal(llc.hyperparameters.removeLinearTerm, true);
    assert.equal(llc.parameters, 784 * 30 + 30 + 30 * 10 + 10 + 10 * 10 + 10);
    const plain = await computeFollowup(run, 'llcPlain');
    assert.equal(plain.kind, 'skipped', 'the plain estimator is for init seed 0 only');
    assert.match(plain.kind === 'skipped' ? plain.why : '', /llcPlain is not computed on this run/);
  });

  it('a record edited by hand, or one from another training, is refused naming the file', async () => {
    const d = resolveDescriptor(tiny(302));
    const hash = descriptorHash(d);
    await executeRun(d);
    const run = { hash, group: 'test', descriptor: d };
    await computeFollowup(run, 'edgePopup');
    const file = path.join(runDir(hash), followupFile('edgePopup'));
    const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as EdgePopupRecord;
    fs.writeFileSync(file, JSON.stringify({ ...rec, effectiveDensity: { ...rec.effectiveDensity, edgePopup: 1 } }));
    assert.throws(
      () => readFollowup(hash, 'edgePopup'),
      (e: Error) => e.message.includes(followupFile('edgePopup')) && /is not the hash of its content/.test(e.message),
    );
    fs.writeFileSync(file, JSON.stringify({ ...rec, inputs: { train: 'ffffffffffffffff' } }));
    assert.throws(() => readFollowup(hash, 'edgePopup'), /computed from training ffffffffffffffff/);
    // the stale record is recomputed, not trusted
    assert.equal((await computeFollowup(run, 'edgePopup')).kind, 'computed');
  });

  it('restoreWeights refuses a retraining that does not reproduce the record, and writes nothing', async () => {
    const d = resolveDescriptor(tiny(303));
    const hash = descriptorHash(d);
    await executeRun(d);
    const dir = runDir(hash);
    fs.rmSync(path.join(dir, 'weights'), { recursive: true });
    const state = inspectRun(dir, hash);
    assert.equal(state.train.state, 'done');
    const trainBefore = fs.readFileSync(path.join(dir, 'train.json'), 'utf8');
    // another learning rate trains other weights: the recorded training is not reproduced
    const other = resolveDescriptor({ ...tiny(303), learningRate: 0.05 });
    await assert.rejects(
      restoreWeights(dir, other, hash, state.train.state === 'done' ? state.train.record : (undefined as never)),
      /did not reproduce the recorded training/,
    );
    assert.equal(fs.existsSync(path.join(dir, 'weights')), false, 'no weights left behind');
    assert.equal(fs.readFileSync(path.join(dir, 'train.json'), 'utf8'), trainBefore);
    // the right descriptor restores them
    assert.equal(await restoreWeights(dir, d, hash, state.train.state === 'done' ? state.train.record : (undefined as never)), true);
    assert.equal(fs.existsSync(path.join(dir, 'weights', 'trained', 'model.json')), true);
  });
});
