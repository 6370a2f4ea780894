// Training: optimisers, the training loop and its stop rules, weight files (initialisers: lib/models/init.ts).
export { initializers, initKernel, initSeedFor, INIT_NAMES, type InitName, type Initializer } from '../models/init';
export { optimizers, makeOptimizer, OPTIMIZER_NAMES, ADAM, ADAGRAD, type OptimizerName } from './optimizers';
export {
  trainModel,
  evaluate,
  epochOrder,
  predictLogits,
  correctness,
  TrainingInterrupted,
  type StopRule,
  type TrainConfig,
  type TrainResult,
  type TrainData,
  type TrainProgress,
} from './train';
export { saveModel, loadModel, hasSavedModel, MODEL_JSON, WEIGHTS_BIN } from './weights';
export { getKernels, setKernels, type LayerWeights } from '../models';
