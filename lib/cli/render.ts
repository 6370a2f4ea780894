// npm run render [-- <notebook> ...] [--profile p] [--timeout s]
// Executes notebooks with the project-local tslab kernel through nbconvert and writes outputs/html/<name>.html
// plus outputs/html/index.html linking them. A cell error fails the command (nbconvert's own behaviour).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { checkOutputsDir, HTML_DIR, htmlDir, projectRoot } from '../paths';
import { escapeHtml } from '../plots/display';

interface JupyterEnvModule {
  kernelName: string;
  findJupyterPython(): string | null;
  ensureKernelSpec(): boolean;
  jupyterEnv(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
}
// Plain JS shared with scripts/ensure-setup.js (which must run before node_modules exists).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jenv = require(path.join(projectRoot, 'scripts', 'jupyter-env.js')) as JupyterEnvModule;

export const notebooksDir = path.join(projectRoot, 'notebooks');

export function listNotebooks(): string[] {
  if (!fs.existsSync(notebooksDir)) return [];
  return fs
    .readdirSync(notebooksDir)
    .filter((f) => f.endsWith('.ipynb') && !f.startsWith('_'))
    .map((f) => f.replace(/\.ipynb$/, ''))
    .sort();
}

/** Resolve user-given names ('02', '02-pruning-trajectories', 'notebooks/02-....ipynb') to notebook names. */
export function resolveNotebooks(requested: string[]): string[] {
  const all = listNotebooks();
  if (requested.length === 0) return all;
  return requested.map((r) => {
    const base = path.basename(r).replace(/\.ipynb$/, '');
    const hits = all.filter((n) => n === base || n.startsWith(`${base}-`));
    if (hits.length !== 1) {
      throw new Error(`render: notebook '${r}' ${hits.length ? `is ambiguous (${hits.join(', ')})` : 'not found'}; notebooks: ${all.join(', ') || '(none)'}`);
    }
    return hits[0];
  });
}

export interface RenderResult {
  name: string;
  ok: boolean;
  seconds: number;
  html: string;
  error?: string;
}

export function renderNotebook(name: string, opts: { profile?: string; timeoutSeconds?: number; outDir?: string } = {}): RenderResult {
  return renderNotebookFile(path.join(notebooksDir, `${name}.ipynb`), opts);
}

/** Execute one .ipynb (anywhere) with the project kernel and write <outDir>/<basename>.html. */
export function renderNotebookFile(file: string, opts: { profile?: string; timeoutSeconds?: number; outDir?: string } = {}): RenderResult {
  const name = path.basename(file).replace(/\.ipynb$/, '');
  const python = jenv.findJupyterPython();
  if (!python) throw new Error('render: Jupyter nbconvert/nbclient not found (run `node scripts/ensure-setup.js`, or pip install nbconvert nbclient)');
  jenv.ensureKernelSpec();
  const outDir = opts.outDir ?? htmlDir();
  fs.mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const args = [
    '-m',
    'nbconvert',
    '--to',
    'html',
    '--execute',
    `--ExecutePreprocessor.kernel_name=${jenv.kernelName}`,
    `--ExecutePreprocessor.timeout=${opts.timeoutSeconds ?? 3600}`,
    `--TemplateExporter.extra_template_basedirs=${path.join(projectRoot, 'scripts', 'nbconvert')}`,
    '--template',
    'density',
    '--output-dir',
    outDir,
    '--output',
    name,
    file,
  ];
  const env = jenv.jupyterEnv({ ...process.env, ...(opts.profile ? { DENSITY_PROFILE: opts.profile } : {}), PYTHONWARNINGS: 'ignore' });
  const r = spawnSync(python, args, { cwd: projectRoot, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (Date.now() - started) / 1000;
  const html = path.join(outDir, `${name}.html`);
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ''}`
      .split('\n')
      .filter((l) => l.trim())
      .slice(-25)
      .join('\n');
    return { name, ok: false, seconds, html, error: tail || `nbconvert exited with ${r.status}` };
  }
  return { name, ok: true, seconds, html };
}

export function writeIndex(results: RenderResult[], outDir = htmlDir()): string {
  const rendered = fs.existsSync(outDir)
    ? fs
        .readdirSync(outDir)
        .filter((f) => f.endsWith('.html') && f !== 'index.html')
        .sort()
    : [];
  const items = rendered
    .map((f) => {
      const r = results.find((x) => `${x.name}.html` === f);
      const when = fs.statSync(path.join(outDir, f)).mtime.toISOString().replace('T', ' ').slice(0, 16);
      return `<li><a href="${encodeURI(f)}">${escapeHtml(f.replace(/\.html$/, ''))}</a> <small>(rendered ${when} UTC${r ? `, ${r.seconds.toFixed(0)} s` : ''})</small></li>`;
    })
    .join('\n');
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>density notebooks</title>
<style>body{font-family:system-ui,sans-serif;max-width:760px;margin:2em auto;line-height:1.5}</style></head><body>
<h1>density: notebooks</h1>
<p>Reproducing "The Propensity for Density in Feed-forward Models" (Schoots, Jackson et al., ECAI 2024). Profile: ${escapeHtml(process.env.DENSITY_PROFILE ?? 'cpu')}.</p>
<ol>
${items}
</ol></body></html>
`;
  const file = path.join(outDir, 'index.html');
  fs.writeFileSync(`${file}.tmp`, page);
  fs.renameSync(`${file}.tmp`, file);
  return file;
}

function main(argv: string[]): void {
  const names: string[] = [];
  let profile: string | undefined;
  let timeoutSeconds: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`Usage: npm run render [-- <notebook> ...] [--profile <name>] [--timeout <seconds>]

Executes the notebooks in notebooks/ with the project-local tslab kernel (nbconvert) and writes
outputs/html/<name>.html and outputs/html/index.html. Names may be a prefix: '02' = 02-pruning-trajectories.
  --profile <name>   results profile the notebooks read (env DENSITY_PROFILE; default cpu)
  --timeout <s>      per-cell timeout (default 3600)
Exits non-zero if any cell of any notebook fails.
`);
      return;
    } else if (a === '--profile') profile = argv[++i];
    else if (a === '--timeout') timeoutSeconds = Number(argv[++i]);
    else if (a.startsWith('--')) throw new Error(`render: unknown flag ${a} (see --help)`);
    else names.push(a);
  }
  if (profile !== undefined && !profile) throw new Error('render: --profile needs a value');
  if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) throw new Error(`render: --timeout must be a positive number of seconds`);
  checkOutputsDir('write', HTML_DIR);
  process.stderr.write(`[render] HTML goes to ${htmlDir()}\n`);
  const list = resolveNotebooks(names);
  if (list.length === 0) throw new Error('render: no notebooks found in notebooks/');
  const results: RenderResult[] = [];
  for (const name of list) {
    process.stderr.write(`[render] ${name} ...\n`);
    const r = renderNotebook(name, { profile, timeoutSeconds });
    results.push(r);
    process.stderr.write(
      r.ok
        ? `[render] ${name}: ok (${r.seconds.toFixed(1)} s) -> ${path.relative(process.cwd(), r.html)}\n`
        : `[render] ${name}: FAILED after ${r.seconds.toFixed(1)} s\n${r.error}\n`,
    );
  }
  const index = writeIndex(results);
  const failed = results.filter((r) => !r.ok);
  process.stderr.write(`[render] ${results.length - failed.length}/${results.length} rendered; open ${index}\n`);
  if (failed.length) process.exitCode = 1;
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
  }
}
