// The outputs side of a queue: enqueue the runs of a profile that are not done, and collect what workers return
// into outputs/. One loop does both, so a run lost from Redis (a Redis restarted without persistence) or left by a
// local sweep that died is enqueued again, and nothing is ever computed twice on purpose.
//
// Who computes a run is decided by its lock in outputs/runs/<hash>/.lock (lib/store/lock.ts), as between local
// sweeps: this process holds the lock of every run it has in the queue until it is collected, so a local sweep on
// the same outputs leaves those runs alone, and a run a local sweep holds is not enqueued. Workers never see
// outputs/; only the collector writes there.
import * as fs from 'fs';
import { Job, type Queue } from 'bullmq';
import type { ExpandedRun } from '../experiments/profiles';
import { runDir } from '../paths';
import { resolveAnalysisSettings, type AnalysisSettings } from '../store/descriptor';
import { tryLock, type Lock, type LockInfo } from '../store/lock';
import { inspectRun, logEvent, readEvents } from '../store/runRecord';
import { collectResult, jobIdOf, RUN_JOB, runLabel, soundRecords, type RunJobData, type RunJobResult } from './jobs';

/** Everything enqueue needs to build a job besides the run itself. */
export interface EnqueueContext {
  profile: string;
  commit: string | null;
  cleanTreeRequired: boolean;
  allowDirty: boolean;
  /** Tries per run before it is recorded failed (BullMQ attempts). */
  attempts: number;
}

export interface WatchedRun {
  jobId: string;
  hash: string;
  label: string;
  analysis: AnalysisSettings;
  /** The run itself when this process may enqueue it (queue --profile); absent for runs found in the queue (collect). */
  run?: ExpandedRun;
}

export type CollectorEvent =
  | { type: 'enqueued'; run: WatchedRun }
  | { type: 'already-queued'; run: WatchedRun; state: string }
  | { type: 'held-elsewhere'; run: WatchedRun; holder: LockInfo | null }
  | { type: 'collected'; run: WatchedRun; result: RunJobResult; stages: string[]; seconds: number | null }
  | { type: 'done-elsewhere'; run: WatchedRun }
  | { type: 'failed'; run: WatchedRun; reason: string; attempts: number }
  | { type: 'bad-result'; run: WatchedRun; problem: string }
  | { type: 'queue-error'; message: string };

export interface CollectorOptions {
  queue: Queue<RunJobData, RunJobResult>;
  /** `<queue> on <redis>`: how the event log and messages name the queue. */
  queueLabel: string;
  /** The runs to see through (queue --profile), or null: every run job found in the queue (collect). */
  runs: ExpandedRun[] | null;
  analysis?: AnalysisSettings;
  /** Add a job for each run not done, not in the queue and not held by another process; null = collect only. */
  enqueue: EnqueueContext | null;
  /** Keep going until every run is settled (done, or failed in the queue); false = one pass. */
  follow: boolean;
  pollMs: number;
  /** The shared weights folder the workers were given, if this machine can read it. */
  weights?: string;
  shouldStop?: () => boolean;
  onEvent?: (e: CollectorEvent) => void;
}

export interface CollectorSummary {
  total: number;
  /** Done in outputs before this process looked. */
  existing: number;
  enqueued: number;
  collected: number;
  /** Finished by another process (a local sweep, another collector) while this one watched. */
  doneElsewhere: number;
  failed: { hash: string; label: string; reason: string }[];
  /** Not settled when the collector stopped (still queued, running, or held by another process). */
  open: number;
  interrupted: boolean;
}

const PENDING_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused']);

function watchedOf(r: ExpandedRun, analysis: AnalysisSettings): WatchedRun {
  return { jobId: jobIdOf(r.hash, analysis), hash: r.hash, label: runLabel(r), analysis, run: r };
}

export async function runCollector(opts: CollectorOptions): Promise<CollectorSummary> {
  const emit = opts.onEvent ?? (() => undefined);
  const q = opts.queue;
  const analysisDefault = resolveAnalysisSettings(opts.analysis ?? {});
  const watched = new Map<string, WatchedRun>();
  if (opts.runs) for (const r of opts.runs) watched.set(jobIdOf(r.hash, analysisDefault), watchedOf(r, analysisDefault));
  const settled = new Set<string>();
  const locks = new Map<string, Lock>();
  const summary: CollectorSummary = { total: 0, existing: 0, enqueued: 0, collected: 0, doneElsewhere: 0, failed: [], open: 0, interrupted: false };
  const purpose = `queue collector (${opts.queueLabel})`;
  let firstPass = true;

  const hold = (w: WatchedRun): { held: true } | { held: false; holder: LockInfo | null } => {
    if (locks.has(w.jobId)) return { held: true };
    const a = tryLock(runDir(w.hash), purpose);
    if (a.acquired === false) return { held: false, holder: a.holder };
    locks.set(w.jobId, a.lock);
    return { held: true };
  };
  const letGo = (w: WatchedRun) => {
    locks.get(w.jobId)?.release();
    locks.delete(w.jobId);
  };
  const settle = (w: WatchedRun) => {
    settled.add(w.jobId);
    letGo(w);
  };
  const isDone = (w: WatchedRun) => inspectRun(runDir(w.hash), w.hash, w.analysis).run.state === 'done';

  /** Jobs found in the queue (collect without a profile): their settings come from the job. */
  const discover = async () => {
    const ids = await q.getRanges(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'], 0, -1);
    for (const id of new Set(ids)) {
      if (watched.has(id)) continue;
      const job = await Job.fromId<RunJobData, RunJobResult>(q, id);
      if (!job || job.name !== RUN_JOB) continue;
      watched.set(id, { jobId: id, hash: job.data.hash, label: job.data.label, analysis: resolveAnalysisSettings(job.data.analysis) });
    }
  };

  const step = async (w: WatchedRun): Promise<void> => {
    if (isDone(w)) {
      if (firstPass && !locks.has(w.jobId)) {
        summary.existing++;
      } else {
        summary.doneElsewhere++;
        emit({ type: 'done-elsewhere', run: w });
      }
      return settle(w);
    }
    const state = await q.getJobState(w.jobId);
    if (state === 'completed') {
      const h = hold(w);
      if (!h.held) return; // another collector (or a local sweep) has it: it will be done by them
      const job = await Job.fromId<RunJobData, RunJobResult>(q, w.jobId);
      if (!job) return; // removed in between: next pass sees 'unknown'
      if (isDone(w)) {
        summary.doneElsewhere++;
        emit({ type: 'done-elsewhere', run: w });
        return settle(w);
      }
      try {
        const out = collectResult(runDir(w.hash), job.returnvalue, w.analysis, {
          queue: opts.queueLabel,
          weights: opts.weights,
          jobId: w.jobId,
          attempts: job.attemptsStarted,
        });
        summary.collected++;
        const seconds = job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : null;
        emit({ type: 'collected', run: w, result: job.returnvalue, stages: out.kind === 'written' ? out.stages : [], seconds });
        settle(w);
      } catch (err) {
        // Records that fail the store's checks never reach outputs/: the run goes back to the queue to be redone.
        const problem = (err as Error).message;
        emit({ type: 'bad-result', run: w, problem });
        logEvent(runDir(w.hash), 'queue-bad-result', { queue: opts.queueLabel, job: w.jobId, problem });
        await job.remove();
      }
      return;
    }
    if (state === 'failed') {
      const job = await Job.fromId<RunJobData, RunJobResult>(q, w.jobId);
      const reason = job?.failedReason ?? 'unknown reason';
      const finishedOn = job?.finishedOn ?? 0;
      // Logged once per failure, however many collectors or passes see it.
      const dir = runDir(w.hash);
      fs.mkdirSync(dir, { recursive: true });
      if (!readEvents(dir).some((e) => e.event === 'queue-failed' && e.job === w.jobId && e.finishedOn === finishedOn)) {
        logEvent(dir, 'queue-failed', { queue: opts.queueLabel, job: w.jobId, finishedOn, attempts: job?.attemptsMade ?? null, error: reason });
      }
      summary.failed.push({ hash: w.hash, label: w.label, reason });
      emit({ type: 'failed', run: w, reason, attempts: job?.attemptsMade ?? 0 });
      return settle(w);
    }
    if (PENDING_STATES.has(state)) {
      const h = hold(w);
      if (!h.held && state === 'waiting') {
        // A local sweep took the run before any worker did: let it have it (remove fails if a worker just took it).
        const job = await Job.fromId(q, w.jobId);
        await job?.remove().catch(() => undefined);
      }
      if (firstPass) emit({ type: 'already-queued', run: w, state });
      return;
    }
    // Not in the queue.
    if (!opts.enqueue || !w.run) return settle(w);
    const h = hold(w);
    if (!h.held) {
      if (firstPass) emit({ type: 'held-elsewhere', run: w, holder: h.holder });
      return;
    }
    if (isDone(w)) return settle(w); // finished between the first look and the lock
    const e = opts.enqueue;
    const data: RunJobData = {
      hash: w.hash,
      descriptor: w.run.descriptor,
      analysis: w.analysis,
      group: w.run.group,
      label: w.label,
      profile: e.profile,
      commit: e.commit,
      cleanTreeRequired: e.cleanTreeRequired,
      allowDirty: e.allowDirty,
      seed: soundRecords(runDir(w.hash), w.hash, w.analysis),
    };
    await q.add(RUN_JOB, data, {
      jobId: w.jobId,
      attempts: e.attempts,
      backoff: { type: 'fixed', delay: 2000 },
      // Kept: a finished job holds the records until they are collected, and its id keeps a re-enqueue a no-op.
      removeOnComplete: false,
      removeOnFail: false,
    });
    summary.enqueued++;
    emit({ type: 'enqueued', run: w });
  };

  try {
    for (;;) {
      if (!opts.runs) await discover();
      let errors = 0;
      for (const w of watched.values()) {
        if (settled.has(w.jobId)) continue;
        if (opts.shouldStop?.()) break;
        try {
          await step(w);
        } catch (err) {
          // Redis away (restart) or a transient error: the next pass tries again.
          errors++;
          if (errors === 1) emit({ type: 'queue-error', message: (err as Error).message });
        }
      }
      firstPass = false;
      if (opts.shouldStop?.()) {
        summary.interrupted = true;
        break;
      }
      const open = [...watched.keys()].filter((k) => !settled.has(k)).length;
      if (!opts.follow || (open === 0 && errors === 0)) break;
      await new Promise<void>((resolve) => setTimeout(resolve, opts.pollMs));
    }
  } finally {
    summary.total = watched.size;
    summary.open = [...watched.keys()].filter((k) => !settled.has(k)).length;
    // Without --follow the locks go with this process: a local sweep may then take queued runs (README says so).
    for (const l of locks.values()) l.release();
    locks.clear();
  }
  return summary;
}
