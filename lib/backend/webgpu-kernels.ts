// Kernels tfjs-backend-webgpu 4.22 gets wrong for this project, replaced on 'webgpu'. Each fix is checked
// against the cpu backend in test/backend/webgpu.test.ts (which also checks the kernels that needed no fix).
//
//  - MaxPoolGrad: upstream finds each window's maximum with `value >= max`, so among tied values the LAST one
//    in scan order gets the gradient; cpu (and wasm, with its fix) give it to the FIRST, and tfjs's own
//    definition is cpu's. In Conv-2 ties mostly come from flat image regions, where the tied positions see
//    identical inputs and send the weights the same gradient either way (the model-level test passes with the
//    upstream kernel too); ties between different inputs would not. Replaced by one program that, for each input
//    position, rescans every window containing it with cpu's rule (strict >, starting below every finite
//    value, so NaN and -Infinity never win and an all-NaN window routes nowhere) and adds dy where it won.
//
// Checked and left alone (equal to cpu within float rounding on the tests' cases): Conv2D and its two backprop
// kernels (fused bias/relu, same/valid, strides 1/2), MatMul with every transpose, FusedBatchNorm gradients,
// Sum/Mean over any axes, ArgMax over the class axis (ties go to the lowest index, as on cpu, for axes shorter
// than 32, which the project's 10 classes are), softmax cross-entropy, Tile, GatherV2, Cast, TensorScatterUpdate.
// Known and not needed here: int32 Sum adds in float32 (inexact beyond 2^24); ArgMax over 32 or more values
// returns any of the tied indices.
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const WEBGPU_KERNEL_FIXES = ['MaxPoolGrad'] as const;
export type WebgpuKernelFix = (typeof WEBGPU_KERNEL_FIXES)[number];

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: WebGPUBackend;
  attrs: tf.NamedAttrMap;
}

type WebgpuUtil = typeof import('@tensorflow/tfjs-backend-webgpu').webgpu_util;

function webgpuUtil(): WebgpuUtil {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@tensorflow/tfjs-backend-webgpu') as typeof import('@tensorflow/tfjs-backend-webgpu')).webgpu_util;
}

/** dx of a 2-d max pool (dilation 1), with cpu's first-maximum rule. Inputs: dy, x. */
class FirstMaxPoolGradProgram implements WebGPUProgram {
  variableNames = ['dy', 'x'];
  uniforms = 'strides : vec2<i32>, pads : vec2<i32>, filterDims : vec2<i32>, inDims : vec2<i32>, outDims : vec2<i32>,';
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey = 'densityFirstMaxPoolGrad';

  constructor(inShape: number[]) {
    const util = webgpuUtil();
    this.outputShape = inShape;
    this.dispatchLayout = util.flatDispatchLayout(this.outputShape);
    this.dispatch = util.computeDispatch(this.dispatchLayout, this.outputShape, this.workgroupSize);
  }

  getUserCode(): string {
    // Windows covering input row xR: those with corner oR * stride - pad in (xR - filter, xR].
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let coords = getCoordsFromIndex(index);
          let batch = coords[0];
          let xR = coords[1];
          let xC = coords[2];
          let d = coords[3];
          let s = uniforms.strides;
          let p = uniforms.pads;
          let f = uniforms.filterDims;
          let oRMin = max(0, (xR + p.x - f.x + s.x) / s.x);
          let oRMax = min(uniforms.outDims.x - 1, (xR + p.x) / s.x);
          let oCMin = max(0, (xC + p.y - f.y + s.y) / s.y);
          let oCMax = min(uniforms.outDims.y - 1, (xC + p.y) / s.y);
          var acc = 0.0;
          for (var oR = oRMin; oR <= oRMax; oR++) {
            let r0 = oR * s.x - p.x;
            for (var oC = oCMin; oC <= oCMax; oC++) {
              let c0 = oC * s.y - p.y;
              var best = 0.0;
              var found = false;
              var bestR = -1;
              var bestC = -1;
              for (var r = max(r0, 0); r < min(r0 + f.x, uniforms.inDims.x); r++) {
                for (var c = max(c0, 0); c < min(c0 + f.y, uniforms.inDims.y); c++) {
                  let v = getX(batch, r, c, d);
                  // cpu starts at -Infinity with a strict >: NaN and -Infinity never win.
                  if ((found && v > best) || (!found && v >= -3.4028234663852886e38)) {
                    best = v;
                    found = true;
                    bestR = r;
                    bestC = c;
                  }
                }
              }
              if (bestR == xR && bestC == xC) {
                acc += getDy(batch, oR, oC, d);
              }
            }
          }
          setOutputAtIndex(index, acc);
        }
      }
    `;
  }
}

function maxPoolGrad(upstream: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args as unknown as KernelArgs;
    const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as {
      filterSize: [number, number] | number;
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    if (input.dtype !== 'float32') return upstream.kernelFunc(args) as tf.TensorInfo; // pools of float activations only
    const uniforms = [
      { type: 'int32', data: [info.strideHeight, info.strideWidth] },
      { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
      { type: 'int32', data: [info.filterHeight, info.filterWidth] },
      { type: 'int32', data: [info.inHeight, info.inWidth] },
      { type: 'int32', data: [info.outHeight, info.outWidth] },
    ];
    return backend.runWebGPUProgram(new FirstMaxPoolGradProgram(input.shape), [dy, input], 'float32', uniforms);
  };
}

/** Marks configs registered here, so a second copy of this module (cleared require cache) never wraps a fix. */
const FIX_MARK = Symbol.for('density.webgpuKernelFix');
type MarkedConfig = tf.KernelConfig & { [FIX_MARK]?: tf.KernelConfig };

const builders: Record<WebgpuKernelFix, (upstream: tf.KernelConfig) => tf.KernelFunc> = { MaxPoolGrad: maxPoolGrad };

/** Register the fixes on 'webgpu' (idempotent); returns their names for BackendInfo.kernelFixes. */
export function registerWebgpuKernelFixes(): string[] {
  for (const name of WEBGPU_KERNEL_FIXES) {
    const current = tf.getKernel(name, 'webgpu') as MarkedConfig | undefined;
    if (!current) throw new Error(`tfjs-backend-webgpu registers no ${name} kernel; cannot replace it (has the package changed?)`);
    if (current[FIX_MARK]) continue;
    const mine: MarkedConfig = { kernelName: name, backendName: 'webgpu', kernelFunc: builders[name](current), [FIX_MARK]: current };
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel(mine);
  }
  return [...WEBGPU_KERNEL_FIXES];
}

/** The upstream kernel a fix replaced (tests show the upstream behaviour with it). */
export function upstreamWebgpuKernel(name: WebgpuKernelFix): tf.KernelConfig | undefined {
  return (tf.getKernel(name, 'webgpu') as MarkedConfig | undefined)?.[FIX_MARK];
}
