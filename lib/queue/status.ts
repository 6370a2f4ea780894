// What the queue knows about a profile's runs, for `npm run status -- --redis <url>`: per run its job state,
// and an ETA from the recent jobs' run times and the number of workers connected.
import type { Queue } from 'bullmq';
import type { ExpandedRun } from '../experiments/profiles';
import type { AnalysisSettings } from '../store/descriptor';
import { jobIdOf, type RunJobData, type RunJobResult } from './jobs';

/** waiting = queued for a worker (incl. delayed before a retry), done = finished in the queue (collected or not). */
export type QueueState = 'waiting' | 'active' | 'done' | 'failed' | 'absent';

export interface QueueOverview {
  states: Map<string, QueueState>;
  workers: number;
  /** Mean seconds per run over the most recently finished jobs, or null when none has finished. */
  meanSeconds: number | null;
  /** (waiting + active) x meanSeconds / workers, in seconds; null when unknown. */
  etaSeconds: number | null;
}

function toQueueState(s: string): QueueState {
  if (s === 'active') return 'active';
  if (s === 'completed') return 'done';
  if (s === 'failed') return 'failed';
  if (s === 'unknown') return 'absent';
  return 'waiting';
}

export async function queueOverview(q: Queue<RunJobData, RunJobResult>, runs: ExpandedRun[], analysis: AnalysisSettings): Promise<QueueOverview> {
  const states = new Map<string, QueueState>();
  const answers = await Promise.all(runs.map((r) => q.getJobState(jobIdOf(r.hash, analysis))));
  runs.forEach((r, i) => states.set(r.hash, toQueueState(answers[i])));
  const workers = await q.getWorkersCount();
  const recent = await q.getJobs(['completed'], 0, 49, false);
  const times = recent.filter((j) => j.finishedOn && j.processedOn).map((j) => ((j.finishedOn as number) - (j.processedOn as number)) / 1000);
  const meanSeconds = times.length ? times.reduce((a, b) => a + b, 0) / times.length : null;
  const left = [...states.values()].filter((s) => s === 'waiting' || s === 'active').length;
  const etaSeconds = meanSeconds === null || workers === 0 ? null : (left * meanSeconds) / workers;
  return { states, workers, meanSeconds, etaSeconds };
}
