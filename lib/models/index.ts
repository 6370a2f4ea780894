// The architecture registry (mlp, conv2, resnet), the width rule, weight counts and the paper's counting rule.
import type * as tf from '@tensorflow/tfjs';
import type { ArchName, Architecture, PrunableLayer } from './types';
import { getLayerKernels, type LayerWeights } from './kernels';
import { getArchitecture } from './registry';

export type { ArchName, Architecture, PrunableLayer } from './types';
export { ARCH_NAMES, INIT_NAMES, type InitName } from './types';
export { initializers, initKernel, initSeedFor, type Initializer } from './init';
export { hiddenWidth, assertWidth } from './width';
export { getLayerKernels, setKernels, applyInit, type LayerWeights } from './kernels';
export { architectures, getArchitecture } from './registry';
export { weightCounts, connections, paperParameterCount, type WeightCounts, type PaperCounts } from './counts';

/**
 * Copies of the prunable kernels of `model` as Float32Array by layer name, in forward order; shapes checked.
 * Give the layers (an architecture's prunableLayers(width)) or the architecture and width.
 */
export function getKernels(model: tf.LayersModel, layers: PrunableLayer[]): LayerWeights[];
export function getKernels(model: tf.LayersModel, arch: ArchName | Architecture, width: number): LayerWeights[];
export function getKernels(model: tf.LayersModel, what: PrunableLayer[] | ArchName | Architecture, width?: number): LayerWeights[] {
  if (Array.isArray(what)) return getLayerKernels(model, what);
  if (width === undefined) throw new Error('getKernels(model, arch, width): width is required with an architecture');
  const arch = typeof what === 'string' ? getArchitecture(what) : what;
  return getLayerKernels(model, arch.prunableLayers(width));
}
