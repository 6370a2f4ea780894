import { strict as assert } from 'assert';
import { formatDuration, formatSummary, Progress } from '../../lib/cli/progress';
import type { SweepEvent } from '../../lib/experiments/sweep';

function feed(tty: boolean, events: SweepEvent[]): { out: string; p: Progress } {
  let out = '';
  const p = new Progress({ write: (s) => (out += s), tty, now: () => 0 });
  for (const e of events) p.handle(e);
  return { out, p };
}

const end = (hash: string, seconds: number, worker = 0): SweepEvent => ({
  type: 'run-end',
  hash,
  label: `mlp ${hash}`,
  seconds,
  worker,
  outcome: { kind: 'completed', hash, status: 'complete', stagesRun: ['train', 'prune', 'analysis'], wallSeconds: seconds },
});

describe('cli/progress', () => {
  it('estimates the time left from the mean run time of this sweep, divided over the jobs', () => {
    const { p } = feed(false, [{ type: 'start', total: 10, pending: 6, jobs: 2 }, end('a', 10), end('b', 30)]);
    // 6 to compute, 2 done: 4 left x mean 20 s / 2 jobs = 40 s.
    assert.equal(p.eta(), 40);
    assert.equal(feed(false, [{ type: 'start', total: 3, pending: 3, jobs: 1 }]).p.eta(), null);
  });

  it('writes one line per stage and run when not on a terminal, with counts, hash, label and ETA', () => {
    const { out } = feed(false, [
      { type: 'start', total: 3, pending: 2, jobs: 1 },
      { type: 'run-start', hash: 'abcdef0123456789', label: 'mlp 1x glorot i0 d0', worker: 0 },
      { type: 'stage', hash: 'abcdef0123456789', label: 'mlp 1x glorot i0 d0', stage: 'train', worker: 0 },
      { type: 'train-progress', hash: 'abcdef0123456789', step: 10, epochs: 0.5, worker: 0 },
      end('abcdef0123456789', 12),
    ]);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /3 runs, 1 already done, 2 to compute/);
    assert.match(lines[1], /^\[1\/3\] abcdef01 mlp 1x glorot i0 d0: train$/);
    assert.match(lines[2], /^\[2\/3\] abcdef01 .*done \(train\+prune\+analysis\) in 12s; ETA 12s$/);
    assert.ok(!out.includes('\r'), 'no carriage returns in logs');
  });

  it('refreshes one line in place on a terminal', () => {
    const { out } = feed(true, [
      { type: 'start', total: 2, pending: 2, jobs: 1 },
      { type: 'run-start', hash: 'abcdef0123456789', label: 'mlp', worker: 0 },
      { type: 'stage', hash: 'abcdef0123456789', label: 'mlp', stage: 'prune', worker: 0 },
    ]);
    assert.ok(out.includes('\r\x1b[K[0/2] abcdef01 mlp prune'));
  });

  it('summarises the sweep', () => {
    const text = formatSummary({
      total: 5,
      done: 2,
      skippedExisting: 1,
      diverged: 1,
      failed: [{ hash: 'h', label: 'l', stage: 'train', message: 'boom' }],
      runningElsewhere: [],
      notStarted: 0,
      interrupted: false,
      wallSeconds: 3725,
    });
    assert.match(text, /finished in 1h02m: 5 runs: 2 done, 1 skipped \(already done\), 1 diverged, 1 failed, 0 running elsewhere/);
    assert.match(text, /failed: h l \(train\): boom/);
    assert.equal(formatDuration(65), '1m05s');
  });
});
