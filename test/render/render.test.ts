// Guards the rendering path end to end: project-local kernel spec -> tslab started in the project root ->
// cells importing ./lib -> nbconvert with the offline template -> HTML whose Plotly figures draw in headless
// Chromium with the network cut off and no console errors.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderNotebookFile, resolveNotebooks, listNotebooks } from '../../lib/cli/render';
import { checkPage } from '../../lib/render/pageCheck';
import { PLOTLY_SCRIPT_MARKER } from '../../lib/plots/display';

describe('notebook rendering', function () {
  this.timeout(300000);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'density-render-'));

  it('executes a notebook with the project kernel and the page draws every figure offline', async () => {
    const r = renderNotebookFile(path.join(__dirname, 'probe.ipynb'), { outDir, timeoutSeconds: 120 });
    assert.ok(r.ok, `render failed: ${r.error}`);
    const html = fs.readFileSync(r.html, 'utf8');
    // plotly.js embedded exactly once, no external script sources.
    assert.equal((html.match(new RegExp(`${PLOTLY_SCRIPT_MARKER}=`, 'g')) ?? []).length, 1);
    assert.doesNotMatch(html, /<script[^>]+src="(https?:|file:)/);
    assert.match(html, /43\.250/); // the table cell
    // The page stays small enough to mail or commit: the unminified plotly.js alone made every page ~12 MB.
    const bytes = fs.statSync(r.html).size;
    assert.ok(bytes <= 5_000_000, `rendered page is ${(bytes / 1e6).toFixed(2)} MB; expected at most 5 MB`);
    // Cells that ran show their execution counts (the kernel broadcasts execute_input), not `In [ ]:`.
    assert.deepEqual(html.match(/In&nbsp;\[[^\]]*\]/g), ['In&nbsp;[1]', 'In&nbsp;[2]', 'In&nbsp;[3]']);
    const page = await checkPage(r.html);
    assert.deepEqual(page.consoleErrors, []);
    assert.deepEqual(page.blockedRequests, []);
    assert.equal(page.figures, 2);
    assert.equal(page.figuresWithData, 2);
    // The provenance box reads left to right under the lab template's CSS (which right-aligns table cells).
    assert.equal(page.provenanceBoxes, 1);
    assert.equal(page.provenanceCellsNotLeft, 0);
  });

  it('fails (does not write a silent half page) when a cell throws', () => {
    const r = renderNotebookFile(path.join(__dirname, 'failing.ipynb'), { outDir, timeoutSeconds: 60 });
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /deliberate failure/);
  });

  it('resolves notebook names by prefix and rejects unknown ones', () => {
    const all = listNotebooks();
    if (all.length > 0) assert.deepEqual(resolveNotebooks([all[0].slice(0, 2)]), [all[0]]);
    assert.throws(() => resolveNotebooks(['no-such-notebook']), /not found/);
  });
});
