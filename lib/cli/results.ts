// npm run results -- --profile <p> --format csv|json: the tidy table (one row per finished run) on stdout.
import * as path from 'path';
import { ARCH_FLAG, CommandSpec, ENV_NOTES, GROUP_FLAG, PROFILE_FLAG, profileArg, runCli, runFilterArg, WIDTHS_FLAG } from './args';
import { profileAnalysis } from '../experiments/profiles';
import { loadResults, toCsv } from '../experiments/results';
import { resolveAnalysisSettings } from '../store/descriptor';
import { checkOutputsDir } from '../paths';

const cmd: CommandSpec = {
  command: 'results',
  summary:
    'Print one tidy row per finished run of a profile (the table the notebooks use). Nothing is trained;\n' +
    'effective density is recomputed from the stored trajectories, so --threshold never needs a new sweep.',
  flags: [
    PROFILE_FLAG,
    ARCH_FLAG,
    WIDTHS_FLAG,
    GROUP_FLAG,
    { name: 'format', type: 'string', choices: ['csv', 'json'], placeholder: '<csv|json>', help: 'output format (default csv)' },
    { name: 'threshold', type: 'number', placeholder: '<points>', help: "effective-density threshold (default: the profile's, 5)" },
    {
      name: 'metric',
      type: 'string',
      choices: ['accuracy', 'loss'],
      placeholder: '<accuracy|loss>',
      help: 'what the threshold is measured on (default accuracy)',
    },
    {
      name: 'mode',
      type: 'string',
      choices: ['points', 'relative'],
      placeholder: '<points|relative>',
      help: 'absolute points or percent of the unpruned value (default points)',
    },
  ],
  notes: [
    'Columns: hash, group, arch, dataset, width, init, optimizer, learningRate, initSeed, dataSeed, trainImages, trainSubset,',
    'validationSize, totalWeights, trainSteps, epochs, stopReason, status, validationAccuracy (fraction), effectiveDensity (%),',
    'coreSize (weights), backend, commit, dirty, datasetSha256, trainSeconds. Missing runs are counted on stderr.',
    '',
    ...ENV_NOTES,
  ],
  examples: [
    'npm run -s results -- --profile cpu --format csv > results.csv   (-s: no npm banner in the file)',
    'npm run results -- --profile cpu --arch mlp --threshold 2 --format json',
  ],
};

runCli(cmd, async ({ values }) => {
  const profile = profileArg(values);
  const filter = runFilterArg(profile, values);
  const base = profileAnalysis(profile);
  const analysis = resolveAnalysisSettings({
    ...base,
    ...(values.threshold !== undefined ? { threshold: values.threshold } : {}),
    ...(values.metric !== undefined ? { metric: values.metric } : {}),
    ...(values.mode !== undefined ? { mode: values.mode } : {}),
  });
  const outputs = checkOutputsDir('read');
  const { rows, missing } = await loadResults(profile, {
    analysis,
    filter,
  });
  if ((values.format ?? 'csv') === 'json') process.stdout.write(JSON.stringify(rows, null, 1) + '\n');
  else process.stdout.write(toCsv(rows));
  process.stderr.write(
    `${rows.length} runs from ${path.join(outputs, 'runs')}${missing.length ? `, ${missing.length} not finished (npm run status -- --profile ${profile.name})` : ''}\n`,
  );
  return 0;
});
