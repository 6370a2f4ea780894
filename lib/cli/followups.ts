// npm run followups -- [--only edgePopup|llc] [--widths 0.1,1] [--shard i/n] [--dry-run]
// The paper's proposed follow-ups (edge-popup subnetworks, learning coefficients) on the committed MLP runs
// (lib/experiments/followups.ts). Each result is cached in its run's directory; a stopped run resumes.
import { CommandSpec, ENV_NOTES, PROFILE_FLAG, profileArg, runCli, UsageError, WIDTHS_FLAG } from './args';
import { computeFollowup } from '../experiments/followups';
import { FOLLOWUP_SPECS, FOLLOWUPS, followupRuns, readFollowup, type FollowupName } from '../experiments/followupRecords';
import { allowDirtyTree, gitState } from '../experiments/provenance';
import { checkOutputsDir } from '../paths';

const cmd: CommandSpec = {
  command: 'followups',
  summary:
    "Compute the paper's two proposed follow-ups (Section 6) on a profile's MLP runs (default the cpu profile's: data seed 0,\n" +
    'init seeds 0-4, both inits, all five widths): edge-popup subnetworks over a density grid, and the local learning coefficient.\n' +
    'Results already present are skipped; runs without weights are retrained (deterministic, checked) first.',
  flags: [
    PROFILE_FLAG,
    {
      name: 'only',
      type: 'list',
      placeholder: '<name,...>',
      choices: [...FOLLOWUPS],
      help: `only these follow-ups (default all):\n${FOLLOWUPS.map((f) => `  ${f}: ${FOLLOWUP_SPECS[f].description}`).join('\n')}`,
    },
    WIDTHS_FLAG,
    {
      name: 'shard',
      type: 'string',
      placeholder: '<i/n>',
      help: 'take every n-th run starting at i (0-based): run n processes with i = 0..n-1 to use n cores',
    },
    { name: 'dry-run', type: 'boolean', help: 'list the runs and which results they have; compute nothing' },
    { name: 'allow-dirty', type: 'boolean', help: 'compute although the git tree has uncommitted changes (records say so)' },
  ],
  notes: [
    'Ctrl-C (or SIGTERM) once: finish the current computation, write it, exit 130. Again: exit at once.',
    'Exit codes: 0 all done, 1 some failed or were locked by another process, 2 bad flags, 130 interrupted.',
    '',
    ...ENV_NOTES,
  ],
  examples: [
    'npm run followups -- --dry-run',
    'npm run followups -- --only edgePopup --widths 0.1,0.5',
    'npm run followups -- --shard 0/2 & npm run followups -- --shard 1/2',
  ],
};

/** Parse --shard 'i/n'. */
export function parseShard(spec: string | undefined): { index: number; count: number } {
  if (spec === undefined) return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  if (!m) throw new UsageError(`--shard: expected i/n (e.g. 0/2), got '${spec}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UsageError(`--shard: expected 0 <= i < n, got ${index}/${count}`);
  return { index, count };
}

runCli(cmd, async ({ values }) => {
  const only = ((values.only as string[] | undefined) ?? [...FOLLOWUPS]) as FollowupName[];
  const shard = parseShard(values.shard as string | undefined);
  const profile = values.profile === undefined && !process.env.DENSITY_PROFILE ? 'cpu' : profileArg(values);
  const runs = followupRuns(profile, values.widths as number[] | undefined).filter((_, i) => i % shard.count === shard.index);
  if (values['dry-run']) {
    checkOutputsDir('read', 'runs');
    for (const r of runs) {
      const have = only
        .filter((f) => FOLLOWUP_SPECS[f].runs(r))
        .map((f) => `${f}: ${readFollowup(r.hash, f) ? 'done' : 'missing'}`)
        .join(', ');
      process.stdout.write(`${r.hash}  mlp ${r.descriptor.width}x ${r.descriptor.init} i${r.descriptor.initSeed} d${r.descriptor.dataSeed}  ${have}\n`);
    }
    return 0;
  }
  const git = gitState();
  if (git.dirty && values['allow-dirty'] !== true) {
    throw new Error('the git tree has uncommitted changes: results would not say which code made them. Commit, or pass --allow-dirty to experiment.');
  }
  if (values['allow-dirty']) allowDirtyTree();
  checkOutputsDir('write', 'runs');
  let stop = false;
  let firstSignal = 0;
  const onSignal = (): void => {
    if (!stop) {
      stop = true;
      firstSignal = Date.now();
      process.stderr.write('stopping after the current computation (again to stop now)\n');
    } else if (Date.now() - firstSignal > 1000) {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let problems = 0;
  let i = 0;
  for (const run of runs) {
    i++;
    for (const f of only.filter((name) => FOLLOWUP_SPECS[name].runs(run))) {
      if (stop) return 130;
      const label = `[${i}/${runs.length}] ${run.hash} mlp ${run.descriptor.width}x ${run.descriptor.init} i${run.descriptor.initSeed} ${f}`;
      try {
        const t0 = Date.now();
        const o = await computeFollowup(run, f, { log: (s) => process.stderr.write(`  ${s}\n`) });
        if (o.kind === 'computed') process.stderr.write(`${label}: computed in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
        else if (o.kind === 'existing') process.stderr.write(`${label}: present\n`);
        else if (o.kind === 'locked') {
          problems++;
          process.stderr.write(`${label}: locked by another process\n`);
        } else {
          problems++;
          process.stderr.write(`${label}: ${o.why}\n`);
        }
      } catch (err) {
        problems++;
        process.stderr.write(`${label}: FAILED: ${(err as Error).message}\n`);
      }
    }
  }
  return stop ? 130 : problems > 0 ? 1 : 0;
});
