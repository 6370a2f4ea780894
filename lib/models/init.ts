// Weight initialisers (paper Sec 4.4): Glorot (Xavier) uniform and He (Kaiming) uniform.
// Values come from our own seeded Rng, never tfjs's initialisers (they draw from tfjs's global RNG, so a
// layer's values would depend on what else was built before it in the process).
import { Rng, checkSeed, deriveSeed } from '../rng';
import { INIT_NAMES, type InitName, type PrunableLayer } from './types';

export { INIT_NAMES, type InitName };

export interface Initializer {
  name: InitName;
  /** Half-width b of the uniform interval [-b, b) for a layer with these fans. */
  bound(fanIn: number, fanOut: number): number;
}

export const initializers: Record<InitName, Initializer> = {
  // Glorot & Bengio 2010: keeps forward and backward variances balanced.
  glorot: { name: 'glorot', bound: (fanIn, fanOut) => Math.sqrt(6 / (fanIn + fanOut)) },
  // He et al. 2015 (fan_in mode, ReLU gain sqrt(2)): sqrt(2) * sqrt(3 / fanIn).
  he: { name: 'he', bound: (fanIn) => Math.sqrt(6 / fanIn) },
};

/** The seed of one layer's init stream: depends on the init seed and the layer's name only. */
export function initSeedFor(initSeed: number, layerName: string): number {
  return deriveSeed(initSeed, 'init', layerName);
}

/**
 * Initial kernel values of one prunable layer, in tfjs's row-major kernel layout (`layer.shape`).
 * Uniform in [-b, b) with b from the initialiser; the stream is seeded by (initSeed, layer name) alone, so
 * adding, removing or resizing another layer never changes this layer's values.
 */
export function initKernel(layer: PrunableLayer, init: InitName, initSeed: number): Float32Array {
  const initializer = initializers[init];
  if (!initializer) throw new Error(`unknown initialiser '${String(init)}'; expected one of ${INIT_NAMES.join(', ')}`);
  checkSeed('initSeed', initSeed);
  const b = initializer.bound(layer.fanIn, layer.fanOut);
  const rng = new Rng(initSeedFor(initSeed, layer.name));
  const out = new Float32Array(layer.count);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.next() - 1) * b;
  return out;
}
