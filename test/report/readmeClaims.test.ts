// README's verdict table is generated, not written: it must be what the claims registry gives on the committed
// records of the cpu profile, so a new run record or a changed rule cannot leave README saying something else.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';
import { checkClaims, claimsMarkdown } from '../../lib/report/claims';
import { loadStudy } from '../../lib/report/study';
import { committedFiles } from '../committedFiles';

const MARKED = /<!-- claims: cpu -->\n([\s\S]*?)\n<!-- \/claims -->/;

describe('README: the verdict table', function () {
  this.timeout(120_000);

  it('is what `npm run claims -- --profile cpu --format md-short` gives on the committed records', async () => {
    const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const marked = MARKED.exec(readme);
    assert.ok(marked, 'README has no table between <!-- claims: cpu --> and <!-- /claims -->');
    // Only what git tracks: a sweep running beside the tests adds records the README cannot know yet.
    const outputs = fs.mkdtempSync(path.join(os.tmpdir(), 'density-readme-claims-'));
    for (const f of committedFiles('outputs/runs').filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'))) {
      fs.mkdirSync(path.join(outputs, 'runs', path.dirname(f)), { recursive: true });
      fs.copyFileSync(path.join(projectRoot, 'outputs', 'runs', f), path.join(outputs, 'runs', f));
    }
    const saved = process.env.DENSITY_OUTPUTS;
    process.env.DENSITY_OUTPUTS = outputs;
    try {
      const table = claimsMarkdown(checkClaims(await loadStudy('cpu', { log: () => {} })), { short: true });
      assert.equal(marked[1], table, 'README is stale: paste the output of npm run -s claims -- --profile cpu --format md-short between the markers');
    } finally {
      if (saved === undefined) delete process.env.DENSITY_OUTPUTS;
      else process.env.DENSITY_OUTPUTS = saved;
      fs.rmSync(outputs, { recursive: true, force: true });
    }
  });
});
