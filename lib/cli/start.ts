// npm start [-- --profile p] [--no-compute] [--jobs N] [--notebooks 01,02]
// Makes sure a profile's results exist, computing only what is missing (the same supervised sweep as
// `npm run sweep`), then renders the notebooks to HTML and says where they are.
import * as path from 'path';
import { asUsage, CommandSpec, ENV_NOTES, runCli, UsageError } from './args';
import { formatDuration, formatSummary, Progress } from './progress';
import { stopOnSignals } from './signals';
import { listNotebooks, renderNotebook, resolveNotebooks, writeIndex, type RenderResult } from './render';
import { expandProfileRuns, loadProfile, profileAnalysis, PROFILE_ENV } from '../experiments/profiles';
import { gitState } from '../experiments/provenance';
import { dirtyTreeRefusal, pendingRuns, superviseSweep, type SweepSummary } from '../experiments/sweep';
import { checkOutputsDir, htmlDir, SWEEP_CLI } from '../paths';

/** The profile npm start uses when none is named. */
export const DEFAULT_START_PROFILE = 'cpu';

const cmd: CommandSpec = {
  command: 'start',
  summary:
    `Make sure a profile's results exist (default: $${PROFILE_ENV}, else '${DEFAULT_START_PROFILE}'), computing only the runs that\n` +
    'are missing, then render every notebook to HTML (outputs/html/) and print where the index is.',
  flags: [
    {
      name: 'profile',
      type: 'string',
      placeholder: '<smoke|cpu|paper|file.json>',
      help: `which results (default: $${PROFILE_ENV}, else ${DEFAULT_START_PROFILE})`,
    },
    { name: 'no-compute', type: 'boolean', help: 'compute nothing: render from whatever results exist (missing ones are noted in the notebooks)' },
    { name: 'jobs', type: 'integer', placeholder: '<N>', help: 'worker processes for the missing runs (default 1)' },
    {
      name: 'allow-dirty',
      type: 'boolean',
      help: 'compute missing runs of a built-in profile although the git tree has\nuncommitted changes (each record says allowDirty in its provenance)',
    },
    { name: 'notebooks', type: 'list', placeholder: '<01,02,...>', help: 'render only these notebooks (name or number prefix; default all)' },
    { name: 'timeout', type: 'integer', placeholder: '<s>', help: 'per-cell timeout when rendering (default 3600)' },
  ],
  notes: [
    'Ctrl-C or SIGTERM while computing: finish the current stage, keep what is done, exit 130 without rendering.',
    'Exit codes: 0 everything rendered (and computed), 1 some run failed or some notebook did not render, 2 bad flags, 130 interrupted.',
    '',
    ...ENV_NOTES,
  ],
  examples: ['npm start', 'npm start -- --no-compute', 'npm start -- --profile smoke', 'npm start -- --profile cpu --jobs 2 --notebooks 02,03'],
};

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Compute the profile's missing runs with the supervised sweep; resolves with its summary (null when nothing was missing). */
async function computeMissing(spec: string, jobs: number, allowDirty: boolean): Promise<SweepSummary | null> {
  const profile = loadProfile(spec);
  const runs = expandProfileRuns(profile);
  const analysis = profileAnalysis(profile);
  const pending = pendingRuns(runs, analysis);
  if (pending.length === 0) {
    log(`[start] profile ${profile.name}: all ${runs.length} runs are done`);
    return null;
  }
  const refusal = dirtyTreeRefusal(profile, gitState(), allowDirty);
  if (refusal) throw new Error(`${refusal} (or render what exists: npm start -- --no-compute)`);
  log(`[start] profile ${profile.name}: ${pending.length} of ${runs.length} runs to compute (${profile.budget})`);
  const progress = new Progress({ write: (s) => process.stderr.write(s), tty: Boolean(process.stderr.isTTY), columns: process.stderr.columns });
  const sup = superviseSweep(runs, {
    analysis,
    jobs,
    onEvent: (e) => progress.handle(e),
    purpose: `start --profile ${profile.name}`,
    workerModule: SWEEP_CLI,
    workerArgs: ['--worker', '--worker-analysis', JSON.stringify(analysis), ...(allowDirty ? ['--allow-dirty'] : [])],
  });
  const removeHandlers = stopOnSignals(sup, progress, log);
  try {
    const summary = await sup.done;
    progress.finish();
    process.stderr.write(formatSummary(summary));
    return summary;
  } finally {
    removeHandlers();
  }
}

function render(spec: string, names: string[], timeoutSeconds: number | undefined): RenderResult[] {
  const list = resolveNotebooks(names);
  if (list.length === 0) throw new Error(`no notebooks found (looked for notebooks/*.ipynb; have: ${listNotebooks().join(', ') || 'none'})`);
  const results: RenderResult[] = [];
  for (const name of list) {
    log(`[start] rendering ${name} ...`);
    const r = renderNotebook(name, { profile: spec, timeoutSeconds });
    results.push(r);
    log(r.ok ? `[start] ${name}: ok (${formatDuration(r.seconds)})` : `[start] ${name}: FAILED after ${formatDuration(r.seconds)}\n${r.error}`);
  }
  return results;
}

runCli(cmd, async ({ values }) => {
  const spec = (values.profile as string | undefined) ?? process.env[PROFILE_ENV] ?? DEFAULT_START_PROFILE;
  if (!spec) throw new UsageError('--profile needs a value');
  const profile = asUsage(() => loadProfile(spec)); // fails early, with the list of profiles, on a typo
  const jobs = (values.jobs as number | undefined) ?? 1;
  if (jobs < 1) throw new UsageError(`--jobs: expected at least 1, got ${jobs}`);
  const timeout = values.timeout as number | undefined;
  if (timeout !== undefined && timeout < 1) throw new UsageError(`--timeout: expected a positive number of seconds, got ${timeout}`);
  const names = (values.notebooks as string[] | undefined) ?? [];
  asUsage(() => resolveNotebooks(names)); // unknown names fail before any computing

  // A wrong outputs folder is one sentence now, not a failure per run or a crash when rendering.
  const outputs = checkOutputsDir('write', 'html');
  if (!values['no-compute']) checkOutputsDir('write', 'runs');
  log(`[start] results in ${path.join(outputs, 'runs')}, HTML in ${htmlDir()}`);
  let summary: SweepSummary | null = null;
  if (values['no-compute']) log(`[start] --no-compute: rendering profile ${profile.name} from the results that exist`);
  else {
    summary = await computeMissing(spec, jobs, values['allow-dirty'] === true);
    if (summary?.interrupted) return 130;
  }

  // The index page names the profile from the environment, as the notebooks read it.
  process.env[PROFILE_ENV] = spec;
  const results = render(spec, names, timeout);
  const index = writeIndex(results);
  const failed = results.filter((r) => !r.ok);
  const runProblems = summary ? summary.failed.length + summary.runningElsewhere.length + summary.notStarted : 0;
  log(
    `[start] ${results.length - failed.length}/${results.length} notebooks rendered (profile ${profile.name})` +
      `${runProblems ? `; ${runProblems} run(s) not computed (see above): the notebooks note them` : ''}`,
  );
  const rel = path.relative(process.cwd(), index);
  process.stdout.write(`${rel && !rel.startsWith('..') ? rel : index}\n`);
  log(`[start] open ${index} (HTML in ${htmlDir()})`);
  return failed.length > 0 || runProblems > 0 ? 1 : 0;
});
