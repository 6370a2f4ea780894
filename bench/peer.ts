// The PyTorch peer of `npm run bench -- --peer`: runs bench/peer.py for one case in a child process (same process
// tree, right after our own measurement of that case, so both see the same machine load) and parses its line.
import { execFile } from 'child_process';
import * as path from 'path';

/** Debian's interpreter, where `python3-torch` installs; DENSITY_PEER_PYTHON overrides it. */
export const PEER_PYTHON = process.env.DENSITY_PEER_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'peer.py');
export const PEER_INSTALL_HINT =
  'PyTorch peer unavailable: install it with `apt-get install python3-torch libopenblas0-pthread` (Debian), then rerun with --peer';

export interface PeerLine {
  case: string;
  value: number;
  unit: string;
  values: number[];
  work: string;
  torch: string;
  threads: number;
  blas: string;
}

/** Cases the peer script implements: training and the (fast-path) trajectories; not the generic path or memory. */
export function hasPeer(caseName: string): boolean {
  return /^(train|trajectory)\/(mlp|conv2|resnet)\/[0-9.]+$/.test(caseName);
}

/** Our figure over PyTorch's, oriented so that above 1 always means we are faster. */
export function speedRatio(ours: number, peer: number, unit: string): number {
  return unit === 's' ? peer / ours : ours / peer;
}

/**
 * PyTorch's figure for `caseName`, or `{ unavailable }` with the reason (no interpreter, no torch, a failed run):
 * the bench carries on without it.
 */
export function runPeer(caseName: string, repeats: number, seconds: number, threads = 1): Promise<PeerLine | { unavailable: string }> {
  const args = [SCRIPT, caseName, '--repeats', String(repeats), '--seconds', String(seconds), '--threads', String(threads)];
  return new Promise((resolve) => {
    execFile(PEER_PYTHON, args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let parsed: (Partial<PeerLine> & { error?: string }) | undefined;
      try {
        parsed = JSON.parse(last) as Partial<PeerLine> & { error?: string };
      } catch {
        parsed = undefined;
      }
      if (parsed?.error) return resolve({ unavailable: parsed.error.includes('not installed') ? PEER_INSTALL_HINT : parsed.error });
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve({ unavailable: `${PEER_PYTHON} not found. ${PEER_INSTALL_HINT}` });
      if (err || !parsed || typeof parsed.value !== 'number') {
        const why = (stderr.trim().split('\n').pop() ?? '') || (err ? err.message : `unexpected output '${last}'`);
        return resolve({ unavailable: `bench/peer.py ${caseName} failed: ${why}` });
      }
      resolve(parsed as PeerLine);
    });
  });
}
