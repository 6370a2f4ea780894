#!/usr/bin/env node
// Starts the tslab kernel with the project root as its working directory. tslab compiles every cell with
// rootDir = its cwd, so a kernel started in notebooks/ could not import ../lib ("not under rootDir").
// Started here, cells import './lib/...' whether the notebook is opened in Jupyter, VS Code or nbconvert.
'use strict';
const path = require('path');

const projectRoot = path.resolve(__dirname, '..');
const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: tslab-kernel.js <connection_file>\n');
  process.exit(2);
}
process.chdir(projectRoot);
// Kernels print the backend choice once; notebooks show it themselves.
process.env.DENSITY_NOTEBOOK = '1';
require(path.join(projectRoot, 'node_modules', 'tslab', 'dist', 'main.js')).startKernel({
  configPath: path.resolve(configPath),
  enableFindLocal: false,
});
