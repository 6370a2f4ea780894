// One lock per run directory, so two sweeps (or N --jobs children) never train the same run.
// O_EXCL create is atomic on local filesystems; the file records who holds it so a lock left by a
// killed process can be recognised (its pid is dead) and broken, while a live holder is respected.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { LOCK_FILE } from '../paths';

export { LOCK_FILE };

export interface LockInfo {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  /** Kernel start time of the holder (Linux /proc, clock ticks since boot): tells a recycled pid from the holder. */
  pidStart?: number;
  /** Free text: what the holder is doing (e.g. the sweep's profile). */
  purpose?: string;
}

export interface Lock {
  file: string;
  info: LockInfo;
  release(): void;
}

// Narrow with `a.acquired === false`, not `!a.acquired` (tslab compiles without strictNullChecks; see JsonRead).
export type LockAttempt = { acquired: true; lock: Lock } | { acquired: false; holder: LockInfo | null; file: string };

/** Start time of a process from /proc/<pid>/stat (field 22), or undefined where /proc is unavailable. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[19]); // field 22 overall = index 19 after pid, comm (and state at index 0)
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Linux process state letter (R, S, D, Z, ...) from /proc, or undefined where /proc is unavailable. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Is the holder of this lock still running? Locks from another host cannot be checked, so count as live. */
export function holderAlive(info: LockInfo): boolean {
  if (info.hostname !== os.hostname()) return true;
  if (!pidAlive(info.pid)) return false;
  // A killed process whose parent died too can stay a zombie for good (a container's pid 1 may never reap
  // it); kill(pid, 0) still succeeds on a zombie, but it holds nothing.
  const state = processState(info.pid);
  if (state === 'Z' || state === 'X') return false;
  if (info.pidStart !== undefined) {
    const now = processStartTicks(info.pid);
    if (now !== undefined && now !== info.pidStart) return false; // pid recycled by an unrelated process
  }
  return true;
}

export function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.hostname === 'string' && typeof v.startedAt === 'string') return v as LockInfo;
  } catch {
    // missing, or caught between create and write: the caller treats null as "unknown holder"
  }
  return null;
}

function tryCreate(file: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, JSON.stringify(info) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Locks this process holds, released on exit so an orderly exit (including after Ctrl-C) leaves none behind. */
const held = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const f of held) releaseFile(f);
  });
}

function releaseFile(file: string): void {
  // Only remove the lock if it is still ours (it could have been broken as stale and re-taken by another).
  const cur = readLock(file);
  if (cur && cur.pid === process.pid && cur.hostname === os.hostname()) fs.rmSync(file, { force: true });
  held.delete(file);
}

/**
 * Break a stale lock safely. Two processes may both find the same dead holder; a short-lived guard file
 * (itself O_EXCL) makes "re-check then unlink" a critical section, so neither can unlink a lock the
 * other has just taken.
 */
function breakIfStale(file: string, seen: LockInfo | null): boolean {
  const guard = `${file}.break`;
  try {
    const st = fs.statSync(guard);
    // A guard older than a minute belongs to a process that died inside these few lines.
    if (Date.now() - st.mtimeMs > 60_000) fs.rmSync(guard, { force: true });
  } catch {
    // no guard: the usual case
  }
  if (!tryCreate(guard, { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString() })) return false;
  try {
    const cur = readLock(file);
    if (cur === null) {
      // Unreadable holder: only break if it is the same unreadable file we saw (empty lock of a killed creator).
      if (seen !== null) return false;
      try {
        const st = fs.statSync(file);
        if (Date.now() - st.mtimeMs < 10_000) return false; // a creator may still be writing its info
      } catch {
        return true; // already gone
      }
      fs.rmSync(file, { force: true });
      return true;
    }
    if (holderAlive(cur)) return false;
    fs.rmSync(file, { force: true });
    return true;
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

/** Try once to lock `dir` (created if needed). A stale lock (dead holder on this host) is broken and taken. */
export function tryLock(dir: string, purpose?: string): LockAttempt {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), pidStart: processStartTicks(process.pid), purpose };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(file, info)) {
      held.add(file);
      installExitHook();
      return { acquired: true, lock: { file, info, release: () => releaseFile(file) } };
    }
    const holder = readLock(file);
    if (holder && holder.pid === process.pid && holder.hostname === os.hostname() && held.has(file)) {
      // Locks are not re-entrant: a second acquisition by the same process is a bug in the caller.
      throw new Error(`tryLock: ${dir} is already locked by this process`);
    }
    if (holder && holderAlive(holder)) return { acquired: false, holder, file };
    if (!breakIfStale(file, holder)) return { acquired: false, holder, file };
  }
  return { acquired: false, holder: readLock(file), file };
}

/** Who holds the lock on `dir`, if a live process does (stale locks report null). */
export function lockHolder(dir: string): LockInfo | null {
  const info = readLock(path.join(dir, LOCK_FILE));
  return info && holderAlive(info) ? info : null;
}
