// Training: initialisers, optimisers, the training loop and its stop rules, weight files.
export { initializers, initKernel, initSeedFor, INIT_NAMES, type InitName, type Initializer } from './init';
export {
  optimizers, makeOptimizer, defaultLearningRate, DEFAULT_LEARNING_RATES, DEFAULT_BATCH_SIZE, OPTIMIZER_NAMES, ADAM, ADAGRAD,
  type OptimizerName,
} from './optimizers';
export {
  trainModel, evaluate, epochOrder, predictLogits, correctness, paperStopRule, TrainingInterrupted,
  type StopRule, type TrainConfig, type TrainResult, type TrainData, type TrainProgress,
} from './train';
export { saveModel, loadModel, hasSavedModel, MODEL_JSON, WEIGHTS_BIN } from './weights';
export { getKernels, setKernels, type LayerWeights } from '../models';
