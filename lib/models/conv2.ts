// Conv-2 (Frankle & Carbin 2019, open_lth 'cifar_conv_2'): conv3x3(64) relu (conv1), conv3x3(64) relu (conv2),
// maxpool 2x2, flatten, dense 256 relu (fc1), dense 256 relu (fc2), dense 10 (proj). Padding 'same' as open_lth,
// stride 1, biases on (zero at init). At 1x this has 4,300,992 weights. The paper's Table 1 says 43,780,864 for the
// same model: it counts each conv weight once per output position (32 x 32) plus the dense weights and one more value
// per unit of a hidden dense layer, exact at 0.5x, 1x and 2x (paperParameterCount in ./counts, PROTOCOL.md).
import * as tf from '@tensorflow/tfjs';
import type { Architecture, PrunableLayer } from './types';
import { applyInit } from './kernels';
import { convLayer, denseLayer, hiddenWidth } from './width';

const INPUT: [number, number, number] = [32, 32, 3];
const CLASSES = 10;
const POSITIONS = INPUT[0] * INPUT[1]; // 'same' padding, stride 1: both convs output 32 x 32

function prunableLayers(width: number): PrunableLayer[] {
  const c = hiddenWidth(64, width);
  const f = hiddenWidth(256, width);
  const flat = (INPUT[0] / 2) * (INPUT[1] / 2) * c; // after the 2x2 max pool
  return [
    convLayer('conv1', 3, INPUT[2], c, POSITIONS),
    convLayer('conv2', 3, c, c, POSITIONS),
    denseLayer('fc1', flat, f),
    denseLayer('fc2', f, f),
    denseLayer('proj', f, CLASSES),
  ];
}

export const conv2: Architecture = {
  name: 'conv2',
  dataset: 'cifar10',
  inputShape: INPUT,
  numClasses: CLASSES,
  prunableLayers,
  build(width, init, initSeed) {
    const layers = prunableLayers(width);
    const [c1, c2, d1, d2, p] = layers;
    const conv = (l: PrunableLayer) =>
      tf.layers.conv2d({
        name: l.name,
        filters: l.shape[3],
        kernelSize: l.shape[0],
        strides: 1,
        padding: 'same',
        activation: 'relu',
        useBias: true,
        kernelInitializer: 'zeros',
        biasInitializer: 'zeros',
      });
    const dense = (l: PrunableLayer, activation: 'relu' | 'linear') =>
      tf.layers.dense({ name: l.name, units: l.shape[1], activation, useBias: true, kernelInitializer: 'zeros', biasInitializer: 'zeros' });
    const input = tf.input({ shape: INPUT, name: 'input' });
    let h = conv(c1).apply(input) as tf.SymbolicTensor;
    h = conv(c2).apply(h) as tf.SymbolicTensor;
    h = tf.layers.maxPooling2d({ name: 'pool', poolSize: 2, strides: 2 }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.flatten({ name: 'flatten' }).apply(h) as tf.SymbolicTensor;
    h = dense(d1, 'relu').apply(h) as tf.SymbolicTensor;
    h = dense(d2, 'relu').apply(h) as tf.SymbolicTensor;
    h = dense(p, 'linear').apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: h, name: 'conv2' });
    applyInit(model, layers, init, initSeed);
    return model;
  },
};
