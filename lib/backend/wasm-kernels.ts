// Kernels the tfjs 4.22 wasm backend lacks or gets wrong on this machine, registered from kernels it has.
// Each fix is checked against the cpu backend in test/backend/wasm-kernels.test.ts.
//
//  - Conv2DBackpropFilter: not registered on wasm at all, so training any conv net (Conv2D or FusedConv2D,
//    whose custom gradient calls the same kernel) throws. Built here as one XNNPACK Conv2D.
//  - Conv2DBackpropInput: wasm has one, but it is a naive scalar loop. Replaced by a forward Conv2D on the
//    stride-dilated dy with the flipped, transposed filter.
//  - MaxPoolGrad: wasm's C++ kernel starts its running max at FLT_MIN (smallest positive float), so a window
//    whose values are all <= 0 sends its gradient to the wrong element (element 0 in the test case) instead
//    of its maximum. Replaced by a JS loop over the wasm heap with the cpu backend's semantics (first
//    maximum in scan order wins ties). (wasm's MaxPoolWithArgmax has the same FLT_MIN start; not used here.)
//  - BatchMatMul / _FusedMatMul: XNNPACK is only used with no transposes, so every backprop matmul
//    (transposeA or transposeB) falls to a scalar loop ~14x slower. Wrapped to transpose explicitly first.
//
// Threads: WASM_HAS_MULTITHREAD_SUPPORT must never be forced on. The threaded binary needs worker support
// that fails in Node here; the backend runs single-threaded SIMD, and nothing in this file changes that.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

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

export const WASM_KERNEL_FIXES = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'BatchMatMul', '_FusedMatMul'] as const;

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
  const conv = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
    attrs.strides as number | [number, number], 1, attrs.pad as Pad, attrs.dimRoundingMode as Rounding, false, 'channelsLast');
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
  const full = run(wasmKernel('Conv2D'), backend, { x: xT, filter: dyT }, {
    strides: [1, 1], dilations: [sH, sW], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC',
  });
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
  const conv = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
    attrs.strides as number | [number, number], 1, attrs.pad as Pad, attrs.dimRoundingMode as Rounding, false, 'channelsLast');
  const [batch, inH, inW, inC] = inputShape;
  const [kH, kW] = filter.shape;
  const [, outH, outW, outC] = dy.shape;
  const { strideHeight: sH, strideWidth: sW } = conv;
  const { top, left } = conv.padInfo;

  // Dilate: [b,oh,ow,co] -> [b,oh,1,ow,1,co] padded to [b,oh,sH,ow,sW,co] -> [b,oh*sH,ow*sW,co].
  let dyD: Info = dy;
  if (sH > 1 || sW > 1) {
    const padded = run(wasmKernel('PadV2'), backend, { x: view(dy, [batch, outH, 1, outW, 1, outC]) },
      { paddings: [[0, 0], [0, 0], [0, sH - 1], [0, 0], [0, sW - 1], [0, 0]], constantValue: 0 });
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
  const full = run(wasmKernel('Conv2D'), backend, { x: dyD, filter: w }, {
    strides: [1, 1], dilations: [1, 1], pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]], dataFormat: 'NHWC',
  });
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
  const info = tf.backend_util.computePool2DInfo(x0.shape as [number, number, number, number],
    attrs.filterSize as number | [number, number], attrs.strides as number | [number, number], 1,
    attrs.pad as Pad, attrs.dimRoundingMode as Rounding);
  const { batchSize, inHeight, inWidth, inChannels: C, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fH, effectiveFilterWidth: fW } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput(x0.shape, 'float32');
  // Heap views only after the allocation above: growing the wasm heap detaches earlier views.
  const x = backend.typedArrayFromHeap(x0);
  const g = backend.typedArrayFromHeap(dy);
  const dx = backend.typedArrayFromHeap(out);
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

function replace(name: string, kernelFunc: tf.KernelFunc): void {
  const original = tf.getKernel(name, 'wasm') as MarkedConfig | undefined;
  if (original?.[FIX_MARK]) return;
  if (original) {
    originals.set(name, original);
    tf.unregisterKernel(name, 'wasm');
  }
  // Keep the original's setup/dispose: wrappers call into its cwrapped C++ function, which setupFunc binds
  // whenever the wasm backend is (re)initialised.
  const config: MarkedConfig = { kernelName: name, backendName: 'wasm', kernelFunc, setupFunc: original?.setupFunc, disposeFunc: original?.disposeFunc, [FIX_MARK]: true };
  tf.registerKernel(config);
}

/** Register every fix; returns the kernel names registered or replaced. Idempotent. */
export function registerWasmKernelFixes(): string[] {
  if (registered) return [...registered];
  replace('Conv2DBackpropFilter', asKernelFunc(conv2DBackpropFilter));
  replace('Conv2DBackpropInput', asKernelFunc(conv2DBackpropInput));
  replace('MaxPoolGrad', asKernelFunc(maxPoolGrad));
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const original = tf.getKernel(name, 'wasm') as MarkedConfig | undefined;
    if (!original) throw new Error(`wasm kernel ${name} is not registered; cannot wrap it`);
    if (!original[FIX_MARK]) replace(name, withoutTransposes(original));
  }
  registered = [...WASM_KERNEL_FIXES];
  return [...registered];
}
