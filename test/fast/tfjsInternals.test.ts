import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { TFJS_INTERNALS_VERSIONS, tfjsVersionMismatches } from '../../lib/fast/tfjsInternals';

describe('fast: the tfjs internals the kernels rely on', () => {
  it('the installed tfjs is the version lib/fast was written against (an upgrade must re-check lib/fast/tfjsInternals.ts)', () => {
    assert.deepEqual(tfjsVersionMismatches(), []);
  });

  it('package.json pins tfjs at that version', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const want = TFJS_INTERNALS_VERSIONS['@tensorflow/tfjs-backend-wasm'];
    assert.equal(pkg.dependencies['@tensorflow/tfjs-backend-wasm'], want);
    assert.equal(pkg.dependencies['@tensorflow/tfjs'], TFJS_INTERNALS_VERSIONS['@tensorflow/tfjs-core']);
  });
});
