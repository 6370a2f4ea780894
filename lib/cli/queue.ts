// npm run queue -- --profile <p> --redis <url> [--follow]: put the runs of a profile that are not done on a
// queue for workers on any machine (npm run worker); with --follow, also collect their records into outputs/.
import * as path from 'path';
import { ARCH_FLAG, CommandSpec, ENV_NOTES, GROUP_FLAG, PROFILE_FLAG, profileArg, runCli, runFilterArg, UsageError, WIDTHS_FLAG } from './args';
import { stopOnSignals } from './signals';
import { expandProfileRuns, profileAnalysis } from '../experiments/profiles';
import { gitState } from '../experiments/provenance';
import { dirtyTreeRefusal } from '../experiments/sweep';
import { checkOutputsDir, RUNS_DIR } from '../paths';
import { oneShotConnection, persistentConnection } from '../queue/connection';
import { checkReachable, openQueue, QUEUE_ENV_NOTES, QUEUE_FLAG, queueLabel, queueNameArg, REDIS_FLAG, redisArg } from './queueShared';
import { collectorLogger, finishCollector } from './queueCollect';
import { runCollector } from '../queue/collector';
import { jobIdOf } from '../queue/jobs';

const cmd: CommandSpec = {
  command: 'queue',
  summary:
    'Put every run of a profile that is not done on a Redis queue (BullMQ), for npm run worker on any machine.\n' +
    'A job is a run (job id run-<hash>), so queueing a profile twice adds nothing. With --follow, stay and write\n' +
    'the records workers return into outputs/ (as npm run collect does) until every run is done or failed.',
  flags: [
    PROFILE_FLAG,
    ARCH_FLAG,
    WIDTHS_FLAG,
    GROUP_FLAG,
    REDIS_FLAG,
    QUEUE_FLAG,
    { name: 'follow', type: 'boolean', help: 'collect records into outputs/ until every run is done or failed' },
    { name: 'attempts', type: 'integer', placeholder: '<N>', help: 'tries per run before it is recorded failed (default 3)' },
    { name: 'retry-failed', type: 'boolean', help: 'put runs that failed in the queue back for another round of attempts' },
    {
      name: 'weights',
      type: 'string',
      placeholder: '<dir>',
      help: "the workers' shared --weights folder, if this machine reads it: weights\nare copied into outputs/ with the records",
    },
    { name: 'allow-dirty', type: 'boolean', help: 'queue a built-in profile from a checkout with uncommitted changes (an experiment)' },
    { name: 'poll-seconds', type: 'number', placeholder: '<s>', help: 'how often --follow looks at the queue (default 2)' },
  ],
  notes: [
    'While --follow runs, it holds the lock of each queued run in outputs/, so a local npm run sweep on the same\noutputs leaves those runs to the queue (and a run a sweep holds is not queued). Without --follow, run\nnpm run collect (see its --help) to bring results into outputs/.',
    'Workers must be at the commit this checkout is at (their records name it); built-in profiles other than smoke\nrefuse a dirty tree here and on the workers, as npm run sweep does.',
    'Exit codes: 0 queued (or, with --follow, all done), 1 runs failed or not finished, 2 bad flags, 130 interrupted.',
    '',
    ...ENV_NOTES,
    ...QUEUE_ENV_NOTES,
  ],
  examples: [
    'npm run queue -- --profile cpu --redis redis://head-node:6379 --follow',
    'npm run queue -- --profile paper --arch conv2 --widths 0.1,1 --redis redis://head-node:6379',
  ],
};

runCli(cmd, async ({ values }) => {
  const profile = profileArg(values);
  const runs = expandProfileRuns(profile, runFilterArg(profile, values));
  if (runs.length === 0) throw new UsageError(`profile ${profile.name} has no runs matching the filters`);
  const redis = redisArg(values);
  const name = queueNameArg(values);
  const attempts = (values.attempts as number | undefined) ?? 3;
  if (attempts < 1) throw new UsageError(`--attempts: expected at least 1, got ${attempts}`);
  const pollSeconds = (values['poll-seconds'] as number | undefined) ?? 2;
  if (!(pollSeconds > 0)) throw new UsageError(`--poll-seconds: expected a positive number, got ${pollSeconds}`);
  const weights = values.weights as string | undefined;
  if (weights !== undefined && !path.isAbsolute(weights)) throw new UsageError(`--weights: '${weights}' is a relative path; give an absolute one`);
  const allowDirty = values['allow-dirty'] === true;
  const git = gitState();
  const refusal = dirtyTreeRefusal(profile, git, allowDirty);
  if (refusal) throw new Error(refusal);
  const outputs = checkOutputsDir('write', RUNS_DIR);
  const follow = values.follow === true;
  const analysis = profileAnalysis(profile);
  const label = queueLabel(name, redis);
  process.stderr.write(`profile ${profile.name}: ${runs.length} runs; queue ${label}; results in ${path.join(outputs, RUNS_DIR)}\n`);

  const q = openQueue(name, follow ? persistentConnection(redis) : oneShotConnection(redis));
  try {
    await checkReachable(q, redis);
    if (values['retry-failed']) {
      let n = 0;
      for (const r of runs) {
        const job = await q.getJob(jobIdOf(r.hash, analysis));
        if (job && (await job.getState()) === 'failed') {
          await job.retry('failed');
          n++;
        }
      }
      process.stderr.write(`${n} failed run${n === 1 ? '' : 's'} put back on the queue\n`);
    }
    let stop = false;
    const removeHandlers = stopOnSignals(
      { requestStop: () => (stop = true), kill: () => undefined },
      { line: (l) => process.stderr.write(`${l}\n`), finish: () => undefined },
    );
    const summary = await runCollector({
      queue: q,
      queueLabel: label,
      runs,
      analysis,
      follow,
      pollMs: pollSeconds * 1000,
      weights,
      enqueue: {
        profile: profile.name,
        commit: git.commit,
        allowDirty,
        // The same test as a local sweep's: would a dirty tree be refused for this profile?
        cleanTreeRequired: dirtyTreeRefusal(profile, { commit: git.commit, dirty: true }, false) !== null,
        attempts,
      },
      shouldStop: () => stop,
      onEvent: collectorLogger(runs.length),
    });
    removeHandlers();
    return finishCollector(summary, follow);
  } finally {
    await q.close();
  }
});
