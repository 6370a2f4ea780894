// The bench CLI as a child process: the JSON line shape, case filtering and flag errors (never the speed:
// figures belong to `npm run bench`, not to tests on a shared machine).
import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';
import { CASES, selectCases } from '../../bench/cases';

const TSX = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [path.join('bench', 'run.ts'), ...args], { cwd: projectRoot, env: { ...process.env, DENSITY_QUIET: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bench/run', function () {
  it('--json --case train/mlp/0.1 --repeats 1: a header line, then exactly one case line of the documented shape', async () => {
    const r = await bench(['--case', 'train/mlp/0.1', '--repeats', '1', '--json', '--seconds', '0.2']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2, r.stdout);
    const header = lines[0].header as Record<string, unknown>;
    assert.ok(header, 'first line is the header');
    for (const k of ['backend', 'cpu', 'cores', 'node', 'tfjs']) assert.ok(header[k] !== undefined && header[k] !== '', `header.${k}`);
    assert.equal(header.node, process.version);
    const line = lines[1];
    assert.equal(line.case, 'train/mlp/0.1');
    assert.equal(line.unit, 'samples/s');
    assert.equal(line.backend, header.backend);
    assert.equal(line.repeats, 1);
    assert.ok(typeof line.value === 'number' && Number.isFinite(line.value) && line.value > 0, `value ${String(line.value)}`);
    assert.equal(line.spread, 0, 'a single repeat has no spread');
    assert.deepEqual(line.values, [line.value]);
  });

  it('--case filters by prefix; an unknown prefix and a bad flag are usage errors (exit 2)', async () => {
    assert.deepEqual(selectCases(['train/mlp']).map((c) => c.name), ['train/mlp/0.1', 'train/mlp/1', 'train/mlp/5']);
    assert.deepEqual(selectCases(['trajectory-generic']).map((c) => c.name), ['trajectory-generic/mlp/1']);
    assert.equal(selectCases(undefined).length, CASES.length);
    const unknown = await bench(['--case', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no case starts with nope/);
    const bad = await bench(['--repeat', '3']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /did you mean --repeats/);
  });

  it('--help lists the flags and --list every case', async () => {
    const help = await bench(['--help']);
    assert.equal(help.code, 0);
    for (const f of ['--json', '--case', '--repeats']) assert.ok(help.stdout.includes(f), f);
    const list = await bench(['--list']);
    assert.equal(list.code, 0);
    for (const c of CASES) assert.ok(list.stdout.includes(c.name), c.name);
  });
});
