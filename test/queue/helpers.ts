// A real Redis for the queue tests (loopback, a free port, a temp dir, no persistence unless asked), and the
// queue CLIs as child processes in their own process groups.
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';

interface RedisSetup {
  findRedisServer(): string | null;
  INSTALL_COMMAND: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const redisSetup = require(path.join(projectRoot, 'scripts', 'redis.js')) as RedisSetup;

export function redisServerBinary(): string | null {
  return redisSetup.findRedisServer();
}
export const REDIS_MISSING = `redis-server not found: queue tests skipped (install it: ${redisSetup.INSTALL_COMMAND}, or set DENSITY_REDIS_SERVER)`;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Send one inline command, return the first reply line ('' if the server closed the connection, as SHUTDOWN does). */
export function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (b) => {
      data += b.toString();
      if (data.includes('\r\n')) {
        sock.end();
        resolve(data.split('\r\n')[0]);
      }
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    sock.on('connect', () => sock.write(`${command}\r\n`));
  });
}

export class TestRedis {
  private proc: ChildProcess | null = null;
  readonly dir: string;
  constructor(
    readonly binary: string,
    readonly port: number,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'density-redis-'));
  }
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.proc = spawn(this.binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      try {
        if ((await redisCommand(this.port, 'PING')) === '+PONG') return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within 5 s`);
  }
  /** Stop it; `save` writes its data to the temp dir first (SHUTDOWN SAVE), so a restart finds the queue again. */
  async stop(save = false): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    await redisCommand(this.port, save ? 'SHUTDOWN SAVE' : 'SHUTDOWN NOSAVE').catch(() => p.kill('SIGKILL'));
    await exited;
    this.proc = null;
  }
  kill(): void {
    this.proc?.kill('SIGKILL');
    this.proc = null;
  }
  cleanup(): void {
    this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The queue's commands spawned like the other CLIs (test/cli/helpers.ts): own process group, output captured. */
export { spawnCli as spawnQueueCli, type Spawned } from '../cli/helpers';

/** Poll `f` until true, or fail naming `what`. */
export async function waitFor(what: string, f: () => boolean, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!f()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(100);
  }
}
