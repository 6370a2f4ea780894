// Gradients that tfjs-core writes with ops that are slow on wasm, re-registered with the same mathematics in
// fewer, wasm-friendly ops. The registry is global, so each replacement checks the active backend and runs the
// upstream gradient unchanged on every other backend (cpu and tensorflow results stay exactly as before).
// Checked against the upstream gradients on the cpu backend in test/fast/wasmKernelFixes.test.ts.
//
//  - FusedBatchNorm: upstream broadcasts 1/sqrt(var + eps) to the whole activation with Tile (slow on wasm)
//    and spends ~12 activation-sized ops per BatchNorm. Here, for
//    per-channel statistics (what tf.layers.batchNormalization passes): 3 activation-sized ops (x - mean, its
//    product with dy, dy times the per-channel factor) and two reductions over the leading axes.
//  - Mean over leading axes: upstream multiplies dy by a ones tensor of the input's shape, then divides;
//    here dy / n is broadcast once (Tile over leading axes, fast on wasm with the kernel fix).
import * as tf from '@tensorflow/tfjs';
import { levers, WASM_GRADIENT_FIXES, type WasmGradientFix } from './levers';

export { WASM_GRADIENT_FIXES, type WasmGradientFix };

/** The upstream gradient configs, kept to fall back to (off the wasm backend, or with the fix's lever off). */
const upstream = new Map<string, tf.GradConfig>();
const ours = new Map<string, tf.GradConfig>();

/** Set on our configs, holding the upstream one: a second copy of this module (cleared require cache) reuses them. */
const UPSTREAM = Symbol.for('density.wasmGradientFix.upstream');
type MarkedGrad = tf.GradConfig & { [UPSTREAM]?: tf.GradConfig };

/** Whether fix `name` applies now: on the wasm backend, with its lever on. */
function applies(name: WasmGradientFix): boolean {
  return tf.getBackend() === 'wasm' && levers.wasmGradientFixes[name];
}

function leadingAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i);
}

function fusedBatchNormGrad(up: tf.GradConfig): tf.GradConfig['gradFunc'] {
  return (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as (tf.Tensor | undefined)[];
    const grad = Array.isArray(dy) ? dy[0] : dy;
    if (!x || !mean || !variance) return up.gradFunc(dy, saved, attrs);
    const c = x.shape[x.rank - 1];
    const perChannel = (t: tf.Tensor | undefined | null) => t == null || (t.rank === 1 && t.shape[0] === c);
    // Other layouts (statistics broadcast from a higher rank) keep the upstream gradient.
    if (!applies('FusedBatchNorm') || x.rank < 2 || !perChannel(mean) || !perChannel(variance) || !perChannel(scale)) return up.gradFunc(dy, saved, attrs);
    const axes = leadingAxes(x.rank);
    const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
    // Computed here, not in the thunks: training needs every input's gradient, and the backward pass's tidy
    // frees these (as upstream's own shared intermediates).
    const r = tf.rsqrt(tf.add(variance, tf.scalar(eps))); // 1/sqrt(var + eps), per channel
    const g = scale ? tf.mul(r, scale) : r; // d out / d x with the statistics held fixed
    const sumDy = tf.sum(grad, axes);
    const sumDyXc = tf.sum(tf.mul(grad, tf.sub(x, mean)), axes);
    return {
      x: () => tf.mul(grad, g),
      mean: () => tf.neg(tf.mul(g, sumDy)),
      // d/dvar of (x - mean) * scale * (var + eps)^-1/2 = -1/2 * scale * r^3 * (x - mean)
      variance: () => tf.mul(tf.mul(tf.mul(tf.mul(r, r), g), tf.scalar(-0.5)), sumDyXc),
      scale: () => tf.mul(r, sumDyXc),
      offset: () => tf.reshape(sumDy, [c]), // a new tensor object: the tape may dispose what a thunk returns
    };
  };
}

function meanGrad(up: tf.GradConfig): tf.GradConfig['gradFunc'] {
  return (dy, saved, attrs) => {
    const [x] = saved;
    const grad = Array.isArray(dy) ? dy[0] : dy;
    const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.rank && axes.every((a, i) => a === i);
    if (!applies('Mean') || !leading) return up.gradFunc(dy, saved, attrs);
    const n = tf.util.sizeFromShape(axes.map((a) => x.shape[a]));
    const kept = x.shape.map((d, i) => (i < axes.length ? 1 : d));
    return { x: () => tf.broadcastTo(tf.div(tf.reshape(grad, kept), tf.scalar(n)), x.shape) };
  };
}

const builders: Record<WasmGradientFix, (up: tf.GradConfig) => tf.GradConfig['gradFunc']> = {
  FusedBatchNorm: fusedBatchNormGrad,
  Mean: meanGrad,
};

/** Register the gradient fixes (idempotent); returns their kernel names. */
export function registerWasmGradientFixes(): string[] {
  for (const name of WASM_GRADIENT_FIXES) {
    if (ours.has(name)) continue;
    const current = tf.getGradient(name) as MarkedGrad | undefined;
    if (!current) throw new Error(`tfjs has no gradient registered for ${name}; cannot replace it`);
    const up = current[UPSTREAM] ?? current;
    const mine: MarkedGrad = current[UPSTREAM] ? current : { ...up, gradFunc: builders[name](up), [UPSTREAM]: up };
    upstream.set(name, up);
    ours.set(name, mine);
    tf.registerGradient(mine);
  }
  return [...WASM_GRADIENT_FIXES];
}

/** The upstream gradient a fix replaced (tests compare against it). */
export function upstreamGradient(name: WasmGradientFix): tf.GradConfig | undefined {
  return upstream.get(name);
}
