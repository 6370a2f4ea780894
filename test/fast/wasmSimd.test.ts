// The sparse x dense product (lib/fast/wasmSimd.ts) against tf.matMul of the same dense matrices on wasm:
// equal bit for bit (both sum over k in order with separate multiply and add), for every column-block path.
// And the trajectory's first-layer update against its JS reference (lib/prune/trajectory.ts), level by level.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { csrMatMulOp, hasCsrMatMul, CSR_MATMUL, wasmFirstLayer } from '../../lib/fast/wasmSimd';
import { removedByRow, updateFirstLayer } from '../../lib/fast/denseStackTrajectory';
import { Rng } from '../../lib/rng';

/** A seeded m x k matrix with about `density` of its entries nonzero, dense and in CSR form. */
function sparseMatrix(m: number, k: number, density: number, seed: number) {
  const r = new Rng(seed);
  const dense = new Float32Array(m * k);
  const rowPtr = new Int32Array(m + 1),
    idx: number[] = [],
    vals: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < k; j++) {
      if (r.next() < density) {
        const v = Math.fround(r.normal());
        dense[i * k + j] = v;
        idx.push(j);
        vals.push(v);
      }
    }
    rowPtr[i + 1] = idx.length;
  }
  return { dense, rowPtr, idx: Int32Array.from(idx), vals: Float32Array.from(vals) };
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

describe('fast/wasmSimd: DensityCsrMatMul', function () {
  before(async () => {
    await initBackend('wasm');
  });

  // [m, k, n, density]: n covers 32-column blocks, 4-column blocks and single columns; rows may be empty.
  const cases: [number, number, number, number][] = [
    [5, 7, 1, 0.5],
    [6, 9, 3, 0.4],
    [4, 10, 4, 0.5],
    [7, 12, 30, 0.3],
    [3, 40, 32, 0.2],
    [9, 33, 33, 0.25],
    [20, 784, 300, 0.19],
    [4, 5, 70, 0.1],
  ];
  cases.forEach(([m, k, n, density], i) => {
    it(`equals tf.matMul bit for bit: [${m}x${k}] (density ${density}) x [${k}x${n}]`, async () => {
      const a = sparseMatrix(m, k, density, 10 + i);
      const b = Float32Array.from(new Rng(50 + i).permutation(k * n), (v) => Math.fround(Math.sin(v) * 3));
      const got = tf.tidy(
        () => csrMatMulOp(tf.tensor1d(a.rowPtr, 'int32'), tf.tensor1d(a.idx, 'int32'), tf.tensor1d(a.vals), tf.tensor2d(b, [k, n])).dataSync() as Float32Array,
      );
      const ref = tf.tidy(() => tf.matMul(tf.tensor2d(a.dense, [m, k]), tf.tensor2d(b, [k, n])).dataSync() as Float32Array);
      assert.ok(ref.some((v) => v !== 0));
      assert.deepEqual(bits(got), bits(ref));
    });
  });

  // With a bias per row of A: bias + A b accumulated from the bias, rows inside column blocks; equal bit for bit
  // to XNNPACK's fused product with that bias (computed transposed: (b^T A^T + bias)^T).
  for (const [m, k, n, density] of [
    [3, 7, 5, 0.5],
    [10, 30, 70, 0.3],
    [100, 300, 203, 0.2],
    [4, 9, 33, 0],
  ] as [number, number, number, number][]) {
    it(`with a bias equals tf.fused.matMul with that bias, bit for bit: [${m}x${k}] (density ${density}) x [${k}x${n}]`, () => {
      const a = sparseMatrix(m, k, density, m + n);
      const r = new Rng(k);
      const b = Float32Array.from({ length: k * n }, () => (r.next() < 0.4 ? 0 : Math.fround(r.normal())));
      const bias = Float32Array.from({ length: m }, () => Math.fround(r.normal()));
      const got = tf.tidy(
        () =>
          csrMatMulOp(
            tf.tensor1d(a.rowPtr, 'int32'),
            tf.tensor1d(a.idx, 'int32'),
            tf.tensor1d(a.vals),
            tf.tensor2d(b, [k, n]),
            tf.tensor1d(bias),
          ).dataSync() as Float32Array,
      );
      const ref = tf.tidy(
        () =>
          tf
            .transpose(
              tf.fused.matMul({
                a: tf.transpose(tf.tensor2d(b, [k, n])) as tf.Tensor2D,
                b: tf.transpose(tf.tensor2d(a.dense, [m, k])) as tf.Tensor2D,
                bias: tf.tensor1d(bias),
              }),
            )
            .dataSync() as Float32Array,
      );
      // (A term skipped because A's entry is 0 could only change the sign of a zero sum; the bits agree here.)
      assert.deepEqual(bits(got), bits(ref));
      assert.ok(got.some((v) => v !== 0));
    });
  }

  it('is registered on wasm only, and rejects malformed CSR input instead of reading stray memory', async () => {
    assert.ok(hasCsrMatMul());
    assert.equal(tf.getKernel(CSR_MATMUL, 'cpu'), undefined);
    const b = tf.ones([3, 4]) as tf.Tensor2D;
    const call = (ptr: number[], idx: number[], vals: number[]) => () =>
      tf.tidy(() => csrMatMulOp(tf.tensor1d(ptr, 'int32'), tf.tensor1d(idx, 'int32'), tf.tensor1d(vals), b));
    assert.throws(call([0, 1], [3], [1]), /index 3 is not a row of b/);
    assert.throws(call([0, 1], [-1], [1]), /index -1/);
    assert.throws(call([0, 2], [0], [1]), /rowPtr must run from 0 to nnz/);
    assert.throws(call([0, 2, 1], [0, 1], [1, 1]), /rowPtr/);
    assert.throws(
      () => tf.tidy(() => csrMatMulOp(tf.tensor1d([0, 1], 'int32'), tf.tensor1d([0], 'int32'), tf.tensor1d([1]), b, tf.tensor1d([1, 2]))),
      /bias must be float32 with one value per row of A \(1\)/,
    );
    const before = tf.memory().numTensors;
    tf.dispose(call([0, 0, 2], [0, 2], [2, 3])());
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(Array.from(tf.tidy(() => call([0, 0, 2], [0, 2], [2, 3])().dataSync())), [0, 0, 0, 0, 5, 5, 5, 5]);
    b.dispose();
  });
});

describe('fast/wasmSimd: first-layer update of the pruning trajectory', function () {
  before(async () => {
    await initBackend('wasm');
  });

  /** Seeded inputs [n, d] with ~30% nonzeros in CSR form, a kernel [d, h], a removal order and pre-activations. */
  function fixture(n: number, d: number, h: number, seed: number) {
    const r = new Rng(seed);
    const a = sparseMatrix(n, d, 0.3, seed);
    const xs = { start: Uint32Array.from(a.rowPtr), feat: Uint32Array.from(a.idx), val: a.vals };
    const kernel = Float32Array.from({ length: d * h }, () => Math.fround(r.normal()));
    const order = Uint32Array.from(r.permutation(d * h));
    const pre = Float64Array.from({ length: n * h }, () => r.normal());
    return { xs, kernel, order, pre };
  }

  // [n, d, h, relu]: h odd (the scalar tail after unit pairs) and even; relu and linear.
  for (const [n, d, h, relu] of [
    [13, 20, 7, true],
    [40, 64, 30, true],
    [9, 11, 16, false],
    [25, 30, 1, true],
  ] as [number, number, number, boolean][]) {
    it(`equals the JS reference bit for bit over 10 levels: n ${n}, d ${d}, h ${h}, ${relu ? 'relu' : 'linear'}`, () => {
      const { xs, kernel, order, pre } = fixture(n, d, h, n + d + h);
      const state = wasmFirstLayer(xs, n, d, h, pre);
      assert.ok(state, 'wasm backend active, so a wasm state');
      const refPre = pre.slice();
      const refHidden = new Float32Array(n * h);
      const per = Math.max(1, Math.floor((d * h) / 10));
      try {
        for (let level = 0; level <= 10; level++) {
          const removed = level === 0 ? null : removedByRow(kernel, d, h, order, (level - 1) * per, Math.min(d * h, level * per));
          updateFirstLayer(refPre, refHidden, relu, xs, h, removed);
          // Odd levels write the activations transposed ([h, n], for the sparse second layer).
          const transposed = level % 2 === 1;
          state.update(removed, relu, transposed);
          const got = state.hidden.dataSync() as Float32Array;
          const want = transposed ? Float32Array.from({ length: n * h }, (_, q) => refHidden[(q % n) * h + Math.floor(q / n)]) : refHidden;
          assert.deepEqual(bits(got), bits(want), `level ${level}${transposed ? ' (transposed)' : ''}`);
        }
        // The reference really changed and, with relu, clipped some units to 0.
        assert.ok(refPre.some((v, i) => v !== pre[i]));
        if (relu) assert.ok(refHidden.some((v) => v === 0) && refHidden.some((v) => v > 0));
        else assert.ok(refHidden.some((v) => v < 0));
      } finally {
        state.dispose();
      }
    });
  }

  it('rejects indices the kernel would follow out of its buffers, and leaks no tensors', () => {
    const { xs, kernel, order, pre } = fixture(6, 8, 5, 3);
    const before = tf.memory().numTensors;
    assert.throws(() => wasmFirstLayer(xs, 6, 8, 4, pre), /pre has 30 values/);
    const badFeat = { ...xs, feat: xs.feat.map((f, i) => (i === 0 ? 8 : f)) };
    assert.throws(() => wasmFirstLayer(badFeat, 6, 8, 5, pre), /feature 8 is not < 8/);
    const state = wasmFirstLayer(xs, 6, 8, 5, pre)!;
    const removed = removedByRow(kernel, 8, 5, order, 0, 10);
    assert.throws(() => state.update({ ...removed, rowStart: removed.rowStart.slice(0, 8) }, true), /rowStart must have 9 entries/);
    assert.throws(() => state.update({ ...removed, cols: removed.cols.map(() => 5) }, true), /column 5 is not < 5/);
    const decreasing = removed.rowStart.slice();
    decreasing[3] = decreasing[4] + 1;
    assert.throws(() => state.update({ ...removed, rowStart: decreasing }, true), /rowStart decreases/);
    state.update(removed, true);
    state.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
