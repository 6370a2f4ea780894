// Each wasm kernel fix is checked against the cpu backend on seeded random inputs, at kernel level and
// through tf.grad, plus a tiny conv+dense model. Leaves the backend as wasm (initBackend semantics).
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../lib/backend';
import { registerWasmKernelFixes, originalWasmKernel, WASM_KERNEL_FIXES } from '../../lib/fast/wasmKernelFixes';
import { levers } from '../../lib/fast/levers';
import { registerWasmGradientFixes, upstreamGradient, WASM_GRADIENT_FIXES } from '../../lib/fast/wasmGradientFixes';
import { randomArray, valuesOn } from '../backend/helpers';

function assertClose(ref: Float32Array, got: Float32Array, label: string): void {
  assert.equal(got.length, ref.length, `${label}: length`);
  let maxRef = 0,
    maxDiff = 0;
  for (let i = 0; i < ref.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    maxDiff = Math.max(maxDiff, Math.abs(ref[i] - got[i]));
  }
  assert.ok(maxRef > 0, `${label}: reference is all zeros, so the comparison would prove nothing`);
  const tol = 1e-4 * maxRef + 1e-5;
  assert.ok(maxDiff <= tol, `${label}: max |wasm - cpu| = ${maxDiff} > ${tol} (max |cpu| = ${maxRef})`);
}

async function compare(label: string, f: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const ref = await valuesOn('cpu', f);
  const got = await valuesOn('wasm', f);
  assert.equal(got.length, ref.length);
  ref.forEach((r, i) => assertClose(r, got[i], `${label} [output ${i}]`));
}

function wasmBackend(): BackendWasm {
  return tf.engine().findBackend('wasm') as BackendWasm;
}

/** Run `f` on wasm and check every backend buffer it made is freed once its outputs are disposed. */
async function assertNoLeak(label: string, f: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  await tf.setBackend('wasm');
  tf.dispose(tf.tidy(f)); // warm up: first calls may cache things
  const before = wasmBackend().numDataIds();
  tf.dispose(tf.tidy(f));
  assert.equal(wasmBackend().numDataIds(), before, `${label}: intermediate buffers leaked`);
}

/** How often the original (upstream) wasm kernel `name` ran while `f` ran on wasm (0: the fix handled it). */
async function originalCalls(name: string, f: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  await tf.setBackend('wasm');
  const original = originalWasmKernel(name);
  if (!original) throw new Error(`${name} has no original wasm kernel`);
  const real = original.kernelFunc;
  let calls = 0;
  original.kernelFunc = (params) => {
    calls++;
    return real(params);
  };
  try {
    tf.dispose(tf.tidy(f));
  } finally {
    original.kernelFunc = real;
  }
  return calls;
}

// [batch, inH, inW, inC], [kH, kW, outC], stride, pad
type ConvCase = [number[], number[], number | [number, number], 'same' | 'valid' | number | tf.backend_util.ExplicitPadding];
const CONV_CASES: ConvCase[] = [
  [[2, 7, 7, 3], [3, 3, 4], 1, 'same'],
  [[2, 7, 7, 3], [3, 3, 4], 1, 'valid'],
  [[2, 8, 8, 3], [3, 3, 4], 2, 'same'],
  [[2, 7, 7, 3], [3, 3, 4], 2, 'same'],
  [[2, 8, 8, 3], [3, 3, 4], 2, 'valid'],
  [[2, 9, 9, 2], [3, 3, 5], 2, 'valid'],
  [[3, 6, 5, 1], [2, 3, 2], [2, 1], 'same'],
  [[1, 10, 10, 4], [5, 5, 3], 2, 'same'],
  [[2, 6, 6, 2], [3, 3, 3], 1, 1],
  [
    [2, 9, 8, 2],
    [3, 3, 3],
    2,
    [
      [0, 0],
      [2, 1],
      [0, 3],
      [0, 0],
    ],
  ],
  [
    [1, 6, 6, 2],
    [2, 2, 3],
    1,
    [
      [0, 0],
      [3, 0],
      [0, 2],
      [0, 0],
    ],
  ],
  // CIFAR-sized stride-1 input, and pads larger than the filter.
  [[6, 32, 32, 3], [3, 3, 5], 1, 'same'],
  [
    [3, 20, 30, 4],
    [5, 3, 2],
    1,
    [
      [0, 0],
      [6, 1],
      [0, 4],
      [0, 0],
    ],
  ],
];

function convCaseName([xs, ks, s, p]: ConvCase): string {
  return `x ${xs.join('x')}, filter ${ks[0]}x${ks[1]}->${ks[2]}, stride ${JSON.stringify(s)}, pad ${JSON.stringify(p)}`;
}

function convShapes([xs, ks, s, p]: ConvCase) {
  const filterShape = [ks[0], ks[1], xs[3], ks[2]] as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], filterShape, s, 1, p);
  return { xShape: xs as [number, number, number, number], filterShape, dyShape: info.outShape };
}

describe('fast/wasmKernelFixes', function () {
  let fixes: string[] = [];

  before(async () => {
    const info = await initBackend('wasm');
    assert.equal(info.name, 'wasm');
    fixes = info.kernelFixes;
    // These tests are of XNNPACK's path; the native convolutions in front of it have their own (nativeConv.test.ts).
    levers.nativeConv = false;
  });

  after(async () => {
    levers.nativeConv = true;
    await tf.setBackend('wasm');
  });

  it('registers every fix on wasm, idempotently, and reports them in BackendInfo', () => {
    for (const name of WASM_KERNEL_FIXES) {
      assert.ok(fixes.includes(name), `${name} missing from kernelFixes`);
      assert.ok(tf.getKernel(name, 'wasm'), `${name} not registered on wasm`);
    }
    const configs = WASM_KERNEL_FIXES.map((n) => tf.getKernel(n, 'wasm'));
    assert.deepEqual(
      registerWasmKernelFixes(),
      fixes.filter((f) => !f.endsWith(' gradient')),
    );
    assert.deepEqual(
      registerWasmGradientFixes().map((n) => `${n} gradient`),
      fixes.filter((f) => f.endsWith(' gradient')),
    );
    WASM_KERNEL_FIXES.forEach((n, i) => assert.equal(tf.getKernel(n, 'wasm'), configs[i], `${n} re-registered`));
  });

  it('does not wrap its own wrappers when a second copy of the module registers again', () => {
    const path = require.resolve('../../lib/fast/wasmKernelFixes');
    const cached = require.cache[path];
    const configs = WASM_KERNEL_FIXES.map((n) => tf.getKernel(n, 'wasm'));
    try {
      delete require.cache[path];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require(path) as typeof import('../../lib/fast/wasmKernelFixes');
      fresh.registerWasmKernelFixes();
      WASM_KERNEL_FIXES.forEach((n, i) => assert.equal(tf.getKernel(n, 'wasm'), configs[i], `${n} was wrapped twice`));
    } finally {
      require.cache[path] = cached;
    }
  });

  it('runs single-threaded: WASM_HAS_MULTITHREAD_SUPPORT is never forced on (it fails in Node)', async () => {
    assert.equal(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'), false);
  });

  describe('Conv2DBackpropFilter (missing upstream)', () => {
    it('was not registered by tfjs-backend-wasm', () => {
      assert.equal(originalWasmKernel('Conv2DBackpropFilter'), undefined);
    });

    CONV_CASES.forEach((c, i) => {
      it(`matches cpu: ${convCaseName(c)}`, async () => {
        const { xShape, filterShape, dyShape } = convShapes(c);
        const x = randomArray(tf.util.sizeFromShape(xShape), 100 + i);
        const dy = randomArray(tf.util.sizeFromShape(dyShape), 200 + i);
        const f = () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, {
            strides: c[2],
            pad: c[3],
            dataFormat: 'NHWC',
            filterShape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
        await compare('dW', f);
        if (i === 2 || i === 0 || i === CONV_CASES.length - 2) await assertNoLeak('Conv2DBackpropFilter', f);
      });
    });

    it('throws a clear error for NCHW or dilations', async () => {
      await tf.setBackend('wasm');
      const x = tf.zeros([1, 5, 5, 2]),
        dy = tf.zeros([1, 5, 5, 3]);
      assert.throws(
        () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
            strides: 1,
            pad: 'same',
            dataFormat: 'NCHW',
            filterShape: [3, 3, 2, 3],
          } as unknown as tf.NamedAttrMap),
        /NHWC/,
      );
      assert.throws(
        () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
            strides: 1,
            pad: 'same',
            dataFormat: 'NHWC',
            dilations: 2,
            filterShape: [3, 3, 2, 3],
          } as unknown as tf.NamedAttrMap),
        /dilation 1/,
      );
      tf.dispose([x, dy]);
    });
  });

  describe('Conv2DBackpropInput (naive upstream)', () => {
    it('replaces the upstream kernel', () => {
      const original = originalWasmKernel('Conv2DBackpropInput');
      assert.ok(original && tf.getKernel('Conv2DBackpropInput', 'wasm') !== original);
    });

    CONV_CASES.forEach((c, i) => {
      it(`matches cpu: ${convCaseName(c)}`, async () => {
        const { xShape, filterShape, dyShape } = convShapes(c);
        const w = randomArray(tf.util.sizeFromShape(filterShape), 300 + i);
        const dy = randomArray(tf.util.sizeFromShape(dyShape), 400 + i);
        const f = () =>
          tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dy, dyShape), filter: tf.tensor(w, filterShape) }, {
            strides: c[2],
            pad: c[3],
            dataFormat: 'NHWC',
            inputShape: xShape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
        await compare('dx', f);
        if (i === 2) await assertNoLeak('Conv2DBackpropInput', f);
      });
    });

    it('conv2dTranspose (which runs this kernel) matches cpu', async () => {
      const dy = randomArray(2 * 4 * 4 * 5, 11),
        w = randomArray(3 * 3 * 2 * 5, 12);
      await compare('conv2dTranspose', () => tf.conv2dTranspose(tf.tensor4d(dy, [2, 4, 4, 5]), tf.tensor4d(w, [3, 3, 2, 5]), [2, 8, 8, 2], 2, 'same'));
    });
  });

  describe('MaxPoolGrad (wrong upstream for windows <= 0)', () => {
    // 4x4 single channel, 2x2/2 windows: all negative, mixed, all zero (a tie), positive.
    const x = Float32Array.from([-1, -2, 5, 0.5, -3, -0.5, 1, 2, 0, 0, -1, 0, 0, 0, -2, -3]);
    const weights = Float32Array.from([1, 2, 3, 4]);
    const pooledLoss = (t: tf.Tensor) =>
      tf
        .maxPool(t as tf.Tensor4D, 2, 2, 'valid')
        .mul(tf.tensor4d(weights, [1, 2, 2, 1]))
        .sum();

    it('the upstream wasm kernel really is wrong for all-negative windows (remove this fix if this fails)', async () => {
      const original = originalWasmKernel('MaxPoolGrad');
      assert.ok(original, 'tfjs-backend-wasm no longer registers MaxPoolGrad');
      await tf.setBackend('wasm');
      const backend = wasmBackend();
      const input = tf.tensor4d(x, [1, 4, 4, 1]);
      const output = tf.maxPool(input, 2, 2, 'valid');
      const dy = tf.tensor4d(weights, [1, 2, 2, 1]);
      const dx = original.kernelFunc({ inputs: { dy, input, output }, backend, attrs: { filterSize: 2, strides: 2, pad: 'valid' } }) as tf.TensorInfo;
      const upstream = backend.readSync(dx.dataId) as Float32Array;
      backend.disposeData(dx.dataId);
      tf.dispose([input, output, dy]);
      // cpu routes window 0's gradient (max -0.5) to index 5; upstream wasm does not.
      assert.notEqual(upstream[5], 1);
    });

    it('gives the cpu gradient on all-negative, tied and positive windows', async () => {
      const [ref] = await valuesOn('cpu', () => tf.grad(pooledLoss)(tf.tensor4d(x, [1, 4, 4, 1])));
      assert.deepEqual(Array.from(ref), [0, 0, 2, 0, 0, 1, 0, 0, 3, 0, 0, 4, 0, 0, 0, 0]);
      await compare('maxPool grad', () => tf.grad(pooledLoss)(tf.tensor4d(x, [1, 4, 4, 1])));
    });

    const cases: [number[], number | [number, number], number | [number, number], 'same' | 'valid' | number][] = [
      [[2, 8, 8, 3], 2, 2, 'valid'],
      [[1, 7, 9, 2], 2, 2, 'valid'], // 2x2/2 path with a row and a column no window covers
      [[2, 6, 6, 4], 2, 2, 'same'], // 2x2/2 path: even sizes need no padding
      [[2, 7, 7, 3], 2, 2, 'same'],
      [[2, 7, 7, 3], 3, 2, 'same'],
      [[2, 9, 9, 2], 3, 2, 'valid'],
      [[2, 6, 6, 4], 3, 1, 'same'],
      [[1, 7, 6, 2], [3, 2], [2, 1], 'same'],
      // Numeric pad only square: tfjs sizes a numeric-pad pool from the height alone, and wasm's forward
      // MaxPool then writes past its output for non-square windows (upstream, not these fixes).
      [[1, 7, 7, 2], 3, 2, 1],
    ];
    it('2x2/2 windows of NaN, -Infinity, ties and -0 gradients match cpu', async () => {
      // Windows (2x2 each): all NaN; all -Infinity; NaN then 1; a tie of 2s; -Infinity then 0 (dy -0).
      const xv = [NaN, NaN, -Infinity, -Infinity, NaN, 1, 2, 2, -Infinity, 0, NaN, NaN, -Infinity, -Infinity, -3, NaN, 0, 2, -Infinity, -Infinity];
      const dyv = [1, 2, 3, 4, -0];
      await compare('maxPool grad specials', () =>
        tf
          .grad((t: tf.Tensor) =>
            tf
              .maxPool(t as tf.Tensor4D, 2, 2, 'valid')
              .mul(tf.tensor4d(dyv, [1, 1, 5, 1]))
              .sum(),
          )(tf.tensor4d(xv, [1, 2, 10, 1]))
          .add(tf.scalar(1e-3)),
      ); // + 1e-3: a reference of zeros and one 2 would still prove little
      const [ref] = await valuesOn('cpu', () =>
        tf.grad((t: tf.Tensor) =>
          tf
            .maxPool(t as tf.Tensor4D, 2, 2, 'valid')
            .mul(tf.tensor4d(dyv, [1, 1, 5, 1]))
            .sum(),
        )(tf.tensor4d(xv, [1, 2, 10, 1])),
      );
      const [got] = await valuesOn('wasm', () =>
        tf.grad((t: tf.Tensor) =>
          tf
            .maxPool(t as tf.Tensor4D, 2, 2, 'valid')
            .mul(tf.tensor4d(dyv, [1, 1, 5, 1]))
            .sum(),
        )(tf.tensor4d(xv, [1, 2, 10, 1])),
      );
      assert.deepEqual(
        Array.from(got).map((v) => (Object.is(v, -0) ? '-0' : v)),
        Array.from(ref).map((v) => (Object.is(v, -0) ? '-0' : v)),
      );
    });

    cases.forEach(([shape, size, stride, pad], i) => {
      it(`matches cpu through tf.grad on mostly negative random input: x ${shape.join('x')}, ${JSON.stringify(size)}/${JSON.stringify(stride)} ${pad}`, async () => {
        // Shifted by -1.2 so most windows are all negative, the case upstream gets wrong (a relu before
        // the pool would hide it: relu's gradient is 0 there anyway).
        const x = randomArray(tf.util.sizeFromShape(shape), 500 + i).map((v) => v - 1.2);
        const dyW = randomArray(1000, 600 + i);
        const f = () =>
          tf.grad((t: tf.Tensor) => {
            const y = tf.maxPool(t as tf.Tensor4D, size, stride, pad);
            return y.mul(tf.tensor(dyW.subarray(0, y.size), y.shape)).sum();
          })(tf.tensor4d(x, shape as [number, number, number, number]));
        await compare('maxPool grad', f);
        if (i === 0) await assertNoLeak('MaxPoolGrad', f);
      });
    });
  });

  describe('BatchMatMul and _FusedMatMul (transposes made explicit)', () => {
    const combos: [boolean, boolean][] = [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ];

    combos.forEach(([ta, tb]) => {
      it(`matMul matches cpu, transposeA=${ta} transposeB=${tb}, rank 2 and batched rank 3`, async () => {
        const [m, k, n] = [5, 7, 3];
        const a2 = randomArray(m * k, 1),
          b2 = randomArray(k * n, 2);
        const aShape = ta ? [k, m] : [m, k],
          bShape = tb ? [n, k] : [k, n];
        await compare('matMul 2d', () => tf.matMul(tf.tensor2d(a2, aShape as [number, number]), tf.tensor2d(b2, bShape as [number, number]), ta, tb));
        const a3 = randomArray(3 * m * k, 3),
          b3 = randomArray(3 * k * n, 4);
        await compare('matMul 3d', () =>
          tf.matMul(tf.tensor3d(a3, [3, ...aShape] as [number, number, number]), tf.tensor3d(b3, [3, ...bShape] as [number, number, number]), ta, tb),
        );
        // broadcast batch: [1,...] x [3,...]
        await compare('matMul broadcast', () =>
          tf.matMul(tf.tensor3d(a2, [1, ...aShape] as [number, number, number]), tf.tensor3d(b3, [3, ...bShape] as [number, number, number]), ta, tb),
        );
      });

      it(`fused matMul (bias, relu) matches cpu, transposeA=${ta} transposeB=${tb}`, async () => {
        const [m, k, n] = [6, 9, 4];
        const a = randomArray(m * k, 5),
          b = randomArray(k * n, 6),
          bias = randomArray(n, 7);
        const aShape = (ta ? [k, m] : [m, k]) as [number, number],
          bShape = (tb ? [n, k] : [k, n]) as [number, number];
        await compare('fused matMul', () =>
          tf.fused.matMul({
            a: tf.tensor2d(a, aShape),
            b: tf.tensor2d(b, bShape),
            transposeA: ta,
            transposeB: tb,
            bias: tf.tensor1d(bias),
            activation: 'relu',
          }),
        );
      });
    });

    it('matMul gradients (all transposes) match cpu', async () => {
      const a = randomArray(6 * 8, 8),
        b = randomArray(8 * 5, 9);
      for (const [ta, tb] of combos) {
        const aShape = (ta ? [8, 6] : [6, 8]) as [number, number],
          bShape = (tb ? [5, 8] : [8, 5]) as [number, number];
        await compare(`matMul grads ta=${ta} tb=${tb}`, () =>
          tf.grads((x: tf.Tensor, y: tf.Tensor) =>
            tf
              .matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb)
              .square()
              .sum(),
          )([tf.tensor2d(a, aShape), tf.tensor2d(b, bShape)]),
        );
      }
    });

    it('hands XNNPACK untransposed operands: the original kernel only ever sees transposeA=transposeB=false', async () => {
      await tf.setBackend('wasm');
      for (const name of ['BatchMatMul', '_FusedMatMul']) {
        const original = originalWasmKernel(name);
        assert.ok(original && tf.getKernel(name, 'wasm') !== original, `${name} is not wrapped`);
        const seen: unknown[] = [];
        const realFunc = original.kernelFunc;
        original.kernelFunc = (params) => {
          seen.push([params.attrs?.transposeA, params.attrs?.transposeB]);
          return realFunc(params);
        };
        try {
          const a = tf.randomNormal([8, 6]),
            b = tf.randomNormal([5, 8]);
          tf.dispose(name === 'BatchMatMul' ? tf.matMul(a, b, true, true) : tf.fused.matMul({ a, b, transposeA: true, transposeB: true, bias: tf.ones([5]) }));
          tf.dispose([a, b]);
        } finally {
          original.kernelFunc = realFunc;
        }
        assert.deepEqual(seen, [[false, false]], name);
      }
    });

    it('frees the transposed intermediates', async () => {
      const a = randomArray(6 * 8, 8),
        b = randomArray(5 * 8, 9),
        bias = randomArray(5, 10);
      await assertNoLeak('BatchMatMul', () => tf.matMul(tf.tensor2d(a, [8, 6]), tf.tensor2d(b, [5, 8]), true, true));
      await assertNoLeak('_FusedMatMul', () =>
        tf.fused.matMul({ a: tf.tensor2d(a, [8, 6]), b: tf.tensor2d(b, [5, 8]), transposeA: true, transposeB: true, bias: tf.tensor1d(bias) }),
      );
    });
  });

  describe('gradients through ops and a model', () => {
    const gradCases: [number[], number[], number, 'same' | 'valid'][] = [
      [[3, 8, 8, 2], [3, 3, 4], 1, 'same'],
      [[3, 8, 8, 2], [3, 3, 4], 2, 'same'],
      [[3, 9, 9, 2], [3, 3, 4], 2, 'valid'],
      [[3, 9, 9, 2], [3, 3, 4], 1, 'valid'],
    ];
    gradCases.forEach(([xs, ks, s, p], i) => {
      it(`tf.grad of conv2d and fused conv2d (bias) wrt x, filter, bias matches cpu: stride ${s}, ${p}`, async () => {
        const fShape = [ks[0], ks[1], xs[3], ks[2]] as [number, number, number, number];
        const x = randomArray(tf.util.sizeFromShape(xs), 700 + i),
          w = randomArray(tf.util.sizeFromShape(fShape), 800 + i),
          bias = randomArray(ks[2], 900 + i);
        const target = randomArray(10000, 1000 + i);
        const loss = (y: tf.Tensor) =>
          y
            .sub(tf.tensor(target.subarray(0, y.size), y.shape))
            .square()
            .sum();
        await compare('conv2d grads', () =>
          tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, p)))([
            tf.tensor4d(x, xs as [number, number, number, number]),
            tf.tensor4d(w, fShape),
          ]),
        );
        await compare('fused conv2d grads', () =>
          tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
            loss(tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: s, pad: p, bias: c })),
          )([tf.tensor4d(x, xs as [number, number, number, number]), tf.tensor4d(w, fShape), tf.tensor1d(bias)]),
        );
      });
    });

    it('a tiny conv + maxPool + dense model: loss and every weight gradient match cpu', async () => {
      const build = () => {
        const m = tf.sequential();
        m.add(tf.layers.conv2d({ inputShape: [10, 10, 1], filters: 4, kernelSize: 3, activation: 'relu', padding: 'same' }));
        m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
        m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu' }));
        m.add(tf.layers.flatten());
        m.add(tf.layers.dense({ units: 8, activation: 'relu' }));
        m.add(tf.layers.dense({ units: 3 })); // logits for softmaxCrossEntropy
        return m;
      };
      const shapes = await (async () => {
        await tf.setBackend('cpu');
        const m = build();
        const s = m.getWeights().map((w) => w.shape);
        m.dispose();
        return s;
      })();
      const weights = shapes.map((s, i) => randomArray(tf.util.sizeFromShape(s), 1100 + i, 0.3));
      const xs = randomArray(6 * 10 * 10, 1200);
      const labels = Array.from({ length: 6 }, (_, i) => i % 3);
      const f = () => {
        const m = build();
        m.setWeights(shapes.map((s, i) => tf.tensor(weights[i], s)));
        const x = tf.tensor4d(xs, [6, 10, 10, 1]);
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
        const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, m.apply(x) as tf.Tensor) as tf.Scalar, vars);
        const out = [value, ...vars.map((v) => grads[v.name])];
        m.dispose();
        return out;
      };
      await compare('model loss and grads', f);
    });
  });

  describe('Sum and Mean over leading axes (SIMD column sums instead of transpose + sum)', () => {
    // [shape, axis, keepDims, fast path?]; inner sizes cover the 32-column, 4-column and single-column paths.
    const cases: [number[], number | number[], boolean, boolean][] = [
      [[4, 5, 6, 3], [0, 1, 2], false, true],
      [[3, 5, 6, 2], [0, 1], true, true],
      [[3, 5, 6, 2], [1, 0], false, false], // wasm sums in the given axis order: the original keeps that order's bits
      [[4, 5, 6, 3], [-4, -3, -2], false, true],
      [[2, 3, 4, 5, 2], [0, 1], false, true],
      [[7, 37], 0, false, true],
      [[6, 5, 300], [0, 1], false, true],
      [[4, 5, 6, 3], [1, 2], false, false],
      [[4, 5, 6, 3], [0, 1, 2, 3], false, false],
      [[1, 1, 1, 5], [0, 1, 2], false, false],
    ];
    cases.forEach(([shape, axis, keepDims, fast], i) => {
      for (const op of ['sum', 'mean'] as const) {
        it(`${op} of x ${shape.join('x')} over ${JSON.stringify(axis)}${keepDims ? ' keepDims' : ''} matches cpu (${fast ? 'fast path' : 'original kernel'})`, async () => {
          const x = randomArray(tf.util.sizeFromShape(shape), 1300 + i);
          const f = () => tf[op](tf.tensor(x, shape), axis, keepDims);
          await compare(op, f);
          // The same bits as wasm's own kernel (so results computed before this fix are reproduced exactly).
          const kernel = op === 'sum' ? 'Sum' : 'Mean';
          const [fixed] = await valuesOn('wasm', f);
          levers.wasmKernelFixes[kernel] = false;
          try {
            const [upstream] = await valuesOn('wasm', f);
            assert.deepEqual(Array.from(new Uint32Array(fixed.buffer)), Array.from(new Uint32Array(upstream.buffer)), 'bits differ from the original kernel');
          } finally {
            levers.wasmKernelFixes[kernel] = true;
          }
          const calls = await originalCalls(kernel, f);
          assert.equal(calls, fast ? 0 : 1, fast ? 'the original kernel ran' : 'expected the original kernel');
          if (i === 0) await assertNoLeak(op, f);
        });
      }
    });

    it('int32 sums keep the original kernel and stay exact', async () => {
      const f = () => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0);
      assert.deepEqual(Array.from((await valuesOn('wasm', f))[0]), [9, 12]);
      assert.equal(await originalCalls('Sum', f), 1);
    });
  });

  describe('GatherV2 (one copy per gathered slice)', () => {
    // [x shape, indices, axis, fast path?]
    const cases: [number[], number[], number, boolean][] = [
      [[7, 5], [3, 0, 6, 3], 0, true],
      [[4, 6, 3], [5, 0, 2], 1, true],
      [[3, 4, 5], [4, 4, 1], 2, true],
      [[6, 2], [], 0, true],
    ];
    cases.forEach(([shape, idx, axis, fast], i) => {
      it(`gather x ${shape.join('x')} at ${JSON.stringify(idx)} on axis ${axis} matches cpu`, async () => {
        const x = randomArray(tf.util.sizeFromShape(shape), 1450 + i);
        const f = () => tf.gather(tf.tensor(x, shape), tf.tensor1d(idx, 'int32'), axis).add(tf.scalar(1)); // + 1: an empty gather still compares shapes
        if (idx.length > 0) await compare('gather', f);
        assert.deepEqual(
          (await valuesOn('wasm', () => tf.gather(tf.tensor(x, shape), tf.tensor1d(idx, 'int32'), axis)))[0].length,
          (idx.length * tf.util.sizeFromShape(shape)) / shape[axis],
        );
        assert.equal(await originalCalls('GatherV2', f), fast ? 0 : 1);
        if (i === 0) await assertNoLeak('GatherV2', f);
      });
    });

    it('2-d indices, int32 values and batchDims (original kernel) match cpu; out-of-range indices throw', async () => {
      await compare('2-d indices', () => tf.gather(tf.tensor2d(randomArray(12, 1460), [4, 3]), tf.tensor2d([1, 3, 0, 2], [2, 2], 'int32')));
      await compare('int32', () => tf.cast(tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([2, 0], 'int32')), 'float32'));
      const batched = () => tf.gather(tf.tensor2d(randomArray(12, 1461), [2, 6]), tf.tensor2d([1, 5, 0, 2], [2, 2], 'int32'), 1, 1);
      await compare('batchDims 1', batched);
      assert.equal(await originalCalls('GatherV2', batched), 1);
      await tf.setBackend('wasm');
      assert.throws(() => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([2], 'int32')), /index value 2 is not in \[0, 1\]/);
    });
  });

  describe('Identity and Cast share data instead of copying', () => {
    it('clone and same-dtype cast add no buffer, and outlive their source', async () => {
      await tf.setBackend('wasm');
      const x = tf.tensor1d([1.5, -2, 3]);
      const before = wasmBackend().numDataIds();
      const c = tf.clone(x);
      const k = tf.cast(x, 'float32');
      assert.equal(wasmBackend().numDataIds(), before, 'a copy was made');
      x.dispose();
      assert.deepEqual(Array.from(await c.data()), [1.5, -2, 3]);
      assert.deepEqual(Array.from(await k.data()), [1.5, -2, 3]);
      tf.dispose([c, k]);
      assert.equal(wasmBackend().numDataIds(), before - 1, 'shared data not freed with its last tensor');
    });

    // Upstream wasm casts to bool by a raw typed-array copy (-1 -> 255, 0.5 -> 0, 256 -> 0); fixed here as x != 0.
    it('casts to another dtype convert like cpu (to bool: x != 0)', async () => {
      await compare('float32 -> int32', () => tf.cast(tf.cast(tf.tensor1d([1.7, -2.2, 3.5, 0]), 'int32'), 'float32'));
      await compare('bool -> float32', () => tf.cast(tf.tensor1d([true, false, true], 'bool'), 'float32'));
      await compare('int32 -> bool', () => tf.cast(tf.cast(tf.tensor1d([0, 3, -1, 256], 'int32'), 'bool'), 'float32'));
      await compare('float32 -> bool', () => tf.cast(tf.cast(tf.tensor1d([0, 0.5, -1, 256, -0], 'float32'), 'bool'), 'float32'));
    });
  });

  describe('Tile (leading-axis repeats by doubling copies)', () => {
    // [shape, reps, fast path?]
    const cases: [number[], number[], boolean][] = [
      [[1, 1, 1, 5], [3, 4, 2, 1], true],
      [[2, 3], [5, 1], true],
      [[1, 3, 2], [7, 1, 1], true],
      [[1, 4], [1, 1], false],
      [[2, 3], [1, 2], false],
      [[2, 1, 3], [2, 3, 1], false],
    ];
    cases.forEach(([shape, reps, fast], i) => {
      it(`tile x ${shape.join('x')} by ${JSON.stringify(reps)} matches cpu (${fast ? 'fast path' : 'original kernel'})`, async () => {
        const x = randomArray(tf.util.sizeFromShape(shape), 1400 + i);
        const f = () => tf.tile(tf.tensor(x, shape), reps);
        await compare('tile', f);
        assert.equal(await originalCalls('Tile', f), fast ? 0 : 1);
        if (i === 0) await assertNoLeak('Tile', f);
      });
    });

    it('int32 and bool tiles and broadcastTo match cpu', async () => {
      await compare('int32', () => tf.cast(tf.tile(tf.tensor2d([1, -2, 3], [1, 3], 'int32'), [4, 1]), 'float32'));
      await compare('bool', () => tf.cast(tf.tile(tf.tensor2d([true, false], [1, 2], 'bool'), [3, 1]), 'float32'));
      await compare('broadcastTo', () => tf.broadcastTo(tf.tensor1d([1, 2, 3]), [2, 4, 3]));
    });
  });

  describe('FusedBatchNorm and Mean gradients (rewritten for wasm; cpu keeps upstream)', () => {
    const shape: [number, number, number, number] = [4, 5, 6, 3];
    const n = tf.util.sizeFromShape(shape);
    const xs = randomArray(n, 1500).map((v) => 2 * v + 0.7); // a mean away from 0, like a conv output
    const target = randomArray(n, 1501);
    const gamma = Float32Array.from([0.5, -1.2, 2]),
      beta = Float32Array.from([0.1, 0, -0.3]);

    // Scale and offset are always given: tfjs cannot differentiate a batchNorm without scale (it clones the
    // missing input) and wasm's forward kernel needs both, so tf.layers always passes them.
    const bn = (x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps = 1e-5) =>
      tf.batchNorm(x as tf.Tensor4D, mean as tf.Tensor1D, variance as tf.Tensor1D, b as tf.Tensor1D, g as tf.Tensor1D, eps);

    // BatchNorm as tf.layers trains it: statistics from tf.moments of the same x, so gradients also flow through them.
    it('batch statistics: d loss / d x, scale, offset match cpu', async () => {
      await compare('bn grads', () =>
        tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          return bn(x, mean, variance, g, b).mul(tf.tensor(target, shape)).sum();
        })([tf.tensor4d(xs, shape), tf.tensor1d(gamma), tf.tensor1d(beta)]),
      );
    });

    it('independent statistics: gradients for x, mean, variance, scale and offset match cpu', async () => {
      const mean = Float32Array.from([0.3, -0.2, 1]),
        variance = Float32Array.from([1.5, 0.4, 2.2]);
      await compare('bn grads', () =>
        tf.grads((x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => bn(x, m, v, g, b, 1e-3).mul(tf.tensor(target, shape)).sum())([
          tf.tensor4d(xs, shape),
          tf.tensor1d(mean),
          tf.tensor1d(variance),
          tf.tensor1d(gamma),
          tf.tensor1d(beta),
        ]),
      );
    });

    // (Statistics broadcast at rank 4 would take the upstream gradient, which tfjs 4.22 cannot compute for them.)
    it('rank-2 input (dense BatchNorm) matches cpu', async () => {
      const x2 = xs.subarray(0, 40 * 3);
      await compare('rank 2', () =>
        tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const { mean, variance } = tf.moments(x, [0]);
          return tf
            .batchNorm(x as tf.Tensor2D, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, 1e-5)
            .mul(tf.tensor(target.subarray(0, 120), [40, 3]))
            .sum();
        })([tf.tensor2d(x2, [40, 3]), tf.tensor1d(gamma), tf.tensor1d(beta)]),
      );
    });

    it('runs the rewrite on wasm (no upstream gradient, no Tile) and the upstream gradient on cpu', async () => {
      const up = upstreamGradient('FusedBatchNorm');
      assert.ok(up && tf.getGradient('FusedBatchNorm') !== up, 'FusedBatchNorm gradient not replaced');
      const realUp = up.gradFunc;
      let upCalls = 0;
      up.gradFunc = (...args) => {
        upCalls++;
        return realUp(...args);
      };
      const f = () =>
        tf.grad((x: tf.Tensor) => {
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          return bn(x, mean, variance, tf.tensor1d(gamma), tf.tensor1d(beta)).mul(tf.tensor(target, shape)).sum();
        })(tf.tensor4d(xs, shape));
      try {
        const tileCalls = await originalCalls('Tile', f);
        assert.equal(upCalls, 0, 'upstream gradient ran on wasm');
        assert.equal(tileCalls, 0, 'slow Tile ran on wasm');
        await valuesOn('cpu', f);
        assert.equal(upCalls, 1, 'cpu must use the upstream gradient');
      } finally {
        up.gradFunc = realUp;
      }
      await assertNoLeak('bn grad', f);
    });

    it('Mean gradient over leading and other axes matches cpu', async () => {
      for (const axes of [[0, 1, 2], [0], [1, 2], [0, 1, 2, 3]]) {
        await compare(`mean grad ${JSON.stringify(axes)}`, () =>
          tf.grad((x: tf.Tensor) =>
            tf
              .mean(x, axes)
              .mul(tf.tensor(target.subarray(0, tf.mean(x, axes).size), tf.mean(x, axes).shape))
              .sum(),
          )(tf.tensor4d(xs, shape)),
        );
      }
      assert.ok(WASM_GRADIENT_FIXES.includes('Mean'));
    });

    it('a conv + BatchNorm (training mode) + residual + global pool model: loss and every gradient match cpu', async () => {
      const build = () => {
        const input = tf.input({ shape: [8, 8, 2] });
        const c0 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(input) as tf.SymbolicTensor;
        const b0 = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(c0) as tf.SymbolicTensor;
        const r0 = tf.layers.activation({ activation: 'relu' }).apply(b0) as tf.SymbolicTensor;
        const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(r0) as tf.SymbolicTensor;
        const b1 = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(c1) as tf.SymbolicTensor;
        const sum = tf.layers.add().apply([b1, r0]) as tf.SymbolicTensor;
        const pooled = tf.layers.globalAveragePooling2d({}).apply(tf.layers.activation({ activation: 'relu' }).apply(sum)) as tf.SymbolicTensor;
        return tf.model({ inputs: input, outputs: tf.layers.dense({ units: 3 }).apply(pooled) as tf.SymbolicTensor });
      };
      const shapes = await (async () => {
        await tf.setBackend('cpu');
        const m = build();
        const s = m.getWeights().map((w) => w.shape);
        m.dispose();
        return s;
      })();
      // Weight order per BatchNorm: gamma, beta, moving mean, moving variance (indices 4 and 9: kept positive).
      const weights = shapes.map((s, i) => randomArray(tf.util.sizeFromShape(s), 1600 + i, 0.4).map((v) => (i === 4 || i === 9 ? Math.abs(v) + 0.5 : v)));
      const x = randomArray(6 * 8 * 8 * 2, 1700);
      const labels = [0, 1, 2, 0, 1, 2];
      const f = () => {
        const m = build();
        m.setWeights(shapes.map((s, i) => tf.tensor(weights[i], s)));
        const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
        const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(y, m.apply(tf.tensor4d(x, [6, 8, 8, 2]), { training: true }) as tf.Tensor) as tf.Scalar,
          vars,
        );
        const out = [value, ...vars.map((v) => grads[v.name])];
        m.dispose();
        return out;
      };
      await compare('model loss and grads', f);
    });
  });
});
