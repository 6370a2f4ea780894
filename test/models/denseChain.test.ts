import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { architectures } from '../../lib/models';
import { denseChain } from '../../lib/models/denseChain';

describe('models/denseChain', () => {
  before(async () => {
    await initBackend();
  });

  it('finds the MLP dense layers in order and refuses conv nets', () => {
    const mlp = architectures.mlp.build(0.1, 'glorot', 0);
    assert.deepEqual(
      denseChain(mlp, new Set(['InputLayer']))?.map((l) => l.name),
      ['fc1', 'fc2', 'proj'],
    );
    const conv = architectures.conv2.build(0.1, 'glorot', 0);
    assert.equal(denseChain(conv, new Set(['InputLayer'])), null);
    mlp.dispose();
    conv.dispose();
  });

  it('refuses a Dense on an unflattened image input, an unlisted layer class and a non-Dense output', () => {
    const onImage = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4, 4, 1], units: 3 })] });
    assert.equal(denseChain(onImage, new Set()), null);
    const withDropout = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dropout({ rate: 0.1 }), tf.layers.dense({ units: 3 })],
    });
    assert.equal(denseChain(withDropout, new Set()), null);
    assert.equal(denseChain(withDropout, new Set(['Dropout']))?.length, 1);
    const dropoutLast = tf.sequential({ layers: [tf.layers.dense({ inputShape: [5], units: 3 }), tf.layers.dropout({ rate: 0.1 })] });
    assert.equal(denseChain(dropoutLast, new Set(['Dropout'])), null);
    for (const m of [onImage, withDropout, dropoutLast]) m.dispose();
  });
});
