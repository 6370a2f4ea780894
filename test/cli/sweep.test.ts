// The sweep CLI as a user runs it: child processes, killed, resumed and run twice at once.
import { strict as assert } from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { expandProfileRuns, loadProfile, PROFILES } from '../../lib/experiments/profiles';
import { dirtyTreeRefusal } from '../../lib/experiments/sweep';
import { projectRoot } from '../../lib/paths';
import { readEvents, type RunRecord } from '../../lib/store/runRecord';
import { listFiles, sleep, spawnCli, tempOutputs, writeTinyProfile } from './helpers';

function runsOf(profileFile: string): string[] {
  return expandProfileRuns(loadProfile(profileFile)).map((r) => r.hash);
}
function trainStarts(outputs: string, hash: string): number {
  return readEvents(path.join(outputs, 'runs', hash)).filter((e) => e.event === 'stage-start' && e.stage === 'train').length;
}
function record(outputs: string, hash: string): RunRecord {
  return JSON.parse(fs.readFileSync(path.join(outputs, 'runs', hash, 'run.json'), 'utf8')) as RunRecord;
}
/** Every JSON file parses and no temp file or lock is left behind. */
function assertSound(outputs: string): void {
  for (const f of listFiles(path.join(outputs, 'runs'))) {
    assert.doesNotMatch(f, /\.(tmp|old)-\d+-/, `left-over temp file ${f}`);
    assert.doesNotMatch(f, /\.lock$/, `left-over lock ${f}`);
    if (f.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(fs.readFileSync(path.join(outputs, 'runs', f), 'utf8')), `${f} does not parse`);
  }
}

describe('cli/sweep', function () {
  this.timeout(300_000);

  it('explains its flags with --help and rejects bad flags clearly', async () => {
    const out = tempOutputs('cli-help');
    const help = await spawnCli('sweep', ['--help'], out).done;
    assert.equal(help.code, 0);
    for (const flag of ['--profile', '--arch', '--widths', '--jobs', 'Ctrl-C']) assert.ok(help.stdout.includes(flag), `help mentions ${flag}`);
    assert.ok(!help.stdout.includes('--worker'), 'internal flags are not advertised');
    const typo = await spawnCli('sweep', ['--profile', 'smoke', '--widht', '1'], out).done;
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown flag --widht \(did you mean --widths\?\)/);
    const badProfile = await spawnCli('sweep', ['--profile', 'smok'], out).done;
    assert.equal(badProfile.code, 2);
    assert.match(badProfile.stderr, /unknown profile 'smok'; expected one of smoke, cpu, paper/);
    const badWidth = await spawnCli('sweep', ['--profile', 'smoke', '--widths', '0.1,x'], out).done;
    assert.equal(badWidth.code, 2);
    assert.match(badWidth.stderr, /--widths: 'x' is not a number/);
  });

  it('resumes after SIGKILL mid-training and ends with the same results as an uninterrupted sweep', async () => {
    const work = tempOutputs('cli-kill');
    // Run 2 trains ~3 epochs of 3,000 images: long enough (>1 s) to be caught inside its train stage.
    const profile = writeTinyProfile(work, 2, { width: 1, trainSubset: 3000, maxEpochs: 3 });
    const [h1, h2] = runsOf(profile);
    const killed = path.join(work, 'killed');
    const clean = path.join(work, 'clean');

    const a = spawnCli('sweep', ['--profile', profile], killed);
    let caught = false;
    for (let i = 0; i < 2400 && !caught; i++) {
      await sleep(50);
      caught = trainStarts(killed, h2) > 0;
    }
    assert.ok(caught, 'the second run started training');
    a.killGroup();
    const res = await a.done;
    assert.equal(res.signal, 'SIGKILL');
    assert.ok(fs.existsSync(path.join(killed, 'runs', h1, 'run.json')), 'the first run had finished');
    assert.equal(fs.existsSync(path.join(killed, 'runs', h2, 'train.json')), false, 'killed inside the train stage');
    assert.ok(fs.existsSync(path.join(killed, 'runs', h2, '.lock')), 'the killed sweep left its (now stale) lock');

    const resumed = await spawnCli('sweep', ['--profile', profile], killed).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /1 done, 1 skipped/);
    assert.equal(trainStarts(killed, h1), 1, 'the finished run was not trained again');
    assert.equal(trainStarts(killed, h2), 2, 'the killed run was trained again');

    const b = await spawnCli('sweep', ['--profile', profile], clean).done;
    assert.equal(b.code, 0, b.stderr);
    for (const h of [h1, h2]) {
      const x = record(killed, h);
      const y = record(clean, h);
      assert.equal(x.status, 'complete');
      assert.deepEqual(x.trajectory, y.trajectory);
      assert.equal(x.effectiveDensity, y.effectiveDensity);
      assert.deepEqual(x.correctness, y.correctness);
      assert.deepEqual(x.training.curve, y.training.curve);
    }
    assertSound(killed);
  });

  it('two concurrent sweeps on one outputs/ never train a run twice', async () => {
    const work = tempOutputs('cli-concurrent');
    const profile = writeTinyProfile(work, 6, { width: 0.5, trainSubset: 2000, maxEpochs: 1 });
    const outputs = path.join(work, 'out');
    const [x, y] = [spawnCli('sweep', ['--profile', profile], outputs), spawnCli('sweep', ['--profile', profile], outputs)];
    const results = await Promise.all([x.done, y.done]);
    let doneTotal = 0;
    for (const r of results) {
      // 1 = a run was still held by the other sweep when this one ended (reported as running elsewhere).
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      assert.doesNotMatch(r.stderr, /FAILED/);
      const m = /(\d+) done, (\d+) skipped/.exec(r.stderr);
      assert.ok(m, r.stderr);
      doneTotal += Number(m[1]);
    }
    const hashes = runsOf(profile);
    assert.equal(doneTotal, hashes.length, 'between them the sweeps computed each run once');
    for (const h of hashes) {
      assert.equal(trainStarts(outputs, h), 1, `run ${h} trained once`);
      assert.equal(record(outputs, h).status, 'complete');
    }
    assertSound(outputs);
  });

  it('--jobs 2 shares the runs between two worker processes, each run trained once', async () => {
    const work = tempOutputs('cli-jobs');
    const profile = writeTinyProfile(work, 4, { width: 0.5, trainSubset: 2000, maxEpochs: 1 });
    const outputs = path.join(work, 'out');
    const r = await spawnCli('sweep', ['--profile', profile, '--jobs', '2'], outputs).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /4 to compute with 2 jobs/);
    assert.match(r.stderr, /4 runs: 4 done, 0 skipped/);
    const pids = new Set<number>();
    for (const h of runsOf(profile)) {
      const starts = readEvents(path.join(outputs, 'runs', h)).filter((e) => e.event === 'stage-start' && e.stage === 'train');
      assert.equal(starts.length, 1);
      pids.add(starts[0].pid);
    }
    assert.equal(pids.size, 2, 'both workers trained');
    assertSound(outputs);
  });

  it('stops after the current stage on SIGINT (exit 130) and resumes from there', async () => {
    const work = tempOutputs('cli-sigint');
    const profile = writeTinyProfile(work, 1, { width: 1, trainSubset: 3000, maxEpochs: 3 });
    const [h] = runsOf(profile);
    const outputs = path.join(work, 'out');
    const a = spawnCli('sweep', ['--profile', profile], outputs);
    for (let i = 0; i < 2400 && trainStarts(outputs, h) === 0; i++) await sleep(50);
    process.kill(-(a.child.pid as number), 'SIGINT'); // the terminal sends Ctrl-C to the whole group
    const r = await a.done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /stopping after the current stage/);
    const dir = path.join(outputs, 'runs', h);
    // Under load the tsx wrapper may SIGKILL the supervisor when it acknowledges the signal late; the worker
    // then finishes its stage on its own. Either way the lock goes once the stage is written.
    for (let i = 0; i < 1200 && fs.existsSync(path.join(dir, '.lock')); i++) await sleep(50);
    assert.ok(fs.existsSync(path.join(dir, 'train.json')), 'the stage in progress was finished and written');
    assert.equal(fs.existsSync(path.join(dir, 'run.json')), false, 'no further stage was started');
    assert.equal(fs.existsSync(path.join(dir, '.lock')), false, 'the lock was released');
    const resumed = await spawnCli('sweep', ['--profile', profile], outputs).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(trainStarts(outputs, h), 1);
    assert.ok(fs.existsSync(path.join(dir, 'run.json')));
  });
});

describe('cli/sweep: signals to `npm run sweep`', function () {
  this.timeout(300_000);

  /** Is any process of process group `pgid` still alive (zombies excluded)? */
  function groupAlive(pgid: number): string[] {
    const r = spawnSync('ps', ['-o', 'pid=,stat=,args=', '-g', String(pgid)], { encoding: 'utf8' });
    return r.stdout.split('\n').filter((l) => l.trim() && !/^\s*\d+\s+Z/.test(l));
  }

  it('SIGTERM to the npm process alone stops the sweep after the current stage (exit 130), workers included', async () => {
    const work = tempOutputs('cli-sigterm');
    const profile = writeTinyProfile(work, 3, { width: 1, trainSubset: 3000, maxEpochs: 4 });
    const [h] = runsOf(profile);
    const outputs = path.join(work, 'out');
    const npm = spawn('npm', ['run', 'sweep', '--', '--profile', profile, '--jobs', '2'], {
      cwd: projectRoot,
      env: { ...process.env, DENSITY_OUTPUTS: outputs, DENSITY_QUIET: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    npm.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    npm.stdout.resume();
    const done = new Promise<number | null>((resolve) => npm.on('close', (code) => resolve(code)));
    const pgid = npm.pid as number;
    try {
      for (let i = 0; i < 2400 && trainStarts(outputs, h) === 0; i++) await sleep(50);
      assert.ok(trainStarts(outputs, h) > 0, 'the first run started training');
      process.kill(pgid, 'SIGTERM'); // `kill -TERM <npm pid>`: the npm process only, not its group
      const code = await done;
      assert.equal(code, 130, stderr);
      assert.match(stderr, /SIGTERM: stopping after the current stage/);
      // npm returned only once everything below it had finished: nothing runs on in the background.
      assert.deepEqual(groupAlive(pgid), []);
      const dir = path.join(outputs, 'runs', h);
      assert.ok(fs.existsSync(path.join(dir, 'train.json')), 'the stage in progress was finished and written');
      assert.equal(fs.existsSync(path.join(dir, 'run.json')), false, 'no further stage was started');
      assert.equal(fs.existsSync(path.join(dir, '.lock')), false, 'the lock was released');
      assertSound(outputs);
    } finally {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});

describe('cli/sweep: a dirty git tree', function () {
  this.timeout(300_000);

  /** A scratch git repository with one committed file, then changed: what `git status` calls dirty. */
  function dirtyRepo(): NodeJS.ProcessEnv {
    const repo = tempOutputs('dirty-repo');
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    git('init', '-q');
    fs.writeFileSync(path.join(repo, 'code.ts'), 'v1\n');
    git('add', 'code.ts');
    git('commit', '-q', '-m', 'v1');
    fs.writeFileSync(path.join(repo, 'code.ts'), 'v2, uncommitted\n');
    // git run by the sweep (provenance) reads this repository instead of the project's.
    return { GIT_DIR: path.join(repo, '.git'), GIT_WORK_TREE: repo };
  }

  it('refuses to sweep a built-in profile, saying why and what to do, and trains nothing', async () => {
    const outputs = tempOutputs('dirty-cpu');
    const r = await spawnCli('sweep', ['--profile', 'cpu', '--arch', 'mlp', '--widths', '0.1'], outputs, dirtyRepo()).done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /uncommitted changes to tracked files.*built-in profile 'cpu'/);
    assert.match(r.stderr, /clean git worktree/);
    assert.match(r.stderr, /--allow-dirty/);
    assert.equal(fs.existsSync(path.join(outputs, 'runs')), false, 'nothing was started');
  });

  it('--allow-dirty sweeps and every record says so in its provenance', async () => {
    const work = tempOutputs('dirty-allow');
    const profile = writeTinyProfile(work, 1);
    const [h] = runsOf(profile);
    const outputs = path.join(work, 'out');
    const r = await spawnCli('sweep', ['--profile', profile, '--allow-dirty'], outputs, dirtyRepo()).done;
    assert.equal(r.code, 0, r.stderr);
    const rec = record(outputs, h);
    assert.equal(rec.provenance.dirty, true);
    assert.equal(rec.provenance.allowDirty, true);
  });

  it('applies to built-in profiles other than smoke, on dirty trees only, unless allowed', () => {
    const dirty = { commit: 'abc1234', dirty: true };
    assert.match(dirtyTreeRefusal(PROFILES.cpu, dirty, false) ?? '', /built-in profile 'cpu'/);
    assert.match(dirtyTreeRefusal(PROFILES.paper, dirty, false) ?? '', /built-in profile 'paper'/);
    assert.equal(dirtyTreeRefusal(PROFILES.cpu, dirty, true), null);
    assert.equal(dirtyTreeRefusal(PROFILES.cpu, { commit: 'abc1234', dirty: false }, false), null);
    assert.equal(dirtyTreeRefusal(PROFILES.cpu, { commit: null, dirty: null }, false), null, 'outside git nothing can be told');
    assert.equal(dirtyTreeRefusal(PROFILES.smoke, dirty, false), null, 'smoke runs are never committed');
    assert.equal(dirtyTreeRefusal({ ...PROFILES.cpu }, dirty, false), null, 'a profile file is an experiment');
  });
});
