// Optimiser registry (paper Sec 3.1): plain SGD, Adam, Adagrad; no weight decay anywhere.
// The regimes' learning rates and batch size are the protocol's (lib/protocol.ts).
import * as tf from '@tensorflow/tfjs';

export type OptimizerName = 'sgd' | 'adam' | 'adagrad';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adagrad'];

/** Adam's moment decays are the usual ones; epsilon 1e-8 as in PyTorch/optax (tfjs would use 1e-7). */
export const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;
/**
 * Adagrad starts its squared-gradient accumulator at 0.1: the tfjs, Keras and optax default (PyTorch uses 0).
 * tfjs adds its backend epsilon (1e-7) inside the square root.
 */
export const ADAGRAD = { initialAccumulatorValue: 0.1 } as const;

export const optimizers: Record<OptimizerName, (learningRate: number) => tf.Optimizer> = {
  // Plain SGD: no momentum, no Nesterov, no decay.
  sgd: (lr) => tf.train.sgd(lr),
  adam: (lr) => tf.train.adam(lr, ADAM.beta1, ADAM.beta2, ADAM.epsilon),
  adagrad: (lr) => tf.train.adagrad(lr, ADAGRAD.initialAccumulatorValue),
};

/** A fresh optimiser; the caller disposes it (optimizer.dispose()) when training ends. */
export function makeOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  const make = (optimizers as Record<string, ((lr: number) => tf.Optimizer) | undefined>)[name];
  if (!make) throw new Error(`unknown optimizer '${String(name)}'; expected one of ${OPTIMIZER_NAMES.join(', ')}`);
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) throw new Error(`learning rate must be a positive number, got ${learningRate}`);
  return make(learningRate);
}
