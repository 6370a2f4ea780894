// What queue --follow and collect print: a line per collected or failed run, and the closing summary.
import { formatDuration } from './progress';
import type { CollectorEvent, CollectorSummary } from '../queue/collector';

export function collectorLogger(total: number | null, write: (s: string) => void = (s) => process.stderr.write(s)): (e: CollectorEvent) => void {
  let settled = 0;
  let lastError = '';
  const count = () => (total === null ? `[${settled}]` : `[${settled}/${total}]`);
  return (e) => {
    switch (e.type) {
      case 'enqueued':
      case 'already-queued':
        return; // counted in the summary; one line per run would drown a 1,700-run profile
      case 'held-elsewhere':
        write(
          `${e.run.hash.slice(0, 8)} ${e.run.label}: held by ${e.holder ? `pid ${e.holder.pid} on ${e.holder.hostname} (${e.holder.purpose ?? 'unknown purpose'})` : 'another process'}; not queued while it works on it\n`,
        );
        break;
      case 'collected': {
        settled++;
        const w = e.result.worker;
        write(
          `${count()} ${e.run.hash.slice(0, 8)} ${e.run.label}: collected from ${w.hostname} (${e.result.stagesRun.join('+') || 'no stage computed'}` +
            `${e.seconds !== null ? ` in ${formatDuration(e.seconds)}` : ''})\n`,
        );
        break;
      }
      case 'done-elsewhere':
        settled++;
        write(`${count()} ${e.run.hash.slice(0, 8)} ${e.run.label}: finished by another process\n`);
        break;
      case 'failed':
        settled++;
        write(`${count()} ${e.run.hash.slice(0, 8)} ${e.run.label}: FAILED after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}: ${e.reason}\n`);
        break;
      case 'bad-result':
        write(`${e.run.hash.slice(0, 8)} ${e.run.label}: records rejected, run queued again: ${e.problem}\n`);
        break;
      case 'queue-error':
        if (e.message !== lastError) write(`queue: ${e.message} (trying again)\n`);
        lastError = e.message;
        return;
    }
    lastError = '';
  };
}

/** Print the summary; the exit code (0 all settled without failures, 1 failures or runs still open, 130 stopped). */
export function finishCollector(s: CollectorSummary, follow: boolean, write: (s: string) => void = (x) => process.stderr.write(x)): number {
  write(
    `${s.total} runs: ${s.existing} already done, ${s.enqueued} queued now, ${s.collected} collected, ${s.doneElsewhere} finished elsewhere, ` +
      `${s.failed.length} failed, ${s.open} ${follow ? 'still open' : 'in the queue'}\n`,
  );
  for (const f of s.failed) write(`  failed: ${f.hash} ${f.label}: ${f.reason}\n`);
  if (s.interrupted) return 130;
  if (s.failed.length > 0) return 1;
  return follow && s.open > 0 ? 1 : 0;
}
