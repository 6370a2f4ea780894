// `npm test` on a fresh machine does its own set-up: Chromium for the rendering test is installed the way
// Jupyter is for `npm start` (apt as root, else a message with the command).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';

interface ChromiumSetup {
  chromiumCandidates(env?: NodeJS.ProcessEnv): string[];
  ensureChromium(deps: {
    candidates: string[];
    isRoot: boolean;
    hasApt: boolean;
    run: (cmd: string, args: string[]) => number;
    say: (m: string) => void;
  }): boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const setup = require(path.join(projectRoot, 'scripts', 'chromium.js')) as ChromiumSetup;

describe('scripts/ensure-setup: Chromium for npm test', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'density-chromium-'));
  const fake = path.join(dir, 'chromium');

  it('npm test runs the set-up with --chromium before mocha', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.test, /^node scripts\/ensure-setup\.js --chromium && mocha /);
  });

  it('as root with apt-get, installs Debian chromium when none is found', () => {
    if (fs.existsSync(fake)) fs.unlinkSync(fake);
    const calls: string[] = [];
    const ok = setup.ensureChromium({
      candidates: [fake],
      isRoot: true,
      hasApt: true,
      say: () => undefined,
      run: (cmd, args) => {
        calls.push(`${cmd} ${args.join(' ')}`);
        if (args.includes('install')) fs.writeFileSync(fake, ''); // what apt would leave behind
        return 0;
      },
    });
    assert.equal(ok, true);
    assert.deepEqual(calls, ['apt-get update -qq', 'apt-get install -y -qq chromium']);
  });

  it('does nothing when a Chromium is there, and DENSITY_CHROMIUM comes first', () => {
    fs.writeFileSync(fake, '');
    assert.equal(
      setup.ensureChromium({ candidates: [fake], isRoot: true, hasApt: true, say: () => undefined, run: () => assert.fail('nothing to install') }),
      true,
    );
    assert.equal(setup.chromiumCandidates({ DENSITY_CHROMIUM: fake })[0], fake);
  });

  it('not root: fails with the command that installs it, and installs nothing', () => {
    const missing = path.join(dir, 'absent');
    const said: string[] = [];
    const ok = setup.ensureChromium({
      candidates: [missing],
      isRoot: false,
      hasApt: true,
      say: (m) => said.push(m),
      run: () => assert.fail('must not run apt as non-root'),
    });
    assert.equal(ok, false);
    assert.match(said.join('\n'), new RegExp(`looked for ${missing.replace(/[/.]/g, '\\$&')}`));
    assert.match(said.join('\n'), /apt-get install -y chromium/);
    assert.match(said.join('\n'), /DENSITY_CHROMIUM/);
  });

  it('a failed apt install is reported, not ignored', () => {
    const missing = path.join(dir, 'still-absent');
    const said: string[] = [];
    assert.equal(
      setup.ensureChromium({
        candidates: [missing],
        isRoot: true,
        hasApt: true,
        say: (m) => said.push(m),
        run: (_c, args) => (args.includes('install') ? 100 : 0),
      }),
      false,
    );
    assert.match(said.join('\n'), /installing chromium with apt-get failed/);
  });
});
