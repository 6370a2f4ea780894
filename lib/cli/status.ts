// npm run status -- --profile <p>: how far a profile's sweep has come, overall and per architecture+width.
import * as path from 'path';
import { ARCH_FLAG, CommandSpec, ENV_NOTES, GROUP_FLAG, PROFILE_FLAG, profileArg, runCli, runFilterArg, UsageError, WIDTHS_FLAG } from './args';
import { expandProfileRuns, profileAnalysis } from '../experiments/profiles';
import { runStatusAt, type RunState, type RunStatusInfo } from '../experiments/results';
import { checkOutputsDir, RUNS_DIR } from '../paths';
import { formatDuration } from './progress';
import { oneShotConnection } from '../queue/connection';
import { checkReachable, openQueue, QUEUE_ENV_NOTES, QUEUE_FLAG, queueLabel, queueNameArg, REDIS_FLAG, redisArg } from './queueShared';
import { queueOverview, type QueueOverview, type QueueState } from '../queue/status';

const cmd: CommandSpec = {
  command: 'status',
  summary: 'Count the runs of a profile that are complete, diverged, running (locked by a live process), partial or missing.',
  flags: [
    PROFILE_FLAG,
    ARCH_FLAG,
    WIDTHS_FLAG,
    GROUP_FLAG,
    { name: 'verbose', type: 'boolean', help: 'also list every unfinished run with its finished stages and problems' },
    { name: 'json', type: 'boolean', help: 'print the counts as JSON on stdout' },
    { ...REDIS_FLAG, help: 'also show the queue (npm run queue): runs waiting, active, done and failed there, and an ETA' },
    QUEUE_FLAG,
  ],
  notes: [
    'partial = some stages recorded (a sweep resumes after them); problems are records that will be redone.',
    "With --redis: queue waiting/active/done/failed per row (done there = computed; 'complete' counts it once\ncollected into outputs/), and an ETA from the recent runs' times and the workers connected.",
    '',
    ...ENV_NOTES,
    ...QUEUE_ENV_NOTES,
  ],
  examples: ['npm run status -- --profile cpu', 'npm run status -- --profile cpu --arch conv2 --verbose'],
};

const STATES: RunState[] = ['complete', 'diverged', 'running', 'partial', 'missing'];

function counts(xs: RunStatusInfo[]): Record<RunState, number> {
  const c = { complete: 0, diverged: 0, running: 0, partial: 0, missing: 0 } as Record<RunState, number>;
  for (const x of xs) c[x.state]++;
  return c;
}

runCli(cmd, async ({ values }) => {
  const profile = profileArg(values);
  const runs = expandProfileRuns(profile, runFilterArg(profile, values));
  if (runs.length === 0) throw new UsageError(`profile ${profile.name} has no runs matching the filters`);
  const outputs = checkOutputsDir('read');
  process.stderr.write(`results in ${path.join(outputs, RUNS_DIR)}\n`);
  // At the profile's own analysis settings: a run analysed only at other settings is partial (stale), not complete.
  const analysis = profileAnalysis(profile);
  const infos = runs.map((r) => runStatusAt(r, analysis));
  const stale = infos.filter((i) => i.stale).length;
  let queue: QueueOverview | null = null;
  if (values.redis !== undefined || values.queue !== undefined) {
    const redis = redisArg(values);
    const name = queueNameArg(values);
    const q = openQueue(name, oneShotConnection(redis));
    try {
      await checkReachable(q, redis);
      queue = await queueOverview(q, runs, analysis);
    } finally {
      await q.close();
    }
    process.stderr.write(`queue ${queueLabel(name, redis)}: ${queue.workers} worker${queue.workers === 1 ? '' : 's'} connected\n`);
  }
  const qCounts = (xs: RunStatusInfo[]): Record<QueueState, number> => {
    const c: Record<QueueState, number> = { waiting: 0, active: 0, done: 0, failed: 0, absent: 0 };
    for (const x of xs) c[queue?.states.get(x.run.hash) ?? 'absent']++;
    return c;
  };
  const total = counts(infos);
  const groups = new Map<string, RunStatusInfo[]>();
  for (const i of infos) {
    const key = `${i.run.group}\t${i.run.descriptor.width}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }
  if (values.json) {
    const perGroup = [...groups.entries()].map(([k, xs]) => ({
      group: k.split('\t')[0],
      width: Number(k.split('\t')[1]),
      total: xs.length,
      ...counts(xs),
      ...(queue ? { queue: qCounts(xs) } : {}),
    }));
    const queueJson = queue ? { queue: { ...qCounts(infos), workers: queue.workers, meanSeconds: queue.meanSeconds, etaSeconds: queue.etaSeconds } } : {};
    process.stdout.write(JSON.stringify({ profile: profile.name, total: runs.length, ...total, stale, perGroup, ...queueJson }, null, 1) + '\n');
    return 0;
  }
  const out: string[] = [];
  out.push(`profile ${profile.name}: ${runs.length} runs: ${STATES.map((s) => `${total[s]} ${s}`).join(', ')}`);
  out.push('');
  const Q_STATES: QueueState[] = ['waiting', 'active', 'done', 'failed'];
  const header = ['group', 'width', 'total', ...STATES, ...(queue ? Q_STATES.map((s) => `q:${s}`) : [])];
  const rows = [...groups.entries()].map(([k, xs]) => {
    const c = counts(xs);
    const qc = qCounts(xs);
    const [g, w] = k.split('\t');
    return [g, `${w}x`, String(xs.length), ...STATES.map((s) => String(c[s])), ...(queue ? Q_STATES.map((s) => String(qc[s])) : [])];
  });
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const fmt = (r: string[]) => r.map((c, j) => (j < 2 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ');
  out.push(fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt));
  if (queue) {
    const qc = qCounts(infos);
    out.push(
      '',
      `queue: ${qc.waiting} waiting, ${qc.active} active, ${qc.done} done, ${qc.failed} failed; ` +
        (queue.etaSeconds === null
          ? 'ETA ? (no run finished yet, or no worker connected)'
          : `ETA ${formatDuration(queue.etaSeconds)} (${queue.workers} worker${queue.workers === 1 ? '' : 's'}, ${formatDuration(queue.meanSeconds ?? 0)} per run lately)`),
    );
  }
  if (stale > 0) {
    out.push(
      '',
      `${stale} run${stale === 1 ? ' is' : 's are'} analysed only at other analysis settings (stale for this profile: ${settingsText(analysis)}); a sweep of this profile re-analyses them without retraining`,
    );
  }
  if (values.verbose) {
    out.push('');
    for (const i of infos) {
      if (i.state === 'complete' || i.state === 'diverged') continue;
      const d = i.run.descriptor;
      out.push(
        `${i.run.hash}  ${i.state.padEnd(8)} ${i.run.group} ${d.width}x ${d.init} i${d.initSeed} d${d.dataSeed}` +
          (i.stagesDone.length ? `  stages done: ${i.stagesDone.join(',')}` : '') +
          (i.holder ? `  (pid ${i.holder.pid} on ${i.holder.hostname} since ${i.holder.startedAt})` : '') +
          (i.problems.length ? `  will redo: ${i.problems.join('; ')}` : ''),
      );
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
});

function settingsText(a: ReturnType<typeof profileAnalysis>): string {
  return `${a.metric} threshold ${a.threshold} (${a.mode}), overlap quantile ${a.overlapQuantile}`;
}
