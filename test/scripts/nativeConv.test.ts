// `npm run build:native` (scripts/native-conv.js): builds the native convolution library once, and never lets a
// library built from another version of its source count as built.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';

interface NativeConvSetup {
  LIBRARY_FILE: string;
  STAMP_FILE: string;
  isBuilt(): boolean;
  whyNotBuilt(): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const setup = require(path.join(projectRoot, 'scripts', 'native-conv.js')) as NativeConvSetup;

describe('scripts/native-conv.js (npm run build:native)', function () {
  before(function () {
    if (process.env.DENSITY_SKIP_NATIVE === '1') this.skip();
  });

  it('builds the library, then says it is up to date', () => {
    const first = spawnSync(process.execPath, ['scripts/native-conv.js'], { cwd: projectRoot, encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    assert.ok(setup.isBuilt());
    assert.equal(setup.whyNotBuilt(), '');
    const again = spawnSync(process.execPath, ['scripts/native-conv.js'], { cwd: projectRoot, encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /libdensity-dnnl\.so is up to date/);
  });

  it('does not count a library built from another version of the source', () => {
    const stamp = fs.readFileSync(setup.STAMP_FILE, 'utf8');
    try {
      fs.writeFileSync(setup.STAMP_FILE, `${'0'.repeat(64)}\n`);
      assert.equal(setup.isBuilt(), false);
      assert.match(setup.whyNotBuilt(), /was built from other sources than lib\/fast\/native\/ now holds \(npm run build:native\)/);
    } finally {
      fs.writeFileSync(setup.STAMP_FILE, stamp);
    }
    assert.ok(setup.isBuilt());
  });
});
