import { strict as assert } from 'assert';
import { editDistance, nearestName } from '../lib/suggest';

describe('suggest', () => {
  it('edit distance counts insertions, deletions and substitutions', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('same', 'same'), 0);
  });
  it('suggests the nearest plausible name, case-insensitively, and nothing for far-off words', () => {
    assert.equal(nearestName('widht', ['width', 'init', 'dataSeed']), 'width');
    assert.equal(nearestName('InitSeed', ['initSeed', 'dataSeed']), 'initSeed');
    assert.equal(nearestName('zzzzzz', ['width', 'init']), undefined);
  });
});
