import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, bytesToUnit, parseIdx, readIdxImages, readIdxLabels } from '../../lib/data/idx';
import { idxBuffer, tempDir } from './helpers';

describe('data/idx', () => {
  let dir: string;
  before(() => {
    dir = tempDir('idx');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const pixels = Uint8Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 11) % 256);

  it('reads 3-D images and 1-D labels, plain and gzipped, with the exact bytes', () => {
    const img = idxBuffer(IDX_IMAGES_MAGIC, [3, 2, 4], pixels);
    const lab = idxBuffer(IDX_LABELS_MAGIC, [3], Uint8Array.from([7, 0, 9]));
    fs.writeFileSync(path.join(dir, 'img'), img);
    fs.writeFileSync(path.join(dir, 'img.gz'), zlib.gzipSync(img));
    fs.writeFileSync(path.join(dir, 'lab.gz'), zlib.gzipSync(lab));
    for (const name of ['img', 'img.gz']) {
      const r = readIdxImages(path.join(dir, name), { count: 3, rows: 2, cols: 4 });
      assert.deepEqual([r.count, r.rows, r.cols], [3, 2, 4]);
      assert.deepEqual(Array.from(r.pixels), Array.from(pixels));
    }
    assert.deepEqual(Array.from(readIdxLabels(path.join(dir, 'lab.gz'), { count: 3, numClasses: 10 })), [7, 0, 9]);
  });

  it('reports a truncated image file with the file, the expected size and what was found', () => {
    // The header claims MNIST's 60000x28x28, the file holds 1000 bytes.
    const buf = idxBuffer(IDX_IMAGES_MAGIC, [60000, 28, 28], new Uint8Array(1000 - 16));
    assert.throws(
      () => parseIdx(buf, 'train-images-idx3-ubyte', IDX_IMAGES_MAGIC),
      (e: Error) => e.message === 'train-images-idx3-ubyte: expected 47040016 bytes for 60000x28x28 images, found 1000',
    );
  });

  it('rejects one byte too many, a wrong magic, a labels file read as images, and a short header', () => {
    const tooLong = idxBuffer(IDX_IMAGES_MAGIC, [3, 2, 4], new Uint8Array(25));
    assert.throws(() => parseIdx(tooLong, 'f', IDX_IMAGES_MAGIC), /f: expected 40 bytes for 3x2x4 images, found 41/);
    const badMagic = idxBuffer(0x00000804, [3, 2, 4], pixels);
    assert.throws(() => parseIdx(badMagic, 'f', IDX_IMAGES_MAGIC), /f: expected idx magic 0x00000803.*found 0x00000804/);
    const labels = idxBuffer(IDX_LABELS_MAGIC, [3], new Uint8Array(3));
    assert.throws(() => parseIdx(labels, 'f', IDX_IMAGES_MAGIC), /expected idx magic 0x00000803.*found 0x00000801/);
    assert.throws(() => parseIdx(idxBuffer(IDX_IMAGES_MAGIC, [3, 2], new Uint8Array(0)), 'f', IDX_IMAGES_MAGIC), /f: expected an idx header of 16 bytes.*found a file of 12 bytes/);
    assert.throws(() => parseIdx(Buffer.alloc(0), 'f', IDX_LABELS_MAGIC), /header of 8 bytes/);
  });

  it('checks expected dims, counts and label range, naming the file path', () => {
    const file = path.join(dir, 'img2');
    fs.writeFileSync(file, idxBuffer(IDX_IMAGES_MAGIC, [3, 2, 4], pixels));
    assert.throws(() => readIdxImages(file, { count: 3, rows: 28, cols: 28 }), (e: Error) => e.message.includes(file) && /expected 3x28x28 images, found 3x2x4/.test(e.message));
    assert.throws(() => readIdxImages(file, { count: 60000 }), /expected 60000x2x4 images, found 3x2x4/);
    const lab = path.join(dir, 'lab2');
    fs.writeFileSync(lab, idxBuffer(IDX_LABELS_MAGIC, [3], Uint8Array.from([1, 10, 2])));
    assert.throws(() => readIdxLabels(lab, { numClasses: 10 }), (e: Error) => e.message.includes(lab) && /label 1 is 10/.test(e.message));
    assert.throws(() => readIdxLabels(lab, { count: 4 }), /expected 4 labels, found 3/);
  });

  it('rejects corrupt and truncated gzip, naming the file', () => {
    const gz = zlib.gzipSync(idxBuffer(IDX_IMAGES_MAGIC, [3, 2, 4], pixels));
    const cut = path.join(dir, 'cut.gz');
    fs.writeFileSync(cut, gz.subarray(0, gz.length - 12));
    assert.throws(() => readIdxImages(cut), (e: Error) => e.message.startsWith(`${cut}: corrupt or truncated gzip`));
    const bad = Buffer.from(gz);
    bad.fill(0xff, 10, 20);
    const badFile = path.join(dir, 'bad.gz');
    fs.writeFileSync(badFile, bad);
    assert.throws(() => readIdxImages(badFile), (e: Error) => e.message.startsWith(`${badFile}: corrupt or truncated gzip`));
  });

  it('bytesToUnit maps 0 -> 0, 255 -> 1 and b -> b/255 in float32', () => {
    const out = bytesToUnit(Uint8Array.from([0, 1, 128, 255]));
    assert.deepEqual(Array.from(out), [0, Math.fround(1 / 255), Math.fround(128 / 255), 1]);
  });
});
