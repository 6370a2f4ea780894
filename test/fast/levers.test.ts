import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { levers, resetLevers, WASM_GRADIENT_FIXES, WASM_KERNEL_FIXES } from '../../lib/fast/levers';

describe('fast/levers: the one object of switches', () => {
  before(async () => {
    await initBackend('wasm');
  });
  afterEach(() => resetLevers());

  it('every lever is on by default, and resetLevers puts changed ones back', () => {
    levers.maxPoolGrad2x2 = false;
    levers.wasmKernelFixes.Tile = false;
    levers.wasmGradientFixes.Mean = false;
    levers.denseSgdFirstLayer = 'dense';
    levers.trajectorySparseSecondBelow = 0;
    resetLevers();
    assert.ok(WASM_KERNEL_FIXES.every((n) => levers.wasmKernelFixes[n]));
    assert.ok(WASM_GRADIENT_FIXES.every((n) => levers.wasmGradientFixes[n]));
    assert.deepEqual([levers.maxPoolGrad2x2, levers.denseSgdFirstLayer, levers.trajectorySparseSecondBelow], [true, 'auto', 0.45]);
  });

  it('a kernel fix switched off is read at call time: a kernel wasm lacks then fails as tfjs would', () => {
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const dy = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
    // d/dfilter of sum(conv(x, f) * dy): the Conv2DBackpropFilter kernel, which the wasm backend lacks.
    const filterGrad = () =>
      tf.tidy(() =>
        tf
          .grad((f) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, 1, 'valid'), dy)))(tf.ones([2, 2, 1, 1]))
          .dataSync(),
      );
    assert.deepEqual(Array.from(filterGrad()), [9, 9, 9, 9]);
    levers.wasmKernelFixes.Conv2DBackpropFilter = false;
    levers.nativeConv = false; // else the native convolutions, in front of the fix, compute it
    assert.throws(filterGrad, /Conv2DBackpropFilter.*not registered.*wasm/);
    levers.wasmKernelFixes.Conv2DBackpropFilter = true;
    levers.nativeConv = true;
    assert.deepEqual(Array.from(filterGrad()), [9, 9, 9, 9]);
    tf.dispose([x, dy]);
  });
});
