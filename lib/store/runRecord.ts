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
// Each stage record's `id` is the hash of what it computed (stageRecordId: not when, where or by which
// process), and it names the ids of the records it was computed from, so a downstream record computed from
// another upstream (e.g. a prune of a since-redone training) is stale, a hand edit shows as an id that no
// longer matches, and a bit-identical rerun on another machine gets the same ids.
import type { BackendInfo } from '../backend';
import type { WeightCounts } from '../models/counts';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  analysisFileName,
  DESCRIPTOR_FILE,
  EVENTS_FILE,
  isRunFileName,
  MODEL_JSON,
  RUN_FILE,
  runFileName,
  STAGE_FILE,
  WEIGHTS_DIR,
  weightsDir,
} from '../paths';
import { readJson } from './atomic';
import { canonicalEqual as canonicalJsonEqual, canonicalStringify, sha256Hex } from './canonical';
import { descriptorHash, resolveAnalysisSettings, shortLabel } from './descriptor';
import type { AnalysisSettings, Descriptor, StrategyName } from './descriptor';
import type { PackedBits } from './bits';

/** 2: content ids, dataset by name/copy/sha256 (no path), degraded flag and margin over chance. */
export const RUN_SCHEMA = 2;
/** What to run on records written by older code (schema 1: random ids, machine paths). */
export const MIGRATE_COMMAND = 'npx tsx lib/store/migrate.ts';
export type StageName = 'train' | 'prune' | 'analysis';
export const STAGES: readonly StageName[] = ['train', 'prune', 'analysis'];
export type RunStatus = 'complete' | 'diverged';

export interface StageMeta {
  stage: StageName;
  /** Hash of what the stage computed (see stageRecordId). */
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
  /** Present when the run came through a job queue (npm run worker): the queue's name and its Redis, without credentials. */
  queue?: { name: string; redis: string };
  /** The backend as lib/backend describes it (the webgpu adapter included); `name` is any string, since a record may
   *  come from a backend this version does not know. */
  backend: Omit<BackendInfo, 'name' | 'nativeConv' | 'nativeBatchNorm'> & {
    name: string;
    /** wasm: which convolutions computed the stage ('xnnpack', or the native ones: 'oneDNN 2.6.3 jit:avx2'); absent in records before them: XNNPACK's. */
    convolutions?: string;
    /** wasm: which batch normalization computed the stage ('tfjs': tfjs's ops; 'native'); absent in records before it: tfjs's. */
    batchNorm?: string;
  };
  versions: Versions;
  hostname: string;
  cpuModel: string;
  cpuCount: number;
  platform: string;
}

/**
 * Which data a run read: by name, copy and sha256, never by where it lay on the machine that ran it (a path
 * would make identical runs on two machines differ).
 */
export interface DatasetRecord {
  name: string;
  /** Which archive: 'original' (MNIST idx files), 'official' or 'jpeg-derived' (CIFAR-10), else 'unknown'. */
  copy: string;
  description: string;
  sha256: string;
  trainImages: number;
  validationImages: number;
}

export interface TrainingSummary {
  status: RunStatus;
  stopReason: 'targetReached' | 'bestValidationLoss' | 'epochCap' | 'noImprovement' | 'diverged';
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

// Weights only, per prunable layer and in total: lib/models owns the type.
export type { WeightCounts };

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
  /** False when no pruning level degraded beyond the threshold: the effective density is then only the last level's. */
  degraded: boolean;
  /** Unpruned validation accuracy minus chance (1 / classes), in percentage points: near 0 = never learned. */
  chanceMargin: number;
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
  /** As the analysis record's; null for a diverged run. */
  degraded: boolean | null;
  chanceMargin: number | null;
  coreSize: number | null;
  overlaps: Record<string, number> | null;
  activations: Record<string, ActivationStats> | null;
  correctness: PackedBits | null;
}

// The file names of a run directory are lib/paths.ts's; re-exported for the modules that read records.
export { DESCRIPTOR_FILE, EVENTS_FILE, RUN_FILE, STAGE_FILE, WEIGHTS_DIR, weightsDir };

/** False when the run's weights/ folder is absent altogether (records shipped without weights, e.g. a clone). */
export function weightsPresent(dir: string): boolean {
  return fs.existsSync(path.join(dir, WEIGHTS_DIR));
}

/**
 * Check a tfjs model directory: model.json parses and every weights file it names exists with exactly the
 * bytes its weight specs need (catches a .bin truncated by a kill). Returns a problem, or null if sound.
 */
export function checkModelDir(dir: string): string | null {
  const m = readJson<{ weightsManifest?: { paths: string[]; weights: { shape: number[]; dtype?: string }[] }[] }>(path.join(dir, MODEL_JSON));
  if (m.ok === false) return `${path.join(dir, MODEL_JSON)} is ${m.reason}`;
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

/**
 * The first value of a float32 weights file that is not a finite number, or null. Weights of the right size
 * can still be damaged (NaN written over them); training never saves non-finite weights (a diverged run has
 * none), so such a file is damage, and the stage that made it is redone. Reads the whole file: called only
 * where a stage is about to load the weights anyway, never by status.
 */
export function checkWeightValues(dir: string): string | null {
  const m = readJson<{ weightsManifest?: { paths: string[]; weights: { name: string; shape: number[]; dtype?: string }[] }[] }>(path.join(dir, MODEL_JSON));
  if (m.ok === false) return `${path.join(dir, MODEL_JSON)} is ${m.reason}`;
  for (const group of m.value.weightsManifest ?? []) {
    const bytes = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let offset = 0;
    for (const w of group.weights) {
      const count = w.shape.reduce((a, b) => a * b, 1);
      if (w.dtype === undefined || w.dtype === 'float32') {
        const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 4 * count));
        for (let i = 0; i < values.length; i++) {
          if (!Number.isFinite(values[i])) return `${path.join(dir, group.paths[0])}: ${w.name}[${i}] is ${values[i]}, expected a finite weight`;
        }
      }
      offset += (w.dtype === 'bool' ? 1 : 4) * count;
    }
  }
  return null;
}

function checkMeta(v: unknown, stage: StageName, hash: string): string | null {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as Partial<StageMeta>;
  if (r.stage !== stage) return `stage is ${String(r.stage)}, expected ${stage}`;
  if (r.hash !== hash) return `hash ${String(r.hash)} does not match the directory ${hash}`;
  if (typeof r.id !== 'string' || typeof r.inputs !== 'object' || r.inputs === null) return 'no id/inputs';
  return null;
}

// ---- content ids and soundness ----

/** Fields that say when, where and by which process a stage ran, not what it computed: left out of its id. */
const EXECUTION_FIELDS = ['id', 'startedAt', 'endedAt', 'wallSeconds', 'pid', 'hostname', 'commit', 'provenance'];

/**
 * A stage record's id: sha256 (16 hex) of its canonical content without the execution fields (and without the
 * training's own wall time). The same computation gives the same id on any machine; an edit changes it.
 */
export function stageRecordId<T extends StageMeta>(record: T): string {
  const content: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) if (!EXECUTION_FIELDS.includes(k)) content[k] = v;
  if (record.stage === 'train' && typeof content.training === 'object' && content.training !== null) {
    const { wallSeconds: _wall, ...training } = content.training as TrainingSummary;
    content.training = training;
  }
  return sha256Hex(canonicalStringify(content)).slice(0, 16);
}

/** Path patterns ($-rooted, `[]` for any index, `*` for any key) where JSON null is a legitimate value. */
function nullableIn(record: StageMeta): RegExp[] {
  const out = [/^\$\.provenance\.(commit|dirty)$/, /^\$\.activations\.[^.]+\.(hoyer|selectivity)$/];
  const t = record as Partial<TrainStageRecord>;
  // A diverged run records the non-finite loss that stopped it, and has no trained model to evaluate.
  if (record.stage === 'train' && t.training?.status === 'diverged') {
    out.push(/^\$\.training\.validation(Accuracy|Loss)$/, /^\$\.training\.curve\[\d+\]\.loss$/, /^\$\.training\.validation\[\d+\]\.(loss|accuracy)$/);
  }
  return out;
}

/**
 * The first number in `value` that is not finite (NaN/Infinity in memory; JSON null, which is what
 * JSON.stringify writes for them, on disk) at a path not matched by `nullable`, described; or null.
 */
export function findNonFinite(value: unknown, nullable: readonly RegExp[] = [], where = '$'): string | null {
  if (value === null) return nullable.some((re) => re.test(where)) ? null : `${where} is null (a non-finite number, or a value missing where one belongs)`;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${where} is ${value}, expected a finite number`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = findNonFinite(value[i], nullable, `${where}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = findNonFinite(v, nullable, `${where}.${k}`);
      if (p) return p;
    }
  }
  return null;
}

/** Give a freshly computed stage record its content id; throws naming the field if it holds a non-finite number. */
export function sealStageRecord<T extends StageMeta>(record: T): T {
  const problem = findNonFinite(record, nullableIn(record));
  if (problem) throw new Error(`${record.stage} stage of run ${record.hash} computed ${problem}; a record must hold finite numbers`);
  return { ...record, id: stageRecordId(record) };
}

/** Why a stage record read from disk cannot be trusted (hand edit, damage, non-finite number, older code), or null. */
function unsoundRecord(r: StageMeta): string | null {
  const nonFinite = findNonFinite(r, nullableIn(r));
  if (nonFinite) return nonFinite;
  const dataset = (r as Partial<TrainStageRecord>).dataset as unknown as Record<string, unknown> | undefined;
  if (r.stage === 'train' && dataset && 'path' in dataset) return `written by older code (machine path in dataset); run ${MIGRATE_COMMAND}`;
  const id = stageRecordId(r);
  if (r.id !== id) return `its id ${r.id} is not the hash of its content (${id}): edited, damaged or written by older code (${MIGRATE_COMMAND} migrates those)`;
  return null;
}

// ---- analysis settings: one analysis and one run.json per setting ----

/**
 * '' for the default analysis settings, else 12 hex of their canonical hash. Analyses at other settings live in
 * their own files (analysis-<key>.json, run-<key>.json), so a profile with another threshold never rewrites
 * what a profile at the defaults reads as current, and each can tell that the other's analysis is not its own.
 */
export function analysisKey(settings: AnalysisSettings): string {
  const s = resolveAnalysisSettings(settings);
  return canonicalJsonEqual(s, resolveAnalysisSettings()) ? '' : sha256Hex(canonicalStringify(s)).slice(0, 12);
}

export function analysisFile(settings: AnalysisSettings): string {
  const k = analysisKey(settings);
  return analysisFileName(k);
}

export function runFile(settings: AnalysisSettings): string {
  const k = analysisKey(settings);
  return runFileName(k);
}

/** The run.json files of a run directory, one per analysis setting it was assembled at. */
export function runFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter(isRunFileName).sort();
}

// ---- run.json: the assembly of the stage records ----

function stageSummary(r: StageMeta): RunRecord['stages']['train'] {
  return { id: r.id, startedAt: r.startedAt, endedAt: r.endedAt, wallSeconds: r.wallSeconds, pid: r.pid, hostname: r.hostname };
}

/**
 * run.json: everything the notebooks need, from the stage records (a diverged run has no prune/analysis).
 * A function of the records alone, so anyone can check a run.json by assembling it again.
 */
export function assembleRunRecord(
  hash: string,
  train: TrainStageRecord,
  prune: PruneStageRecord | null,
  analysis: AnalysisStageRecord | null,
  settings: AnalysisSettings,
): RunRecord {
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
    analysis: analysis ? analysis.settings : settings,
    effectiveDensity: analysis ? analysis.effectiveDensity : null,
    degraded: analysis ? analysis.degraded : null,
    chanceMargin: analysis ? analysis.chanceMargin : null,
    coreSize: analysis ? analysis.coreSize : null,
    overlaps: analysis ? analysis.overlaps : null,
    activations: analysis ? analysis.activations : null,
    correctness: analysis ? analysis.correctness : null,
  };
}

// ---- inspection ----

/** Everything known about one run directory at one analysis setting, each record classified as done, missing or invalid. */
export interface RunInspection {
  dir: string;
  hash: string;
  settings: AnalysisSettings;
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
 * Classify each record of the run in `dir` (named by `hash`) at the analysis settings `analysis` (default: the
 * defaults). A record is 'done' only if it parses, names this hash, holds only finite numbers, its id is the
 * hash of its content, its inputs are the current upstream records and (train) its weights are intact; the run
 * is done only while its run.json equals the assembly of those records. 'invalid' records are redone.
 */
export function inspectRun(dir: string, hash: string, analysis?: AnalysisSettings): RunInspection {
  const settings = resolveAnalysisSettings(analysis ?? {});
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
    const unsound = unsoundRecord(r);
    if (unsound) return unsound;
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
    if (!Array.isArray(r.trajectory)) return 'no trajectory';
    const unsound = unsoundRecord(r);
    if (unsound) return unsound;
    if (r.inputs.train !== trainId) return 'computed from a training record that is no longer current';
    return null;
  });
  const pruneId = prune.state === 'done' ? prune.record.id : undefined;
  const analysisCheck = read<AnalysisStageRecord>(path.join(dir, analysisFile(settings)), (v) => {
    const p = checkMeta(v, 'analysis', hash);
    if (p) return p;
    const r = v as AnalysisStageRecord;
    const unsound = unsoundRecord(r);
    if (unsound) return unsound;
    if (r.inputs.train !== trainId || r.inputs.prune !== pruneId) return 'computed from stage records that are no longer current';
    if (!canonicalJsonEqual(r.settings, settings)) return 'computed with other analysis settings';
    return null;
  });
  const run = read<RunRecord>(path.join(dir, runFile(settings)), (v) => {
    if (typeof v !== 'object' || v === null) return 'not an object';
    const r = v as Partial<RunRecord>;
    if (r.schema !== RUN_SCHEMA) return `schema ${String(r.schema)}, expected ${RUN_SCHEMA}${r.schema === 1 ? ` (run ${MIGRATE_COMMAND})` : ''}`;
    if (r.hash !== hash) return `hash ${String(r.hash)} does not match the directory ${hash}`;
    // The stage records are the source of truth: run.json is a result only while it is exactly their assembly
    // (so a hand edit, a non-finite number, damaged weights or a corrupt record make the run partial, redone).
    if (train.state !== 'done') return 'not assembled from a sound, current training record';
    const complete = train.record.training.status === 'complete';
    if (complete && prune.state !== 'done') return 'not assembled from a sound, current prune record';
    if (complete && analysisCheck.state !== 'done') return 'not assembled from a sound, current analysis record';
    const want = assembleRunRecord(
      hash,
      train.record,
      complete && prune.state === 'done' ? prune.record : null,
      complete && analysisCheck.state === 'done' ? analysisCheck.record : null,
      settings,
    );
    if (!canonicalJsonEqual(r, want)) return `differs from the assembly of its stage records (first at ${firstDifference(r, want)})`;
    return null;
  });
  return { dir, hash, settings, train, prune, analysis: analysisCheck, run };
}

/** Where two JSON values first differ, as a path (for the message of a run.json that is not its records' assembly). */
function firstDifference(a: unknown, b: unknown, where = '$'): string {
  if (canonicalJsonEqual(a, b)) return '';
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${where}: ${JSON.stringify(a)?.slice(0, 40)}, the records give ${JSON.stringify(b)?.slice(0, 40)}`;
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const k of keys) {
    const sub = Array.isArray(a) ? `${where}[${k}]` : `${where}.${k}`;
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], sub);
    if (d) return d;
  }
  return where;
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
