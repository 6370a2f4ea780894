// Reading and writing prunable kernels as Float32Array by layer name (what pruning, overlap and init use).
import * as tf from '@tensorflow/tfjs';
import type { PrunableLayer } from './types';
import { initKernel, type InitName } from './init';

/** One prunable layer's kernel values in tfjs layout (same shape as `PrunableLayer.shape`). */
export interface LayerWeights {
  name: string;
  values: Float32Array;
}

function kernelVariable(model: tf.LayersModel, name: string): tf.LayerVariable {
  const layer = model.getLayer(name);
  const kernel = layer.weights[0];
  if (!kernel) throw new Error(`layer '${name}' has no kernel`);
  return kernel;
}

/** The tfjs variable behind a layer's kernel (its first weight), checked to be a variable of rank 2 or more. */
export function kernelOf(model: tf.LayersModel, name: string): tf.Variable {
  const v = kernelVariable(model, name).read();
  if (!(v instanceof tf.Variable)) throw new Error(`layer '${name}': its first weight is not a variable`);
  if (v.shape.length < 2) throw new Error(`layer '${name}': first weight has shape [${v.shape}], not a kernel`);
  return v;
}

/** Copies of the kernels of the named layers, in that order, read without blocking (any backend). */
export async function readKernels(model: tf.LayersModel, names: readonly string[]): Promise<LayerWeights[]> {
  const out: LayerWeights[] = [];
  for (const name of names) {
    const data = await kernelOf(model, name).data();
    // slice(): some backends hand out their own storage; callers keep and modify their copies.
    out.push({ name, values: (data as Float32Array).slice() });
  }
  return out;
}

/**
 * Copies of the prunable kernels of `model`, in the order of `layers` (an architecture's
 * `prunableLayers(width)`); checks every shape against the description.
 */
export function getLayerKernels(model: tf.LayersModel, layers: PrunableLayer[]): LayerWeights[] {
  return layers.map((l) => {
    const v = kernelVariable(model, l.name).read();
    if (v.size !== l.count || v.shape.join('x') !== l.shape.join('x')) {
      throw new Error(`layer '${l.name}': kernel shape ${v.shape.join('x')} does not match ${l.shape.join('x')}`);
    }
    // slice(): the cpu backend hands out its own storage from dataSync, so the caller must get a copy.
    return { name: l.name, values: (v.dataSync() as Float32Array).slice() };
  });
}

/** Overwrite the named kernels (biases and other weights untouched). Values are copied into the model. */
export function setKernels(model: tf.LayersModel, kernels: LayerWeights[]): void {
  for (const { name, values } of kernels) {
    const variable = kernelVariable(model, name);
    const shape = variable.shape as number[]; // a built layer's weights have fully known shapes
    const size = shape.reduce((a, b) => a * b, 1);
    if (values.length !== size) {
      throw new Error(`setKernels: layer '${name}' has ${size} kernel weights, got ${values.length} values`);
    }
    const t = tf.tensor(values, shape, 'float32');
    variable.write(t); // the variable takes a reference to t's data, so disposing t below is safe
    t.dispose();
  }
}

/** Set every prunable kernel to its seeded initial values (biases are built as zeros). */
export function applyInit(model: tf.LayersModel, layers: PrunableLayer[], init: InitName, initSeed: number): void {
  setKernels(
    model,
    layers.map((l) => ({ name: l.name, values: initKernel(l, init, initSeed) })),
  );
}
