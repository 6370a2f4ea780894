// The wasm backend's convolutions through oneDNN, a native library, where it is built (scripts/native-conv.js compiles
// lib/fast/native/dnnlConv.c; Debian's libdnnl-dev). XNNPACK's wasm SIMD (128-bit vectors, no fused multiply-add)
// reaches about a quarter of what oneDNN's JIT kernels do on this CPU, and convolutions are most of a Conv-2 or ResNet
// step; everything else stays on wasm. The kernels read and write the wasm heap in place (koffi passes the heap's
// views as pointers), so nothing is copied.
//
// Same science, other rounding: oneDNN sums in another order than XNNPACK, so a run trained with these kernels differs
// from one trained without them in the last bits, then more as training goes on. A record says which convolutions
// made it (Provenance.backend.convolutions); `npm run reproduce` uses the same ones again. oneDNN picks its kernels
// by instruction set, and so its rounding: it is capped at AVX2 (DNNL_MAX_CPU_ISA, unless set already) so that every
// x86-64 machine with AVX2 computes the same bits, and run on one thread (OMP_NUM_THREADS) like the wasm backend.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { levers } from './levers';
import { nativeLibrary } from './nativeLibrary';

/** The kernels taken over where the library loads. */
export const NATIVE_CONV_KERNELS = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;

/** Which convolutions this process computes with, as a record states it: 'oneDNN 2.6.3 jit:avx2' (or 'xnnpack'). */
export type ConvolutionsName = string;
export const XNNPACK_CONVOLUTIONS: ConvolutionsName = 'xnnpack';

const KIND = { forward: 0, inputGradient: 1, filterGradient: 2, forwardBias: 3, forwardBiasRelu: 4, forwardRelu: 5 } as const;
type Kind = (typeof KIND)[keyof typeof KIND];

type ConvFn = (kind: number, shape: Int32Array, a: Float32Array, b: Float32Array, bias: Float32Array | null, out: Float32Array) => number;
interface Library {
  conv: ConvFn;
  impl: (kind: number, shape: Int32Array) => string;
  version: () => number;
  lastError: () => string;
}

let loaded: { ok: true; lib: Library; name: ConvolutionsName } | { ok: false; reason: string } | null = null;

// A shape every oneDNN build can run: used to ask which implementation (instruction set) it picked.
const PROBE_SHAPE = Int32Array.from([1, 8, 8, 8, 3, 3, 8, 1, 1, 1, 1, 1, 1, 8, 8]);

function load(): NonNullable<typeof loaded> {
  const native = nativeLibrary();
  if (native.ok === false) return native;
  try {
    const so = native.so;
    const lib: Library = {
      conv: so.func('int density_dnnl_conv(int kind, const int *shape, const float *a, const float *b, const float *bias, float *out)') as ConvFn,
      impl: so.func('const char *density_dnnl_impl(int kind, const int *shape)') as Library['impl'],
      version: so.func('int density_dnnl_version(void)') as Library['version'],
      lastError: so.func('const char *density_dnnl_last_error(void)') as Library['lastError'],
    };
    const v = lib.version();
    const impl = lib.impl(KIND.forward, PROBE_SHAPE);
    const version = `${Math.floor(v / 10000)}.${Math.floor(v / 100) % 100}.${v % 100}`;
    return { ok: true, lib, name: `oneDNN ${version} ${impl}` };
  } catch (err) {
    return { ok: false, reason: `the native library has no working convolutions: ${(err as Error).message}` };
  }
}

function library(): typeof loaded {
  if (!loaded) loaded = load();
  return loaded;
}

/** The native convolutions' name ('oneDNN 2.6.3 jit:avx2'), or null with the reason they are not available. */
export function nativeConvolutions(): { name: ConvolutionsName } | { name: null; reason: string } {
  const l = library();
  return l?.ok ? { name: l.name } : { name: null, reason: l && l.ok === false ? l.reason : 'not loaded' };
}

/** What the wasm backend's convolutions are right now: the native ones while levers.nativeConv is on, else XNNPACK. */
export function activeConvolutions(): ConvolutionsName {
  const l = library();
  return levers.nativeConv && l?.ok ? l.name : XNNPACK_CONVOLUTIONS;
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

/** The library's shape vector for a conv, or null when the native kernels do not cover it (NCHW, dilation, depthwise). */
function convShape(xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap): { shape: Int32Array; out: number[] } | null {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  const d = attrs.dilations as number | number[] | undefined;
  const dilated = d !== undefined && (typeof d === 'number' ? d !== 1 : d.some((v) => v !== 1));
  if (dataFormat !== 'NHWC' || dilated || xShape.length !== 4 || filterShape.length !== 4 || xShape[3] !== filterShape[2]) return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as Rounding,
    false,
    'channelsLast',
  );
  const { top, left, bottom, right } = info.padInfo;
  const { batchSize, inHeight, inWidth, inChannels, filterHeight, filterWidth, outChannels, strideHeight, strideWidth, outHeight, outWidth } = info;
  // oneDNN derives the output size from the padding; 'same' pads so that they agree, explicit pads may not.
  if (outHeight !== Math.floor((inHeight + top + bottom - filterHeight) / strideHeight) + 1) return null;
  if (outWidth !== Math.floor((inWidth + left + right - filterWidth) / strideWidth) + 1) return null;
  const shape = Int32Array.from([
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    filterHeight,
    filterWidth,
    outChannels,
    strideHeight,
    strideWidth,
    top,
    left,
    bottom,
    right,
    outHeight,
    outWidth,
  ]);
  return { shape, out: [batchSize, outHeight, outWidth, outChannels] };
}

function call(
  lib: Library,
  backend: BackendWasm,
  kind: Kind,
  shape: Int32Array,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  bias: tf.TensorInfo | null,
  outShape: number[],
): tf.TensorInfo {
  const out = backend.makeOutput(outShape, 'float32');
  // Views after the output is allocated: allocating can grow the heap, which detaches older views.
  const heap = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const status = lib.conv(kind, shape, heap(a), heap(b), bias ? heap(bias) : null, heap(out));
  if (status !== 0) {
    backend.disposeData(out.dataId);
    throw new Error(`native convolution failed: ${lib.lastError()}`);
  }
  return out;
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}
type Native = (lib: Library, args: KernelArgs) => tf.TensorInfo | null;

function isFloat32(...infos: (tf.TensorInfo | undefined)[]): boolean {
  return infos.every((t) => t === undefined || t.dtype === 'float32');
}

const conv2D: Native = (lib, { inputs, backend, attrs }) => {
  const { x, filter } = inputs;
  if (!x || !filter || !isFloat32(x, filter)) return null;
  const s = convShape(x.shape, filter.shape, attrs);
  return s && call(lib, backend, KIND.forward, s.shape, x, filter, null, s.out);
};

// FusedConv2D with a per-channel bias or none, and no activation or ReLU; anything else goes to the wasm kernel.
const fusedConv2D: Native = (lib, { inputs, backend, attrs }) => {
  const { x, filter, bias, preluActivationWeights } = inputs;
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (!x || !filter || preluActivationWeights || !isFloat32(x, filter, bias)) return null;
  if (activation !== 'linear' && activation !== 'relu') return null;
  const s = convShape(x.shape, filter.shape, attrs);
  if (!s) return null;
  if (bias && tf.util.sizeFromShape(bias.shape) !== s.out[3]) return null;
  const relu = activation === 'relu';
  const kind = bias ? (relu ? KIND.forwardBiasRelu : KIND.forwardBias) : relu ? KIND.forwardRelu : KIND.forward;
  return call(lib, backend, kind, s.shape, x, filter, bias ?? null, s.out);
};

const conv2DBackpropInput: Native = (lib, { inputs, backend, attrs }) => {
  const { dy, filter } = inputs;
  if (!dy || !filter || !isFloat32(dy, filter)) return null;
  const inputShape = attrs.inputShape as number[];
  const s = convShape(inputShape, filter.shape, attrs);
  if (!s || !tf.util.arraysEqual(s.out, dy.shape)) return null;
  return call(lib, backend, KIND.inputGradient, s.shape, dy, filter, null, inputShape);
};

const conv2DBackpropFilter: Native = (lib, { inputs, backend, attrs }) => {
  const { x, dy } = inputs;
  if (!x || !dy || !isFloat32(x, dy)) return null;
  const filterShape = attrs.filterShape as number[];
  // oneDNN 2.6's filter gradient for a single output channel takes a slow path (~50-200 ms for a 3x3 conv on 128
  // CIFAR images, against ~1 ms with two channels): that case (ResNet 0.1x) takes wasm's kernel (lib/fast/wasmKernelFixes.ts:
  // one forward conv, itself native).
  if (filterShape[3] === 1) return null;
  const s = convShape(x.shape, filterShape, attrs);
  if (!s || !tf.util.arraysEqual(s.out, dy.shape)) return null;
  return call(lib, backend, KIND.filterGradient, s.shape, x, dy, null, filterShape);
};

const NATIVE: Record<(typeof NATIVE_CONV_KERNELS)[number], Native> = {
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
};

/** How many calls of each kernel the native library computed in this process (the rest went to wasm's kernels). */
export const nativeConvCalls: Record<(typeof NATIVE_CONV_KERNELS)[number], number> = {
  Conv2D: 0,
  FusedConv2D: 0,
  Conv2DBackpropInput: 0,
  Conv2DBackpropFilter: 0,
};

const NATIVE_MARK = Symbol.for('density.nativeConv');
type MarkedConfig = tf.KernelConfig & { [NATIVE_MARK]?: true };

/**
 * Put the native convolutions in front of wasm's (after lib/fast/wasmKernelFixes.ts, whose kernels stay the
 * fallback: levers.nativeConv off, or a case the native kernels do not cover). Returns the convolutions' name, or
 * null with nothing registered when the library is not available. Idempotent.
 */
export function registerNativeConvKernels(): ConvolutionsName | null {
  const l = library();
  if (!l?.ok) return null;
  const lib = l.lib;
  for (const name of NATIVE_CONV_KERNELS) {
    const fallback = tf.getKernel(name, 'wasm') as MarkedConfig | undefined;
    if (!fallback) throw new Error(`wasm kernel ${name} is not registered; register the wasm fixes first`);
    if (fallback[NATIVE_MARK]) continue;
    tf.unregisterKernel(name, 'wasm');
    const native = NATIVE[name];
    // The spread keeps the fallback's setup/dispose (they bind its C++ function) and its marks, so the wasm fixes,
    // registered again by a second copy of their module, see their own kernel and do not wrap this one.
    const config: MarkedConfig = {
      ...fallback,
      kernelFunc: (params) => {
        const args = { inputs: params.inputs, backend: params.backend as BackendWasm, attrs: params.attrs ?? {} };
        const out = levers.nativeConv ? native(lib, args) : null;
        if (out) nativeConvCalls[name]++;
        return out ?? fallback.kernelFunc(params);
      },
      [NATIVE_MARK]: true,
    };
    tf.registerKernel(config);
  }
  return l.name;
}
