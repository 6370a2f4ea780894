// Opens a rendered notebook page in headless Chromium with the network cut off and reports what a reader sees:
// how many Plotly figures drew with data, and any console errors or failed requests. Used by the rendering test
// and available to check a render by hand (npx tsx lib/render/pageCheck.ts outputs/html/02-....html).
import * as path from 'path';
import { projectRoot } from '../paths';

export interface PageReport {
  file: string;
  figures: number;
  figuresWithData: number;
  consoleErrors: string[];
  blockedRequests: string[];
  /** Provenance boxes on the page, and their cells whose computed text is not left-aligned (the lab CSS right-aligns td). */
  provenanceBoxes: number;
  provenanceCellsNotLeft: number;
}

interface ChromiumModule {
  chromiumCandidates(env?: NodeJS.ProcessEnv): string[];
  findChromium(candidates?: string[]): string | null;
  INSTALL_COMMAND: string;
}
// Plain JS shared with scripts/ensure-setup.js (which installs Chromium for `npm test` before node_modules exists).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const chromiumSetup = require(path.join(projectRoot, 'scripts', 'chromium.js')) as ChromiumModule;

export function chromiumPath(): string {
  const found = chromiumSetup.findChromium();
  if (found) return found;
  throw new Error(
    `no Chromium found (looked for ${chromiumSetup.chromiumCandidates().join(', ')}): run \`node scripts/ensure-setup.js --chromium\` ` +
      `(as root it installs it), \`${chromiumSetup.INSTALL_COMMAND}\`, or set DENSITY_CHROMIUM to a Chrome/Chromium binary`,
  );
}

export async function checkPage(file: string, opts: { settleMs?: number } = {}): Promise<PageReport> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const report: PageReport = { file, figures: 0, figuresWithData: 0, consoleErrors: [], blockedRequests: [], provenanceBoxes: 0, provenanceCellsNotLeft: 0 };
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') report.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => report.consoleErrors.push(String(e)));
    // No network: anything that is not the file itself (or inline data) is blocked and reported.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      report.blockedRequests.push(url);
      return route.abort();
    });
    await page.goto(`file://${path.resolve(file)}`, { waitUntil: 'load', timeout: 120000 });
    await page.waitForTimeout(opts.settleMs ?? 1500);
    // Runs in the page (a string, so this Node-side file needs no DOM types). A drawn Plotly figure carries its
    // data on the element (gd.data) and has an SVG main layer.
    const counts = (await page.evaluate(`(() => {
      const figs = Array.from(document.querySelectorAll('.density-figure'));
      const withData = figs.filter((el) => Array.isArray(el.data) && el.data.length > 0 && el.querySelector('.main-svg') !== null);
      const boxes = Array.from(document.querySelectorAll('.density-provenance'));
      const cells = boxes.flatMap((b) => Array.from(b.querySelectorAll('td, th')));
      const notLeft = cells.filter((c) => !['left', 'start'].includes(getComputedStyle(c).textAlign));
      return { figures: figs.length, withData: withData.length, boxes: boxes.length, notLeft: notLeft.length };
    })()`)) as { figures: number; withData: number; boxes: number; notLeft: number };
    report.figures = counts.figures;
    report.figuresWithData = counts.withData;
    report.provenanceBoxes = counts.boxes;
    report.provenanceCellsNotLeft = counts.notLeft;
  } finally {
    await browser.close();
  }
  return report;
}

if (require.main === module) {
  const files = process.argv.slice(2);
  (async () => {
    for (const f of files) {
      const r = await checkPage(f);
      process.stdout.write(
        `${path.basename(f)}: ${r.figuresWithData}/${r.figures} figures drawn, ${r.consoleErrors.length} console errors, ${r.blockedRequests.length} blocked requests, ` +
          `${r.provenanceCellsNotLeft} provenance cells not left-aligned\n`,
      );
      for (const e of r.consoleErrors) process.stdout.write(`  console: ${e}\n`);
      for (const u of r.blockedRequests) process.stdout.write(`  blocked: ${u}\n`);
      if (r.figures !== r.figuresWithData || r.consoleErrors.length || r.blockedRequests.length || r.provenanceCellsNotLeft) process.exitCode = 1;
    }
  })().catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 2;
  });
}
