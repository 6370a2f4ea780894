// A hand-written SGD step for plain Dense stacks (the MLP: flatten -> dense relu ... -> dense linear), used by
// trainModel in place of optimizer.minimize for such models. It runs the kernels the generic step runs, with the
// same inputs in the same order, so it produces the same bits (test/train/dense-sgd.test.ts); what it drops is
// the overhead around them: the gradient tape, layer calls, the optimizer's per-variable bookkeeping, and (wasm)
// transposing the input batch for the first layer's weight gradient.
//
// On wasm it also skips the batch's all-zero pixel columns in the first layer (MNIST: ~1/3 of the 784 in a batch
// of 128): X W1 and X^T dZ1 over the nonzero columns only, and only those rows of W1 updated. That is exact on
// wasm because XNNPACK accumulates each output over k in order, so dropping terms that are 0 changes no sum
// (checked bitwise in the tests); the rows of W1 for zero columns get a zero gradient in the generic step, which
// leaves them unchanged. Other backends may block their sums over k, so they use every column.
//
// The generic step, op by op (tfjs 4.22 during tf.variableGrads, where hidden layers are not fused):
//   hidden:  z = add(matMul(h, W), b); h' = relu(z)         backward: dz = mul(dh, step(z)); db = sum(dz, 0);
//                                                                       dW = matMul(h, dz, true); dh = matMul(dz, W, false, true)
//   output:  logits = fused.matMul(h, W, b, 'linear')        backward: as hidden without the relu
//   loss:    mean(sum(-(logits - logSumExp(logits)) * y, 1)) backward: dlogits = (1/c) * (exp(logits - lse) - y)
//   SGD:     W = add(mul(-lr, dW), W)
import * as tf from '@tensorflow/tfjs';

export interface DenseLayerSpec {
  kernel: tf.Variable;
  bias: tf.Variable;
  activation: 'relu' | 'linear';
  inDim: number;
  outDim: number;
}

const PASS_THROUGH = new Set(['InputLayer', 'Flatten']);

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
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const layers = model.layers;
  let flattened = model.inputs[0].shape.length === 2;
  const specs: DenseLayerSpec[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const cls = layer.getClassName();
    if (layer.inboundNodes.length !== 1) return null;
    const inbound = layer.inboundNodes[0].inboundLayers;
    if (i === 0) {
      if (inbound.length > 1 || (inbound.length === 1 && inbound[0].getClassName() !== 'InputLayer')) return null;
    } else if (inbound.length !== 1 || inbound[0] !== layers[i - 1]) {
      return null;
    }
    if (cls === 'Flatten') {
      flattened = true;
      continue;
    }
    if (PASS_THROUGH.has(cls)) continue;
    if (cls !== 'Dense' || !flattened || !layer.trainable) return null;
    const activation = configValue(layer, 'activation');
    if (activation !== 'relu' && activation !== 'linear') return null;
    if (configValue(layer, 'useBias') !== true) return null;
    for (const k of ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint']) {
      if (configValue(layer, k) != null) return null;
    }
    const [kernelLv, biasLv] = layer.weights;
    const kernel = kernelLv?.read(), bias = biasLv?.read();
    if (!(kernel instanceof tf.Variable) || !(bias instanceof tf.Variable) || kernel.dtype !== 'float32' || kernel.rank !== 2) return null;
    specs.push({ kernel, bias, activation, inDim: kernel.shape[0], outDim: kernel.shape[1] });
  }
  const last = layers[layers.length - 1];
  // outputs[0].sourceLayer, not outputLayers: a tf.sequential fills outputLayers only once it is built.
  if (specs.length === 0 || last.getClassName() !== 'Dense' || model.outputs[0].sourceLayer !== last || specs[specs.length - 1].activation !== 'linear') return null;
  const trainable = model.trainableWeights.map((w) => w.read());
  const ours = specs.flatMap((s) => [s.kernel, s.bias]);
  if (trainable.length !== ours.length || !trainable.every((t) => ours.includes(t as tf.Variable))) return null;
  const inputSize = model.inputs[0].shape.slice(1).reduce<number>((a, d) => a * (d ?? NaN), 1);
  if (specs[0].inDim !== inputSize) return null;
  return specs;
}

export interface DenseSgdOptions {
  /** Skip all-zero input columns in the first layer (exact only where matMul sums over k in order: wasm). Default: on wasm. */
  skipZeroColumns?: boolean;
}

/** One SGD step at a time on a dense stack (see the header); `dispose` frees what it keeps. */
export class DenseSgdTrainer {
  private readonly specs: DenseLayerSpec[];
  private readonly negLr: tf.Scalar;
  private readonly skipZeroColumns: boolean;
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
    this.skipZeroColumns = opts.skipZeroColumns ?? tf.getBackend() === 'wasm';
    this.inDim = specs[0].inDim;
    this.active = new Uint8Array(this.inDim);
    this.columns = new Int32Array(this.inDim);
    this.xCompact = new Float32Array(batchSize * this.inDim);
    this.xCompactT = new Float32Array(batchSize * this.inDim);
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
    if (!this.skipZeroColumns) return d;
    const active = this.active;
    active.fill(0);
    for (let r = 0; r < count; r++) {
      const row = r * d;
      for (let j = 0; j < d; j++) if (x[row + j] !== 0) active[j] = 1;
    }
    let p = 0;
    for (let j = 0; j < d; j++) if (active[j]) this.columns[p++] = j;
    if (p === d) return d;
    const xc = this.xCompact, xt = this.xCompactT, cols = this.columns;
    for (let r = 0; r < count; r++) {
      const row = r * d, out = r * p;
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
    const specs = this.specs;
    const d = this.inDim;
    const classes = specs[specs.length - 1].outDim;
    const p = this.compact(x, count);
    const sparse = p < d;
    const updates: tf.Tensor[] = [];
    const loss = tf.tidy(() => {
      let input: tf.Tensor2D;
      let inputT: tf.Tensor2D;
      let w1: tf.Tensor2D = specs[0].kernel as tf.Tensor2D;
      let cols: tf.Tensor1D | null = null;
      if (sparse) {
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
      const inputs: tf.Tensor2D[] = [];
      const pre: (tf.Tensor2D | null)[] = [];
      let h = input;
      specs.forEach((s, i) => {
        inputs.push(h);
        const w = i === 0 ? w1 : (s.kernel as tf.Tensor2D);
        if (s.activation === 'linear') {
          h = tf.fused.matMul({ a: h, b: w, bias: s.bias, activation: 'linear' }) as tf.Tensor2D;
          pre.push(null);
        } else {
          const z = tf.add(tf.matMul(h, w), s.bias) as tf.Tensor2D;
          pre.push(z);
          h = tf.relu(z);
        }
      });
      const logits = h;
      const logResult = tf.sub(tf.cast(logits, 'float32'), tf.logSumExp(logits, [1], true));
      const lossValue = tf.mean(tf.sum(tf.neg(tf.mul(logResult, ys)), [1]));

      // Backward and update, last layer first.
      let dz = tf.mul(this.meanGradFor(count), tf.sub(tf.exp(logResult), tf.cast(ys, 'float32'))) as tf.Tensor2D;
      for (let i = specs.length - 1; i >= 0; i--) {
        const s = specs[i];
        const z = pre[i];
        if (z) dz = tf.mul(dz, tf.step(tf.cast(z, 'float32'))); // relu's gradient
        // Bias gradient: the fused product reduces its rank-3 [1, c, out] gradient, add's reduces [c, out].
        const db = tf.reshape(z ? tf.sum(dz, [0]) : tf.sum(tf.reshape(dz, [1, count, s.outDim]), [0, 1]), [s.outDim]);
        const dw = i === 0 ? tf.matMul(inputT, dz) : tf.matMul(inputs[i], dz, true, false);
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
