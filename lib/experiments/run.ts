// One run = three stages (train -> prune -> analyse) in outputs/runs/<hash>/, each skipped when its record
// is present and sound. A run is worked on only under its directory's lock; records are written atomically
// and last (weights first), so a kill at any instant leaves either a sound record or none.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { runDir } from '../paths';
import { cleanTempFiles, readJson, replaceDirAtomic, writeJsonAtomic } from '../store/atomic';
import { encodeBits } from '../store/bits';
import { canonicalEqual } from '../store/canonical';
import { AnalysisSettings, Descriptor, descriptorHash, resolveAnalysisSettings, resolveDescriptor, shortLabel } from '../store/descriptor';
import { LockInfo, tryLock } from '../store/lock';
import {
  AnalysisStageRecord, DESCRIPTOR_FILE, inspectRun, logEvent, PruneStageRecord, RUN_FILE, RUN_SCHEMA, RunInspection, RunRecord,
  STAGE_FILE, StageCheck, StageMeta, StageName, TrainingSummary, TrainStageRecord, TrajectoryRecordPoint, weightsDir, weightsPresent,
} from '../store/runRecord';
import * as engine from './engine';
import { gitState, provenance } from './provenance';

/** Training curves longer than this are thinned for run.json (the notebooks plot them; 200 points draw the shape). */
export const CURVE_MAX_POINTS = 200;

export type RunOutcome =
  | { kind: 'existing'; hash: string; status: RunRecord['status'] }
  | { kind: 'completed'; hash: string; status: RunRecord['status']; stagesRun: StageName[]; wallSeconds: number }
  | { kind: 'locked'; hash: string; holder: LockInfo | null }
  | { kind: 'interrupted'; hash: string; stagesRun: StageName[] }
  | { kind: 'failed'; hash: string; stage: StageName | 'assemble'; error: Error };

export interface RunOptions {
  analysis?: AnalysisSettings;
  /** Polled between stages: true = stop after the stage just finished (first Ctrl-C). */
  shouldStop?: () => boolean;
  onStage?: (stage: StageName) => void;
  onTrainProgress?: (p: { step: number; epochs: number; trainLoss?: number }) => void;
  /** Written into the lock file (who is working on this run). */
  purpose?: string;
}

/** Is this run finished (a sound run.json for these analysis settings)? Cheap: reads JSON, touches no tfjs. */
export function isRunDone(descriptor: unknown, analysis?: AnalysisSettings): boolean {
  const hash = descriptorHash(descriptor);
  return inspectRun(runDir(hash), hash, analysis ?? resolveAnalysisSettings()).run.state === 'done';
}

/** Evenly thinned copy keeping the first and last point. */
export function downsample<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(xs[Math.round((i * (xs.length - 1)) / (max - 1))]);
  return out;
}

function newMeta<S extends StageName>(stage: S, hash: string, inputs: StageMeta['inputs'], started: Date): StageMeta & { stage: S; commit: string | null } {
  const ended = new Date();
  return {
    stage, id: crypto.randomBytes(8).toString('hex'), hash, inputs,
    startedAt: started.toISOString(), endedAt: ended.toISOString(), wallSeconds: (ended.getTime() - started.getTime()) / 1000,
    pid: process.pid, hostname: os.hostname(), commit: gitState().commit,
  };
}

/** Save a model into dir via a staging directory, so `dir` is the old weights or the new, never a mix. */
async function saveAtomic(model: tf.LayersModel, dir: string): Promise<void> {
  const staging = `${dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.rmSync(staging, { recursive: true, force: true });
  await engine.save(model, staging);
  replaceDirAtomic(staging, dir);
}

function toPoints(traj: { density: number; accuracy: number; loss: number; remaining?: Record<string, number> }[]): TrajectoryRecordPoint[] {
  return traj.map((p) => ({ density: p.density, accuracy: p.accuracy, loss: p.loss, ...(p.remaining ? { remaining: { ...p.remaining } } : {}) }));
}

// ---- stages ----

async function trainStage(dir: string, d: Descriptor, hash: string, opts: RunOptions): Promise<TrainStageRecord> {
  const started = new Date();
  const data = await engine.prepareData(d);
  const model = engine.buildModel(d);
  try {
    await saveAtomic(model, weightsDir(dir, 'init'));
    const result = await engine.train(model, data, d, opts.onTrainProgress);
    const diverged = result.status === 'diverged';
    let validationAccuracy: number | null = null;
    let validationLoss: number | null = null;
    if (!diverged) {
      await saveAtomic(model, weightsDir(dir, 'trained'));
      const ev = engine.evaluateModel(model, data.validation);
      validationAccuracy = ev.accuracy;
      validationLoss = ev.loss;
    } else {
      fs.rmSync(weightsDir(dir, 'trained'), { recursive: true, force: true });
    }
    const training: TrainingSummary = {
      status: result.status, stopReason: result.stopReason, steps: result.steps, epochs: result.epochs, wallSeconds: result.wallSeconds,
      ...(result.divergedAtStep !== undefined ? { divergedAtStep: result.divergedAtStep } : {}),
      ...(result.bestEpoch !== undefined ? { bestEpoch: result.bestEpoch } : {}),
      validationAccuracy, validationLoss,
      curve: downsample(result.curve, CURVE_MAX_POINTS),
      validation: result.validation,
    };
    const record: TrainStageRecord = {
      ...newMeta('train', hash, {}, started), descriptor: d, provenance: provenance(), dataset: data.dataset,
      training, weightCounts: engine.countWeights(d), weights: { init: true, trained: !diverged },
    };
    writeJsonAtomic(path.join(dir, STAGE_FILE.train), record);
    return record;
  } finally {
    model.dispose();
  }
}

async function pruneStage(dir: string, d: Descriptor, hash: string, train: TrainStageRecord): Promise<PruneStageRecord> {
  const started = new Date();
  const data = await engine.prepareData(d);
  // Always from the saved weights: a resumed run and an uninterrupted one then prune exactly the same model.
  const model = await engine.load(weightsDir(dir, 'trained'));
  try {
    const baselines: PruneStageRecord['baselines'] = {};
    let trajectory: TrajectoryRecordPoint[] = [];
    for (const strategy of d.pruning.strategies) {
      const points = toPoints(await engine.trajectory(model, d, data.validation, strategy));
      if (strategy === 'layerwiseMagnitude') trajectory = points;
      else baselines[strategy] = points;
    }
    const record: PruneStageRecord = { ...newMeta('prune', hash, { train: train.id }, started), trajectory, baselines };
    writeJsonAtomic(path.join(dir, STAGE_FILE.prune), record);
    return record;
  } finally {
    model.dispose();
  }
}

async function analysisStage(dir: string, d: Descriptor, hash: string, train: TrainStageRecord, prune: PruneStageRecord, settings: AnalysisSettings): Promise<AnalysisStageRecord> {
  const started = new Date();
  const data = await engine.prepareData(d);
  const initModel = await engine.load(weightsDir(dir, 'init'));
  const trained = await engine.load(weightsDir(dir, 'trained'));
  try {
    const ed = engine.effectiveDensityOf(prune.trajectory, settings);
    const record: AnalysisStageRecord = {
      ...newMeta('analysis', hash, { train: train.id, prune: prune.id }, started),
      settings,
      effectiveDensity: ed,
      coreSize: engine.coreSizeOf(ed, train.weightCounts.total),
      overlaps: engine.overlaps(initModel, trained, d, settings.overlapQuantile),
      activations: engine.activationStats(trained, data),
      correctness: encodeBits(engine.correctnessOf(trained, data.validation)),
    };
    // The stage's own clock must include the passes above, so take the end time now.
    Object.assign(record, { endedAt: new Date().toISOString(), wallSeconds: (Date.now() - started.getTime()) / 1000 });
    writeJsonAtomic(path.join(dir, STAGE_FILE.analysis), record);
    return record;
  } finally {
    initModel.dispose();
    trained.dispose();
  }
}

function stageSummary(r: StageMeta): RunRecord['stages']['train'] {
  return { id: r.id, startedAt: r.startedAt, endedAt: r.endedAt, wallSeconds: r.wallSeconds, pid: r.pid, hostname: r.hostname };
}

/** run.json: everything the notebooks need, from the stage records (a diverged run has no prune/analysis). */
export function assembleRunRecord(hash: string, train: TrainStageRecord, prune: PruneStageRecord | null, analysis: AnalysisStageRecord | null, settings: AnalysisSettings): RunRecord {
  const last = analysis ?? prune ?? train;
  const skipped = { id: '', startedAt: train.endedAt, endedAt: train.endedAt, wallSeconds: 0, pid: train.pid, hostname: train.hostname };
  return {
    schema: RUN_SCHEMA,
    hash,
    label: shortLabel(train.descriptor),
    status: train.training.status,
    descriptor: train.descriptor,
    provenance: { ...train.provenance, startedAt: train.startedAt, endedAt: last.endedAt, datasetSha256: train.dataset.sha256, dataset: train.dataset },
    stages: { train: stageSummary(train), prune: prune ? stageSummary(prune) : skipped, analysis: analysis ? stageSummary(analysis) : skipped },
    training: train.training,
    weightCounts: train.weightCounts,
    trajectory: prune ? prune.trajectory : null,
    baselines: prune ? prune.baselines : {},
    analysis: settings,
    effectiveDensity: analysis ? analysis.effectiveDensity : null,
    coreSize: analysis ? analysis.coreSize : null,
    overlaps: analysis ? analysis.overlaps : null,
    activations: analysis ? analysis.activations : null,
    correctness: analysis ? analysis.correctness : null,
  };
}

function removeIfPresent(dir: string, names: string[]): void {
  for (const n of names) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
}

/**
 * Bring one run to completion, doing only the stages whose records are missing or unsound.
 * Takes the run directory's lock; returns 'locked' at once if another live process holds it.
 */
export async function executeRun(input: unknown, opts: RunOptions = {}): Promise<RunOutcome> {
  const d = resolveDescriptor(input);
  const settings = opts.analysis ?? resolveAnalysisSettings();
  const hash = descriptorHash(d);
  const dir = runDir(hash);
  if (inspectRun(dir, hash, settings).run.state === 'done') return { kind: 'existing', hash, status: readRunStatus(dir) };

  const attempt = tryLock(dir, opts.purpose);
  if (attempt.acquired === false) return { kind: 'locked', hash, holder: attempt.holder };
  const stagesRun: StageName[] = [];
  let current: StageName | 'assemble' = 'train';
  const t0 = Date.now();
  try {
    // Re-inspect under the lock: another process may have finished the run between our check and the lock.
    let state: RunInspection = inspectRun(dir, hash, settings);
    if (state.run.state === 'done') return { kind: 'existing', hash, status: readRunStatus(dir) };
    const removed = cleanTempFiles(dir);
    if (removed.length) logEvent(dir, 'cleaned', { files: removed });
    const descFile = readJson<unknown>(path.join(dir, DESCRIPTOR_FILE));
    if (!descFile.ok || !canonicalEqual(descFile.value, d)) writeJsonAtomic(path.join(dir, DESCRIPTOR_FILE), d);
    // Nothing stale may be read as a result while stages are redone.
    if (state.run.state === 'invalid') {
      logEvent(dir, 'redo', { file: RUN_FILE, problem: state.run.problem });
      removeIfPresent(dir, [RUN_FILE]);
    }
    await initBackend();

    let train: TrainStageRecord;
    // Records shipped without weights (a clone) are results, but a stage still to run needs the weights: retrain
    // (deterministic: same descriptor and backend give the same weights).
    const needsWeights = state.train.state === 'done' && state.train.record.training.status === 'complete' &&
      (state.prune.state !== 'done' || state.analysis.state !== 'done');
    if (needsWeights && !weightsPresent(dir)) {
      logEvent(dir, 'redo', { stage: 'train', problem: 'weights/ absent and a later stage needs them' });
      state = { ...state, train: { state: 'missing' } };
    }
    // One stage with its log lines (why it is redone, start, end), then a fresh look at the records.
    const runStage = async <R extends { wallSeconds: number }>(stage: StageName, check: StageCheck<unknown>, work: () => Promise<R>, endDetail: (r: R) => Record<string, unknown> = () => ({})): Promise<R> => {
      current = stage;
      if (check.state === 'invalid') logEvent(dir, 'redo', { stage, problem: check.problem });
      opts.onStage?.(stage);
      logEvent(dir, 'stage-start', { stage });
      const r = await work();
      logEvent(dir, 'stage-end', { stage, ...endDetail(r), wallSeconds: r.wallSeconds });
      stagesRun.push(stage);
      state = inspectRun(dir, hash, settings);
      return r;
    };

    if (state.train.state === 'done') {
      train = state.train.record;
    } else {
      train = await runStage('train', state.train, () => {
        removeIfPresent(dir, [STAGE_FILE.train, STAGE_FILE.prune, STAGE_FILE.analysis, 'weights']);
        return trainStage(dir, d, hash, opts);
      }, (r) => ({ status: r.training.status }));
    }

    let prune: PruneStageRecord | null = null;
    let analysis: AnalysisStageRecord | null = null;
    if (train.training.status === 'complete') {
      if (state.prune.state === 'done') {
        prune = state.prune.record;
      } else {
        if (await stopRequested(opts)) return { kind: 'interrupted', hash, stagesRun };
        const trained = train;
        prune = await runStage('prune', state.prune, () => pruneStage(dir, d, hash, trained));
      }
      if (state.analysis.state === 'done') {
        analysis = state.analysis.record;
      } else {
        if (await stopRequested(opts)) return { kind: 'interrupted', hash, stagesRun };
        const [trained, pruned] = [train, prune];
        analysis = await runStage('analysis', state.analysis, () => analysisStage(dir, d, hash, trained, pruned, settings));
      }
    }
    current = 'assemble';
    const record = assembleRunRecord(hash, train, prune, analysis, settings);
    writeJsonAtomic(path.join(dir, RUN_FILE), record);
    logEvent(dir, 'run-complete', { status: record.status });
    return { kind: 'completed', hash, status: record.status, stagesRun, wallSeconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    try {
      logEvent(dir, 'stage-failed', { stage: current, error: error.message });
    } catch {
      // the log is diagnostic; the failure is reported to the caller either way
    }
    return { kind: 'failed', hash, stage: current, error };
  } finally {
    attempt.lock.release();
  }
}

/**
 * Let pending I/O callbacks run (a signal handler, a 'stop' message from a supervisor: both are macrotasks
 * that a chain of awaits on already-settled work would starve), then ask whether to stop.
 */
async function stopRequested(opts: RunOptions): Promise<boolean> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  return opts.shouldStop?.() ?? false;
}

function readRunStatus(dir: string): RunRecord['status'] {
  const r = readJson<RunRecord>(path.join(dir, RUN_FILE));
  return r.ok ? r.value.status : 'complete';
}
