// The paper's small ResNet (Sec 3.1): conv(16)+BN+ReLU (conv0); three residual blocks of two conv(16)+BN with
// an identity shortcut added before the block's second ReLU (blockK_conv1, blockK_conv2); global average pool;
// dense -> 10 (proj). All convs 3x3, stride 1, padding 'same', so every shortcut is an identity (no projection).
// Convs have NO bias: the BatchNorm after each one has its own shift (beta), so a conv bias would be redundant.
// BatchNorm uses PyTorch's conventions (moving-average momentum 0.9 in tfjs terms, i.e. torch's 0.1; epsilon 1e-5),
// as in open_lth's CIFAR ResNets. BN parameters are not prunable and not counted.
// 14,416 weights at 1x. The paper's Table 1 (443,122 at 1x) is linear in the filter count f, 27,692 f + 50: conv0
// counted once per output position (27,648 f) plus ~44 f + 50, with no f^2 term, so the blocks' six f -> f convs
// are missing from the paper's counts (PROTOCOL.md "What Table 1 reveals"; paperParameterCount in ./counts).
// We keep the text's architecture; notebook 01 asks what it would mean if only conv0 and proj had been pruned.
import * as tf from '@tensorflow/tfjs';
import type { Architecture, PrunableLayer } from './types';
import { applyInit } from './kernels';
import { convLayer, denseLayer, hiddenWidth } from './width';

const INPUT: [number, number, number] = [32, 32, 3];
const CLASSES = 10;
const POSITIONS = INPUT[0] * INPUT[1]; // 'same' padding, stride 1: every conv outputs 32 x 32
const BLOCKS = 3;
const BN_MOMENTUM = 0.9;
const BN_EPSILON = 1e-5;

function prunableLayers(width: number): PrunableLayer[] {
  const c = hiddenWidth(16, width);
  const layers: PrunableLayer[] = [convLayer('conv0', 3, INPUT[2], c, POSITIONS)];
  for (let b = 1; b <= BLOCKS; b++) {
    layers.push(convLayer(`block${b}_conv1`, 3, c, c, POSITIONS), convLayer(`block${b}_conv2`, 3, c, c, POSITIONS));
  }
  layers.push(denseLayer('proj', c, CLASSES));
  return layers;
}

export const resnet: Architecture = {
  name: 'resnet',
  dataset: 'cifar10',
  inputShape: INPUT,
  numClasses: CLASSES,
  prunableLayers,
  build(width, init, initSeed) {
    const layers = prunableLayers(width);
    const c = layers[0].shape[3];
    const conv = (name: string) =>
      tf.layers.conv2d({ name, filters: c, kernelSize: 3, strides: 1, padding: 'same', useBias: false, kernelInitializer: 'zeros' });
    const bn = (name: string) => tf.layers.batchNormalization({ name, axis: -1, momentum: BN_MOMENTUM, epsilon: BN_EPSILON });
    const relu = (name: string) => tf.layers.activation({ name, activation: 'relu' });

    const input = tf.input({ shape: INPUT, name: 'input' });
    let h = conv('conv0').apply(input) as tf.SymbolicTensor;
    h = bn('bn0').apply(h) as tf.SymbolicTensor;
    h = relu('relu0').apply(h) as tf.SymbolicTensor;
    for (let b = 1; b <= BLOCKS; b++) {
      const shortcut = h;
      let r = conv(`block${b}_conv1`).apply(h) as tf.SymbolicTensor;
      r = bn(`block${b}_bn1`).apply(r) as tf.SymbolicTensor;
      r = relu(`block${b}_relu1`).apply(r) as tf.SymbolicTensor;
      r = conv(`block${b}_conv2`).apply(r) as tf.SymbolicTensor;
      r = bn(`block${b}_bn2`).apply(r) as tf.SymbolicTensor;
      h = tf.layers.add({ name: `block${b}_add` }).apply([r, shortcut]) as tf.SymbolicTensor;
      h = relu(`block${b}_relu2`).apply(h) as tf.SymbolicTensor;
    }
    h = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .dense({ name: 'proj', units: CLASSES, activation: 'linear', useBias: true, kernelInitializer: 'zeros', biasInitializer: 'zeros' })
      .apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: h, name: 'resnet' });
    applyInit(model, layers, init, initSeed);
    return model;
  },
};
