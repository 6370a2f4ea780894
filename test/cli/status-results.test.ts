// status and results as a user runs them, and `npm run sweep -- --profile smoke` end to end.
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';
import { spawnCli, tempOutputs, writeTinyProfile } from './helpers';

function npm(args: string[], outputs: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn('npm', ['run', '--silent', ...args], {
      cwd: projectRoot,
      env: { ...process.env, DENSITY_OUTPUTS: outputs, DENSITY_QUIET: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cli/status and cli/results', function () {
  this.timeout(600_000);

  it('status counts missing and complete runs; results prints one tidy row per finished run', async () => {
    const work = tempOutputs('cli-status');
    const profile = writeTinyProfile(work, 2);
    const out = path.join(work, 'out');
    let s = await spawnCli('status', ['--profile', profile, '--json'], out).done;
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(JSON.parse(s.stdout), {
      profile: 'tiny',
      total: 2,
      complete: 0,
      diverged: 0,
      running: 0,
      partial: 0,
      missing: 2,
      stale: 0,
      perGroup: [{ group: 'mlp', width: 0.1, total: 2, complete: 0, diverged: 0, running: 0, partial: 0, missing: 2 }],
    });
    assert.equal((await spawnCli('sweep', ['--profile', profile], out).done).code, 0);
    s = await spawnCli('status', ['--profile', profile], out).done;
    assert.match(s.stdout, /2 runs: 2 complete, 0 diverged, 0 running, 0 partial, 0 missing/);
    assert.match(s.stdout, /mlp\s+0\.1x\s+2\s+2\s+0\s+0\s+0\s+0/);
    // The same runs under a profile with another threshold: analysed only at the default settings, so stale there.
    const other = path.join(work, 'tiny-threshold10.json');
    fs.writeFileSync(other, JSON.stringify({ ...JSON.parse(fs.readFileSync(profile, 'utf8')), name: 'tiny10', analysis: { threshold: 10 } }));
    const st = await spawnCli('status', ['--profile', other, '--json'], out).done;
    assert.equal(st.code, 0, st.stderr);
    const sj = JSON.parse(st.stdout) as { complete: number; partial: number; stale: number };
    assert.deepEqual([sj.complete, sj.partial, sj.stale], [0, 2, 2], 'complete only at the settings they were analysed with');
    assert.match((await spawnCli('status', ['--profile', other], out).done).stdout, /2 runs are analysed only at other analysis settings/);
    assert.equal((JSON.parse((await spawnCli('status', ['--profile', profile, '--json'], out).done).stdout) as { stale: number }).stale, 0);

    const csv = await spawnCli('results', ['--profile', profile, '--format', 'csv'], out).done;
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    const header = lines[0].split(',');
    for (const col of [
      'hash',
      'arch',
      'dataset',
      'width',
      'init',
      'optimizer',
      'initSeed',
      'dataSeed',
      'trainSubset',
      'totalWeights',
      'trainSteps',
      'epochs',
      'stopReason',
      'status',
      'validationAccuracy',
      'effectiveDensity',
      'coreSize',
      'backend',
      'commit',
    ]) {
      assert.ok(header.includes(col), col);
    }
    const json = await spawnCli('results', ['--profile', profile, '--format', 'json'], out).done;
    const rows = JSON.parse(json.stdout) as { width: number; status: string }[];
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.width === 0.1 && r.status === 'complete'));

    const bad = await spawnCli('results', ['--profile', profile, '--threshold', '150'], out).done;
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /analysis\.threshold: got 150; expected a number in \(0, 100\]/);
    const badFormat = await spawnCli('results', ['--profile', profile, '--format', 'xlsx'], out).done;
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /--format: 'xlsx' is not one of csv, json/);

    // The claims table on the same runs: MLP 0.1x only, so the claims across widths wait (no 1x, no He twin).
    const claims = await spawnCli('claims', ['--profile', profile], out).done;
    assert.equal(claims.code, 0, claims.stderr);
    assert.match(claims.stdout, /^\| Sec \| Claim \| Regime \| Paper \| Ours \| Verdict \| Why \|\n/);
    assert.match(
      claims.stdout,
      /\| 4\.2 \(Table 2\) \| The observed effective density .* \| not testable at this scale \| the profile has no 1x MLP \(SGD, MNIST\) runs/,
    );
    assert.match(claims.stderr, /^profile tiny: \d+ supported, \d+ not supported, \d+ not testable at this scale\n$/);
    const claimsJson = JSON.parse((await spawnCli('claims', ['--profile', profile, '--format', 'json'], out).done).stdout) as { id: string; verdict: string }[];
    assert.ok(claimsJson.length > 5);
    for (const id of ['null-hypothesis-t-tests', 'core-size-anova', 'he-denser', 'functions-by-width'])
      assert.equal(claimsJson.find((c) => c.id === id)?.verdict, 'not testable at this scale', id);
    const badAlpha = await spawnCli('claims', ['--profile', profile, '--alpha', '2'], out).done;
    assert.equal(badAlpha.code, 2);
    assert.match(badAlpha.stderr, /--alpha 2: expected a level between 0 and 1/);
    // README's blocks are rendered from the cpu profile's results: against this scratch outputs folder (no cpu runs)
    // every block is stale, and --check says so without writing README.
    const readmeBefore = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const check = await spawnCli('readme', ['--check'], out).done;
    assert.equal(check.code, 1, check.stderr);
    assert.match(check.stdout, /^stale: cifar-runs: cpu, cifar-table2: cpu, table4: cpu, claims: cpu \(npm run readme rewrites them\)\n$/);
    assert.equal(fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8'), readmeBefore);
    // --committed ignores that folder and reads the records git tracks: README was rendered from those.
    const committed = await spawnCli('readme', ['--committed', '--check'], out).done;
    assert.equal(committed.code, 0, committed.stdout + committed.stderr);
    assert.equal(committed.stdout, 'README blocks are current\n');
  });

  it('npm run sweep -- --profile smoke works end to end (every regime), then status and results see it', async () => {
    const out = tempOutputs('cli-smoke');
    const sweep = await npm(['sweep', '--', '--profile', 'smoke'], out);
    assert.equal(sweep.code, 0, sweep.stderr);
    assert.match(sweep.stderr, /7 runs: 7 done, 0 skipped/);
    const status = JSON.parse((await npm(['status', '--', '--profile', 'smoke', '--json'], out)).stdout) as { complete: number; total: number };
    assert.equal(status.complete, status.total);
    const again = await npm(['sweep', '--', '--profile', 'smoke'], out);
    assert.match(again.stderr, /0 done, 7 skipped/, 'a second sweep trains nothing');
    const csv = (await npm(['results', '--', '--profile', 'smoke'], out)).stdout.trim().split('\n');
    assert.equal(csv.length, 8);
  });
});
