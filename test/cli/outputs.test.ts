// What the commands say when the outputs folder, the data or a flag is wrong: one clear sentence naming the path
// (or value) and the problem, once, and where results go when all is well.
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';
import { spawnCli, tempOutputs, TSX, writeTinyProfile, type Finished } from './helpers';

function renderCli(args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return new Promise((resolve) => {
    const c = spawn(TSX, [path.join('lib', 'cli', 'render.ts'), ...args], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Can this machine mount a read-only tmpfs in a private user+mount namespace (Linux, unshare allowed)? */
function canMountReadOnly(): boolean {
  return spawnSync('unshare', ['-rm', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o ro tmpfs "$d"'], { stdio: 'ignore' }).status === 0;
}

describe('cli: outputs folder problems, said once and clearly', function () {
  this.timeout(300_000);

  it('DENSITY_OUTPUTS pointing at a file: sweep, status and render say so (not "worker exited" or "7 missing")', async () => {
    const work = tempOutputs('outputs-file');
    const profile = writeTinyProfile(work, 2);
    const file = path.join(work, 'not-a-folder');
    fs.writeFileSync(file, 'x');
    const want = new RegExp(`DENSITY_OUTPUTS=${file.replace(/[/.-]/g, '\\$&')} is a file, not a folder`);
    for (const r of [
      await spawnCli('sweep', ['--profile', profile], file).done,
      await spawnCli('status', ['--profile', profile], file).done,
      await renderCli(['probe-none'], { DENSITY_OUTPUTS: file }),
    ]) {
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.match(want)?.length, 1);
      assert.doesNotMatch(r.stdout + r.stderr, /worker process exited|\d+ missing/);
    }
  });

  it('a relative DENSITY_OUTPUTS is refused, naming it, instead of silently meaning a folder under the project', async () => {
    const work = tempOutputs('outputs-rel');
    const profile = writeTinyProfile(work, 1);
    for (const r of [
      await spawnCli('sweep', ['--profile', profile], 'rel-outputs').done,
      await spawnCli('status', ['--profile', profile], 'rel-outputs').done,
    ]) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /DENSITY_OUTPUTS=rel-outputs is a relative path; set an absolute one/);
    }
    assert.equal(fs.existsSync(path.join(projectRoot, 'rel-outputs')), false);
  });

  it('read-only outputs: sweep and render name the folder and say it is read-only', async function () {
    if (!canMountReadOnly()) this.skip(); // needs unshare + mount (Linux); the check itself is plain fs
    const work = tempOutputs('outputs-ro');
    const profile = writeTinyProfile(work, 1);
    const ro = path.join(work, 'ro');
    fs.mkdirSync(ro);
    const inRoFs = (cmd: string) =>
      new Promise<Finished>((resolve) => {
        const c = spawn('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o ro tmpfs '${ro}' && exec ${cmd}`], {
          cwd: projectRoot,
          env: { ...process.env, DENSITY_OUTPUTS: ro, DENSITY_QUIET: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
        c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
        c.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      });
    const sweep = await inRoFs(`'${TSX}' lib/cli/sweep.ts --profile '${profile}'`);
    assert.equal(sweep.code, 1, sweep.stderr);
    assert.match(sweep.stderr, new RegExp(`outputs folder ${ro.replace(/[/.-]/g, '\\$&')} \\(DENSITY_OUTPUTS\\) is not writable: read-only file system`));
    assert.doesNotMatch(sweep.stderr, /worker process exited/);
    const render = await inRoFs(`'${TSX}' lib/cli/render.ts probe-none`);
    assert.notEqual(render.code, 0);
    assert.match(render.stderr, /is not writable: read-only file system/);
    assert.doesNotMatch(render.stderr, /ENOENT/);
  });

  it('sweep and status print where results go', async () => {
    const work = tempOutputs('outputs-where');
    const profile = writeTinyProfile(work, 1);
    const out = path.join(work, 'out');
    const st = await spawnCli('status', ['--profile', profile], out).done;
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stderr, new RegExp(`results in ${out.replace(/[/.-]/g, '\\$&')}/runs`));
    const sw = await spawnCli('sweep', ['--profile', profile], out).done;
    assert.equal(sw.code, 0, sw.stderr);
    assert.match(sw.stderr, new RegExp(`results in ${out.replace(/[/.-]/g, '\\$&')}/runs`));
  });
});

describe('cli: corrupt data fails a sweep once', function () {
  this.timeout(300_000);

  it('corrupt MNIST files: one message for the sweep, not one per run', async () => {
    const work = tempOutputs('mnist-corrupt');
    const profile = writeTinyProfile(work, 3);
    const mnist = path.join(work, 'mnist');
    fs.mkdirSync(mnist);
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
      fs.writeFileSync(path.join(mnist, f), 'not an idx file');
    const r = await spawnCli('sweep', ['--profile', profile, '--jobs', '2'], path.join(work, 'out'), { DENSITY_MNIST_DIR: mnist }).done;
    assert.equal(r.code, 1, r.stderr);
    const mentions = r.stderr.split('\n').filter((l) => l.includes('train-images-idx3-ubyte'));
    assert.equal(mentions.length, 1, r.stderr);
    assert.match(mentions[0], /dataset mnist cannot be loaded/);
    assert.match(r.stderr, /3 not finished/);
  });
});

describe('cli: small flag fixes', function () {
  this.timeout(120_000);

  it('--profile nonexistent exits 2 like every bad flag', async () => {
    const out = tempOutputs('flag-profile');
    for (const cmd of ['sweep', 'status', 'results'] as const) {
      const r = await spawnCli(cmd, ['--profile', 'nonexistent'], out).done;
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /unknown profile 'nonexistent'; expected one of smoke, cpu, paper/);
      assert.match(r.stderr, /--help/);
    }
  });

  it('--widths with no matching width lists the widths the profile has', async () => {
    const out = tempOutputs('flag-widths');
    for (const w of ['-1', '3']) {
      const r = await spawnCli('status', ['--profile', 'cpu', '--widths', w], out).done;
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--widths: profile cpu has no runs at width ${w}; its widths are 0\\.1, 0\\.5, 1, 2, 5`));
    }
  });

  it('the results example writes a clean CSV (npm run -s, no npm banner)', async () => {
    const r = await spawnCli('results', ['--help'], tempOutputs('flag-help')).done;
    assert.match(r.stdout, /npm run -s results -- --profile cpu --format csv > results\.csv/);
    assert.doesNotMatch(r.stdout, /[^-]npm run results -- [^\n]*> results\.csv/);
  });
});
