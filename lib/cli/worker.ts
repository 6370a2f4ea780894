// npm run worker -- --redis <url> [--concurrency N]: compute runs from a queue on this machine.
import * as os from 'os';
import * as path from 'path';
import { CommandSpec, ENV_NOTES, runCli, UsageError } from './args';
import { stopOnSignals } from './signals';
import { QUEUE_ENV_NOTES, QUEUE_FLAG, queueLabel, queueNameArg, REDIS_FLAG, redisArg, stamp } from './queueShared';
import { startQueueWorker } from '../queue/worker';

const cmd: CommandSpec = {
  command: 'worker',
  summary:
    'Take runs from a queue (npm run queue) and compute them here with the same stage code as npm run sweep,\n' +
    'in a scratch outputs folder of this machine; the records go back through the queue to the collector.\n' +
    'Start one per machine, or one per GPU (README, "Many machines"). Needs no access to outputs/.',
  flags: [
    REDIS_FLAG,
    QUEUE_FLAG,
    { name: 'concurrency', type: 'integer', placeholder: '<N>', help: 'runs computed at once, one process each (default 1)' },
    {
      name: 'scratch',
      type: 'string',
      placeholder: '<dir>',
      help: "this worker's outputs folder, absolute (default ~/.cache/density-worker);\nweights and half-done runs stay there",
    },
    {
      name: 'weights',
      type: 'string',
      placeholder: '<dir>',
      help: 'a folder all workers and the collector share (NFS): weights are copied\nthere and reused from there, so a later stage never retrains',
    },
    { name: 'stalled-seconds', type: 'integer', placeholder: '<s>', help: 'a run whose worker is silent this long goes to another worker (default 30)' },
    { name: 'until-empty', type: 'boolean', help: 'leave once no run is waiting or in flight (batch jobs, SLURM)' },
    { name: 'any-commit', type: 'boolean', help: 'compute runs enqueued from another git commit than this checkout' },
  ],
  notes: [
    'Ctrl-C (or SIGTERM, as SLURM sends at the time limit) once: finish the current stage, hand the run back to the\nqueue (its finished stages stay in the scratch folder), exit 130. Again a second later: exit at once.',
    'SIGKILL or a lost machine: after --stalled-seconds another worker takes the run. Redis restarted: the worker\nreconnects by itself.',
    "Exit codes: 0 left an empty queue (--until-empty), 1 refused the queue's runs (another commit, a dirty tree,\na dataset it cannot load), 2 bad flags, 130 stopped.",
    '',
    ...ENV_NOTES,
    ...QUEUE_ENV_NOTES,
  ],
  examples: ['npm run worker -- --redis redis://head-node:6379', 'CUDA_VISIBLE_DEVICES=1 npm run worker -- --redis redis://head-node:6379 --until-empty'],
};

runCli(cmd, async ({ values }) => {
  const redis = redisArg(values);
  const queue = queueNameArg(values);
  const concurrency = (values.concurrency as number | undefined) ?? 1;
  if (concurrency < 1) throw new UsageError(`--concurrency: expected at least 1, got ${concurrency}`);
  const stalledSeconds = (values['stalled-seconds'] as number | undefined) ?? 30;
  if (stalledSeconds < 1) throw new UsageError(`--stalled-seconds: expected at least 1, got ${stalledSeconds}`);
  const scratch = (values.scratch as string | undefined) ?? path.join(os.homedir(), '.cache', 'density-worker');
  if (!path.isAbsolute(scratch)) throw new UsageError(`--scratch: '${scratch}' is a relative path; give an absolute one`);
  const weights = values.weights as string | undefined;
  if (weights !== undefined && !path.isAbsolute(weights)) throw new UsageError(`--weights: '${weights}' is a relative path; give an absolute one`);
  const log = (line: string) => process.stderr.write(`${stamp()} pid ${process.pid}: ${line}\n`);
  log(`worker for ${queueLabel(queue, redis)}, ${concurrency} at a time, scratch ${scratch}${weights ? `, weights to ${weights}` : ''}`);
  const w = startQueueWorker({
    redis,
    queue,
    concurrency,
    scratch,
    weights,
    stalledSeconds,
    untilEmpty: values['until-empty'] === true,
    anyCommit: values['any-commit'] === true,
    log,
  });
  let signalled = false;
  stopOnSignals({ requestStop: () => ((signalled = true), w.requestStop()), kill: () => w.kill() }, { line: log, finish: () => undefined });
  const s = await w.done;
  log(`stopped: ${s.completed} runs computed, ${s.failed} failed attempts, ${s.handedBack} handed back to the queue`);
  if (s.refused) {
    log(`refused: ${s.refused}`);
    return 1;
  }
  return signalled ? 130 : 0;
});
