// Every notebook end to end on real results: the smoke profile's sweep into a scratch outputs folder, then each
// notebook executed with the project kernel (nbconvert) and its HTML opened in headless Chromium without network.
// Then the partial case (only the MLP runs exist) for the notebooks with Conv-2/ResNet sections, and npm start.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { listNotebooks, notebooksDir, renderNotebookFile, type RenderResult } from '../../lib/cli/render';
import { expandProfileRuns, profileAnalysis } from '../../lib/experiments/profiles';
import { superviseSweep } from '../../lib/experiments/sweep';
import { SWEEP_CLI } from '../../lib/paths';
import { projectRoot } from '../../lib/paths';
import { checkPage, type PageReport } from '../../lib/render/pageCheck';
import { computeFollowup } from '../../lib/experiments/followups';
import { followupRuns } from '../../lib/experiments/followupRecords';
import { INCLUDE_DEGENERATE_ENV } from '../../lib/report/aggregate';

const TSX = path.join(projectRoot, 'node_modules', '.bin', 'tsx');
const NOTEBOOKS = [
  '01-experimental-setting', '02-pruning-trajectories', '03-null-hypothesis', '04-optimizers-architectures', '05-glorot-vs-he',
  '06-initialisation-overlap', '07-functional-similarity', '08-activation-sparsity', '09-beyond-the-paper', '10-beyond-magnitude',
  '11-verdicts',
];

/** The text of the notes (showNote: class density-note) on a rendered page, HTML entities decoded. */
function notes(html: string): string[] {
  return [...html.matchAll(/<div class="density-note"[^>]*>(.*?)<\/div>/gs)].map((m) => m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
}

function page(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

function withOutputs<T>(dir: string, f: () => T): T {
  const saved = process.env.DENSITY_OUTPUTS;
  const savedInclude = process.env[INCLUDE_DEGENERATE_ENV];
  process.env.DENSITY_OUTPUTS = dir; // renderNotebookFile passes the environment to the kernel
  // The smoke runs are near chance by design (tiny data, one epoch): keep them so every figure is exercised.
  process.env[INCLUDE_DEGENERATE_ENV] = '1';
  try {
    return f();
  } finally {
    process.env.DENSITY_OUTPUTS = saved;
    if (savedInclude === undefined) delete process.env[INCLUDE_DEGENERATE_ENV];
    else process.env[INCLUDE_DEGENERATE_ENV] = savedInclude;
  }
}

function assertRenderedCleanly(r: RenderResult, report: PageReport, minFigures: number): void {
  assert.ok(r.ok, `${r.name} failed to render:\n${r.error}`);
  const html = fs.readFileSync(r.html, 'utf8');
  assert.doesNotMatch(html, /data-mime-type="application\/vnd\.jupyter\.stderr"/, `${r.name}: a cell wrote to stderr`); // (the CSS names it in single quotes)
  assert.match(html, /density-provenance/, `${r.name}: no provenance box`);
  assert.deepEqual(report.consoleErrors, [], `${r.name}: console errors`);
  assert.deepEqual(report.blockedRequests, [], `${r.name}: blocked requests`);
  assert.ok(report.figures >= minFigures, `${r.name}: ${report.figures} figures, expected at least ${minFigures}`);
  assert.equal(report.figuresWithData, report.figures, `${r.name}: ${report.figures - report.figuresWithData} figure(s) drawn without data`);
}

describe('notebooks (smoke profile, rendered and checked in a browser)', function () {
  this.timeout(15 * 60 * 1000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'density-notebooks-'));
  const outputs = path.join(root, 'outputs');
  const htmlOut = path.join(root, 'html');
  const times: Record<string, number> = {};

  before(async function () {
    this.timeout(10 * 60 * 1000);
    fs.mkdirSync(outputs, { recursive: true });
    const runs = expandProfileRuns('smoke');
    const analysis = profileAnalysis('smoke');
    const sup = superviseSweep(runs, {
      analysis, jobs: 1, workerModule: SWEEP_CLI, workerArgs: ['--worker', '--worker-analysis', JSON.stringify(analysis)],
      // mocha loads tsx as a require hook, not through execArgv, so the forked worker is told to load it.
      env: { DENSITY_OUTPUTS: outputs, NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require "${require.resolve('tsx/cjs')}"`].filter(Boolean).join(' ') },
      purpose: 'notebooks test',
    });
    const summary = await sup.done;
    assert.equal(summary.done, runs.length, `smoke sweep: ${JSON.stringify(summary)}`);
    // Notebook 10 reads the follow-ups: edge-popup and the LLC on the smoke profile's MLP runs (the step-size and
    // random-score variants are left out for time: their sections then show what to run).
    const saved = process.env.DENSITY_OUTPUTS;
    process.env.DENSITY_OUTPUTS = outputs;
    try {
      for (const r of followupRuns('smoke')) for (const f of ['edgePopup', 'llc'] as const) assert.equal((await computeFollowup(r, f)).kind, 'computed');
    } finally {
      process.env.DENSITY_OUTPUTS = saved;
    }
  });

  after(() => {
    const lines = Object.entries(times).map(([n, s]) => `      ${n}: ${s.toFixed(1)} s`);
    if (lines.length) process.stdout.write(`    render times (smoke):\n${lines.join('\n')}\n`);
    // The rendered pages stay for a look when asked (DENSITY_KEEP_TMP=1 prints where).
    if (process.env.DENSITY_KEEP_TMP) process.stdout.write(`    rendered pages kept in ${root}\n`);
    else fs.rmSync(root, { recursive: true, force: true });
  });

  it('the notebooks are the eleven of the plan, each a tslab notebook whose cells all have ids', () => {
    assert.deepEqual(listNotebooks(), NOTEBOOKS);
    for (const n of NOTEBOOKS) {
      const nb = JSON.parse(fs.readFileSync(path.join(notebooksDir, `${n}.ipynb`), 'utf8')) as {
        metadata: { kernelspec: { name: string; display_name: string }; language_info: { name: string } };
        cells: { id?: string; cell_type: string; source: string[]; outputs?: unknown[] }[];
      };
      assert.equal(nb.metadata.kernelspec.name, 'density-tslab');
      assert.equal(nb.metadata.kernelspec.display_name, 'TypeScript (density)');
      assert.equal(nb.metadata.language_info.name, 'typescript');
      assert.ok(nb.cells.every((c) => typeof c.id === 'string' && c.id.length > 0), `${n}: a cell without id`);
      assert.equal(new Set(nb.cells.map((c) => c.id)).size, nb.cells.length, `${n}: duplicate cell ids`);
      const first = nb.cells.find((c) => c.cell_type === 'code');
      assert.match(first?.source.join('') ?? '', /^\/\/ .*\nconst PROFILE = process\.env\.DENSITY_PROFILE \?\? 'cpu';\n.*\nconst COMPUTE_MISSING = false;/s, `${n}: first code cell`);
      assert.match(first?.source.join('') ?? '', /openStudy\(PROFILE, \{ compute: COMPUTE_MISSING \}\)/);
      assert.ok(nb.cells.every((c) => !c.outputs || c.outputs.length === 0), `${n}: committed with outputs`);
    }
  });

  // Figures each notebook must draw on the smoke results (MLP at 0.1x and 1x, one run per other regime).
  const minFigures: Record<string, number> = {
    '01-experimental-setting': 4, '02-pruning-trajectories': 10, '03-null-hypothesis': 4, '04-optimizers-architectures': 6, '05-glorot-vs-he': 1,
    '06-initialisation-overlap': 4, '07-functional-similarity': 2, '08-activation-sparsity': 4, '09-beyond-the-paper': 4,
    '10-beyond-magnitude': 3, '11-verdicts': 0,
  };
  for (const name of NOTEBOOKS) {
    it(`${name} renders without a cell error and every figure draws with data`, async () => {
      const r = withOutputs(outputs, () => renderNotebookFile(path.join(notebooksDir, `${name}.ipynb`), { outDir: htmlOut, profile: 'smoke', timeoutSeconds: 600 }));
      times[name] = r.seconds;
      assert.ok(r.ok, `${name} failed to render:\n${r.error}`);
      assertRenderedCleanly(r, await checkPage(r.html), minFigures[name]);
      assert.match(page(r.html), /7 of 7 done \(7 complete, 0 diverged\); 0 missing/);
    });
  }

  it('with only the MLP runs, 03 and 04 render and say what is missing and how to compute it', async () => {
    const partial = path.join(root, 'partial');
    for (const dir of fs.readdirSync(path.join(outputs, 'runs'))) {
      const run = JSON.parse(fs.readFileSync(path.join(outputs, 'runs', dir, 'run.json'), 'utf8')) as { descriptor: { architecture: string } };
      if (run.descriptor.architecture === 'mlp') fs.cpSync(path.join(outputs, 'runs', dir), path.join(partial, 'runs', dir), { recursive: true });
    }
    assert.equal(fs.readdirSync(path.join(partial, 'runs')).length, 4);
    const out = path.join(root, 'html-partial');
    for (const name of ['03-null-hypothesis', '04-optimizers-architectures']) {
      const r = withOutputs(partial, () => renderNotebookFile(path.join(notebooksDir, `${name}.ipynb`), { outDir: out, profile: 'smoke', timeoutSeconds: 600 }));
      assertRenderedCleanly(r, await checkPage(r.html), 1);
      const text = notes(page(r.html)).join('\n---\n');
      assert.match(page(r.html), /4 of 7 done \(4 complete, 0 diverged\); 3 missing/);
      assert.match(text, /3 of 7 runs of profile smoke are not computed yet \(conv2-adam: 1, conv2-adagrad: 1, resnet: 1\)/);
      assert.match(text, /npm run sweep -- --profile smoke --arch conv2,resnet/);
      if (name.startsWith('03')) {
        assert.match(text, /Conv-2 \(Adam and Adagrad, CIFAR-10\): none of the 2 runs of profile smoke is computed yet, so this part is skipped\.\nCompute them with: {2}npm run sweep -- --profile smoke --arch conv2/);
        assert.match(text, /ResNet \(SGD, CIFAR-10\): none of the 1 runs .*\nCompute them with: {2}npm run sweep -- --profile smoke --arch resnet/);
        assert.match(page(r.html), /Table 2, MLP \(SGD, MNIST\)/);
      } else {
        assert.match(text, /Conv-2 with Adam and Adagrad: none of the 2 runs of profile smoke is computed yet/);
        assert.match(text, /MLP and ResNet \(SGD\): 1 of 5 runs are not computed yet; what follows uses the 4 that are\.\nComplete them with: {2}npm run sweep -- --profile smoke --arch resnet/);
      }
    }
  });

  it('npm start renders from existing results without recomputing, and prints where the index is', () => {
    const r = spawnSync(TSX, [path.join('lib', 'cli', 'start.ts'), '--profile', 'smoke', '--notebooks', '01'], {
      cwd: projectRoot, encoding: 'utf8', env: { ...process.env, DENSITY_OUTPUTS: outputs }, timeout: 300000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /profile smoke: all 7 runs are done/);
    assert.match(r.stderr, /1\/1 notebooks rendered/);
    const index = path.join(outputs, 'html', 'index.html');
    assert.equal(r.stdout.trim(), index);
    assert.match(fs.readFileSync(index, 'utf8'), /href="01-experimental-setting\.html"/);
    assert.ok(fs.existsSync(path.join(outputs, 'html', '01-experimental-setting.html')));
  });
});
