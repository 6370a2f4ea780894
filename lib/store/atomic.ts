// Atomic file writes: a reader (another sweep, a notebook, a resumed run) sees the old file or the new one,
// never half of one, even if this process is SIGKILLed or the machine loses power mid-write.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** A temp name beside `target` (same directory => same filesystem => rename is atomic), unique per writer. */
export function tempPathFor(target: string): string {
  return `${target}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
}

/** fsync a directory so a rename inside it survives a crash (best effort: not every platform allows it). */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic, only less durable.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Write `data` to `file` atomically: temp file in the same dir, fsync, rename, fsync the dir. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(file);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

/** JSON.stringify + writeFileAtomic; a trailing newline keeps the files friendly to `cat` and diff. */
export function writeJsonAtomic(file: string, value: unknown, indent = 1): void {
  writeFileAtomic(file, JSON.stringify(value, null, indent) + '\n');
}

// Narrow with `r.ok === false`, not `!r.ok`: notebooks compile lib/ through tslab without strictNullChecks,
// where a falsy test does not rule out the `ok: true` member.
export type JsonRead<T> = { ok: true; value: T } | { ok: false; reason: 'missing' | 'corrupt'; error?: string };

/** Read and parse a JSON file, distinguishing "not there" from "there but unparseable" (a corrupt result). */
export function readJson<T = unknown>(file: string): JsonRead<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'missing' };
    return { ok: false, reason: 'corrupt', error: (err as Error).message };
  }
  try {
    return { ok: true, value: JSON.parse(text) as T };
  } catch (err) {
    return { ok: false, reason: 'corrupt', error: (err as Error).message };
  }
}

/**
 * Replace directory `target` by `staged` as atomically as the filesystem allows: the old one is moved aside
 * first and deleted after, so at every instant `target` is either absent, the old tree or the new tree.
 */
export function replaceDirAtomic(staged: string, target: string): void {
  const aside = `${target}.old-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  let moved = false;
  if (fs.existsSync(target)) {
    fs.renameSync(target, aside);
    moved = true;
  }
  fs.renameSync(staged, target);
  fsyncDir(path.dirname(target));
  if (moved) fs.rmSync(aside, { recursive: true, force: true });
}

/** Remove temp files and half-replaced directories left by a killed writer (names from tempPathFor / replaceDirAtomic). */
export function cleanTempFiles(dir: string): string[] {
  const removed: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return removed;
  }
  for (const e of entries) {
    if (/\.(tmp|old)-\d+-[0-9a-f]{8}$/.test(e.name)) {
      fs.rmSync(path.join(dir, e.name), { recursive: true, force: true });
      removed.push(e.name);
    } else if (e.isDirectory()) {
      for (const r of cleanTempFiles(path.join(dir, e.name))) removed.push(path.join(e.name, r));
    }
  }
  return removed;
}
