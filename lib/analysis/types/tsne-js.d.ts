// tsne-js ships no types. Declares only what lib/analysis/similarity.ts uses (tsne-js 1.0.3, exact O(N^2) t-SNE).
declare module 'tsne-js' {
  interface TSNEConfig {
    dim?: number;
    perplexity?: number;
    earlyExaggeration?: number;
    learningRate?: number;
    /** Total iteration cap; the first 150 iterations are the two early-exaggeration phases. */
    nIter?: number;
    metric?: 'euclidean' | 'manhattan' | 'jaccard' | 'dice';
  }
  class TSNE {
    constructor(config?: TSNEConfig);
    /** Packs the data and draws the initial embedding (the only place it calls Math.random). */
    init(opts: { data: number[][]; type: 'dense' }): void;
    /** Returns [final KL divergence, last iteration]. */
    run(): [number, number];
    getOutput(): number[][];
  }
  export = TSNE;
}
