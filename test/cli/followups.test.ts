// npm run followups end to end: a tiny profile's run swept, then its follow-ups listed, computed, skipped.
import { strict as assert } from 'assert';
import { spawnCli, tempOutputs, writeTinyProfile } from './helpers';

describe('cli: followups', function () {
  this.timeout(300_000);

  it('lists, computes (resumably) and refuses a bad shard', async () => {
    const out = tempOutputs('followups');
    const profile = writeTinyProfile(out, 1);
    assert.equal((await spawnCli('sweep', ['--profile', profile], out).done).code, 0);
    const before = await spawnCli('followups', ['--profile', profile, '--dry-run'], out).done;
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /^[0-9a-f]{16} {2}mlp 0\.1x glorot i0 d0 {2}edgePopup: missing, llc: missing/m);
    const run = await spawnCli('followups', ['--profile', profile, '--only', 'edgePopup', '--allow-dirty'], out).done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /\[1\/1\] [0-9a-f]{16} mlp 0\.1x glorot i0 edgePopup: computed in/);
    const again = await spawnCli('followups', ['--profile', profile, '--only', 'edgePopup', '--allow-dirty'], out).done;
    assert.match(again.stderr, /edgePopup: present/);
    const after = await spawnCli('followups', ['--profile', profile, '--dry-run'], out).done;
    assert.match(after.stdout, /edgePopup: done, llc: missing/);
    const bad = await spawnCli('followups', ['--profile', profile, '--shard', '2/2', '--dry-run'], out).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--shard: expected 0 <= i < n, got 2\/2/);
  });
});
