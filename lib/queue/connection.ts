// Where the queue lives: a Redis URL turned into BullMQ connection options, and a name for it that is safe to
// print and to record (no password).
import type { ConnectionOptions } from 'bullmq';

/** The BullMQ queue name when --queue is not given. Jobs of every profile may share it: a job id is a run. */
export const DEFAULT_QUEUE = 'density';

export interface RedisTarget {
  /** `redis://host:port/db` without credentials: printed, and recorded in provenance.queue.redis. */
  display: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/** Parse redis://[user:password@]host[:port][/db] (rediss:// for TLS); a malformed URL is an error that says why. */
export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis: '${url}' is not a URL; expected redis://host:port (e.g. redis://127.0.0.1:6379)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--redis: '${url}' is not a redis:// or rediss:// URL`);
  if (!u.hostname) throw new Error(`--redis: '${url}' names no host`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new Error(`--redis: database '${dbText}' in '${url}' is not a whole number`);
  return {
    display: `${u.protocol}//${u.hostname}:${port}/${db}`,
    host: u.hostname,
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
  };
}

/**
 * Connection options for long-lived processes (worker, collector): commands wait for Redis instead of failing
 * (maxRetriesPerRequest null, as BullMQ requires for workers), and a lost connection is retried for ever, at most
 * every 2 s, so a restarted Redis is picked up again without restarting anything.
 */
export function persistentConnection(t: RedisTarget): ConnectionOptions {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    username: t.username,
    password: t.password,
    ...(t.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(times * 200, 2000),
  };
}

/**
 * Connection options for one-shot commands (status, enqueue without --follow): an unreachable Redis fails the
 * command within a few seconds with the reason, rather than hanging.
 */
export function oneShotConnection(t: RedisTarget): ConnectionOptions {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    username: t.username,
    password: t.password,
    ...(t.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    retryStrategy: (times: number) => (times > 3 ? null : 300),
  };
}
