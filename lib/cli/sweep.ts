// npm run sweep -- --profile <p> [--arch a] [--widths 0.1,1] [--jobs N]
// A supervisor (this process, no tfjs) hands runs to worker processes (this file with --worker), so the
// progress line stays live and Ctrl-C is answered even while a worker is inside a synchronous training loop.
import * as path from 'path';
import { ARCH_FLAG, CommandSpec, ENV_NOTES, GROUP_FLAG, PROFILE_FLAG, profileArg, runCli, runFilterArg, UsageError, WIDTHS_FLAG } from './args';
import { formatSummary, Progress } from './progress';
import { stopOnSignals } from './signals';
import { expandProfileRuns, profileAnalysis } from '../experiments/profiles';
import { runStatusAt } from '../experiments/results';
import { allowDirtyTree, gitState } from '../experiments/provenance';
import { dirtyTreeRefusal, superviseSweep, workerLoop, type FromWorker } from '../experiments/sweep';
import { resolveAnalysisSettings } from '../store/descriptor';
import { checkOutputsDir, RUNS_DIR } from '../paths';

const cmd: CommandSpec = {
  command: 'sweep',
  summary:
    'Train, prune and analyse every run of a profile that is not finished yet. Finished stages are skipped, so\n' +
    'an interrupted sweep resumes where it stopped; runs locked by another sweep are left to it.',
  flags: [
    PROFILE_FLAG,
    ARCH_FLAG,
    WIDTHS_FLAG,
    GROUP_FLAG,
    { name: 'jobs', type: 'integer', placeholder: '<N>', help: 'worker processes (default 1); each takes one run at a time' },
    { name: 'dry-run', type: 'boolean', help: 'list the runs and their state, train nothing' },
    {
      name: 'allow-dirty',
      type: 'boolean',
      help: 'sweep a built-in profile although the git tree has uncommitted changes\n(an experiment: each record says allowDirty in its provenance)',
    },
    { name: 'worker', type: 'boolean', hidden: true, help: 'internal: run as a worker of a supervisor' },
    { name: 'worker-analysis', type: 'string', hidden: true, help: 'internal: the analysis settings (JSON)' },
  ],
  notes: [
    'Progress goes to stderr: one line refreshed in place on a terminal, one line per run otherwise.',
    'Ctrl-C (or SIGTERM, e.g. kill <pid of npm run sweep>) once: finish the current stage, write it, exit 130.\nAgain (a second later or more): exit at once; finished stages and files stay sound. If the process that\nstarted the sweep dies, the sweep stops the same way instead of running on in the background.',
    'Built-in profiles other than smoke refuse a git tree with uncommitted changes (--allow-dirty to experiment).',
    'Exit codes: 0 all done, 1 some runs failed, were not started or are held by another process, 2 bad flags,\n130 interrupted.',
    '',
    ...ENV_NOTES,
  ],
  examples: [
    'npm run sweep -- --profile smoke',
    'npm run sweep -- --profile cpu --arch mlp --widths 0.1,1 --jobs 2',
    'npm run sweep -- --profile my-profile.json',
  ],
};

runCli(cmd, async ({ values }) => {
  if (values.worker) {
    if (!process.send) throw new UsageError('--worker is internal: it needs a supervisor (run without it)');
    const send = process.send.bind(process);
    const analysis = resolveAnalysisSettings(JSON.parse(String(values['worker-analysis'] ?? '{}')) as unknown);
    if (values['allow-dirty']) allowDirtyTree();
    await workerLoop(analysis, (m: FromWorker) => send(m), 'sweep worker');
    return 0;
  }
  const profile = profileArg(values);
  const runs = expandProfileRuns(profile, runFilterArg(profile, values));
  if (runs.length === 0) throw new UsageError(`profile ${profile.name} has no runs matching the filters`);
  const jobs = (values.jobs as number | undefined) ?? 1;
  if (jobs < 1) throw new UsageError(`--jobs: expected at least 1, got ${jobs}`);
  const analysis = profileAnalysis(profile);
  const tty = Boolean(process.stderr.isTTY);
  const allowDirty = values['allow-dirty'] === true;
  // Refused before anything is written (not even outputs/runs), and a dry run trains nothing, so it is not refused.
  const refusal = values['dry-run'] ? null : dirtyTreeRefusal(profile, gitState(), allowDirty);
  if (refusal) throw new Error(refusal);
  const outputs = checkOutputsDir(values['dry-run'] ? 'read' : 'write', RUNS_DIR);
  process.stderr.write(`profile ${profile.name}: ${profile.description}\n  budget: ${profile.budget}\n  results in ${path.join(outputs, RUNS_DIR)}\n`);

  if (values['dry-run']) {
    for (const r of runs)
      process.stdout.write(
        `${r.hash}  ${runStatusAt(r, analysis).state.padEnd(9)} ${r.group} ${r.descriptor.width}x ${r.descriptor.init} i${r.descriptor.initSeed} d${r.descriptor.dataSeed}\n`,
      );
    return 0;
  }

  const progress = new Progress({ write: (s) => process.stderr.write(s), tty, columns: process.stderr.columns });
  const sup = superviseSweep(runs, {
    analysis,
    jobs,
    onEvent: (e) => progress.handle(e),
    purpose: `sweep --profile ${profile.name}`,
    workerModule: __filename,
    workerArgs: ['--worker', '--worker-analysis', JSON.stringify(analysis), ...(allowDirty ? ['--allow-dirty'] : [])],
  });
  stopOnSignals(sup, progress);
  const summary = await sup.done;
  progress.finish();
  process.stderr.write(formatSummary(summary));
  if (summary.interrupted) return 130;
  return summary.failed.length > 0 || summary.runningElsewhere.length > 0 || summary.notStarted > 0 ? 1 : 0;
});
