// The seeded validation split (the paper's 5,000 images held out of the training set per data seed), data
// subsets, and row gathering. The split is recorded in <splitsDir()>/ so a later run (or another machine) can
// check it drew the same images: a mismatch means the RNG or the dataset changed and results are not comparable.
import * as fs from 'fs';
import * as path from 'path';
import { splitsDir } from '../paths';
import { Rng, checkSeed, deriveSeed } from '../rng';
import { writeFileAtomic } from './fsutil';
import type { Dataset, DatasetName, ImageSet } from './types';

export interface Split {
  dataset: DatasetName;
  dataSeed: number;
  train: ImageSet;
  validation: ImageSet;
  /** Indices into dataset.train, ascending. */
  validationIndices: Uint32Array;
}

export const DEFAULT_VALIDATION_SIZE = 5000;

/** Values per image (h*w*c), derived from the arrays so any image shape works. */
function rowSize(set: ImageSet, what = 'ImageSet'): number {
  if (set.n === 0) return 0;
  const size = set.x.length / set.n;
  if (!Number.isInteger(size) || set.y.length !== set.n) {
    throw new Error(`${what}: inconsistent sizes (x.length ${set.x.length}, y.length ${set.y.length}, n ${set.n})`);
  }
  return size;
}

/**
 * A new ImageSet holding rows `indices` of `set`, in that order. Runs of consecutive indices are copied as
 * one block (the split's train indices are mostly long runs).
 */
export function takeRows(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = rowSize(set);
  const n = indices.length;
  const x = new Float32Array(n * size);
  const y = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const first = indices[i];
    if (!Number.isInteger(first) || first < 0 || first >= set.n) {
      throw new Error(`takeRows: index ${first} at position ${i} is out of range for a set of ${set.n} images`);
    }
    let len = 1;
    while (i + len < n && indices[i + len] === first + len && first + len < set.n) len++;
    x.set(set.x.subarray(first * size, (first + len) * size), i * size);
    y.set(set.y.subarray(first, first + len), i);
    i += len;
  }
  return { x, y, n };
}

/**
 * A seeded subset of `n` images of `set`, kept in their original order. Subsets for one seed are nested: the
 * subset of size m < n is contained in the one of size n (both are prefixes of the same permutation).
 * n === set.n returns `set` itself (no copy: CIFAR's train set is ~600 MB).
 */
export function subsetOf(set: ImageSet, n: number, seed: number): ImageSet {
  checkSeed('subsetOf: seed', seed);
  if (!Number.isInteger(n) || n < 1 || n > set.n) {
    throw new Error(`subsetOf: n must be an integer in [1, ${set.n}] (the set has ${set.n} images), got ${n}`);
  }
  if (n === set.n) return set;
  const perm = new Rng(deriveSeed(seed, 'subset')).permutation(set.n);
  return takeRows(set, perm.subarray(0, n).sort());
}

/** The sorted validation indices for a training set of `trainSize` images (pure: no files, no pixels). */
export function validationIndicesFor(name: DatasetName, trainSize: number, dataSeed: number, validationSize: number): Uint32Array {
  checkSeed('validationSplit: dataSeed', dataSeed);
  if (!Number.isInteger(validationSize) || validationSize < 1 || validationSize >= trainSize) {
    throw new Error(`validationSplit: validationSize must be an integer in [1, ${trainSize - 1}] for ${name} (${trainSize} training images), got ${validationSize}`);
  }
  const perm = new Rng(deriveSeed(dataSeed, 'split', name)).permutation(trainSize);
  return perm.slice(0, validationSize).sort();
}

/**
 * Where a split is recorded: `<name>-<seed>.json` for the paper's 5,000 images; another validation size gets
 * its own file (`<name>-<seed>-val<size>.json`) so a smoke profile never collides with the paper's record.
 */
export function splitFilePath(name: DatasetName, dataSeed: number, validationSize: number = DEFAULT_VALIDATION_SIZE): string {
  const suffix = validationSize === DEFAULT_VALIDATION_SIZE ? '' : `-val${validationSize}`;
  return path.join(splitsDir(), `${name}-${dataSeed}${suffix}.json`);
}

interface SplitRecord {
  dataset: DatasetName;
  dataSeed: number;
  validationSize: number;
  trainSize: number;
  sourceSha256: string;
  validationIndices: number[];
}

/** Compare a recorded split with the one just computed; the message names the file and the first difference. */
function checkRecord(file: string, found: unknown, want: SplitRecord): void {
  const fail = (what: string): never => {
    throw new Error(
      `${file}: the recorded split differs from the one computed now (${what}). The RNG, the split code or the ` +
        'dataset copy changed, so results made with the old split are not comparable. Investigate; delete the file ' +
        'only if the change is intended.',
    );
  };
  if (!found || typeof found !== 'object') return fail('not a JSON object');
  const rec = found as Partial<SplitRecord>;
  for (const key of ['dataset', 'dataSeed', 'validationSize', 'trainSize', 'sourceSha256'] as const) {
    if (rec[key] !== want[key]) fail(`${key}: recorded ${JSON.stringify(rec[key])}, now ${JSON.stringify(want[key])}`);
  }
  const idx = rec.validationIndices;
  if (!Array.isArray(idx) || idx.length !== want.validationIndices.length) {
    return fail(`validationIndices: recorded ${Array.isArray(idx) ? idx.length : 'no'} indices, now ${want.validationIndices.length}`);
  }
  for (let i = 0; i < idx.length; i++) {
    if (idx[i] !== want.validationIndices[i]) fail(`validationIndices[${i}]: recorded ${idx[i]}, now ${want.validationIndices[i]}`);
  }
}

/**
 * Hold out `validationSize` training images, chosen by a permutation seeded from `dataSeed` and the dataset
 * name; the rest are the training set. Both keep the original order (indices ascending). Identical on every
 * run; recorded in splitFilePath(...) and checked against that record when it exists.
 * Memory: train and validation are copies (one extra copy of the training set); `ds` is left untouched.
 */
export function validationSplit(ds: Dataset, dataSeed: number, validationSize: number = DEFAULT_VALIDATION_SIZE): Split {
  const validationIndices = validationIndicesFor(ds.name, ds.train.n, dataSeed, validationSize);
  const record: SplitRecord = {
    dataset: ds.name,
    dataSeed,
    validationSize,
    trainSize: ds.train.n,
    sourceSha256: ds.source.sha256,
    validationIndices: Array.from(validationIndices),
  };
  const file = splitFilePath(ds.name, dataSeed, validationSize);
  if (fs.existsSync(file)) {
    let found: unknown;
    try {
      found = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${file}: unreadable split record (${(err as Error).message})`);
    }
    checkRecord(file, found, record);
  } else {
    writeFileAtomic(file, JSON.stringify(record) + '\n');
  }

  const held = new Uint8Array(ds.train.n);
  for (const i of validationIndices) held[i] = 1;
  const trainIndices = new Uint32Array(ds.train.n - validationSize);
  for (let i = 0, k = 0; i < ds.train.n; i++) if (!held[i]) trainIndices[k++] = i;
  return {
    dataset: ds.name,
    dataSeed,
    train: takeRows(ds.train, trainIndices),
    validation: takeRows(ds.train, validationIndices),
    validationIndices,
  };
}
