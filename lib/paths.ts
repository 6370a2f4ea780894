// The one module that knows where every artefact lives and what every file is called (open_lth's habit):
// everything else asks here, so tests and users can redirect outputs and the dataset cache with an environment
// variable, and a file name is changed in one place.
import * as fs from 'fs';
import * as path from 'path';

/** The project root: the folder holding package.json (lib/ sits directly under it). */
export const projectRoot: string = path.resolve(__dirname, '..');

/**
 * A folder named by an environment variable, which must be absolute: npm runs every command from the project root,
 * so a relative value would silently mean a folder under the project, not one where the user typed it.
 */
function envFolder(name: 'DENSITY_OUTPUTS' | 'DENSITY_DATA', fallback: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!path.isAbsolute(v)) throw new Error(`${name}=${v} is a relative path; set an absolute one (e.g. ${name}=$PWD/${v})`);
  return path.resolve(v);
}

/** Root of all computed results. Env `DENSITY_OUTPUTS` overrides (tests point it at a scratch folder). */
export function outputsDir(): string {
  return envFolder('DENSITY_OUTPUTS', path.join(projectRoot, 'outputs'));
}

/** Dataset cache (extracted archives). Env `DENSITY_DATA` overrides. */
export function dataDir(): string {
  return envFolder('DENSITY_DATA', path.join(projectRoot, 'data'));
}

/** How the outputs folder is named in messages: the path, and the variable when it came from one. */
function outputsName(dir: string): string {
  return process.env.DENSITY_OUTPUTS ? `outputs folder ${dir} (DENSITY_OUTPUTS)` : `outputs folder ${dir}`;
}

const FS_PROBLEMS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EDQUOT: 'disk quota exceeded',
};

/**
 * Check the outputs folder before a command relies on it, so a wrong one is one sentence naming the path and the
 * problem, not a failure per run further down. `read`: a folder, or not there yet (nothing computed). `write`:
 * also creatable and writable (`sub`, e.g. 'runs' or 'html', must be a folder or creatable). Returns the folder.
 */
export function checkOutputsDir(mode: 'read' | 'write', sub?: string): string {
  const dir = outputsDir();
  const isFile = (p: string) => fs.existsSync(p) && !fs.statSync(p).isDirectory();
  if (isFile(dir)) {
    throw new Error(
      process.env.DENSITY_OUTPUTS
        ? `DENSITY_OUTPUTS=${dir} is a file, not a folder; point it at a folder (one that does not exist yet is created)`
        : `${dir} is a file, not the outputs folder`,
    );
  }
  const target = sub ? path.join(dir, sub) : dir;
  if (sub && isFile(target)) throw new Error(`${target} is a file; the ${outputsName(dir)} needs a folder there`);
  if (mode === 'read') return dir;
  // Real writes, first where the folder would be created (mkdir -p on a read-only mount says ENOENT, not EROFS),
  // then in it: access(W_OK) says yes to root on a read-only mount.
  const probe = (d: string) => {
    const f = path.join(d, `.write-test-${process.pid}`);
    fs.writeFileSync(f, '');
    fs.unlinkSync(f);
  };
  let existing = target;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    probe(existing);
    fs.mkdirSync(target, { recursive: true });
    probe(target);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = (e.code && FS_PROBLEMS[e.code]) ?? e.message;
    throw new Error(`${outputsName(dir)} is not writable: ${why} (${e.code ?? 'error'} on ${e.path ?? target})`);
  }
  return dir;
}

/** Sub-folders of the outputs folder. */
export const RUNS_DIR = 'runs';
export const SPLITS_DIR = 'splits';
export const HTML_DIR = 'html';

export function runsDir(): string {
  return path.join(outputsDir(), RUNS_DIR);
}

export function runDir(hash: string): string {
  return path.join(runsDir(), hash);
}

export function splitsDir(): string {
  return path.join(outputsDir(), SPLITS_DIR);
}

export function htmlDir(): string {
  return path.join(outputsDir(), HTML_DIR);
}

/** The shared folder beside the checkout (read-only copies of the paper and datasets on project machines). */
export function sharedDir(): string {
  return path.resolve(process.env.DENSITY_SHARED ?? path.join(projectRoot, '..', 'shared'));
}

// ---- names inside a run directory, outputs/runs/<hash>/ (ARCHITECTURE.md, lib/store and lib/experiments) ----

/** The descriptor the run was computed from. */
export const DESCRIPTOR_FILE = 'descriptor.json';
/** One atomic record per stage. */
export const STAGE_FILE = { train: 'train.json', prune: 'prune.json', analysis: 'analysis.json' } as const;
/** The assembly of the stage records: the run's result. */
export const RUN_FILE = 'run.json';
/** Append-only log of stage starts, ends and redos. */
export const EVENTS_FILE = 'events.jsonl';
/** weights/init and weights/trained (git-ignored). */
export const WEIGHTS_DIR = 'weights';
/** A bestValidationLoss training's epoch checkpoint while it is unfinished (git-ignored). */
export const TRAIN_CHECKPOINT_FILE = 'train-checkpoint.bin';
/** Held while a process works on the run (lib/store/lock.ts). */
export const LOCK_FILE = '.lock';
/** Inside a weights folder: the tfjs layers-format topology and manifest, and the weight values. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** A run's weights folder at initialisation or after training. */
export function weightsDir(runDirectory: string, which: 'init' | 'trained'): string {
  return path.join(runDirectory, WEIGHTS_DIR, which);
}

/** The analysis record at analysis settings with key `key` ('' = the defaults: analysis.json; else analysis-<key>.json). */
export function analysisFileName(key: string): string {
  return key ? `analysis-${key}.json` : STAGE_FILE.analysis;
}

/** The run record at analysis settings with key `key` ('' = the defaults: run.json; else run-<key>.json). */
export function runFileName(key: string): string {
  return key ? `run-${key}.json` : RUN_FILE;
}

/** Whether `name` is a run record (run.json or run-<key>.json). */
export function isRunFileName(name: string): boolean {
  return name === RUN_FILE || /^run-[0-9a-f]{12}\.json$/.test(name);
}

/** Whether `name` is a record computed from the trained weights: analysis and run records at any settings. */
export function isAnalysisOrRunFileName(name: string): boolean {
  return /^(analysis|run)(-[0-9a-f]{12})?\.json$/.test(name);
}

// ---- entry points forked by other processes ----

/** The sweep CLI, which also runs as a sweep worker (`--worker`) for the supervisor and the queue's workers. */
export const SWEEP_CLI: string = path.join(projectRoot, 'lib', 'cli', 'sweep.ts');
