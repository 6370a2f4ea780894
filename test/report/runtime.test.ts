// lib/report loads lib/experiments/results and lib/analysis/similarity at run time and describes them with
// mirror types (tslab cannot compile those files; see lib/report/runtime.ts). These checks keep the mirrors
// honest: the assignments below fail `npm run typecheck` if the real modules stop fitting them, and the
// tests check that the modules loaded at run time export what lib/report calls.
import { strict as assert } from 'assert';
import * as realResults from '../../lib/experiments/results';
import * as realSimilarity from '../../lib/analysis/similarity';
import type { RunRecord as RealRunRecord } from '../../lib/store/runRecord';
import { resultsModule, similarityModule, type ResultRow, type ResultsModule, type RunRecord, type SimilarityModule } from '../../lib/report/runtime';

// Compile-time: the real modules fit the mirrors, and the row mirror is the real row exactly (both ways).
const resultsFits: ResultsModule = realResults;
const similarityFits: SimilarityModule = realSimilarity;
const recordFits = (r: RealRunRecord): RunRecord => r;
const rowFits = (r: realResults.ResultRow): ResultRow => r;
const rowBack = (r: ResultRow): realResults.ResultRow => r;

describe('report/runtime', () => {
  it('the run-time loaded modules are the real ones and export what lib/report calls', () => {
    assert.equal(typeof resultsModule().loadResults, 'function');
    assert.equal(resultsModule().loadResults, realResults.loadResults);
    assert.equal(typeof similarityModule().tsneEmbedding, 'function');
    assert.equal(similarityModule().agreementMatrix, realSimilarity.agreementMatrix);
    assert.ok([resultsFits, similarityFits, recordFits, rowFits, rowBack].every((x) => x !== undefined));
  });

  it('the row mirror has exactly the columns of the results table', () => {
    const mirrorColumns: (keyof ResultRow)[] = [
      'hash', 'group', 'arch', 'dataset', 'width', 'init', 'optimizer', 'learningRate', 'initSeed', 'dataSeed', 'trainImages', 'trainSubset',
      'validationSize', 'totalWeights', 'trainSteps', 'epochs', 'stopReason', 'status', 'validationAccuracy', 'effectiveDensity', 'coreSize',
      'backend', 'commit', 'dirty', 'datasetSha256', 'trainSeconds',
    ];
    assert.deepEqual([...realResults.RESULT_COLUMNS].sort(), [...mirrorColumns].sort());
  });
});
