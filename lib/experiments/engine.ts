// The one place where a run's stages call the other modules (data, models, train, prune, analysis).
// Every call is one line so run.ts reads as the protocol and each module can change behind its contract; the
// functions run.ts needs as they are come from here under their own names.
import * as tf from '@tensorflow/tfjs';
import { loadDataset, subsetOf, validationSplit, type ImageSet } from '../data';
import { datasetProvenance } from '../data/provenance';
import { getArchitecture, getKernels, weightCounts, type PrunableLayer } from '../models';
import { correctness, evaluate, loadModel, saveModel, trainModel, type TrainConfig, type TrainProgress, type TrainResult } from '../train';
import { pruningTrajectory, type TrajectoryPoint } from '../prune';
import { classSelectivity, coreSize, effectiveDensity, smallestOverlap } from '../analysis';
import { hiddenActivations } from '../analysis/activations';
import { deriveSeed } from '../rng';
import type { AnalysisSettings, Descriptor, StrategyName } from '../store/descriptor';
import type { ActivationStats, DatasetRecord, WeightCounts } from '../store/runRecord';

export interface RunData {
  train: ImageSet;
  validation: ImageSet;
  shape: [number, number, number];
  numClasses: number;
  dataset: DatasetRecord;
}

/** The validation split of `d.dataSeed`, then (if `trainSubset`) a seeded subset of the rest for training. */
export async function prepareData(d: Descriptor): Promise<RunData> {
  const ds = await loadDataset(d.dataset);
  const split = validationSplit(ds, d.dataSeed, d.validationSize);
  // The subset is seeded by the data seed alone: runs that differ only in init/width see the same images.
  const train = d.trainSubset === undefined ? split.train : subsetOf(split.train, d.trainSubset, deriveSeed(d.dataSeed, 'trainSubset'));
  const dataset: DatasetRecord = datasetProvenance(ds, train.n, split.validation.n);
  return { train, validation: split.validation, shape: ds.shape, numClasses: ds.numClasses, dataset };
}

export function prunableLayers(d: Descriptor): PrunableLayer[] {
  return getArchitecture(d.architecture).prunableLayers(d.width);
}

export function countWeights(d: Descriptor): WeightCounts {
  return weightCounts(d.architecture, d.width);
}

export function buildModel(d: Descriptor): tf.LayersModel {
  return getArchitecture(d.architecture).build(d.width, d.init, d.initSeed);
}

/** Train in place. The shuffle order depends on both seeds (a run's data order is its own), never on width. */
export function train(
  model: tf.LayersModel,
  data: RunData,
  d: Descriptor,
  onProgress?: (p: TrainProgress) => void,
  resume: Pick<TrainConfig, 'checkpointFile' | 'checkpointTag' | 'stopAtEpochEnd'> = {},
): Promise<TrainResult> {
  return trainModel(
    model,
    { train: data.train, validation: data.validation },
    {
      optimizer: d.optimizer,
      learningRate: d.learningRate,
      batchSize: d.batchSize,
      stop: d.stop,
      shuffleSeed: deriveSeed(d.dataSeed, 'shuffle', d.initSeed),
      onProgress,
      ...resume,
    },
  );
}

export function trajectory(model: tf.LayersModel, d: Descriptor, validation: ImageSet, strategy: StrategyName): Promise<TrajectoryPoint[]> {
  return pruningTrajectory(model, getArchitecture(d.architecture), validation, {
    strategy,
    levels: d.pruning.levels,
    step: d.pruning.step,
    seed: d.pruning.seed,
  });
}

export function effectiveDensityOf(traj: { density: number; accuracy: number; loss: number }[], s: AnalysisSettings): number {
  return effectiveDensity(traj, { metric: s.metric, threshold: s.threshold, mode: s.mode });
}

/** Percent of the smallest-q |w| at init that are also among the smallest-q after training, per prunable layer. */
export function overlaps(initModel: tf.LayersModel, trainedModel: tf.LayersModel, d: Descriptor, q: number): Record<string, number> {
  const layers = prunableLayers(d);
  const a = getKernels(initModel, layers);
  const b = getKernels(trainedModel, layers);
  const out: Record<string, number> = {};
  // Percent of all the layer's weights (chance = 100 q^2 = 16%), like the paper's Tables 3-4.
  for (let i = 0; i < layers.length; i++) out[layers[i].name] = smallestOverlap(a[i].values, b[i].values, q);
  return out;
}

/** Layers whose output is post-ReLU (Dense/Conv with relu, or a ReLU activation layer): the hidden layers. */
export function hiddenLayerNames(model: tf.LayersModel): string[] {
  return model.layers.filter((l) => (l.getConfig() as { activation?: unknown }).activation === 'relu').map((l) => l.name);
}

/** Mean Hoyer sparsity (over images) and mean class selectivity (over units) per hidden layer. */
export function activationStats(model: tf.LayersModel, data: RunData): Record<string, ActivationStats> {
  const names = hiddenLayerNames(model);
  const out: Record<string, ActivationStats> = {};
  if (names.length === 0) return out;
  for (const a of hiddenActivations(model, names, data.validation.x, data.shape)) {
    const sel = classSelectivity(a.values, data.validation.y, a.units, data.numClasses);
    out[a.name] = { hoyer: meanFinite(a.hoyer), selectivity: meanFinite(sel), units: a.units };
  }
  return out;
}

/** Mean of the finite entries (dead units give NaN selectivity / all-zero rows give NaN Hoyer; they carry no signal). */
function meanFinite(v: ArrayLike<number>): number | null {
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++)
    if (Number.isFinite(v[i])) {
      s += v[i];
      n++;
    }
  return n ? s / n : null; // JSON has no NaN
}

export { coreSize, correctness, evaluate, loadModel, saveModel };
