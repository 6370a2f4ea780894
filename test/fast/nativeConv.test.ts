// The native convolutions (oneDNN, lib/fast/nativeConv.ts) against the cpu backend and against XNNPACK's path
// (levers.nativeConv off), at kernel level and through tf.grads; what a record says about them; reproducing a record
// with the convolutions it names. The library is built by `npm ci` (postinstall) and scripts/ensure-setup.js; where it
// cannot be, these tests fail with the reason unless DENSITY_SKIP_NATIVE=1 says that is expected.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { levers } from '../../lib/fast/levers';
import { activeConvolutions, nativeConvCalls, nativeConvolutions, NATIVE_CONV_KERNELS, XNNPACK_CONVOLUTIONS } from '../../lib/fast/nativeConv';
import { provenance } from '../../lib/experiments/provenance';
import { NATIVE_KERNEL_FAMILIES, useRecordedFamily } from '../../lib/fast/nativeKernels';
import { maxRelDiff, randomArray, sameBits, valuesOn } from '../backend/helpers';

type Pad = 'same' | 'valid' | number;
// [x shape], [kh, kw, co], stride, pad
const CASES: [number[], number[], number | [number, number], Pad][] = [
  [[2, 7, 7, 3], [3, 3, 4], 1, 'same'],
  [[2, 7, 7, 3], [3, 3, 4], 1, 'valid'],
  [[2, 8, 8, 3], [3, 3, 4], 2, 'same'],
  [[2, 9, 9, 2], [3, 3, 5], 2, 'valid'],
  [[3, 6, 5, 1], [2, 3, 2], [2, 1], 'same'],
  [[2, 6, 6, 2], [3, 3, 3], 1, 1],
  [[4, 32, 32, 3], [3, 3, 6], 1, 'same'], // Conv-2 0.1x's first conv
  [[2, 16, 16, 16], [3, 3, 16], 1, 'same'], // a ResNet 1x block conv
];

function convWork(xShape: number[], k: number[], stride: number | [number, number], pad: Pad, seed: number): () => tf.Tensor[] {
  const [kh, kw, co] = k;
  const fShape = [kh, kw, xShape[3], co];
  const xv = randomArray(
    xShape.reduce((a, b) => a * b),
    seed,
  );
  const fv = randomArray(kh * kw * xShape[3] * co, seed + 1, 0.3);
  const bv = randomArray(co, seed + 2, 0.5);
  return () => {
    const x = tf.tensor4d(xv, xShape as [number, number, number, number]);
    const f = tf.tensor4d(fv, fShape as [number, number, number, number]);
    const b = tf.tensor1d(bv);
    const y = tf.conv2d(x, f, stride, pad);
    const fused = (activation: 'linear' | 'relu', bias?: tf.Tensor1D) => tf.fused.conv2d({ x, filter: f, strides: stride, pad, bias, activation });
    // Gradients of a loss that weights every output differently, so a transposed or shifted gradient shows.
    const w = tf.tensor(randomArray(y.size, seed + 3), y.shape);
    const [dx, df] = tf.grads((a: tf.Tensor, k2: tf.Tensor) =>
      tf
        .conv2d(a as tf.Tensor4D, k2 as tf.Tensor4D, stride, pad)
        .mul(w)
        .sum(),
    )([x, f]);
    return [y, fused('relu', b), fused('linear', b), fused('relu'), dx, df];
  };
}

const LABELS = ['Conv2D', 'FusedConv2D bias+relu', 'FusedConv2D bias', 'FusedConv2D relu', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'];

describe('fast/nativeConv', function () {
  before(async function () {
    await initBackend('wasm');
    const n = nativeConvolutions();
    if (n.name === null) {
      if (process.env.DENSITY_SKIP_NATIVE === '1') this.skip();
      assert.fail(`the native convolutions are not available: ${(n as { reason: string }).reason} (DENSITY_SKIP_NATIVE=1 skips these tests)`);
    }
  });

  afterEach(() => {
    levers.nativeConv = true;
  });

  it('names oneDNN, its version and the AVX2 kernels it is capped at, and reports what is active', () => {
    const n = nativeConvolutions();
    assert.match(String(n.name), /^oneDNN \d+\.\d+\.\d+ \S+:avx2$/);
    assert.equal(activeConvolutions(), n.name);
    levers.nativeConv = false;
    assert.equal(activeConvolutions(), XNNPACK_CONVOLUTIONS);
  });

  it('takes over every conv kernel on wasm, each running natively (different bits from XNNPACK)', async () => {
    for (const name of NATIVE_CONV_KERNELS) assert.ok(tf.getKernel(name, 'wasm'), `${name} not registered`);
    const work = convWork([2, 8, 8, 4], [3, 3, 5], 1, 'same', 11);
    const native = await valuesOn('wasm', work);
    levers.nativeConv = false;
    const xnn = await valuesOn('wasm', work);
    // If a kernel silently fell back, its output would be XNNPACK's, bit for bit.
    native.forEach((v, i) => assert.ok(!sameBits(v, xnn[i]), `${LABELS[i]}: native and XNNPACK agree bit for bit: the native kernel did not run`));
  });

  for (const [i, [xs, k, s, p]] of CASES.entries()) {
    it(`matches the cpu backend and XNNPACK: x ${xs.join('x')}, filter ${k.join('x')}, stride ${s}, pad ${p}`, async () => {
      const work = convWork(xs, k, s, p, 100 + i);
      const ref = await valuesOn('cpu', work);
      const native = await valuesOn('wasm', work);
      levers.nativeConv = false;
      const xnn = await valuesOn('wasm', work);
      ref.forEach((r, j) => {
        assert.ok(maxRelDiff(r, native[j]) < 2e-5, `${LABELS[j]}: native vs cpu ${maxRelDiff(r, native[j])}`);
        assert.ok(maxRelDiff(xnn[j], native[j]) < 2e-5, `${LABELS[j]}: native vs XNNPACK ${maxRelDiff(xnn[j], native[j])}`);
      });
    });
  }

  it('is deterministic: the same inputs give the same bits on every call', async () => {
    const work = convWork([3, 12, 12, 8], [3, 3, 8], 1, 'same', 7);
    const a = await valuesOn('wasm', work);
    const b = await valuesOn('wasm', work);
    a.forEach((v, i) => assert.ok(sameBits(v, b[i]), `${LABELS[i]} differs between two calls`));
  });

  it('leaves what it does not cover to the wasm kernels, bit for bit (dilation, prelu)', async () => {
    const xv = randomArray(2 * 9 * 9 * 3, 5);
    const fv = randomArray(3 * 3 * 3 * 4, 6);
    const work = () => {
      const x = tf.tensor4d(xv, [2, 9, 9, 3]);
      const f = tf.tensor4d(fv, [3, 3, 3, 4]);
      return [
        tf.conv2d(x, f, 1, 'same', 'NHWC', 2),
        tf.fused.conv2d({ x, filter: f, strides: 1, pad: 'same', activation: 'prelu', preluActivationWeights: tf.scalar(0.1) }),
      ];
    };
    const native = await valuesOn('wasm', work);
    levers.nativeConv = false;
    const xnn = await valuesOn('wasm', work);
    native.forEach((v, i) => assert.ok(sameBits(v, xnn[i]), `case ${i}: not the wasm kernel's bits`));
  });

  it('keeps computing correctly past its table of 64 shapes (one entry dropped in rotation)', async () => {
    const fv = randomArray(3 * 3 * 2 * 3, 9);
    for (let batch = 1; batch <= 70; batch++) {
      const xv = randomArray(batch * 5 * 5 * 2, batch);
      const work = () => [tf.conv2d(tf.tensor4d(xv, [batch, 5, 5, 2]), tf.tensor4d(fv, [3, 3, 2, 3]), 1, 'same')];
      const [native] = await valuesOn('wasm', work);
      const [ref] = await valuesOn('cpu', work);
      assert.ok(maxRelDiff(ref, native) < 2e-5, `batch ${batch}: ${maxRelDiff(ref, native)}`);
    }
  });

  it("leaves a single output channel's filter gradient to the wasm kernel (oneDNN's slow case), and takes two", async () => {
    for (const co of [1, 2]) {
      const xv = randomArray(2 * 8 * 8 * 3, 21);
      const fv = randomArray(3 * 3 * 3 * co, 22);
      const work = () =>
        tf.grads((f: tf.Tensor) => tf.conv2d(tf.tensor4d(xv, [2, 8, 8, 3]), f as tf.Tensor4D, 1, 'same').sum())([tf.tensor4d(fv, [3, 3, 3, co])]);
      const before = nativeConvCalls.Conv2DBackpropFilter;
      const [native] = await valuesOn('wasm', work);
      assert.equal(nativeConvCalls.Conv2DBackpropFilter - before, co === 1 ? 0 : 1, `${co} output channel(s)`);
      const [ref] = await valuesOn('cpu', work);
      assert.ok(maxRelDiff(ref, native) < 2e-5, `${co} output channel(s): ${maxRelDiff(ref, native)}`);
    }
  });

  it('frees what it allocates', async () => {
    await tf.setBackend('wasm');
    const work = convWork([2, 8, 8, 4], [3, 3, 5], 1, 'same', 3);
    tf.dispose(tf.tidy(work));
    const before = tf.memory().numTensors;
    const bytes = tf.engine().backend.numDataIds();
    tf.dispose(tf.tidy(work));
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.engine().backend.numDataIds(), bytes);
  });

  it("records the convolutions in a stage's provenance, as the lever has them", () => {
    assert.equal(provenance().backend.convolutions, nativeConvolutions().name);
    levers.nativeConv = false;
    assert.equal(provenance().backend.convolutions, XNNPACK_CONVOLUTIONS);
  });

  it('reproduces a record with the convolutions it names, and refuses ones this machine lacks', () => {
    const use = (recorded?: string) => useRecordedFamily(NATIVE_KERNEL_FAMILIES.convolutions, recorded, 'abc');
    // Records from before the native convolutions name none: XNNPACK's.
    assert.equal(use(), true, 'returns the setting to restore');
    assert.equal(levers.nativeConv, false);
    assert.equal(use(String(nativeConvolutions().name)), false);
    assert.equal(levers.nativeConv, true);
    assert.throws(
      () => use('oneDNN 9.9.9 jit:avx512_core'),
      /run abc was computed with the convolutions 'oneDNN 9\.9\.9 jit:avx512_core', and this machine has 'oneDNN/,
    );
    assert.equal(levers.nativeConv, true, 'a refused record leaves the lever as it was');
  });
});
