#!/usr/bin/env node
// First step of `npm start`, `npm test` and `npm run render`: do whatever set-up is missing, then get out of the way.
//  1. node_modules: `npm ci` when absent or older than package-lock.json.
//  2. Jupyter nbconvert + nbclient: Debian packages when running as root with apt-get, else a clear message.
//  2b. The native kernel library (scripts/native-conv.js: convolutions through oneDNN, Debian's libdnnl-dev; batch
//      normalization), when missing or stale.
//  3. The project-local tslab kernel spec (.jupyter/, put on JUPYTER_PATH by our commands only).
//  4. With --chromium (npm test): Chromium for the rendering test, the same way as Jupyter; and redis-server for
//     the queue tests (test/queue), which are skipped with a message where it cannot be installed; and Mesa's
//     Vulkan software device (lavapipe, from bookworm-backports on bookworm) for the webgpu test tier, which
//     likewise only skips, with a message, where it cannot be installed (scripts/vulkan.js).
// Plain JavaScript without dependencies: it runs before node_modules exists.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const jenv = require('./jupyter-env');
const chromium = require('./chromium');
const redis = require('./redis');
const vulkan = require('./vulkan');
const nativeConv = require('./native-conv');

const root = jenv.projectRoot;
const say = (msg) => process.stderr.write(`[setup] ${msg}\n`);

function run(cmd, args, opts = {}) {
  say(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    say(`'${cmd} ${args.join(' ')}' failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
    process.exit(r.status || 1);
  }
}

function ensureNodeModules() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  const stale = !fs.existsSync(marker) || fs.statSync(marker).mtimeMs < fs.statSync(lock).mtimeMs;
  if (stale) run('npm', ['ci', '--no-audit', '--no-fund']);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = fs.existsSync('/usr/bin/apt-get');

function ensureJupyter() {
  if (process.env.DENSITY_SKIP_JUPYTER === '1') return;
  if (jenv.findJupyterPython()) return;
  if (isRoot && hasApt) {
    say('Jupyter nbconvert/nbclient not found: installing the Debian packages');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'jupyter-nbconvert', 'python3-nbclient'], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (jenv.findJupyterPython()) return;
  }
  say('Jupyter (nbconvert + nbclient) is needed to execute and render the notebooks, and was not found.');
  say('Install it with:   python3 -m pip install nbconvert nbclient jupyter_client ipykernel');
  say('(or on Debian/Ubuntu as root: apt-get install -y jupyter-nbconvert python3-nbclient).');
  say('Point DENSITY_PYTHON at the interpreter that has it if it is not /usr/bin/python3 or python3 on PATH.');
  process.exit(1);
}

function ensureChromium() {
  const runStatus = (cmd, args) => {
    say(`$ ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return r.status === null ? 1 : r.status;
  };
  if (!chromium.ensureChromium({ candidates: chromium.chromiumCandidates(), isRoot, hasApt, run: runStatus, say })) process.exit(1);
}

function ensureRedis() {
  const runStatus = (cmd, args) => {
    say(`$ ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return r.status === null ? 1 : r.status;
  };
  // Not fatal: without it only the queue tests skip.
  redis.ensureRedisServer({ candidates: redis.redisServerCandidates(), isRoot, hasApt, run: runStatus, say });
}

function ensureVulkan() {
  if (process.env.DENSITY_SKIP_VULKAN === '1') return;
  const installedVersion = (pkg) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg], { encoding: 'utf8' });
    const m = r.status === 0 ? /^install ok installed (\S+)/.exec(r.stdout) : null;
    return m ? m[1] : null;
  };
  const runStatus = (cmd, args) => {
    say(`$ ${cmd} ${args.join(' ')}`);
    const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return r.status === null ? 1 : r.status;
  };
  let osRelease = '';
  try {
    osRelease = fs.readFileSync('/etc/os-release', 'utf8');
  } catch {
    // no os-release (not Linux): ensureLavapipe says it cannot set up
  }
  // Not fatal: without it only the webgpu tier skips.
  vulkan.ensureLavapipe({ isRoot, hasApt, osRelease, installedVersion, run: runStatus, say });
}

function ensureNativeConv() {
  // Not fatal: without the library the wasm backend keeps XNNPACK's convolutions (README: Performance).
  const r = nativeConv.buildNativeConv({ isRoot, hasApt, say });
  if (r.ok === false) say(`native kernels not built: ${r.reason}; the wasm backend keeps its own convolutions and batch normalization`);
}

ensureNodeModules();
ensureNativeConv();
ensureJupyter();
if (jenv.ensureKernelSpec()) say(`kernel spec written: ${path.relative(root, jenv.kernelSpecFile)} (used via JUPYTER_PATH)`);
if (process.argv.includes('--chromium')) {
  ensureChromium();
  ensureRedis();
  ensureVulkan();
}
