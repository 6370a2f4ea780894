// Reader for the idx format of the original MNIST files (yann.lecun.com/exdb/mnist): a 4-byte big-endian magic
// 0x0000 08 NN (08 = unsigned byte, NN = number of dimensions), NN big-endian uint32 sizes, then the bytes.
// Every check is exact: a file that is one byte short or long is an error, never a silently partial dataset.
import * as fs from 'fs';
import * as zlib from 'zlib';

export const IDX_LABELS_MAGIC = 0x00000801;
export const IDX_IMAGES_MAGIC = 0x00000803;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

function hex8(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}

/** gzip streams start with 1f 8b; anything else is taken as a plain idx file. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** Read a file, gunzipping it when it is gzip-compressed; errors name the file. */
export function readMaybeGzip(file: string): Buffer {
  const raw = fs.readFileSync(file);
  if (!isGzip(raw)) return raw;
  try {
    return zlib.gunzipSync(raw);
  } catch (err) {
    throw new Error(`${file}: corrupt or truncated gzip data (${(err as Error).message})`);
  }
}

/**
 * Parse an idx buffer holding unsigned bytes with `magic` (0x801: 1-D labels, 0x803: 3-D images).
 * `name` is used in error messages. Checks magic, dimension count and the exact byte length.
 */
export function parseIdx(buf: Uint8Array, name: string, magic: number): IdxArray {
  const ndim = magic & 0xff;
  const headerBytes = 4 + 4 * ndim;
  const what = ndim === 1 ? 'labels' : ndim === 3 ? 'images' : `${ndim}-D array`;
  const shortHeader = (): Error =>
    new Error(`${name}: expected an idx header of ${headerBytes} bytes (${what}), found a file of ${buf.length} bytes`);
  if (buf.length < 4) throw shortHeader();
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // The magic first: a wrong kind of file (labels read as images) is a clearer message than a short header.
  const found = view.getUint32(0, false);
  if (found !== magic) {
    throw new Error(`${name}: expected idx magic ${hex8(magic)} (unsigned bytes, ${ndim}-D ${what}), found ${hex8(found)}`);
  }
  if (buf.length < headerBytes) throw shortHeader();
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count;
  if (buf.length !== expected) {
    throw new Error(`${name}: expected ${expected} bytes for ${dims.join('x')} ${what}, found ${buf.length}`);
  }
  // A view, not a copy: the caller converts to Float32 anyway, so copying the bytes would be wasted work.
  return { dims, data: buf.subarray(headerBytes) };
}

/** Labels file (magic 0x801), gzipped or plain; `expectedCount` and `numClasses` are checked when given. */
export function readIdxLabels(file: string, expect: { count?: number; numClasses?: number } = {}): Uint8Array {
  const name = file;
  const { dims, data } = parseIdx(readMaybeGzip(file), name, IDX_LABELS_MAGIC);
  if (expect.count !== undefined && dims[0] !== expect.count) {
    throw new Error(`${name}: expected ${expect.count} labels, found ${dims[0]}`);
  }
  if (expect.numClasses !== undefined) {
    for (let i = 0; i < data.length; i++) {
      if (data[i] >= expect.numClasses) {
        throw new Error(`${name}: label ${i} is ${data[i]}, expected a class id below ${expect.numClasses}`);
      }
    }
  }
  return data;
}

/** Images file (magic 0x803: count x rows x cols), gzipped or plain; the expected dims are checked when given. */
export function readIdxImages(
  file: string,
  expect: { count?: number; rows?: number; cols?: number } = {},
): { count: number; rows: number; cols: number; pixels: Uint8Array } {
  const name = file;
  const { dims, data } = parseIdx(readMaybeGzip(file), name, IDX_IMAGES_MAGIC);
  const [count, rows, cols] = dims;
  const want = [expect.count ?? count, expect.rows ?? rows, expect.cols ?? cols];
  if (want[0] !== count || want[1] !== rows || want[2] !== cols) {
    throw new Error(`${name}: expected ${want.join('x')} images, found ${dims.join('x')}`);
  }
  return { count, rows, cols, pixels: data };
}

/** byte -> byte/255 as float32; a table lookup gives exactly what the division would. */
export const BYTE_TO_UNIT: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let i = 0; i < 256; i++) t[i] = i / 255;
  return t;
})();

/** Bytes to Float32 in [0,1]. */
export function bytesToUnit(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = BYTE_TO_UNIT[bytes[i]];
  return out;
}
