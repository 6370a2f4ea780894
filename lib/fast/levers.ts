// The speed machinery's switches, in one object. Every lever is on by default and every setting computes the same
// numbers bit for bit (the tests say so for each), except `trajectoryFusedLayers` off, which adds the bias after
// the product instead of inside it and so rounds differently, and `nativeConv` and `nativeBatchNorm`, whose native
// kernels round differently from the wasm backend's (within float tolerance; records say which made them). The project's code never changes them (but reproducing a record sets `nativeConv` and `nativeBatchNorm` to what the record used): they exist so
// bench/ab.ts can measure each lever side by side in one process, and so tests can compare both sides.
// Read at call time: a change applies to the next kernel call, training step or trajectory level. (Whether the fast
// paths run at all is per call: TrainConfig.trainer and TrajectoryOptions.fastPath.)
import * as tf from '@tensorflow/tfjs';

/** The wasm kernels replaced or added (lib/fast/wasmKernelFixes.ts). */
export const WASM_KERNEL_FIXES = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  '_FusedMatMul',
  'Sum',
  'Mean',
  'Identity',
  'Cast',
  'Tile',
  'GatherV2',
] as const;
export type WasmKernelFix = (typeof WASM_KERNEL_FIXES)[number];

/** The gradients rewritten for wasm (lib/fast/wasmGradientFixes.ts). */
export const WASM_GRADIENT_FIXES = ['FusedBatchNorm', 'Mean'] as const;
export type WasmGradientFix = (typeof WASM_GRADIENT_FIXES)[number];

export interface FastLevers {
  /**
   * Each wasm kernel fix (off: the original wasm kernel; for a kernel wasm lacks, such as Conv2DBackpropFilter,
   * calling it throws as tfjs would). Wrappers that call a kernel by name see the switch too.
   */
  wasmKernelFixes: Record<WasmKernelFix, boolean>;
  /** Each wasm gradient rewrite (off: the upstream gradient). */
  wasmGradientFixes: Record<WasmGradientFix, boolean>;
  /** MaxPoolGrad fix: the dedicated loop for 2x2 windows of stride 2 (off: the general loop). */
  maxPoolGrad2x2: boolean;
  /**
   * How the dense SGD step's first layer treats zero inputs (lib/fast/denseSgdStep.ts): 'auto' (sparse where
   * possible, else columns on wasm, else dense), or one of 'sparse', 'columns', 'dense'.
   */
  denseSgdFirstLayer: 'auto' | 'sparse' | 'columns' | 'dense';
  /** Fast trajectory: the first-layer update as a wasm kernel on the wasm backend (off: the JS reference). */
  trajectoryWasmUpdate: boolean;
  /** Fast trajectory: the one full first-layer product skipping the inputs' zeros on wasm (off: tf.matMul). */
  trajectorySparseFirstProduct: boolean;
  /** Fast trajectory: later layers as tf.fused.matMul with bias and ReLU (off: matMul, add, relu; rounds differently). */
  trajectoryFusedLayers: boolean;
  /**
   * Fast trajectory, on wasm: the second layer as a sparse product (its pruned kernel, transposed, in CSR form, times
   * the transposed activations, accumulated from the bias: XNNPACK's bits) at the levels where less than this fraction
   * of its weights is left; 0 = never.
   */
  trajectorySparseSecondBelow: number;
  /**
   * The wasm backend's convolutions through oneDNN where its library is built (lib/fast/nativeConv.ts); off: XNNPACK's.
   * Changes the numbers (another summation order): records name the convolutions that made them.
   */
  nativeConv: boolean;
  /**
   * The wasm backend's batch normalization (a training layer's forward and gradient, and FusedBatchNorm) in native
   * code where the library is built (lib/fast/nativeBatchNorm.ts); off: tfjs's ops. Changes the numbers like
   * nativeConv: records name the batch normalization that made them.
   */
  nativeBatchNorm: boolean;
}

function defaults(): FastLevers {
  return {
    wasmKernelFixes: Object.fromEntries(WASM_KERNEL_FIXES.map((n) => [n, true])) as Record<WasmKernelFix, boolean>,
    wasmGradientFixes: Object.fromEntries(WASM_GRADIENT_FIXES.map((n) => [n, true])) as Record<WasmGradientFix, boolean>,
    maxPoolGrad2x2: true,
    denseSgdFirstLayer: 'auto',
    trajectoryWasmUpdate: true,
    trajectorySparseFirstProduct: true,
    trajectoryFusedLayers: true,
    trajectorySparseSecondBelow: 0.45,
    nativeConv: true,
    nativeBatchNorm: true,
  };
}

/** The levers in force (process-wide). Change fields to switch; resetLevers() puts every lever back on. */
export const levers: FastLevers = defaults();

/** Every lever back to its default (on). */
export function resetLevers(): void {
  Object.assign(levers, defaults());
}

/**
 * Whether the dense fast paths (the dense SGD step, the dense-stack trajectory) may run on the active backend. They
 * keep float64 pre-activations and scattered updates in JS memory, which on a GPU backend means a round trip per
 * step or level; the plain layer paths are what runs on webgpu.
 */
export function denseFastPathsAllowed(): boolean {
  return tf.getBackend() !== 'webgpu';
}
