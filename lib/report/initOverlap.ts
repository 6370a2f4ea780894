// Notebook 06 (the paper's Sec 5.1, Tables 3 and 4): how many of the weights in the smallest 40% at
// initialisation are also in the smallest 40% after training, per layer and width, against chance (16%).
import type { Figure } from '../plots/display';
import { heatmapFigure } from '../plots/figures';
import { byWidth, meanSd, widthLabel, withLeftOut, type MeanSd, type Regime } from './aggregate';
import { chanceOverlap, paperOverlapTable } from '../protocol';
import { sourceLine, type Study } from './study';
import type { TableRow } from './tables';

export interface OverlapCell {
  width: number;
  layer: string;
  ours: MeanSd;
  /** The paper's value for this regime, width and layer, or null. */
  paper: number | null;
}

/** Layer names in forward order (as the run's weight counts list them). */
export function layersOf(regime: Regime): string[] {
  const first = regime.runs.find((r) => r.record.overlaps !== null);
  return first ? Object.keys(first.record.weightCounts.perLayer) : [];
}

/** The overlap quantile the runs were analysed with (run.json), or null if they disagree or have none. */
export function overlapQuantileOf(regime: Regime): number | null {
  const qs = new Set(regime.runs.filter((r) => r.record.overlaps !== null).map((r) => r.record.analysis.overlapQuantile));
  return qs.size === 1 ? [...qs][0] : null;
}

/** Mean (sd, n) overlap per width and layer, beside the paper's Table 3/4 value where there is one. */
export function overlapCells(regime: Regime): OverlapCell[] {
  const paper = paperOverlapTable(regime.paper);
  const layers = layersOf(regime);
  return byWidth(regime.runs)
    .flatMap(({ width, runs }) =>
      layers.map((layer) => {
        const vals = runs.map((r) => r.record.overlaps?.[layer]).filter((x): x is number => typeof x === 'number');
        const prow = paper?.rows.find((r) => Math.abs(r.width - width) < 1e-9);
        const li = paper ? paper.layers.indexOf(layer) : -1;
        return { width, layer, ours: meanSd(vals), paper: prow && li >= 0 ? prow.overlap[li] : null };
      }),
    )
    .filter((c) => c.ours.n > 0);
}

/** The caption of the overlap table, with the quantile and chance level the runs were analysed with. */
export function overlapCaption(regime: Regime): string {
  const q = overlapQuantileOf(regime);
  return q === null
    ? `${regime.title}: overlap (% of the layer's weights) of the smallest |w| at init and after training (runs analysed with different quantiles)`
    : `${regime.title}: overlap (% of the layer's weights) of the smallest ${Math.round(100 * q)}% |w| at init and after training; chance ${chanceOverlap(q).toFixed(0)}%`;
}

/** Table 3/4 layout: a row per width, ours and the paper's per layer. */
export function overlapRows(regime: Regime, cells: readonly OverlapCell[]): TableRow[] {
  const layers = layersOf(regime);
  const hasPaper = cells.some((c) => c.paper !== null);
  return withLeftOut(
    regime,
    byWidth(regime.runs)
      .map(({ width }) => {
        const row: TableRow = { width };
        for (const layer of layers) {
          const c = cells.find((x) => x.width === width && x.layer === layer);
          row[`${layer} ours`] = c?.ours.mean ?? null;
          if (hasPaper) row[`${layer} paper`] = c?.paper ?? null;
        }
        return row;
      })
      .filter((r) => layers.some((l) => r[`${l} ours`] !== null)),
  );
}

/** Our overlaps as a heatmap, layers across, widths down. */
export function overlapHeatmap(study: Study, regime: Regime, cells: readonly OverlapCell[]): Figure {
  const layers = layersOf(regime);
  const widths = [...new Set(cells.map((c) => c.width))].sort((a, b) => a - b);
  const z = widths.map((w) => layers.map((l) => cells.find((c) => c.width === w && c.layer === l)?.ours.mean ?? NaN));
  const q = overlapQuantileOf(regime);
  return heatmapFigure(z, layers, widths.map(widthLabel), {
    title: `${regime.title}: overlap of the smallest ${q === null ? '?' : Math.round(100 * q)}% |w| at init and after training (chance ${q === null ? '?' : chanceOverlap(q).toFixed(0)}%)`,
    xTitle: 'layer',
    yTitle: 'width',
    zTitle: '% of weights',
    source: sourceLine(study, regime.runs),
  });
}

/** Above/below chance, ours and the paper's, and how often the two agree on the side. */
export function overlapVerdicts(regime: Regime, cells: readonly OverlapCell[]): string[] {
  const q = overlapQuantileOf(regime);
  if (q === null) return [`${regime.title}: the runs were analysed with different overlap quantiles (or none); no chance level to compare with.`];
  const chance = chanceOverlap(q);
  const out: string[] = [];
  const above = cells.filter((c) => (c.ours.mean as number) > chance);
  out.push(
    `${regime.title}: ${above.length} of ${cells.length} (width, layer) cells are above chance (${chance.toFixed(0)}%); below: ${
      cells
        .filter((c) => (c.ours.mean as number) < chance)
        .map((c) => `${widthLabel(c.width)} ${c.layer}`)
        .join(', ') || 'none'
    }.`,
  );
  const both = cells.filter((c) => c.paper !== null);
  if (both.length) {
    const agree = both.filter((c) => (c.ours.mean as number) > chance === (c.paper as number) > chance).length;
    const paperAbove = both.filter((c) => (c.paper as number) > chance).length;
    out.push(
      `Paper: ${paperAbove} of those ${both.length} cells above chance; ours and the paper's fall on the same side of chance in ${agree} of ${both.length}.`,
    );
  } else {
    out.push('The paper has no overlap table for this regime (Table 3 is the MLP, Table 4 Conv-2 with Adam).');
  }
  return out;
}
