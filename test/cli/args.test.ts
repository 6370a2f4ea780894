import { strict as assert } from 'assert';
import { CommandSpec, formatHelp, parseArgs, UsageError } from '../../lib/cli/args';

const cmd: CommandSpec = {
  command: 'demo',
  summary: 'a demo',
  flags: [
    { name: 'profile', type: 'string', help: 'which' },
    { name: 'widths', type: 'numberList', help: 'widths' },
    { name: 'arch', type: 'list', choices: ['mlp', 'conv2'], help: 'archs' },
    { name: 'jobs', type: 'integer', help: 'jobs' },
    { name: 'format', type: 'string', choices: ['csv', 'json'], help: 'format' },
    { name: 'verbose', type: 'boolean', help: 'more' },
    { name: 'secret', type: 'boolean', hidden: true, help: 'internal' },
  ],
};

function usage(argv: string[], re: RegExp): void {
  assert.throws(
    () => parseArgs(argv, cmd),
    (e: unknown) => e instanceof UsageError && re.test(e.message),
  );
}

describe('cli/args', () => {
  it('parses every flag type, with --flag value and --flag=value', () => {
    const { values, help } = parseArgs(['--profile', 'cpu', '--widths=0.1,1', '--arch', 'mlp,conv2', '--jobs', '2', '--verbose', '--format=json'], cmd);
    assert.equal(help, false);
    assert.deepEqual(values, { profile: 'cpu', widths: [0.1, 1], arch: ['mlp', 'conv2'], jobs: 2, verbose: true, format: 'json' });
  });

  it('rejects bad flags with a message saying what was expected', () => {
    usage(['--profle', 'cpu'], /unknown flag --profle \(did you mean --profile\?\)/);
    usage(['--widths', '0.1,,1'], /comma-separated numbers/);
    usage(['--widths', 'a'], /--widths: 'a' is not a number/);
    usage(['--jobs', '1.5'], /--jobs: '1.5' is not a whole number/);
    usage(['--arch', 'vgg'], /--arch: 'vgg' is not one of mlp, conv2/);
    usage(['--format', 'xml'], /--format: 'xml' is not one of csv, json/);
    usage(['--profile'], /--profile needs a value/);
    usage(['--profile', '--jobs', '1'], /--profile needs a value/);
    usage(['cpu'], /unexpected argument 'cpu'/);
    usage(['--jobs', '1', '--jobs', '2'], /given twice/);
    usage(['--secre'], /unknown flag --secre$/); // hidden flags are never suggested
  });

  it('--help wins over everything and lists the visible flags only', () => {
    assert.equal(parseArgs(['--bogus', '--help'], cmd).help, true);
    const text = formatHelp(cmd);
    for (const f of ['--profile', '--widths', '--arch', '--jobs', '--format', '--verbose', '--help']) assert.ok(text.includes(f), f);
    assert.ok(!text.includes('--secret'));
  });
});
