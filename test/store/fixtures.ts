// Synthetic run records (no training) for the store's tests: a complete MLP run, sealed as the stages seal them.
import * as fs from 'fs';
import * as path from 'path';
import { MNIST_ORIGINAL_SHA256 } from '../../lib/data/provenance';
import { runDir } from '../../lib/paths';
import { encodeBits } from '../../lib/store/bits';
import { descriptorHash, resolveAnalysisSettings, resolveDescriptor } from '../../lib/store/descriptor';
import { assembleRunRecord, sealStageRecord, type AnalysisStageRecord, type PruneStageRecord, type TrainStageRecord } from '../../lib/store/runRecord';

const provenance = {
  commit: 'abcdef0123456789abcdef0123456789abcdef01',
  dirty: false,
  backend: { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', version: '4.22.0', gpu: false, threads: 1, simd: true, kernelFixes: [] },
  versions: { node: 'v20', tfjs: '4.22.0', tfjsBackendWasm: '4.22.0', density: '0.1.0' },
  hostname: 'machine-a',
  cpuModel: 'cpu',
  cpuCount: 2,
  platform: 'linux-x64',
};
const meta = (stage: 'train' | 'prune' | 'analysis', hash: string, inputs: Record<string, string>) => ({
  stage,
  id: '',
  hash,
  inputs,
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:00:01.000Z',
  wallSeconds: 1,
  pid: 42,
  hostname: 'machine-a',
});

/** A complete run's records: effective density 62 (accuracy 0.95 -> 0.85 at density 62). */
export function fakeRecords(initSeed: number) {
  const descriptor = resolveDescriptor({ architecture: 'mlp', width: 0.1, init: 'glorot', initSeed, dataSeed: 0, trainSubset: 1000, validationSize: 500 });
  const hash = descriptorHash(descriptor);
  const train: TrainStageRecord = sealStageRecord({
    ...meta('train', hash, {}),
    stage: 'train',
    descriptor,
    provenance,
    dataset: { name: 'mnist', copy: 'original', description: 'MNIST', sha256: MNIST_ORIGINAL_SHA256, trainImages: 1000, validationImages: 500 },
    training: {
      status: 'complete',
      stopReason: 'targetReached',
      steps: 10,
      epochs: 1,
      wallSeconds: 3,
      validationAccuracy: 0.95,
      validationLoss: 0.2,
      curve: [{ step: 10, loss: 0.3 }],
      validation: [{ epoch: 1, loss: 0.2, accuracy: 0.95 }],
    },
    weightCounts: { perLayer: { fc1: 100 }, total: 100 },
    weights: { init: true, trained: true },
  });
  const trajectory = Array.from({ length: 51 }, (_, k) => ({ density: 100 - 2 * k, accuracy: k < 19 ? 0.95 : 0.85, loss: 0.2 + k / 100 }));
  const prune: PruneStageRecord = sealStageRecord({ ...meta('prune', hash, { train: train.id }), stage: 'prune', trajectory, baselines: {} });
  const settings = resolveAnalysisSettings();
  const analysis: AnalysisStageRecord = sealStageRecord({
    ...meta('analysis', hash, { train: train.id, prune: prune.id }),
    stage: 'analysis',
    settings,
    effectiveDensity: 62,
    degraded: true,
    chanceMargin: 85,
    coreSize: 62,
    overlaps: { fc1: 20 },
    activations: { fc1: { hoyer: null, selectivity: 0.3, units: 30 } },
    correctness: encodeBits([1, 0, 1]),
  });
  return { descriptor, hash, train, prune, analysis, run: assembleRunRecord(hash, train, prune, analysis, settings) };
}

export function writeRun(r: ReturnType<typeof fakeRecords>): string {
  const dir = runDir(r.hash);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, v] of [
    ['train.json', r.train],
    ['prune.json', r.prune],
    ['analysis.json', r.analysis],
    ['run.json', r.run],
  ] as const) {
    fs.writeFileSync(path.join(dir, f), JSON.stringify(v, null, 1));
  }
  return dir;
}
