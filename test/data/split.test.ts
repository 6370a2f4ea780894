import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { clearDatasetCache, loadDataset } from '../../lib/data';
import { splitFilePath, subsetOf, takeRows, validationIndicesFor, validationSplit } from '../../lib/data/split';
import type { Dataset, ImageSet } from '../../lib/data/types';
import { scopedEnv, tempDir } from './helpers';

/** n images of 2x2x1 whose values encode their index (row i = [i, i+0.25, i+0.5, i+0.75]), label i % 10. */
function syntheticSet(n: number): ImageSet {
  const x = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) for (let k = 0; k < 4; k++) x[i * 4 + k] = i + k / 4;
  return { x, y: Uint8Array.from({ length: n }, (_, i) => i % 10), n };
}

function syntheticDataset(n: number, sha = 'a'.repeat(64)): Dataset {
  return {
    name: 'mnist',
    shape: [2, 2, 1],
    numClasses: 10,
    train: syntheticSet(n),
    test: syntheticSet(10),
    source: { description: 'synthetic', path: '/nowhere', sha256: sha },
  };
}

/** The source index of every row of a gathered set (row i's first value is its index). */
function rowsOf(set: ImageSet): number[] {
  return Array.from({ length: set.n }, (_, i) => set.x[i * 4]);
}

describe('data/split', () => {
  let outputs: string;
  // Each test gets its own outputs folder, so split records of synthetic datasets never meet each other.
  beforeEach(() => {
    outputs = tempDir('splits');
    process.env.DENSITY_OUTPUTS = outputs;
  });
  afterEach(() => fs.rmSync(outputs, { recursive: true, force: true }));
  scopedEnv(() => ({ DENSITY_OUTPUTS: process.env.DENSITY_OUTPUTS }));

  it('is deterministic per seed and differs across seeds', () => {
    const ds = syntheticDataset(1000);
    const a = validationSplit(ds, 1, 100);
    const b = validationSplit(ds, 1, 100);
    const c = validationSplit(ds, 2, 100);
    assert.deepEqual(a.validationIndices, b.validationIndices);
    assert.deepEqual(a.train.x, b.train.x);
    assert.notDeepEqual(a.validationIndices, c.validationIndices);
    // Pinned: a change of the RNG or of how the split uses it shows up here, not silently in results.
    const pinned = validationIndicesFor('mnist', 60000, 0, 5000);
    assert.deepEqual(Array.from(pinned.subarray(0, 5)), PINNED_MNIST_SEED0);
    assert.equal(pinned.reduce((acc, i) => acc + i, 0), PINNED_MNIST_SEED0_SUM);
    // The dataset name is part of the seed: mnist and cifar10 with one data seed hold out unrelated images.
    assert.notDeepEqual(validationIndicesFor('mnist', 1000, 1, 100), validationIndicesFor('cifar10', 1000, 1, 100));
  });

  it('train and validation are disjoint, cover the training set, keep original order and the right rows', () => {
    const ds = syntheticDataset(1000);
    const s = validationSplit(ds, 3, 100);
    assert.equal(s.dataset, 'mnist');
    assert.equal(s.dataSeed, 3);
    assert.equal(s.validation.n, 100);
    assert.equal(s.train.n, 900);
    const v = Array.from(s.validationIndices);
    assert.deepEqual(v, [...v].sort((p, q) => p - q));
    assert.equal(new Set(v).size, 100);
    const t = rowsOf(s.train);
    assert.deepEqual(rowsOf(s.validation), v);
    const vs = new Set(v);
    assert.ok(t.every((i) => !vs.has(i)), 'disjoint');
    assert.deepEqual([...t, ...v].sort((p, q) => p - q), Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual(t, [...t].sort((p, q) => p - q));
    // Labels travel with their rows, and the whole row is copied.
    assert.deepEqual(Array.from(s.train.y), t.map((i) => i % 10));
    assert.deepEqual(Array.from(s.validation.x.subarray(4, 8)), [v[1], v[1] + 0.25, v[1] + 0.5, v[1] + 0.75]);
    // The dataset is not modified.
    assert.deepEqual(rowsOf(ds.train), Array.from({ length: 1000 }, (_, i) => i));
  });

  it('writes the split record once, re-reads it, and does not rewrite it', () => {
    const ds = syntheticDataset(6000);
    const s = validationSplit(ds, 4);
    const file = splitFilePath('mnist', 4);
    assert.equal(file, path.join(outputs, 'splits', 'mnist-4.json'));
    const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(rec, {
      dataset: 'mnist',
      dataSeed: 4,
      validationSize: 5000,
      trainSize: 6000,
      sourceSha256: 'a'.repeat(64),
      validationIndices: Array.from(s.validationIndices),
    });
    const before = fs.statSync(file).mtimeMs;
    fs.utimesSync(file, new Date(0), new Date(0));
    validationSplit(ds, 4);
    assert.equal(fs.statSync(file).mtimeMs, 0, 'an existing, matching record is read, not rewritten');
    assert.ok(before > 0);
    assert.deepEqual(fs.readdirSync(path.join(outputs, 'splits')), ['mnist-4.json'], 'no temp files left');
  });

  it('a record that differs from the computed split is an error naming the file', () => {
    const ds = syntheticDataset(1000);
    validationSplit(ds, 5, 100);
    const file = splitFilePath('mnist', 5, 100);
    assert.equal(path.basename(file), 'mnist-5-val100.json');
    const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
    rec.validationIndices[7] = rec.validationIndices[7] + 1;
    fs.writeFileSync(file, JSON.stringify(rec));
    assert.throws(
      () => validationSplit(ds, 5, 100),
      (e: Error) => e.message.startsWith(`${file}: the recorded split differs`) && /validationIndices\[7\]/.test(e.message),
    );
    // Same indices, another copy of the dataset: also a mismatch.
    rec.validationIndices[7] = rec.validationIndices[7] - 1;
    fs.writeFileSync(file, JSON.stringify(rec));
    validationSplit(ds, 5, 100);
    assert.throws(() => validationSplit(syntheticDataset(1000, 'b'.repeat(64)), 5, 100), /sourceSha256: recorded "a+", now "b+"/);
    fs.writeFileSync(file, '{ not json');
    assert.throws(() => validationSplit(ds, 5, 100), (e: Error) => e.message.startsWith(`${file}: unreadable split record`));
  });

  it('rejects bad seeds and sizes', () => {
    const ds = syntheticDataset(100);
    assert.throws(() => validationSplit(ds, 1.5, 10), /dataSeed must be an integer in \[0, 2\^32\), got 1\.5/);
    assert.throws(() => validationSplit(ds, -1, 10), /got -1/);
    assert.throws(() => validationSplit(ds, 1, 100), /validationSize must be an integer in \[1, 99\] for mnist \(100 training images\), got 100/);
    assert.throws(() => validationSplit(ds, 1, 0), /got 0/);
  });

  it('subsetOf is seeded, nested across sizes, ordered, and refuses n > set.n', () => {
    const set = syntheticSet(500);
    const a = subsetOf(set, 50, 9);
    assert.deepEqual(rowsOf(a), rowsOf(subsetOf(set, 50, 9)));
    assert.notDeepEqual(rowsOf(a), rowsOf(subsetOf(set, 50, 10)));
    const rows = rowsOf(a);
    assert.equal(new Set(rows).size, 50);
    assert.deepEqual(rows, [...rows].sort((p, q) => p - q));
    assert.deepEqual(Array.from(a.y), rows.map((i) => i % 10));
    const bigger = new Set(rowsOf(subsetOf(set, 200, 9)));
    assert.ok(rows.every((i) => bigger.has(i)), 'the 50-subset is inside the 200-subset of the same seed');
    assert.equal(subsetOf(set, 500, 9), set, 'the full set is returned as is, without a copy');
    assert.throws(() => subsetOf(set, 501, 9), /subsetOf: n must be an integer in \[1, 500\] \(the set has 500 images\), got 501/);
    assert.throws(() => subsetOf(set, 0, 9), /got 0/);
  });

  it('takeRows gathers arbitrary, repeated and run-length indices, and rejects out-of-range ones', () => {
    const set = syntheticSet(20);
    const idx = [3, 4, 5, 5, 19, 0, 1, 2, 10];
    const t = takeRows(set, idx);
    assert.equal(t.n, idx.length);
    assert.deepEqual(rowsOf(t), idx);
    assert.deepEqual(Array.from(t.x.subarray(8, 12)), [5, 5.25, 5.5, 5.75]);
    assert.deepEqual(Array.from(t.y), idx.map((i) => i % 10));
    assert.throws(() => takeRows(set, [1, 20]), /index 20 at position 1 is out of range for a set of 20 images/);
    assert.throws(() => takeRows(set, [-1]), /index -1/);
    assert.throws(() => takeRows({ x: new Float32Array(10), y: new Uint8Array(3), n: 3 }, [0]), /inconsistent sizes/);
  });

  describe('on real MNIST', () => {
    let dataDir: string;
    before(() => {
      dataDir = tempDir('split-mnist');
    });
    after(() => {
      clearDatasetCache();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    scopedEnv(() => ({ DENSITY_DATA: dataDir }));

    it('holds out 5,000 of 60,000 and records mnist-<seed>.json with the dataset sha256', async () => {
      const ds = await loadDataset('mnist');
      const s = validationSplit(ds, 0);
      assert.equal(s.train.n, 55000);
      assert.equal(s.validation.n, 5000);
      assert.equal(s.train.x.length, 55000 * 784);
      assert.deepEqual(Array.from(s.validationIndices.subarray(0, 5)), PINNED_MNIST_SEED0);
      // Row 0 of the validation set is training image validationIndices[0], pixel for pixel.
      const i0 = s.validationIndices[0];
      assert.deepEqual(s.validation.x.subarray(0, 784), ds.train.x.subarray(i0 * 784, (i0 + 1) * 784));
      assert.equal(s.validation.y[0], ds.train.y[i0]);
      const rec = JSON.parse(fs.readFileSync(splitFilePath('mnist', 0), 'utf8'));
      assert.equal(rec.sourceSha256, ds.source.sha256);
      assert.equal(rec.validationSize, 5000);
      assert.equal(rec.trainSize, 60000);
      const counts = new Array<number>(10).fill(0);
      for (const l of s.validation.y) counts[l]++;
      assert.ok(counts.every((c) => c > 400 && c < 600), `a random 5,000 has ~500 per class: ${counts}`);
    });
  });
});

// MNIST, data seed 0: the first five validation indices and the sum of all 5,000 (computed once, then pinned).
const PINNED_MNIST_SEED0 = [5, 8, 9, 13, 78];
const PINNED_MNIST_SEED0_SUM = 148825976;
