// Where a Chromium for the rendering test lives, and installing it on a fresh Debian machine.
// Plain JavaScript with no dependencies: scripts/ensure-setup.js runs it before node_modules exists, and
// lib/render/pageCheck.ts asks the same list, so the two never disagree about what "Chromium is there" means.
'use strict';
const fs = require('fs');

/** Binaries to try, best first: DENSITY_CHROMIUM, then Debian's and other common locations. */
function chromiumCandidates(env = process.env) {
  return [env.DENSITY_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(Boolean);
}

/** The first candidate that exists, or null. */
function findChromium(candidates = chromiumCandidates()) {
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return null;
}

const INSTALL_COMMAND = 'apt-get install -y chromium';

/**
 * Make sure a Chromium exists. As root with apt-get: install Debian's `chromium`. Otherwise say which command
 * installs it (or that DENSITY_CHROMIUM can point at one) and return false.
 * `deps` lets a test replace the machine: `run(cmd, args)` returns the exit status.
 */
function ensureChromium(deps) {
  const { candidates, isRoot, hasApt, run, say } = deps;
  const found = findChromium(candidates);
  if (found) return true;
  if (isRoot && hasApt) {
    say('Chromium (for the rendering test) not found: installing the Debian package');
    if (run('apt-get', ['update', '-qq']) === 0 && run('apt-get', ['install', '-y', '-qq', 'chromium']) === 0 && findChromium(candidates)) return true;
    say(`installing chromium with apt-get failed; looked for ${candidates.join(', ')}`);
    return false;
  }
  say(`Chromium is needed by the rendering test and was not found (looked for ${candidates.join(', ')}).`);
  say(`Install it with:   sudo ${INSTALL_COMMAND}   (Debian/Ubuntu; as root without sudo)`);
  say('or set DENSITY_CHROMIUM to a Chrome/Chromium binary.');
  return false;
}

module.exports = { chromiumCandidates, findChromium, ensureChromium, INSTALL_COMMAND };
