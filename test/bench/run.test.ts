// The bench CLI as a child process: the JSON line shape, case filtering and flag errors (never the speed:
// figures belong to `npm run bench`, not to tests on a shared machine).
import { strict as assert } from 'assert';
import { execFile, execFileSync } from 'child_process';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';
import { CASES, selectCases } from '../../bench/cases';
import { hasPeer, PEER_PYTHON, runPeer, speedRatio } from '../../bench/peer';

function torchAvailable(): boolean {
  try {
    execFileSync(PEER_PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const TSX = path.join(projectRoot, 'node_modules', '.bin', 'tsx');

function bench(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [path.join('bench', 'run.ts'), ...args], { cwd: projectRoot, env: { ...process.env, DENSITY_QUIET: '1', ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bench/run', function () {
  it('--json --case train/mlp/0.1 --repeats 1: a header line, then exactly one case line of the documented shape', async () => {
    const r = await bench(['--case', 'train/mlp/0.1', '--repeats', '1', '--json', '--seconds', '0.2']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
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
    assert.deepEqual(
      selectCases(['train/mlp']).map((c) => c.name),
      ['train/mlp/0.1', 'train/mlp/1', 'train/mlp/5'],
    );
    assert.deepEqual(
      selectCases(['trajectory-generic']).map((c) => c.name),
      ['trajectory-generic/mlp/1'],
    );
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

  it('the conv cases the CIFAR sweep is sized by exist, each with a PyTorch peer', () => {
    const names = CASES.map((c) => c.name);
    for (const n of [
      'train/conv2/0.1',
      'train/conv2/0.5',
      'train/conv2/1',
      'train/resnet/0.5',
      'train/resnet/1',
      'trajectory/conv2/0.5',
      'trajectory/conv2/1',
      'trajectory/resnet/1',
    ]) {
      assert.ok(names.includes(n), n);
      assert.ok(hasPeer(n), `${n} has a peer`);
    }
    assert.equal(hasPeer('trajectory-generic/mlp/1'), false);
    assert.equal(hasPeer('memory/peak-rss'), false);
  });

  it("the follow-ups' cases (an edge-popup search step, an SGLD step) run and report images per second", async () => {
    const r = await bench(['--case', 'edge-popup/mlp/1,sgld/mlp/1', '--repeats', '1', '--seconds', '0.2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^edge-popup\/mlp\/1 +\d+ samples\/s/m);
    assert.match(r.stdout, /^sgld\/mlp\/1 +\d+ samples\/s/m);
    assert.match(r.stdout, /SGLD steps of 128, 266610 parameters/);
  });

  it('speedRatio is above 1 when density is faster, for rates and for seconds', () => {
    assert.equal(speedRatio(200, 100, 'samples/s'), 2);
    assert.equal(speedRatio(1, 2, 's'), 2);
    assert.equal(speedRatio(4, 2, 's'), 0.5);
  });

  it('--peer without PyTorch says how to get it and still prints our figures', async () => {
    const r = await bench(['--peer', '--case', 'train/mlp/0.1', '--repeats', '1', '--seconds', '0.2'], { DENSITY_PEER_PYTHON: '/nonexistent/python3' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /apt-get install python3-torch/);
    assert.match(r.stdout, /^train\/mlp\/0\.1 +\d+ samples\/s/m);
    assert.match(r.stdout, /# PyTorch peer: .*not found/);
  });

  it('bench/peer.py runs a case and reports it in the shape the bench reads (where PyTorch is installed)', async function () {
    if (!torchAvailable()) this.skip();
    this.timeout(60_000);
    const p = await runPeer('train/mlp/0.1', 1, 0.1);
    assert.ok(!('unavailable' in p), JSON.stringify(p));
    if ('unavailable' in p) return;
    assert.equal(p.case, 'train/mlp/0.1');
    assert.equal(p.unit, 'samples/s');
    assert.equal(p.threads, 1);
    assert.ok(p.value > 0 && p.values.length === 1);
    const bad = await runPeer('train/vgg/1', 1, 0.1);
    assert.ok('unavailable' in bad && /no PyTorch peer for architecture 'vgg'/.test(bad.unavailable));
  });

  it("bench/peer_curve.py initialises PyTorch's layers by our rule, and names a run it cannot find (where PyTorch is installed)", function () {
    if (!torchAvailable()) this.skip();
    this.timeout(60_000);
    const bench = path.join(projectRoot, 'bench');
    // The largest |w| of each layer over its bound, per rule: just under 1 when the layer is uniform in [-b, b).
    const ratios = (rule: string): number[] =>
      JSON.parse(
        execFileSync(
          PEER_PYTHON,
          [
            '-c',
            [
              'import json, math, peer, peer_curve',
              'm = peer.ResNet(1)',
              `peer_curve.init_like_density(m, "${rule}")`,
              'out = []',
              'for l in m.modules():',
              '    if isinstance(l, (peer.nn.Conv2d, peer.nn.Linear)):',
              '        w = l.weight; r = w[0, 0].numel() if w.dim() == 4 else 1',
              '        fi, fo = w.shape[1] * r, w.shape[0] * r',
              `        b = math.sqrt(6 / fi) if "${rule}" == "he" else math.sqrt(6 / (fi + fo))`,
              '        out.append(w.abs().max().item() / b)',
              '        assert l.bias is None or l.bias.abs().max().item() == 0',
              'print(json.dumps(out))',
            ].join('\n'),
          ],
          { cwd: bench, encoding: 'utf8' },
        ),
      ) as number[];
    for (const rule of ['he', 'glorot']) {
      const r = ratios(rule);
      assert.equal(r.length, 8, `${rule}: conv0, six block convs, proj`);
      for (const x of r) assert.ok(x > 0.9 && x <= 1, `${rule}: max |w| / bound = ${x}`);
    }
    let err = '';
    try {
      execFileSync(PEER_PYTHON, [path.join(bench, 'peer_curve.py'), '--run', 'ffffffffffffffff'], {
        encoding: 'utf8',
        stdio: 'pipe',
        env: { ...process.env, DENSITY_OUTPUTS: path.join(projectRoot, 'test', 'no-such-outputs') },
      });
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    assert.match(err, /--run ffffffffffffffff: expected one finished run under .*no-such-outputs\/runs, found 0/);
  });
});
