// Reproducing a recorded run: the same descriptor recomputed now equals the record in every computed field, and a
// record that does not match what the code computes is reported field by field.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { runDir } from '../../lib/paths';
import { descriptorHash, type DescriptorInput } from '../../lib/store/descriptor';
import { executeRun } from '../../lib/experiments/run';
import { recordDifferences, reproduceRun } from '../../lib/experiments/reproduce';
import type { RunRecord } from '../../lib/store/runRecord';

const tiny: DescriptorInput = {
  architecture: 'mlp',
  width: 0.1,
  init: 'he',
  initSeed: 301,
  dataSeed: 0,
  trainSubset: 1000,
  validationSize: 500,
  stop: { kind: 'targetTrainLoss', window: 10, checkEvery: 10, maxEpochs: 1 },
  pruning: { levels: 10, step: 0.1 },
};

describe('experiments/reproduce', function () {
  this.timeout(120_000);

  it('a recorded run recomputed in a scratch folder is bit-identical; the record and the outputs folder are untouched', async () => {
    assert.equal((await executeRun(tiny)).kind, 'completed');
    const hash = descriptorHash(tiny);
    const file = path.join(runDir(hash), 'run.json');
    const before = fs.readFileSync(file, 'utf8');
    const r = await reproduceRun(hash);
    assert.deepEqual(r.differences, []);
    assert.equal(r.hash, hash);
    assert.equal(fs.readFileSync(file, 'utf8'), before, 'the record is not rewritten');
  });

  it('a record that differs from what the code computes is reported by field', async () => {
    const hash = descriptorHash(tiny);
    const recorded = JSON.parse(fs.readFileSync(path.join(runDir(hash), 'run.json'), 'utf8')) as RunRecord;
    const edited = JSON.parse(JSON.stringify(recorded)) as RunRecord;
    (edited.trajectory ?? [])[3].loss += 1e-12;
    edited.training.validation = [...edited.training.validation, { epoch: 9, loss: 1, accuracy: 0.5 }];
    edited.provenance.commit = 'another'; // where and when it ran is not compared
    assert.deepEqual(recordDifferences(recorded, edited), ['trajectory', 'training.validation']);
    assert.deepEqual(recordDifferences(recorded, recorded), []);
  });

  it('a run without a readable record is an error naming the file', async () => {
    await assert.rejects(reproduceRun('0123456789abcdef'), /cannot reproduce run 0123456789abcdef: .*run\.json is missing/);
  });
});
