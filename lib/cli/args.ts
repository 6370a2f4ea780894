// A small, strict flag parser for the CLIs: every flag declared with its type and help, unknown flags and
// bad values rejected with a message that says what was expected (no silent typos in a 10-hour sweep).
import { expandProfileRuns, profileFromSpec, type Profile, type ProfileFilter } from '../experiments/profiles';
import { ARCH_NAMES, type ArchName } from '../models/types';
import { nearestName } from '../suggest';

export type FlagType = 'string' | 'number' | 'integer' | 'boolean' | 'list' | 'numberList';

export interface FlagSpec {
  name: string;
  type: FlagType;
  help: string;
  /** Shown in --help, e.g. '<name|file.json>'. */
  placeholder?: string;
  choices?: readonly string[];
  /** Not listed in --help (internal: worker mode). */
  hidden?: boolean;
}

export interface CommandSpec {
  command: string;
  summary: string;
  flags: FlagSpec[];
  examples?: string[];
  /** Extra paragraphs after the flags (environment variables, exit codes). */
  notes?: string[];
}

export type FlagValue = string | number | boolean | string[] | number[];
export type ParsedArgs = { help: boolean; values: Record<string, FlagValue | undefined> };

/** A mistake on the command line: printed with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function parseNumber(flag: string, raw: string, integer: boolean): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${flag}: '${raw}' is not a number`);
  if (integer && !Number.isInteger(v)) throw new UsageError(`--${flag}: '${raw}' is not a whole number`);
  return v;
}

function convert(spec: FlagSpec, raw: string): FlagValue {
  switch (spec.type) {
    case 'string':
      if (spec.choices && !spec.choices.includes(raw)) throw new UsageError(`--${spec.name}: '${raw}' is not one of ${spec.choices.join(', ')}`);
      return raw;
    case 'number':
      return parseNumber(spec.name, raw, false);
    case 'integer':
      return parseNumber(spec.name, raw, true);
    case 'list': {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (items.length === 0) throw new UsageError(`--${spec.name}: expected a comma-separated list, got '${raw}'`);
      if (spec.choices)
        for (const it of items) if (!spec.choices.includes(it)) throw new UsageError(`--${spec.name}: '${it}' is not one of ${spec.choices.join(', ')}`);
      return items;
    }
    case 'numberList': {
      const items = raw.split(',').map((s) => s.trim());
      if (items.some((s) => s === '')) throw new UsageError(`--${spec.name}: expected comma-separated numbers like 0.1,1, got '${raw}'`);
      return items.map((s) => parseNumber(spec.name, s, false));
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new UsageError(`--${spec.name}: expected true or false, got '${raw}'`);
  }
}

/** Parse `argv` (without node and script) against `cmd`. --help / -h set `help` and skip other checks. */
export function parseArgs(argv: string[], cmd: CommandSpec): ParsedArgs {
  const values: Record<string, FlagValue | undefined> = {};
  const byName = new Map(cmd.flags.map((f) => [f.name, f]));
  if (argv.includes('--help') || argv.includes('-h')) return { help: true, values };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}' (flags start with --)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) {
      const hint = nearestName(
        name,
        cmd.flags.filter((f) => !f.hidden).map((f) => f.name),
      );
      throw new UsageError(`unknown flag --${name}${hint ? ` (did you mean --${hint}?)` : ''}`);
    }
    if (name in values) throw new UsageError(`--${name} given twice`);
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (spec.type === 'boolean') raw = 'true';
    else {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--'))
        throw new UsageError(`--${name} needs a value${spec.placeholder ? ` ${spec.placeholder}` : ''}`);
      raw = argv[++i];
    }
    values[name] = convert(spec, raw);
  }
  return { help: false, values };
}

/** The --help text. */
export function formatHelp(cmd: CommandSpec): string {
  const lines = [`Usage: npm run ${cmd.command} -- [flags]`, '', cmd.summary, '', 'Flags:'];
  const shown = cmd.flags.filter((f) => !f.hidden);
  const left = shown.map((f) => `  --${f.name}${f.type === 'boolean' ? '' : ` ${f.placeholder ?? `<${f.type}>`}`}`);
  const width = Math.max(...left.map((l) => l.length), 10) + 2;
  shown.forEach((f, i) => {
    const help = f.help.split('\n');
    lines.push(left[i].padEnd(width) + help[0]);
    for (const h of help.slice(1)) lines.push(' '.repeat(width) + h);
  });
  lines.push('  --help'.padEnd(width) + 'this text');
  if (cmd.notes?.length) lines.push('', ...cmd.notes);
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/**
 * Run a CLI's main: usage errors print the message and a pointer to --help (exit 2); other errors print
 * their message (exit 1; the stack with DENSITY_DEBUG=1).
 */
export function runCli(cmd: CommandSpec, main: (args: ParsedArgs) => Promise<number>): void {
  let args: ParsedArgs;
  try {
    args = parseArgs(process.argv.slice(2), cmd);
  } catch (err) {
    process.stderr.write(`${cmd.command}: ${(err as Error).message}\nRun 'npm run ${cmd.command} -- --help' for the flags.\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(formatHelp(cmd));
    process.exit(0);
  }
  main(args).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      if (e instanceof UsageError) {
        process.stderr.write(`${cmd.command}: ${e.message}\nRun 'npm run ${cmd.command} -- --help' for the flags.\n`);
        process.exit(2);
      }
      process.stderr.write(`${cmd.command}: ${process.env.DENSITY_DEBUG ? e.stack : e.message}\n`);
      process.exit(1);
    },
  );
}

/** Run `f`; any error it throws becomes a UsageError (exit 2): for flag values checked by library code. */
export function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

// ---- flags shared by sweep, status and results ----

/** --profile (or $DENSITY_PROFILE) as a profile; an unknown name or a bad file is a usage error (exit 2). */
export function profileArg(values: ParsedArgs['values']): Profile {
  return asUsage(() => profileFromSpec(values.profile as string | undefined));
}

/**
 * --arch, --widths and --group as a filter. A requested width the profile has no runs at (within --arch and
 * --group) is a usage error that lists the widths it has, rather than silently selecting nothing or fewer runs.
 */
export function runFilterArg(profile: Profile, values: ParsedArgs['values']): ProfileFilter {
  const arch = values.arch as ArchName[] | undefined;
  const groups = values.group as string[] | undefined;
  const filter: ProfileFilter = { arch, widths: values.widths as number[] | undefined, groups };
  if (filter.widths) {
    const have = [...new Set(expandProfileRuns(profile, { ...filter, widths: undefined }).map((r) => r.descriptor.width))].sort((a, b) => a - b);
    const absent = filter.widths.filter((w) => !have.includes(w));
    if (absent.length) {
      const within = [arch && `--arch ${arch.join(',')}`, groups && `--group ${groups.join(',')}`].filter(Boolean).join(' ');
      throw new UsageError(
        `--widths: profile ${profile.name}${within ? ` (${within})` : ''} has no runs at width ${absent.join(', ')}; ` +
          `its widths are ${have.join(', ') || 'none'}`,
      );
    }
  }
  return filter;
}

export const PROFILE_FLAG: FlagSpec = {
  name: 'profile',
  type: 'string',
  placeholder: '<smoke|cpu|paper|file.json>',
  help: 'which runs: a built-in profile or a profile JSON file\n(default: $DENSITY_PROFILE)',
};
export const ARCH_FLAG: FlagSpec = {
  name: 'arch',
  type: 'list',
  placeholder: '<mlp,conv2,resnet>',
  choices: [...ARCH_NAMES],
  help: 'only these architectures',
};
export const WIDTHS_FLAG: FlagSpec = { name: 'widths', type: 'numberList', placeholder: '<0.1,1>', help: 'only these width multipliers' };
export const GROUP_FLAG: FlagSpec = { name: 'group', type: 'list', placeholder: '<label,...>', help: 'only these groups of the profile (e.g. conv2-adagrad)' };

export const ENV_NOTES = [
  'Environment:',
  '  DENSITY_OUTPUTS   where outputs/ lives (runs in $DENSITY_OUTPUTS/runs/<hash>/)',
  '  DENSITY_PROFILE   default for --profile',
  '  DENSITY_BACKEND   force a tfjs backend (tensorflow, wasm, cpu)',
];
