// Epoch checkpoints for long training runs (CIFAR-10 models train for hours on a CPU): after each epoch of a
// bestValidationLoss run, everything the loop needs to go on is written to one file, atomically, so a run that
// is stopped (Ctrl-C at an epoch boundary, a killed process, a machine handed back) resumes at its last finished
// epoch and ends bit-identical to an uninterrupted run. The file holds a JSON header and the float32 payload:
// every model weight (BatchNorm statistics included), the best epoch's weights, the optimiser's state and the
// training curve's ring buffer.
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../store/atomic';

const MAGIC = 'density-checkpoint-1';

/** What the loop needs besides tensors, plus a key that says which configuration the checkpoint belongs to. */
export interface CheckpointMeta {
  /** Must equal the resuming run's key (model shapes, data size, optimiser, stop rule, seeds): else ignored. */
  key: string;
  epoch: number;
  step: number;
  wallSeconds: number;
  curve: { step: number; loss: number }[];
  validation: { epoch: number; loss: number; accuracy: number }[];
  best: { epoch: number; loss: number } | null;
}

export interface CheckpointState extends CheckpointMeta {
  model: Float32Array[];
  best: (CheckpointMeta['best'] & { weights: Float32Array[] }) | null;
  optimizer: Float32Array[];
  /** Adam's running beta powers: tfjs's setWeights recomputes them with pow, which changes their last bits. */
  adamBetaPowers: [number, number] | null;
  recent: Float64Array;
}

interface Header extends CheckpointMeta {
  magic: string;
  /** Lengths (elements) of each array in the payload, in order: model, best, optimizer, then recent (float64). */
  model: number[];
  bestWeights: number[];
  optimizer: number[];
  adamBetaPowers: [number, number] | null;
  recent: number;
}

/** Write `state` to `file` atomically (a reader sees the previous checkpoint or this one, never a mix). */
export function writeCheckpoint(file: string, state: CheckpointState): void {
  const arrays = [...state.model, ...(state.best?.weights ?? []), ...state.optimizer];
  const header: Header = {
    magic: MAGIC,
    key: state.key,
    epoch: state.epoch,
    step: state.step,
    wallSeconds: state.wallSeconds,
    curve: state.curve,
    validation: state.validation,
    best: state.best ? { epoch: state.best.epoch, loss: state.best.loss } : null,
    model: state.model.map((a) => a.length),
    bestWeights: (state.best?.weights ?? []).map((a) => a.length),
    optimizer: state.optimizer.map((a) => a.length),
    adamBetaPowers: state.adamBetaPowers,
    recent: state.recent.length,
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const floats = arrays.reduce((s, a) => s + a.length, 0);
  // 4-byte header length, header, padding to 8 bytes, float32 arrays, float64 ring buffer.
  const headEnd = 4 + head.length;
  const floatStart = Math.ceil(headEnd / 8) * 8;
  const recentStart = floatStart + Math.ceil((floats * 4) / 8) * 8;
  const buf = Buffer.alloc(recentStart + state.recent.length * 8);
  buf.writeUInt32LE(head.length, 0);
  head.copy(buf, 4);
  let at = floatStart;
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, at);
    at += a.byteLength;
  }
  Buffer.from(state.recent.buffer, state.recent.byteOffset, state.recent.byteLength).copy(buf, recentStart);
  writeFileAtomic(file, buf);
}

/**
 * The checkpoint in `file` if there is one for `key`; null when absent, written for another configuration, or
 * unreadable (a damaged checkpoint only costs the epochs since the start: the run trains from scratch).
 */
export function readCheckpoint(file: string, key: string): CheckpointState | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return null;
  }
  try {
    const len = buf.readUInt32LE(0);
    const header = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as Header;
    if (header.magic !== MAGIC || header.key !== key) return null;
    const floatStart = Math.ceil((4 + len) / 8) * 8;
    const lengths = [...header.model, ...header.bestWeights, ...header.optimizer];
    const floats = lengths.reduce((s, n) => s + n, 0);
    const recentStart = floatStart + Math.ceil((floats * 4) / 8) * 8;
    if (buf.length !== recentStart + header.recent * 8) return null;
    let at = floatStart;
    const take = (n: number) => {
      const a = new Float32Array(n);
      Buffer.from(a.buffer).set(buf.subarray(at, at + n * 4));
      at += n * 4;
      return a;
    };
    const model = header.model.map(take);
    const bestWeights = header.bestWeights.map(take);
    const optimizer = header.optimizer.map(take);
    const recent = new Float64Array(header.recent);
    Buffer.from(recent.buffer).set(buf.subarray(recentStart, recentStart + header.recent * 8));
    const all = [...model, ...bestWeights, ...optimizer];
    if (all.some((a) => a.some((v) => !Number.isFinite(v)))) return null; // a damaged payload is no checkpoint
    return {
      key,
      epoch: header.epoch,
      step: header.step,
      wallSeconds: header.wallSeconds,
      curve: header.curve,
      validation: header.validation,
      best: header.best ? { ...header.best, weights: bestWeights } : null,
      model,
      optimizer,
      adamBetaPowers: header.adamBetaPowers,
      recent,
    };
  } catch {
    return null;
  }
}

/** The optimiser's state as plain arrays (tfjs's getWeights order: iterations first, then each slot variable). */
export async function optimizerState(optimizer: tf.Optimizer): Promise<{ values: Float32Array[]; adamBetaPowers: [number, number] | null }> {
  const named = await optimizer.getWeights();
  const values = await Promise.all(named.map(async (w) => new Float32Array(await w.tensor.data())));
  named[0]?.tensor.dispose(); // the iterations scalar is made for the call; the others are the optimiser's own variables
  const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  const adamBetaPowers: [number, number] | null = adam.accBeta1 && adam.accBeta2 ? [adam.accBeta1.dataSync()[0], adam.accBeta2.dataSync()[0]] : null;
  return { values, adamBetaPowers };
}

/** Restore what optimizerState saved into a fresh optimiser of the same kind over the same variables (in order). */
export async function restoreOptimizer(
  optimizer: tf.Optimizer,
  values: Float32Array[],
  adamBetaPowers: [number, number] | null,
  vars: { name: string; shape: number[] }[],
): Promise<void> {
  if (values.length === 0) return; // plain SGD: no state
  // getWeights order: iterations, then per slot kind one entry per variable (Adam: m..., v...; Adagrad: acc...).
  const slots = values.length - 1;
  if (slots % vars.length !== 0) throw new Error(`checkpoint holds ${slots} optimiser slots for ${vars.length} variables`);
  const named = values.map((v, i) => {
    if (i === 0) return { name: 'iter', tensor: tf.scalar(v[0], 'int32') as tf.Tensor };
    const target = vars[(i - 1) % vars.length];
    return { name: `${target.name}/slot${Math.floor((i - 1) / vars.length)}`, tensor: tf.tensor(v, target.shape, 'float32') };
  });
  await optimizer.setWeights(named);
  for (const n of named) n.tensor.dispose(); // the optimiser's variables hold their own references
  const adam = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  if (adamBetaPowers && adam.accBeta1 && adam.accBeta2) {
    const [b1, b2] = adamBetaPowers;
    tf.tidy(() => {
      adam.accBeta1?.assign(tf.scalar(b1));
      adam.accBeta2?.assign(tf.scalar(b2));
    });
  }
}
