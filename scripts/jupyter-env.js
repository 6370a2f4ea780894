// Where Jupyter (a Python program) lives and how to call it with the project-local tslab kernel.
// Plain JavaScript with no dependencies: ensure-setup.js runs it before node_modules exists.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const projectRoot = path.resolve(__dirname, '..');
/** JUPYTER_PATH entry holding the project's kernel spec, so the user's global Jupyter is untouched. */
const jupyterDir = path.join(projectRoot, '.jupyter');
const kernelName = 'density-tslab';
const kernelSpecFile = path.join(jupyterDir, 'kernels', kernelName, 'kernel.json');

/** Python interpreters to try, best first: DENSITY_PYTHON, Debian's (apt packages go there), then PATH's. */
function pythonCandidates() {
  const c = [];
  if (process.env.DENSITY_PYTHON) c.push(process.env.DENSITY_PYTHON);
  c.push('/usr/bin/python3', 'python3', 'python');
  return [...new Set(c)];
}

function hasNbconvert(python) {
  const r = spawnSync(python, ['-c', 'import nbconvert, nbclient, jupyter_client'], { stdio: 'ignore' });
  return r.status === 0;
}

/** The first Python that can run nbconvert with nbclient, or null. */
function findJupyterPython() {
  for (const py of pythonCandidates()) if (hasNbconvert(py)) return py;
  return null;
}

/** The kernel spec JSON: starts tslab in the project root, so cells import './lib/...' (tslab's rootDir is its cwd). */
function kernelSpec() {
  return {
    argv: [process.execPath, path.join(projectRoot, 'scripts', 'tslab-kernel.js'), '{connection_file}'],
    display_name: 'TypeScript (density)',
    language: 'typescript',
    metadata: { generatedBy: 'scripts/ensure-setup.js', projectRoot },
  };
}

/** Write the kernel spec if it is missing or points elsewhere (a moved clone, another node). Returns true if written. */
function ensureKernelSpec() {
  const want = JSON.stringify(kernelSpec(), null, 2) + '\n';
  if (fs.existsSync(kernelSpecFile) && fs.readFileSync(kernelSpecFile, 'utf8') === want) return false;
  fs.mkdirSync(path.dirname(kernelSpecFile), { recursive: true });
  const tmp = `${kernelSpecFile}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, want);
  fs.renameSync(tmp, kernelSpecFile);
  return true;
}

/** Environment for a Jupyter child process: the project-local kernel spec first on JUPYTER_PATH. */
function jupyterEnv(base = process.env) {
  const parts = [jupyterDir];
  if (base.JUPYTER_PATH) parts.push(base.JUPYTER_PATH);
  return { ...base, JUPYTER_PATH: parts.join(path.delimiter) };
}

module.exports = { projectRoot, jupyterDir, kernelName, kernelSpecFile, findJupyterPython, ensureKernelSpec, jupyterEnv, kernelSpec };
