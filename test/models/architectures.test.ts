import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { ARCH_NAMES, architectures, getArchitecture, getKernels, hiddenWidth, setKernels, weightCounts } from '../../lib/models';
import { initKernel } from '../../lib/models/init';
import { PAPER_TABLE1, PAPER_WIDTHS } from '../../lib/protocol';

describe('models: width rule', () => {
  it("hiddenWidth = max(1, int(base * width)): truncation, as the paper's Table 1 shows", () => {
    assert.equal(hiddenWidth(300, 1), 300);
    assert.equal(hiddenWidth(300, 0.1), 30);
    assert.equal(hiddenWidth(100, 0.5), 50);
    assert.equal(hiddenWidth(100, 5), 500);
    assert.equal(hiddenWidth(64, 0.1), 6); // Conv-2 0.1x filters: int(6.4)
    assert.equal(hiddenWidth(256, 0.1), 25); // Conv-2 0.1x units: int(25.6), where rounding gave 26
    assert.equal(hiddenWidth(16, 0.1), 1); // ResNet 0.1x filters: int(1.6), where rounding gave 2
    assert.equal(hiddenWidth(16, 0.25), 4);
    assert.equal(hiddenWidth(10, 0.25), 2); // 2.5 (exact in binary) truncates
    assert.equal(hiddenWidth(300, 0.0015), 1); // 0.45 truncates to 0, floored at 1
    assert.equal(hiddenWidth(300, 0.001), 1);
    assert.equal(hiddenWidth(300, 1.7), 510); // any positive multiplier, not only the paper's five
  });

  it('a product within float error of a whole number is that number, not one less', () => {
    assert.ok(100 * 0.57 < 57); // the float product really is 56.999...
    assert.equal(hiddenWidth(100, 0.57), 57);
    assert.ok(100 * 0.29 < 29); // 28.999999999999996
    assert.equal(hiddenWidth(100, 0.29), 29);
    assert.equal(hiddenWidth(100, 0.5699), 56); // a real fraction still truncates
    assert.ok(1e8 * 0.57 < 57e6 - 1e-9); // off by more than 1e-9 absolute
    assert.equal(hiddenWidth(1e8, 0.57), 57e6); // the tolerance is relative, so large products snap too
  });

  it("MLP widths are whole numbers at the paper's sizes, so truncation and rounding agree there (committed runs unchanged)", () => {
    for (const w of PAPER_WIDTHS) {
      for (const base of [300, 100]) assert.equal(hiddenWidth(base, w), Math.round(base * w), `${base} x ${w}`);
    }
  });

  it('rejects non-positive or non-finite widths, naming the value', () => {
    for (const w of [0, -1, NaN, Infinity]) assert.throws(() => hiddenWidth(300, w), new RegExp(String(w)));
    assert.throws(() => weightCounts('mlp', 0), /got 0/);
  });

  it('tiny widths still build a model with 1-unit hidden layers', async () => {
    await initBackend();
    const layers = architectures.mlp.prunableLayers(0.001);
    assert.deepEqual(
      layers.map((l) => l.shape),
      [
        [784, 1],
        [1, 1],
        [1, 10],
      ],
    );
    const m = architectures.mlp.build(0.001, 'he', 0);
    assert.deepEqual(m.outputs[0].shape, [null, 10]);
    m.dispose();
  });
});

describe('models: weight counts', () => {
  it('MLP counts equal the paper Table 1 exactly at all five sizes', () => {
    const expected: Record<string, number> = { '0.1': 23_920, '0.5': 125_600, '1': 266_200, '2': 592_400, '5': 1_931_000 };
    for (const w of PAPER_WIDTHS) {
      assert.equal(weightCounts('mlp', w).total, expected[String(w)], `mlp ${w}`);
      assert.equal(PAPER_TABLE1.mlp[String(w) as '1'], expected[String(w)]);
    }
  });

  it('MLP 1x per layer: 784*300, 300*100, 100*10 (weights only)', () => {
    assert.deepEqual(weightCounts('mlp', 1), { perLayer: { fc1: 235_200, fc2: 30_000, proj: 1_000 }, total: 266_200 });
  });

  it('Conv-2 1x: 3*3*3*64, 3*3*64*64, 16*16*64*256, 256*256, 256*10', () => {
    const c = weightCounts('conv2', 1);
    assert.deepEqual(c.perLayer, { conv1: 1_728, conv2: 36_864, fc1: 4_194_304, fc2: 65_536, proj: 2_560 });
    assert.equal(c.total, 4_300_992);
    assert.notEqual(c.total, PAPER_TABLE1.conv2['1']); // weights only is not the paper's Conv-2 rule (see counts.test)
  });

  it('Conv-2 0.1x: 6 filters and 25 units (truncation)', () => {
    const [c1, c2, fc1, fc2, proj] = architectures.conv2.prunableLayers(0.1);
    assert.deepEqual(
      [c1.shape, c2.shape, fc1.shape, fc2.shape, proj.shape],
      [
        [3, 3, 3, 6],
        [3, 3, 6, 6],
        [16 * 16 * 6, 25],
        [25, 25],
        [25, 10],
      ],
    );
    assert.equal(weightCounts('conv2', 0.1).total, 162 + 324 + 38_400 + 625 + 250);
  });

  it('ResNet 1x: conv0 3*3*3*16, six 3*3*16*16 block convs, proj 16*10', () => {
    const c = weightCounts('resnet', 1);
    assert.deepEqual(Object.keys(c.perLayer), [
      'conv0',
      'block1_conv1',
      'block1_conv2',
      'block2_conv1',
      'block2_conv2',
      'block3_conv1',
      'block3_conv2',
      'proj',
    ]);
    assert.equal(c.perLayer.conv0, 432);
    assert.equal(c.perLayer.block2_conv1, 2_304);
    assert.equal(c.perLayer.proj, 160);
    assert.equal(c.total, 432 + 6 * 2_304 + 160);
    const half = weightCounts('resnet', 0.5); // 8 filters
    assert.equal(half.total, 3 * 3 * 3 * 8 + 6 * 3 * 3 * 8 * 8 + 8 * 10);
    assert.equal(weightCounts('resnet', 0.1).total, 27 + 6 * 9 + 10); // 1 filter (int(1.6))
  });

  it('conv fans are kh*kw*cIn and kh*kw*cOut; dense fans are in and out', () => {
    const [c1, c2, fc1] = architectures.conv2.prunableLayers(0.5);
    assert.deepEqual([c1.fanIn, c1.fanOut], [27, 9 * 32]);
    assert.deepEqual([c2.fanIn, c2.fanOut], [9 * 32, 9 * 32]);
    assert.deepEqual([fc1.fanIn, fc1.fanOut], [16 * 16 * 32, 128]);
  });

  it('getArchitecture rejects unknown names', () => {
    assert.throws(() => getArchitecture('vgg' as 'mlp'), /unknown architecture 'vgg'/);
  });
});

describe('models: built tfjs models', function () {
  before(async () => {
    await initBackend();
  });

  for (const name of ARCH_NAMES) {
    it(`${name}: every prunable layer exists under its name with the described kernel shape, biases zero, logits out`, () => {
      const arch = architectures[name];
      const width = name === 'conv2' ? 0.1 : 0.5;
      const m = arch.build(width, 'glorot', 3);
      try {
        assert.deepEqual(m.inputs[0].shape, [null, ...arch.inputShape]);
        assert.deepEqual(m.outputs[0].shape, [null, 10]);
        const layers = arch.prunableLayers(width);
        let total = 0;
        for (const l of layers) {
          const w = m.getLayer(l.name).getWeights();
          assert.deepEqual(w[0].shape, l.shape, l.name);
          const out = m.getLayer(l.name).outputShape as (number | null)[];
          // Conv: how often the kernel is applied per image is what the layer really outputs (h x w); dense: once.
          assert.equal(l.outputPositions ?? 1, l.kind === 'conv' ? (out[1] as number) * (out[2] as number) : 1, `${l.name} output positions`);
          total += w[0].size;
          for (const extra of w.slice(1))
            assert.ok(
              (extra.dataSync() as Float32Array).every((v) => v === 0),
              `${l.name} bias starts at zero`,
            );
        }
        assert.equal(total, weightCounts(name, width).total);
        // No other layer carries a kernel that should have been prunable.
        const kernelLayers = m.layers.filter((l) => l.getClassName() === 'Dense' || l.getClassName() === 'Conv2D').map((l) => l.name);
        assert.deepEqual(
          kernelLayers,
          layers.map((l) => l.name),
        );
        // Outputs are raw logits (no softmax): rows need not sum to 1.
        const y = tf.tidy(() => m.predict(tf.ones([2, ...arch.inputShape])) as tf.Tensor);
        assert.deepEqual(y.shape, [2, 10]);
        y.dispose();
      } finally {
        m.dispose();
      }
    });
  }

  it('mlp: fc1/fc2 use relu, proj is linear', () => {
    const m = architectures.mlp.build(0.1, 'he', 0);
    const act = (n: string) => (m.getLayer(n).getConfig() as { activation: string }).activation;
    assert.deepEqual(['fc1', 'fc2', 'proj'].map(act), ['relu', 'relu', 'linear']);
    m.dispose();
  });

  it('conv2: same padding keeps 32x32 through both convs, then max pool halves it', () => {
    const m = architectures.conv2.build(0.1, 'he', 0);
    assert.deepEqual(m.getLayer('conv2').outputShape, [null, 32, 32, 6]);
    assert.deepEqual(m.getLayer('pool').outputShape, [null, 16, 16, 6]);
    assert.equal((m.getLayer('conv1').getConfig() as { padding: string }).padding, 'same');
    m.dispose();
  });

  it('resnet: identity shortcut added before the second ReLU of each block; convs without bias; BN after each conv', () => {
    const m = architectures.resnet.build(0.25, 'he', 0);
    try {
      for (let b = 1; b <= 3; b++) {
        const add = m.getLayer(`block${b}_add`);
        const inbound = (add.inboundNodes[0].inboundLayers as tf.layers.Layer[]).map((l) => l.name);
        const prev = b === 1 ? 'relu0' : `block${b - 1}_relu2`;
        assert.deepEqual(inbound, [`block${b}_bn2`, prev]);
        const relu2 = m.getLayer(`block${b}_relu2`);
        assert.deepEqual(
          (relu2.inboundNodes[0].inboundLayers as tf.layers.Layer[]).map((l) => l.name),
          [`block${b}_add`],
        );
      }
      for (const l of architectures.resnet.prunableLayers(0.25).filter((p) => p.kind === 'conv')) {
        assert.equal(m.getLayer(l.name).getWeights().length, 1, `${l.name} has no bias`);
      }
      assert.equal(m.layers.filter((l) => l.getClassName() === 'BatchNormalization').length, 7);
    } finally {
      m.dispose();
    }
  });

  it('the same layer name in models built one after another gives the same init (global tfjs RNG untouched)', () => {
    const a = architectures.mlp.build(0.1, 'glorot', 7);
    tf.randomUniform([1000]).dispose(); // advance tfjs's own RNG in between: must not matter
    const b = architectures.mlp.build(0.1, 'glorot', 7);
    const layers = architectures.mlp.prunableLayers(0.1);
    const ka = getKernels(a, layers);
    const kb = getKernels(b, layers);
    for (let i = 0; i < layers.length; i++) {
      assert.deepEqual(ka[i].values, kb[i].values);
      assert.deepEqual(ka[i].values, initKernel(layers[i], 'glorot', 7));
    }
    a.dispose();
    b.dispose();
  });

  it('getKernels returns copies and setKernels writes only the named kernels', () => {
    const m = architectures.mlp.build(0.1, 'he', 1);
    const layers = architectures.mlp.prunableLayers(0.1);
    const [fc1, fc2] = getKernels(m, layers);
    fc1.values[0] = 12345; // must not reach the model
    assert.notEqual(getKernels(m, layers)[0].values[0], 12345);
    const zeros = new Float32Array(fc2.values.length);
    setKernels(m, [{ name: 'fc2', values: zeros }]);
    const after = getKernels(m, layers);
    assert.ok(after[1].values.every((v) => v === 0));
    assert.notEqual(after[0].values[0], 12345);
    assert.deepEqual(after[0].values.subarray(1), fc1.values.subarray(1));
    assert.throws(() => setKernels(m, [{ name: 'fc2', values: new Float32Array(3) }]), /fc2.*3 values/);
    // The (arch, width) form gives the same as the layer-list form.
    assert.deepEqual(getKernels(m, 'mlp', 0.1), after);
    assert.deepEqual(getKernels(m, architectures.mlp, 0.1), after);
    assert.throws(() => getKernels(m, 'mlp', 0.2), /kernel shape 784x30 does not match 784x60/);
    m.dispose();
  });
});
