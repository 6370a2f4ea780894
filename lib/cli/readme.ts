// npm run readme [-- --check]: re-render README's generated blocks (the CIFAR tables, the verdicts) from the results.
import * as fs from 'fs';
import * as path from 'path';
import { CommandSpec, ENV_NOTES, runCli } from './args';
import { projectRoot, checkOutputsDir } from '../paths';
import { README_BLOCKS, readmeMarkers, renderReadme } from '../report/readme';
import { loadStudy } from '../report/study';
import { writeFileAtomic } from '../store/atomic';
import { committedOutputsCopy } from '../store/committed';

const cmd: CommandSpec = {
  command: 'readme',
  summary:
    "Re-render README.md's generated blocks (between '<!-- name: profile -->' and '<!-- /name -->') from the\n" +
    "profiles' results in the outputs folder. Nothing is trained. Run it after committing new run records.",
  flags: [
    { name: 'check', type: 'boolean', help: 'write nothing; exit 1 naming the blocks that are stale' },
    { name: 'committed', type: 'boolean', help: "read only the run records git tracks in outputs/ (what a fresh clone has; the test's view)" },
  ],
  notes: ['Blocks:', ...README_BLOCKS.map((b) => `  ${b.name}: ${b.what}`), '', ...ENV_NOTES],
  examples: ['npm run readme -- --committed   (after committing new run records, even while a sweep adds more)', 'npm run readme -- --check'],
};

runCli(cmd, async ({ values }) => {
  const file = path.join(projectRoot, 'README.md');
  const copy = values.committed ? committedOutputsCopy() : null;
  const saved = process.env.DENSITY_OUTPUTS;
  if (copy) process.env.DENSITY_OUTPUTS = copy;
  let text = fs.readFileSync(file, 'utf8');
  const changed: string[] = [];
  try {
    checkOutputsDir('read');
    for (const profile of [...new Set(readmeMarkers(text).map((m) => m.profile))]) {
      const r = renderReadme(text, await loadStudy(profile, { log: () => {} }));
      text = r.text;
      changed.push(...r.changed);
    }
  } finally {
    if (copy) {
      if (saved === undefined) delete process.env.DENSITY_OUTPUTS;
      else process.env.DENSITY_OUTPUTS = saved;
      fs.rmSync(copy, { recursive: true, force: true });
    }
  }
  if (values.check) {
    process.stdout.write(changed.length ? `stale: ${changed.join(', ')} (npm run readme rewrites them)\n` : 'README blocks are current\n');
    return changed.length ? 1 : 0;
  }
  if (changed.length) writeFileAtomic(file, text);
  process.stdout.write(changed.length ? `rewrote ${changed.join(', ')}\n` : 'README blocks were current\n');
  return 0;
});
