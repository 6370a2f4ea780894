// The dataset registry and the per-process dataset cache. Everything outside lib/data imports from here.
import { loadCifar10 } from './cifar10';
import { loadMnist } from './mnist';
import type { Dataset, DatasetName } from './types';

export type { Dataset, DatasetName, DatasetSource, ImageSet } from './types';
export { DATASET_NAMES } from './types';
export { validationSplit, subsetOf, takeRows, splitFilePath, type Split } from './split';

export interface DatasetSpec {
  load: () => Promise<Dataset>;
  /** [height, width, channels] */
  shape: [number, number, number];
  numClasses: number;
  trainSize: number;
  testSize: number;
}

export const datasets: Record<DatasetName, DatasetSpec> = {
  mnist: { load: () => loadMnist(), shape: [28, 28, 1], numClasses: 10, trainSize: 60000, testSize: 10000 },
  cifar10: { load: () => loadCifar10(), shape: [32, 32, 3], numClasses: 10, trainSize: 50000, testSize: 10000 },
};

export function isDatasetName(name: string): name is DatasetName {
  return Object.prototype.hasOwnProperty.call(datasets, name);
}

// Promises, not datasets, are cached so concurrent callers share one load (CIFAR-10 is ~740 MB as Float32).
const cache = new Map<DatasetName, Promise<Dataset>>();

/** Load a dataset once per process; a failed load is not cached, so a later call retries. */
export function loadDataset(name: DatasetName): Promise<Dataset> {
  if (!isDatasetName(name)) {
    return Promise.reject(new Error(`unknown dataset ${JSON.stringify(name)}; known: ${Object.keys(datasets).join(', ')}`));
  }
  let p = cache.get(name);
  if (!p) {
    const spec = datasets[name];
    p = spec.load().then((ds) => {
      // The registry's promises about a dataset are what the models are built from; hold the loader to them.
      if (ds.train.n !== spec.trainSize || ds.test.n !== spec.testSize || ds.shape.join() !== spec.shape.join()) {
        throw new Error(
          `${name}: loaded ${ds.train.n} train / ${ds.test.n} test images of shape ${ds.shape.join('x')}, ` +
            `expected ${spec.trainSize} / ${spec.testSize} of ${spec.shape.join('x')}`,
        );
      }
      return ds;
    });
    cache.set(name, p);
    const mine = p;
    mine.catch(() => {
      if (cache.get(name) === mine) cache.delete(name);
    });
  }
  return p;
}

/** Drop cached datasets (tests; or a long session that wants the memory back). */
export function clearDatasetCache(): void {
  cache.clear();
}
