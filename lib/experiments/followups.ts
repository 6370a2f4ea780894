// The paper's two proposed follow-ups (Section 6; issue 16), as cached analyses of finished MLP runs:
//   edge-popup  the best subnetwork of each grid density found by edge-popup over the frozen trained weights,
//               against the layer-wise magnitude mask of the same density (lib/prune/edgePopup.ts);
//   llc         the local learning coefficient of the trained weights by SGLD (lib/analysis/llc.ts).
// Each is one JSON file in the run's directory, named by a hash of its settings (edge-popup-<key>.json,
// llc-<key>.json), written atomically under the run's lock and skipped when a sound one is present, like the
// run's own stages. Runs shipped without weights (a clone) get them back by deterministic retraining, which must
// reproduce the recorded training exactly (run.ts restoreWeights).
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { effectiveDensityDetail, type EffectiveDensityOptions } from '../analysis/effectiveDensity';
import { estimateLlc, type LlcOptions } from '../analysis/llc';
import { coreSize } from '../analysis/nullHypothesis';
import { subsetOf, type ImageSet } from '../data';
import { getLayerKernels } from '../models/kernels';
import type { PrunableLayer } from '../models/types';
import { edgePopupSubnetwork, keptCount, maskedEvaluate, topMask, type ScoreInit } from '../prune/edgePopup';
import { denseStack } from '../prune/trajectory';
import { runDir } from '../paths';
import { deriveSeed } from '../rng';
import { readJson, writeJsonAtomic } from '../store/atomic';
import { canonicalStringify, sha256Hex } from '../store/canonical';
import { resolveAnalysisSettings, resolveDescriptor, type AnalysisSettings, type Descriptor } from '../store/descriptor';
import { tryLock } from '../store/lock';
import { findNonFinite, inspectRun, logEvent, weightsDir, type Provenance, type TrainStageRecord } from '../store/runRecord';
import * as engine from './engine';
import { expandProfileRuns, type ExpandedRun } from './profiles';
import { gitState, provenance } from './provenance';
import { restoreWeights } from './run';

/** What a follow-up computes: the record's `followup` field. */
export type FollowupKind = 'edgePopup' | 'llc';

// ---- settings ----

export interface EdgePopupSettings {
  /** Percent kept per prunable layer, descending: brackets the MLP's magnitude effective densities (26-62%). */
  densities: number[];
  /** Search epochs over the score-fitting set, with the reference's cosine schedule. */
  epochs: number;
  /** Training images the scores are fitted on: a seeded subset of the run's own training split. */
  fitImages: number;
  scoreInit: ScoreInit;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  batchSize: number;
  seed: number;
  /**
   * The search runs from this many grid points above the magnitude mask's first degraded grid density (above it
   * the magnitude mask already keeps the accuracy, and the search starts from it), down to `stopAfterDegraded`
   * consecutive degraded searched points (below them nothing is searched; the magnitude mask is still measured).
   */
  searchFromAbove: number;
  stopAfterDegraded: number;
}

/** The settings the committed results use; every choice is stated in README (Beyond magnitude pruning). */
export const EDGE_POPUP_SETTINGS: Readonly<EdgePopupSettings> = Object.freeze({
  densities: [80, 70, 60, 50, 40, 30, 25, 20, 15, 10, 7, 5, 3, 2],
  epochs: 2,
  fitImages: 10000,
  scoreInit: 'magnitude' as ScoreInit,
  learningRate: 0.1,
  momentum: 0.9,
  weightDecay: 1e-4,
  batchSize: 128,
  seed: 0,
  searchFromAbove: 1,
  stopAfterDegraded: 2,
});

export type LlcSettings = Omit<LlcOptions, 'nBeta'> & {
  /** Training images the loss L_n is taken over (n): a seeded subset of the run's training split. */
  dataImages: number;
};

/**
 * The MLPs stop at a training loss of 0.2, on a slope, not at a minimum: the plain estimator's chains walk
 * downhill there (negative estimates at 0.1x). So the main estimate samples the loss without its linear term at
 * w* (lib/analysis/llc.ts removeLinearTerm); the plain one (devinterp's) is kept on a few runs to show why.
 */
export const LLC_SETTINGS: Readonly<LlcSettings> = Object.freeze({
  chains: 2,
  burnIn: 100,
  draws: 200,
  stepSize: 1e-5,
  gamma: 100,
  batchSize: 128,
  dataImages: 55000,
  seed: 0,
  removeLinearTerm: true,
});

type FollowupSettings = { kind: 'edgePopup'; settings: Readonly<EdgePopupSettings> } | { kind: 'llc'; settings: Readonly<LlcSettings> };

export type FollowupSpec = FollowupSettings & {
  description: string;
  /** Which of the follow-up runs (followupRuns) it is computed on. */
  runs: (r: ExpandedRun) => boolean;
};

/** The registry: a new follow-up (or a variant's settings) is one entry. */
export const FOLLOWUP_SPECS = {
  edgePopup: {
    kind: 'edgePopup', settings: EDGE_POPUP_SETTINGS, runs: () => true,
    description: 'edge-popup from |w| scores over the density grid, every follow-up run',
  },
  edgePopupRandomScores: {
    kind: 'edgePopup', settings: Object.freeze({ ...EDGE_POPUP_SETTINGS, scoreInit: 'kaimingUniform' as ScoreInit }), runs: (r) => r.descriptor.width === 1 && r.descriptor.initSeed === 0,
    description: "edge-popup from the reference's random scores (kaiming uniform), 1x init seed 0, both inits",
  },
  llc: {
    kind: 'llc', settings: LLC_SETTINGS, runs: () => true,
    description: 'local learning coefficient, linear term at w* removed, every follow-up run',
  },
  llcPlain: {
    kind: 'llc', settings: Object.freeze({ ...LLC_SETTINGS, removeLinearTerm: false }), runs: (r) => r.descriptor.initSeed === 0,
    description: "local learning coefficient by devinterp's plain estimator, init seed 0, both inits, every width",
  },
} satisfies Record<string, FollowupSpec>;

export type FollowupName = keyof typeof FOLLOWUP_SPECS;
export const FOLLOWUPS = Object.keys(FOLLOWUP_SPECS) as FollowupName[];

/** 12 hex characters of the canonical settings (with the effective-density threshold, which edge-popup reads). */
export function settingsKey(settings: unknown): string {
  return sha256Hex(canonicalStringify(settings)).slice(0, 12);
}

export function edgePopupFile(s: EdgePopupSettings, threshold: EffectiveDensityOptions): string {
  return `edge-popup-${settingsKey({ ...s, threshold })}.json`;
}

export function llcFile(s: LlcSettings): string {
  return `llc-${settingsKey(s)}.json`;
}

/** The file a follow-up's record has in its run directory. */
export function followupFile(name: FollowupName, analysis?: AnalysisSettings): string {
  const spec: FollowupSpec = FOLLOWUP_SPECS[name];
  const a = resolveAnalysisSettings(analysis ?? {});
  return spec.kind === 'edgePopup' ? edgePopupFile(spec.settings, { metric: a.metric, threshold: a.threshold, mode: a.mode }) : llcFile(spec.settings);
}

// ---- records ----

interface FollowupMeta {
  followup: FollowupKind;
  /** Hash of the content (everything but the execution fields below). */
  id: string;
  hash: string;
  /** The train stage record the weights come from. */
  inputs: { train: string };
  startedAt: string;
  endedAt: string;
  wallSeconds: number;
  pid: number;
  hostname: string;
  commit: string | null;
  provenance: Provenance;
  /** Whether this computation restored the weights by retraining (they were absent). */
  retrained: boolean;
}

export interface MaskResult {
  accuracy: number;
  loss: number;
}

export interface EdgePopupGridPoint {
  density: number;
  /** The layer-wise magnitude mask of this density, on the validation split. */
  magnitude: MaskResult;
  /** The searched subnetwork (null where the search was not run; see EdgePopupSettings.searchFromAbove). */
  edgePopup: null | (MaskResult & {
    /** Loss on the score-fitting set of the returned mask, and of the magnitude mask (the search's start). */
    fitLoss: number;
    magnitudeFitLoss: number;
    /** Search epoch whose mask was kept (0: the magnitude mask itself: no epoch improved on it). */
    chosenEpoch: number;
    epochFitLosses: number[];
    /** Share of the searched mask's kept weights that the magnitude mask of the same density also keeps. */
    keptInMagnitude: number;
  });
}

export interface EdgePopupRecord extends FollowupMeta {
  followup: 'edgePopup';
  settings: EdgePopupSettings;
  threshold: Required<EffectiveDensityOptions>;
  totalWeights: number;
  unpruned: MaskResult;
  grid: EdgePopupGridPoint[];
  /** First degraded grid density (the paper's definition on this grid), magnitude mask and searched mask. */
  effectiveDensity: { magnitude: number; edgePopup: number };
  coreSize: { magnitude: number; edgePopup: number };
  /**
   * Share of the edge-popup core (its mask at its effective density) inside the magnitude core (the magnitude mask
   * at the magnitude effective density on the grid), and the share expected by chance (magnitude core density).
   */
  coreOverlap: { keptInMagnitudeCore: number; chance: number };
}

export interface LlcRecord extends FollowupMeta {
  followup: 'llc';
  settings: LlcSettings;
  llc: number;
  llcStd: number;
  llcPerChain: number[];
  lossTraces: number[][];
  lossAtOptimum: number;
  hyperparameters: Required<LlcOptions> & { n: number; parameters: number };
  /** Every parameter the chains move (weights and biases). */
  parameters: number;
  totalWeights: number;
}

export type FollowupRecord = EdgePopupRecord | LlcRecord;

/** Where JSON null is legitimate in a follow-up record. */
const NULLABLE = [/^\$\.provenance\.(commit|dirty)$/, /^\$\.commit$/, /^\$\.grid\[\d+\]\.edgePopup$/];

const EXECUTION_FIELDS = ['id', 'startedAt', 'endedAt', 'wallSeconds', 'pid', 'hostname', 'commit', 'provenance', 'retrained'];

export function followupRecordId(r: FollowupRecord): string {
  const content: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!EXECUTION_FIELDS.includes(k)) content[k] = v;
  return sha256Hex(canonicalStringify(content)).slice(0, 16);
}

/** Why a follow-up record read from disk cannot be trusted, or null. */
export function unsoundFollowup(v: unknown, followup: FollowupKind, hash: string, train: TrainStageRecord): string | null {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as FollowupRecord;
  if (r.followup !== followup) return `followup is ${String(r.followup)}, expected ${followup}`;
  if (r.hash !== hash) return `hash ${String(r.hash)} does not match the directory ${hash}`;
  if (r.inputs?.train !== train.id) return `computed from training ${String(r.inputs?.train)}, the run's training is ${train.id}`;
  const nonFinite = findNonFinite(r, NULLABLE);
  if (nonFinite) return nonFinite;
  const id = followupRecordId(r);
  if (r.id !== id) return `its id ${r.id} is not the hash of its content (${id}): edited or damaged`;
  return null;
}

// ---- which runs ----

/**
 * The committed MLP runs the follow-ups are computed on: data seed 0, init seeds 0-4, Glorot and He (10 per width)
 * at all five widths of the cpu profile (the paper's full MLP protocol).
 */
export function followupRuns(widths?: number[]): ExpandedRun[] {
  return expandProfileRuns('cpu', { arch: 'mlp', ...(widths ? { widths } : {}) }).filter((r) => r.descriptor.dataSeed === 0 && r.descriptor.initSeed < 5);
}

// ---- computation ----

function meta(followup: FollowupKind, hash: string, train: TrainStageRecord, started: Date, retrained: boolean): FollowupMeta {
  const ended = new Date();
  return {
    followup, id: '', hash, inputs: { train: train.id }, startedAt: started.toISOString(), endedAt: ended.toISOString(),
    wallSeconds: (ended.getTime() - started.getTime()) / 1000, pid: process.pid, hostname: os.hostname(), commit: gitState().commit,
    provenance: provenance(), retrained,
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
  model: tf.LayersModel, layers: PrunableLayer[], fit: ImageSet, validation: ImageSet, s: EdgePopupSettings, threshold: Required<EffectiveDensityOptions>,
  onPoint?: (density: number, searched: boolean) => void,
): Promise<Pick<EdgePopupRecord, 'unpruned' | 'grid' | 'effectiveDensity' | 'coreOverlap'>> {
  const kernels = getLayerKernels(model, layers);
  const unprunedEval = engine.evaluateModel(model, validation);
  const unpruned = { accuracy: unprunedEval.accuracy, loss: unprunedEval.loss };
  const degraded = (r: MaskResult): boolean => effectiveDensityDetail([{ density: 100, ...unpruned }, { density: 50, ...r }], threshold).degraded;
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
      density, epochs: s.epochs, seed: s.seed, scoreInit: s.scoreInit, learningRate: s.learningRate, momentum: s.momentum,
      weightDecay: s.weightDecay, batchSize: s.batchSize,
    });
    const v = maskedEvaluate(model, layers, r.masks, validation);
    const result = { accuracy: v.accuracy, loss: v.loss };
    searchedMasks.set(density, r.masks);
    grid[i].edgePopup = {
      ...result, fitLoss: r.epochLosses[r.chosenEpoch].loss, magnitudeFitLoss: r.epochLosses[0].loss, chosenEpoch: r.chosenEpoch,
      epochFitLosses: r.epochLosses.map((e) => e.loss), keptInMagnitude: maskFraction(r.masks, magnitudeMasks(kernels, density)),
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
    unpruned, grid, effectiveDensity: { magnitude: magnitudeED, edgePopup: edgePopupED },
    coreOverlap: { keptInMagnitudeCore: maskFraction(epCore, magnitudeMasks(kernels, magnitudeED)), chance: magnitudeED / 100 },
  };
}

/** Flat parameter vector of a dense stack (kernel then bias per layer, in order) and the loss on rows of a set. */
export function denseStackLoss(model: tf.LayersModel, set: ImageSet): { wStar: Float32Array; loss: (p: tf.Tensor1D, rows: Int32Array) => tf.Scalar } {
  const names = model.layers.filter((l) => l.getWeights().length > 0).map((l) => l.name);
  const chain = denseStack(model, names);
  if (!chain) throw new Error('llc: the model is not a plain dense stack (only the MLP is supported)');
  const shapes = chain.map((c) => model.getLayer(c.name).getWeights().map((w) => w.shape as number[]));
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
  | { kind: 'existing'; file: string }
  | { kind: 'computed'; file: string; wallSeconds: number }
  | { kind: 'locked' }
  | { kind: 'skipped'; why: string };

/**
 * Compute one follow-up of one finished run unless a sound record is present. Takes the run's lock (returns
 * 'locked' if another process holds it); 'skipped' for a run the follow-up is not for, or with no trained model.
 */
export async function computeFollowup(run: ExpandedRun, name: FollowupName, opts: { analysis?: AnalysisSettings; log?: (s: string) => void } = {}): Promise<FollowupOutcome> {
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
    const model = await engine.load(weightsDir(dir, 'trained'));
    logEvent(dir, 'followup-start', { followup: name, file });
    try {
      let record: FollowupRecord;
      const totalWeights = train.record.weightCounts.total;
      if (spec.kind === 'edgePopup') {
        const ep = spec.settings;
        const fit = subsetOf(data.train, Math.min(ep.fitImages, data.train.n), deriveSeed(d.dataSeed, 'edgePopupFit'));
        const g = await edgePopupGrid(model, engine.prunableLayers(d), fit, data.validation, ep, threshold, (density) => opts.log?.(`${hash} ${name} ${density}%`));
        record = {
          ...meta('edgePopup', hash, train.record, started, retrained), followup: 'edgePopup', settings: { ...ep, densities: [...ep.densities] }, threshold, totalWeights, ...g,
          coreSize: { magnitude: coreSize(g.effectiveDensity.magnitude, totalWeights), edgePopup: coreSize(g.effectiveDensity.edgePopup, totalWeights) },
        };
      } else {
        const llcS = spec.settings;
        const set = subsetOf(data.train, Math.min(llcS.dataImages, data.train.n), deriveSeed(d.dataSeed, 'llcData'));
        const { wStar, loss } = denseStackLoss(model, set);
        const { dataImages: _n, ...sgld } = llcS;
        const r = estimateLlc(loss, wStar, set.n, sgld);
        record = { ...meta('llc', hash, train.record, started, retrained), followup: 'llc', settings: { ...llcS }, ...r, parameters: wStar.length, totalWeights };
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

/** A follow-up record of a run if present and sound; null if absent (reading never computes); throws if unsound. */
export function readFollowup(hash: string, name: FollowupName, analysis?: AnalysisSettings): FollowupRecord | null {
  const dir = runDir(hash);
  const settings = resolveAnalysisSettings(analysis ?? {});
  const file = followupFile(name, settings);
  const r = readJson<unknown>(path.join(dir, file));
  if (!r.ok) {
    if (r.reason === 'missing') return null;
    throw new Error(`${path.join('outputs/runs', hash, file)}: unreadable (${r.error ?? r.reason}); delete it to recompute (npm run followups)`);
  }
  const state = inspectRun(dir, hash, settings);
  if (state.train.state !== 'done') throw new Error(`${path.join('outputs/runs', hash, file)}: its run has no sound train.json (${state.train.state})`);
  const problem = unsoundFollowup(r.value, FOLLOWUP_SPECS[name].kind, hash, state.train.record);
  if (problem) throw new Error(`${path.join('outputs/runs', hash, file)}: ${problem}; delete it to recompute (npm run followups)`);
  return r.value as FollowupRecord;
}
