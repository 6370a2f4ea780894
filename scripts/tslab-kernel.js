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
broadcastExecuteInput(require(path.join(projectRoot, 'node_modules', 'tslab', 'dist', 'jupyter.js')));
require(path.join(projectRoot, 'node_modules', 'tslab', 'dist', 'main.js')).startKernel({
  configPath: path.resolve(configPath),
  enableFindLocal: false,
});

/**
 * tslab 1.0.22 puts the execution count only in its execute_reply, and never broadcasts `execute_input` on IOPub
 * as the Jupyter messaging protocol asks. nbclient (nbconvert --execute) takes a cell's count from IOPub only, so
 * every rendered cell showed `In [ ]:` although it ran. This publishes execute_input (code + count) as each cell
 * starts. The count is read inside tslab's execution queue, so queued cells get the numbers they will run as.
 */
function broadcastExecuteInput(jupyter) {
  const server = jupyter.ZmqServer && jupyter.ZmqServer.prototype;
  const handler = jupyter.JupyterHandlerImpl && jupyter.JupyterHandlerImpl.prototype;
  if (!server || !handler || typeof server.handleExecute !== 'function' || typeof handler.handleExecuteImpl !== 'function') {
    process.stderr.write('tslab-kernel: tslab internals changed; cells will render without execution counts\n');
    return;
  }
  /** The execute_request's content object -> a function that announces it on IOPub. */
  const announce = new WeakMap();
  const origExecute = server.handleExecute;
  server.handleExecute = function (sock, msg) {
    announce.set(msg.content, (count) => {
      const m = msg.createReply();
      m.header.msg_type = 'execute_input';
      m.content = { code: msg.content.code, execution_count: count };
      m.signAndSend(this.connInfo.key, this.iopub);
    });
    return origExecute.call(this, sock, msg);
  };
  const origImpl = handler.handleExecuteImpl;
  handler.handleExecuteImpl = function (req, ...rest) {
    const send = announce.get(req);
    if (send) send(this.execCount + 1); // handleExecuteImpl numbers this cell ++execCount
    return origImpl.call(this, req, ...rest);
  };
}
