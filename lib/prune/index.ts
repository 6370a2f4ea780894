// lib/prune: pruning strategies (pure functions on Float32Array kernels -> nested pruning plans) and the
// trajectory evaluator (generic, and a fast path for dense ReLU stacks). See ARCHITECTURE.md.
export {
  STRATEGY_NAMES,
  strategies,
  layerwiseMagnitude,
  globalMagnitude,
  random,
  masksAt,
  remainingAt,
  densityAt,
  prunedValues,
  stepFraction,
  fullLevel,
  prunedAt,
  magnitudeOrder,
  magnitudeKeys,
  stableArgsortUint32,
  type StrategyName,
  type Strategy,
  type StrategyOptions,
  type LayerWeights,
  type PruningPlan,
  type StepFraction,
} from './strategies';
export {
  pruningTrajectory,
  denseStackTrajectory,
  denseStack,
  defaultBatchSize,
  scoreOutputs,
  outputKind,
  type TrajectoryPoint,
  type TrajectoryOptions,
  type PrunableLayers,
  type OutputKind,
} from './trajectory';
export { edgePopupSubnetwork, maskedEvaluate, keptCount, topMask, type EdgePopupOptions, type EdgePopupResult, type ScoreInit } from './edgePopup';
