// Showing things in a notebook. In a tslab kernel (DENSITY_NOTEBOOK=1, set by scripts/tslab-kernel.js) output goes
// to tslab's display as HTML; elsewhere (tests, scripts) the HTML is written to stdout so nothing is silently lost.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { projectRoot } from '../paths';

/** A Plotly figure: data traces, layout and config, exactly as Plotly.newPlot takes them. */
export interface Figure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

function inKernel(): boolean {
  return process.env.DENSITY_NOTEBOOK === '1';
}

/** Send HTML to the notebook output (or stdout outside a kernel). */
export function showHtml(html: string): void {
  if (inKernel()) {
    // Required lazily: tslab's display only exists inside a running kernel.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tslab = require('tslab') as typeof import('tslab');
    tslab.display.html(html);
  } else {
    process.stdout.write(html + '\n');
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

let plotlyEmbedded = false;

/** The plotly.js build every page embeds: the full bundle, minified (4.9 MB; the unminified one made pages ~12 MB). */
export const PLOTLY_BUNDLE = path.join(projectRoot, 'node_modules', 'plotly.js-dist-min', 'plotly.min.js');

/** Marks the one script that carries plotly.js (tests count it: exactly one per page). */
export const PLOTLY_SCRIPT_MARKER = 'data-density-plotly';

let plotlyScript: string | null = null;

/**
 * A <script> that defines window.Plotly from the installed plotly.js-dist-min. The bundle travels gzipped and
 * base64-encoded (2.0 MB instead of 4.9 MB, so a page stays well under 5 MB) and the browser inflates it with
 * DecompressionStream: no network, no extra file. It runs with AMD/CommonJS globals hidden so the UMD wrapper
 * always sets window.Plotly (require.js on a page would otherwise capture it). A browser that cannot inflate it
 * gets the reason written where the figures would be (figureHtml), not a blank page.
 */
export function plotlyLibraryScript(): string {
  if (plotlyScript) return plotlyScript;
  const bundle = fs.readFileSync(PLOTLY_BUNDLE);
  const version = (JSON.parse(fs.readFileSync(path.join(path.dirname(PLOTLY_BUNDLE), 'package.json'), 'utf8')) as { version: string }).version;
  const b64 = zlib.gzipSync(bundle, { level: 9 }).toString('base64');
  plotlyScript = `<script type="text/javascript" ${PLOTLY_SCRIPT_MARKER}="plotly.js-dist-min ${escapeHtml(version)}">(function () {
  if (window.Plotly || window.densityPlotlyLoading) return;
  window.densityPlotlyLoading = true;
  function fail(why) { window.densityPlotlyError = 'Figures need plotly.js, embedded in this page, which this browser could not load: ' + why; console.error(window.densityPlotlyError); }
  if (typeof DecompressionStream !== 'function') return fail('no DecompressionStream (Chrome 80+, Firefox 113+ or Safari 16.4+ have it)');
  var bin = atob("${b64}");
  var bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text()
    .then(function (src) { (new Function('define', 'module', 'exports', src)).call(window); })
    .catch(function (e) { fail(String(e)); });
})();</script>`;
  return plotlyScript;
}

/** Embed plotly.js once per kernel session (so once per rendered notebook); later calls do nothing. */
export function ensurePlotly(): void {
  if (plotlyEmbedded) return;
  showHtml(plotlyLibraryScript());
  plotlyEmbedded = true;
}

let figureCounter = 0;

/** HTML for one interactive figure: a div and a script that draws it once Plotly is available. */
export function figureHtml(fig: Figure, id = `density-fig-${process.pid}-${++figureCounter}-${Date.now().toString(36)}`): string {
  const spec = JSON.stringify({ data: fig.data, layout: fig.layout ?? {}, config: { responsive: true, displaylogo: false, ...(fig.config ?? {}) } }).replace(
    /<\//g,
    '<\\/',
  );
  const height = typeof fig.layout?.height === 'number' ? fig.layout.height : 420;
  return `<div id="${id}" class="density-figure" style="width:100%;height:${height}px;"></div>
<script type="text/javascript">(function () {
  var spec = ${spec};
  function draw() {
    var el = document.getElementById(${JSON.stringify(id)});
    if (!el) return;
    if (window.densityPlotlyError) { el.textContent = window.densityPlotlyError; return; }
    if (!window.Plotly) { setTimeout(draw, 30); return; }
    window.Plotly.newPlot(el, spec.data, spec.layout, spec.config);
  }
  draw();
})();</script>`;
}

/** Show an interactive Plotly figure inline (embedding plotly.js first if this session has not yet). */
export function showFigure(fig: Figure): void {
  ensurePlotly();
  showHtml(figureHtml(fig));
}

/** A plain HTML table from rows of objects (columns: the given keys or the first row's). */
export function tableHtml(rows: Record<string, unknown>[], opts: { columns?: string[]; caption?: string; digits?: number } = {}): string {
  const columns = opts.columns ?? (rows.length ? Object.keys(rows[0]) : []);
  const digits = opts.digits ?? 3;
  const fmt = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(digits);
    return String(v);
  };
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${columns.map((c) => `<td>${escapeHtml(fmt(r[c]))}</td>`).join('')}</tr>`).join('\n');
  const caption = opts.caption ? `<caption style="caption-side:top;text-align:left">${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="density-table">${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function showTable(rows: Record<string, unknown>[], opts: { columns?: string[]; caption?: string; digits?: number } = {}): void {
  showHtml(tableHtml(rows, opts));
}

/** A highlighted note (e.g. what is missing and the command that computes it). */
export function showNote(text: string, kind: 'info' | 'warning' = 'info'): void {
  const colour = kind === 'warning' ? '#fff4e5' : '#eef6ff';
  const border = kind === 'warning' ? '#f0a030' : '#3b82f6';
  showHtml(
    `<div class="density-note" style="background:${colour};border-left:4px solid ${border};padding:8px 12px;margin:6px 0;white-space:pre-wrap">${escapeHtml(text)}</div>`,
  );
}
