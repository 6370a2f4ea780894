// Small filesystem helpers for lib/data: streamed sha256 and a persistent sha256 cache. Atomic writes come from
// lib/store/atomic.ts, the project's one implementation (re-exported for lib/data's callers).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { tempPathFor, writeFileAtomic } from '../store/atomic';

export { tempPathFor, writeFileAtomic };

/** sha256 of a file, streamed (the CIFAR archive is 173 MB; no need to hold it in memory). */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const CACHE_FILE = 'sha256-cache.json';

/** Cache key: a file whose path, size and mtime are unchanged is taken to have unchanged bytes. */
function cacheKey(file: string, st: fs.Stats): string {
  return `${path.resolve(file)}|${st.size}|${st.mtimeMs}`;
}

function readCache(cacheDir: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(path.join(cacheDir, CACHE_FILE), 'utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) out[k] = v;
      return out;
    }
  } catch {
    // Missing or unreadable cache: it is only a cache, so start empty (the hash is recomputed).
  }
  return {};
}

/**
 * Remember `sha` for `file` in `<cacheDir>/sha256-cache.json`. Pass `st`, the stat taken BEFORE hashing, so a
 * file modified while it was being hashed is keyed by its old mtime and the stale hash is never matched.
 */
export function rememberSha256(cacheDir: string, file: string, sha: string, st: fs.Stats): void {
  const cache = readCache(cacheDir);
  cache[cacheKey(file, st)] = sha;
  try {
    writeFileAtomic(path.join(cacheDir, CACHE_FILE), JSON.stringify(cache, null, 1) + '\n');
  } catch {
    // A read-only data dir only costs a re-hash next time; not worth failing a load for.
  }
}

/** sha256 of `file`, taken from the cache when path, size and mtime match, else computed and cached. */
export async function cachedSha256(cacheDir: string, file: string): Promise<string> {
  const st = fs.statSync(file);
  const hit = readCache(cacheDir)[cacheKey(file, st)];
  if (hit) return hit;
  const sha = await sha256OfFile(file);
  rememberSha256(cacheDir, file, sha, st);
  return sha;
}
