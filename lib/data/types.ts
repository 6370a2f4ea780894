// Types shared by the dataset readers, the registry and the split (kept apart so the readers do not import
// the registry that imports them).

export type DatasetName = 'mnist' | 'cifar10';
/** The dataset registry's names (lib/data/index.ts `datasets`). */
export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'cifar10'];

/** n images in NHWC order (x.length === n * h * w * c), pixels scaled to [0,1]; y holds class ids 0..numClasses-1. */
export interface ImageSet {
  x: Float32Array;
  y: Uint8Array;
  n: number;
}

/** Which copy of the data a result used: `sha256` identifies the bytes, `description` says what they are. */
export interface DatasetSource {
  description: string;
  path: string;
  sha256: string;
}

export interface Dataset {
  name: DatasetName;
  /** [height, width, channels] of one image. */
  shape: [number, number, number];
  numClasses: number;
  train: ImageSet;
  test: ImageSet;
  source: DatasetSource;
}
