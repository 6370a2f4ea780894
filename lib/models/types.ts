// Types of the architecture registry, kept apart so architectures and the registry can both import them.
import type * as tf from '@tensorflow/tfjs';
import type { DatasetName } from '../data/types';

export type ArchName = 'mlp' | 'conv2' | 'resnet';
export const ARCH_NAMES: readonly ArchName[] = ['mlp', 'conv2', 'resnet'];

/** The initialisers (lib/models/init.ts): Glorot and He uniform. */
export type InitName = 'glorot' | 'he';
export const INIT_NAMES: readonly InitName[] = ['glorot', 'he'];

/**
 * A layer whose kernel is pruned. `shape` is the tfjs kernel shape: [fanIn, fanOut] for dense,
 * [kh, kw, cIn, cOut] for conv. `fanIn`/`fanOut` are the ones the initialisers use
 * (conv: kh*kw*cIn and kh*kw*cOut). `count` = product of `shape` (weights only, no bias).
 */
export interface PrunableLayer {
  name: string;
  kind: 'dense' | 'conv';
  shape: number[];
  count: number;
  fanIn: number;
  fanOut: number;
  /** Conv layers: output positions per image (h_out * w_out), i.e. how often the kernel is applied; dense: absent (once). */
  outputPositions?: number;
}

export interface Architecture {
  name: ArchName;
  dataset: DatasetName;
  /** Input image shape [h, w, c] (the MLP flattens it inside the model). */
  inputShape: [number, number, number];
  numClasses: number;
  /** Prunable layers in forward order; their tfjs layers carry the same names. */
  prunableLayers(width: number): PrunableLayer[];
  /** A fresh model whose prunable kernels hold `init` values seeded by `initSeed`; biases zero; outputs logits. */
  build(width: number, init: InitName, initSeed: number): tf.LayersModel;
}
