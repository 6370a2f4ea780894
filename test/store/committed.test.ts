// The committed records under outputs/runs (what every clone reads as results): each is a sound run at the
// default analysis settings, names no machine path, and carries the degraded flag and the margin over chance.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../lib/paths';
import { inspectRun, RUN_SCHEMA, type RunRecord } from '../../lib/store/runRecord';
import { committedFiles } from '../../lib/store/committed';

const committedRuns = path.join(projectRoot, 'outputs', 'runs');

/** Strings that look like a machine path (absolute POSIX or Windows, or a node_modules location); base64 bits excepted. */
function machinePaths(v: unknown, where = '$'): string[] {
  if (typeof v === 'string') return /^\/[\w.-]+\/|^[A-Za-z]:[\\/]|node_modules/.test(v) ? [`${where} = ${v}`] : [];
  if (Array.isArray(v)) return v.flatMap((x, i) => machinePaths(x, `${where}[${i}]`));
  if (typeof v === 'object' && v !== null) return Object.entries(v).flatMap(([k, x]) => (k === 'bits' ? [] : machinePaths(x, `${where}.${k}`)));
  return [];
}

describe('outputs/runs: the committed records', function () {
  this.timeout(60_000);
  // Only what git tracks: runs a local sweep added (perhaps half done) are not the committed results.
  const hashes = [...new Set(committedFiles('outputs/runs').map((f) => f.split('/')[0]))];

  it('are all sound runs: run.json is the assembly of sound, current stage records (500 MLP runs)', () => {
    assert.equal(hashes.filter((h) => JSON.parse(fs.readFileSync(path.join(committedRuns, h, 'descriptor.json'), 'utf8')).architecture === 'mlp').length, 500);
    const unsound = hashes.flatMap((h) => {
      const ins = inspectRun(path.join(committedRuns, h), h);
      return ins.run.state === 'done'
        ? []
        : [`${h}: ${[ins.train, ins.prune, ins.analysis, ins.run].map((c) => (c.state === 'invalid' ? c.problem : c.state)).join('; ')}`];
    });
    assert.deepEqual(unsound.slice(0, 5), [], `${unsound.length} unsound committed runs`);
  });

  it('name no machine path, and record the dataset by name, copy and sha256', () => {
    const found: string[] = [];
    for (const h of hashes) {
      for (const f of committedFiles(`outputs/runs/${h}`).filter((n) => n.endsWith('.json'))) {
        found.push(...machinePaths(JSON.parse(fs.readFileSync(path.join(committedRuns, h, f), 'utf8'))).map((p) => `${h}/${f}: ${p}`));
      }
      const r = JSON.parse(fs.readFileSync(path.join(committedRuns, h, 'run.json'), 'utf8')) as RunRecord;
      assert.deepEqual(Object.keys(r.provenance.dataset).sort(), ['copy', 'description', 'name', 'sha256', 'trainImages', 'validationImages'], h);
    }
    assert.deepEqual(found.slice(0, 5), [], `${found.length} machine paths`);
  });

  it('carry the degraded flag and the unpruned margin over chance', () => {
    for (const h of hashes) {
      const r = JSON.parse(fs.readFileSync(path.join(committedRuns, h, 'run.json'), 'utf8')) as RunRecord;
      assert.equal(r.schema, RUN_SCHEMA, h);
      if (r.status !== 'complete') continue;
      assert.equal(typeof r.degraded, 'boolean', h);
      assert.ok(Math.abs((r.chanceMargin as number) - 100 * ((r.trajectory?.[0].accuracy as number) - 0.1)) < 1e-9, h);
    }
  });
});
