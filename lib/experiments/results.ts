// Many run.json -> one tidy table (a row per run): what notebooks, `npm run results` and `status` read.
// Reading never trains: missing runs are listed, and computed only when asked (`compute: true`).
import { createRequire } from 'module';
import * as path from 'path';
import { coreSize } from '../analysis/nullHypothesis';
import { effectiveDensityDetail } from '../analysis/effectiveDensity';
import { runDir } from '../paths';
import { readJson } from '../store/atomic';
import { canonicalEqual } from '../store/canonical';
import { resolveAnalysisSettings, type AnalysisSettings, type Descriptor } from '../store/descriptor';
import { lockHolder, type LockInfo } from '../store/lock';
import { inspectRun, runFile, runFiles, type RunRecord, type StageName, STAGES } from '../store/runRecord';
import { expandProfileRuns, loadProfile, profileAnalysis, type ExpandedRun, type Profile, type ProfileFilter } from './profiles';
import type { SweepEvent, SweepSummary } from './sweep';

/**
 * lib/experiments/sweep, loaded only to compute missing runs. A tslab kernel (notebooks import this file) loads
 * local files only as the `<specifier>.js` it compiled and cannot load the directory imports ('../backend',
 * '../models') of the training stack behind the sweep. So reading results never loads that stack, and computing
 * loads it with Node's own require through tsx's hook (registered here in a kernel; mocha and tsx runs have it).
 */
function sweepModule(): typeof import('./sweep') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- registers tsx's hook, only where it is missing
  if (!require.extensions['.ts']) require('tsx/cjs');
  return createRequire(__filename)('./sweep') as typeof import('./sweep');
}

/** One run, the columns notebooks use. Accuracies are fractions in [0,1]; densities are percent. */
export interface ResultRow {
  hash: string;
  group: string;
  arch: string;
  dataset: string;
  width: number;
  init: string;
  optimizer: string;
  learningRate: number;
  initSeed: number;
  dataSeed: number;
  /** Training images used (after the validation split and any subset). */
  trainImages: number;
  /** The descriptor's subset size, null = the full training split. */
  trainSubset: number | null;
  validationSize: number;
  totalWeights: number;
  trainSteps: number;
  epochs: number;
  stopReason: string;
  status: string;
  /** Validation accuracy of the trained, unpruned model. */
  validationAccuracy: number | null;
  /** At the profile's (or the caller's) analysis settings, recomputed from the stored trajectory. */
  effectiveDensity: number | null;
  /** False when no pruning level degraded beyond the threshold (the effective density is then the last level's); null if diverged. */
  degraded: boolean | null;
  /** Unpruned validation accuracy minus chance, in accuracy points (near 0: the model never learned); null if diverged. */
  chanceMargin: number | null;
  coreSize: number | null;
  backend: string;
  commit: string | null;
  dirty: boolean | null;
  datasetSha256: string;
  trainSeconds: number;
}

export const RESULT_COLUMNS: readonly (keyof ResultRow)[] = [
  'hash',
  'group',
  'arch',
  'dataset',
  'width',
  'init',
  'optimizer',
  'learningRate',
  'initSeed',
  'dataSeed',
  'trainImages',
  'trainSubset',
  'validationSize',
  'totalWeights',
  'trainSteps',
  'epochs',
  'stopReason',
  'status',
  'validationAccuracy',
  'effectiveDensity',
  'degraded',
  'chanceMargin',
  'coreSize',
  'backend',
  'commit',
  'dirty',
  'datasetSha256',
  'trainSeconds',
];

/** The tidy row of one run. Effective density is recomputed at `analysis` (cheap; never needs weights). */
export function resultRow(r: RunRecord, analysis: AnalysisSettings, group = ''): ResultRow {
  const d = r.descriptor;
  let ed: number | null = null;
  let degraded: boolean | null = null;
  if (r.status === 'complete' && r.trajectory && r.trajectory.length > 0) {
    const detail = effectiveDensityDetail(r.trajectory, { metric: analysis.metric, threshold: analysis.threshold, mode: analysis.mode });
    ed = detail.density;
    degraded = detail.degraded;
  }
  return {
    hash: r.hash,
    group,
    arch: d.architecture,
    dataset: d.dataset,
    width: d.width,
    init: d.init,
    optimizer: d.optimizer,
    learningRate: d.learningRate,
    initSeed: d.initSeed,
    dataSeed: d.dataSeed,
    trainImages: r.provenance.dataset.trainImages,
    trainSubset: d.trainSubset ?? null,
    validationSize: d.validationSize,
    totalWeights: r.weightCounts.total,
    trainSteps: r.training.steps,
    epochs: r.training.epochs,
    stopReason: r.training.stopReason,
    status: r.status,
    validationAccuracy: r.training.validationAccuracy,
    effectiveDensity: ed,
    degraded,
    chanceMargin: r.chanceMargin,
    coreSize: ed === null ? null : coreSize(ed, r.weightCounts.total),
    backend: r.provenance.backend.name,
    commit: r.provenance.commit,
    dirty: r.provenance.dirty,
    datasetSha256: r.provenance.datasetSha256,
    trainSeconds: r.training.wallSeconds,
  };
}

export type RunState = 'complete' | 'diverged' | 'missing' | 'partial' | 'running';

export interface RunStatusInfo {
  run: ExpandedRun;
  state: RunState;
  /** Stages with sound records (a partial run resumes after them). */
  stagesDone: StageName[];
  /** Unsound records that a sweep will redo, and a stale analysis. */
  problems: string[];
  /**
   * True when the run has no analysis at the settings asked about but a sound one at other settings (another
   * profile's threshold): `record` is that one (its rows are recomputed at any settings), the state is
   * 'partial', and a sweep at these settings re-analyses without touching the other's records.
   */
  stale: boolean;
  holder: LockInfo | null;
  record?: RunRecord;
}

/** Where one run stands at the default analysis settings (see runStatusAt). */
export function runStatus(run: ExpandedRun): RunStatusInfo {
  return runStatusAt(run, resolveAnalysisSettings());
}

/** Where one run stands at `analysis` (a profile's settings): complete only with a sound run.json made at them. */
export function runStatusAt(run: ExpandedRun, analysis: AnalysisSettings): RunStatusInfo {
  const dir = runDir(run.hash);
  const ins = inspectRun(dir, run.hash, analysis);
  const stagesDone = STAGES.filter((s) => ins[s].state === 'done');
  const problems = [ins.train, ins.prune, ins.analysis, ins.run].flatMap((c) => (c.state === 'invalid' ? [c.problem] : []));
  const holder = lockHolder(dir);
  if (ins.run.state === 'done') {
    return { run, state: ins.run.record.status, stagesDone, problems, stale: false, holder, record: ins.run.record };
  }
  const other = soundRecordAtOtherSettings(dir, run.hash, analysis);
  if (other) problems.push(`stale analysis: analysed only at other settings (${settingsLabel(other.analysis)}), not at ${settingsLabel(ins.settings)}`);
  const state: RunState = holder ? 'running' : stagesDone.length > 0 || problems.length > 0 ? 'partial' : 'missing';
  return { run, state, stagesDone, problems, stale: other !== null, holder, ...(other ? { record: other } : {}) };
}

function settingsLabel(a: AnalysisSettings): string {
  return `${a.metric} ${a.threshold} ${a.mode}, overlap quantile ${a.overlapQuantile}`;
}

/** A sound run record of the run at analysis settings other than `analysis`, or null. */
function soundRecordAtOtherSettings(dir: string, hash: string, analysis: AnalysisSettings): RunRecord | null {
  const mine = runFile(analysis);
  for (const name of runFiles(dir)) {
    if (name === mine) continue;
    const r = readJson<{ analysis?: unknown }>(path.join(dir, name));
    if (r.ok === false) continue;
    let settings: AnalysisSettings;
    try {
      settings = resolveAnalysisSettings(r.value.analysis);
    } catch {
      continue; // not a run record we can read: the sweep at its settings redoes it
    }
    if (canonicalEqual(settings, analysis) || runFile(settings) !== name) continue;
    const ins = inspectRun(dir, hash, settings);
    if (ins.run.state === 'done') return ins.run.record;
  }
  return null;
}

export interface LoadResultsOptions {
  /** Compute missing runs in this process first (slow: trains). Default false. */
  compute?: boolean;
  filter?: ProfileFilter;
  /** Override the profile's analysis settings (e.g. another threshold): rows are recomputed, nothing retrains. */
  analysis?: AnalysisSettings;
  onEvent?: (e: SweepEvent) => void;
}

export interface LoadedResults {
  rows: ResultRow[];
  runs: RunRecord[];
  /** Runs of the profile without a finished run.json. */
  missing: Descriptor[];
  /** What the sweep did, when compute was true. */
  sweep?: SweepSummary;
}

/** The profile's results as a tidy table, in the profile's run order. */
export async function loadResults(profile: Profile | string, opts: LoadResultsOptions = {}): Promise<LoadedResults> {
  const p = typeof profile === 'string' ? loadProfile(profile) : profile;
  const analysis = opts.analysis ?? profileAnalysis(p);
  const runs = expandProfileRuns(p, opts.filter);
  let sweep: SweepSummary | undefined;
  if (opts.compute) {
    const todo = runs.filter((r) => runStatusAt(r, profileAnalysis(p)).record === undefined);
    if (todo.length) sweep = await sweepModule().runSweep(todo, { analysis: profileAnalysis(p), onEvent: opts.onEvent, purpose: 'loadResults' });
  }
  const rows: ResultRow[] = [];
  const records: RunRecord[] = [];
  const missing: Descriptor[] = [];
  for (const r of runs) {
    const s = runStatusAt(r, analysis);
    if (s.record) {
      records.push(s.record);
      rows.push(resultRow(s.record, analysis, r.group));
    } else {
      missing.push(r.descriptor);
    }
  }
  return { rows, runs: records, missing, ...(sweep ? { sweep } : {}) };
}

/** The rows as a danfo DataFrame (loaded on first use: danfo takes a second to import). */
export function toDataFrame(rows: ResultRow[]): import('danfojs-node').DataFrame {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  if (rows.length === 0) return new dfd.DataFrame([], { columns: [...RESULT_COLUMNS] });
  return new dfd.DataFrame(
    rows.map((r) => ({ ...r })),
    { columns: [...RESULT_COLUMNS] },
  );
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header row; null -> empty cell. */
export function toCsv(rows: ResultRow[]): string {
  const lines = [RESULT_COLUMNS.join(',')];
  for (const r of rows) lines.push(RESULT_COLUMNS.map((c) => csvCell(r[c])).join(','));
  return lines.join('\n') + '\n';
}
