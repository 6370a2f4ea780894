// The lib modules the notebooks cannot import through tslab, loaded at run time through tsx instead.
//
// Why: tslab type-checks every .ts file a cell imports, with its own fixed compiler options (not `strict`,
// no tsconfig). Under them lib/store/runRecord.ts and lib/experiments/run.ts do not compile (narrowing a
// `{ ok: true } | { ok: false }` union by `!x.ok` needs strictNullChecks), and lib/analysis/similarity.ts
// does not see its ambient tsne-js types. So lib/report never imports those files, not even their types:
// it require()s lib/experiments/results (which pulls in the rest) and lib/analysis/similarity at run time,
// with tsx's CommonJS loader registered (mocha has it already), and describes what it uses with the mirror
// types below. test/report/runtime.test.ts checks at compile time (npm run typecheck) that the real modules
// fit these mirrors, and at run time that the loaded modules export them.
import type { Profile } from '../experiments/profiles';
import type { PackedBits } from '../store/bits';
import type { AnalysisSettings, Descriptor } from '../store/descriptor';

/** Mirror of lib/experiments/results ResultRow (one run, the columns of `npm run results`). */
export interface ResultRow {
  hash: string;
  group: string;
  arch: string;
  dataset: string;
  width: number;
  init: string;
  optimizer: string;
  learningRate: number;
  initSeed: number;
  dataSeed: number;
  trainImages: number;
  trainSubset: number | null;
  validationSize: number;
  totalWeights: number;
  trainSteps: number;
  epochs: number;
  stopReason: string;
  status: string;
  /** Validation accuracy of the trained, unpruned model (fraction). */
  validationAccuracy: number | null;
  /** Percent, at the study's analysis settings. */
  effectiveDensity: number | null;
  coreSize: number | null;
  backend: string;
  commit: string | null;
  dirty: boolean | null;
  datasetSha256: string;
  trainSeconds: number;
}

/** One point of a stored pruning trajectory (density percent, accuracy fraction). */
export interface TrajectoryPoint {
  density: number;
  accuracy: number;
  loss: number;
  remaining?: Record<string, number>;
}

export interface DatasetRecord {
  name: string;
  description: string;
  path: string;
  sha256: string;
  trainImages: number;
  validationImages: number;
}

/** The part of lib/store/runRecord RunRecord that lib/report reads. */
export interface RunRecord {
  hash: string;
  label: string;
  status: 'complete' | 'diverged';
  descriptor: Descriptor;
  provenance: {
    commit: string | null;
    dirty: boolean | null;
    backend: { name: string; package: string; version: string; gpu: boolean; threads: number; simd: boolean };
    versions: { node: string; tfjs: string; tfjsBackendWasm: string; density: string };
    hostname: string;
    cpuModel: string;
    startedAt: string;
    endedAt: string;
    datasetSha256: string;
    dataset: DatasetRecord;
  };
  training: {
    status: 'complete' | 'diverged';
    stopReason: string;
    steps: number;
    epochs: number;
    wallSeconds: number;
    bestEpoch?: number;
    validationAccuracy: number | null;
    validationLoss: number | null;
    curve: { step: number; loss: number }[];
    validation: { epoch: number; loss: number; accuracy: number }[];
  };
  weightCounts: { perLayer: Record<string, number>; total: number };
  trajectory: TrajectoryPoint[] | null;
  baselines: Partial<Record<'globalMagnitude' | 'random', TrajectoryPoint[]>>;
  analysis: AnalysisSettings;
  effectiveDensity: number | null;
  coreSize: number | null;
  overlaps: Record<string, number> | null;
  activations: Record<string, { hoyer: number | null; selectivity: number | null; units: number }> | null;
  correctness: PackedBits | null;
}

export interface SweepSummary {
  total: number;
  done: number;
  skippedExisting: number;
  diverged: number;
  failed: { hash: string; label: string; stage: string; message: string }[];
  runningElsewhere: { hash: string; label: string }[];
  notStarted: number;
  interrupted: boolean;
  wallSeconds: number;
}

/** What lib/report reads of a sweep event (a supertype of lib/experiments/sweep SweepEvent). */
export interface SweepEventView {
  type: string;
  label?: string;
  seconds?: number;
}

export interface LoadedResults {
  rows: ResultRow[];
  runs: RunRecord[];
  missing: Descriptor[];
  sweep?: SweepSummary;
}

export interface ResultsModule {
  loadResults(
    profile: Profile | string,
    opts?: { compute?: boolean; analysis?: AnalysisSettings; onEvent?: (e: SweepEventView) => void },
  ): Promise<LoadedResults>;
}

export interface SimilarityModule {
  tsneEmbedding(vectors: readonly Uint8Array[], opts: { seed: number; perplexity?: number; iterations?: number; learningRate?: number; earlyExaggeration?: number }): [number, number][];
  agreementMatrix(vectors: readonly Uint8Array[]): number[][];
}

/** Make Node able to require .ts files (a tslab kernel cannot; mocha and tsx runs already can). */
export function ensureTsLoader(): void {
  if (require.extensions['.ts']) return;
  // Registers tsx's CommonJS hook for the rest of the process (a kernel serves one notebook).
  require('tsx/cjs');
}

/** lib/experiments/results, loaded by tsx (see the header for why not imported). */
export function resultsModule(): ResultsModule {
  ensureTsLoader();
  return require('../experiments/results') as ResultsModule;
}

/** lib/analysis/similarity, loaded by tsx (see the header). */
export function similarityModule(): SimilarityModule {
  ensureTsLoader();
  return require('../analysis/similarity') as SimilarityModule;
}
