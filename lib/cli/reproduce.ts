// npm run reproduce -- --runs <hash,...>: recompute recorded runs with the code as it is now, in a scratch folder,
// and say for each whether every computed field of run.json is bit-identical to the record.
import { CommandSpec, ENV_NOTES, runCli, UsageError } from './args';
import { reproduceRun } from '../experiments/reproduce';
import { checkOutputsDir } from '../paths';

const cmd: CommandSpec = {
  command: 'reproduce',
  summary:
    'Recompute recorded runs from their descriptors in a scratch outputs folder (the records are not touched) and\n' +
    'compare every computed field of run.json with the record, bit for bit.',
  flags: [
    { name: 'runs', type: 'list', placeholder: '<hash,...>', help: 'run hashes (folder names under outputs/runs)' },
    { name: 'keep', type: 'boolean', help: 'keep the scratch folders (their paths are printed)' },
  ],
  notes: ['Exit codes: 0 every run bit-identical, 1 a field differs or a run could not be recomputed, 2 bad flags.', '', ...ENV_NOTES],
  examples: ['npm run reproduce -- --runs aec829b1b16d9f0e,39eee56f292aa3e5'],
};

runCli(cmd, async ({ values }) => {
  const runs = (values.runs as string[] | undefined) ?? [];
  if (runs.length === 0) throw new UsageError('--runs: give at least one run hash');
  for (const h of runs) if (!/^[0-9a-f]{16}$/.test(h)) throw new UsageError(`--runs: '${h}' is not a run hash (16 hex digits)`);
  checkOutputsDir('read');
  let failures = 0;
  for (const hash of runs) {
    try {
      const r = await reproduceRun(hash, { keep: values.keep === true });
      const where = `recorded at ${r.recordedCommit?.slice(0, 7) ?? '?'}, recomputed at ${r.commit?.slice(0, 7) ?? '?'} in ${r.wallSeconds.toFixed(0)} s`;
      if (r.differences.length === 0) {
        process.stdout.write(`${hash}: bit-identical (${where})\n`);
      } else {
        failures++;
        process.stdout.write(`${hash}: DIFFERS in ${r.differences.join(', ')} (${where})\n`);
      }
    } catch (err) {
      failures++;
      process.stdout.write(`${hash}: could not be recomputed: ${(err as Error).message}\n`);
    }
  }
  return failures === 0 ? 0 : 1;
});
