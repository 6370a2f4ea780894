// Building the native kernel library that the wasm backend uses when it is present: its convolutions through oneDNN
// (lib/fast/native/dnnlConv.c, lib/fast/nativeConv.ts) and its batch normalization (lib/fast/native/batchNorm.c,
// lib/fast/nativeBatchNorm.ts). Plain JavaScript without dependencies: it runs from scripts/ensure-setup.js before
// node_modules exists, and as `npm run build:native`.
// Nothing here is fatal: without the library the wasm backend keeps its own kernels (slower, same science).
'use strict';
const { spawnSync } = require('child_process');
const { createHash } = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const SOURCE_DIR = path.join(root, 'lib', 'fast', 'native');
const SOURCE_FILES = ['dnnlConv.c', 'batchNorm.c'].map((f) => path.join(SOURCE_DIR, f));
const BUILD_DIR = path.join(root, 'build', 'native');
const LIBRARY_FILE = path.join(BUILD_DIR, 'libdensity-dnnl.so');
/** Beside the library: the sha256 of the sources and flags it was built from (a stale library is never loaded). */
const STAMP_FILE = `${LIBRARY_FILE}.source-sha256`;
const HEADER = '/usr/include/dnnl.h';
const APT_PACKAGE = 'libdnnl-dev';
// No FMA contraction and no -ffast-math: the batch normalization's rounding must not depend on the machine.
const COMPILER_FLAGS = ['-O3', '-ffp-contract=off', '-Wall', '-shared', '-fPIC'];
const LIBRARIES = ['-ldnnl', '-lm'];

function sourceHash() {
  const h = createHash('sha256').update(JSON.stringify([COMPILER_FLAGS, LIBRARIES]));
  for (const f of SOURCE_FILES) h.update(`\0${path.basename(f)}\0`).update(fs.readFileSync(f));
  return h.digest('hex');
}

/** Whether a library built from the current source is present. */
function isBuilt() {
  try {
    return fs.existsSync(LIBRARY_FILE) && fs.readFileSync(STAMP_FILE, 'utf8').trim() === sourceHash();
  } catch {
    return false;
  }
}

/** Why the library is not usable now ('' when it is). */
function whyNotBuilt() {
  if (!fs.existsSync(LIBRARY_FILE)) return `${path.relative(root, LIBRARY_FILE)} has not been built (npm run build:native)`;
  if (!isBuilt())
    return `${path.relative(root, LIBRARY_FILE)} was built from other sources than ${path.relative(root, SOURCE_DIR)}/ now holds (npm run build:native)`;
  return '';
}

function findCompiler() {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    const r = spawnSync(cc, ['--version'], { stdio: 'ignore' });
    if (r.status === 0) return cc;
  }
  return null;
}

/**
 * Build the library when it is missing or stale. opts: { say, isRoot, hasApt, force }. As root with apt-get, installs
 * oneDNN's headers (libdnnl-dev) when they are missing. Returns { ok: true } or { ok: false, reason }.
 */
function buildNativeConv(opts = {}) {
  const say = opts.say || ((m) => process.stderr.write(`[native] ${m}\n`));
  if (!opts.force && isBuilt()) return { ok: true, built: false };
  if (process.platform !== 'linux') return { ok: false, reason: `the native kernels are built on Linux only (this is ${process.platform})` };
  if (!fs.existsSync(HEADER) && opts.isRoot && opts.hasApt) {
    say(`oneDNN headers (${HEADER}) not found: installing ${APT_PACKAGE}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const r = spawnSync('apt-get', ['install', '-y', '-qq', APT_PACKAGE], { stdio: 'inherit', env });
    if (r.status !== 0) {
      // A fresh machine's package lists may be empty: update once, then try again.
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      spawnSync('apt-get', ['install', '-y', '-qq', APT_PACKAGE], { stdio: 'inherit', env });
    }
  }
  if (!fs.existsSync(HEADER)) return { ok: false, reason: `oneDNN's headers (${HEADER}) are missing: apt-get install ${APT_PACKAGE}` };
  const cc = findCompiler();
  if (!cc) return { ok: false, reason: 'no C compiler (cc, gcc or clang) found: apt-get install gcc' };
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const tmp = `${LIBRARY_FILE}.tmp-${process.pid}`;
  const args = [...COMPILER_FLAGS, '-o', tmp, ...SOURCE_FILES, ...LIBRARIES];
  say(`$ ${cc} ${args.map((a) => (path.isAbsolute(a) ? path.relative(root, a) : a)).join(' ')}`);
  const r = spawnSync(cc, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    return { ok: false, reason: `compiling ${path.relative(root, SOURCE_DIR)}/*.c failed (exit ${r.status})` };
  }
  // Library first, then its stamp: a crash between the two leaves a library that is rebuilt, never a stale one used.
  fs.renameSync(tmp, LIBRARY_FILE);
  fs.writeFileSync(`${STAMP_FILE}.tmp`, `${sourceHash()}\n`);
  fs.renameSync(`${STAMP_FILE}.tmp`, STAMP_FILE);
  return { ok: true, built: true };
}

module.exports = { SOURCE_FILES, LIBRARY_FILE, STAMP_FILE, APT_PACKAGE, isBuilt, whyNotBuilt, buildNativeConv };

if (require.main === module) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const r = buildNativeConv({ isRoot, hasApt: fs.existsSync('/usr/bin/apt-get'), force: process.argv.includes('--force') });
  if (r.ok) {
    process.stderr.write(`[native] ${path.relative(root, LIBRARY_FILE)} ${r.built ? 'built' : 'is up to date'}\n`);
  } else {
    process.stderr.write(`[native] not built: ${r.reason}; the wasm backend keeps its own convolutions and batch normalization\n`);
    process.exit(process.argv.includes('--optional') ? 0 : 1);
  }
}
