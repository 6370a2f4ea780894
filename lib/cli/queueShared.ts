// Flags and helpers shared by the queue commands (queue, worker, collect, status --redis).
import * as os from 'os';
import { Queue } from 'bullmq';
import type { FlagSpec, ParsedArgs } from './args';
import { asUsage, UsageError } from './args';
import { DEFAULT_QUEUE, parseRedisUrl, type RedisTarget } from '../queue/connection';
import type { RunJobData, RunJobResult } from '../queue/jobs';
import type { ConnectionOptions } from 'bullmq';

export const REDIS_FLAG: FlagSpec = {
  name: 'redis',
  type: 'string',
  placeholder: '<redis://host:port>',
  help: 'the Redis that holds the queue (default: $DENSITY_REDIS)',
};
export const QUEUE_FLAG: FlagSpec = {
  name: 'queue',
  type: 'string',
  placeholder: '<name>',
  help: `queue name (default: ${DEFAULT_QUEUE}); runs of several profiles may share one`,
};

export const QUEUE_ENV_NOTES = ['  DENSITY_REDIS     default for --redis'];

/** --redis (or $DENSITY_REDIS) parsed; missing or malformed is a usage error (exit 2). */
export function redisArg(values: ParsedArgs['values']): RedisTarget {
  const url = (values.redis as string | undefined) ?? process.env.DENSITY_REDIS;
  if (!url) throw new UsageError('--redis <redis://host:port> is required (or set DENSITY_REDIS)');
  return asUsage(() => parseRedisUrl(url));
}

export function queueNameArg(values: ParsedArgs['values']): string {
  const name = (values.queue as string | undefined) ?? DEFAULT_QUEUE;
  // BullMQ builds Redis keys as <prefix>:<name>:...; a colon would make another queue's keys ambiguous.
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`--queue: '${name}' may hold only letters, digits, '_', '.' and '-'`);
  return name;
}

export function openQueue(name: string, connection: ConnectionOptions): Queue<RunJobData, RunJobResult> {
  return new Queue<RunJobData, RunJobResult>(name, { connection });
}

/** Fail within seconds, naming the URL, when Redis cannot be reached (instead of a stack from ioredis). */
export async function checkReachable(q: Queue, t: RedisTarget): Promise<void> {
  try {
    await q.getJobCounts('waiting');
  } catch (err) {
    throw new Error(`cannot reach Redis at ${t.display}: ${(err as Error).message}. Is redis-server running there (README, "Many machines")?`);
  }
}

/** `<queue> on <redis>`: how logs and the event log name a queue. */
export function queueLabel(name: string, t: RedisTarget): string {
  return `${name} on ${t.display}`;
}

export function stamp(): string {
  return `${new Date().toISOString().slice(11, 19)} ${os.hostname()}`;
}
