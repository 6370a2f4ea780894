// Public API of lib/analysis: every analysis of the paper as functions of plain data (tfjs only in
// hiddenActivations and estimateLlc).
export * from './effectiveDensity';
export * from './nullHypothesis';
export * from './stats';
export * from './kde';
export * from './overlap';
export * from './activations';
export * from './similarity';
export * from './widthComparison';
export * from './llc';
