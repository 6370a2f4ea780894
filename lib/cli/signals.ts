// How a supervised sweep (npm run sweep, npm start) answers being asked to stop: Ctrl-C, SIGTERM, or the
// process that started it going away. One home, so the commands (and queue workers) cannot drift apart.
import type { Supervisor } from '../experiments/sweep';
import type { Progress } from './progress';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * First SIGINT or SIGTERM: workers finish their current stage, the sweep ends with `interrupted` (exit 130).
 * The same signal again a second or more later: kill the workers and exit 130 at once. A repeat within a
 * second is the same request arriving twice (a terminal signals the whole process group and the tsx wrapper
 * relays it once more), not a second press.
 * If the parent process dies (npm or the tsx wrapper killed), this process is re-parented; it then stops the
 * same way instead of running on in the background. Returns a function that removes the handlers.
 */
export function stopOnSignals(
  sup: Pick<Supervisor, 'requestStop' | 'kill'>,
  progress: Pick<Progress, 'line' | 'finish'>,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): () => void {
  let first: number | null = null;
  const stop = (why: string) => {
    const now = Date.now();
    if (first === null) {
      first = now;
      progress.line(`${why}: stopping after the current stage (press Ctrl-C again to stop now)`);
      sup.requestStop();
    } else if (now - first >= 1000 && why !== 'parent process gone') {
      progress.finish();
      write(`${why} again: stopping now; finished stages are kept`);
      sup.kill();
      process.exit(130);
    }
  };
  const handlers = SIGNALS.map((sig) => [sig, () => stop(sig === 'SIGINT' ? 'Ctrl-C' : sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  const parent = process.ppid;
  // Polled: Node has no event for "my parent died". Unref'd so it never keeps the process alive.
  const watch = setInterval(() => {
    if (process.ppid !== parent) stop('parent process gone');
  }, 1000);
  watch.unref();
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
    clearInterval(watch);
  };
}
