// What a run directory holds, and how to tell a finished run from a partial or corrupt one.
//
// outputs/runs/<hash>/
//   descriptor.json        the resolved descriptor (written first; lets `status` list directories)
//   train.json             stage record: training summary, curve, weight counts, dataset sha (+ weights/)
//   prune.json             stage record: trajectories per strategy
//   analysis.json          stage record: effective density, overlaps, activation statistics, correctness
//   run.json               everything the notebooks need, assembled from the three stage records
//   events.jsonl           append-only log of stage starts/ends and redos (pid, host, time)
//   weights/init/          tfjs model.json + weights.bin at initialisation   (git-ignored)
//   weights/trained/       tfjs model.json + weights.bin after training (best epoch)   (git-ignored)
//   .lock                  while a process works on the run (git-ignored)
//
// Each stage record carries a random `id` and the ids of the records it was computed from, so a
// downstream record computed from an older upstream (e.g. a prune of a since-redone training) is stale.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readJson } from './atomic';
import { canonicalEqual as canonicalJsonEqual } from './canonical';
import { descriptorHash, resolveAnalysisSettings } from './descriptor';
import type { AnalysisSettings, Descriptor, StrategyName } from './descriptor';
import type { PackedBits } from './bits';

export const RUN_SCHEMA = 1;
export type StageName = 'train' | 'prune' | 'analysis';
export const STAGES: readonly StageName[] = ['train', 'prune', 'analysis'];
export type RunStatus = 'complete' | 'diverged';

export interface StageMeta {
  stage: StageName;
  /** Random id of this computation of the stage. */
  id: string;
  hash: string;
  /** Ids of the upstream stage records this one was computed from. */
  inputs: Partial<Record<StageName, string>>;
  startedAt: string;
  endedAt: string;
  wallSeconds: number;
  pid: number;
  hostname: string;
}

export interface Versions {
  node: string;
  tfjs: string;
  tfjsBackendWasm: string;
  density: string;
}

export interface Provenance {
  /** `git rev-parse HEAD` of the checkout that ran the stage, or null outside git. */
  commit: string | null;
  /** Uncommitted changes to tracked files when the run started. */
  dirty: boolean | null;
  /** Present (true) when a sweep was told --allow-dirty on a dirty tree: an experiment on uncommitted code. */
  allowDirty?: true;
  backend: { name: string; package: string; version: string; gpu: boolean; threads: number; simd: boolean; kernelFixes: string[] };
  versions: Versions;
  hostname: string;
  cpuModel: string;
  cpuCount: number;
  platform: string;
}

export interface DatasetRecord {
  name: string;
  description: string;
  path: string;
  sha256: string;
  trainImages: number;
  validationImages: number;
}

export interface TrainingSummary {
  status: RunStatus;
  stopReason: 'targetReached' | 'bestValidationLoss' | 'epochCap' | 'diverged';
  steps: number;
  epochs: number;
  wallSeconds: number;
  divergedAtStep?: number;
  bestEpoch?: number;
  /** Validation accuracy (fraction in [0,1], like lib/train and the trajectory) and loss of the trained weights, before any pruning. */
  validationAccuracy: number | null;
  validationLoss: number | null;
  /** Mean train loss per window (downsampled to at most CURVE_MAX_POINTS). */
  curve: { step: number; loss: number }[];
  /** Validation after each epoch (bestValidationLoss) or once at the end (targetTrainLoss); accuracy as a fraction. */
  validation: { epoch: number; loss: number; accuracy: number }[];
}

export interface WeightCounts {
  perLayer: Record<string, number>;
  total: number;
}

export interface TrajectoryRecordPoint {
  /** Percent of prunable weights remaining (100 first). */
  density: number;
  /** Validation accuracy, fraction in [0,1]. */
  accuracy: number;
  loss: number;
  /** Unpruned weights per layer (kept only for small trajectories of few layers; see run.ts). */
  remaining?: Record<string, number>;
}

export interface TrainStageRecord extends StageMeta {
  stage: 'train';
  descriptor: Descriptor;
  provenance: Provenance;
  dataset: DatasetRecord;
  training: TrainingSummary;
  weightCounts: WeightCounts;
  /** Which weight directories were written (a diverged run may have no trained weights). */
  weights: { init: boolean; trained: boolean };
}

export interface PruneStageRecord extends StageMeta {
  stage: 'prune';
  trajectory: TrajectoryRecordPoint[];
  baselines: Partial<Record<Exclude<StrategyName, 'layerwiseMagnitude'>, TrajectoryRecordPoint[]>>;
}

export interface ActivationStats {
  /** Mean over validation images of the Hoyer sparsity of the layer's activation vector (0 dense .. 1 one-hot). */
  hoyer: number | null;
  /** Mean over units of the class selectivity index (CCMAS). */
  selectivity: number | null;
  units: number;
}

export interface AnalysisStageRecord extends StageMeta {
  stage: 'analysis';
  settings: AnalysisSettings;
  /** Percent of prunable weights, at `settings`; null for a diverged run. */
  effectiveDensity: number | null;
  /** Absolute number of unpruned weights at the effective density. */
  coreSize: number | null;
  /** Per prunable layer: percent of the smallest-q |w| at init that are also among the smallest-q after training. */
  overlaps: Record<string, number> | null;
  activations: Record<string, ActivationStats> | null;
  /** 1 where the trained (unpruned) model classifies the validation image correctly, in validation order. */
  correctness: PackedBits | null;
}

export interface RunRecord {
  schema: number;
  hash: string;
  label: string;
  status: RunStatus;
  descriptor: Descriptor;
  provenance: Provenance & { startedAt: string; endedAt: string; datasetSha256: string; dataset: DatasetRecord };
  /** Per stage: when, how long, which process, and the record id. */
  stages: Record<StageName, Omit<StageMeta, 'stage' | 'hash' | 'inputs'>>;
  training: TrainingSummary;
  weightCounts: WeightCounts;
  trajectory: TrajectoryRecordPoint[] | null;
  baselines: PruneStageRecord['baselines'];
  analysis: AnalysisSettings;
  effectiveDensity: number | null;
  coreSize: number | null;
  overlaps: Record<string, number> | null;
  activations: Record<string, ActivationStats> | null;
  correctness: PackedBits | null;
}

export const STAGE_FILE: Record<StageName, string> = { train: 'train.json', prune: 'prune.json', analysis: 'analysis.json' };
export const RUN_FILE = 'run.json';
export const DESCRIPTOR_FILE = 'descriptor.json';
export const EVENTS_FILE = 'events.jsonl';
export const WEIGHTS_DIR = 'weights';

/** False when the run's weights/ folder is absent altogether (records shipped without weights, e.g. a clone). */
export function weightsPresent(dir: string): boolean {
  return fs.existsSync(path.join(dir, WEIGHTS_DIR));
}

export function weightsDir(dir: string, which: 'init' | 'trained'): string {
  return path.join(dir, WEIGHTS_DIR, which);
}

/**
 * Check a tfjs model directory: model.json parses and every weights file it names exists with exactly the
 * bytes its weight specs need (catches a .bin truncated by a kill). Returns a problem, or null if sound.
 */
export function checkModelDir(dir: string): string | null {
  const m = readJson<{ weightsManifest?: { paths: string[]; weights: { shape: number[]; dtype?: string }[] }[] }>(path.join(dir, 'model.json'));
  if (m.ok === false) return `${path.join(dir, 'model.json')} is ${m.reason}`;
  const manifest = m.value.weightsManifest;
  if (!Array.isArray(manifest)) return `${dir}/model.json has no weightsManifest`;
  for (const group of manifest) {
    let need = 0;
    for (const w of group.weights) {
      const bytesPer = w.dtype === undefined || w.dtype === 'float32' || w.dtype === 'int32' ? 4 : w.dtype === 'bool' ? 1 : 4;
      need += bytesPer * w.shape.reduce((a, b) => a * b, 1);
    }
    let have = 0;
    for (const p of group.paths) {
      try {
        have += fs.statSync(path.join(dir, p)).size;
      } catch {
        return `${path.join(dir, p)} is missing`;
      }
    }
    if (have !== need) return `${dir}: weight files hold ${have} bytes, the manifest needs ${need}`;
  }
  return null;
}

export type StageCheck<T> = { state: 'done'; record: T } | { state: 'missing' } | { state: 'invalid'; problem: string };

function checkMeta(v: unknown, stage: StageName, hash: string): string | null {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as Partial<StageMeta>;
  if (r.stage !== stage) return `stage is ${String(r.stage)}, expected ${stage}`;
  if (r.hash !== hash) return `hash ${String(r.hash)} does not match the directory ${hash}`;
  if (typeof r.id !== 'string' || typeof r.inputs !== 'object' || r.inputs === null) return 'no id/inputs';
  return null;
}

/** Everything known about one run directory, each stage classified as done, missing or invalid. */
export interface RunInspection {
  dir: string;
  hash: string;
  train: StageCheck<TrainStageRecord>;
  prune: StageCheck<PruneStageRecord>;
  analysis: StageCheck<AnalysisStageRecord>;
  run: StageCheck<RunRecord>;
}

function read<T>(file: string, validate: (v: unknown) => string | null): StageCheck<T> {
  const r = readJson<unknown>(file);
  if (r.ok === false) return r.reason === 'missing' ? { state: 'missing' } : { state: 'invalid', problem: `${path.basename(file)} is corrupt (${r.error})` };
  const problem = validate(r.value);
  return problem ? { state: 'invalid', problem: `${path.basename(file)}: ${problem}` } : { state: 'done', record: r.value as T };
}

/**
 * Classify each stage of the run in `dir` (named by `hash`), given the analysis settings wanted now
 * (default: the defaults; null: whatever the records used).
 * A stage is 'done' only if its record parses, names this hash, its descriptor hashes to it, its inputs are
 * the current upstream records and (train) its weights are intact; 'invalid' records must be redone.
 */
export function inspectRun(dir: string, hash: string, analysis?: AnalysisSettings | null): RunInspection {
  // null: any analysis settings will do (reading results, which recompute what depends on them).
  const wanted = analysis === null ? null : analysis ?? resolveAnalysisSettings();
  const train = read<TrainStageRecord>(path.join(dir, STAGE_FILE.train), (v) => {
    const p = checkMeta(v, 'train', hash);
    if (p) return p;
    const r = v as TrainStageRecord;
    let h: string;
    try {
      h = descriptorHash(r.descriptor);
    } catch (err) {
      return `its descriptor is invalid (${(err as Error).message})`;
    }
    if (h !== hash) return `its descriptor hashes to ${h}, not ${hash}`;
    if (!r.training || (r.training.status !== 'complete' && r.training.status !== 'diverged')) return 'no training status';
    if (!r.weights) return 'no weights entry';
    // Weights are git-ignored: a fresh clone has the records without weights/. That is a result (the notebooks
    // need only the records); a stage that needs the weights retrains first (see executeRun). A weights/
    // folder that is present but damaged is a partial run, redone.
    if (!weightsPresent(dir)) return null;
    for (const which of ['init', 'trained'] as const) {
      if (r.weights[which]) {
        const problem = checkModelDir(weightsDir(dir, which));
        if (problem) return `recorded ${which} weights are unusable: ${problem}`;
      }
    }
    return null;
  });
  const trainId = train.state === 'done' ? train.record.id : undefined;
  const prune = read<PruneStageRecord>(path.join(dir, STAGE_FILE.prune), (v) => {
    const p = checkMeta(v, 'prune', hash);
    if (p) return p;
    const r = v as PruneStageRecord;
    if (r.inputs.train !== trainId) return 'computed from a training record that is no longer current';
    if (!Array.isArray(r.trajectory)) return 'no trajectory';
    return null;
  });
  const pruneId = prune.state === 'done' ? prune.record.id : undefined;
  const analysisCheck = read<AnalysisStageRecord>(path.join(dir, STAGE_FILE.analysis), (v) => {
    const p = checkMeta(v, 'analysis', hash);
    if (p) return p;
    const r = v as AnalysisStageRecord;
    if (r.inputs.train !== trainId || r.inputs.prune !== pruneId) return 'computed from stage records that are no longer current';
    if (wanted && !canonicalJsonEqual(r.settings, wanted)) return 'computed with other analysis settings';
    return null;
  });
  const analysisId = analysisCheck.state === 'done' ? analysisCheck.record.id : undefined;
  const run = read<RunRecord>(path.join(dir, RUN_FILE), (v) => {
    if (typeof v !== 'object' || v === null) return 'not an object';
    const r = v as Partial<RunRecord>;
    if (r.schema !== RUN_SCHEMA) return `schema ${String(r.schema)}, expected ${RUN_SCHEMA}`;
    if (r.hash !== hash) return `hash ${String(r.hash)} does not match the directory ${hash}`;
    try {
      if (descriptorHash(r.descriptor) !== hash) return 'its descriptor hashes to another directory';
    } catch (err) {
      return `its descriptor is invalid (${(err as Error).message})`;
    }
    if (r.status !== 'complete' && r.status !== 'diverged') return `status ${String(r.status)}`;
    if (!r.stages) return 'no stages';
    // The stage records are the source of truth: run.json is only a result while it is the assembly of
    // sound, current records (so damaged weights or a corrupt record make the run partial, to be redone).
    if (trainId === undefined || r.stages.train?.id !== trainId) return 'not assembled from a sound, current training record';
    if (r.status === 'complete') {
      if (pruneId === undefined || r.stages.prune?.id !== pruneId) return 'not assembled from a sound, current prune record';
      if (analysisId === undefined || r.stages.analysis?.id !== analysisId) return 'not assembled from a sound, current analysis record';
    }
    if (wanted && !canonicalJsonEqual(r.analysis, wanted)) return 'analysed with other analysis settings';
    return null;
  });
  return { dir, hash, train, prune, analysis: analysisCheck, run };
}

/** Append one line to the run's event log (O_APPEND: lines from concurrent writers do not interleave). */
export function logEvent(dir: string, event: string, detail: Record<string, unknown> = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const line = JSON.stringify({ t: new Date().toISOString(), pid: process.pid, host: os.hostname(), event, ...detail });
  fs.appendFileSync(path.join(dir, EVENTS_FILE), line + '\n');
}

export interface RunEvent {
  t: string;
  pid: number;
  host: string;
  event: string;
  [k: string]: unknown;
}

export function readEvents(dir: string): RunEvent[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, EVENTS_FILE), 'utf8');
  } catch {
    return [];
  }
  const out: RunEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as RunEvent);
    } catch {
      // a line cut by a kill: the log is diagnostic, skip it
    }
  }
  return out;
}
