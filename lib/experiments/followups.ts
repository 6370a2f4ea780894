// The paper's two proposed follow-ups (Section 6; issue 16), computed as cached analyses of finished MLP runs:
//   edge-popup  the best subnetwork of each grid density found by edge-popup over the frozen trained weights,
//               against the layer-wise magnitude mask of the same density (lib/prune/edgePopup.ts);
//   llc         the local learning coefficient of the trained weights by SGLD (lib/analysis/llc.ts).
// Each is one JSON file in the run's directory, named by a hash of its settings (lib/experiments/followupRecords.ts),
// written atomically under the run's lock and skipped when a sound one is present, like the run's own stages.
// Runs shipped without weights (a clone) get them back by deterministic retraining, which must reproduce the
// recorded training exactly (run.ts restoreWeights).
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { effectiveDensityDetail, type EffectiveDensityOptions } from '../analysis/effectiveDensity';
import { estimateLlc } from '../analysis/llc';
import { coreSize } from '../analysis/nullHypothesis';
import { subsetOf, type ImageSet } from '../data';
import { getLayerKernels } from '../models/kernels';
import type { PrunableLayer } from '../models/types';
import { edgePopupSubnetwork, keptCount, maskedEvaluate, topMask } from '../prune/edgePopup';
import { denseStack } from '../prune/trajectory';
import { runDir } from '../paths';
import { deriveSeed } from '../rng';
import { readJson, writeJsonAtomic } from '../store/atomic';
import { resolveAnalysisSettings, resolveDescriptor, type AnalysisSettings, type Descriptor } from '../store/descriptor';
import { tryLock } from '../store/lock';
import { findNonFinite, inspectRun, logEvent, weightsDir, type TrainStageRecord } from '../store/runRecord';
import * as engine from './engine';
import {
  FOLLOWUP_SPECS,
  followupFile,
  followupRecordId,
  NULLABLE,
  unsoundFollowup,
  type EdgePopupGridPoint,
  type EdgePopupRecord,
  type EdgePopupSettings,
  type FollowupKind,
  type FollowupMeta,
  type FollowupName,
  type FollowupRecord,
  type FollowupSpec,
  type MaskResult,
} from './followupRecords';
import type { ExpandedRun } from './profiles';
import { gitState, provenance } from './provenance';
import { restoreWeights } from './run';

// ---- computation ----

function meta(followup: FollowupKind, hash: string, train: TrainStageRecord, started: Date, retrained: boolean): FollowupMeta {
  const ended = new Date();
  return {
    followup,
    id: '',
    hash,
    inputs: { train: train.id },
    startedAt: started.toISOString(),
    endedAt: ended.toISOString(),
    wallSeconds: (ended.getTime() - started.getTime()) / 1000,
    pid: process.pid,
    hostname: os.hostname(),
    commit: gitState().commit,
    provenance: provenance(),
    retrained,
  };
}

function maskFraction(a: Uint8Array[], b: Uint8Array[]): number {
  let both = 0;
  let kept = 0;
  for (let l = 0; l < a.length; l++) {
    for (let j = 0; j < a[l].length; j++) {
      if (a[l][j]) {
        kept++;
        if (b[l][j]) both++;
      }
    }
  }
  return kept === 0 ? 0 : both / kept;
}

/** Layer-wise magnitude masks at `density` percent (the pruning plan's masks at that density: topMask of |w|). */
export function magnitudeMasks(kernels: { values: Float32Array }[], density: number): Uint8Array[] {
  return kernels.map((k) => topMask(k.values.map(Math.abs), keptCount(k.values.length, density)));
}

/** First degraded density of a grid curve (the paper's definition), given the unpruned point. */
function gridEffectiveDensity(unpruned: MaskResult, points: { density: number; result: MaskResult }[], threshold: Required<EffectiveDensityOptions>): number {
  return effectiveDensityDetail([{ density: 100, ...unpruned }, ...points.map((p) => ({ density: p.density, ...p.result }))], threshold).density;
}

/**
 * Edge-popup over the grid for one trained model (pure computation: no files). Exposed for tests and the bench.
 */
export async function edgePopupGrid(
  model: tf.LayersModel,
  layers: PrunableLayer[],
  fit: ImageSet,
  validation: ImageSet,
  s: EdgePopupSettings,
  threshold: Required<EffectiveDensityOptions>,
  onPoint?: (density: number, searched: boolean) => void,
): Promise<Pick<EdgePopupRecord, 'unpruned' | 'grid' | 'effectiveDensity' | 'coreOverlap'>> {
  const kernels = getLayerKernels(model, layers);
  const unprunedEval = engine.evaluate(model, validation);
  const unpruned = { accuracy: unprunedEval.accuracy, loss: unprunedEval.loss };
  const degraded = (r: MaskResult): boolean =>
    effectiveDensityDetail(
      [
        { density: 100, ...unpruned },
        { density: 50, ...r },
      ],
      threshold,
    ).degraded;
  const magnitude = s.densities.map((density) => {
    const r = maskedEvaluate(model, layers, magnitudeMasks(kernels, density), validation);
    return { density, result: { accuracy: r.accuracy, loss: r.loss } };
  });
  const firstMagDegraded = magnitude.findIndex((p) => degraded(p.result));
  const start = firstMagDegraded < 0 ? s.densities.length : Math.max(0, firstMagDegraded - s.searchFromAbove);
  const grid: EdgePopupGridPoint[] = magnitude.map((p) => ({ density: p.density, magnitude: p.result, edgePopup: null }));
  const searchedMasks = new Map<number, Uint8Array[]>();
  let run = 0;
  for (let i = start; i < s.densities.length && run < s.stopAfterDegraded; i++) {
    const density = s.densities[i];
    onPoint?.(density, true);
    const r = await edgePopupSubnetwork(model, layers, fit, {
      density,
      epochs: s.epochs,
      seed: s.seed,
      scoreInit: s.scoreInit,
      learningRate: s.learningRate,
      momentum: s.momentum,
      weightDecay: s.weightDecay,
      batchSize: s.batchSize,
    });
    const v = maskedEvaluate(model, layers, r.masks, validation);
    const result = { accuracy: v.accuracy, loss: v.loss };
    searchedMasks.set(density, r.masks);
    grid[i].edgePopup = {
      ...result,
      fitLoss: r.epochLosses[r.chosenEpoch].loss,
      magnitudeFitLoss: r.epochLosses[0].loss,
      chosenEpoch: r.chosenEpoch,
      epochFitLosses: r.epochLosses.map((e) => e.loss),
      keptInMagnitude: maskFraction(r.masks, magnitudeMasks(kernels, density)),
    };
    run = degraded(result) ? run + 1 : 0;
  }
  // Above the searched range the magnitude mask keeps the accuracy and is the search's starting point: the
  // edge-popup curve takes the magnitude value there (it is searched one grid point above to check that).
  const epCurve = grid.map((p) => ({ density: p.density, result: p.edgePopup ?? p.magnitude, searched: p.edgePopup !== null }));
  const lastSearched = epCurve.reduce((acc, p, i) => (p.searched ? i : acc), -1);
  const epPoints = epCurve.slice(0, lastSearched + 1);
  const magnitudeED = gridEffectiveDensity(unpruned, magnitude, threshold);
  const edgePopupED = gridEffectiveDensity(unpruned, epPoints, threshold);
  const epCore = searchedMasks.get(edgePopupED) ?? magnitudeMasks(kernels, edgePopupED);
  return {
    unpruned,
    grid,
    effectiveDensity: { magnitude: magnitudeED, edgePopup: edgePopupED },
    coreOverlap: { keptInMagnitudeCore: maskFraction(epCore, magnitudeMasks(kernels, magnitudeED)), chance: magnitudeED / 100 },
  };
}

/** Flat parameter vector of a dense stack (kernel then bias per layer, in order) and the loss on rows of a set. */
export function denseStackLoss(model: tf.LayersModel, set: ImageSet): { wStar: Float32Array; loss: (p: tf.Tensor1D, rows: Int32Array) => tf.Scalar } {
  const names = model.layers.filter((l) => l.getWeights().length > 0).map((l) => l.name);
  const chain = denseStack(model, names);
  if (!chain) throw new Error('llc: the model is not a plain dense stack (only the MLP is supported)');
  const shapes = chain.map((c) =>
    model
      .getLayer(c.name)
      .getWeights()
      .map((w) => w.shape as number[]),
  );
  const parts: Float32Array[] = [];
  for (const c of chain) for (const w of model.getLayer(c.name).getWeights()) parts.push(w.dataSync() as Float32Array);
  const wStar = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    wStar.set(p, o);
    o += p.length;
  }
  const inputSize = set.x.length / set.n;
  const numClasses = shapes[shapes.length - 1][0][1];
  const loss = (p: tf.Tensor1D, rows: Int32Array): tf.Scalar => {
    const xb = new Float32Array(rows.length * inputSize);
    const yb = new Float32Array(rows.length * numClasses);
    rows.forEach((r, j) => {
      xb.set(set.x.subarray(r * inputSize, (r + 1) * inputSize), j * inputSize);
      yb[j * numClasses + set.y[r]] = 1;
    });
    let h: tf.Tensor2D = tf.tensor2d(xb, [rows.length, inputSize]);
    let off = 0;
    chain.forEach((c, i) => {
      const [kShape, bShape] = shapes[i];
      const kSize = kShape[0] * kShape[1];
      h = tf.matMul(h, p.slice(off, kSize).reshape(kShape) as tf.Tensor2D);
      off += kSize;
      if (bShape) {
        h = tf.add(h, p.slice(off, bShape[0]));
        off += bShape[0];
      }
      if (c.activation === 'relu') h = tf.relu(h);
    });
    return tf.losses.softmaxCrossEntropy(tf.tensor2d(yb, [rows.length, numClasses]), h) as tf.Scalar;
  };
  return { wStar, loss };
}

export type FollowupOutcome =
  { kind: 'existing'; file: string } | { kind: 'computed'; file: string; wallSeconds: number } | { kind: 'locked' } | { kind: 'skipped'; why: string };

/**
 * Compute one follow-up of one finished run unless a sound record is present. Takes the run's lock (returns
 * 'locked' if another process holds it); 'skipped' for a run the follow-up is not for, or with no trained model.
 */
export async function computeFollowup(
  run: ExpandedRun,
  name: FollowupName,
  opts: { analysis?: AnalysisSettings; log?: (s: string) => void } = {},
): Promise<FollowupOutcome> {
  const spec: FollowupSpec = FOLLOWUP_SPECS[name];
  if (!spec.runs(run)) return { kind: 'skipped', why: `${name} is not computed on this run (${spec.description})` };
  const d: Descriptor = resolveDescriptor(run.descriptor);
  const hash = run.hash;
  const dir = runDir(hash);
  const settings = resolveAnalysisSettings(opts.analysis ?? {});
  const threshold = { metric: settings.metric, threshold: settings.threshold, mode: settings.mode };
  const file = followupFile(name, settings);
  const target = path.join(dir, file);
  const sound = (train: TrainStageRecord): boolean => {
    const r = readJson<unknown>(target);
    return r.ok && unsoundFollowup(r.value, spec.kind, hash, train) === null;
  };
  const state = inspectRun(dir, hash, settings);
  if (state.train.state !== 'done') return { kind: 'skipped', why: `run ${hash} is not trained (train stage ${state.train.state})` };
  if (state.train.record.training.status !== 'complete') return { kind: 'skipped', why: `run ${hash} diverged: no trained model` };
  if (sound(state.train.record)) return { kind: 'existing', file };
  const attempt = tryLock(dir, `followup ${name}`);
  if (attempt.acquired === false) return { kind: 'locked' };
  try {
    const train = inspectRun(dir, hash, settings).train;
    if (train.state !== 'done') throw new Error(`run ${hash}: train stage changed while waiting for the lock`);
    if (sound(train.record)) return { kind: 'existing', file };
    const started = new Date();
    await initBackend(); // before anything touches tfjs: a run whose weights are present is not retrained
    const retrained = await restoreWeights(dir, d, hash, train.record);
    const data = await engine.prepareData(d);
    const model = await engine.loadModel(weightsDir(dir, 'trained'));
    logEvent(dir, 'followup-start', { followup: name, file });
    try {
      let record: FollowupRecord;
      const totalWeights = train.record.weightCounts.total;
      if (spec.kind === 'edgePopup') {
        const ep = spec.settings;
        const fit = subsetOf(data.train, Math.min(ep.fitImages, data.train.n), deriveSeed(d.dataSeed, 'edgePopupFit'));
        const g = await edgePopupGrid(model, engine.prunableLayers(d), fit, data.validation, ep, threshold, (density) =>
          opts.log?.(`${hash} ${name} ${density}%`),
        );
        record = {
          ...meta('edgePopup', hash, train.record, started, retrained),
          followup: 'edgePopup',
          settings: { ...ep, densities: [...ep.densities] },
          threshold,
          totalWeights,
          ...g,
          coreSize: { magnitude: coreSize(g.effectiveDensity.magnitude, totalWeights), edgePopup: coreSize(g.effectiveDensity.edgePopup, totalWeights) },
        };
      } else {
        const llcS = spec.settings;
        const set = subsetOf(data.train, Math.min(llcS.dataImages, data.train.n), deriveSeed(d.dataSeed, 'llcData'));
        const { wStar, loss } = denseStackLoss(model, set);
        const { dataImages: _n, ...sgld } = llcS;
        const r = estimateLlc(loss, wStar, set.n, sgld);
        record = {
          ...meta('llc', hash, train.record, started, retrained),
          followup: 'llc',
          settings: { ...llcS },
          ...r,
          parameters: wStar.length,
          totalWeights,
        };
      }
      const ended = new Date();
      record = { ...record, endedAt: ended.toISOString(), wallSeconds: (ended.getTime() - started.getTime()) / 1000 };
      const nonFinite = findNonFinite(record, NULLABLE);
      if (nonFinite) throw new Error(`${name} of run ${hash} computed ${nonFinite}`);
      record = { ...record, id: followupRecordId(record) };
      writeJsonAtomic(target, record);
      logEvent(dir, 'followup-end', { followup: name, file, wallSeconds: record.wallSeconds });
      return { kind: 'computed', file, wallSeconds: record.wallSeconds };
    } finally {
      model.dispose();
    }
  } finally {
    attempt.lock.release();
  }
}
