// Where a redis-server for the queue tests lives, and installing it on a fresh Debian machine.
// Plain JavaScript with no dependencies: scripts/ensure-setup.js runs it before node_modules exists, and
// test/queue asks the same list, so the two never disagree about what "redis-server is there" means.
'use strict';
const fs = require('fs');
const path = require('path');

/** Binaries to try, best first: DENSITY_REDIS_SERVER, Debian's, then redis-server on PATH. */
function redisServerCandidates(env = process.env) {
  const onPath = (env.PATH || '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((d) => path.join(d, 'redis-server'));
  return [env.DENSITY_REDIS_SERVER, '/usr/bin/redis-server', ...onPath].filter(Boolean);
}

function findRedisServer(candidates = redisServerCandidates()) {
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return null;
}

const INSTALL_COMMAND = 'apt-get install -y redis-server';

/**
 * Make sure a redis-server exists. As root with apt-get: install Debian's `redis-server` (the queue tests start
 * their own on a free loopback port; the package's service is not needed). Otherwise say how, and return false:
 * the queue tests then skip with that message, the rest of npm test runs.
 */
function ensureRedisServer(deps) {
  const { candidates, isRoot, hasApt, run, say } = deps;
  if (findRedisServer(candidates)) return true;
  if (isRoot && hasApt) {
    say('redis-server (for the queue tests) not found: installing the Debian package');
    if (run('apt-get', ['update', '-qq']) === 0 && run('apt-get', ['install', '-y', '-qq', 'redis-server']) === 0 && findRedisServer(candidates)) return true;
    say(`installing redis-server with apt-get failed; the queue tests will be skipped (looked for ${candidates.join(', ')})`);
    return false;
  }
  say(`redis-server is needed by the queue tests and was not found (looked for ${candidates.join(', ')}); they will be skipped.`);
  say(`Install it with:   sudo ${INSTALL_COMMAND}   (Debian/Ubuntu), or set DENSITY_REDIS_SERVER to a redis-server binary.`);
  return false;
}

module.exports = { redisServerCandidates, findRedisServer, ensureRedisServer, INSTALL_COMMAND };
