// npm run claims -- --profile <p>: every claim of the paper with its verdict on the profile's runs (notebook 11's table).
import { CommandSpec, ENV_NOTES, PROFILE_FLAG, profileArg, runCli, UsageError } from './args';
import { checkClaims, claimsMarkdown, verdictCounts } from '../report/claims';
import { loadStudy } from '../report/study';
import { checkOutputsDir } from '../paths';

const cmd: CommandSpec = {
  command: 'claims',
  summary:
    "Check every claim of the paper on a profile's finished runs and print each verdict (supported, not supported,\n" +
    'not testable at this scale) with the numbers and the rule that decided it. Nothing is trained.',
  flags: [
    PROFILE_FLAG,
    {
      name: 'format',
      type: 'string',
      choices: ['md', 'md-short', 'json'],
      placeholder: '<md|md-short|json>',
      help: 'output format (default md: a Markdown table; md-short: the claim in a few words, no paper column)',
    },
    { name: 'alpha', type: 'number', placeholder: '<level>', help: 'significance level of every test (default 0.05)' },
  ],
  notes: ['The rules are in lib/report/claims.ts; notebook 11 shows the same table.', '', ...ENV_NOTES],
  examples: ['npm run -s claims -- --profile cpu', 'npm run -s claims -- --profile cpu --alpha 0.01 --format json'],
};

runCli(cmd, async ({ values }) => {
  const profile = profileArg(values);
  const alpha = (values.alpha as number | undefined) ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new UsageError(`--alpha ${alpha}: expected a level between 0 and 1`);
  checkOutputsDir('read');
  const study = await loadStudy(profile, { log: () => {} });
  const checks = checkClaims(study, { alpha });
  const format = (values.format as string | undefined) ?? 'md';
  if (format === 'json') process.stdout.write(JSON.stringify(checks, null, 1) + '\n');
  else process.stdout.write(claimsMarkdown(checks, { short: format === 'md-short' }) + '\n');
  process.stderr.write(`profile ${profile.name}: ${verdictCounts(checks)}${study.missing.length ? ` (${study.missing.length} runs not finished)` : ''}\n`);
  return 0;
});
