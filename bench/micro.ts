// Kernel-sized cases for bench/ab.ts (not part of `npm run bench`): one kernel at the shapes a training step
// gives it, so a lever on that kernel is measured without the rest of the step diluting the ratio.
import * as tf from '@tensorflow/tfjs';
import type { BenchCase, PreparedCase } from './cases';

/** Runs `kernel` with fresh random inputs (made once) `reps` times per measurement; the value is seconds per call. */
function kernelCase(name: string, summary: string, make: () => { inputs: tf.NamedTensorMap; attrs: tf.NamedAttrMap; kernel: string }, reps: number): BenchCase {
  return {
    name,
    unit: 's',
    summary,
    async prepare(): Promise<PreparedCase> {
      const { inputs, attrs, kernel } = make();
      const once = () => tf.dispose(tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor);
      const measure = async () => {
        const started = process.hrtime.bigint();
        for (let i = 0; i < reps; i++) once();
        return Number(process.hrtime.bigint() - started) / 1e9 / reps;
      };
      return {
        async warmup() {
          once();
        },
        measure,
        dispose() {
          tf.dispose(Object.values(inputs));
        },
        describe: () => `${reps} calls of ${kernel}`,
      };
    },
  };
}

export const MICRO_CASES: BenchCase[] = [
  kernelCase(
    'kernel/maxpoolgrad/conv2-0.5',
    'MaxPoolGrad of Conv-2 0.5x at batch 128: x [128,32,32,32], 2x2 stride 2',
    () => {
      const x = tf.randomNormal([128, 32, 32, 32]) as tf.Tensor4D;
      const output = tf.maxPool(x, 2, 2, 'valid');
      return { kernel: 'MaxPoolGrad', inputs: { dy: tf.randomNormal(output.shape), input: x, output }, attrs: { filterSize: 2, strides: 2, pad: 'valid' } };
    },
    20,
  ),
  kernelCase(
    'kernel/maxpoolgrad/conv2-1',
    'MaxPoolGrad of Conv-2 1x at batch 128: x [128,32,32,64], 2x2 stride 2',
    () => {
      const x = tf.randomNormal([128, 32, 32, 64]) as tf.Tensor4D;
      const output = tf.maxPool(x, 2, 2, 'valid');
      return { kernel: 'MaxPoolGrad', inputs: { dy: tf.randomNormal(output.shape), input: x, output }, attrs: { filterSize: 2, strides: 2, pad: 'valid' } };
    },
    10,
  ),
];
