// npm run collect -- --redis <url> [--follow]: write the records workers returned through a queue into outputs/.
import * as path from 'path';
import { CommandSpec, ENV_NOTES, runCli, UsageError } from './args';
import { stopOnSignals } from './signals';
import { checkOutputsDir } from '../paths';
import { oneShotConnection, persistentConnection } from '../queue/connection';
import { checkReachable, openQueue, QUEUE_ENV_NOTES, QUEUE_FLAG, queueLabel, queueNameArg, REDIS_FLAG, redisArg } from './queueShared';
import { collectorLogger, finishCollector } from './queueCollect';
import { runCollector } from '../queue/collector';

const cmd: CommandSpec = {
  command: 'collect',
  summary:
    'Write the stage records of every finished run in a queue into outputs/, atomically and checked as a local\n' +
    'sweep writes them (status, results and the notebooks cannot tell the difference); log runs that failed.\n' +
    'npm run queue -- --follow does the same for one profile while it runs.',
  flags: [
    REDIS_FLAG,
    QUEUE_FLAG,
    { name: 'follow', type: 'boolean', help: 'keep collecting until no run is waiting or in flight' },
    { name: 'weights', type: 'string', placeholder: '<dir>', help: "the workers' shared --weights folder, if this machine reads it" },
    { name: 'poll-seconds', type: 'number', placeholder: '<s>', help: 'how often --follow looks at the queue (default 2)' },
  ],
  notes: ['Exit codes: 0 all collected, 1 runs failed (or, with --follow, left open), 2 bad flags, 130 interrupted.', '', ...ENV_NOTES, ...QUEUE_ENV_NOTES],
  examples: ['npm run collect -- --redis redis://head-node:6379', 'npm run collect -- --redis redis://head-node:6379 --follow'],
};

runCli(cmd, async ({ values }) => {
  const redis = redisArg(values);
  const name = queueNameArg(values);
  const pollSeconds = (values['poll-seconds'] as number | undefined) ?? 2;
  if (!(pollSeconds > 0)) throw new UsageError(`--poll-seconds: expected a positive number, got ${pollSeconds}`);
  const weights = values.weights as string | undefined;
  if (weights !== undefined && !path.isAbsolute(weights)) throw new UsageError(`--weights: '${weights}' is a relative path; give an absolute one`);
  const outputs = checkOutputsDir('write', 'runs');
  const follow = values.follow === true;
  const label = queueLabel(name, redis);
  process.stderr.write(`collecting from ${label} into ${path.join(outputs, 'runs')}\n`);
  const q = openQueue(name, follow ? persistentConnection(redis) : oneShotConnection(redis));
  try {
    await checkReachable(q, redis);
    let stop = false;
    const removeHandlers = stopOnSignals(
      { requestStop: () => (stop = true), kill: () => undefined },
      { line: (l) => process.stderr.write(`${l}\n`), finish: () => undefined },
    );
    const summary = await runCollector({
      queue: q,
      queueLabel: label,
      runs: null,
      enqueue: null,
      follow,
      pollMs: pollSeconds * 1000,
      weights,
      shouldStop: () => stop,
      onEvent: collectorLogger(null),
    });
    removeHandlers();
    return finishCollector(summary, follow);
  } finally {
    await q.close();
  }
});
