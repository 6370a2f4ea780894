import { strict as assert } from 'assert';
import { INIT_NAMES, initKernel, initializers } from '../../lib/models/init';
import { architectures } from '../../lib/models';
import type { PrunableLayer } from '../../lib/models';

const dense = (name: string, fanIn: number, fanOut: number): PrunableLayer => ({
  name,
  kind: 'dense',
  shape: [fanIn, fanOut],
  count: fanIn * fanOut,
  fanIn,
  fanOut,
});

function moments(v: Float32Array): { mean: number; variance: number; min: number; max: number } {
  let s = 0,
    s2 = 0,
    min = Infinity,
    max = -Infinity;
  for (const x of v) {
    s += x;
    s2 += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = s / v.length;
  return { mean, variance: s2 / v.length - mean * mean, min, max };
}

describe('models: initialisers', () => {
  it('bounds: Glorot sqrt(6/(in+out)), He sqrt(6/in)', () => {
    assert.equal(initializers.glorot.bound(784, 300), Math.sqrt(6 / 1084));
    assert.equal(initializers.he.bound(784, 300), Math.sqrt(6 / 784));
    // conv: fans include the kernel area (Conv-2 conv2 at 1x: 3*3*64 both ways)
    const [, conv2] = architectures.conv2.prunableLayers(1);
    assert.equal(initializers.glorot.bound(conv2.fanIn, conv2.fanOut), Math.sqrt(6 / (2 * 576)));
    assert.equal(initializers.he.bound(conv2.fanIn, conv2.fanOut), Math.sqrt(6 / 576));
  });

  for (const init of INIT_NAMES) {
    it(`${init}: every value lies within [-b, b], variance ~ b^2/3, mean ~ 0, both ends reached`, () => {
      for (const layer of [dense('fc1', 784, 300), architectures.conv2.prunableLayers(1)[1]]) {
        const b = initializers[init].bound(layer.fanIn, layer.fanOut);
        const v = initKernel(layer, init, 11);
        assert.equal(v.length, layer.count);
        const m = moments(v);
        assert.ok(m.min >= -b && m.max <= b, `${layer.name}: values within +-${b}`);
        // Uniform(-b, b) has variance b^2/3; with >= 36k samples the sample variance is within ~1%.
        assert.ok(Math.abs(m.variance / ((b * b) / 3) - 1) < 0.03, `${layer.name}: variance ratio ${m.variance / ((b * b) / 3)}`);
        assert.ok(Math.abs(m.mean) < 0.02 * b, `${layer.name}: mean ${m.mean}`);
        assert.ok(m.min < -0.99 * b && m.max > 0.99 * b, 'the whole interval is used');
      }
    });
  }

  it("a layer's values depend only on (init seed, layer name), not on other layers or call order", () => {
    const a = initKernel(dense('fc2', 300, 100), 'he', 5);
    initKernel(dense('fc1', 784, 300), 'he', 5); // drawing another layer in between changes nothing
    assert.deepEqual(initKernel(dense('fc2', 300, 100), 'he', 5), a);
    assert.notDeepEqual(initKernel(dense('fc2', 300, 100), 'he', 6), a, 'another seed differs');
    assert.notDeepEqual(initKernel(dense('fc3', 300, 100), 'he', 5), a, 'another layer name differs');
  });

  it('Glorot and He draw the same uniform stream, scaled by their bounds', () => {
    const l = dense('fc1', 100, 50);
    const g = initKernel(l, 'glorot', 1);
    const h = initKernel(l, 'he', 1);
    const ratio = initializers.he.bound(100, 50) / initializers.glorot.bound(100, 50);
    for (let i = 0; i < 50; i++) assert.ok(Math.abs(h[i] - g[i] * ratio) < 1e-6);
  });

  it('rejects seeds Rng would silently truncate', () => {
    for (const seed of [1.5, -1, 2 ** 32, NaN]) assert.throws(() => initKernel(dense('x', 2, 2), 'he', seed), /initSeed must be an integer/);
    assert.equal(initKernel(dense('x', 2, 2), 'he', 2 ** 32 - 1).length, 4);
  });

  it('rejects an unknown initialiser', () => {
    assert.throws(() => initKernel(dense('x', 2, 2), 'lecun' as 'he', 0), /unknown initialiser 'lecun'/);
  });
});
