// Shared by the experiments tests: a tiny real MLP run (1,000 MNIST training images, 500 validation, 10 pruning levels).
import type { DescriptorInput } from '../../lib/store/descriptor';

/** A descriptor for a tiny MLP 0.1x run that trains for at most `maxEpochs` (1 unless `extra.stop` says otherwise). */
export const tinyMlp = (initSeed: number, extra: Partial<DescriptorInput> = {}): DescriptorInput => ({
  architecture: 'mlp',
  width: 0.1,
  init: 'glorot',
  initSeed,
  dataSeed: 0,
  trainSubset: 1000,
  validationSize: 500,
  stop: { kind: 'targetTrainLoss', window: 10, checkEvery: 10, maxEpochs: 1 },
  pruning: { levels: 10, step: 0.1 },
  ...extra,
});
