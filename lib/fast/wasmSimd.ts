// Two kernels written as a tiny hand-assembled WebAssembly SIMD module (no toolchain on the project's machines)
// that works directly on the wasm backend's memory, so tensors are neither copied in nor out:
//
//  - 'DensityCsrMatMul', a sparse x dense product:
//      out[i, :] = sum over p in rowPtr[i]..rowPtr[i+1] of vals[p] * b[idx[p], :]      (A in CSR form, times B)
//    tfjs has no sparse product, and MNIST batches are ~80% zeros: the MLP's first layer (X W1 and X^T dZ1) does
//    ~3.4x fewer multiply-adds this way. Same bits as XNNPACK's dense product: XNNPACK accumulates each output
//    over k in order from +0 with separate multiply and add (wasm SIMD has no fused multiply-add); this does the
//    same over the nonzero k in order, and skipping terms that are 0 changes no sum. Each output row is done in
//    blocks of 32 columns held in 8 SIMD registers (then 4-column blocks, then single columns).
//  - columnSums (used by the Sum/Mean kernel fix over leading axes, wasmKernelFixes.ts): out[c] = sum over rows r of
//    x[r, c], each column accumulated from +0 in row order, four columns per SIMD lane group: the same bits as
//    wasm's own Sum (which transposes, then sums each row in order) without the transpose.
//  - firstLayerUpdate (lib/fast/denseStackTrajectory.ts): the pruning trajectory's incremental first layer. For each
//    image, pre[r, j] -= w * x[r, i] for every weight (i, j, w) removed at this level and every nonzero input
//    x[r, i], in float64, then hidden[r, :] = f32(relu(pre[r, :])) two units at a time (f64x2.pmax(0, v) is
//    exactly v > 0 ? v : 0 without the branch a scalar select compiles to, which mispredicts on ReLU's random signs).
//    The same float64 operations in the same order as the JS reference. Optionally writes the activations
//    transposed ([h, n]) for the sparse second layer.
//  - csrMatMulBias (the same kernel entry with a `bias` input): bias[i] + A b, each output accumulated from the
//    bias over the row's nonzeros in order, which is XNNPACK's fused product's order (checked bit for bit);
//    column blocks outside and rows inside, since b is wide there (the transposed activations of 5,000 images).
// Checked bit for bit in test/fast/wasmSimd.test.ts and test/fast/wasmKernelFixes.test.ts.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export const CSR_MATMUL = 'DensityCsrMatMul';

// ---------------------------------------------------------------------------------------------------------
// A minimal WebAssembly encoder: just the instructions the kernel uses.

const I32 = 0x7f,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

/** Instruction helpers (each returns its bytes). */
const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  mul: [0x6c],
  shl: [0x74],
  geS: [0x4e],
  i32load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  f32load: [0x2a, 2, 0],
  f32loadAt: (offset: number) => [0x2a, 2, ...uleb(offset)],
  f32store: [0x38, 2, 0],
  f32add: [0x92],
  f32mul: [0x94],
  f32zero: [0x43, 0, 0, 0, 0],
  v128load: (offset: number) => [0xfd, 0x00, 2, ...uleb(offset)],
  v128store: (offset: number) => [0xfd, 0x0b, 2, ...uleb(offset)],
  v128zero: [0xfd, 0x0c, ...new Array<number>(16).fill(0)],
  splat: [0xfd, 0x13],
  f32x4add: [0xfd, 0xe4, 0x01],
  f32x4mul: [0xfd, 0xe6, 0x01],
  f64load: [0x2b, 3, 0],
  f64store: [0x39, 3, 0],
  f64sub: [0xa1],
  f64mul: [0xa2],
  f64gt: [0x64],
  f64zero: [0x44, 0, 0, 0, 0, 0, 0, 0, 0],
  promote: [0xbb],
  demote: [0xb6],
  select: [0x1b],
  and: [0x71],
  or: [0x72],
  eqz: [0x45],
  /** if (pop i32) { body } */
  if: (body: number[]) => [0x04, 0x40, ...body, 0x0b],
  /** if (pop i32) { a } else { b } */
  ifElse: (a: number[], b: number[]) => [0x04, 0x40, ...a, 0x05, ...b, 0x0b],
  v128load64: [0xfd, 0x00, 3, 0],
  /** f64x2.pmax(a, b) = a < b ? b : a per lane (maxpd: no branch) */
  f64x2pmax: [0xfd, 0xf7, 0x01],
  /** f32x4.demote_f64x2_zero */
  demote2: [0xfd, 0x5e],
  f64x2splat: [0xfd, 0x14],
  f64x2lane0: [0xfd, 0x21, 0],
  /** v128.store64_lane lane 0: the low two f32 lanes */
  store64lane0: [0xfd, 0x5b, 3, 0, 0],
  /** while (!(get(a) >= get(b))) { body } — a loop that tests at the top. */
  whileLt: (a: number, b: number, body: number[]) => [0x02, 0x40, 0x03, 0x40, ...op.get(a), ...op.get(b), ...op.geS, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b],
};

// Parameters (byte offsets into the backend's memory, and sizes).
const ROWPTR = 0,
  IDX = 1,
  VALS = 2,
  M = 3,
  B = 4,
  N = 5,
  OUT = 6;
// Locals.
const I = 7,
  P = 8,
  P1 = 9,
  C = 10,
  OUTROW = 11,
  WROW = 12,
  CEND = 13,
  NB = 14; // i32
const V = 15,
  S = 16; // f32
const VS = 17,
  ACC = 18; // v128: the splatted value, then 8 accumulators (18..25)

/** The loop over a row's nonzeros p in [P, P1): sets WROW = b + idx[p] * n * 4 and V = vals[p], then `body`. */
function overNonzeros(body: number[]): number[] {
  return [
    ...op.get(I),
    ...op.i32(2),
    ...op.shl,
    ...op.get(ROWPTR),
    ...op.add,
    ...op.i32load(0),
    ...op.set(P),
    ...op.get(I),
    ...op.i32(2),
    ...op.shl,
    ...op.get(ROWPTR),
    ...op.add,
    ...op.i32load(4),
    ...op.set(P1),
    ...op.whileLt(P, P1, [
      ...op.get(P),
      ...op.i32(2),
      ...op.shl,
      ...op.get(IDX),
      ...op.add,
      ...op.i32load(0),
      ...op.get(NB),
      ...op.mul,
      ...op.get(B),
      ...op.add,
      ...op.set(WROW),
      ...op.get(P),
      ...op.i32(2),
      ...op.shl,
      ...op.get(VALS),
      ...op.add,
      ...op.f32load,
      ...op.set(V),
      ...body,
      ...op.get(P),
      ...op.i32(1),
      ...op.add,
      ...op.set(P),
    ]),
  ];
}

/** The bias of row I (the f32 at the module global BIAS_PTR + 4 I), for the bias-initialised product. */
const biasOfRow = [0x23, 0, ...op.get(I), ...op.i32(2), ...op.shl, ...op.add, ...op.f32load];

/**
 * Columns [C, C + 4 * lanes) of row I, `lanes` SIMD accumulators starting from +0 (or from row I's bias);
 * advances C unless `advance` is false.
 */
function simdBlock(lanes: number, fromBias = false, advance = true): number[] {
  const zero = Array.from({ length: lanes }, (_, k) =>
    fromBias ? [...biasOfRow, ...op.splat, ...op.set(ACC + k)] : [...op.v128zero, ...op.set(ACC + k)],
  ).flat();
  const accumulate = Array.from({ length: lanes }, (_, k) => [
    ...op.get(ACC + k),
    ...op.get(VS),
    ...op.get(WROW),
    ...op.get(C),
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.v128load(16 * k),
    ...op.f32x4mul,
    ...op.f32x4add,
    ...op.set(ACC + k),
  ]).flat();
  const store = Array.from({ length: lanes }, (_, k) => [
    ...op.get(OUTROW),
    ...op.get(C),
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.get(ACC + k),
    ...op.v128store(16 * k),
  ]).flat();
  return [
    ...zero,
    ...overNonzeros([...op.get(V), ...op.splat, ...op.set(VS), ...accumulate]),
    ...store,
    ...(advance ? [...op.get(C), ...op.i32(4 * lanes), ...op.add, ...op.set(C)] : []),
  ];
}

/** Column C of row I in scalar f32 from +0 (or from row I's bias); advances C unless `advance` is false. */
function scalarColumn(fromBias = false, advance = true): number[] {
  return [
    ...(fromBias ? biasOfRow : op.f32zero),
    ...op.set(S),
    ...overNonzeros([
      ...op.get(S),
      ...op.get(V),
      ...op.get(WROW),
      ...op.get(C),
      ...op.i32(2),
      ...op.shl,
      ...op.add,
      ...op.f32load,
      ...op.f32mul,
      ...op.f32add,
      ...op.set(S),
    ]),
    ...op.get(OUTROW),
    ...op.get(C),
    ...op.i32(2),
    ...op.shl,
    ...op.add,
    ...op.get(S),
    ...op.f32store,
    ...(advance ? [...op.get(C), ...op.i32(1), ...op.add, ...op.set(C)] : []),
  ];
}

/**
 * csrMatMulBias: out[i, :] = bias[i] + sum over p of vals[p] * b[idx[p], :], each output accumulated from the bias
 * over the row's nonzeros in order (XNNPACK's fused product accumulates from the bias in k order too). Column
 * blocks outside, rows inside, so one block of b stays in cache for all rows: b is wide here (the transposed
 * activations of a whole validation set, [k, n] with n = 5,000).
 */
function csrMatMulBiasBody(): number[] {
  const overRows = (block: number[]) => [
    ...op.i32(0),
    ...op.set(I),
    ...op.whileLt(I, M, [
      ...op.get(I),
      ...op.get(NB),
      ...op.mul,
      ...op.get(OUT),
      ...op.add,
      ...op.set(OUTROW),
      ...block,
      ...op.get(I),
      ...op.i32(1),
      ...op.add,
      ...op.set(I),
    ]),
  ];
  const blocks = (width: number, block: number[]) => columnsOf(width, [...overRows(block), ...op.get(C), ...op.i32(width), ...op.add, ...op.set(C)]);
  const body = [
    ...op.get(N),
    ...op.i32(2),
    ...op.shl,
    ...op.set(NB),
    ...op.i32(0),
    ...op.set(C),
    ...blocks(32, simdBlock(8, true, false)),
    ...blocks(4, simdBlock(1, true, false)),
    ...blocks(1, scalarColumn(true, false)),
  ];
  return [
    ...vec([
      [...uleb(8), I32],
      [...uleb(2), F32],
      [...uleb(9), V128],
    ]),
    ...body,
    0x0b,
  ];
}

/** `while (C + width <= N) block` as: CEND = N - width + 1; while (C < CEND). */
function columnsOf(width: number, block: number[]): number[] {
  return [...op.get(N), ...op.i32(1 - width), ...op.add, ...op.set(CEND), ...op.whileLt(C, CEND, block)];
}

// columnSums(x, rows, cols, out): its own parameter and local numbering.
const CX = 0,
  CROWS = 1,
  CCOLS = 2,
  COUT = 3;
const CC = 4,
  CR = 5,
  CPTR = 6,
  CNB = 7,
  CCEND = 8; // i32
const CS = 9; // f32
const CACC = 10; // v128 x 8 (10..17)

/** Columns [CC, CC + 4 * lanes) summed over all rows into out; advances CC. */
function columnSimdBlock(lanes: number): number[] {
  return [
    ...Array.from({ length: lanes }, (_, k) => [...op.v128zero, ...op.set(CACC + k)]).flat(),
    ...op.get(CC),
    ...op.i32(2),
    ...op.shl,
    ...op.get(CX),
    ...op.add,
    ...op.set(CPTR),
    ...op.i32(0),
    ...op.set(CR),
    ...op.whileLt(CR, CROWS, [
      ...Array.from({ length: lanes }, (_, k) => [...op.get(CACC + k), ...op.get(CPTR), ...op.v128load(16 * k), ...op.f32x4add, ...op.set(CACC + k)]).flat(),
      ...op.get(CPTR),
      ...op.get(CNB),
      ...op.add,
      ...op.set(CPTR),
      ...op.get(CR),
      ...op.i32(1),
      ...op.add,
      ...op.set(CR),
    ]),
    ...Array.from({ length: lanes }, (_, k) => [
      ...op.get(CC),
      ...op.i32(2),
      ...op.shl,
      ...op.get(COUT),
      ...op.add,
      ...op.get(CACC + k),
      ...op.v128store(16 * k),
    ]).flat(),
    ...op.get(CC),
    ...op.i32(4 * lanes),
    ...op.add,
    ...op.set(CC),
  ];
}

function columnScalar(): number[] {
  return [
    ...op.f32zero,
    ...op.set(CS),
    ...op.get(CC),
    ...op.i32(2),
    ...op.shl,
    ...op.get(CX),
    ...op.add,
    ...op.set(CPTR),
    ...op.i32(0),
    ...op.set(CR),
    ...op.whileLt(CR, CROWS, [
      ...op.get(CS),
      ...op.get(CPTR),
      ...op.f32load,
      ...op.f32add,
      ...op.set(CS),
      ...op.get(CPTR),
      ...op.get(CNB),
      ...op.add,
      ...op.set(CPTR),
      ...op.get(CR),
      ...op.i32(1),
      ...op.add,
      ...op.set(CR),
    ]),
    ...op.get(CC),
    ...op.i32(2),
    ...op.shl,
    ...op.get(COUT),
    ...op.add,
    ...op.get(CS),
    ...op.f32store,
    ...op.get(CC),
    ...op.i32(1),
    ...op.add,
    ...op.set(CC),
  ];
}

function columnsUpTo(c: number, end: number, n: number, width: number, block: number[]): number[] {
  return [...op.get(n), ...op.i32(1 - width), ...op.add, ...op.set(end), ...op.whileLt(c, end, block)];
}

function columnSumsBody(): number[] {
  const body = [
    ...op.get(CCOLS),
    ...op.i32(2),
    ...op.shl,
    ...op.set(CNB),
    ...op.i32(0),
    ...op.set(CC),
    ...columnsUpTo(CC, CCEND, CCOLS, 32, columnSimdBlock(8)),
    ...columnsUpTo(CC, CCEND, CCOLS, 4, columnSimdBlock(1)),
    ...columnsUpTo(CC, CCEND, CCOLS, 1, columnScalar()),
  ];
  return [
    ...vec([
      [...uleb(5), I32],
      [...uleb(1), F32],
      [...uleb(8), V128],
    ]),
    ...body,
    0x0b,
  ];
}

// firstLayerUpdate(start, feat, val, n, rowStart, cols, ws, h, pre, hidden, flags): its own numbering.
// `records` holds one 8-byte record per removed weight: the byte offset of its column in a row of `pre`
// (col * 8, int32), then the weight (float32; exact in float64, as the reference's float64 copy of it).
const FS = 0,
  FFEAT = 1,
  FVAL = 2,
  FN = 3,
  FROWS = 4,
  FREC = 5,
  FH = 6,
  FPRE = 7,
  FHID = 8,
  FFLAGS = 9;
const FR = 10,
  FP = 11,
  FP1 = 12,
  FROW = 13,
  FT = 14,
  FT1 = 15,
  FBASE8 = 16,
  FBASEH = 17,
  FJ = 18,
  FADDR = 19,
  FJEND = 20,
  FSTRIDE = 21; // i32
const FXV = 22,
  FV = 23; // f64

/** Byte address base + index * size, from locals. */
function addrOf(base: number, index: number, shift: number): number[] {
  return [...op.get(index), ...op.i32(shift), ...op.shl, ...op.get(base), ...op.add];
}

function firstLayerUpdateBody(): number[] {
  // FT walks the row's records, 8 bytes a step, up to FT1.
  const update = [
    ...addrOf(FS, FR, 2),
    ...op.i32load(0),
    ...op.set(FP),
    ...addrOf(FS, FR, 2),
    ...op.i32load(4),
    ...op.set(FP1),
    ...op.whileLt(FP, FP1, [
      ...addrOf(FFEAT, FP, 2),
      ...op.i32load(0),
      ...op.i32(2),
      ...op.shl,
      ...op.get(FROWS),
      ...op.add,
      ...op.set(FROW),
      ...op.get(FROW),
      ...op.i32load(0),
      ...op.i32(3),
      ...op.shl,
      ...op.get(FREC),
      ...op.add,
      ...op.set(FT),
      ...op.get(FROW),
      ...op.i32load(4),
      ...op.i32(3),
      ...op.shl,
      ...op.get(FREC),
      ...op.add,
      ...op.set(FT1),
      ...addrOf(FVAL, FP, 2),
      ...op.f32load,
      ...op.promote,
      ...op.set(FXV),
      ...op.whileLt(FT, FT1, [
        // pre[base + col] = pre[base + col] - f64(w) * xv, in float64 (as the JS reference)
        ...op.get(FT),
        ...op.i32load(0),
        ...op.get(FBASE8),
        ...op.add,
        ...op.set(FADDR),
        ...op.get(FADDR),
        ...op.get(FADDR),
        ...op.f64load,
        ...op.get(FT),
        ...op.f32loadAt(4),
        ...op.promote,
        ...op.get(FXV),
        ...op.f64mul,
        ...op.f64sub,
        ...op.f64store,
        ...op.get(FT),
        ...op.i32(8),
        ...op.add,
        ...op.set(FT),
      ]),
      ...op.get(FP),
      ...op.i32(1),
      ...op.add,
      ...op.set(FP),
    ]),
  ];
  // hidden[j] = f32(relu ? (v > 0 ? v : 0) : v): two units at a time with f64x2 (pmax(0, v) is v > 0 ? v : 0,
  // NaN and -0 included, without the branch a scalar select compiles to), then one at a time for an odd tail.
  const pairs = (relu: boolean) =>
    op.whileLt(FJ, FJEND, [
      ...addrOf(FBASEH, FJ, 2),
      ...(relu ? [...op.v128zero, ...addrOf(FBASE8, FJ, 3), ...op.v128load64, ...op.f64x2pmax] : [...addrOf(FBASE8, FJ, 3), ...op.v128load64]),
      ...op.demote2,
      ...op.store64lane0,
      ...op.get(FJ),
      ...op.i32(2),
      ...op.add,
      ...op.set(FJ),
    ]);
  // Flag 4: write the activation transposed, hidden[j, r] of [h, n] (for the sparse second-layer product). Image
  // r's h values go to h cache lines that image r + 1 writes next to, so the lines stay in cache.
  const transposed = (relu: boolean) => [
    ...op.get(FR),
    ...op.i32(2),
    ...op.shl,
    ...op.get(FHID),
    ...op.add,
    ...op.set(FADDR),
    ...op.get(FN),
    ...op.i32(2),
    ...op.shl,
    ...op.set(FSTRIDE),
    ...op.i32(0),
    ...op.set(FJ),
    ...op.whileLt(FJ, FH, [
      ...op.get(FADDR),
      ...(relu
        ? [...op.v128zero, ...addrOf(FBASE8, FJ, 3), ...op.f64load, ...op.f64x2splat, ...op.f64x2pmax, ...op.f64x2lane0]
        : [...addrOf(FBASE8, FJ, 3), ...op.f64load]),
      ...op.demote,
      ...op.f32store,
      ...op.get(FADDR),
      ...op.get(FSTRIDE),
      ...op.add,
      ...op.set(FADDR),
      ...op.get(FJ),
      ...op.i32(1),
      ...op.add,
      ...op.set(FJ),
    ]),
  ];
  const rowMajor = [
    ...op.i32(0),
    ...op.set(FJ),
    ...op.get(FH),
    ...op.i32(-1),
    ...op.add,
    ...op.set(FJEND),
    ...op.get(FFLAGS),
    ...op.i32(1),
    ...op.and,
    ...op.ifElse(pairs(true), pairs(false)),
    ...op.whileLt(FJ, FH, [
      ...addrOf(FBASE8, FJ, 3),
      ...op.f64load,
      ...op.set(FV),
      ...addrOf(FBASEH, FJ, 2),
      ...op.get(FV),
      ...op.f64zero,
      ...op.get(FV),
      ...op.f64zero,
      ...op.f64gt,
      ...op.get(FFLAGS),
      ...op.i32(1),
      ...op.and,
      ...op.eqz,
      ...op.or,
      ...op.select,
      ...op.demote,
      ...op.f32store,
      ...op.get(FJ),
      ...op.i32(1),
      ...op.add,
      ...op.set(FJ),
    ]),
  ];
  const activation = [
    ...op.get(FFLAGS),
    ...op.i32(4),
    ...op.and,
    ...op.ifElse([...op.get(FFLAGS), ...op.i32(1), ...op.and, ...op.ifElse(transposed(true), transposed(false))], rowMajor),
  ];
  const body = [
    ...op.i32(0),
    ...op.set(FR),
    ...op.whileLt(FR, FN, [
      ...op.get(FR),
      ...op.get(FH),
      ...op.mul,
      ...op.i32(3),
      ...op.shl,
      ...op.get(FPRE),
      ...op.add,
      ...op.set(FBASE8),
      ...op.get(FR),
      ...op.get(FH),
      ...op.mul,
      ...op.i32(2),
      ...op.shl,
      ...op.get(FHID),
      ...op.add,
      ...op.set(FBASEH),
      ...op.get(FFLAGS),
      ...op.i32(2),
      ...op.and,
      ...op.if(update),
      ...activation,
      ...op.get(FR),
      ...op.i32(1),
      ...op.add,
      ...op.set(FR),
    ]),
  ];
  return [
    ...vec([
      [...uleb(12), I32],
      [...uleb(2), F64],
    ]),
    ...body,
    0x0b,
  ];
}

function moduleBytes(): Uint8Array {
  const body = [
    ...op.get(N),
    ...op.i32(2),
    ...op.shl,
    ...op.set(NB), // bytes per row of b and out
    ...op.i32(0),
    ...op.set(I),
    ...op.whileLt(I, M, [
      ...op.get(I),
      ...op.get(NB),
      ...op.mul,
      ...op.get(OUT),
      ...op.add,
      ...op.set(OUTROW),
      ...op.i32(0),
      ...op.set(C),
      ...columnsOf(32, simdBlock(8)),
      ...columnsOf(4, simdBlock(1)),
      ...columnsOf(1, scalarColumn()),
      ...op.get(I),
      ...op.i32(1),
      ...op.add,
      ...op.set(I),
    ]),
  ];
  const locals = vec([
    [...uleb(8), I32],
    [...uleb(2), F32],
    [...uleb(9), V128],
  ]);
  const csr = [...locals, ...body, 0x0b];
  const sums = columnSumsBody();
  const first = firstLayerUpdateBody();
  const csrBias = csrMatMulBiasBody();
  const params = (k: number) => [0x60, ...vec(new Array(k).fill([I32])), 0x00];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    // types: 0 = (i32 x7) -> (), 1 = (i32 x4) -> (), 2 = (i32 x10) -> ()
    ...section(1, vec([params(7), params(4), params(10)])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])), // memory, min 0 pages, no max
    ...section(3, vec([[0x00], [0x01], [0x02], [0x00]])),
    // global 0: the bias pointer of csrMatMulBias (mutable i32, set from JS before each call)
    ...section(6, vec([[I32, 0x01, ...op.i32(0), 0x0b]])),
    ...section(
      7,
      vec([
        [...name('csrMatMul'), 0x00, 0x00],
        [...name('columnSums'), 0x00, 0x01],
        [...name('firstLayerUpdate'), 0x00, 0x02],
        [...name('csrMatMulBias'), 0x00, 0x03],
        [...name('biasPtr'), 0x03, 0x00],
      ]),
    ),
    ...section(
      10,
      vec([
        [...uleb(csr.length), ...csr],
        [...uleb(sums.length), ...sums],
        [...uleb(first.length), ...first],
        [...uleb(csrBias.length), ...csrBias],
      ]),
    ),
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// The kernel

type CsrFn = (rowPtr: number, idx: number, vals: number, m: number, b: number, n: number, out: number) => void;
type ColumnSumsFn = (x: number, rows: number, cols: number, out: number) => void;
type FirstLayerFn = (
  start: number,
  feat: number,
  val: number,
  n: number,
  rowStart: number,
  records: number,
  h: number,
  pre: number,
  hidden: number,
  flags: number,
) => void;
interface SimdFns {
  csrMatMul: CsrFn;
  columnSums: ColumnSumsFn;
  firstLayerUpdate: FirstLayerFn;
  csrMatMulBias: CsrFn;
  biasPtr: { value: number };
}

// The project's TypeScript lib (ES2022, no DOM) has no WebAssembly typings: the few pieces used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Per backend memory: the instance bound to it (a re-initialised backend gets a new memory). */
const instances = new WeakMap<WasmMemory, SimdFns>();

interface WasmInternals {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { asm?: { memory?: unknown } };
}

function simd(backend: BackendWasm): SimdFns {
  // The backend's module exports its memory as asm.memory (emscripten); not in the public typings.
  const memory = (backend as unknown as WasmInternals).wasm.asm?.memory;
  if (!(memory instanceof WA.Memory)) throw new Error("density's SIMD kernels: the wasm backend's memory is not reachable");
  let fns = instances.get(memory);
  if (!fns) {
    const { exports } = new WA.Instance(new WA.Module(moduleBytes()), { env: { memory } });
    fns = {
      csrMatMul: exports.csrMatMul as CsrFn,
      columnSums: exports.columnSums as ColumnSumsFn,
      firstLayerUpdate: exports.firstLayerUpdate as FirstLayerFn,
      csrMatMulBias: exports.csrMatMulBias as CsrFn,
      biasPtr: exports.biasPtr as { value: number },
    };
    instances.set(memory, fns);
  }
  return fns;
}

/**
 * out [cols] = column sums of x viewed as [rows, cols] (float32), each from +0 in row order: wasm's own Sum's
 * bits (it transposes, then sums each row in order). `out` must be a fresh float32 output of `cols` values.
 */
export function columnSumsInto(backend: BackendWasm, x: tf.TensorInfo, rows: number, cols: number, out: tf.TensorInfo): void {
  if (x.dtype !== 'float32' || out.dtype !== 'float32') throw new Error('columnSums: float32 only');
  if (tf.util.sizeFromShape(x.shape) !== rows * cols || tf.util.sizeFromShape(out.shape) !== cols)
    throw new Error('columnSums: shapes do not match rows x cols');
  if (rows > 0 && cols > 0) simd(backend).columnSums(offset(backend, x), rows, cols, offset(backend, out));
  else backend.typedArrayFromHeap(out).fill(0);
}

function offset(backend: BackendWasm, t: tf.TensorInfo): number {
  const data = (backend as unknown as WasmInternals).dataIdMap.get(t.dataId);
  if (!data) throw new Error("density's SIMD kernels: tensor data not on the wasm backend");
  return data.memoryOffset;
}

function csrMatMul(params: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const backend = params.backend as BackendWasm;
  const { rowPtr, idx, vals, b, bias } = params.inputs as Record<string, tf.TensorInfo | undefined>;
  if (!rowPtr || !idx || !vals || !b) throw new Error(`${CSR_MATMUL} needs inputs rowPtr, idx, vals, b`);
  if (rowPtr.dtype !== 'int32' || idx.dtype !== 'int32' || vals.dtype !== 'float32' || b.dtype !== 'float32' || b.shape.length !== 2) {
    throw new Error(`${CSR_MATMUL}: rowPtr and idx int32, vals float32, b float32 [k, n]`);
  }
  const m = rowPtr.shape[0] - 1;
  const [k, n] = b.shape;
  const nnz = idx.shape[0];
  // The kernel trusts its indices (it reads wherever they point): check them here, O(nnz).
  const ptr = backend.typedArrayFromHeap(rowPtr);
  const ix = backend.typedArrayFromHeap(idx);
  if (m < 0 || ptr[0] !== 0 || ptr[m] !== nnz || vals.shape[0] !== nnz) throw new Error(`${CSR_MATMUL}: rowPtr must run from 0 to nnz (${nnz})`);
  for (let i = 0; i < m; i++) if (ptr[i + 1] < ptr[i]) throw new Error(`${CSR_MATMUL}: rowPtr decreases at row ${i}`);
  for (let p = 0; p < nnz; p++) if (!(ix[p] >= 0 && ix[p] < k)) throw new Error(`${CSR_MATMUL}: index ${ix[p]} is not a row of b (${k} rows)`);
  if (bias && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== m))
    throw new Error(`${CSR_MATMUL}: bias must be float32 with one value per row of A (${m})`);
  const out = backend.makeOutput([m, n], 'float32');
  if (m > 0 && n > 0) {
    const fns = simd(backend);
    const args = [offset(backend, rowPtr), offset(backend, idx), offset(backend, vals), m, offset(backend, b), n, offset(backend, out)] as const;
    if (bias) {
      fns.biasPtr.value = offset(backend, bias);
      fns.csrMatMulBias(...args);
    } else {
      fns.csrMatMul(...args);
    }
  }
  return out;
}

let registered = false;

/** Register 'DensityCsrMatMul' on wasm (idempotent). */
export function registerWasmSimdKernels(): void {
  if (registered || tf.getKernel(CSR_MATMUL, 'wasm')) {
    registered = true;
    return;
  }
  tf.registerKernel({ kernelName: CSR_MATMUL, backendName: 'wasm', kernelFunc: csrMatMul });
  registered = true;
}

/** Whether the active backend has the sparse product. */
export function hasCsrMatMul(): boolean {
  return tf.getKernel(CSR_MATMUL, tf.getBackend()) !== undefined;
}

/**
 * A (CSR: rowPtr [m+1], idx [nnz], vals [nnz]) times b [k, n] -> [m, n] on the active backend. With `bias` [m],
 * out[i, :] = bias[i] + (A b)[i, :], accumulated from the bias (the bits of XNNPACK's fused product with a bias).
 */
export function csrMatMulOp(rowPtr: tf.Tensor1D, idx: tf.Tensor1D, vals: tf.Tensor1D, b: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  return tf.engine().runKernel(CSR_MATMUL, bias ? { rowPtr, idx, vals, b, bias } : { rowPtr, idx, vals, b }) as tf.Tensor2D;
}

// ---------------------------------------------------------------------------------------------------------
// The pruning trajectory's first-layer update (lib/fast/denseStackTrajectory.ts): the same float64 arithmetic as its
// JS reference, in wasm, on buffers that live in the backend's memory.

/** Nonzeros of X [n, d] per row: row r has features feat[p] with values val[p] for p in start[r]..start[r+1]. */
export interface RowSparseInput {
  start: Uint32Array;
  feat: Uint32Array;
  val: Float32Array;
}

/**
 * One level's removed first-layer weights grouped by input row: row i's are cols/ws[rowStart[i]..rowStart[i+1]).
 * ws holds float32 kernel values (in float64 for the JS reference; the wasm kernel stores them as float32, exact).
 */
export interface RemovedByRow {
  rowStart: Uint32Array;
  cols: Uint32Array;
  ws: Float64Array;
}

/**
 * The first layer's float64 pre-activations [n, h] and its float32 activation `hidden` [n, h] in wasm memory.
 * update() subtracts one level's removed weights times the inputs from the pre-activations and rewrites
 * `hidden` in place (the tensor is ours alone, so nothing else sees it change).
 */
export interface WasmFirstLayer {
  /** The activations, n x h values: [n, h] row-major, or [h, n] after an update with `transposed`. */
  readonly hidden: tf.Tensor1D;
  update(removed: RemovedByRow | null, relu: boolean, transposed?: boolean): void;
  dispose(): void;
}

function int32View(a: Uint32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** The wasm first-layer state for inputs x [n, d] and h units, or null when the active backend is not wasm. `pre` is copied in. */
export function wasmFirstLayer(x: RowSparseInput, n: number, d: number, h: number, pre: Float64Array): WasmFirstLayer | null {
  if (tf.getBackend() !== 'wasm') return null;
  if (pre.length !== n * h || x.start.length !== n + 1)
    throw new Error(`wasmFirstLayer: pre has ${pre.length} values and start ${x.start.length}; expected ${n} x ${h} and ${n + 1}`);
  // The kernel trusts its indices (it reads and writes wherever they point): check them once here, and
  // each level's removed weights in update().
  if (x.start[0] !== 0 || x.start[n] !== x.feat.length || x.val.length !== x.feat.length)
    throw new Error('wasmFirstLayer: start must run from 0 to the number of nonzeros');
  for (let r = 0; r < n; r++) if (x.start[r + 1] < x.start[r]) throw new Error(`wasmFirstLayer: start decreases at row ${r}`);
  for (let p = 0; p < x.feat.length; p++) if (!(x.feat[p] < d)) throw new Error(`wasmFirstLayer: feature ${x.feat[p]} is not < ${d}`);
  const backend = tf.backend() as BackendWasm;
  const fns = simd(backend);
  const start = tf.tensor1d(int32View(x.start), 'int32');
  const feat = tf.tensor1d(int32View(x.feat), 'int32');
  const val = tf.tensor1d(x.val, 'float32');
  // float64 state held as float32 pairs (tfjs has no float64 dtype); only this kernel reads it as f64.
  const preT = tf.tensor1d(new Float32Array(pre.buffer, pre.byteOffset, 2 * pre.length), 'float32');
  const hidden = tf.tensor1d(new Float32Array(n * h), 'float32');
  return {
    hidden,
    update(removed, relu, transposed = false) {
      const flags = (relu ? 1 : 0) | (removed && removed.cols.length > 0 ? 2 : 0) | (transposed ? 4 : 0);
      let parts: tf.Tensor[] = [];
      try {
        let rows = 0,
          records = 0;
        if (removed && flags & 2) {
          const { rowStart: rs, cols: cs, ws: w } = removed;
          if (rs.length !== d + 1 || rs[0] !== 0 || rs[d] !== cs.length || w.length !== cs.length)
            throw new Error(`wasmFirstLayer: rowStart must have ${d + 1} entries from 0 to cols.length, and ws one weight per column`);
          for (let i = 0; i < d; i++) if (rs[i + 1] < rs[i]) throw new Error(`wasmFirstLayer: rowStart decreases at row ${i}`);
          for (let p = 0; p < cs.length; p++) if (!(cs[p] < h)) throw new Error(`wasmFirstLayer: column ${cs[p]} is not < ${h}`);
          const rec = new Int32Array(2 * cs.length);
          const recW = new Float32Array(rec.buffer);
          for (let p = 0; p < cs.length; p++) {
            rec[2 * p] = cs[p] * 8;
            recW[2 * p + 1] = w[p];
            if (recW[2 * p + 1] !== w[p]) throw new Error(`wasmFirstLayer: weight ${w[p]} is not a float32 value (the kernel stores weights as float32)`);
          }
          parts = [tf.tensor1d(int32View(rs), 'int32'), tf.tensor1d(rec, 'int32')];
          [rows, records] = parts.map((t) => offset(backend, t));
        }
        fns.firstLayerUpdate(
          offset(backend, start),
          offset(backend, feat),
          offset(backend, val),
          n,
          rows,
          records,
          h,
          offset(backend, preT),
          offset(backend, hidden),
          flags,
        );
      } finally {
        tf.dispose(parts);
      }
    },
    dispose() {
      tf.dispose([start, feat, val, preT, hidden]);
    },
  };
}
