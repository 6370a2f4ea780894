// LeNet-300-100 (paper Sec 3.1): flatten 28x28x1 -> dense 300s relu (fc1) -> dense 100s relu (fc2) -> dense 10 (proj).
import * as tf from '@tensorflow/tfjs';
import type { Architecture, PrunableLayer } from './types';
import { applyInit } from './kernels';
import { denseLayer, hiddenWidth } from './width';

const INPUT: [number, number, number] = [28, 28, 1];
const INPUT_UNITS = INPUT[0] * INPUT[1] * INPUT[2];
const CLASSES = 10;

function prunableLayers(width: number): PrunableLayer[] {
  const h1 = hiddenWidth(300, width);
  const h2 = hiddenWidth(100, width);
  return [denseLayer('fc1', INPUT_UNITS, h1), denseLayer('fc2', h1, h2), denseLayer('proj', h2, CLASSES)];
}

export const mlp: Architecture = {
  name: 'mlp',
  dataset: 'mnist',
  inputShape: INPUT,
  numClasses: CLASSES,
  prunableLayers,
  build(width, init, initSeed) {
    const layers = prunableLayers(width);
    // The model takes NHWC images like the conv models (the flatten is a free reshape), so callers never
    // reshape per architecture. Kernels start as zeros and are overwritten with our seeded values below.
    const input = tf.input({ shape: INPUT, name: 'input' });
    let h = tf.layers.flatten({ name: 'flatten' }).apply(input) as tf.SymbolicTensor;
    layers.forEach((l, i) => {
      const last = i === layers.length - 1;
      h = tf.layers
        .dense({ name: l.name, units: l.shape[1], activation: last ? 'linear' : 'relu', useBias: true, kernelInitializer: 'zeros', biasInitializer: 'zeros' })
        .apply(h) as tf.SymbolicTensor;
    });
    const model = tf.model({ inputs: input, outputs: h, name: 'mlp' });
    applyInit(model, layers, init, initSeed);
    return model;
  },
};
