// A hand-written SGD step for plain Dense stacks (the MLP: flatten -> dense relu ... -> dense linear), used by
// trainModel in place of optimizer.minimize for such models. It does the generic step's arithmetic in the same
// order (the same kernels on the same inputs, except the first layer on wasm, below), so it produces the same bits
// (test/fast/denseSgdStep.test.ts); what it drops is the overhead around them (the gradient tape, layer calls, the
// optimizer's per-variable bookkeeping, transposes of the input batch) and, on wasm, the first layer's zeros.
//
// On wasm the first layer skips the batch's zero pixels, which changes no bit: XNNPACK accumulates each output
// over k in order from +0 (multiply, then add), so dropping terms that are 0 changes no sum; and a weight whose
// gradient is 0 is left as it was either way. Two ways (tests check both bit for bit against the generic step):
//  - sparse (a relu first layer, the MLP): X W1 and X^T dZ1 as sparse x dense products over the nonzero pixels
//    only (lib/fast/wasmSimd.ts; MNIST batches are ~80% zeros, so ~3.4x fewer multiply-adds);
//  - columns (otherwise, e.g. a linear first layer, where tfjs adds the bias inside the product): XNNPACK over
//    the columns that are nonzero somewhere in the batch (~2/3 of MNIST's 784), only those rows of W1 updated.
// Other backends may block their sums over k, so they use every column.
//
// The generic step, op by op (tfjs 4.22 during tf.variableGrads, where hidden layers are not fused):
//   hidden:  z = add(matMul(h, W), b); h' = relu(z)         backward: dz = mul(dh, step(z)); db = sum(dz, 0);
//                                                                       dW = matMul(h, dz, true); dh = matMul(dz, W, false, true)
//   output:  logits = fused.matMul(h, W, b, 'linear')        backward: as hidden without the relu
//   loss:    mean(sum(-(logits - logSumExp(logits)) * y, 1)) backward: dlogits = (1/c) * (exp(logits - lse) - y)
//   SGD:     W = add(mul(-lr, dW), W)
import * as tf from '@tensorflow/tfjs';
import { levers } from './levers';
import { csrMatMulOp, hasCsrMatMul } from './wasmSimd';
import { denseChain } from '../models/denseChain';

export interface DenseLayerSpec {
  kernel: tf.Variable;
  bias: tf.Variable;
  activation: 'relu' | 'linear';
  inDim: number;
  outDim: number;
}

const PASS_THROUGH: ReadonlySet<string> = new Set(['InputLayer']);

function configValue(layer: tf.layers.Layer, key: string): unknown {
  return (layer.getConfig() as Record<string, unknown>)[key];
}

/**
 * The model's Dense layers when it is a plain chain the dense step reproduces exactly: one input, layers one
 * after the other, only InputLayer / Flatten / Dense, every Dense with a bias, relu or linear activation (the
 * last linear: trainModel's loss takes logits), no regularizers or constraints, all trainable, and its
 * trainable weights exactly those kernels and biases. Null otherwise (Dropout, BatchNorm, convs, softmax
 * outputs...: the generic step applies).
 */
export function denseTrainingStack(model: tf.LayersModel): DenseLayerSpec[] | null {
  const chain = denseChain(model, PASS_THROUGH);
  if (!chain) return null;
  const specs: DenseLayerSpec[] = [];
  for (const layer of chain) {
    if (!layer.trainable) return null;
    const activation = configValue(layer, 'activation');
    if (activation !== 'relu' && activation !== 'linear') return null;
    if (configValue(layer, 'useBias') !== true) return null;
    for (const k of ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint']) {
      if (configValue(layer, k) != null) return null;
    }
    const [kernelLv, biasLv] = layer.weights;
    const kernel = kernelLv?.read(),
      bias = biasLv?.read();
    if (!(kernel instanceof tf.Variable) || !(bias instanceof tf.Variable) || kernel.dtype !== 'float32' || kernel.rank !== 2) return null;
    specs.push({ kernel, bias, activation, inDim: kernel.shape[0], outDim: kernel.shape[1] });
  }
  if (specs[specs.length - 1].activation !== 'linear') return null;
  const trainable = model.trainableWeights.map((w) => w.read());
  const ours = specs.flatMap((s) => [s.kernel, s.bias]);
  if (trainable.length !== ours.length || !trainable.every((t) => ours.includes(t as tf.Variable))) return null;
  const inputSize = model.inputs[0].shape.slice(1).reduce<number>((a, d) => a * (d ?? NaN), 1);
  if (specs[0].inDim !== inputSize) return null;
  return specs;
}

export interface DenseSgdOptions {
  /**
   * How the first layer treats zero inputs (see the header): 'sparse' (needs the backend's sparse product and a
   * relu first layer), 'columns', or 'dense'. Default: levers.denseSgdFirstLayer ('auto': 'sparse' where possible, else
   * 'columns' on wasm, else 'dense').
   */
  firstLayer?: 'sparse' | 'columns' | 'dense';
}

/** One SGD step at a time on a dense stack (see the header); `dispose` frees what it keeps. */
export class DenseSgdTrainer {
  private readonly specs: DenseLayerSpec[];
  private readonly negLr: tf.Scalar;
  private readonly firstLayer: 'sparse' | 'columns' | 'dense';
  private readonly inDim: number;
  /** d loss / d per-image loss for a batch of c images, as the generic step's Mean gradient makes it (per c). */
  private readonly meanGrad = new Map<number, tf.Tensor>();
  private readonly active: Uint8Array;
  private readonly columns: Int32Array;
  private readonly xCompact: Float32Array;
  private readonly xCompactT: Float32Array;

  constructor(specs: DenseLayerSpec[], learningRate: number, batchSize: number, opts: DenseSgdOptions = {}) {
    this.specs = specs;
    this.negLr = tf.keep(tf.scalar(-learningRate)); // the SGD optimizer's own constant: scalar(-lr)
    const sparseOk = hasCsrMatMul() && specs[0].activation === 'relu';
    const lever = levers.denseSgdFirstLayer === 'auto' ? undefined : levers.denseSgdFirstLayer;
    const firstLayer = opts.firstLayer ?? lever ?? (sparseOk ? 'sparse' : tf.getBackend() === 'wasm' ? 'columns' : 'dense');
    if (firstLayer === 'sparse' && !sparseOk)
      throw new Error(`firstLayer 'sparse' needs a relu first layer and the sparse product (backend ${tf.getBackend()} has none)`);
    this.firstLayer = firstLayer;
    this.inDim = specs[0].inDim;
    const d = this.inDim;
    const cells = firstLayer === 'dense' ? 0 : batchSize * d;
    this.active = new Uint8Array(d);
    this.columns = new Int32Array(d);
    this.xCompact = new Float32Array(firstLayer === 'columns' ? cells : 0);
    this.xCompactT = new Float32Array(firstLayer === 'columns' ? cells : 0);
    const nnz = firstLayer === 'sparse' ? cells : 0;
    this.csr = {
      rowPtr: new Int32Array(firstLayer === 'sparse' ? batchSize + 1 : 0),
      idx: new Int32Array(nnz),
      vals: new Float32Array(nnz),
      colPtr: new Int32Array(firstLayer === 'sparse' ? d + 1 : 0),
      rows: new Int32Array(nnz),
      colVals: new Float32Array(nnz),
      fill: new Int32Array(firstLayer === 'sparse' ? d : 0),
    };
  }

  /** The batch's nonzero inputs as CSR of X (rows by image) and of X^T (rows by pixel, images in order). */
  private readonly csr: {
    rowPtr: Int32Array;
    idx: Int32Array;
    vals: Float32Array;
    colPtr: Int32Array;
    rows: Int32Array;
    colVals: Float32Array;
    fill: Int32Array;
  };

  /** Builds the CSR forms from `count` rows of x, row r starting at x[rowStart(r)]; returns the nonzero count. */
  private buildCsr(x: Float32Array, count: number, rowStart: (r: number) => number): number {
    const d = this.inDim;
    const { rowPtr, idx, vals, colPtr, rows, colVals, fill } = this.csr;
    fill.fill(0); // counts per pixel first
    let q = 0;
    for (let r = 0; r < count; r++) {
      const row = rowStart(r);
      for (let j = 0; j < d; j++) {
        const v = x[row + j];
        if (v !== 0) {
          idx[q] = j;
          vals[q++] = v;
          fill[j]++;
        }
      }
      rowPtr[r + 1] = q;
    }
    colPtr[0] = 0;
    for (let j = 0; j < d; j++) {
      colPtr[j + 1] = colPtr[j] + fill[j];
      fill[j] = colPtr[j];
    }
    for (let r = 0; r < count; r++) {
      for (let p = rowPtr[r]; p < rowPtr[r + 1]; p++) {
        const t = fill[idx[p]]++;
        rows[t] = r;
        colVals[t] = vals[p];
      }
    }
    return q;
  }

  private meanGradFor(count: number): tf.Tensor {
    let g = this.meanGrad.get(count);
    if (!g) {
      // Upstream Mean gradient of mean(losses[count]) with dy = 1: div(mul(reshape(dy, [1]), ones), count).
      g = tf.keep(tf.tidy(() => tf.reshape(tf.div(tf.mul(tf.reshape(tf.scalar(1), [1]), tf.ones([count])), count), [count, 1])));
      this.meanGrad.set(count, g);
    }
    return g;
  }

  /**
   * The batch's first-layer input: rows of x over the columns that are nonzero in some row of the batch, and its
   * transpose. Returns the column count (inDim when every column is used or skipping is off).
   */
  private compact(x: Float32Array, count: number): number {
    const d = this.inDim;
    if (this.firstLayer !== 'columns') return d;
    const active = this.active;
    active.fill(0);
    for (let r = 0; r < count; r++) {
      const row = r * d;
      for (let j = 0; j < d; j++) if (x[row + j] !== 0) active[j] = 1;
    }
    let p = 0;
    for (let j = 0; j < d; j++) if (active[j]) this.columns[p++] = j;
    if (p === d) return d;
    const xc = this.xCompact,
      xt = this.xCompactT,
      cols = this.columns;
    for (let r = 0; r < count; r++) {
      const row = r * d,
        out = r * p;
      for (let k = 0; k < p; k++) {
        const v = x[row + cols[k]];
        xc[out + k] = v;
        xt[k * count + r] = v;
      }
    }
    return p;
  }

  /**
   * One step on the first `count` images of x (rows of inDim) and one-hot labels y (rows of classes); updates
   * the model's variables in place and returns the batch's mean loss (a kept scalar the caller disposes).
   */
  step(x: Float32Array, y: Float32Array, count: number): tf.Scalar {
    const d = this.inDim;
    const nnz = this.firstLayer === 'sparse' ? this.buildCsr(x, count, (r) => r * d) : 0;
    return this.stepPrepared(x, y, count, nnz);
  }

  /**
   * The step on images order[from..from+count) of `set` (order null: from..from+count), with one-hot labels;
   * the same as gathering them and calling step(). The sparse first layer reads the rows straight from the set
   * (no gathered copy).
   */
  stepFrom(set: { x: Float32Array; y: Uint8Array }, order: ArrayLike<number> | null, from: number, count: number): tf.Scalar {
    const d = this.inDim;
    const classes = this.specs[this.specs.length - 1].outDim;
    const y = this.yBatch.length >= count * classes ? this.yBatch : (this.yBatch = new Float32Array(count * classes));
    y.fill(0, 0, count * classes);
    for (let r = 0; r < count; r++) y[r * classes + set.y[order ? order[from + r] : from + r]] = 1;
    if (this.firstLayer === 'sparse') {
      const nnz = this.buildCsr(set.x, count, (r) => (order ? order[from + r] : from + r) * d);
      return this.stepPrepared(set.x, y, count, nnz);
    }
    const x = this.xBatch.length >= count * d ? this.xBatch : (this.xBatch = new Float32Array(count * d));
    for (let r = 0; r < count; r++) {
      const i = order ? order[from + r] : from + r;
      x.set(set.x.subarray(i * d, (i + 1) * d), r * d);
    }
    return this.step(x, y, count);
  }

  private xBatch = new Float32Array(0);
  private yBatch = new Float32Array(0);

  /** The step once the sparse mode's CSR is built (`x` is only read by the other modes). */
  private stepPrepared(x: Float32Array, y: Float32Array, count: number, nnz: number): tf.Scalar {
    const specs = this.specs;
    const d = this.inDim;
    const classes = specs[specs.length - 1].outDim;
    const p = this.compact(x, count);
    const sparse = p < d;
    const updates: tf.Tensor[] = [];
    const loss = tf.tidy(() => {
      let input: tf.Tensor2D | null = null;
      let inputT: tf.Tensor2D | null = null;
      let w1: tf.Tensor2D = specs[0].kernel as tf.Tensor2D;
      let cols: tf.Tensor1D | null = null;
      // First-layer products: X W1 (forward) and X^T dZ1 (its weight gradient).
      let firstProduct = (w: tf.Tensor2D) => tf.matMul(input as tf.Tensor2D, w);
      let firstGradient = (dz: tf.Tensor2D) => tf.matMul(inputT as tf.Tensor2D, dz);
      if (this.firstLayer === 'sparse') {
        const c = this.csr;
        const xPtr = tf.tensor1d(c.rowPtr.subarray(0, count + 1), 'int32');
        const xIdx = tf.tensor1d(c.idx.subarray(0, nnz), 'int32');
        const xVal = tf.tensor1d(c.vals.subarray(0, nnz), 'float32');
        const tPtr = tf.tensor1d(c.colPtr, 'int32');
        const tIdx = tf.tensor1d(c.rows.subarray(0, nnz), 'int32');
        const tVal = tf.tensor1d(c.colVals.subarray(0, nnz), 'float32');
        firstProduct = (w) => csrMatMulOp(xPtr, xIdx, xVal, w);
        firstGradient = (dz) => csrMatMulOp(tPtr, tIdx, tVal, dz);
      } else if (sparse) {
        input = tf.tensor2d(this.xCompact.subarray(0, count * p), [count, p]);
        inputT = tf.tensor2d(this.xCompactT.subarray(0, count * p), [p, count]);
        cols = tf.tensor1d(this.columns.subarray(0, p), 'int32');
        w1 = tf.gather(w1, cols);
      } else {
        input = tf.tensor2d(x.subarray(0, count * d), [count, d]);
        inputT = tf.transpose(input); // the generic step's transpose of its first matMul's input
      }
      const ys = tf.tensor2d(y.subarray(0, count * classes), [count, classes]);

      // Forward, keeping each layer's input and (relu layers) pre-activation. Under the tape tfjs fuses only
      // linear layers (bias inside the product); relu layers run matMul, add, relu.
      const inputs: (tf.Tensor2D | null)[] = [];
      const pre: (tf.Tensor2D | null)[] = [];
      let h: tf.Tensor2D | null = input;
      specs.forEach((s, i) => {
        inputs.push(h);
        const w = i === 0 ? w1 : (s.kernel as tf.Tensor2D);
        if (s.activation === 'linear') {
          // Never the sparse first layer: that one is relu (a fused bias would be added before the sum).
          h = tf.fused.matMul({ a: h as tf.Tensor2D, b: w, bias: s.bias, activation: 'linear' }) as tf.Tensor2D;
          pre.push(null);
        } else {
          const z = tf.add(i === 0 ? firstProduct(w) : tf.matMul(h as tf.Tensor2D, w), s.bias) as tf.Tensor2D;
          pre.push(z);
          h = tf.relu(z);
        }
      });
      if (!h) throw new Error('dense stack without layers');
      const logits = h;
      const logResult = tf.sub(logits, tf.logSumExp(logits, [1], true)); // (the generic step's float32 casts are identities, left out)
      const lossValue = tf.mean(tf.sum(tf.neg(tf.mul(logResult, ys)), [1]));

      // Backward and update, last layer first.
      let dz = tf.mul(this.meanGradFor(count), tf.sub(tf.exp(logResult), ys)) as tf.Tensor2D;
      for (let i = specs.length - 1; i >= 0; i--) {
        const s = specs[i];
        const z = pre[i];
        if (z) dz = tf.mul(dz, tf.step(z)); // relu's gradient
        // Bias gradient: the fused product reduces its rank-3 [1, c, out] gradient, add's reduces [c, out].
        const db = tf.reshape(z ? tf.sum(dz, [0]) : tf.sum(tf.reshape(dz, [1, count, s.outDim]), [0, 1]), [s.outDim]);
        const dw = i === 0 ? firstGradient(dz) : tf.matMul(inputs[i] as tf.Tensor2D, dz, true, false);
        if (i > 0) dz = tf.matMul(dz, s.kernel as tf.Tensor2D, false, true);
        const newW = tf.add(tf.mul(this.negLr, dw), i === 0 ? w1 : s.kernel);
        updates.push(tf.keep(i === 0 && cols ? tf.tensorScatterUpdate(s.kernel, tf.reshape(cols, [p, 1]), newW) : newW));
        updates.push(tf.keep(tf.add(tf.mul(this.negLr, db), s.bias)));
      }
      return lossValue as tf.Scalar;
    });
    // Assign after the whole backward pass (it reads the old weights), as the optimizer does.
    for (let i = specs.length - 1, u = 0; i >= 0; i--) {
      specs[i].kernel.assign(updates[u++]);
      specs[i].bias.assign(updates[u++]);
    }
    tf.dispose(updates); // the variables hold their own references
    return loss;
  }

  dispose(): void {
    this.negLr.dispose();
    for (const g of this.meanGrad.values()) g.dispose();
    this.meanGrad.clear();
  }
}
