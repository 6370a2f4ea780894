// The two test tiers, defined in this one place (plain JS: mocha reads it as a config before tsx is loaded).
//
//   npm run test:unit   every test file NOT listed below: the edit-test loop, under a minute on a quiet machine
//   npm run test:slow   the files listed below: end to end (notebooks, Chromium, CLI child processes, Redis,
//                       the webgpu tier, bench runs, long trainings); runs the same set-up as npm test first
//   npm test            all of test/ in one mocha run (both tiers): what CI runs (.ci/run)
//
// A new test file is in the unit tier unless it is added here. Add it when it spawns CLIs or notebooks, needs
// Chromium, Redis or a GPU, or trains for more than a few seconds. test/tiers.test.ts checks that the two tiers
// together are every test file, each exactly once.
'use strict';
const fs = require('fs');
const path = require('path');

const testDir = __dirname;

/** The slow tier: test files (relative to test/) and why each is slow. */
const SLOW = {
  'notebooks/notebooks.test.ts': 'renders every notebook with tslab and nbconvert (minutes)',
  'render/render.test.ts': 'headless Chromium on rendered pages',
  'report/tslab.test.ts': "compiles lib/report with tslab's TypeScript converter (~40 s)",
  'cli/sweep.test.ts': 'sweeps through CLI child processes',
  'cli/followups.test.ts': 'CLI child processes computing a run and its edge-popup follow-up',
  'cli/outputs.test.ts': 'CLI child processes computing runs',
  'cli/status-results.test.ts': 'CLI child processes computing runs',
  'queue/queue.test.ts': 'a Redis server, workers and a collector as child processes',
  'backend/webgpu.test.ts': 'the webgpu tier on a software Vulkan adapter (trainings and trajectories)',
  'bench/run.test.ts': 'npm run bench through its CLI',
  'experiments/run.test.ts': 'whole runs end to end (train, prune, analyse), many times',
  'experiments/followups.test.ts': 'trains tiny runs and runs edge-popup and SGLD on them end to end (~35 s)',
  'train/checkpoint.test.ts': 'long trainings (ResNet, Conv-2 for several epochs, twice each)',
  'store/committed.test.ts': 'inspects all ~500 committed runs',
};

/** Every *.test.ts under test/, relative to test/, sorted. */
function allTestFiles(dir = testDir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...allTestFiles(p));
    else if (e.name.endsWith('.test.ts')) out.push(path.relative(testDir, p).split(path.sep).join('/'));
  }
  return out.sort();
}

/** The test files of a tier, relative to test/. */
function tierFiles(tier) {
  if (tier === 'slow') return Object.keys(SLOW).sort();
  if (tier === 'unit') return allTestFiles().filter((f) => !(f in SLOW));
  throw new Error(`no test tier '${tier}' (unit or slow)`);
}

/** A mocha config running one tier, with everything else as .mocharc.json has it. */
function mochaConfig(tier) {
  const base = JSON.parse(fs.readFileSync(path.join(testDir, '..', '.mocharc.json'), 'utf8'));
  return { ...base, spec: tierFiles(tier).map((f) => path.join(testDir, f)) };
}

module.exports = { SLOW, allTestFiles, tierFiles, mochaConfig };
