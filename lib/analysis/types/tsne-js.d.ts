// tsne-js ships no types. Declares only what lib/analysis/similarity.ts uses (tsne-js 1.0.3, exact O(N^2) t-SNE):
// the class's constructor, init() and fields, and the three numerical helpers in dist/ that its run() is
// built from (similarity.ts replaces run()'s optimiser; see there why).
declare module 'tsne-js' {
  class TSNE {
    constructor(config?: TSNE.Config);
    dim: number;
    perplexity: number;
    earlyExaggeration: number;
    learningRate: number;
    nIter: number;
    metric: TSNE.Metric;
    /** The packed input (n x features); set by init(). */
    inputData: TSNE.NdArray;
    /** Current embedding (n x dim); drawn by init() (the only place tsne-js calls Math.random). */
    outputEmbedding: TSNE.NdArray;
    init(opts: { data: number[][]; type: 'dense' }): void;
    /** Optimises outputEmbedding; returns [final KL divergence, last iteration]. */
    run(): [number, number];
    getOutput(): number[][];
  }
  namespace TSNE {
    type Metric = 'euclidean' | 'manhattan' | 'jaccard' | 'dice';
    /** The part of a scijs ndarray used here: contiguous row-major data. */
    interface NdArray {
      data: Float64Array;
      shape: number[];
      size: number;
    }
    interface Config {
      dim?: number;
      perplexity?: number;
      earlyExaggeration?: number;
      learningRate?: number;
      nIter?: number;
      metric?: Metric;
    }
  }
  export = TSNE;
}

declare module 'tsne-js/dist/pairwise-distances' {
  import TSNE = require('tsne-js');
  /** n x n matrix of the metric's distances between rows (NOT squared for 'euclidean'). */
  function pairwiseDistances(data: TSNE.NdArray, metric: TSNE.Metric): TSNE.NdArray;
  export = pairwiseDistances;
}

declare module 'tsne-js/dist/joint-probabilities' {
  import TSNE = require('tsne-js');
  /** Symmetrised affinities p_ij (sum 1) with per-point Gaussian widths calibrated to the perplexity on exp(-beta d). */
  function jointProbabilities(distances: TSNE.NdArray, perplexity: number): TSNE.NdArray;
  export = jointProbabilities;
}

declare module 'tsne-js/dist/kl-divergence' {
  import TSNE = require('tsne-js');
  /** KL(P || Q) of the embedding under a Student-t kernel with alpha degrees of freedom, and its gradient (n x dim). */
  function klDivergence(embedding: TSNE.NdArray, P: TSNE.NdArray, alpha: number): [number, TSNE.NdArray];
  export = klDivergence;
}
