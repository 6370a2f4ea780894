// The benchmark cases of `npm run bench`. Each case measures one thing a sweep spends its time on, with the
// project's own code paths (trainModel, pruningTrajectory) on real data, so a figure here is what a run sees.
// A case has a setup (data, model), a warm-up (first kernel calls, wasm heap growth; also sizes the work so one
// repeat takes about `targetSeconds`), then `repeats` measured samples; the runner reports their median.
import * as tf from '@tensorflow/tfjs';
import { loadDataset, type DatasetName, type ImageSet } from '../lib/data';
import { takeRows, validationIndicesFor } from '../lib/data/split';
import { architectures, type ArchName } from '../lib/models';
import { trainModel, type TrainConfig } from '../lib/train';
import type { OptimizerName } from '../lib/train/optimizers';
import { DEFAULT_BATCH_SIZE, DEFAULT_VALIDATION_SIZE, PAPER_REGIMES, paperRegimeOf } from '../lib/protocol';
import { pruningTrajectory } from '../lib/prune';
import { edgePopupSubnetwork } from '../lib/prune/edgePopup';
import { estimateLlc } from '../lib/analysis/llc';
import { denseStackLoss } from '../lib/experiments/followups';
import { EDGE_POPUP_SETTINGS, LLC_SETTINGS } from '../lib/experiments/followupRecords';

export type Unit = 'samples/s' | 's' | 'MiB';

export interface CaseOptions {
  /** Seconds one measured repeat should take (cases that can choose their amount of work). */
  targetSeconds: number;
}

/** A prepared case: `measure` returns one sample in the case's unit; `dispose` frees what setup made. */
export interface PreparedCase {
  /** Warm-up, excluded from the figures; may size the work of `measure`. */
  warmup(): Promise<void>;
  measure(): Promise<number>;
  dispose(): void;
  /** What one repeat does (shown in the text output), e.g. '40 steps of 128'. */
  describe(): string;
}

export interface BenchCase {
  name: string;
  unit: Unit;
  summary: string;
  /** Most cases need several repeats; the peak-RSS case is a single reading. */
  singleReading?: boolean;
  /** Repeats when --repeats is not given, for cases too slow for the runner's default. */
  defaultRepeats?: number;
  prepare(opts: CaseOptions): Promise<PreparedCase>;
}

const BATCH = DEFAULT_BATCH_SIZE;

/** Switches read at every repeat, for bench/ab.ts levers (npm run bench always runs the defaults). */
export const caseSettings: { trainer: 'auto' | 'generic' } = { trainer: 'auto' };

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** The 5,000 validation images of data seed 0 (lib/data's split), without writing the split record file. */
async function validationImages(dataset: DatasetName): Promise<ImageSet> {
  const ds = await loadDataset(dataset);
  return takeRows(ds.train, validationIndicesFor(dataset, ds.train.n, 0, DEFAULT_VALIDATION_SIZE));
}

/**
 * Training throughput through trainModel (the loop every run uses, with its automatic choices), `steps` full
 * batches of 128 from the dataset's training set in a seeded shuffle. The stop rule is the MLP's
 * (checked every 100 steps) with an unreachable target, so exactly `steps` steps run and nothing is evaluated.
 */
function trainCase(arch: ArchName, width: number, optimizer: OptimizerName, summary: string): BenchCase {
  const regime = paperRegimeOf(arch, optimizer);
  if (!regime) throw new Error(`bench: ${arch} with ${optimizer} is not one of the paper's regimes`);
  return {
    name: `train/${arch}/${width}`,
    unit: 'samples/s',
    summary,
    async prepare(opts) {
      const a = architectures[arch];
      const ds = await loadDataset(a.dataset);
      const train = ds.train;
      const stepsPerEpoch = Math.ceil(train.n / BATCH);
      const empty: ImageSet = { x: new Float32Array(0), y: new Uint8Array(0), n: 0 };
      let model: tf.LayersModel | null = null;
      let steps = 3;
      let trainer = '';
      // Each repeat trains a fresh model from the same init: later repeats never see a different network.
      const runSteps = async (n: number): Promise<number> => {
        model?.dispose();
        model = a.build(width, 'he', 0);
        const config: TrainConfig = {
          optimizer,
          learningRate: PAPER_REGIMES[regime].learningRate,
          batchSize: BATCH,
          shuffleSeed: 0,
          trainer: caseSettings.trainer,
          // Cross-entropy is >= 0, so the target is never reached: the run ends at the step cap.
          stop: { kind: 'targetTrainLoss', target: -1, window: 100, checkEvery: 100, maxEpochs: (n - 0.5) / stepsPerEpoch }, // ceil(maxEpochs * stepsPerEpoch) = n,
        };
        const started = process.hrtime.bigint();
        const r = await trainModel(model, { train, validation: empty }, config);
        const s = seconds(started);
        if (r.steps !== n) throw new Error(`${arch} ${width}x: expected ${n} steps, trainModel took ${r.steps}`);
        trainer = r.trainer;
        return s;
      };
      return {
        async warmup() {
          await runSteps(2); // first calls: kernel setup, heap growth
          // Size: double the steps until a run takes a quarter of the target, then scale to the target.
          let n = 2;
          let s = await runSteps(n);
          while (s < opts.targetSeconds / 4 && n < 20 * stepsPerEpoch) s = await runSteps((n *= 2));
          steps = Math.max(2, Math.round((n * opts.targetSeconds) / s));
        },
        async measure() {
          // Images seen: whole epochs (whose last batch may be partial) plus full batches of the next one.
          const samples = Math.floor(steps / stepsPerEpoch) * train.n + (steps % stepsPerEpoch) * BATCH;
          return samples / (await runSteps(steps));
        },
        dispose() {
          model?.dispose();
        },
        describe: () => `${steps} steps of ${BATCH}, ${optimizer}, ${trainer} step`,
      };
    },
  };
}

/**
 * Seconds for the full 51-level layer-wise magnitude trajectory on 5,000 validation images (data seed 0), through
 * pruningTrajectory as a sweep calls it. `fastPath` false forces the generic path (model.predict per level).
 */
function trajectoryCase(arch: ArchName, width: number, fastPath: boolean, defaultRepeats?: number): BenchCase {
  const a = architectures[arch];
  return {
    name: `${fastPath ? 'trajectory' : 'trajectory-generic'}/${arch}/${width}`,
    unit: 's',
    defaultRepeats,
    summary: `51-level layer-wise trajectory, ${arch} ${width}x, 5,000 validation images, ${fastPath ? 'the fast paths a sweep takes' : 'generic path (model.predict per level)'}`,
    async prepare() {
      const validation = await validationImages(a.dataset);
      // Untrained weights: the work per level depends on the plan's counts and the input, not the values.
      const model = a.build(width, 'he', 0);
      const run = (levels?: number) => pruningTrajectory(model, a, validation, { strategy: 'layerwiseMagnitude', fastPath, levels });
      return {
        async warmup() {
          await run(2);
        },
        async measure() {
          const started = process.hrtime.bigint();
          const points = await run();
          const s = seconds(started);
          if (points.length !== 51) throw new Error(`expected 51 trajectory points, got ${points.length}`);
          return s;
        },
        dispose() {
          model.dispose();
        },
        describe: () => '51 levels x 5,000 images',
      };
    },
  };
}

/**
 * Edge-popup search throughput (issue 16): images per second through edgePopupSubnetwork's score steps on an MLP,
 * batch 128 at 10% kept per layer, the follow-up's optimiser settings, no per-epoch evaluation (keepBest off), on
 * `n` MNIST training images sized to the target time. Untrained weights: a step's work does not depend on them.
 */
function edgePopupCase(width: number): BenchCase {
  return {
    name: `edge-popup/mlp/${width}`,
    unit: 'samples/s',
    summary: `edge-popup score search, MLP ${width}x, batch 128, 10% kept per layer (the follow-up's search step)`,
    async prepare(opts) {
      const a = architectures.mlp;
      const ds = await loadDataset('mnist');
      const model = a.build(width, 'he', 0);
      const layers = a.prunableLayers(width);
      let n = 1280;
      const s = EDGE_POPUP_SETTINGS;
      const search = async (images: number): Promise<number> => {
        const set = takeRows(
          ds.train,
          Uint32Array.from({ length: images }, (_, i) => i),
        );
        const started = process.hrtime.bigint();
        await edgePopupSubnetwork(model, layers, set, {
          density: 10,
          epochs: 1,
          seed: 0,
          learningRate: s.learningRate,
          momentum: s.momentum,
          weightDecay: s.weightDecay,
          batchSize: s.batchSize,
          keepBest: false,
        });
        return seconds(started);
      };
      return {
        async warmup() {
          const t = await search(1280);
          n = Math.min(ds.train.n, Math.max(1280, Math.round((1280 * opts.targetSeconds) / t / BATCH) * BATCH));
        },
        async measure() {
          return n / (await search(n));
        },
        dispose() {
          model.dispose();
        },
        describe: () => `1 search epoch over ${n} images (${n / BATCH} steps of ${BATCH})`,
      };
    },
  };
}

/**
 * SGLD throughput of the LLC estimator (issue 16): images per second through estimateLlc's steps on an MLP's
 * weights and biases, the follow-up's settings (step, gamma, batch 128, linear term removed), one chain. The data set
 * is one batch, so the estimator's full passes at w* (loss and gradient) add one batch each to `steps` steps.
 */
function sgldCase(width: number): BenchCase {
  return {
    name: `sgld/mlp/${width}`,
    unit: 'samples/s',
    summary: `SGLD steps of the LLC estimator, MLP ${width}x (all weights and biases), batch 128 (the follow-up's step)`,
    async prepare(opts) {
      const a = architectures.mlp;
      const ds = await loadDataset('mnist');
      const model = a.build(width, 'he', 0);
      const set = takeRows(
        ds.train,
        Uint32Array.from({ length: LLC_SETTINGS.batchSize }, (_, i) => i),
      );
      const { wStar, loss } = denseStackLoss(model, set);
      let steps = 4;
      const chain = (k: number): number => {
        const started = process.hrtime.bigint();
        estimateLlc(loss, wStar, set.n, {
          chains: 1,
          burnIn: 0,
          draws: k,
          stepSize: LLC_SETTINGS.stepSize,
          gamma: LLC_SETTINGS.gamma,
          batchSize: LLC_SETTINGS.batchSize,
          seed: 0,
          removeLinearTerm: LLC_SETTINGS.removeLinearTerm,
        });
        return seconds(started);
      };
      return {
        async warmup() {
          const t = chain(4);
          steps = Math.max(4, Math.round((4 * opts.targetSeconds) / t));
        },
        async measure() {
          return (steps * LLC_SETTINGS.batchSize) / chain(steps);
        },
        dispose() {
          model.dispose();
        },
        describe: () => `${steps} SGLD steps of ${LLC_SETTINGS.batchSize}, ${wStar.length} parameters`,
      };
    },
  };
}

/** The process's peak resident set so far (maxRSS): everything the cases before it loaded and ran. */
const peakRss: BenchCase = {
  name: 'memory/peak-rss',
  unit: 'MiB',
  summary: 'peak resident memory of this bench process after the cases before it (datasets included)',
  singleReading: true,
  async prepare() {
    return {
      async warmup() {},
      async measure() {
        return process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
      },
      dispose() {},
      describe: () => 'process.resourceUsage().maxRSS',
    };
  },
};

/** Every case, in the order they run (peak RSS last, so it covers the others). */
export const CASES: BenchCase[] = [
  trainCase('mlp', 0.1, 'sgd', 'MLP 0.1x training, SGD lr 0.1, batch 128, MNIST'),
  trainCase('mlp', 1, 'sgd', 'MLP 1x training, SGD lr 0.1, batch 128, MNIST'),
  trainCase('mlp', 5, 'sgd', 'MLP 5x training, SGD lr 0.1, batch 128, MNIST'),
  trainCase('conv2', 0.1, 'adam', 'Conv-2 0.1x training, Adam lr 2e-4, batch 128, CIFAR-10'),
  trainCase('conv2', 0.5, 'adam', 'Conv-2 0.5x training, Adam lr 2e-4, batch 128, CIFAR-10'),
  trainCase('conv2', 1, 'adam', 'Conv-2 1x training, Adam lr 2e-4, batch 128, CIFAR-10'),
  trainCase('resnet', 0.5, 'sgd', 'ResNet 0.5x training, SGD lr 0.1, batch 128, CIFAR-10 (BatchNorm in training mode)'),
  trainCase('resnet', 1, 'sgd', 'ResNet 1x training, SGD lr 0.1, batch 128, CIFAR-10 (BatchNorm in training mode)'),
  trajectoryCase('mlp', 1, true),
  trajectoryCase('mlp', 5, true, 3), // ~15 s each
  trajectoryCase('mlp', 1, false),
  // 255,000 forward passes each: minutes per repeat, so one repeat unless --repeats says more.
  trajectoryCase('conv2', 0.5, true, 1),
  trajectoryCase('conv2', 1, true, 1),
  trajectoryCase('resnet', 1, true, 1),
  edgePopupCase(1),
  edgePopupCase(5),
  sgldCase(1),
  sgldCase(5),
  peakRss,
];

/** Cases whose name starts with one of `prefixes` (all cases when none are given). */
export function selectCases(prefixes: string[] | undefined): BenchCase[] {
  if (!prefixes || prefixes.length === 0) return CASES;
  return CASES.filter((c) => prefixes.some((p) => c.name.startsWith(p)));
}
