// Opens a rendered notebook page in headless Chromium with the network cut off and reports what a reader sees:
// how many Plotly figures drew with data, and any console errors or failed requests. Used by the rendering test
// and available to check a render by hand (npx tsx lib/render/pageCheck.ts outputs/html/02-....html).
import * as fs from 'fs';
import * as path from 'path';

export interface PageReport {
  file: string;
  figures: number;
  figuresWithData: number;
  consoleErrors: string[];
  blockedRequests: string[];
}

export function chromiumPath(): string {
  const candidates = [process.env.DENSITY_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  throw new Error('no Chromium found (apt-get install chromium, or set DENSITY_CHROMIUM to a Chrome/Chromium binary)');
}

export async function checkPage(file: string, opts: { settleMs?: number } = {}): Promise<PageReport> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const report: PageReport = { file, figures: 0, figuresWithData: 0, consoleErrors: [], blockedRequests: [] };
  try {
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()); });
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
      return { figures: figs.length, withData: withData.length };
    })()`)) as { figures: number; withData: number };
    report.figures = counts.figures;
    report.figuresWithData = counts.withData;
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
      process.stdout.write(`${path.basename(f)}: ${r.figuresWithData}/${r.figures} figures drawn, ${r.consoleErrors.length} console errors, ${r.blockedRequests.length} blocked requests\n`);
      for (const e of r.consoleErrors) process.stdout.write(`  console: ${e}\n`);
      for (const u of r.blockedRequests) process.stdout.write(`  blocked: ${u}\n`);
      if (r.figures !== r.figuresWithData || r.consoleErrors.length || r.blockedRequests.length) process.exitCode = 1;
    }
  })().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exitCode = 2; });
}
