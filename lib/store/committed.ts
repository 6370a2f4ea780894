// What git tracks under a folder: what every clone has. Tests of the committed records and README's generated
// blocks read only these, so records a sweep is adding beside them are not mistaken for the committed results.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { projectRoot } from '../paths';

/** Paths relative to `dir` (itself relative to the project root) of its committed files, sorted. Outside a git checkout (an exported tarball): every file there. */
export function committedFiles(dir: string): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--', dir], { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out
      .split('\0')
      .filter(Boolean)
      .map((p) => path.relative(dir, p))
      .sort();
  } catch {
    const walk = (rel: string): string[] =>
      fs
        .readdirSync(path.join(projectRoot, dir, rel), { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? walk(path.join(rel, e.name)) : [path.join(rel, e.name)]));
    return walk('').sort();
  }
}

/**
 * A scratch outputs folder holding the committed run records of the project's outputs/ (their JSON files; weights
 * are not committed): point DENSITY_OUTPUTS at it to read exactly what a fresh clone reads. The caller removes it.
 */
export function committedOutputsCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'density-committed-'));
  for (const f of committedFiles(path.join('outputs', 'runs')).filter((f) => f.endsWith('.json') || f.endsWith('.jsonl'))) {
    fs.mkdirSync(path.join(dir, 'runs', path.dirname(f)), { recursive: true });
    fs.copyFileSync(path.join(projectRoot, 'outputs', 'runs', f), path.join(dir, 'runs', f));
  }
  return dir;
}
