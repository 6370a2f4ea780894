// npm run bench [-- --json] [--case <prefix>] [--repeats N]: training and pruning speed on this machine.
// One line per case (median of the repeats, warm-up excluded) after a header naming the backend and machine.
// The machine may be shared: a figure from one run is only comparable with another taken side by side.
import { execFileSync } from 'child_process';
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, initBackend, type BackendInfo, type BackendName } from '../lib/backend';
import { describeNativeKernels, nativeKernelsInUse } from '../lib/fast/nativeKernels';
import { runCli, UsageError, type CommandSpec } from '../lib/cli/args';
import { CASES, selectCases, type BenchCase, type Unit } from './cases';
import { hasPeer, runPeer, speedRatio, type PeerLine } from './peer';

const cmd: CommandSpec = {
  command: 'bench',
  summary: 'Training and pruning speed on this machine: one line per case, the median of the repeats (warm-up excluded).',
  flags: [
    { name: 'json', type: 'boolean', help: 'one JSON object per line: a {"header": ...} line, then one per case' },
    {
      name: 'case',
      type: 'list',
      placeholder: '<prefix,...>',
      help: `only cases whose name starts with one of these\n(${CASES.map((c) => c.name).join(', ')})`,
    },
    { name: 'repeats', type: 'integer', placeholder: '<N>', help: 'measured repeats per case (default 5; 3 for trajectory/mlp/5)' },
    { name: 'seconds', type: 'number', placeholder: '<s>', help: 'target seconds per repeat for cases that size their work (default 2)' },
    { name: 'list', type: 'boolean', help: 'list the cases and exit' },
    {
      name: 'peer',
      type: 'boolean',
      help: 'after each case, the same workload in PyTorch (bench/peer.py, one thread),\nand the ratio (above 1: density is faster)',
    },
    {
      name: 'backend',
      type: 'string',
      placeholder: `<${BACKEND_NAMES.join('|')}>`,
      choices: BACKEND_NAMES,
      help: 'run every case on this tfjs backend (webgpu: any adapter, software included; cases whose\nfast paths are wasm-only take the plain paths there). Default: the usual choice',
    },
  ],
  notes: [
    'Units: samples/s (training images per second, higher is better), s (seconds, lower is better), MiB.',
    'spread = (max - min) / median of the repeats: large values mean a noisy machine, not a slow one.',
    `Environment: DENSITY_BACKEND forces a tfjs backend (${BACKEND_NAMES.join(', ')}); --backend wins over it.`,
  ],
  examples: [
    'npm run bench',
    'npm run bench -- --peer --case train/conv2',
    'npm run bench -- --backend webgpu --case train/conv2',
    'npm run bench -- --case train/mlp --repeats 3',
    'npm run bench -- --json --case trajectory',
  ],
};

export interface CaseLine {
  case: string;
  value: number;
  unit: Unit;
  backend: string;
  repeats: number;
  /** (max - min) / median of the repeats; 0 for a single reading. */
  spread: number;
  /** Every repeat's value, in the order measured. */
  values: number[];
  /** What one repeat does. */
  work: string;
  /** With --peer: PyTorch's figure for the same workload, measured right after ours. */
  peer?: PeerLine;
  /** With --peer: ours over PyTorch's, oriented so that above 1 means density is faster. */
  ratio?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: __dirname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function header(info: BackendInfo) {
  const cpus = os.cpus();
  return {
    backend: info.name,
    backendPackage: `${info.package} ${info.version}`,
    simd: info.simd,
    threads: info.threads,
    kernelFixes: info.kernelFixes,
    ...(info.name === 'wasm' ? { nativeKernels: nativeKernelsInUse() } : {}),
    ...(info.adapter ? { adapter: info.adapter } : {}),
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    tfjs: tf.version.tfjs,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
    commit: gitCommit(),
    date: new Date().toISOString(),
  };
}

function format(value: number, unit: Unit): string {
  if (unit === 'samples/s') return value >= 100 ? Math.round(value).toString() : value.toFixed(1);
  if (unit === 's') return value.toFixed(2);
  return value.toFixed(0);
}

async function runCase(c: BenchCase, repeats: number, targetSeconds: number, backend: string): Promise<CaseLine> {
  const prepared = await c.prepare({ targetSeconds });
  try {
    await prepared.warmup();
    const n = c.singleReading ? 1 : repeats;
    const values: number[] = [];
    for (let i = 0; i < n; i++) values.push(await prepared.measure());
    const mid = median(values);
    const spread = values.length > 1 && mid !== 0 ? (Math.max(...values) - Math.min(...values)) / mid : 0;
    return { case: c.name, value: mid, unit: c.unit, backend, repeats: n, spread, values, work: prepared.describe() };
  } finally {
    prepared.dispose();
  }
}

runCli(cmd, async ({ values }) => {
  if (values.list) {
    for (const c of CASES) process.stdout.write(`${c.name.padEnd(26)} ${c.unit.padEnd(10)} ${c.summary}\n`);
    return 0;
  }
  const given = values.repeats as number | undefined;
  if (given !== undefined && given < 1) throw new UsageError(`--repeats must be at least 1, got ${given}`);
  const repeatsOf = (c: BenchCase) => given ?? c.defaultRepeats ?? 5;
  const targetSeconds = (values.seconds as number | undefined) ?? 2;
  if (!(targetSeconds > 0)) throw new UsageError(`--seconds must be positive, got ${targetSeconds}`);
  const prefixes = values.case as string[] | undefined;
  const cases = selectCases(prefixes);
  if (cases.length === 0) throw new UsageError(`no case starts with ${prefixes?.join(' or ')}; cases: ${CASES.map((c) => c.name).join(', ')}`);

  process.env.DENSITY_QUIET ??= '1'; // the backend line is part of the header here
  const info = await initBackend(values.backend as BackendName | undefined);
  const json = Boolean(values.json);
  const h = header(info);
  if (json) {
    process.stdout.write(JSON.stringify({ header: h }) + '\n');
  } else {
    process.stdout.write(
      `# density bench${h.commit ? ` at ${h.commit}` : ''}, ${h.date}\n` +
        `# backend ${h.backend} (${h.backendPackage}${h.simd ? ', SIMD' : ''}${h.threads ? `, ${h.threads} thread${h.threads > 1 ? 's' : ''}` : ''}` +
        `${h.kernelFixes.length ? `; kernel fixes: ${h.kernelFixes.join(', ')}` : ''}${h.nativeKernels ? `; ${describeNativeKernels('; ')}` : ''})\n` +
        (h.adapter
          ? `# adapter ${h.adapter.vendor} ${h.adapter.device} (${h.adapter.architecture || 'architecture not reported'}; driver ${h.adapter.driver})${h.adapter.software ? ', SOFTWARE: figures say nothing about a GPU' : ''}\n`
          : '') +
        `# ${h.cpu}, ${h.cores} cores, node ${h.node}, tfjs ${h.tfjs}, load average ${h.loadAverage.join(' ')}\n` +
        `# median of the repeats (${given ?? '5 unless a case says fewer'}) after a warm-up; spread = (max - min) / median\n`,
    );
  }
  const peer = Boolean(values.peer);
  let peerUnavailable: string | undefined;
  for (const c of cases) {
    const line = await runCase(c, repeatsOf(c), targetSeconds, info.name);
    if (peer && hasPeer(c.name) && !peerUnavailable) {
      const p = await runPeer(c.name, line.repeats, targetSeconds);
      if ('unavailable' in p) {
        peerUnavailable = p.unavailable; // said once; the bench carries on with our figures alone
        process.stderr.write(`bench: ${p.unavailable}\n`);
      } else {
        line.peer = p;
        line.ratio = speedRatio(line.value, p.value, line.unit);
      }
    }
    if (json) {
      process.stdout.write(JSON.stringify(line) + '\n');
    } else {
      const spread = line.repeats > 1 ? `spread ${(line.spread * 100).toFixed(1)}%` : '';
      const vs = line.peer && line.ratio !== undefined ? `  PyTorch ${format(line.peer.value, line.unit)} ${line.unit}, ratio ${line.ratio.toFixed(2)}x` : '';
      process.stdout.write(
        `${line.case.padEnd(26)} ${format(line.value, line.unit).padStart(8)} ${line.unit.padEnd(9)}  ${spread.padEnd(13)}  ${line.repeats}x ${line.work}${vs}\n`,
      );
    }
  }
  if (peer && !json) {
    process.stdout.write(
      peerUnavailable
        ? `# PyTorch peer: ${peerUnavailable}\n`
        : '# PyTorch peer: bench/peer.py, one thread, same batch size and optimiser, random inputs of the same shape; ratio above 1 = density faster\n',
    );
  }
  return 0;
});
