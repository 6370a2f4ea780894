// The one module that knows where every artefact lives (open_lth's habit): everything else asks here,
// so tests and users can redirect outputs and the dataset cache with an environment variable.
import * as path from 'path';

/** The project root: the folder holding package.json (lib/ sits directly under it). */
export const projectRoot: string = path.resolve(__dirname, '..');

/** Root of all computed results. Env `DENSITY_OUTPUTS` overrides (tests point it at a scratch folder). */
export function outputsDir(): string {
  return path.resolve(process.env.DENSITY_OUTPUTS ?? path.join(projectRoot, 'outputs'));
}

/** Dataset cache (extracted archives). Env `DENSITY_DATA` overrides. */
export function dataDir(): string {
  return path.resolve(process.env.DENSITY_DATA ?? path.join(projectRoot, 'data'));
}

export function runsDir(): string {
  return path.join(outputsDir(), 'runs');
}

export function runDir(hash: string): string {
  return path.join(runsDir(), hash);
}

export function splitsDir(): string {
  return path.join(outputsDir(), 'splits');
}

export function htmlDir(): string {
  return path.join(outputsDir(), 'html');
}

/** The shared folder beside the checkout (read-only copies of the paper and datasets on project machines). */
export function sharedDir(): string {
  return path.resolve(process.env.DENSITY_SHARED ?? path.join(projectRoot, '..', 'shared'));
}
