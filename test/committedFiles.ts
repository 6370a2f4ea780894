// The files of a folder that git tracks (what every clone has), so tests of committed records ignore what a
// local sweep added beside them. Outside a git checkout (an exported tarball): every file there.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../lib/paths';

/** Paths relative to `dir` (itself relative to the project root) of its committed files, sorted. */
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
