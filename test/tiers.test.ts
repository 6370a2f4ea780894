// The two test tiers (test/tiers.js): together they are every test file, each in exactly one; the npm scripts
// run them through their configs, and npm test still runs all of test/.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../lib/paths';

interface MochaConfig {
  spec: string[];
  require: string[];
  timeout: number;
}
interface Tiers {
  SLOW: Record<string, string>;
  tierFiles(tier: string): string[];
  mochaConfig(tier: string): MochaConfig;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tiers = require(path.join(projectRoot, 'test', 'tiers.js')) as Tiers;
const load = (file: string): MochaConfig => require(path.join(projectRoot, 'test', file)) as MochaConfig; // eslint-disable-line @typescript-eslint/no-require-imports

/** Every *.test.ts under test/, found here independently of tiers.js. */
function testFilesOnDisk(): string[] {
  return (fs.readdirSync(path.join(projectRoot, 'test'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(projectRoot, 'test', f))
    .sort();
}

describe('test tiers: unit and slow', () => {
  const unit = load('mocharc.unit.js');
  const slow = load('mocharc.slow.js');

  it('every test file is in exactly one tier', () => {
    const all = testFilesOnDisk();
    assert.ok(all.length > 50, `found ${all.length} test files`);
    const inBoth = unit.spec.filter((f) => slow.spec.includes(f));
    assert.deepEqual(inBoth, [], 'in both tiers');
    const inNeither = all.filter((f) => !unit.spec.includes(f) && !slow.spec.includes(f));
    assert.deepEqual(inNeither, [], 'in neither tier');
    assert.deepEqual([...unit.spec, ...slow.spec].sort(), all, 'the tiers name only files that exist');
  });

  it('each slow file exists and says why it is slow; this file is in the unit tier', () => {
    for (const [file, why] of Object.entries(tiers.SLOW)) {
      assert.ok(fs.existsSync(path.join(projectRoot, 'test', file)), `test/tiers.js lists test/${file}, which does not exist`);
      assert.ok(why.length > 10, `no reason given for test/${file}`);
    }
    assert.ok(unit.spec.includes(path.join(projectRoot, 'test', 'tiers.test.ts')));
    assert.throws(() => tiers.tierFiles('fast'), /no test tier 'fast'/);
  });

  it('both configs keep .mocharc.json (tsx, the scratch outputs set-up, the timeout)', () => {
    const base = JSON.parse(fs.readFileSync(path.join(projectRoot, '.mocharc.json'), 'utf8')) as Omit<MochaConfig, 'spec'>;
    assert.ok(base.require.includes('test/setup.ts'));
    for (const c of [unit, slow]) {
      assert.deepEqual(c.require, base.require);
      assert.equal(c.timeout, base.timeout);
    }
  });

  it('npm run test:unit / test:slow run the tier configs; npm test runs every test file', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts['test:unit'], 'mocha --config test/mocharc.unit.js');
    assert.match(pkg.scripts['test:slow'], /^node scripts\/ensure-setup\.js --chromium && mocha --config test\/mocharc\.slow\.js$/);
    assert.match(pkg.scripts.test, / && mocha "test\/\*\*\/\*\.test\.ts"$/);
  });
});
