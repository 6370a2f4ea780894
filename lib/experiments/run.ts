// One run = three stages (train -> prune -> analyse) in outputs/runs/<hash>/, each skipped when its record
// is present and sound. A run is worked on only under its directory's lock; records are written atomically
// and last (weights first), so a kill at any instant leaves either a sound record or none.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { isAnalysisOrRunFileName, runDir, TRAIN_CHECKPOINT_FILE, WEIGHTS_DIR } from '../paths';
import { cleanTempFiles, readJson, replaceDirAtomic, writeJsonAtomic } from '../store/atomic';
import { encodeBits } from '../store/bits';
import { canonicalEqual } from '../store/canonical';
import { AnalysisSettings, Descriptor, descriptorHash, resolveAnalysisSettings, resolveDescriptor } from '../store/descriptor';
import { LockInfo, tryLock } from '../store/lock';
import {
  analysisFile,
  AnalysisStageRecord,
  assembleRunRecord,
  checkWeightValues,
  DESCRIPTOR_FILE,
  inspectRun,
  logEvent,
  PruneStageRecord,
  RunInspection,
  RunRecord,
  runFile,
  sealStageRecord,
  STAGE_FILE,
  StageCheck,
  StageMeta,
  StageName,
  TrainingSummary,
  TrainStageRecord,
  TrajectoryRecordPoint,
  weightsDir,
  weightsPresent,
} from '../store/runRecord';
import { chanceMargin, effectiveDensityDetail } from '../analysis/effectiveDensity';

export { assembleRunRecord };
import * as engine from './engine';
import { TrainingInterrupted } from '../train';
import { gitState, provenance } from './provenance';

/** The training stage's epoch checkpoint in a run directory (lib/train/checkpoint.ts); removed when training ends. */
export { TRAIN_CHECKPOINT_FILE };

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
  return inspectRun(runDir(hash), hash, analysis).run.state === 'done';
}

/** Evenly thinned copy keeping the first and last point. */
export function downsample<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(xs[Math.round((i * (xs.length - 1)) / (max - 1))]);
  return out;
}

/** The execution fields of a stage record; its id is filled in by sealStageRecord from the content. */
function newMeta<S extends StageName>(stage: S, hash: string, inputs: StageMeta['inputs'], started: Date): StageMeta & { stage: S; commit: string | null } {
  const ended = new Date();
  return {
    stage,
    id: '',
    hash,
    inputs,
    startedAt: started.toISOString(),
    endedAt: ended.toISOString(),
    wallSeconds: (ended.getTime() - started.getTime()) / 1000,
    pid: process.pid,
    hostname: os.hostname(),
    commit: gitState().commit,
  };
}

/** Save a model into dir via a staging directory, so `dir` is the old weights or the new, never a mix. */
async function saveAtomic(model: tf.LayersModel, dir: string): Promise<void> {
  const staging = `${dir}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  fs.rmSync(staging, { recursive: true, force: true });
  await engine.saveModel(model, staging);
  replaceDirAtomic(staging, dir);
}

function toPoints(traj: { density: number; accuracy: number; loss: number; remaining?: Record<string, number> }[]): TrajectoryRecordPoint[] {
  return traj.map((p) => ({ density: p.density, accuracy: p.accuracy, loss: p.loss, ...(p.remaining ? { remaining: { ...p.remaining } } : {}) }));
}

// ---- stages ----

/**
 * Train and save the weights. With `previous` (a sound record whose weights are missing), a training whose
 * content id equals it only restores the weights: the record, and everything computed from it, stay as they are.
 */
async function trainStage(
  dir: string,
  d: Descriptor,
  hash: string,
  opts: RunOptions,
  previous?: TrainStageRecord,
  restoreOnly = false,
): Promise<TrainStageRecord> {
  const started = new Date();
  const data = await engine.prepareData(d);
  const model = engine.buildModel(d);
  try {
    await saveAtomic(model, weightsDir(dir, 'init'));
    // Epoch checkpoints beside the weights (git-ignored): a stopped or killed CIFAR run resumes at its last epoch.
    const result = await engine.train(model, data, d, opts.onTrainProgress, {
      checkpointFile: path.join(dir, TRAIN_CHECKPOINT_FILE),
      checkpointTag: gitState().commit ?? undefined,
      stopAtEpochEnd: opts.shouldStop,
    });
    const diverged = result.status === 'diverged';
    let validationAccuracy: number | null = null;
    let validationLoss: number | null = null;
    if (!diverged) {
      await saveAtomic(model, weightsDir(dir, 'trained'));
      const ev = engine.evaluate(model, data.validation);
      validationAccuracy = ev.accuracy;
      validationLoss = ev.loss;
    } else {
      fs.rmSync(weightsDir(dir, 'trained'), { recursive: true, force: true });
    }
    const training: TrainingSummary = {
      status: result.status,
      stopReason: result.stopReason,
      steps: result.steps,
      epochs: result.epochs,
      wallSeconds: result.wallSeconds,
      ...(result.divergedAtStep !== undefined ? { divergedAtStep: result.divergedAtStep } : {}),
      ...(result.bestEpoch !== undefined ? { bestEpoch: result.bestEpoch } : {}),
      validationAccuracy,
      validationLoss,
      curve: downsample(result.curve, CURVE_MAX_POINTS),
      validation: result.validation,
    };
    const record: TrainStageRecord = sealStageRecord({
      ...newMeta('train', hash, {}, started),
      descriptor: d,
      provenance: provenance(),
      dataset: data.dataset,
      training,
      weightCounts: engine.countWeights(d),
      weights: { init: true, trained: !diverged },
    });
    if (previous && previous.id === record.id) return previous;
    if (restoreOnly) {
      fs.rmSync(path.join(dir, WEIGHTS_DIR), { recursive: true, force: true });
      throw new Error(
        `run ${hash}: retraining to restore its weights did not reproduce the recorded training (train.json id ${previous?.id ?? 'none'}, ` +
          `retrained ${record.id}); the record is kept and no weights are written. Another backend or changed kernels? (recorded: ${previous?.provenance.backend.name ?? '?'})`,
      );
    }
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
  const model = await engine.loadModel(weightsDir(dir, 'trained'));
  try {
    const baselines: PruneStageRecord['baselines'] = {};
    let trajectory: TrajectoryRecordPoint[] = [];
    for (const strategy of d.pruning.strategies) {
      const points = toPoints(await engine.trajectory(model, d, data.validation, strategy));
      if (strategy === 'layerwiseMagnitude') trajectory = points;
      else baselines[strategy] = points;
    }
    const record: PruneStageRecord = sealStageRecord({ ...newMeta('prune', hash, { train: train.id }, started), trajectory, baselines });
    writeJsonAtomic(path.join(dir, STAGE_FILE.prune), record);
    return record;
  } finally {
    model.dispose();
  }
}

async function analysisStage(
  dir: string,
  d: Descriptor,
  hash: string,
  train: TrainStageRecord,
  prune: PruneStageRecord,
  settings: AnalysisSettings,
): Promise<AnalysisStageRecord> {
  const started = new Date();
  const data = await engine.prepareData(d);
  const initModel = await engine.loadModel(weightsDir(dir, 'init'));
  const trained = await engine.loadModel(weightsDir(dir, 'trained'));
  try {
    const ed = effectiveDensityDetail(prune.trajectory, { metric: settings.metric, threshold: settings.threshold, mode: settings.mode });
    const meta = newMeta('analysis', hash, { train: train.id, prune: prune.id }, started);
    const record: AnalysisStageRecord = {
      ...meta,
      settings,
      effectiveDensity: ed.density,
      degraded: ed.degraded,
      chanceMargin: chanceMargin(prune.trajectory, data.numClasses),
      coreSize: engine.coreSize(ed.density, train.weightCounts.total),
      overlaps: engine.overlaps(initModel, trained, d, settings.overlapQuantile),
      activations: engine.activationStats(trained, data),
      correctness: encodeBits(engine.correctness(trained, data.validation)),
    };
    // The stage's own clock must include the passes above, so take the end time now.
    const sealed = sealStageRecord({ ...record, endedAt: new Date().toISOString(), wallSeconds: (Date.now() - started.getTime()) / 1000 });
    writeJsonAtomic(path.join(dir, analysisFile(settings)), sealed);
    return sealed;
  } finally {
    initModel.dispose();
    trained.dispose();
  }
}

/**
 * Make sure a finished run's weights (init and trained) are on disk, for analyses beyond the run's own stages.
 * Records are shipped without weights (a clone), so absent weights are restored by retraining, which is
 * deterministic: it must reproduce the recorded training exactly (the same content id), or it throws and writes
 * nothing, because the record and every result computed from it describe the recorded weights. The caller holds
 * the run directory's lock. Returns whether it retrained.
 */
export async function restoreWeights(dir: string, d: Descriptor, hash: string, train: TrainStageRecord): Promise<boolean> {
  if (train.training.status !== 'complete') throw new Error(`run ${hash}: training ${train.training.status}, so it has no trained weights`);
  if (weightsPresent(dir)) {
    const damaged = checkWeightValues(weightsDir(dir, 'trained')) ?? checkWeightValues(weightsDir(dir, 'init'));
    if (!damaged) return false;
    logEvent(dir, 'redo', { stage: 'train', problem: `damaged weights: ${damaged}` });
  }
  await initBackend();
  fs.rmSync(path.join(dir, WEIGHTS_DIR), { recursive: true, force: true });
  logEvent(dir, 'stage-start', { stage: 'train', restoreWeights: true });
  const r = await trainStage(dir, d, hash, {}, train, true);
  logEvent(dir, 'stage-end', { stage: 'train', restoreWeights: true, recordKept: r === train });
  return true;
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
  if (inspectRun(dir, hash, settings).run.state === 'done') return { kind: 'existing', hash, status: readRunStatus(dir, settings) };

  const attempt = tryLock(dir, opts.purpose);
  if (attempt.acquired === false) return { kind: 'locked', hash, holder: attempt.holder };
  const stagesRun: StageName[] = [];
  let current: StageName | 'assemble' = 'train';
  const t0 = Date.now();
  try {
    // Re-inspect under the lock: another process may have finished the run between our check and the lock.
    let state: RunInspection = inspectRun(dir, hash, settings);
    if (state.run.state === 'done') return { kind: 'existing', hash, status: readRunStatus(dir, settings) };
    const removed = cleanTempFiles(dir);
    if (removed.length) logEvent(dir, 'cleaned', { files: removed });
    const descFile = readJson<unknown>(path.join(dir, DESCRIPTOR_FILE));
    if (!descFile.ok || !canonicalEqual(descFile.value, d)) writeJsonAtomic(path.join(dir, DESCRIPTOR_FILE), d);
    // Nothing stale may be read as a result while stages are redone.
    if (state.run.state === 'invalid') {
      logEvent(dir, 'redo', { file: runFile(settings), problem: state.run.problem });
      removeIfPresent(dir, [runFile(settings)]);
    }
    await initBackend();

    // One stage with its log lines (why it is redone, start, end), then a fresh look at the records.
    const runStage = async <R extends { wallSeconds: number }>(
      stage: StageName,
      check: StageCheck<unknown>,
      work: () => Promise<R>,
      endDetail: (r: R) => Record<string, unknown> = () => ({}),
    ): Promise<R> => {
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
    // A redone training invalidates everything computed from the old one, at every analysis setting.
    const downstream = (): string[] => fs.readdirSync(dir).filter((n) => n === STAGE_FILE.prune || isAnalysisOrRunFileName(n));
    const retrain = (check: StageCheck<unknown>, previous?: TrainStageRecord): Promise<TrainStageRecord> =>
      runStage(
        'train',
        check,
        async () => {
          removeIfPresent(dir, previous ? [WEIGHTS_DIR] : [STAGE_FILE.train, WEIGHTS_DIR, ...downstream()]);
          const r = await trainStage(dir, d, hash, opts, previous);
          if (previous && r !== previous) removeIfPresent(dir, downstream());
          return r;
        },
        (r) => ({ status: r.training.status, ...(previous ? { recordKept: r === previous } : {}) }),
      );

    let train: TrainStageRecord;
    const laterStagesToDo = (): boolean => state.prune.state !== 'done' || state.analysis.state !== 'done';
    if (state.train.state === 'done') {
      train = state.train.record;
      if (train.training.status === 'complete' && laterStagesToDo()) {
        // A stage still to run needs the weights. Records shipped without weights (a clone) are results: retrain
        // (deterministic) to restore them, keeping the record and all after it when the training's content id is
        // unchanged. Weights of the right size holding NaN are damage: redo the training and all after it.
        const damaged = !weightsPresent(dir) ? null : (checkWeightValues(weightsDir(dir, 'trained')) ?? checkWeightValues(weightsDir(dir, 'init')));
        if (!weightsPresent(dir)) {
          train = await retrain({ state: 'invalid', problem: 'weights/ absent and a later stage needs them' }, train);
        } else if (damaged) {
          train = await retrain({ state: 'invalid', problem: `damaged weights: ${damaged}` });
        }
      }
    } else {
      train = await retrain(state.train);
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
    writeJsonAtomic(path.join(dir, runFile(settings)), record);
    logEvent(dir, 'run-complete', { status: record.status });
    return { kind: 'completed', hash, status: record.status, stagesRun, wallSeconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    if (err instanceof TrainingInterrupted) {
      logEvent(dir, 'stage-interrupted', { stage: current, afterEpoch: err.epoch });
      return { kind: 'interrupted', hash, stagesRun };
    }
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

function readRunStatus(dir: string, settings: AnalysisSettings): RunRecord['status'] {
  const r = readJson<RunRecord>(path.join(dir, runFile(settings)));
  return r.ok ? r.value.status : 'complete';
}
