// Kernels the tfjs 4.22 wasm backend lacks or gets wrong on this machine, registered from kernels it has.
// Each fix is checked against the cpu backend in test/fast/wasmKernelFixes.test.ts.
//
//  - Conv2DBackpropFilter: not registered on wasm at all, so training any conv net (Conv2D or FusedConv2D,
//    whose custom gradient calls the same kernel) throws. Built here as one XNNPACK Conv2D.
//  - Conv2DBackpropInput: wasm has one, but it is a naive scalar loop. Replaced by a forward Conv2D on the
//    stride-dilated dy with the flipped, transposed filter.
//  - MaxPoolGrad: wasm's C++ kernel starts its running max at FLT_MIN (smallest positive float), so a window
//    whose values are all <= 0 sends its gradient to the wrong element (element 0 in the test case) instead
//    of its maximum. Replaced by a JS loop over the wasm heap with the cpu backend's semantics (first
//    maximum in scan order wins ties), with a tighter loop for 2x2 windows of stride 2 without padding.
//    (wasm's MaxPoolWithArgmax has the same FLT_MIN start; not used here.)
//  - BatchMatMul / _FusedMatMul: XNNPACK is only used with no transposes, so every backprop matmul
//    (transposeA or transposeB) falls to a scalar loop, many times slower. Wrapped to transpose explicitly first.
//  - Sum / Mean over leading axes (e.g. [0,1,2] of NHWC: BatchNorm moments, bias gradients): wasm transposes
//    the reduced axes to the end first (a whole activation copied). Done as column sums in SIMD on the
//    untransposed data instead (wasmSimd.ts), each column summed in row order as wasm's own kernel does, so
//    the results keep their bits; other axis patterns go to the original kernel.
//  - Identity / Cast to the same dtype: wasm copies the data, although tensors are immutable (the cpu
//    backend shares it). Shared by reference count here: tf.clone, moments' cast, layers' merges and every
//    Cast gradient copied whole activations (~80 copies per ResNet step). Casts to bool were a raw typed-array
//    copy (-1 -> 255, 0.5 -> 0); done as x != 0 like cpu.
//  - GatherV2 (batchDims 0): wasm's C++ loop computes strides per element; done here as one typed-array copy
//    per gathered slice; other cases go to the original kernel.
//  - Tile: wasm's C++ loop computes a multi-index per element (broadcasting 16 values to a ResNet activation
//    is one of the slowest steps of its training). When only leading axes repeat, the output is the input repeated back to back, written here
//    with doubling copyWithin; other patterns go to the original kernel.
//
// Timings of each fix: README (Performance) and `npx tsx bench/ab.ts`.
//
// Threads: WASM_HAS_MULTITHREAD_SUPPORT must never be forced on. The threaded binary needs worker support
// that fails in Node here; the backend runs single-threaded SIMD, and nothing in this file changes that.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { columnSumsInto } from './wasmSimd';
import { levers, WASM_KERNEL_FIXES, type WasmKernelFix } from './levers';

type Info = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;
interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}

/** Marks configs registered here, so a second copy of this module (e.g. a cleared require cache) never wraps a wrapper. */
const FIX_MARK = Symbol.for('density.wasmKernelFix');
type MarkedConfig = tf.KernelConfig & { [FIX_MARK]?: true };

export { WASM_KERNEL_FIXES };

let registered: string[] | null = null;
/** The configs the fixes replaced, kept for the wrappers, for tests that show the upstream bugs, and for before/after timing. */
const originals = new Map<string, tf.KernelConfig>();

/** The wasm kernel that a fix replaced, as tfjs registered it (undefined for kernels wasm never had). */
export function originalWasmKernel(name: string): tf.KernelConfig | undefined {
  return originals.get(name);
}

/** The kernel currently registered on wasm (looked up per call, so later fixes of those kernels apply here too). */
function wasmKernel(name: string): tf.KernelConfig {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is not registered`);
  return k;
}

function run(kernel: tf.KernelConfig, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm kernel ${kernel.kernelName} returned several outputs; expected one`);
  return out;
}

function input(inputs: tf.NamedTensorInfoMap, name: string): Info {
  const t = inputs[name];
  if (!t) throw new Error(`missing kernel input '${name}'`);
  return t;
}

function transpose(backend: BackendWasm, x: Info, perm: number[]): Info {
  return run(wasmKernel('Transpose'), backend, { x }, { perm });
}

function slice(backend: BackendWasm, x: Info, begin: number[], size: number[]): Info {
  return run(wasmKernel('Slice'), backend, { x }, { begin, size });
}

/** A TensorInfo over the same data with another shape; not a new reference, so never dispose or return it. */
function view(x: Info, shape: number[]): Info {
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

function dispose(backend: BackendWasm, ...infos: Info[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function pair(v: number | [number, number] | number[] | undefined, fallback: number): [number, number] {
  if (v === undefined) return [fallback, fallback];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function requireNhwcNoDilation(kernel: string, attrs: tf.NamedAttrMap): void {
  const dataFormat = attrs.dataFormat as string | undefined;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (density wasm fix) supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
  const [dh, dw] = pair(attrs.dilations as number | number[] | undefined, 1);
  if (dh !== 1 || dw !== 1) {
    throw new Error(`${kernel} (density wasm fix) supports dilation 1 only, got [${dh}, ${dw}]`);
  }
}

// dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s+kh-top, ow*s+kw-left, ci] * dy[b,oh,ow,co]. That is a conv of
// x^T [ci,H,W,b] (batch ci, channels b) with dy^T [oh,ow,b,co] as the filter, dilated by the stride.
function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): Info {
  const x = input(inputs, 'x');
  const dy = input(inputs, 'dy');
  requireNhwcNoDilation('Conv2DBackpropFilter', attrs);
  const filterShape = attrs.filterShape as [number, number, number, number];
  const conv = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
    false,
    'channelsLast',
  );
  const [, inH, inW, inC] = x.shape;
  const [kH, kW, , outC] = filterShape;
  const [, outH, outW] = dy.shape;
  const { strideHeight: sH, strideWidth: sW } = conv;
  const { top, left } = conv.padInfo;
  // Pad bottom/right only as far as the last window reaches; rows beyond it (valid, stride 2) are cropped below.
  const bottom = Math.max(0, kH + (outH - 1) * sH - inH - top);
  const right = Math.max(0, kW + (outW - 1) * sW - inW - left);
  const xT = transpose(backend, x, [3, 1, 2, 0]);
  const dyT = transpose(backend, dy, [1, 2, 0, 3]);
  const full = run(
    wasmKernel('Conv2D'),
    backend,
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      dilations: [sH, sW],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
  dispose(backend, xT, dyT);
  let cropped = full;
  if (full.shape[1] !== kH || full.shape[2] !== kW) {
    cropped = slice(backend, full, [0, 0, 0, 0], [inC, kH, kW, outC]);
    dispose(backend, full);
  }
  const dw = transpose(backend, cropped, [1, 2, 0, 3]);
  dispose(backend, cropped);
  return dw;
}

// dx[b,r,c,ci] = sum dyDilated[b, r+top-kh, c+left-kw, co] * W[kh,kw,ci,co]: a stride-1 conv of the
// stride-dilated dy (zeros between rows/columns) with W flipped in space and its channel axes swapped.
function conv2DBackpropInput({ inputs, backend, attrs }: KernelArgs): Info {
  const dy = input(inputs, 'dy');
  const filter = input(inputs, 'filter');
  requireNhwcNoDilation('Conv2DBackpropInput', attrs);
  const inputShape = attrs.inputShape as [number, number, number, number];
  const conv = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
    false,
    'channelsLast',
  );
  const [batch, inH, inW, inC] = inputShape;
  const [kH, kW] = filter.shape;
  const [, outH, outW, outC] = dy.shape;
  const { strideHeight: sH, strideWidth: sW } = conv;
  const { top, left } = conv.padInfo;

  // Dilate: [b,oh,ow,co] -> [b,oh,1,ow,1,co] padded to [b,oh,sH,ow,sW,co] -> [b,oh*sH,ow*sW,co].
  let dyD: Info = dy;
  if (sH > 1 || sW > 1) {
    const padded = run(
      wasmKernel('PadV2'),
      backend,
      { x: view(dy, [batch, outH, 1, outW, 1, outC]) },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sH - 1],
          [0, 0],
          [0, sW - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    padded.shape = [batch, outH * sH, outW * sW, outC];
    dyD = padded;
  }
  const [, dH, dW] = dyD.shape;
  // Leading pad kH-1-top; if negative (explicit pads wider than the filter), pad 0 and crop instead.
  const padTop = kH - 1 - top;
  const padLeft = kW - 1 - left;
  const pt = Math.max(0, padTop);
  const pl = Math.max(0, padLeft);
  const r0 = pt - padTop;
  const c0 = pl - padLeft;
  const pb = Math.max(0, r0 + inH - (dH + pt - kH + 1));
  const pr = Math.max(0, c0 + inW - (dW + pl - kW + 1));

  const flipped = run(wasmKernel('Reverse'), backend, { x: filter }, { dims: [0, 1] });
  const w = transpose(backend, flipped, [0, 1, 3, 2]);
  dispose(backend, flipped);
  const full = run(
    wasmKernel('Conv2D'),
    backend,
    { x: dyD, filter: w },
    {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [pt, pb],
        [pl, pr],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
  );
  dispose(backend, w);
  if (dyD !== dy) dispose(backend, dyD);
  if (r0 === 0 && c0 === 0 && full.shape[1] === inH && full.shape[2] === inW) return full;
  const dx = slice(backend, full, [0, r0, c0, 0], [batch, inH, inW, inC]);
  dispose(backend, full);
  return dx;
}

// Same result as the cpu backend: each window's gradient goes to its first maximum in row-major scan
// order (strict >, starting from -Infinity), accumulated where windows overlap.
function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): Info {
  const dy = input(inputs, 'dy');
  const x0 = input(inputs, 'input');
  const info = tf.backend_util.computePool2DInfo(
    x0.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
  );
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fH, effectiveFilterWidth: fW } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput(x0.shape, 'float32');
  // Heap views only after the allocation above: growing the wasm heap detaches earlier views.
  const x = backend.typedArrayFromHeap(x0);
  const g = backend.typedArrayFromHeap(dy);
  const dx = backend.typedArrayFromHeap(out);
  if (
    levers.maxPoolGrad2x2 &&
    fH === 2 &&
    fW === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    top === 0 &&
    left === 0 &&
    2 * outHeight <= inHeight &&
    2 * outWidth <= inWidth
  ) {
    maxPoolGrad2x2(x, g, dx, batchSize, inHeight, inWidth, C, outHeight, outWidth);
    return out;
  }
  dx.fill(0);
  const best = new Float64Array(C);
  const arg = new Int32Array(C);
  for (let b = 0; b < batchSize; b++) {
    const xb = b * inHeight * inWidth * C;
    for (let yR = 0; yR < outHeight; yR++) {
      const r0 = yR * strideHeight - top;
      const rLo = Math.max(0, r0);
      const rHi = Math.min(inHeight, r0 + fH);
      for (let yC = 0; yC < outWidth; yC++) {
        const c0 = yC * strideWidth - left;
        const cLo = Math.max(0, c0);
        const cHi = Math.min(inWidth, c0 + fW);
        best.fill(-Infinity);
        arg.fill(-1);
        for (let r = rLo; r < rHi; r++) {
          for (let c = cLo; c < cHi; c++) {
            const base = xb + (r * inWidth + c) * C;
            for (let d = 0; d < C; d++) {
              const v = x[base + d];
              if (v > best[d]) {
                best[d] = v;
                arg[d] = base + d;
              }
            }
          }
        }
        const gBase = ((b * outHeight + yR) * outWidth + yC) * C;
        for (let d = 0; d < C; d++) if (arg[d] >= 0) dx[arg[d]] += g[gBase + d];
      }
    }
  }
  return out;
}

/**
 * [outer, inner] when `axis` is exactly the leading axes 0..k-1 (0 < k < rank), in that order, of a float32 x with
 * outer > 1; else null. In that order: wasm's kernel sums in the order the axes are given, and we keep its bits.
 */
function leadingReduction(x: Info, axis: number | number[]): [number, number] | null {
  if (x.dtype !== 'float32') return null;
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const k = axes.length;
  if (k === 0 || k >= x.shape.length || axes.some((a, i) => a !== i)) return null;
  const outer = tf.util.sizeFromShape(x.shape.slice(0, k));
  const inner = tf.util.sizeFromShape(x.shape.slice(k));
  return outer > 1 && inner > 0 ? [outer, inner] : null;
}

function reducedShape(x: Info, axis: number | number[], keepDims: boolean): number[] {
  const axes = tf.util.parseAxisParam(axis, x.shape);
  return keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
}

function reduceLeadingOr(name: 'Sum' | 'Mean'): tf.KernelFunc {
  return (params) => {
    const backend = params.backend as BackendWasm;
    const x = input(params.inputs, 'x');
    const axis = params.attrs?.axis as number | number[];
    const dims = leadingReduction(x, axis);
    const original = originals.get(name);
    if (!dims) {
      if (!original) throw new Error(`wasm kernel ${name} has no original to fall back to`);
      return original.kernelFunc(params);
    }
    const out = backend.makeOutput(reducedShape(x, axis, Boolean(params.attrs?.keepDims)), 'float32');
    columnSumsInto(backend, x, dims[0], dims[1], out);
    if (name === 'Mean') {
      const v = backend.typedArrayFromHeap(out);
      for (let i = 0; i < v.length; i++) v[i] /= dims[0]; // the float32 sum / the count, rounded once (as wasm's Mean)
    }
    return out;
  };
}

/** A new reference to x's data (tensors are never written in place, so sharing is safe; cpu does the same). */
function shareData(backend: BackendWasm, x: Info): Info {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

function identity({ inputs, backend }: KernelArgs): Info {
  const x = input(inputs, 'x');
  if (x.dtype === 'string') return run(originalOrThrow('Identity'), backend, inputs);
  return shareData(backend, x);
}

function cast({ inputs, backend, attrs }: KernelArgs): Info {
  const x = input(inputs, 'x');
  if (x.dtype === attrs.dtype && x.dtype !== 'string') return shareData(backend, x);
  if (attrs.dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
    const out = backend.makeOutput(x.shape, 'bool');
    const src = backend.typedArrayFromHeap(x); // after makeOutput: heap growth detaches earlier views
    const dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
    return out;
  }
  return run(originalOrThrow('Cast'), backend, inputs, attrs);
}

// Tile with reps > 1 only on leading axes (reps [r0.., 1, .., 1] after the first axis that repeats): the output
// is the input block repeated `copies` times back to back. First copy written, then doubled with copyWithin.
function tile({ inputs, backend, attrs }: KernelArgs): Info {
  const x = input(inputs, 'x');
  const reps = attrs.reps as number[];
  let last = -1; // last axis with reps > 1
  reps.forEach((r, i) => {
    if (r !== 1) last = i;
  });
  // Leading-only: every axis before `last` must have size 1 (else the repeats interleave with the data).
  const leadingOnly = x.dtype !== 'string' && x.dtype !== 'complex64' && last >= 0 && x.shape.slice(0, last).every((d) => d === 1);
  if (!leadingOnly) return run(originalOrThrow('Tile'), backend, inputs, attrs);
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  const block = tf.util.sizeFromShape(x.shape);
  const total = tf.util.sizeFromShape(outShape);
  const src = backend.typedArrayFromHeap(x); // after makeOutput: heap growth detaches earlier views
  const dst = backend.typedArrayFromHeap(out);
  if (block === 0 || total === 0) return out;
  dst.set(src);
  for (let filled = block; filled < total; filled *= 2) dst.copyWithin(filled, 0, Math.min(filled, total - filled));
  return out;
}

// out[o, k, :] = x[o, indices[k], :] for x viewed as [outer, dimSize, slice]: one copy per gathered slice.
function gatherV2({ inputs, backend, attrs }: KernelArgs): Info {
  const x = input(inputs, 'x');
  const indices = input(inputs, 'indices');
  const batchDims = (attrs.batchDims as number | undefined) ?? 0;
  if (batchDims !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') {
    return run(originalOrThrow('GatherV2'), backend, inputs, attrs);
  }
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const dimSize = x.shape[axis];
  const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
  const slice = tf.util.sizeFromShape(x.shape.slice(axis + 1));
  const idx = backend.typedArrayFromHeap(indices);
  for (let k = 0; k < idx.length; k++) {
    // The same check (and message) as upstream: an index outside the axis is an error, never a silent read.
    if (!(idx[k] >= 0 && idx[k] <= dimSize - 1)) throw new Error(`GatherV2: the index value ${idx[k]} is not in [0, ${dimSize - 1}]`);
  }
  const out = backend.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
  if (out.shape.some((d) => d === 0)) return out;
  // Views after makeOutput (heap growth detaches earlier ones).
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const ids = backend.typedArrayFromHeap(indices);
  let o = 0;
  for (let b = 0; b < outer; b++) {
    const base = b * dimSize * slice;
    for (let k = 0; k < ids.length; k++, o += slice) {
      const from = base + ids[k] * slice;
      dst.set(src.subarray(from, from + slice), o);
    }
  }
  return out;
}

function originalOrThrow(name: string): tf.KernelConfig {
  const k = originals.get(name);
  if (!k) throw new Error(`wasm kernel ${name} has no original to fall back to`);
  return k;
}

/**
 * maxPoolGrad for 2x2 windows with stride 2 and no padding (Conv-2's pool): windows do not overlap, so each
 * window writes one element (into a zero-filled output: no accumulation), its four candidates compared in
 * locals. Same rule as the general loop: the first maximum in scan order (strict >, from -Infinity) gets dy;
 * a window with no maximum (all NaN or -Infinity) passes nothing. `+ 0` stores +0 for a -0 gradient, as the
 * general loop's 0 + g and cpu's sum do.
 */
function maxPoolGrad2x2(
  x: Float32Array | Int32Array | Uint8Array,
  g: Float32Array | Int32Array | Uint8Array,
  dx: Float32Array | Int32Array | Uint8Array,
  batch: number,
  inH: number,
  inW: number,
  C: number,
  outH: number,
  outW: number,
): void {
  dx.fill(0); // also the rows/columns no window covers (odd input sizes)
  const row = inW * C;
  let gi = 0; // dy is visited in its own order: [b, yR, yC, d]
  for (let b = 0; b < batch; b++) {
    for (let yR = 0; yR < outH; yR++) {
      let i00 = (b * inH + 2 * yR) * row;
      for (let yC = 0; yC < outW; yC++, i00 += 2 * C) {
        const i01 = i00 + C,
          i10 = i00 + row,
          i11 = i10 + C;
        for (let d = 0; d < C; d++, gi++) {
          let best = x[i00 + d],
            k = i00 + d;
          if (!(best > -Infinity)) {
            best = -Infinity;
            k = -1;
          }
          let v = x[i01 + d];
          if (v > best) {
            best = v;
            k = i01 + d;
          }
          v = x[i10 + d];
          if (v > best) {
            best = v;
            k = i10 + d;
          }
          if (x[i11 + d] > best) k = i11 + d;
          if (k >= 0) dx[k] = g[gi] + 0;
        }
      }
    }
  }
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** Wrap a matmul kernel so XNNPACK always sees untransposed operands: transpose first, then call the original. */
function withoutTransposes(original: tf.KernelConfig): tf.KernelFunc {
  return (params) => {
    const { inputs, attrs } = params;
    const backend = params.backend as BackendWasm;
    const transposeA = Boolean(attrs?.transposeA);
    const transposeB = Boolean(attrs?.transposeB);
    if (!transposeA && !transposeB) return original.kernelFunc(params);
    const a0 = input(inputs, 'a');
    const b0 = input(inputs, 'b');
    const a = transposeA ? transpose(backend, a0, swapLastTwo(a0.shape.length)) : a0;
    const b = transposeB ? transpose(backend, b0, swapLastTwo(b0.shape.length)) : b0;
    try {
      return original.kernelFunc({ inputs: { ...inputs, a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      if (transposeA) dispose(backend, a);
      if (transposeB) dispose(backend, b);
    }
  };
}

function asKernelFunc(f: (args: KernelArgs) => Info): tf.KernelFunc {
  // The registry types backend as `{}`; on 'wasm' it is always a BackendWasm.
  return (params) => f({ inputs: params.inputs, backend: params.backend as BackendWasm, attrs: params.attrs ?? {} });
}

/**
 * Register `kernelFunc` as wasm's `name`, keeping the original for the wrappers. The registered kernel runs the fix
 * while levers.wasmKernelFixes[name] is on, else the original (for a kernel wasm lacks: an error, as tfjs gives).
 */
function replace(name: WasmKernelFix, kernelFunc: tf.KernelFunc): void {
  const original = tf.getKernel(name, 'wasm') as MarkedConfig | undefined;
  if (original?.[FIX_MARK]) return;
  if (original) {
    originals.set(name, original);
    tf.unregisterKernel(name, 'wasm');
  }
  const off: tf.KernelFunc = original
    ? (params) => original.kernelFunc(params)
    : () => {
        throw new Error(`Kernel '${name}' not registered for backend 'wasm' (its density fix is switched off in levers.wasmKernelFixes)`);
      };
  // Keep the original's setup/dispose: wrappers call into its cwrapped C++ function, which setupFunc binds
  // whenever the wasm backend is (re)initialised.
  const config: MarkedConfig = {
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: (params) => (levers.wasmKernelFixes[name] ? kernelFunc(params) : off(params)),
    setupFunc: original?.setupFunc,
    disposeFunc: original?.disposeFunc,
    [FIX_MARK]: true,
  };
  tf.registerKernel(config);
}

/** Register every fix; returns the kernel names registered or replaced. Idempotent. */
export function registerWasmKernelFixes(): string[] {
  if (registered) return [...registered];
  replace('Conv2DBackpropFilter', asKernelFunc(conv2DBackpropFilter));
  replace('Conv2DBackpropInput', asKernelFunc(conv2DBackpropInput));
  replace('MaxPoolGrad', asKernelFunc(maxPoolGrad));
  for (const name of ['BatchMatMul', '_FusedMatMul'] as const) {
    const original = tf.getKernel(name, 'wasm') as MarkedConfig | undefined;
    if (!original) throw new Error(`wasm kernel ${name} is not registered; cannot wrap it`);
    if (!original[FIX_MARK]) replace(name, withoutTransposes(original));
  }
  replace('Sum', reduceLeadingOr('Sum'));
  replace('Mean', reduceLeadingOr('Mean'));
  replace('Identity', asKernelFunc(identity));
  replace('Cast', asKernelFunc(cast));
  replace('Tile', asKernelFunc(tile));
  replace('GatherV2', asKernelFunc(gatherV2));
  registered = [...WASM_KERNEL_FIXES];
  return [...registered];
}
