// Spawning the CLIs as child processes (their own process group, so a test can SIGKILL the whole tree).
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';

export const TSX = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Spawned {
  child: ChildProcess;
  done: Promise<Finished>;
  /** What the child has written to stderr so far. */
  stderr(): string;
  /** Signal (default SIGKILL) the child and everything it started (tsx wrapper, supervisor, workers). */
  killGroup(signal?: NodeJS.Signals): void;
}

export type CliScript = 'sweep' | 'status' | 'results' | 'claims' | 'readme' | 'queue' | 'worker' | 'collect' | 'followups';

export function spawnCli(script: CliScript, args: string[], outputs: string, env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(TSX, [path.join('lib', 'cli', `${script}.ts`), ...args], {
    cwd: projectRoot,
    env: { ...process.env, DENSITY_OUTPUTS: outputs, DENSITY_QUIET: '1', ...env },
    detached: true, // own process group: kill(-pid) reaches every process of the sweep
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<Finished>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    done,
    stderr: () => stderr,
    killGroup: (signal: NodeJS.Signals = 'SIGKILL') => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // already gone
      }
    },
  };
}

export function tempOutputs(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `density-${tag}-`));
}

/** A profile file with `n` tiny MLP runs (seeds 0..n-1); `maxEpochs` sets how long each trains. */
export function writeTinyProfile(dir: string, n: number, opts: { width?: number; trainSubset?: number; maxEpochs?: number } = {}): string {
  const file = path.join(dir, 'tiny-profile.json');
  const profile = {
    name: 'tiny',
    description: 'test profile',
    budget: 'seconds',
    departures: ['tiny data, 1 seed, few epochs'],
    groups: [
      {
        label: 'mlp',
        base: {
          architecture: 'mlp',
          trainSubset: opts.trainSubset ?? 1000,
          validationSize: 500,
          stop: { kind: 'targetTrainLoss', target: 0.01, window: 10, checkEvery: 10, maxEpochs: opts.maxEpochs ?? 1 },
          pruning: { levels: 10, step: 0.1 },
        },
        widths: [opts.width ?? 0.1],
        inits: ['glorot'],
        initSeeds: n,
        dataSeeds: [0],
      },
    ],
    analysis: {},
  };
  fs.writeFileSync(file, JSON.stringify(profile, null, 1));
  return file;
}

/** Every file under dir (relative paths). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
