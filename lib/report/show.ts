// Showing figures and verdicts in a notebook, never an empty plot: a figure without data becomes a note
// saying why (an empty Plotly div reads as a broken page).
import { escapeHtml, showFigure, showHtml, showNote, type Figure } from '../plots/display';

/** True when some trace has at least one finite number to draw (y for scatter, bars and boxes; z for heatmaps). */
export function figureHasData(fig: Figure): boolean {
  const finite = (v: unknown): boolean => Array.isArray(v) && v.some((x) => (Array.isArray(x) ? finite(x) : typeof x === 'number' && Number.isFinite(x)));
  return fig.data.some((t) => finite(t.y) || finite(t.z));
}

/** Show the figure, or the note when it has nothing to draw. */
export function show(fig: Figure, whenEmpty: string): void {
  if (figureHasData(fig)) showFigure(fig);
  else showNote(whenEmpty, 'info');
}

/** HTML of a computed verdict line (what the data says, in words computed from the numbers). */
export function verdictHtml(lines: readonly string[]): string {
  return `<div class="density-verdict" style="border-left:4px solid #2e7d32;background:#f1f8f1;padding:6px 12px;margin:6px 0">${lines.map((l) => escapeHtml(l)).join('<br>')}</div>`;
}

export function showVerdict(lines: string | readonly string[]): void {
  showHtml(verdictHtml(typeof lines === 'string' ? [lines] : lines));
}

export { showNote };
