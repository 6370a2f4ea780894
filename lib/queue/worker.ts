// A queue worker: takes runs from the BullMQ queue and computes each with the same stage code as a local sweep
// (executeRun, in a compute process of lib/cli/sweep.ts --worker), in a worker-local scratch outputs folder;
// the stage records go back with the job, the weights stay in the scratch folder (or a shared --weights one).
//
// Why a separate compute process: training is synchronous tfjs work that blocks its event loop for seconds to
// minutes, and BullMQ renews a job's lock on a timer in the worker's event loop. A worker whose loop is blocked
// past the lock duration would have its run handed to another worker as if it had died. This process does no
// tfjs work, so its locks stay fresh while the compute process trains.
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DelayedError, Queue, Worker, WaitingError, type Job } from 'bullmq';
import { gitState } from '../experiments/provenance';
import { type FromWorker, type ToWorker, type WireOutcome } from '../experiments/sweep';
import { resolveAnalysisSettings } from '../store/descriptor';
import { DESCRIPTOR_FILE, EVENTS_FILE, RUNS_DIR, STAGE_FILE, SWEEP_CLI, WEIGHTS_DIR } from '../paths';
import { tryLock } from '../store/lock';
import { inspectRun, readEvents, analysisFile, type StageName } from '../store/runRecord';
import { writeJsonAtomic } from '../store/atomic';
import { persistentConnection, type RedisTarget } from './connection';
import { checkoutProblem, copyDirAtomic, RUN_JOB, soundRecords, type RunJobData, type RunJobResult } from './jobs';

export interface QueueWorkerOptions {
  redis: RedisTarget;
  queue: string;
  /** Runs computed at once (one compute process each). */
  concurrency: number;
  /** This worker's outputs folder (absolute): partial runs resume from it, weights stay in it. */
  scratch: string;
  /** A folder every worker and the collector can reach (NFS): weights are copied there and reused from there. */
  weights?: string;
  /** A job whose worker has not renewed its lock for this long is handed to another worker (BullMQ lockDuration). */
  stalledSeconds: number;
  /** Leave once the queue has no run waiting or in flight (batch jobs: SLURM). */
  untilEmpty?: boolean;
  /** Compute runs enqueued from another commit (their records then name this worker's commit). */
  anyCommit: boolean;
  log: (line: string) => void;
  /** Extra environment for the compute processes. */
  env?: NodeJS.ProcessEnv;
}

export interface QueueWorkerSummary {
  completed: number;
  failed: number;
  /** Runs handed back to the queue because this worker was stopped mid-run. */
  handedBack: number;
  /** Why the worker stopped by itself (a checkout that must not compute the queue's runs, an unloadable dataset). */
  refused?: string;
}

export interface QueueWorker {
  done: Promise<QueueWorkerSummary>;
  /** First Ctrl-C / SIGTERM: compute processes finish their current stage; unfinished runs go back to the queue. */
  requestStop(): void;
  /** Second Ctrl-C: kill the compute processes now (their runs are picked up again after the stalled check). */
  kill(): void;
}

type ChildAnswer = { kind: 'outcome'; outcome: WireOutcome } | { kind: 'fatal'; message: string } | { kind: 'exited'; why: string };

/** One compute process: lib/cli/sweep.ts --worker with DENSITY_OUTPUTS at the scratch folder. */
class ComputeProcess {
  readonly proc: ChildProcess;
  backend: string | null = null;
  exited = false;
  private readyWaiters: (() => void)[] = [];
  private isReady = false;
  private answer: ((a: ChildAnswer) => void) | null = null;
  stage: StageName | null = null;

  constructor(
    readonly allowDirty: boolean,
    scratch: string,
    env: NodeJS.ProcessEnv,
    onStage: (hash: string, stage: StageName) => void,
  ) {
    this.proc = fork(SWEEP_CLI, ['--worker', ...(allowDirty ? ['--allow-dirty'] : [])], {
      env: { ...process.env, DENSITY_QUIET: '1', ...env, DENSITY_OUTPUTS: scratch },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        if (m.backend) this.backend = m.backend;
        this.isReady = true;
        for (const w of this.readyWaiters.splice(0)) w();
      } else if (m.type === 'stage') {
        this.stage = m.stage;
        onStage(m.hash, m.stage);
      } else if (m.type === 'result') {
        this.settle({ kind: 'outcome', outcome: m.outcome });
      } else if (m.type === 'fatal') {
        this.settle({ kind: 'fatal', message: m.message });
      }
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.readyWaiters.splice(0)) w();
      this.settle({ kind: 'exited', why: `the compute process exited with ${signal ?? `code ${code}`}${this.stage ? ` during the ${this.stage} stage` : ''}` });
    });
  }

  private settle(a: ChildAnswer): void {
    const f = this.answer;
    this.answer = null;
    f?.(a);
  }

  async run(m: Extract<ToWorker, { type: 'run' }>): Promise<ChildAnswer> {
    if (!this.isReady && !this.exited) await new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    if (this.exited) return { kind: 'exited', why: 'the compute process exited before it took the run' };
    this.isReady = false;
    this.stage = null;
    const answer = new Promise<ChildAnswer>((resolve) => (this.answer = resolve));
    this.proc.send(m);
    return answer;
  }

  send(m: ToWorker): void {
    if (this.proc.connected) this.proc.send(m);
  }
}

function countLines(file: string): number {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
}

/**
 * Put the job's seed records (sound records outputs/ held when it was enqueued) into the scratch run directory,
 * unless the scratch already holds sound records of its own; weights from the shared folder likewise. The run
 * then starts where outputs/ left it, exactly as a fresh clone would (a later stage that needs weights retrains,
 * and keeps the training record when the retraining reproduces it).
 */
function seedScratch(dir: string, data: RunJobData, weights: string | undefined): 'seeded' | 'locked' {
  const attempt = tryLock(dir, 'queue worker: seeding');
  if (attempt.acquired === false) return 'locked';
  try {
    const analysis = resolveAnalysisSettings(data.analysis);
    const have = soundRecords(dir, data.hash, analysis);
    const seed = data.seed;
    if (seed.train && have.train?.id !== seed.train.id) {
      // A different training in scratch than outputs' sound one: outputs' wins, as its downstream records build on it.
      for (const n of fs.readdirSync(dir)) if (n.endsWith('.json') && n !== DESCRIPTOR_FILE) fs.rmSync(path.join(dir, n), { force: true });
      fs.rmSync(path.join(dir, WEIGHTS_DIR), { recursive: true, force: true });
      writeJsonAtomic(path.join(dir, STAGE_FILE.train), seed.train);
      if (seed.prune) writeJsonAtomic(path.join(dir, STAGE_FILE.prune), seed.prune);
      if (seed.analysis) writeJsonAtomic(path.join(dir, analysisFile(analysis)), seed.analysis);
    } else if (seed.train) {
      if (seed.prune && !have.prune) writeJsonAtomic(path.join(dir, STAGE_FILE.prune), seed.prune);
      if (seed.analysis && !have.analysis) writeJsonAtomic(path.join(dir, analysisFile(analysis)), seed.analysis);
    }
    const shared = weights ? path.join(weights, data.hash, WEIGHTS_DIR) : null;
    if (shared && fs.existsSync(shared) && !fs.existsSync(path.join(dir, WEIGHTS_DIR))) {
      const train = soundRecords(dir, data.hash, analysis).train;
      if (train) copyDirAtomic(shared, path.join(dir, WEIGHTS_DIR));
    }
    return 'seeded';
  } finally {
    attempt.lock.release();
  }
}

export function startQueueWorker(opts: QueueWorkerOptions): QueueWorker {
  fs.mkdirSync(path.join(opts.scratch, RUNS_DIR), { recursive: true });
  const queueProvenance = { name: opts.queue, redis: opts.redis.display };
  const summary: QueueWorkerSummary = { completed: 0, failed: 0, handedBack: 0 };
  const idle: ComputeProcess[] = [];
  const all = new Set<ComputeProcess>();
  let stopping = false;
  let inHand = 0;

  const acquire = (allowDirty: boolean): ComputeProcess => {
    const i = idle.findIndex((c) => c.allowDirty === allowDirty && !c.exited);
    if (i >= 0) return idle.splice(i, 1)[0];
    const c = new ComputeProcess(allowDirty, opts.scratch, opts.env ?? {}, (hash, stage) => opts.log(`${hash} ${stage}`));
    all.add(c);
    c.proc.on('exit', () => {
      all.delete(c);
      const j = idle.indexOf(c);
      if (j >= 0) idle.splice(j, 1);
    });
    return c;
  };
  const releaseChild = (c: ComputeProcess) => {
    if (c.exited) return;
    if (stopping) c.send({ type: 'exit' });
    else idle.push(c);
  };

  const processor = async (job: Job<RunJobData, RunJobResult>, token?: string): Promise<RunJobResult> => {
    inHand++;
    try {
      return await processRun(job, token);
    } finally {
      inHand--;
    }
  };
  const processRun = async (job: Job<RunJobData, RunJobResult>, token?: string): Promise<RunJobResult> => {
    const data = job.data;
    const handBack = async (): Promise<never> => {
      // Back to the queue without counting an attempt: nothing about the run failed.
      await job.moveToWait(token);
      summary.handedBack++;
      throw new WaitingError();
    };
    if (stopping) return handBack();
    const problem = checkoutProblem(data, gitState(), opts.anyCommit);
    if (problem) {
      refuse(problem);
      return handBack();
    }
    const dir = path.join(opts.scratch, RUNS_DIR, data.hash);
    fs.mkdirSync(dir, { recursive: true });
    if (seedScratch(dir, data, opts.weights) === 'locked') {
      // Another process on this machine works on the run in the same scratch folder: try again a little later.
      await job.moveToDelayed(Date.now() + 5000, token);
      throw new DelayedError();
    }
    const eventsFile = path.join(dir, EVENTS_FILE);
    const linesBefore = countLines(eventsFile);
    const t0 = Date.now();
    opts.log(`${data.hash} ${data.label}: started (attempt ${job.attemptsMade + 1})`);
    const child = acquire(data.allowDirty);
    let answer: ChildAnswer;
    try {
      answer = await child.run({ type: 'run', hash: data.hash, descriptor: data.descriptor, label: data.label, analysis: data.analysis });
    } finally {
      releaseChild(child);
    }
    if (answer.kind === 'exited') {
      if (stopping) return handBack();
      summary.failed++;
      throw new Error(`run ${data.hash} on ${os.hostname()}: ${answer.why}`);
    }
    if (answer.kind === 'fatal') {
      // A dataset this machine cannot load fails every run here, not the run: hand it to another worker.
      refuse(answer.message);
      return handBack();
    }
    const o = answer.outcome;
    if (o.kind === 'interrupted') return handBack();
    if (o.kind === 'locked') {
      await job.moveToDelayed(Date.now() + 5000, token);
      throw new DelayedError();
    }
    if (o.kind === 'failed') {
      summary.failed++;
      opts.log(`${data.hash} ${data.label}: failed in the ${o.stage} stage: ${o.error.message}`);
      throw new Error(`${o.stage} stage failed on ${os.hostname()}: ${o.error.message}`);
    }
    const analysis = resolveAnalysisSettings(data.analysis);
    const s = inspectRun(dir, data.hash, analysis);
    if (s.run.state !== 'done' || s.train.state !== 'done')
      throw new Error(`run ${data.hash} on ${os.hostname()}: executeRun reported ${o.kind} but the scratch run is not sound`);
    const records = soundRecords(dir, data.hash, analysis);
    const train = s.train.record;
    // The training was computed here (not shipped with the job): say which queue it came through.
    const computedHere = data.seed.train?.startedAt !== train.startedAt;
    const events = readEvents(dir).slice(linesBefore);
    let weights: string | null = null;
    if (fs.existsSync(path.join(dir, WEIGHTS_DIR))) {
      weights = `${os.hostname()}:${path.join(dir, WEIGHTS_DIR)}`;
      if (opts.weights) {
        copyDirAtomic(path.join(dir, WEIGHTS_DIR), path.join(opts.weights, data.hash, WEIGHTS_DIR));
        weights = path.join(opts.weights, data.hash, WEIGHTS_DIR);
      }
    }
    const stagesRun = [...new Set(events.filter((e) => e.event === 'stage-end').map((e) => e.stage as StageName))];
    summary.completed++;
    opts.log(`${data.hash} ${data.label}: done (${stagesRun.join('+') || 'nothing to compute'}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    return {
      hash: data.hash,
      status: train.training.status,
      stagesRun,
      records: { ...records, train: computedHere ? { ...train, provenance: { ...train.provenance, queue: queueProvenance } } : train },
      events,
      worker: { hostname: os.hostname(), pid: process.pid, scratch: opts.scratch, backend: child.backend },
      weights,
      wallSeconds: (Date.now() - t0) / 1000,
    };
  };

  const worker = new Worker<RunJobData, RunJobResult>(
    opts.queue,
    async (job, token) => {
      if (job.name !== RUN_JOB) throw new Error(`job ${job.id} is a '${job.name}' job; a density queue holds only '${RUN_JOB}' jobs`);
      return processor(job, token);
    },
    {
      connection: persistentConnection(opts.redis),
      concurrency: opts.concurrency,
      lockDuration: opts.stalledSeconds * 1000,
      stalledInterval: opts.stalledSeconds * 1000,
      // A run orphaned by dying workers this many times is recorded failed rather than retried for ever.
      maxStalledCount: 3,
      autorun: true,
    },
  );
  let lastError = '';
  worker.on('error', (err) => {
    // ioredis reports every failed reconnect; one line per distinct message is enough to see Redis is away.
    if (err.message !== lastError) opts.log(`queue connection: ${err.message} (retrying)`);
    lastError = err.message;
  });
  worker.on('ready', () => {
    if (lastError) opts.log('queue connection: back');
    lastError = '';
  });

  let resolveDone: (s: QueueWorkerSummary) => void = () => undefined;
  const done = new Promise<QueueWorkerSummary>((resolve) => (resolveDone = resolve));
  let closing: Promise<void> | null = null;
  function requestStop(): void {
    if (stopping) return;
    stopping = true;
    for (const c of all) c.send({ type: 'stop' });
    // close() waits for the jobs in hand: each ends after its current stage and goes back to the queue.
    closing = worker.close().then(async () => {
      for (const c of [...all]) c.send({ type: 'exit' });
      resolveDone(summary);
    });
  }
  function refuse(why: string): void {
    opts.log(`stopping: ${why}`);
    summary.refused ??= why;
    requestStop();
  }
  if (opts.untilEmpty) {
    // Nothing left to take: leave once no run is waiting or in flight anywhere (an active one on another worker
    // may stall and come back, so this worker waits for it). Polled: BullMQ's 'drained' fires once per lull.
    const counter = new Queue(opts.queue, { connection: persistentConnection(opts.redis) });
    const timer = setInterval(
      () => {
        if (inHand > 0 || stopping) return;
        counter.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'paused', 'waiting-children').then(
          (c) => {
            if (Object.values(c).reduce((a, b) => a + b, 0) === 0 && inHand === 0 && !stopping) {
              opts.log('queue empty: leaving');
              requestStop();
            }
          },
          () => undefined,
        );
      },
      Math.max(1000, (opts.stalledSeconds * 1000) / 2),
    );
    void done.then(() => {
      clearInterval(timer);
      return counter.close();
    });
  }
  return {
    done,
    requestStop,
    kill: () => {
      for (const c of all) c.proc.kill('SIGKILL');
      void closing;
    },
  };
}
