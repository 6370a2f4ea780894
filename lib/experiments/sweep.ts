// Sweeps: bring every run of a list to completion, skipping finished ones, leaving runs another process
// holds (their lock) for later, and stopping cleanly between stages when asked.
//
// Two ways to run one:
//  - runSweep: in this process, one run after another (notebooks' loadResults({ compute: true }), tests).
//  - superviseSweep: a light supervisor process hands runs to N worker processes over IPC (lib/cli/sweep.ts
//    --worker). Training is synchronous tfjs work that blocks its process's event loop, so only a separate
//    process can keep a progress line live, react to a second Ctrl-C at once, and run jobs in parallel.
import { fork, type ChildProcess } from 'child_process';
import { initBackend } from '../backend';
import { describeNativeKernels } from '../fast/nativeKernels';
import { loadDataset } from '../data';
import { projectRoot, runDir } from '../paths';
import type { AnalysisSettings, Descriptor } from '../store/descriptor';
import { lockHolder, type LockInfo } from '../store/lock';
import { inspectRun, type StageName } from '../store/runRecord';
import { PROFILES, type ExpandedRun, type Profile } from './profiles';
import { executeRun, type RunOutcome } from './run';

/** A run's outcome as it crosses a process boundary (Error objects do not survive IPC). */
export type WireOutcome =
  Exclude<RunOutcome, { kind: 'failed' }> | { kind: 'failed'; hash: string; stage: StageName | 'assemble'; error: { message: string; stack?: string } };

export function toWire(o: RunOutcome): WireOutcome {
  return o.kind === 'failed' ? { ...o, error: { message: o.error.message, stack: o.error.stack } } : o;
}

export type SweepEvent =
  | { type: 'start'; total: number; pending: number; jobs: number }
  | { type: 'run-start'; hash: string; label: string; worker: number }
  | { type: 'stage'; hash: string; label: string; stage: StageName; worker: number }
  | { type: 'train-progress'; hash: string; step: number; epochs: number; trainLoss?: number; worker: number }
  | { type: 'run-end'; hash: string; label: string; outcome: WireOutcome; seconds: number; worker: number }
  | { type: 'deferred'; hash: string; label: string; holder: LockInfo | null }
  | { type: 'backend'; description: string };

export interface SweepSummary {
  total: number;
  /** Computed now and complete. */
  done: number;
  /** Already finished before this sweep (or finished by another process while this one waited). */
  skippedExisting: number;
  /** Computed now and diverged (recorded, not retried). */
  diverged: number;
  failed: { hash: string; label: string; stage: string; message: string }[];
  /** Locked by another live process at the end of the sweep. */
  runningElsewhere: { hash: string; label: string; holder: LockInfo | null }[];
  /** Runs not attempted or left part-done because a stop was requested. */
  notStarted: number;
  interrupted: boolean;
  /** Why the sweep stopped early for every run at once (a dataset that cannot be loaded), if it did. */
  fatal?: string;
  wallSeconds: number;
}

export interface SweepOptions {
  analysis: AnalysisSettings;
  shouldStop?: () => boolean;
  onEvent?: (e: SweepEvent) => void;
  purpose?: string;
}

function label(r: ExpandedRun): string {
  const d = r.descriptor;
  return `${r.group} ${d.width}x ${d.init} i${d.initSeed} d${d.dataSeed}`;
}

/** Built-in profiles whose runs are never committed or reported (the CI pipeline check): no clean tree needed. */
const SCRATCH_PROFILES: ReadonlySet<string> = new Set(['smoke']);

/**
 * Built-in profiles make the results the README and notebooks report, so their records must name code that a
 * commit holds: on a working tree with uncommitted changes to tracked files, sweeping one is refused unless
 * `allowDirty` (--allow-dirty: an experiment; every record then carries provenance.allowDirty). Profile files
 * are experiments already: their records carry `dirty` as it is. Outside git (`dirty` null) nothing can be told.
 * Returns the refusal (one sentence and what to do), or null to go ahead.
 */
export function dirtyTreeRefusal(profile: Profile, git: { commit: string | null; dirty: boolean | null }, allowDirty: boolean): string | null {
  const builtIn = PROFILES[profile.name] === profile;
  if (!builtIn || SCRATCH_PROFILES.has(profile.name) || allowDirty || git.dirty !== true) return null;
  return (
    `the git working tree at ${projectRoot} has uncommitted changes to tracked files (see git status), so runs of the ` +
    `built-in profile '${profile.name}' would record code that no commit holds (commit ${git.commit?.slice(0, 7) ?? 'unknown'} + changes). ` +
    'Commit or set aside the changes, run the sweep from a clean git worktree (README, "Long sweeps from a clean worktree"), ' +
    'or pass --allow-dirty for an experiment (each record then says allowDirty in its provenance).'
  );
}

/**
 * A dataset every run of it would fail on (corrupt or missing files) fails the sweep once, not once per run: load
 * it before the first run that needs it (loadDataset caches it for the run) and return the problem, or null.
 */
async function datasetProblem(d: Descriptor): Promise<string | null> {
  try {
    await loadDataset(d.dataset);
    return null;
  } catch (err) {
    return `dataset ${d.dataset} cannot be loaded, so no run of it can: ${(err as Error).message}`;
  }
}

/** Runs of `runs` that are not finished yet (no sound run.json for these analysis settings). */
export function pendingRuns(runs: ExpandedRun[], analysis: AnalysisSettings): ExpandedRun[] {
  return runs.filter((r) => inspectRun(runDir(r.hash), r.hash, analysis).run.state !== 'done');
}

/** Bookkeeping shared by both sweep flavours: one final outcome per run. */
class Tally {
  readonly summary: SweepSummary;
  private readonly labels = new Map<string, string>();
  private readonly finished = new Set<string>();
  constructor(
    runs: ExpandedRun[],
    private readonly t0: number,
  ) {
    for (const r of runs) this.labels.set(r.hash, label(r));
    this.summary = {
      total: runs.length,
      done: 0,
      skippedExisting: 0,
      diverged: 0,
      failed: [],
      runningElsewhere: [],
      notStarted: 0,
      interrupted: false,
      wallSeconds: 0,
    };
  }
  record(o: WireOutcome): void {
    const s = this.summary;
    const lbl = this.labels.get(o.hash) ?? o.hash;
    if (o.kind === 'locked' || o.kind === 'interrupted') return; // not final: revisited or counted as not started
    this.finished.add(o.hash);
    if (o.kind === 'existing') s.skippedExisting++;
    else if (o.kind === 'completed') {
      if (o.status === 'diverged') s.diverged++;
      else s.done++;
    } else s.failed.push({ hash: o.hash, label: lbl, stage: o.stage, message: o.error.message });
  }
  close(stillLocked: ExpandedRun[], interrupted: boolean, fatal?: string): SweepSummary {
    const s = this.summary;
    for (const r of stillLocked) {
      if (this.finished.has(r.hash)) continue;
      this.finished.add(r.hash);
      s.runningElsewhere.push({ hash: r.hash, label: label(r), holder: lockHolder(runDir(r.hash)) });
    }
    s.notStarted = s.total - this.finished.size;
    s.interrupted = interrupted;
    if (fatal) s.fatal = fatal;
    s.wallSeconds = (Date.now() - this.t0) / 1000;
    return s;
  }
}

/** Sweep in this process, one run at a time. Runs locked by others are retried once at the end. */
export async function runSweep(runs: ExpandedRun[], opts: SweepOptions): Promise<SweepSummary> {
  const t0 = Date.now();
  const tally = new Tally(runs, t0);
  const emit = opts.onEvent ?? (() => undefined);
  emit({ type: 'start', total: runs.length, pending: pendingRuns(runs, opts.analysis).length, jobs: 1 });
  let deferred: ExpandedRun[] = [];
  let interrupted = false;
  let fatal: string | undefined;
  for (const pass of [0, 1]) {
    const list = pass === 0 ? runs : deferred;
    const next: ExpandedRun[] = [];
    for (const r of list) {
      await new Promise<void>((resolve) => setImmediate(resolve)); // let a Ctrl-C handler run
      if (opts.shouldStop?.()) {
        interrupted = true;
        break;
      }
      const lbl = label(r);
      const start = Date.now();
      fatal = (await datasetProblem(r.descriptor)) ?? undefined;
      if (fatal) break;
      emit({ type: 'run-start', hash: r.hash, label: lbl, worker: 0 });
      const outcome = toWire(
        await executeRun(r.descriptor, {
          analysis: opts.analysis,
          shouldStop: opts.shouldStop,
          purpose: opts.purpose,
          onStage: (stage) => emit({ type: 'stage', hash: r.hash, label: lbl, stage, worker: 0 }),
          onTrainProgress: (p) => emit({ type: 'train-progress', hash: r.hash, step: p.step, epochs: p.epochs, trainLoss: p.trainLoss, worker: 0 }),
        }),
      );
      if (outcome.kind === 'locked') {
        next.push(r);
        emit({ type: 'deferred', hash: r.hash, label: lbl, holder: outcome.holder });
        continue;
      }
      tally.record(outcome);
      emit({ type: 'run-end', hash: r.hash, label: lbl, outcome, seconds: (Date.now() - start) / 1000, worker: 0 });
      if (outcome.kind === 'interrupted') {
        interrupted = true;
        break;
      }
    }
    deferred = next;
    if (interrupted || fatal) break;
  }
  return tally.close(deferred, interrupted, fatal);
}

// ---- supervisor / worker protocol ----

/** `analysis`, when given, overrides the worker's settings for that run (a queue worker serves runs of several profiles). */
export type ToWorker = { type: 'run'; hash: string; descriptor: Descriptor; label: string; analysis?: AnalysisSettings } | { type: 'stop' } | { type: 'exit' };
export type FromWorker =
  | { type: 'ready'; backend?: string }
  | { type: 'stage'; hash: string; stage: StageName }
  | { type: 'train-progress'; hash: string; step: number; epochs: number; trainLoss?: number }
  | { type: 'result'; hash: string; outcome: WireOutcome }
  /** The run could not start because its dataset cannot be loaded: the sweep stops (see datasetProblem). */
  | { type: 'fatal'; hash: string; message: string };

/** The worker side: take runs from the supervisor until told to exit. `send` is process.send. */
export async function workerLoop(analysis: AnalysisSettings, send: (m: FromWorker) => void, purpose?: string): Promise<void> {
  const b = await initBackend();
  let stop = false;
  let queue: ToWorker[] = [];
  let wake: (() => void) | null = null;
  process.on('message', (m: ToWorker) => {
    if (m.type === 'stop') stop = true;
    queue.push(m); // a 'stop' in the queue also releases a worker that is waiting for work
    wake?.();
  });
  // The supervisor gone (killed): finish the stage in hand, then leave.
  process.on('disconnect', () => {
    stop = true;
    queue = [{ type: 'exit' }];
    wake?.();
  });
  // Ctrl-C reaches the whole process group; the supervisor decides what it means (a second press kills us).
  process.on('SIGINT', () => undefined);
  // SIGTERM (to the group, or to this worker alone): finish the stage in hand, then leave, as on a 'stop'.
  process.on('SIGTERM', () => {
    stop = true;
    queue.push({ type: 'stop' });
    wake?.();
  });
  const conv = b.name === 'wasm' ? `, ${describeNativeKernels()}` : '';
  send({ type: 'ready', backend: `${b.name} (${b.package} ${b.version}${conv})` });
  for (;;) {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
    const m = queue.shift() as ToWorker;
    if (m.type === 'exit' || m.type === 'stop') return;
    if (m.type !== 'run') continue;
    const problem = await datasetProblem(m.descriptor);
    if (problem) {
      if (process.connected) send({ type: 'fatal', hash: m.hash, message: problem });
      return;
    }
    const outcome = await executeRun(m.descriptor, {
      analysis: m.analysis ?? analysis,
      purpose,
      shouldStop: () => stop,
      onStage: (stage) => send({ type: 'stage', hash: m.hash, stage }),
      onTrainProgress: (p) => send({ type: 'train-progress', hash: m.hash, step: p.step, epochs: p.epochs, trainLoss: p.trainLoss }),
    });
    if (!process.connected) return;
    send({ type: 'result', hash: m.hash, outcome: toWire(outcome) });
    if (stop) return;
    send({ type: 'ready' });
  }
}

export interface SuperviseOptions extends SweepOptions {
  jobs: number;
  /** The worker entry point and the arguments that make it a worker. */
  workerModule: string;
  workerArgs: string[];
  /** Extra environment for the workers. */
  env?: NodeJS.ProcessEnv;
}

export interface Supervisor {
  done: Promise<SweepSummary>;
  /** First call: workers finish their current stage and stop. */
  requestStop(): void;
  /** Kill the workers now (second Ctrl-C). */
  kill(): void;
}

/**
 * Hand `runs` to `jobs` worker processes, one run at a time each. Finished runs are skipped without a
 * worker; runs another process holds are retried once when nothing else is left.
 */
export function superviseSweep(runs: ExpandedRun[], opts: SuperviseOptions): Supervisor {
  const tally = new Tally(runs, Date.now());
  const emit = opts.onEvent ?? (() => undefined);
  const pending = pendingRuns(runs, opts.analysis);
  const pendingSet = new Set(pending.map((r) => r.hash));
  // Finished runs are settled here, without starting a worker.
  for (const r of runs) if (!pendingSet.has(r.hash)) tally.record({ kind: 'existing', hash: r.hash, status: 'complete' });
  const jobs = Math.max(1, Math.min(opts.jobs, pending.length || 1));
  emit({ type: 'start', total: runs.length, pending: pending.length, jobs });

  const byHash = new Map(runs.map((r) => [r.hash, r]));
  let queue = [...pending];
  let deferred: ExpandedRun[] = [];
  let revisited = false;
  let stopping = false;
  let interrupted = false;
  let fatal: string | undefined;
  let backendShown = false;
  const workers: ChildProcess[] = [];
  /** Per busy worker: the run in hand, when it started, its last stage. */
  const inFlight = new Map<number, { run: ExpandedRun; t: number; stage: StageName | 'assemble' }>();
  const parked = new Set<number>();
  let alive = 0;
  let resolveDone: (s: SweepSummary) => void = () => undefined;
  const done = new Promise<SweepSummary>((resolve) => (resolveDone = resolve));
  const finish = () => resolveDone(tally.close(deferred, interrupted, fatal));

  const exitWorker = (i: number) => {
    parked.delete(i);
    if (workers[i].connected) workers[i].send({ type: 'exit' } satisfies ToWorker);
  };
  const dispatch = (i: number): void => {
    if (stopping) return exitWorker(i);
    if (queue.length === 0 && deferred.length > 0 && !revisited) {
      // Runs held by other processes get one more try, but only once no run of ours is in flight
      // (a busy worker may still add to the deferred list).
      if (inFlight.size > 0) return void parked.add(i);
      revisited = true;
      queue = deferred;
      deferred = [];
    }
    const r = queue.shift();
    if (!r) return exitWorker(i);
    parked.delete(i);
    inFlight.set(i, { run: r, t: Date.now(), stage: 'train' });
    emit({ type: 'run-start', hash: r.hash, label: label(r), worker: i });
    workers[i].send({ type: 'run', hash: r.hash, descriptor: r.descriptor, label: label(r) } satisfies ToWorker);
  };
  const wakeParked = () => {
    for (const i of [...parked]) dispatch(i);
  };

  if (pending.length === 0) {
    queueMicrotask(finish);
    return { done, requestStop: () => undefined, kill: () => undefined };
  }

  for (let i = 0; i < jobs; i++) {
    const w = fork(opts.workerModule, opts.workerArgs, {
      env: { ...process.env, DENSITY_QUIET: '1', ...opts.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    workers.push(w);
    alive++;
    w.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        if (m.backend && !backendShown) {
          backendShown = true;
          emit({ type: 'backend', description: m.backend });
        }
        dispatch(i);
      } else if (m.type === 'stage') {
        const f = inFlight.get(i);
        if (f) f.stage = m.stage;
        const r = byHash.get(m.hash);
        emit({ type: 'stage', hash: m.hash, label: r ? label(r) : m.hash, stage: m.stage, worker: i });
      } else if (m.type === 'train-progress') {
        emit({ type: 'train-progress', hash: m.hash, step: m.step, epochs: m.epochs, trainLoss: m.trainLoss, worker: i });
      } else if (m.type === 'result') {
        const f = inFlight.get(i);
        inFlight.delete(i);
        const r = byHash.get(m.hash);
        const lbl = r ? label(r) : m.hash;
        if (m.outcome.kind === 'locked') {
          if (r) deferred.push(r);
          emit({ type: 'deferred', hash: m.hash, label: lbl, holder: m.outcome.holder });
        } else {
          if (m.outcome.kind === 'interrupted') interrupted = true;
          tally.record(m.outcome);
          emit({ type: 'run-end', hash: m.hash, label: lbl, outcome: m.outcome, seconds: (Date.now() - (f?.t ?? Date.now())) / 1000, worker: i });
        }
        wakeParked();
      } else if (m.type === 'fatal') {
        // Every run of that dataset would fail the same way: stop handing out runs, say it once.
        inFlight.delete(i);
        fatal ??= m.message;
        stopping = true;
        for (const other of workers) if (other.connected) other.send({ type: 'stop' } satisfies ToWorker);
      }
    });
    w.on('exit', (code, signal) => {
      alive--;
      const f = inFlight.get(i);
      inFlight.delete(i);
      parked.delete(i);
      if (f && !stopping) {
        // The worker died with a run in hand (out of memory, a crash in native code): that run failed.
        const outcome: WireOutcome = {
          kind: 'failed',
          hash: f.run.hash,
          stage: f.stage,
          error: { message: `worker process exited with ${signal ?? `code ${code}`}` },
        };
        tally.record(outcome);
        emit({ type: 'run-end', hash: f.run.hash, label: label(f.run), outcome, seconds: (Date.now() - f.t) / 1000, worker: i });
      }
      wakeParked();
      if (alive === 0) finish();
    });
  }

  return {
    done,
    requestStop: () => {
      stopping = true;
      interrupted = true;
      for (const w of workers) if (w.connected) w.send({ type: 'stop' } satisfies ToWorker);
    },
    kill: () => {
      for (const w of workers) w.kill('SIGKILL');
    },
  };
}
