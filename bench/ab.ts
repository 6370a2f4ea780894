// npx tsx bench/ab.ts --case <bench case> --lever <name> [--rounds N]: one lever measured side by side in ONE
// process. A = the lever off, B = on, interleaved A B A B ... after a warm-up of each, so machine noise (other
// jobs on the shared cores) hits both alike. Prints each round and the median of the per-round ratios B/A
// (for seconds, A/B: above 1 always means B is faster).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { levers, WASM_GRADIENT_FIXES, type WasmGradientFix, type WasmKernelFix } from '../lib/fast/levers';
import { runCli, UsageError, type CommandSpec } from '../lib/cli/args';
import { CASES, caseSettings } from './cases';
import { MICRO_CASES } from './micro';

export interface Lever {
  name: string;
  summary: string;
  set(on: boolean): void;
}

function kernels(...names: WasmKernelFix[]): (on: boolean) => void {
  return (on) => names.forEach((n) => (levers.wasmKernelFixes[n] = on));
}
function gradients(...names: WasmGradientFix[]): (on: boolean) => void {
  return (on) => names.forEach((n) => (levers.wasmGradientFixes[n] = on));
}

/** The levers: each switches a group of fixes; everything else stays as registered (on). */
export const LEVERS: Lever[] = [
  { name: 'tile', summary: 'Tile kernel fix (leading-axis broadcast by copyWithin)', set: kernels('Tile') },
  { name: 'bn-grad', summary: 'FusedBatchNorm gradient rewrite (no Tile, 3 activation-sized ops)', set: gradients('FusedBatchNorm') },
  { name: 'mean-grad', summary: 'Mean gradient as one broadcast', set: gradients('Mean') },
  { name: 'reduce', summary: 'Sum/Mean over leading axes as one matmul with ones', set: kernels('Sum', 'Mean') },
  { name: 'share', summary: 'Identity/Cast share data instead of copying', set: kernels('Identity', 'Cast') },
  {
    name: 'maxpool-2x2',
    summary: 'MaxPoolGrad dedicated 2x2 stride-2 loop (off: the general loop)',
    set: (on) => {
      levers.maxPoolGrad2x2 = on;
    },
  },
  {
    name: 'dense-trainer',
    summary: "trainModel's dense SGD step for Dense stacks (off: trainer 'generic')",
    set: (on) => {
      caseSettings.trainer = on ? 'auto' : 'generic';
    },
  },
  {
    name: 'sparse-first',
    summary: "dense step's first layer as a sparse product (off: XNNPACK over the batch's nonzero columns)",
    set: (on) => {
      levers.denseSgdFirstLayer = on ? 'auto' : 'columns';
    },
  },
  {
    name: 'zero-skip',
    summary: "dense step's first layer skipping zeros at all (off: every column, XNNPACK)",
    set: (on) => {
      levers.denseSgdFirstLayer = on ? 'auto' : 'dense';
    },
  },
  {
    name: 'traj-update',
    summary: "trajectory fast path's first-layer update as a wasm kernel (off: the JS reference)",
    set: (on) => {
      levers.trajectoryWasmUpdate = on;
    },
  },
  {
    name: 'traj-csr',
    summary: "trajectory fast path's full first-layer product skipping zero inputs (off: tf.matMul)",
    set: (on) => {
      levers.trajectorySparseFirstProduct = on;
    },
  },
  {
    name: 'traj-fused',
    summary: "trajectory fast path's later layers as fused matMul+bias+relu (off: three ops)",
    set: (on) => {
      levers.trajectoryFusedLayers = on;
    },
  },
  {
    name: 'traj-sparse2',
    summary: "trajectory fast path's second layer as a sparse product where under 45% of it is left (off: dense at every level)",
    set: (on) => {
      levers.trajectorySparseSecondBelow = on ? 0.45 : 0;
    },
  },
  {
    name: 'traj-all',
    summary: 'traj-update, traj-csr, traj-fused and traj-sparse2 together',
    set: (on) => {
      Object.assign(levers, {
        trajectoryWasmUpdate: on,
        trajectorySparseFirstProduct: on,
        trajectoryFusedLayers: on,
        trajectorySparseSecondBelow: on ? 0.45 : 0,
      });
    },
  },
  {
    name: 'native-conv',
    summary: "the wasm backend's convolutions through oneDNN (off: XNNPACK's); needs npm run build:native",
    set: (on) => {
      levers.nativeConv = on;
    },
  },
  {
    name: 'native-batch-norm',
    summary: "the wasm backend's batch normalization in native code (off: tfjs's ops); needs npm run build:native",
    set: (on) => {
      levers.nativeBatchNorm = on;
    },
  },
  {
    name: 'all-new-fixes',
    summary: 'every kernel and gradient fix of this round (tile, bn-grad, mean-grad, reduce, share, gather, maxpool-2x2)',
    set: (on) => {
      kernels('Tile', 'Sum', 'Mean', 'Identity', 'Cast', 'GatherV2')(on);
      gradients(...WASM_GRADIENT_FIXES)(on);
      levers.maxPoolGrad2x2 = on;
    },
  },
  {
    name: 'resnet-all',
    summary: 'all of tile, bn-grad, mean-grad, reduce, share',
    set: (on) => {
      kernels('Tile', 'Sum', 'Mean', 'Identity', 'Cast')(on);
      gradients(...WASM_GRADIENT_FIXES)(on);
    },
  },
];

const ALL_CASES = [...CASES, ...MICRO_CASES];

const cmd: CommandSpec = {
  command: 'ab',
  summary: 'Measure one lever side by side (A = off, B = on) on one bench case, interleaved in one process.',
  flags: [
    { name: 'case', type: 'string', placeholder: '<case>', help: `the bench case (${ALL_CASES.map((c) => c.name).join(', ')})` },
    { name: 'lever', type: 'string', placeholder: '<name>', help: `what to switch (${LEVERS.map((l) => l.name).join(', ')})` },
    { name: 'rounds', type: 'integer', placeholder: '<N>', help: 'A/B pairs (default 5)' },
    { name: 'seconds', type: 'number', placeholder: '<s>', help: 'target seconds per measurement (default 2)' },
  ],
  notes: LEVERS.map((l) => `  ${l.name.padEnd(12)} ${l.summary}`),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

runCli(cmd, async ({ values }) => {
  const c = ALL_CASES.find((x) => x.name === values.case);
  if (!c) throw new UsageError(`--case must be one of ${ALL_CASES.map((x) => x.name).join(', ')}`);
  const lever = LEVERS.find((l) => l.name === values.lever);
  if (!lever) throw new UsageError(`--lever must be one of ${LEVERS.map((l) => l.name).join(', ')}`);
  const rounds = (values.rounds as number | undefined) ?? 5;
  process.env.DENSITY_QUIET ??= '1';
  const info = await initBackend();
  if (info.name !== 'wasm') throw new Error(`levers switch wasm fixes; the backend is ${info.name}`);
  const prepared = await c.prepare({ targetSeconds: (values.seconds as number | undefined) ?? 2 });
  const higherIsBetter = c.unit === 'samples/s';
  try {
    lever.set(false);
    await prepared.warmup(); // A's first calls (sizes the work too)
    lever.set(true);
    await prepared.warmup(); // B's first calls; the work is sized again under B
    const a: number[] = [],
      b: number[] = [],
      ratios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      lever.set(false);
      const va = await prepared.measure();
      lever.set(true);
      const vb = await prepared.measure();
      a.push(va);
      b.push(vb);
      ratios.push(higherIsBetter ? vb / va : va / vb);
      process.stdout.write(`round ${i + 1}: A ${va.toPrecision(4)} ${c.unit}, B ${vb.toPrecision(4)} ${c.unit}, speed-up ${ratios[i].toFixed(2)}x\n`);
    }
    process.stdout.write(
      `${c.name} lever ${lever.name} (${prepared.describe()}): A median ${median(a).toPrecision(4)}, B median ${median(b).toPrecision(4)} ${c.unit}; ` +
        `median per-round speed-up ${median(ratios).toFixed(2)}x (range ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})\n`,
    );
  } finally {
    lever.set(true);
    prepared.dispose();
    tf.disposeVariables();
  }
  return 0;
});
