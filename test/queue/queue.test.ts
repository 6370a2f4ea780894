// Sweeps through a BullMQ queue on a real Redis (started here on a free loopback port): the smoke profile with
// two workers gives the records a local sweep gives; a worker SIGKILLed mid-run, a Redis restarted mid-sweep,
// a profile queued twice with a local sweep alongside: every run ends done, computed once into outputs/.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { expandProfileRuns, loadProfile, PROFILES } from '../../lib/experiments/profiles';
import { inspectRun, readEvents, type RunRecord } from '../../lib/store/runRecord';
import { listFiles, writeTinyProfile } from '../cli/helpers';
import { freePort, REDIS_MISSING, redisServerBinary, sleep, spawnQueueCli, TestRedis, waitFor } from './helpers';

function tmp(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `density-queue-${tag}-`));
}
function events(root: string, hash: string) {
  return readEvents(path.join(root, 'runs', hash));
}
/** Trainings started in a run directory: by the process that owns the folder (not lines a collector copied in). */
function trainStarts(root: string, hash: string, opts: { viaQueue?: boolean } = {}): number {
  return events(root, hash).filter((e) => e.event === 'stage-start' && e.stage === 'train' && (opts.viaQueue === undefined || 'via' in e === opts.viaQueue))
    .length;
}
function runJson(root: string, hash: string): RunRecord {
  return JSON.parse(fs.readFileSync(path.join(root, 'runs', hash, 'run.json'), 'utf8')) as RunRecord;
}
/** What a run computed: run.json without when/where it ran. */
function content(r: RunRecord): unknown {
  const { provenance: _p, stages, training, ...rest } = r;
  const { wallSeconds: _w, ...train } = training;
  return { ...rest, training: train, ids: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, v.id])) };
}
/** Every run done and sound; no temp file or lock left in outputs. */
function assertSound(outputs: string, hashes: string[]): void {
  for (const h of hashes) assert.equal(inspectRun(path.join(outputs, 'runs', h), h).run.state, 'done', `run ${h} is done and sound`);
  for (const f of listFiles(path.join(outputs, 'runs'))) {
    assert.doesNotMatch(f, /\.(tmp|old)-\d+-/, `left-over temp file ${f}`);
    assert.doesNotMatch(f, /\.lock$/, `left-over lock ${f}`);
  }
}
function collectedCount(outputs: string, hash: string): number {
  return events(outputs, hash).filter((e) => e.event === 'queue-collected').length;
}

describe('queue (BullMQ on a real Redis)', function () {
  this.timeout(300_000);
  let redis: TestRedis | null = null;
  const dirs: string[] = [];
  const procs: { killGroup(): void }[] = [];

  before(async function () {
    const bin = redisServerBinary();
    if (!bin) {
      console.log(`      ${REDIS_MISSING}`);
      this.skip();
    }
    redis = new TestRedis(bin as string, await freePort());
    await redis.start();
  });
  after(() => {
    for (const p of procs) p.killGroup();
    redis?.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const spawnTracked = (...args: Parameters<typeof spawnQueueCli>) => {
    const s = spawnQueueCli(...args);
    procs.push(s);
    return s;
  };
  const worker = (queue: string, scratch: string, outputs: string, extra: string[] = []) =>
    spawnTracked(
      'worker',
      ['--redis', (redis as TestRedis).url, '--queue', queue, '--scratch', scratch, '--stalled-seconds', '2', '--until-empty', ...extra],
      outputs,
    );

  it('explains its flags and rejects bad ones (exit 2)', async () => {
    const out = tmp('flags');
    dirs.push(out);
    for (const c of ['queue', 'worker', 'collect'] as const) {
      const help = await spawnQueueCli(c, ['--help'], out).done;
      assert.equal(help.code, 0);
      assert.match(help.stdout, /--redis/);
    }
    const noRedis = await spawnQueueCli('worker', [], out, { DENSITY_REDIS: '' }).done;
    assert.equal(noRedis.code, 2);
    assert.match(noRedis.stderr, /--redis <redis:\/\/host:port> is required/);
    const badUrl = await spawnQueueCli('queue', ['--profile', 'smoke', '--redis', 'http://x'], out).done;
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /not a redis:\/\/ or rediss:\/\/ URL/);
    const typo = await spawnQueueCli('worker', ['--redis', (redis as TestRedis).url, '--concurency', '2'], out).done;
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean --concurrency/);
    const unreachable = await spawnQueueCli('status', ['--profile', 'smoke', '--redis', `redis://127.0.0.1:${await freePort()}`], out).done;
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0/);
  });

  it("smoke profile with 2 workers: every run done exactly once, records equal to a local sweep's", async () => {
    const local = tmp('local');
    const outputs = tmp('out');
    const w1 = tmp('w1');
    const w2 = tmp('w2');
    dirs.push(local, outputs, w1, w2);
    const hashes = expandProfileRuns(PROFILES.smoke).map((r) => r.hash);
    const sweep = await spawnQueueCli('sweep', ['--profile', 'smoke'], local).done;
    assert.equal(sweep.code, 0, sweep.stderr);

    const follow = spawnTracked(
      'queue',
      ['--profile', 'smoke', '--redis', (redis as TestRedis).url, '--queue', 'smoke2', '--follow', '--poll-seconds', '0.5'],
      outputs,
    );
    const a = worker('smoke2', w1, outputs);
    const b = worker('smoke2', w2, outputs);
    const f = await follow.done;
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stderr, new RegExp(`${hashes.length} runs: 0 already done, ${hashes.length} queued now, ${hashes.length} collected`));
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);

    assertSound(outputs, hashes);
    for (const h of hashes) {
      assert.equal(trainStarts(w1, h) + trainStarts(w2, h), 1, `run ${h} trained once, on one worker`);
      assert.equal(collectedCount(outputs, h), 1, `run ${h} collected once`);
      assert.equal(trainStarts(outputs, h, { viaQueue: true }), 1, "the worker's stage log reached outputs/");
      const q = runJson(outputs, h);
      const l = runJson(local, h);
      assert.deepEqual(content(q), content(l), `run ${h}: the queue's record equals the local sweep's`);
      assert.deepEqual(q.provenance.queue, { name: 'smoke2', redis: `${(redis as TestRedis).url}/0` });
      assert.equal(l.provenance.queue, undefined);
    }
    for (const [name, r] of [
      ['w1', ra],
      ['w2', rb],
    ] as const)
      assert.match(r.stderr, /stopped: [1-9]\d* runs computed/, `${name} computed some runs`);

    // Queued again: nothing to add. status --redis counts the queue per architecture and width.
    const again = await spawnQueueCli('queue', ['--profile', 'smoke', '--redis', (redis as TestRedis).url, '--queue', 'smoke2'], outputs).done;
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`${hashes.length} already done, 0 queued now`));
    const st = await spawnQueueCli('status', ['--profile', 'smoke', '--redis', (redis as TestRedis).url, '--queue', 'smoke2', '--json'], outputs).done;
    assert.equal(st.code, 0, st.stderr);
    const js = JSON.parse(st.stdout) as {
      complete: number;
      queue: { done: number; waiting: number; failed: number };
      perGroup: { group: string; width: number; queue: { done: number } }[];
    };
    assert.equal(js.complete, hashes.length);
    assert.equal(js.queue.done, hashes.length);
    assert.equal(js.queue.waiting + js.queue.failed, 0);
    assert.deepEqual(js.perGroup.find((g) => g.group === 'mlp' && g.width === 1)?.queue.done, 2);
  });

  it('SIGKILL of a worker mid-run: another worker finishes the run, nothing corrupt or collected twice', async () => {
    const work = tmp('kill');
    dirs.push(work);
    const profile = writeTinyProfile(work, 3, { width: 1, trainSubset: 3000, maxEpochs: 3 });
    const hashes = expandProfileRuns(loadProfile(profile)).map((r) => r.hash);
    const outputs = path.join(work, 'out');
    const wa = path.join(work, 'wa');
    const wb = path.join(work, 'wb');
    const follow = spawnTracked(
      'queue',
      ['--profile', profile, '--redis', (redis as TestRedis).url, '--queue', 'kill', '--follow', '--poll-seconds', '0.5'],
      outputs,
    );
    const a = worker('kill', wa, outputs);
    let victim = '';
    await waitFor('worker A to start training a run', () => {
      victim = hashes.find((h) => fs.existsSync(path.join(wa, 'runs', h, 'events.jsonl')) && trainStarts(wa, h) > 0) ?? '';
      return victim !== '';
    });
    a.killGroup('SIGKILL');
    await a.done;
    assert.equal(fs.existsSync(path.join(wa, 'runs', victim, 'run.json')), false, 'killed before the run finished');
    const b = worker('kill', wb, outputs);
    const f = await follow.done;
    assert.equal(f.code, 0, f.stderr);
    assert.equal((await b.done).code, 0);
    assertSound(outputs, hashes);
    for (const h of hashes) assert.equal(collectedCount(outputs, h), 1, `run ${h} collected once`);
    assert.equal(trainStarts(wb, victim), 1, 'worker B trained the run A was killed in');
    const collected = events(outputs, victim).find((e) => e.event === 'queue-collected');
    assert.ok(collected && (collected.stagesRun as string[]).includes('train'), 'the records came from a full computation on worker B');
    assert.equal(trainStarts(outputs, victim, { viaQueue: true }), 1, 'only the finished training reached outputs/');
  });

  it('Redis stopped and restarted mid-sweep: workers and the collector reconnect, the sweep completes', async () => {
    const work = tmp('restart');
    dirs.push(work);
    const profile = writeTinyProfile(work, 4, { width: 1, trainSubset: 2000, maxEpochs: 2 });
    const hashes = expandProfileRuns(loadProfile(profile)).map((r) => r.hash);
    const outputs = path.join(work, 'out');
    const follow = spawnTracked(
      'queue',
      ['--profile', profile, '--redis', (redis as TestRedis).url, '--queue', 'restart', '--follow', '--poll-seconds', '0.5'],
      outputs,
    );
    const w = worker('restart', path.join(work, 'w'), outputs);
    await waitFor('a first run collected', () => hashes.some((h) => fs.existsSync(path.join(outputs, 'runs', h, 'run.json'))));
    await (redis as TestRedis).stop(true);
    await sleep(3000);
    await (redis as TestRedis).start();
    const f = await follow.done;
    assert.equal(f.code, 0, f.stderr);
    assert.equal((await w.done).code, 0, w.stderr());
    assert.match(w.stderr(), /queue connection: .*retrying/, 'the worker saw Redis go');
    assertSound(outputs, hashes);
    for (const h of hashes) assert.equal(collectedCount(outputs, h), 1, `run ${h} collected once`);
  });

  it('queued twice with a local sweep on the same outputs: no run trained twice', async () => {
    const work = tmp('twice');
    dirs.push(work);
    const profile = writeTinyProfile(work, 4, { width: 1, trainSubset: 3000, maxEpochs: 2 });
    const hashes = expandProfileRuns(loadProfile(profile)).map((r) => r.hash);
    const outputs = path.join(work, 'out');
    const scratch = path.join(work, 'w');
    const args = ['--profile', profile, '--redis', (redis as TestRedis).url, '--queue', 'twice'];
    // A local sweep first: the run it holds is not queued; the runs the queue holds, the sweep leaves alone.
    const sweep = spawnTracked('sweep', ['--profile', profile], outputs);
    await waitFor('the local sweep to start training', () =>
      hashes.some((h) => fs.existsSync(path.join(outputs, 'runs', h, 'events.jsonl')) && trainStarts(outputs, h) > 0),
    );
    const follow = spawnTracked('queue', [...args, '--follow', '--poll-seconds', '0.5'], outputs);
    await waitFor('the collector to hold the queued runs', () => hashes.filter((h) => fs.existsSync(path.join(outputs, 'runs', h, '.lock'))).length >= 3);
    const second = await spawnQueueCli('queue', args, outputs).done;
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, / 0 queued now/, 'queueing the profile again adds nothing');
    const w = worker('twice', scratch, outputs);
    const f = await follow.done;
    assert.equal(f.code, 0, f.stderr);
    await w.done;
    const s = await sweep.done;
    // The sweep ends 0 when it also finished the runs it waited for, else 1 (held elsewhere); both are fine here.
    assert.ok(s.code === 0 || s.code === 1, s.stderr);
    assertSound(outputs, hashes);
    for (const h of hashes) {
      const locally = trainStarts(outputs, h, { viaQueue: false });
      const onWorker = trainStarts(scratch, h);
      assert.equal(locally + onWorker, 1, `run ${h} trained once (local sweep ${locally}, worker ${onWorker})`);
      assert.ok(collectedCount(outputs, h) <= 1);
    }
    assert.ok(
      hashes.some((h) => trainStarts(outputs, h, { viaQueue: false }) === 1),
      'the local sweep computed a run',
    );
    assert.ok(
      hashes.some((h) => trainStarts(scratch, h) === 1),
      'the worker computed runs',
    );
  });
});
