// The architecture registry (mlp, conv2, resnet), the width rule and weight counts.
import type * as tf from '@tensorflow/tfjs';
import type { ArchName, Architecture, PrunableLayer } from './types';
import { getLayerKernels, type LayerWeights } from './kernels';
import { mlp } from './mlp';
import { conv2 } from './conv2';
import { resnet } from './resnet';

export type { ArchName, Architecture, PrunableLayer } from './types';
export { ARCH_NAMES } from './types';
export { hiddenWidth, assertWidth } from './width';
export { getLayerKernels, setKernels, applyInit, type LayerWeights } from './kernels';

export const architectures: Record<ArchName, Architecture> = { mlp, conv2, resnet };

/** The registry entry for `name`; throws naming the bad value. */
export function getArchitecture(name: ArchName): Architecture {
  const arch = (architectures as Record<string, Architecture | undefined>)[name];
  if (!arch) throw new Error(`unknown architecture '${String(name)}'; expected one of ${Object.keys(architectures).join(', ')}`);
  return arch;
}

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

export interface WeightCounts {
  perLayer: Record<string, number>;
  total: number;
}

/** Weights only (no biases, no BatchNorm parameters), per prunable layer and in total: the paper's Table 1 rule. */
export function weightCounts(arch: ArchName | Architecture, width: number): WeightCounts {
  const a = typeof arch === 'string' ? getArchitecture(arch) : arch;
  const perLayer: Record<string, number> = {};
  let total = 0;
  for (const l of a.prunableLayers(width) as PrunableLayer[]) {
    perLayer[l.name] = l.count;
    total += l.count;
  }
  return { perLayer, total };
}

/**
 * The paper's Table 1 (weight counts by size), to show beside ours. Our MLP counts equal these exactly.
 * Conv-2 and ResNet do NOT: the standard Frankle & Carbin Conv-2 has 4,300,992 weights at 1x (paper 43,780,864)
 * and the paper's ResNet as described (16 filters, global average pool) has 14,416 at 1x (paper 443,122);
 * no reading of the paper's text reproduces its Conv-2/ResNet numbers, so ours are what the described models have.
 * `null` = not in the paper (Conv-2 and ResNet at 5x did not fit the authors' GPU).
 */
export const PAPER_TABLE1: Record<ArchName, Record<'0.1' | '0.5' | '1' | '2' | '5', number | null>> = {
  mlp: { '0.1': 23_920, '0.5': 125_600, '1': 266_200, '2': 592_400, '5': 1_931_000 },
  conv2: { '0.1': 536_963, '0.5': 11_388_288, '1': 43_780_864, '2': 171_578_880, '5': null },
  resnet: { '0.1': 27_762, '0.5': 221_586, '1': 443_122, '2': 886_194, '5': null },
};

/** The widths (sizes) the paper trains. */
export const PAPER_WIDTHS: readonly number[] = [0.1, 0.5, 1, 2, 5];
