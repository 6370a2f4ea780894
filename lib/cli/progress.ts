// The sweep's progress display on stderr: one line refreshed in place on a terminal, one line per finished
// run otherwise (logs, CI), and the closing summary.
import type { SweepEvent, SweepSummary } from '../experiments/sweep';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m - h * 60).padStart(2, '0')}m`;
}

interface Current {
  hash: string;
  label: string;
  stage: string;
  epochs?: number;
}

export interface ProgressOptions {
  write: (s: string) => void;
  tty: boolean;
  /** Terminal width (TTY mode truncates the line to it). */
  columns?: number;
  now?: () => number;
}

/** Consumes sweep events; ETA = (runs still to compute) x (mean wall time of runs computed so far) / jobs. */
export class Progress {
  private total = 0;
  private pending = 0;
  private jobs = 1;
  private settled = 0;
  private computedSeconds: number[] = [];
  private readonly current = new Map<number, Current>();
  private lastDraw = 0;
  private drawn = false;
  constructor(private readonly opts: ProgressOptions) {}

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  eta(): number | null {
    if (this.computedSeconds.length === 0) return null;
    const mean = this.computedSeconds.reduce((a, b) => a + b, 0) / this.computedSeconds.length;
    const left = Math.max(0, this.pending - this.computedSeconds.length);
    return (left * mean) / this.jobs;
  }

  private counter(): string {
    return `[${this.settled}/${this.total}]`;
  }

  private etaText(): string {
    const e = this.eta();
    return e === null ? 'ETA ?' : `ETA ${formatDuration(e)}`;
  }

  handle(e: SweepEvent): void {
    switch (e.type) {
      case 'start':
        this.total = e.total;
        this.pending = e.pending;
        this.jobs = e.jobs;
        this.settled = e.total - e.pending;
        this.line(`sweep: ${e.total} runs, ${e.total - e.pending} already done, ${e.pending} to compute${e.jobs > 1 ? ` with ${e.jobs} jobs` : ''}`);
        break;
      case 'backend':
        this.line(`backend: ${e.description}`);
        break;
      case 'run-start':
        this.current.set(e.worker, { hash: e.hash, label: e.label, stage: 'start' });
        this.redraw(true);
        break;
      case 'stage': {
        const c = this.current.get(e.worker);
        if (c) {
          c.stage = e.stage;
          c.epochs = undefined;
        }
        if (!this.opts.tty) this.line(`${this.counter()} ${e.hash.slice(0, 8)} ${e.label}: ${e.stage}`);
        this.redraw(true);
        break;
      }
      case 'train-progress': {
        const c = this.current.get(e.worker);
        if (c) c.epochs = e.epochs;
        this.redraw(false);
        break;
      }
      case 'deferred':
        this.current.forEach((c, k) => c.hash === e.hash && this.current.delete(k));
        this.line(
          `${this.counter()} ${e.hash.slice(0, 8)} ${e.label}: locked by ${e.holder ? `pid ${e.holder.pid} on ${e.holder.hostname}` : 'another process'}; will look again at the end`,
        );
        break;
      case 'run-end': {
        this.current.delete(e.worker);
        const o = e.outcome;
        if (o.kind === 'completed') this.computedSeconds.push(e.seconds);
        if (o.kind !== 'interrupted') this.settled++;
        const what =
          o.kind === 'completed'
            ? o.status === 'diverged'
              ? 'DIVERGED (recorded)'
              : `done (${o.stagesRun.join('+') || 'assembled'})`
            : o.kind === 'existing'
              ? 'already done'
              : o.kind === 'interrupted'
                ? `stopped after ${o.stagesRun.join('+') || 'no stage'}`
                : o.kind === 'failed'
                  ? `FAILED in ${o.stage}: ${o.error.message}`
                  : o.kind;
        this.line(`${this.counter()} ${e.hash.slice(0, 8)} ${e.label}: ${what} in ${formatDuration(e.seconds)}; ${this.etaText()}`);
        break;
      }
    }
  }

  /** Print a permanent line (clearing the live line first on a TTY). */
  line(text: string): void {
    if (this.opts.tty && this.drawn) this.opts.write('\r\x1b[K');
    this.opts.write(text + '\n');
    this.drawn = false;
    this.redraw(true);
  }

  private redraw(force: boolean): void {
    if (!this.opts.tty || this.current.size === 0) return;
    const t = this.now();
    if (!force && t - this.lastDraw < 250) return; // training reports often; the terminal needs no more
    this.lastDraw = t;
    const parts = [...this.current.values()].map(
      (c) => `${c.hash.slice(0, 8)} ${c.label} ${c.stage}${c.epochs !== undefined ? ` ${c.epochs.toFixed(1)}ep` : ''}`,
    );
    let text = `${this.counter()} ${parts.join(' | ')} | ${this.etaText()}`;
    const cols = this.opts.columns ?? 120;
    if (text.length > cols - 1) text = text.slice(0, cols - 2) + '…';
    this.opts.write('\r\x1b[K' + text);
    this.drawn = true;
  }

  /** Clear the live line (before the summary). */
  finish(): void {
    if (this.opts.tty && this.drawn) this.opts.write('\r\x1b[K');
    this.drawn = false;
  }
}

export function formatSummary(s: SweepSummary): string {
  const lines = [
    `sweep ${s.interrupted || s.fatal ? 'STOPPED' : 'finished'} in ${formatDuration(s.wallSeconds)}: ${s.total} runs: ${s.done} done, ${s.skippedExisting} skipped (already done), ` +
      `${s.diverged} diverged, ${s.failed.length} failed, ${s.runningElsewhere.length} running elsewhere, ${s.notStarted} not finished`,
  ];
  for (const f of s.failed) lines.push(`  failed: ${f.hash} ${f.label} (${f.stage}): ${f.message}`);
  for (const r of s.runningElsewhere)
    lines.push(`  running elsewhere: ${r.hash} ${r.label}${r.holder ? ` (pid ${r.holder.pid} on ${r.holder.hostname} since ${r.holder.startedAt})` : ''}`);
  if (s.fatal) lines.push(`  stopped: ${s.fatal}`, '  (fix that and run the same command: finished runs are kept)');
  if (s.interrupted) lines.push('  (finished stages are kept: run the same command to resume)');
  return lines.join('\n') + '\n';
}
