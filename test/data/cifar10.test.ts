import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import {
  CIFAR10_JPEG_COPY_SHA256,
  CIFAR10_OFFICIAL_SHA256,
  CIFAR10_URL,
  describeCifarArchive,
  ensureCifar10,
  loadCifar10,
} from '../../lib/data/cifar10';
import { projectRoot, sharedDir } from '../../lib/paths';
import { TRAIN_BINS, buildTar, cifarBatch, cifarByte, cifarEntries, scopedEnv, tempDir, writeTarGz } from './helpers';

const R = 3; // records per file in synthetic archives

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Entries of dataDir other than the extraction and the sha cache: leftovers of a failed extraction. */
function leftovers(dataDir: string): string[] {
  if (!fs.existsSync(dataDir)) return [];
  return fs.readdirSync(dataDir).filter((n) => n !== 'cifar-10-batches-bin' && n !== 'sha256-cache.json' && !n.endsWith('.tar.gz'));
}

describe('data/cifar10 on synthetic archives', () => {
  let root: string;
  let emptyShared: string;
  let n = 0;
  /** A fresh data dir per test, so extractions never leak between tests. */
  const freshDataDir = (): string => path.join(root, `data-${n++}`);

  before(() => {
    root = tempDir('cifar');
    emptyShared = path.join(root, 'shared-empty');
    fs.mkdirSync(emptyShared);
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  // No network in tests; no shared copy to fall back on; the archive is always passed explicitly or not at all.
  scopedEnv(() => ({ DENSITY_OFFLINE: '1', DENSITY_SHARED: emptyShared, DENSITY_CIFAR10_ARCHIVE: undefined, DENSITY_DATA: path.join(root, 'data-env') }));

  it('extracts, decodes planar RGB records to NHWC in [0,1] and records the source', async () => {
    const archive = writeTarGz(path.join(root, 'good.tar.gz'), cifarEntries(R));
    const dataDir = freshDataDir();
    const ds = await loadCifar10({ archive, dataDir, recordsPerFile: R });
    assert.equal(ds.name, 'cifar10');
    assert.deepEqual(ds.shape, [32, 32, 3]);
    assert.equal(ds.train.n, 5 * R);
    assert.equal(ds.test.n, R);
    assert.equal(ds.train.x.length, 5 * R * 3072);
    assert.deepEqual(Array.from(ds.train.y), Array.from({ length: 5 * R }, (_, i) => i % 10));
    assert.deepEqual(Array.from(ds.test.y), Array.from({ length: R }, (_, i) => (5 * R + i) % 10));
    // Every value of every image: x[img, row, col, c] = plane c, pixel row*32+col of that record.
    for (const [set, first] of [[ds.train, 0], [ds.test, 5 * R]] as const) {
      for (let img = 0; img < set.n; img++) {
        for (let p = 0; p < 1024; p++) {
          for (let c = 0; c < 3; c++) {
            const want = Math.fround(cifarByte(first + img, c, p) / 255);
            if (set.x[(img * 1024 + p) * 3 + c] !== want) assert.fail(`image ${img} pixel ${p} channel ${c}: ${set.x[(img * 1024 + p) * 3 + c]} != ${want}`);
          }
        }
      }
    }
    const sha = sha256(archive);
    assert.deepEqual(ds.source, { description: describeCifarArchive(sha), path: archive, sha256: sha });
    assert.match(ds.source.description, /unknown provenance/);
    const record = JSON.parse(fs.readFileSync(path.join(dataDir, 'cifar-10-batches-bin', 'SOURCE.json'), 'utf8'));
    assert.equal(record.archive, archive);
    assert.equal(record.sha256, sha);
    assert.equal(record.files['data_batch_1.bin'], R * 3073);
    assert.ok(fs.existsSync(path.join(dataDir, 'cifar-10-batches-bin', 'batches.meta.txt')));
    assert.deepEqual(leftovers(dataDir), []);
    // The sha256 cache knows the archive by path, size and mtime.
    const cache = JSON.parse(fs.readFileSync(path.join(dataDir, 'sha256-cache.json'), 'utf8'));
    const st = fs.statSync(archive);
    assert.equal(cache[`${archive}|${st.size}|${st.mtimeMs}`], sha);
  });

  it('reuses an existing extraction of the same archive and re-extracts when the archive changes', async () => {
    const dataDir = freshDataDir();
    const archive = writeTarGz(path.join(root, 'reuse.tar.gz'), cifarEntries(R));
    await ensureCifar10({ archive, dataDir, recordsPerFile: R });
    const marker = path.join(dataDir, 'cifar-10-batches-bin', 'marker');
    fs.writeFileSync(marker, 'still here');
    await ensureCifar10({ archive, dataDir, recordsPerFile: R });
    assert.ok(fs.existsSync(marker), 'the same archive must not be extracted twice');

    // Same path, different bytes (labels shifted): the cache key (size/mtime) and the sha change -> re-extract.
    const other = cifarEntries(R, { 'test_batch.bin': cifarBatch(5 * R, R, (i) => (i + 1) % 10) });
    writeTarGz(archive, other);
    fs.utimesSync(archive, new Date(), new Date(Date.now() + 5000));
    const ds = await loadCifar10({ archive, dataDir, recordsPerFile: R });
    assert.ok(!fs.existsSync(marker), 'a changed archive must be re-extracted');
    assert.equal(ds.source.sha256, sha256(archive));
    assert.deepEqual(Array.from(ds.test.y), Array.from({ length: R }, (_, i) => (5 * R + i + 1) % 10));
    assert.deepEqual(leftovers(dataDir), []);
  });

  it('removes what a killed extraction or download left in the data folder, but not a live process\'s', async () => {
    const dataDir = freshDataDir();
    const archive = writeTarGz(path.join(root, 'killed.tar.gz'), cifarEntries(R));
    fs.mkdirSync(dataDir, { recursive: true });
    // A pid that is certainly dead: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const killedTmp = path.join(dataDir, `.cifar-10-batches-bin.tmp-${dead}-0a1b2c3d`);
    const killedOld = path.join(dataDir, `.cifar-10-batches-bin-old.tmp-${dead}-0a1b2c3d`);
    const killedDownload = path.join(dataDir, `cifar-10-binary.tar.gz.tmp-${dead}-0a1b2c3d`);
    const live = path.join(dataDir, `.cifar-10-batches-bin.tmp-${process.pid}-99999999`);
    for (const d of [killedTmp, killedOld, live]) {
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'data_batch_1.bin'), 'partial');
    }
    fs.writeFileSync(killedDownload, 'partial download');
    const unrelated = path.join(dataDir, 'notes.txt');
    fs.writeFileSync(unrelated, 'mine');
    await ensureCifar10({ archive, dataDir, recordsPerFile: R });
    for (const p of [killedTmp, killedOld, killedDownload]) assert.equal(fs.existsSync(p), false, `${path.basename(p)} left behind`);
    assert.ok(fs.existsSync(live), 'a temp folder of a live process (another extraction now) is left alone');
    assert.ok(fs.existsSync(unrelated));
    fs.rmSync(live, { recursive: true });
  });

  it('re-extracts a damaged extraction when its archive is at hand', async () => {
    const dataDir = freshDataDir();
    const archive = writeTarGz(path.join(root, 'damaged.tar.gz'), cifarEntries(R));
    await ensureCifar10({ archive, dataDir, recordsPerFile: R });
    const bin = path.join(dataDir, 'cifar-10-batches-bin', 'data_batch_2.bin');
    fs.truncateSync(bin, 100);
    const ds = await loadCifar10({ archive, dataDir, recordsPerFile: R });
    assert.equal(fs.statSync(bin).size, R * 3073);
    assert.equal(ds.train.n, 5 * R);
  });

  it('uses an existing extraction when no archive is found, reporting the archive it came from', async () => {
    const dataDir = freshDataDir();
    const archive = writeTarGz(path.join(root, 'gone.tar.gz'), cifarEntries(R));
    const first = await ensureCifar10({ archive, dataDir, recordsPerFile: R });
    fs.rmSync(archive);
    const again = await ensureCifar10({ dataDir, recordsPerFile: R });
    assert.deepEqual(again.source, first.source);
  });

  const bad: [string, () => Buffer | ReturnType<typeof cifarEntries>, RegExp][] = [
    ['a bin whose size is not a multiple of 3073', () => cifarEntries(R, { 'data_batch_3.bin': Buffer.concat([cifarBatch(0, R), Buffer.alloc(5)]) }), /data_batch_3\.bin: size 9224 bytes is not a multiple of the 3073-byte/],
    ['a bin with too few records', () => cifarEntries(R, { 'test_batch.bin': cifarBatch(0, R - 1) }), /test_batch\.bin: expected 3 records \(9219 bytes\), found 2/],
    ['a missing bin', () => cifarEntries(R, { 'data_batch_5.bin': null }), /not a complete CIFAR-10 archive: .*data_batch_5\.bin: missing/],
    ['a label >= 10', () => cifarEntries(R, { 'data_batch_4.bin': cifarBatch(0, R, (i) => (i === 1 ? 10 : 0)) }), /data_batch_4\.bin: record 1 has label 10; CIFAR-10 labels are 0\.\.9/],
  ];
  for (const [what, entries, message] of bad) {
    it(`rejects ${what}, leaving no partial dataset`, async () => {
      const dataDir = freshDataDir();
      const archive = writeTarGz(path.join(root, `bad-${n}.tar.gz`), entries() as ReturnType<typeof cifarEntries>);
      await assert.rejects(loadCifar10({ archive, dataDir, recordsPerFile: R }), message);
      // A label error is only seen when decoding, after extraction (which checks sizes only); sizes never extract.
      if (!/label/.test(what)) assert.ok(!fs.existsSync(path.join(dataDir, 'cifar-10-batches-bin')));
      assert.deepEqual(leftovers(dataDir), []);
    });
  }

  it('rejects a truncated .tar.gz, a corrupt one, a gzipped truncated tar and a file that is not gzip', async () => {
    const good = zlib.gzipSync(buildTar(cifarEntries(R)));
    const cases: [string, Buffer, RegExp][] = [
      ['cut.tar.gz', good.subarray(0, Math.floor(good.length / 2)), /cut\.tar\.gz: corrupt or truncated gzip data/],
      ['flipped.tar.gz', Buffer.from(good).fill(0x5a, 200, 260), /flipped\.tar\.gz: corrupt or truncated gzip data/],
      ['short-tar.tar.gz', zlib.gzipSync(buildTar(cifarEntries(R)).subarray(0, 512 * 30)), /short-tar\.tar\.gz: truncated archive: it ends inside "cifar-10-batches-bin\/data_batch_/],
      ['plain.tar.gz', buildTar(cifarEntries(R)), /plain\.tar\.gz: not a gzip file/],
    ];
    for (const [name, bytes, message] of cases) {
      const dataDir = freshDataDir();
      const archive = path.join(root, name);
      fs.writeFileSync(archive, bytes);
      await assert.rejects(loadCifar10({ archive, dataDir, recordsPerFile: R }), message, name);
      assert.ok(!fs.existsSync(path.join(dataDir, 'cifar-10-batches-bin')), name);
      assert.deepEqual(leftovers(dataDir), [], name);
    }
  });

  it('a missing explicit archive (DENSITY_CIFAR10_ARCHIVE) is an error naming the path and the fix', async () => {
    const missing = path.join(root, 'nowhere', 'cifar-10-binary.tar.gz');
    process.env.DENSITY_CIFAR10_ARCHIVE = missing;
    try {
      await assert.rejects(loadCifar10({ dataDir: freshDataDir(), recordsPerFile: R }), (e: Error) => {
        assert.ok(e.message.includes(missing), e.message);
        assert.ok(e.message.includes('DENSITY_CIFAR10_ARCHIVE='), e.message);
        assert.ok(e.message.includes(CIFAR10_URL), e.message);
        return true;
      });
    } finally {
      delete process.env.DENSITY_CIFAR10_ARCHIVE;
    }
  });

  it('offline with no archive anywhere: says where it looked and how to provide it, without a download', async () => {
    const dataDir = freshDataDir();
    let called = false;
    const download = async (): Promise<void> => {
      called = true;
    };
    await assert.rejects(ensureCifar10({ dataDir, download }), (e: Error) => {
      assert.match(e.message, /CIFAR-10 archive missing: offline/);
      assert.ok(e.message.includes(path.join(emptyShared, 'datasets', 'cifar-10-binary.tar.gz')), e.message);
      assert.ok(e.message.includes(path.join(dataDir, 'cifar-10-binary.tar.gz')), e.message);
      assert.ok(e.message.includes('DENSITY_CIFAR10_ARCHIVE'), e.message);
      return true;
    });
    assert.equal(called, false);
  });

  it('online: a failed download and a download that is not the official archive are both errors', async () => {
    const dataDir = freshDataDir();
    await assert.rejects(
      ensureCifar10({ dataDir, offline: false, download: async () => Promise.reject(new Error('ENOTFOUND www.cs.toronto.edu')) }),
      /CIFAR-10 archive missing: the download from https:\/\/www\.cs\.toronto\.edu\/~kriz\/cifar-10-binary\.tar\.gz failed \(ENOTFOUND/,
    );
    const synthetic = writeTarGz(path.join(root, 'fake-download.tar.gz'), cifarEntries(R));
    let requested = '';
    const download = async (url: string, dest: string): Promise<void> => {
      requested = url;
      fs.copyFileSync(synthetic, dest);
    };
    await assert.rejects(ensureCifar10({ dataDir, offline: false, download, recordsPerFile: R }), /has sha256 [0-9a-f]{64}, not the official c4a38c50/);
    assert.equal(requested, CIFAR10_URL);
    assert.ok(!fs.existsSync(path.join(dataDir, 'cifar-10-binary.tar.gz')), 'a rejected download is deleted');
  });

  it('describes only the two known archives specifically', () => {
    assert.match(describeCifarArchive(CIFAR10_OFFICIAL_SHA256), /official archive/);
    assert.match(describeCifarArchive(CIFAR10_JPEG_COPY_SHA256), /JPEG-derived copy/);
    assert.doesNotMatch(describeCifarArchive(CIFAR10_JPEG_COPY_SHA256), /official archive/);
    assert.match(describeCifarArchive('0'.repeat(64)), /unknown provenance/);
  });

  it('the synthetic fixture really has 5 train bins', () => {
    // Guards the fixture itself: the tests above would be weaker if it silently lost a file.
    assert.equal(cifarEntries(R).filter((e) => TRAIN_BINS.some((b) => e.name.endsWith(b))).length, 5);
  });
});

describe('data/cifar10, the real archive from ../shared/datasets', function () {
  const archive = path.join(sharedDir(), 'datasets', 'cifar-10-binary.tar.gz');
  // Extracted once into the project's (git-ignored) data/ dir; the first run takes some seconds.
  const dataDir = path.join(projectRoot, 'data');
  scopedEnv(() => ({ DENSITY_OFFLINE: '1', DENSITY_CIFAR10_ARCHIVE: undefined }));
  before(function () {
    if (!fs.existsSync(archive)) this.skip();
  });

  it('loads 50,000 / 10,000 images, 1,000 test and 5,000 train images per class, and records the JPEG-derived copy', async () => {
    let ds: Awaited<ReturnType<typeof loadCifar10>> | null = await loadCifar10({ dataDir });
    assert.equal(ds.train.n, 50000);
    assert.equal(ds.test.n, 10000);
    assert.equal(ds.train.x.length, 50000 * 32 * 32 * 3);
    assert.equal(ds.test.x.length, 10000 * 32 * 32 * 3);
    const testCounts = new Array<number>(10).fill(0);
    for (const l of ds.test.y) testCounts[l]++;
    assert.deepEqual(testCounts, new Array(10).fill(1000));
    const trainCounts = new Array<number>(10).fill(0);
    for (const l of ds.train.y) trainCounts[l]++;
    assert.deepEqual(trainCounts, new Array(10).fill(5000));
    let min = Infinity, max = -Infinity, sum = 0;
    for (const v of ds.test.x) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
    const mean = sum / ds.test.x.length;
    assert.ok(mean > 0.4 && mean < 0.55, `CIFAR-10 mean pixel is ~0.47, got ${mean}`);
    assert.equal(ds.source.sha256, CIFAR10_JPEG_COPY_SHA256);
    assert.equal(ds.source.path, archive);
    assert.match(ds.source.description, /JPEG-derived copy/);
    const record = JSON.parse(fs.readFileSync(path.join(dataDir, 'cifar-10-batches-bin', 'SOURCE.json'), 'utf8'));
    assert.equal(record.sha256, CIFAR10_JPEG_COPY_SHA256);
    ds = null; // eslint-disable-line no-useless-assignment -- ~740 MB: let it go before the next suite
  });
});
