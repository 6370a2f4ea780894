// A Vulkan device for the webgpu test tier (test/backend/webgpu.test.ts) on a machine without a GPU: Mesa's
// software rasteriser lavapipe. Dawn (npm `webgpu`) refuses Debian bookworm's Mesa 22.3 ("Vulkan
// shaderUniform*ArrayDynamicIndexing required") and accepts Mesa 25 from bookworm-backports.
// Plain JavaScript with no dependencies: scripts/ensure-setup.js runs it before node_modules exists. Nothing here
// is fatal: when the install cannot happen, the tier skips and says why.
'use strict';
const fs = require('fs');

const BACKPORTS_LIST = '/etc/apt/sources.list.d/density-bookworm-backports.sources';
const BACKPORTS_SOURCE = [
  'Types: deb',
  'URIs: http://deb.debian.org/debian',
  'Suites: bookworm-backports',
  'Components: main',
  'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
  '',
].join('\n');
/** The oldest Mesa whose lavapipe Dawn 0.6 accepts (bookworm's 22.3 is refused; 25.0 works). */
const MIN_MESA_MAJOR = 23;

/** Debian's codename from /etc/os-release text, or null. */
function codename(osRelease) {
  const m = /^VERSION_CODENAME=(\w+)/m.exec(osRelease || '');
  return m ? m[1] : null;
}

/** Major version of a Debian package version string ('25.0.7-2~bpo12+1' -> 25), or null. */
function majorVersion(version) {
  const m = /^(?:\d+:)?(\d+)\./.exec(version || '');
  return m ? Number(m[1]) : null;
}

/** Whether some apt source already lists bookworm-backports. */
function hasBackportsSource(readSources) {
  return readSources().some((text) => /bookworm-backports/.test(text));
}

function defaultReadSources() {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of fs.readdirSync('/etc/apt/sources.list.d')) files.push(`/etc/apt/sources.list.d/${f}`);
  } catch {
    // no sources.list.d: only sources.list
  }
  return files.filter((f) => /\.(list|sources)$/.test(f) && fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8'));
}

/**
 * Make sure Mesa's lavapipe (>= 23) and the Vulkan loader are installed. Returns true when they are (already or
 * now), false otherwise, after saying why; never exits.
 * deps: { isRoot, hasApt, osRelease, installedVersion(pkg) -> string|null, readSources() -> string[],
 *         writeFile(path, text), run(cmd, args) -> exit status, say(msg) }
 */
function ensureLavapipe(deps) {
  const { isRoot, hasApt, osRelease, installedVersion, run, say } = deps;
  const readSources = deps.readSources || defaultReadSources;
  const writeFile = deps.writeFile || ((p, t) => fs.writeFileSync(p, t));
  const ready = () => installedVersion('libvulkan1') !== null && (majorVersion(installedVersion('mesa-vulkan-drivers')) || 0) >= MIN_MESA_MAJOR;
  if (ready()) return true;
  const release = codename(osRelease);
  const why = 'the webgpu test tier will skip (it needs a Vulkan device; without a GPU, Mesa >= 23 lavapipe)';
  if (!hasApt || release === null) {
    say(`no Vulkan software device set up: not a Debian system with apt-get; ${why}`);
    return false;
  }
  const backports = release === 'bookworm';
  const command = `apt-get install -y ${backports ? '-t bookworm-backports ' : ''}mesa-vulkan-drivers libvulkan1`;
  if (!isRoot) {
    say(
      `Mesa's Vulkan drivers (>= ${MIN_MESA_MAJOR}) are not installed; ${why}. As root: ${backports ? 'add bookworm-backports to apt, then ' : ''}${command}`,
    );
    return false;
  }
  say(`installing Mesa's Vulkan drivers${backports ? ' from bookworm-backports' : ''} for the webgpu test tier`);
  try {
    if (backports && !hasBackportsSource(readSources)) writeFile(BACKPORTS_LIST, BACKPORTS_SOURCE);
  } catch (err) {
    say(`could not add bookworm-backports (${err.message}); ${why}`);
    return false;
  }
  const args = ['install', '-y', '-qq', ...(backports ? ['-t', 'bookworm-backports'] : []), 'mesa-vulkan-drivers', 'libvulkan1'];
  if (run('apt-get', ['update', '-qq']) !== 0 || run('apt-get', args) !== 0) {
    say(`'${command}' failed; ${why}`);
    return false;
  }
  if (!ready()) {
    say(`Mesa's Vulkan drivers are still older than ${MIN_MESA_MAJOR} after the install; ${why}`);
    return false;
  }
  return true;
}

module.exports = { ensureLavapipe, codename, majorVersion, BACKPORTS_LIST, BACKPORTS_SOURCE, MIN_MESA_MAJOR };
