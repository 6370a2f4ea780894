// What travels through the queue: a job is one run (its descriptor and analysis settings, plus any sound stage
// records outputs/ already holds), and a job's return value is the stage records a worker computed. Writing
// them into outputs/ (collect) goes through the same soundness checks as everything else a sweep writes.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isAnalysisOrRunFileName } from '../paths';
import { cleanTempFiles, readJson, replaceDirAtomic, tempPathFor, writeJsonAtomic } from '../store/atomic';
import { canonicalEqual } from '../store/canonical';
import { descriptorHash, resolveAnalysisSettings, type AnalysisSettings, type Descriptor } from '../store/descriptor';
import {
  analysisFile,
  analysisKey,
  assembleRunRecord,
  DESCRIPTOR_FILE,
  EVENTS_FILE,
  inspectRun,
  logEvent,
  runFile,
  STAGE_FILE,
  WEIGHTS_DIR,
  type AnalysisStageRecord,
  type PruneStageRecord,
  type RunEvent,
  type RunStatus,
  type StageName,
  type TrainStageRecord,
} from '../store/runRecord';
import type { ExpandedRun } from '../experiments/profiles';

/** BullMQ's job name for a run (every job of a density queue is one). */
export const RUN_JOB = 'run';

/** Sound stage records of a run: what a job is seeded with and what a worker returns. */
export interface StageRecords {
  train?: TrainStageRecord;
  prune?: PruneStageRecord;
  analysis?: AnalysisStageRecord;
}

export interface RunJobData {
  hash: string;
  descriptor: Descriptor;
  analysis: AnalysisSettings;
  /** For people and for status: the profile group, and `<group> <width>x <init> i<seed> d<seed>`. */
  group: string;
  label: string;
  profile: string;
  /** The enqueuing checkout's commit: a worker on another commit refuses the run (its records would name other code). */
  commit: string | null;
  /** Built-in profile whose records the README reports: a worker with uncommitted changes refuses it, unless allowDirty. */
  cleanTreeRequired: boolean;
  allowDirty: boolean;
  /** Sound records outputs/ held when the run was enqueued (no weights travel): the worker starts from them as a fresh clone does. */
  seed: StageRecords;
}

export interface RunJobResult {
  hash: string;
  status: RunStatus;
  /** Stages computed for this job (by this worker or an earlier attempt on the same machine); empty = all came with the job. */
  stagesRun: StageName[];
  records: StageRecords & { train: TrainStageRecord };
  /** The run's event-log lines written while the worker computed it (stage starts/ends with the worker's pid and host). */
  events: RunEvent[];
  worker: { hostname: string; pid: number; scratch: string; backend: string | null };
  /** Where the run's weights are now: the worker's scratch folder, or the shared --weights folder. */
  weights: string | null;
  wallSeconds: number;
}

/**
 * The job id of a run: the run's hash (prefixed, because BullMQ refuses ids that parse as integers, which a hex
 * hash can), with the analysis key when the settings are not the defaults. Enqueuing a run whose job exists
 * (in any state) adds nothing.
 */
export function jobIdOf(hash: string, analysis: AnalysisSettings): string {
  const key = analysisKey(analysis);
  return key ? `run-${hash}-${key}` : `run-${hash}`;
}

/** The run hash a job id names, or null for an id that is not a run job's. */
export function hashOfJobId(id: string): string | null {
  const m = /^run-([0-9a-f]{16})(-[0-9a-f]{12})?$/.exec(id);
  return m ? m[1] : null;
}

export function runLabel(r: ExpandedRun): string {
  const d = r.descriptor;
  return `${r.group} ${d.width}x ${d.init} i${d.initSeed} d${d.dataSeed}`;
}

/** The sound stage records in a run directory at these settings (what a queue job carries to a worker). */
export function soundRecords(dir: string, hash: string, analysis: AnalysisSettings): StageRecords {
  const s = inspectRun(dir, hash, analysis);
  return {
    ...(s.train.state === 'done' ? { train: s.train.record } : {}),
    ...(s.prune.state === 'done' ? { prune: s.prune.record } : {}),
    ...(s.analysis.state === 'done' ? { analysis: s.analysis.record } : {}),
  };
}

/**
 * Why this checkout must not compute the job, or null. Records name the commit that computed them, so a worker
 * on another commit than the one that enqueued would mix code versions in one study; a dirty tree is refused
 * for the built-in profiles as `npm run sweep` refuses it (lib/experiments/sweep.ts, dirtyTreeRefusal).
 */
export function checkoutProblem(data: RunJobData, git: { commit: string | null; dirty: boolean | null }, anyCommit: boolean): string | null {
  if (!anyCommit && data.commit && git.commit && data.commit !== git.commit) {
    return (
      `the run was enqueued from commit ${data.commit.slice(0, 7)} but this worker's checkout is at ${git.commit.slice(0, 7)}: ` +
      `check out ${data.commit.slice(0, 7)} on this machine (or start the worker with --any-commit to record runs under another commit)`
    );
  }
  if (data.cleanTreeRequired && !data.allowDirty && git.dirty === true) {
    return (
      `this worker's checkout has uncommitted changes to tracked files, and runs of the built-in profile '${data.profile}' must ` +
      'record code a commit holds: commit or set the changes aside (or enqueue with --allow-dirty for an experiment)'
    );
  }
  return null;
}

/** Copy a folder tree to `target` through a staging copy, so `target` is the old tree or the new, never a mix. */
export function copyDirAtomic(source: string, target: string): void {
  const staging = tempPathFor(target);
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.cpSync(source, staging, { recursive: true });
  replaceDirAtomic(staging, target);
}

/** Append event lines as they were written on the worker (its pid and host), marked with the queue they came through. */
function appendEvents(dir: string, events: RunEvent[], queue: string): void {
  if (events.length === 0) return;
  const text = events.map((e) => JSON.stringify({ ...e, via: queue })).join('\n') + '\n';
  fs.appendFileSync(path.join(dir, EVENTS_FILE), text);
}

export type CollectOutcome = { kind: 'written'; stages: StageName[] } | { kind: 'existing' };

/**
 * Check `result` with the store's own soundness rules: the records are written into a scratch copy of a run
 * directory and inspected there; the run must come out done at `analysis`. Throws naming the problem.
 */
export function checkResult(result: RunJobResult, hash: string, analysis: AnalysisSettings): void {
  if (result.hash !== hash) throw new Error(`the job for run ${hash} returned records of run ${result.hash}`);
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'density-collect-'));
  try {
    const dir = path.join(staging, hash);
    writeRecords(dir, result, analysis);
    const s = inspectRun(dir, hash, analysis);
    if (s.run.state !== 'done') {
      const problem = [s.train, s.prune, s.analysis, s.run].find((c) => c.state === 'invalid');
      throw new Error(
        `records of run ${hash} from worker ${result.worker.hostname} (pid ${result.worker.pid}) are not sound: ` +
          (problem && problem.state === 'invalid' ? problem.problem : 'a stage record is missing'),
      );
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Write the result's records (and their assembly) into `dir`, each atomically, upstream first. */
function writeRecords(dir: string, result: RunJobResult, analysis: AnalysisSettings, keep: StageRecords = {}): StageName[] {
  const { train, prune, analysis: an } = result.records;
  const written: StageName[] = [];
  fs.mkdirSync(dir, { recursive: true });
  const descFile = readJson<unknown>(path.join(dir, DESCRIPTOR_FILE));
  if (!descFile.ok || !canonicalEqual(descFile.value, train.descriptor)) writeJsonAtomic(path.join(dir, DESCRIPTOR_FILE), train.descriptor);
  if (keep.train?.id !== train.id) {
    writeJsonAtomic(path.join(dir, STAGE_FILE.train), train);
    written.push('train');
  }
  if (prune && keep.prune?.id !== prune.id) {
    writeJsonAtomic(path.join(dir, STAGE_FILE.prune), prune);
    written.push('prune');
  }
  if (an && keep.analysis?.id !== an.id) {
    writeJsonAtomic(path.join(dir, analysisFile(analysis)), an);
    written.push('analysis');
  }
  writeJsonAtomic(path.join(dir, runFile(analysis)), assembleRunRecord(train.hash, train, prune ?? null, an ?? null, analysis));
  return written;
}

export interface CollectOptions {
  /** How the queue is named in the event log (`<queue> on <redis>`). */
  queue: string;
  /** The shared weights folder the workers were given (--weights), if this machine can read it. */
  weights?: string;
  jobId: string;
  attempts: number;
}

/**
 * Write a finished job's records into the run directory `dir`, as a local sweep would have: the caller holds the
 * run's lock. Records outputs/ already holds with the same content id are kept (a record is never rewritten
 * for nothing); a training that differs from the one on disk takes everything computed from the old one with
 * it, weights included, as a retrain does in executeRun. Throws if the records are not sound.
 */
export function collectResult(dir: string, result: RunJobResult, analysisIn: AnalysisSettings, opts: CollectOptions): CollectOutcome {
  const analysis = resolveAnalysisSettings(analysisIn);
  const hash = path.basename(dir);
  if (descriptorHash(result.records.train.descriptor) !== hash) throw new Error(`the job for run ${hash} returned a training record of another descriptor`);
  checkResult(result, hash, analysis);
  const before = inspectRun(dir, hash, analysis);
  if (before.run.state === 'done') return { kind: 'existing' };
  const removed = cleanTempFiles(dir);
  if (removed.length) logEvent(dir, 'cleaned', { files: removed });
  const keep = soundRecords(dir, hash, analysis);
  if (keep.train && keep.train.id !== result.records.train.id) {
    // Another training than the one on disk: its weights and everything computed from it are stale.
    for (const n of fs.readdirSync(dir)) {
      if (n === STAGE_FILE.prune || isAnalysisOrRunFileName(n) || n === WEIGHTS_DIR) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    }
    delete keep.prune;
    delete keep.analysis;
  } else if (!keep.train) {
    fs.rmSync(path.join(dir, WEIGHTS_DIR), { recursive: true, force: true });
  }
  // Weights first, records last (as executeRun does), so a kill in between leaves weights without a record.
  const shared = opts.weights ? path.join(opts.weights, hash, WEIGHTS_DIR) : null;
  if (shared && fs.existsSync(shared) && !fs.existsSync(path.join(dir, WEIGHTS_DIR))) copyDirAtomic(shared, path.join(dir, WEIGHTS_DIR));
  const stages = writeRecords(dir, result, analysis, keep);
  appendEvents(dir, result.events, opts.queue);
  logEvent(dir, 'queue-collected', {
    queue: opts.queue,
    job: opts.jobId,
    attempts: opts.attempts,
    worker: `${result.worker.hostname} pid ${result.worker.pid}`,
    stagesRun: result.stagesRun,
    written: stages,
    weights: result.weights,
  });
  const after = inspectRun(dir, hash, analysis);
  if (after.run.state !== 'done') {
    throw new Error(
      `run ${hash}: collected records did not make a sound run in ${dir}: ${after.run.state === 'invalid' ? after.run.problem : 'run record missing'}`,
    );
  }
  return { kind: 'written', stages };
}
