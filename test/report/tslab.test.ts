// lib/report as a notebook cell sees it: compiled by tslab's own converter (its TypeScript and fixed options,
// no strictNullChecks, no tsconfig) and then loaded the way tslab's executor loads local files. A quick guard
// for what test/notebooks/notebooks.test.ts finds only after minutes of rendering.
import { strict as assert } from 'assert';
import * as path from 'path';
import { createConverter, type ConvertResult } from 'tslab/dist/converter';
import { projectRoot } from '../../lib/paths';

/** Compile one cell with tslab's converter, run from the project root as the kernel is. */
function convertCell(src: string): ConvertResult {
  const cwd = process.cwd();
  process.chdir(projectRoot); // the converter takes its root from the working directory
  const conv = createConverter();
  try {
    return conv.convert('', src);
  } finally {
    conv.close();
    process.chdir(cwd);
  }
}

function diagnosticLines(r: ConvertResult): string[] {
  return r.diagnostics.map((d) => `${d.fileName ? path.relative(projectRoot, d.fileName) : '(cell)'}:${d.start.line + 1}: ${d.messageText}`);
}

/**
 * Relative requires, reachable at run time from the cell, that tslab's executor cannot load: it serves a local
 * file only from the JavaScript it compiled, at exactly `<specifier>.js`, so a directory import ('../backend')
 * falls through to Node, which finds no .js there.
 */
function unloadableRequires(r: ConvertResult): string[] {
  const outputs = new Map((r.sideOutputs ?? []).map((o) => [o.path, o.data]));
  const bad: string[] = [];
  const seen = new Set<string>();
  const visit = (dir: string, js: string, from: string): void => {
    for (const m of js.matchAll(/\brequire\("(\.{1,2}\/[^"]*)"\)/g)) {
      let file = path.join(dir, m[1]);
      if (path.extname(file) === '') file += '.js';
      const data = outputs.get(file);
      if (data === undefined) {
        bad.push(`${from}: require("${m[1]}")`);
      } else if (!seen.has(file)) {
        seen.add(file);
        visit(path.dirname(file), data, path.relative(projectRoot, file));
      }
    }
  };
  visit(projectRoot, r.output ?? '', '(cell)');
  return bad;
}

describe('report under tslab', function () {
  this.timeout(120000);

  it("a cell importing './lib/report/index' compiles under tslab's options and loads without directory requires", () => {
    const r = convertCell("import * as report from './lib/report/index';\nconsole.log(Object.keys(report).length);\n");
    assert.deepEqual(diagnosticLines(r), []);
    assert.ok(
      (r.sideOutputs ?? []).some((o) => o.path.endsWith(path.join('lib', 'experiments', 'results.js'))),
      'results.ts is compiled into the cell',
    );
    assert.deepEqual(unloadableRequires(r), []);
  });

  it('the checks fail where they should: a !x.ok narrowing, and the training stack reached by value', () => {
    const narrowing = convertCell("import { readJson } from './lib/store/atomic';\nconst j = readJson('/nonexistent');\nif (!j.ok) console.log(j.reason);\n");
    assert.match(diagnosticLines(narrowing).join('\n'), /Property 'reason' does not exist/);
    const sweep = convertCell("import { runSweep } from './lib/experiments/sweep';\nconsole.log(typeof runSweep);\n");
    assert.deepEqual(diagnosticLines(sweep), []);
    assert.ok(
      unloadableRequires(sweep).some((l) => l.includes('require("../backend")')),
      unloadableRequires(sweep).join('\n'),
    );
  });
});
