// Test fixtures for lib/data: an independent tar writer (headers built here byte by byte, so the reader is
// tested against a writer it does not share code with), idx and CIFAR batch builders, env scoping.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `density-data-${prefix}-`));
}

/** Set env vars for the duration of a mocha suite (before/after), restoring the previous values. */
export function scopedEnv(vars: () => Record<string, string | undefined>): void {
  const saved: Record<string, string | undefined> = {};
  before(() => {
    for (const [k, v] of Object.entries(vars())) {
      saved[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

export interface TarFixtureEntry {
  name: string;
  data?: Buffer;
  /** typeflag; default '0' */
  type?: string;
  /** put the path's directory part in the ustar prefix field */
  usePrefix?: boolean;
}

function writeOctal(h: Buffer, start: number, len: number, value: number): void {
  h.write(value.toString(8).padStart(len - 1, '0') + '\0', start, len, 'ascii');
}

/** One ustar header block. */
export function tarHeader(name: string, size: number, type = '0', usePrefix = false): Buffer {
  const h = Buffer.alloc(512);
  let base = name;
  if (usePrefix) {
    const cut = name.lastIndexOf('/');
    h.write(name.slice(0, cut), 345, 155, 'utf8');
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, 0);
  h.write(type, 156, 1, 'latin1');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  let sum = 0;
  h.fill(0x20, 148, 156);
  for (let i = 0; i < 512; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/** A whole tar archive: header, data, padding per entry, then two zero blocks. */
export function buildTar(entries: TarFixtureEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    parts.push(tarHeader(e.name, data.length, e.type ?? '0', e.usePrefix ?? false), data);
    const pad = (512 - (data.length % 512)) % 512;
    parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Pixel byte of synthetic CIFAR image `img` (global index within its set), plane `c`, pixel `p`. */
export function cifarByte(img: number, c: number, p: number): number {
  return (img * 7 + c * 85 + p * 3) % 256;
}

/** A CIFAR batch of `records` records for images starting at global index `first`; labels (first + r) % 10. */
export function cifarBatch(first: number, records: number, labelOf: (img: number) => number = (i) => i % 10): Buffer {
  const buf = Buffer.alloc(records * 3073);
  for (let r = 0; r < records; r++) {
    const img = first + r;
    buf[r * 3073] = labelOf(img);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) buf[r * 3073 + 1 + c * 1024 + p] = cifarByte(img, c, p);
  }
  return buf;
}

export const TRAIN_BINS = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);

/** Entries of a synthetic cifar-10-binary archive with `records` per file; `override` replaces a file's bytes. */
export function cifarEntries(records: number, override: Record<string, Buffer | null> = {}): TarFixtureEntry[] {
  const entries: TarFixtureEntry[] = [{ name: 'cifar-10-batches-bin/', type: '5' }];
  const files: [string, Buffer][] = [
    ...TRAIN_BINS.map((name, i): [string, Buffer] => [name, cifarBatch(i * records, records)]),
    ['test_batch.bin', cifarBatch(5 * records, records)],
    ['batches.meta.txt', Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n')],
  ];
  for (const [name, data] of files) {
    const replaced = name in override ? override[name] : data;
    if (replaced !== null) entries.push({ name: `cifar-10-batches-bin/${name}`, data: replaced });
  }
  return entries;
}

/** Write a gzipped tar of `entries` to `file`; returns its path. */
export function writeTarGz(file: string, entries: TarFixtureEntry[]): string {
  fs.writeFileSync(file, zlib.gzipSync(buildTar(entries)));
  return file;
}

/** An idx file: big-endian magic, dims, then bytes. */
export function idxBuffer(magic: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** Async iterable over `buf` in pieces of `size` bytes (to test chunk boundaries). */
export async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
