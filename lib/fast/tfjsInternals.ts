// The one statement of what the speed machinery assumes about tfjs. The kernels of lib/fast are written against
// the internals of @tensorflow/tfjs-backend-wasm 4.22.0, the ops of @tensorflow/tfjs-core 4.22.0 and one layer of
// @tensorflow/tfjs-layers 4.22.0, none of which is public API:
//  - wasmSimd.ts reads the backend's emscripten memory (`backend.wasm.asm.memory`) and each tensor's heap offset
//    (`backend.dataIdMap.get(dataId).memoryOffset`), and instantiates its own module on that memory;
//  - wasmKernelFixes.ts replaces registered kernels and calls the originals' kernelFuncs (and their setupFunc-bound
//    C++ functions), relying on their attribute names, their FLT_MIN MaxPoolGrad bug and XNNPACK's summation order;
//  - wasmGradientFixes.ts replaces tfjs-core's gradients of FusedBatchNorm and Mean, relying on what they save;
//  - nativeBatchNorm.ts wraps BatchNormalization's `call` (its fields gamma, beta, movingMean, movingVariance, axis,
//    momentum, epsilon, center, scale) and redoes its moving-average update; it passes heap views as nativeConv.ts does;
//  - denseSgdStep.ts reproduces, op by op, what tf.variableGrads and the SGD optimizer do for Dense layers.
// Bit-identical results are tested against the plain paths (test/fast, test/prune/trajectory.test.ts), but an
// upgrade could change an internal that no test exercises. So test/fast/tfjsInternals.test.ts fails when the
// installed versions differ from these: upgrade tfjs, re-run every test of test/fast, then change them here.

import { packageVersion } from '../packages';

/** The tfjs packages whose internals lib/fast relies on, at the versions it was written and tested against. */
export const TFJS_INTERNALS_VERSIONS: Readonly<Record<string, string>> = {
  '@tensorflow/tfjs-core': '4.22.0',
  '@tensorflow/tfjs-backend-wasm': '4.22.0',
  '@tensorflow/tfjs-layers': '4.22.0',
};

/** Each package whose installed version is not the one lib/fast was written against, with both versions. */
export function tfjsVersionMismatches(): string[] {
  return Object.entries(TFJS_INTERNALS_VERSIONS)
    .filter(([pkg, want]) => packageVersion(pkg) !== want)
    .map(([pkg, want]) => `${pkg} is ${packageVersion(pkg)}, lib/fast was written against ${want}`);
}
