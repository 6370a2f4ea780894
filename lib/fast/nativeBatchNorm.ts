// The wasm backend's batch normalization in native code (lib/fast/native/batchNorm.c), where the native library is
// built. In training, tf.layers.batchNormalization computes tf.moments and tf.batchNorm, and their gradients, with
// ~15 activation-sized wasm ops per layer and step: about half of a ResNet step. Here a training BatchNorm layer is
// one kernel forward (statistics and output) and one backward (the exact gradient through the statistics), and
// inference BatchNorm (FusedBatchNorm) one pass.
//
// How: the BatchNormalization layer's `call` is wrapped so that, in training on the wasm backend with this lever on,
// it calls the kernel DensityBatchNormTraining (registered here for wasm, with its gradient) and updates the moving
// statistics exactly as tfjs-layers does; anything else (inference, other backends, other layer settings) runs the
// layer's own code. FusedBatchNorm's wasm kernel is taken over for per-channel statistics (what the layer passes).
//
// Same science, other rounding: statistics summed in double, per-element arithmetic in another order than tfjs's ops.
// A record says which batch normalization made it (Provenance.backend.batchNorm); `npm run reproduce` switches to it.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { levers } from './levers';
import { nativeLibrary } from './nativeLibrary';

/** Which batch normalization a record was computed with: 'native' (this module) or 'tfjs' (tfjs's ops and kernels). */
export type BatchNormName = 'native' | 'tfjs';
export const TFJS_BATCH_NORM: BatchNormName = 'tfjs';
export const NATIVE_BATCH_NORM: BatchNormName = 'native';

/** The kernels registered for wasm (training forward and its gradient); FusedBatchNorm is taken over for inference. */
export const TRAINING_KERNEL = 'DensityBatchNormTraining';
export const TRAINING_GRAD_KERNEL = 'DensityBatchNormTrainingGrad';

type F32 = Float32Array;
interface Library {
  forward: (rows: number, channels: number, x: F32, scale: F32 | null, offset: F32 | null, eps: number, y: F32, mean: F32, variance: F32) => number;
  backward: (
    rows: number,
    channels: number,
    x: F32,
    dy: F32,
    mean: F32,
    variance: F32,
    scale: F32 | null,
    eps: number,
    dx: F32,
    dscale: F32,
    doffset: F32,
  ) => number;
  inference: (rows: number, channels: number, x: F32, mean: F32, variance: F32, scale: F32 | null, offset: F32 | null, eps: number, y: F32) => number;
}

let loaded: { ok: true; lib: Library } | { ok: false; reason: string } | null = null;

function library(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const native = nativeLibrary();
  if (native.ok === false) return (loaded = native);
  try {
    const so = native.so;
    loaded = {
      ok: true,
      lib: {
        forward: so.func(
          'int density_bn_forward(int rows, int channels, const float *x, const float *scale, const float *offset, float epsilon, float *y, float *mean, float *variance)',
        ) as Library['forward'],
        backward: so.func(
          'int density_bn_backward(int rows, int channels, const float *x, const float *dy, const float *mean, const float *variance, const float *scale, float epsilon, float *dx, float *dscale, float *doffset)',
        ) as Library['backward'],
        inference: so.func(
          'int density_bn_inference(int rows, int channels, const float *x, const float *mean, const float *variance, const float *scale, const float *offset, float epsilon, float *y)',
        ) as Library['inference'],
      },
    };
  } catch (err) {
    loaded = { ok: false, reason: `the native library has no batch normalization: ${(err as Error).message}` };
  }
  return loaded;
}

/** 'native' where the library is built, or null with the reason it is not. */
export function nativeBatchNorm(): { name: BatchNormName } | { name: null; reason: string } {
  const l = library();
  return l.ok ? { name: NATIVE_BATCH_NORM } : { name: null, reason: (l as { reason: string }).reason };
}

/** What the wasm backend's batch normalization is right now: 'native' while levers.nativeBatchNorm is on and built. */
export function activeBatchNorm(): BatchNormName {
  return levers.nativeBatchNorm && library().ok && registered ? NATIVE_BATCH_NORM : TFJS_BATCH_NORM;
}

/** How many calls of each native path ran in this process (tests check that the native code really ran). */
export const nativeBatchNormCalls = { training: 0, gradient: 0, inference: 0 };

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: tf.NamedAttrMap;
}

function heapOf(backend: BackendWasm): (t: tf.TensorInfo | undefined) => F32 | null {
  return (t) => (t ? (backend.typedArrayFromHeap(t) as F32) : null);
}

/** Whether `t` holds one float per channel (shape [c], or [1, ..., 1, c]). */
function perChannel(t: tf.TensorInfo | undefined, c: number): boolean {
  return t === undefined || (t.dtype === 'float32' && t.shape[t.shape.length - 1] === c && tf.util.sizeFromShape(t.shape) === c);
}

function check(status: number, what: string, backend: BackendWasm, outputs: tf.TensorInfo[]): void {
  if (status === 0) return;
  for (const o of outputs) backend.disposeData(o.dataId);
  throw new Error(`native batch normalization (${what}) failed: out of memory`);
}

function need(kernel: string, inputs: tf.NamedTensorInfoMap, name: string): tf.TensorInfo {
  const t = inputs[name];
  if (!t) throw new Error(`${kernel}: input '${name}' is missing`);
  return t;
}

function eps(attrs: tf.NamedAttrMap): number {
  const e = attrs.varianceEpsilon;
  if (typeof e !== 'number') throw new Error(`${TRAINING_KERNEL}: attribute varianceEpsilon must be a number, got ${String(e)}`);
  return e;
}

// Training forward: inputs x [..., c], scale [c], offset [c]; outputs y, mean [c], variance [c] (biased).
function trainingKernel(lib: Library, { inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const { scale, offset } = inputs;
  const x = need(TRAINING_KERNEL, inputs, 'x');
  const c = x.shape[x.shape.length - 1];
  if (x.dtype !== 'float32' || !perChannel(scale, c) || !perChannel(offset, c)) {
    throw new Error(`${TRAINING_KERNEL}: expected float32 x [..., c] with per-channel scale and offset, got x ${x.dtype} [${x.shape}]`);
  }
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const outs = [backend.makeOutput(x.shape, 'float32'), backend.makeOutput([c], 'float32'), backend.makeOutput([c], 'float32')];
  const h = heapOf(backend); // views after every allocation: growing the heap detaches older views
  check(lib.forward(rows, c, h(x)!, h(scale), h(offset), eps(attrs), h(outs[0])!, h(outs[1])!, h(outs[2])!), 'forward', backend, outs);
  nativeBatchNormCalls.training++;
  return outs;
}

// Its gradient: inputs dy, x, mean, variance, scale; outputs dx, dscale, doffset.
function trainingGradKernel(lib: Library, { inputs, backend, attrs }: KernelArgs): tf.TensorInfo[] {
  const [dy, x, mean, variance] = ['dy', 'x', 'mean', 'variance'].map((n) => need(TRAINING_GRAD_KERNEL, inputs, n));
  const { scale } = inputs;
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const outs = [backend.makeOutput(x.shape, 'float32'), backend.makeOutput([c], 'float32'), backend.makeOutput([c], 'float32')];
  const h = heapOf(backend);
  check(lib.backward(rows, c, h(x)!, h(dy)!, h(mean)!, h(variance)!, h(scale), eps(attrs), h(outs[0])!, h(outs[1])!, h(outs[2])!), 'gradient', backend, outs);
  nativeBatchNormCalls.gradient++;
  return outs;
}

// FusedBatchNorm with per-channel statistics, or null for wasm's kernel (other shapes, dtypes, lever off).
function inferenceKernel(lib: Library, { inputs, backend, attrs }: KernelArgs): tf.TensorInfo | null {
  const { x, mean, variance, scale, offset } = inputs;
  if (!x || !mean || !variance || x.dtype !== 'float32' || x.shape.length < 1) return null;
  const c = x.shape[x.shape.length - 1];
  if (![mean, variance, scale, offset].every((t) => perChannel(t, c))) return null;
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const out = backend.makeOutput(x.shape, 'float32');
  const h = heapOf(backend);
  check(lib.inference(rows, c, h(x)!, h(mean)!, h(variance)!, h(scale), h(offset), eps(attrs), h(out)!), 'inference', backend, [out]);
  nativeBatchNormCalls.inference++;
  return out;
}

/**
 * Training-mode batch normalization over the leading axes of `x` [..., c]: [y, mean, variance] (variance biased, as
 * tf.moments). Differentiable in x, scale and offset; the statistics it returns carry no gradient (the layer only
 * feeds them to its moving averages). wasm backend with the library built only.
 */
export function batchNormTraining(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, varianceEpsilon: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(TRAINING_KERNEL, { x, scale, offset }, { varianceEpsilon }) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/** The fields of tfjs-layers' BatchNormalization that the wrapped `call` reads (its own, not part of the public type). */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}
type Kwargs = { training?: boolean } & Record<string, unknown>;
type Call = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => tf.Tensor | tf.Tensor[];

function layerApplies(layer: BatchNormLayer, input: tf.Tensor): boolean {
  const axis = layer.axis >= 0 ? layer.axis : layer.axis + input.rank;
  return layer.center && layer.scale && axis === input.rank - 1 && input.rank >= 2 && input.dtype === 'float32';
}

// The layer's training step with the native kernel; the moving averages as tfjs-layers updates them.
function nativeTrainingCall(layer: BatchNormLayer, input: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [y, mean, variance] = batchNormTraining(input, layer.gamma.read(), layer.beta.read(), layer.epsilon);
    const decay = 1 - layer.momentum;
    for (const [variable, value] of [
      [layer.movingMean, mean],
      [layer.movingVariance, variance],
    ] as const) {
      tf.tidy(() => {
        const orig = variable.read();
        variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
      });
    }
    return y;
  });
}

const WRAPPED = Symbol.for('density.nativeBatchNorm.upstreamCall');
const NATIVE_MARK = Symbol.for('density.nativeBatchNorm');
type MarkedConfig = tf.KernelConfig & { [NATIVE_MARK]?: true };
let registered = false;

/**
 * Register the native batch normalization for the wasm backend (after lib/fast's wasm fixes): the training kernel
 * and its gradient, FusedBatchNorm in front of wasm's, and the layer's training path. Returns false, with nothing
 * registered, when the library is not available. Idempotent.
 */
export function registerNativeBatchNorm(): boolean {
  const l = library();
  if (l.ok === false) return false;
  const lib = l.lib;
  const wrap = (f: (lib: Library, a: KernelArgs) => tf.TensorInfo[]) => (p: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }) =>
    f(lib, { inputs: p.inputs, backend: p.backend as BackendWasm, attrs: p.attrs ?? {} });
  if (!tf.getKernel(TRAINING_KERNEL, 'wasm')) {
    tf.registerKernel({ kernelName: TRAINING_KERNEL, backendName: 'wasm', kernelFunc: wrap(trainingKernel) });
    tf.registerKernel({ kernelName: TRAINING_GRAD_KERNEL, backendName: 'wasm', kernelFunc: wrap(trainingGradKernel) });
  }
  if (!tf.getGradient(TRAINING_KERNEL)) {
    tf.registerGradient({
      kernelName: TRAINING_KERNEL,
      inputsToSave: ['x', 'scale'],
      outputsToSave: [false, true, true],
      gradFunc: (dys, saved, attrs) => {
        const [x, scale, mean, variance] = saved;
        const dy = Array.isArray(dys) ? dys[0] : dys; // the statistics' gradients are zeros (see batchNormTraining)
        const [dx, dscale, doffset] = tf.engine().runKernel(TRAINING_GRAD_KERNEL, { dy, x, mean, variance, scale }, attrs) as unknown as tf.Tensor[];
        return { x: () => dx, scale: () => dscale, offset: () => doffset };
      },
    });
  }
  const fallback = tf.getKernel('FusedBatchNorm', 'wasm') as MarkedConfig | undefined;
  if (!fallback) throw new Error('wasm kernel FusedBatchNorm is not registered');
  if (!fallback[NATIVE_MARK]) {
    tf.unregisterKernel('FusedBatchNorm', 'wasm');
    const config: MarkedConfig = {
      ...fallback, // keeps wasm's setup (it binds the C++ function the fallback calls)
      kernelFunc: (params) => {
        const args = { inputs: params.inputs, backend: params.backend as BackendWasm, attrs: params.attrs ?? {} };
        return (levers.nativeBatchNorm ? inferenceKernel(lib, args) : null) ?? fallback.kernelFunc(params);
      },
      [NATIVE_MARK]: true,
    };
    tf.registerKernel(config);
  }
  const proto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: Call; [WRAPPED]?: Call };
  if (!proto[WRAPPED]) {
    const upstream = proto.call;
    proto[WRAPPED] = upstream;
    proto.call = function (inputs, kwargs) {
      const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : null) : inputs;
      if (kwargs?.training && input && levers.nativeBatchNorm && tf.getBackend() === 'wasm' && layerApplies(this, input)) {
        return nativeTrainingCall(this, input);
      }
      return upstream.call(this, inputs, kwargs);
    };
  }
  registered = true;
  return true;
}
