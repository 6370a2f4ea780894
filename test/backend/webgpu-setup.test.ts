// npm test's set-up for the webgpu tier (scripts/vulkan.js, run by scripts/ensure-setup.js --chromium): Mesa's
// lavapipe from bookworm-backports as root on Debian bookworm, else a message; never fatal. The machine is
// replaced by fakes: nothing is installed here.
import { strict as assert } from 'assert';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';

interface Deps {
  isRoot: boolean;
  hasApt: boolean;
  osRelease: string;
  installedVersion(pkg: string): string | null;
  readSources(): string[];
  writeFile(p: string, text: string): void;
  run(cmd: string, args: string[]): number;
  say(msg: string): void;
}
interface VulkanSetup {
  ensureLavapipe(deps: Deps): boolean;
  BACKPORTS_LIST: string;
  MIN_MESA_MAJOR: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vulkan = require(path.join(projectRoot, 'scripts', 'vulkan.js')) as VulkanSetup;

const BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n';

/** A fake machine: `versions` are the installed packages; an apt install sets them to `afterInstall`. */
function machine(opts: {
  root?: boolean;
  os?: string;
  versions?: Record<string, string>;
  afterInstall?: Record<string, string>;
  sources?: string[];
  failing?: string;
}) {
  const versions = { ...(opts.versions ?? {}) };
  const calls: string[] = [];
  const said: string[] = [];
  const written: string[] = [];
  const deps: Deps = {
    isRoot: opts.root ?? true,
    hasApt: true,
    osRelease: opts.os ?? BOOKWORM,
    installedVersion: (pkg) => versions[pkg] ?? null,
    readSources: () => opts.sources ?? ['Types: deb\nSuites: bookworm bookworm-updates\n'],
    writeFile: (p) => written.push(p),
    run: (cmd, args) => {
      const line = `${cmd} ${args.join(' ')}`;
      calls.push(line);
      if (opts.failing && line.includes(opts.failing)) return 100;
      if (args.includes('install')) Object.assign(versions, opts.afterInstall ?? {});
      return 0;
    },
    say: (m) => said.push(m),
  };
  return { deps, calls, said, written };
}

describe('scripts/ensure-setup: a Vulkan device for the webgpu tier', () => {
  const mesa25 = { 'mesa-vulkan-drivers': '25.0.7-2~bpo12+1', libvulkan1: '1.3.239.0-1' };

  it('does nothing when Mesa >= 23 and the Vulkan loader are installed', () => {
    const m = machine({ versions: mesa25 });
    assert.equal(vulkan.ensureLavapipe(m.deps), true);
    assert.deepEqual(m.calls, []);
    assert.deepEqual(m.said, []);
  });

  it("on bookworm as root: adds bookworm-backports and installs Mesa from it (bookworm's own 22.3 is refused by Dawn)", () => {
    const m = machine({ versions: { 'mesa-vulkan-drivers': '22.3.6-1+deb12u1' }, afterInstall: mesa25 });
    assert.equal(vulkan.ensureLavapipe(m.deps), true);
    assert.deepEqual(m.written, [vulkan.BACKPORTS_LIST]);
    assert.deepEqual(m.calls, ['apt-get update -qq', 'apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1']);
  });

  it('keeps an existing bookworm-backports source', () => {
    const m = machine({ sources: ['deb http://deb.debian.org/debian bookworm-backports main\n'], afterInstall: mesa25 });
    assert.equal(vulkan.ensureLavapipe(m.deps), true);
    assert.deepEqual(m.written, []);
  });

  it('on a later Debian (Mesa >= 23 in main) installs without backports', () => {
    const m = machine({ os: 'VERSION_CODENAME=trixie\n', afterInstall: mesa25 });
    assert.equal(vulkan.ensureLavapipe(m.deps), true);
    assert.deepEqual(m.written, []);
    assert.deepEqual(m.calls, ['apt-get update -qq', 'apt-get install -y -qq mesa-vulkan-drivers libvulkan1']);
  });

  it('a failed install is not fatal: false, and a message that the tier will skip', () => {
    const m = machine({ failing: 'install' });
    assert.equal(vulkan.ensureLavapipe(m.deps), false);
    assert.ok(
      m.said.some((s) => /failed/.test(s) && /webgpu test tier will skip/.test(s)),
      m.said.join('\n'),
    );
  });

  it('an install that leaves Mesa too old says so', () => {
    const m = machine({ afterInstall: { 'mesa-vulkan-drivers': '22.3.6-1+deb12u1', libvulkan1: '1.3.239.0-1' } });
    assert.equal(vulkan.ensureLavapipe(m.deps), false);
    assert.ok(
      m.said.some((s) => new RegExp(`older than ${vulkan.MIN_MESA_MAJOR}`).test(s)),
      m.said.join('\n'),
    );
  });

  it('not root: installs nothing and says which command would', () => {
    const m = machine({ root: false });
    assert.equal(vulkan.ensureLavapipe(m.deps), false);
    assert.deepEqual(m.calls, []);
    assert.ok(
      m.said.some((s) => s.includes('apt-get install -y -t bookworm-backports mesa-vulkan-drivers libvulkan1')),
      m.said.join('\n'),
    );
  });
});
