// Notebook 02 (the paper's Sec 4.1, Fig 5): pruning trajectories per width, the distribution of effective
// densities, and the absolute core size against the architecture size.
import { effectiveDensityDetail } from '../analysis/effectiveDensity';
import type { Figure } from '../plots/display';
import { colourFor, curvesFigure, lineBandFigure, scatterFigure, type CurveTrace, type PointGroup } from '../plots/figures';
import type { AnalysisSettings } from '../store/descriptor';
import { bandSeries, byWidth, effectiveDensityKde, leftOutText, meanSd, trajectoryBands, widthLabel, withLeftOut, type Regime } from './aggregate';
import { PAPER_TEXT } from '../protocol';
import { sourceLine, type Study, type StudyRun } from './study';
import type { TableRow } from './tables';

/** Validation accuracy against density, mean and +-1 sd over the runs of each width (Fig 5, left). */
export function trajectoryFigure(study: Study, regime: Regime): Figure {
  const bands = trajectoryBands(regime.runs.map((r) => ({ width: r.row.width, trajectory: r.record.trajectory })));
  return lineBandFigure(bandSeries(bands), {
    title: `${regime.title}: validation accuracy while pruning (mean, band +-1 sd over seeds)`,
    xTitle: 'density (% of prunable weights remaining)',
    yTitle: 'validation accuracy (%)',
    xReversed: true,
    source: sourceLine(study, regime.runs),
  });
}

/** KDE of effective densities per width (Fig 5, middle), with each run as a tick on the axis. */
export function effectiveDensityKdeFigure(study: Study, regime: Regime): Figure {
  const traces: CurveTrace[] = [];
  const fixed: string[] = [];
  for (const { width, runs } of byWidth(regime.runs)) {
    const eds = runs.map((r) => r.row.effectiveDensity).filter((x): x is number => x !== null);
    if (eds.length === 0) continue;
    const curve = effectiveDensityKde(eds);
    if (curve.rule === 'fixed') fixed.push(widthLabel(width));
    const name = `${widthLabel(width)} (n=${eds.length})`;
    traces.push({ name, group: name, colour: colourFor(width), x: curve.x, y: curve.y });
    traces.push({
      name: `${name} runs`,
      group: name,
      showLegend: false,
      colour: colourFor(width),
      mode: 'markers',
      symbol: 'line-ns-open',
      size: 14,
      x: eds,
      y: eds.map(() => 0),
    });
  }
  const note = fixed.length ? ` (${fixed.join(', ')}: fewer than 2 distinct values, kernel sd fixed at 2 points)` : '';
  return curvesFigure(traces, {
    title: `${regime.title}: distribution of effective densities (Gaussian KDE, Scott's rule)${note}`,
    xTitle: 'effective density (%)',
    yTitle: 'density of runs',
    source: sourceLine(study, regime.runs),
  });
}

/** Mean core size of the baseline-width (1x) runs of a regime, or null when there are none with an effective density. */
export function baselineCoreSize(regime: Regime, baselineWidth = 1): number | null {
  const cores = regime.runs.filter((r) => r.row.width === baselineWidth && r.row.coreSize !== null).map((r) => r.row.coreSize as number);
  return cores.length ? cores.reduce((a, b) => a + b, 0) / cores.length : null;
}

/** Core size (weights left at the effective density) against total weights, log-log (Fig 5, right). */
export function coreSizeFigure(study: Study, regime: Regime): Figure {
  const groups: PointGroup[] = byWidth(regime.runs)
    .map(({ width, runs }) => {
      const ok = runs.filter((r) => r.row.coreSize !== null && (r.row.coreSize as number) > 0);
      return {
        name: widthLabel(width),
        colour: colourFor(width),
        x: ok.map((r) => r.row.totalWeights),
        y: ok.map((r) => r.row.coreSize as number),
        text: ok.map((r) => r.record.label),
      };
    })
    .filter((g) => g.x.length > 0);
  const totals = [...new Set(regime.runs.map((r) => r.row.totalWeights))].sort((a, b) => a - b);
  const lines = [];
  if (totals.length) {
    const span = [totals[0], totals[totals.length - 1]];
    lines.push({ name: 'unpruned (core = all weights)', x: span, mean: span, colour: '#999999', dash: 'dot' as const });
    const base = baselineCoreSize(regime);
    // Capped at the architecture's size, as the paper caps the null-hypothesis density at 100%.
    if (base !== null)
      lines.push({
        name: 'null hypothesis: core of the 1x models at every width (capped at the size)',
        x: totals,
        mean: totals.map((t) => Math.min(base, t)),
        colour: '#d62728',
        dash: 'dash' as const,
      });
  }
  return scatterFigure(groups, {
    title: `${regime.title}: absolute core size against architecture size`,
    xTitle: 'weights in the architecture (log)',
    yTitle: 'weights left at the effective density (log)',
    logX: true,
    logY: true,
    lines,
    source: sourceLine(study, regime.runs),
  });
}

/** Per width: effective density and core size (mean, sd, range), and runs that never degraded past the threshold. */
export function effectiveDensityRows(regime: Regime, analysis: AnalysisSettings): TableRow[] {
  return withLeftOut(
    regime,
    byWidth(regime.runs).map(({ width, runs }) => {
      const eds = runs.map((r) => r.row.effectiveDensity).filter((x): x is number => x !== null);
      const s = meanSd(eds);
      const cores = meanSd(runs.map((r) => r.row.coreSize).filter((x): x is number => x !== null));
      return {
        width,
        runs: runs.length,
        weights: runs[0].row.totalWeights,
        'effective density mean (%)': s.mean,
        sd: s.sd,
        min: eds.length ? Math.min(...eds) : null,
        max: eds.length ? Math.max(...eds) : null,
        'core size mean': cores.mean,
        'never degraded': undegradedRuns(runs, analysis).length,
      };
    }),
  );
}

/**
 * Runs whose trajectory never fell past the threshold: their effective density is the last level's (usually 0),
 * which says the unpruned model was no better than the pruned-away one (e.g. at chance), not that it is sparse.
 */
export function undegradedRuns(runs: readonly StudyRun[], analysis: AnalysisSettings): StudyRun[] {
  return runs.filter((r) => {
    const t = r.record.trajectory;
    if (!t || t.length === 0) return false;
    return !effectiveDensityDetail(t, { metric: analysis.metric, threshold: analysis.threshold, mode: analysis.mode }).degraded;
  });
}

/** What the data says about the paper's Sec 4.1 claims, in sentences computed from the numbers. */
export function trajectoryVerdicts(regime: Regime, analysis: AnalysisSettings): string[] {
  const widths = byWidth(regime.runs)
    .map(({ width, runs }) => {
      const eds = runs.map((r) => r.row.effectiveDensity).filter((x): x is number => x !== null);
      const cores = runs.map((r) => r.row.coreSize).filter((x): x is number => x !== null);
      return { width, ed: meanSd(eds), core: meanSd(cores), total: runs[0].row.totalWeights, flat: undegradedRuns(runs, analysis).length };
    })
    .filter((w) => w.ed.mean !== null);
  const out: string[] = [];
  if (regime.leftOut.length)
    out.push(
      `${regime.title}: ${leftOutText(regime)} run(s) left out of these numbers: their effective density is no measurement of density (never degraded: only the last level's; near chance: the model never learned). regimesOf(runs, { includeDegenerate: true }) keeps them.`,
    );
  if (widths.length === 0) return [...out, `${regime.title}: no run has an effective density${regime.leftOut.length ? ' that measures density' : ' yet'}.`];
  for (const w of widths) {
    const m = w.ed.mean as number;
    if (w.flat === w.ed.n) {
      out.push(
        `${widthLabel(w.width)}: no run's accuracy fell past the threshold even at the last pruning level, so its effective density (${m.toFixed(1)}%) is that level's, not a measurement.`,
      );
      continue;
    }
    out.push(
      `${widthLabel(w.width)}: mean effective density ${m.toFixed(1)}% (n=${w.ed.n}${w.ed.sd !== null ? `, sd ${w.ed.sd.toFixed(1)}` : ''}), i.e. ${(100 - m).toFixed(1)}% of the weights prunable` +
        `${w.flat ? ` (${w.flat} of these runs never degraded; their last-level density is in the mean)` : ''}.`,
    );
  }
  if (regime.paper === 'mlp-sgd') {
    out.push(
      `Paper (MLP): about ${PAPER_TEXT.mlpSmallestPrunablePercent}% prunable at 0.1x, about ${PAPER_TEXT.overparameterisedPrunablePercent}% or more for the over-parameterised widths.`,
    );
  }
  const largest = widths[widths.length - 1];
  const smaller = widths.filter((w) => w.width < largest.width && largest.core.mean !== null);
  for (const w of smaller) {
    const bigger = (largest.core.mean as number) > w.total;
    out.push(
      `The pruned ${widthLabel(largest.width)} models (mean core ${Math.round(largest.core.mean as number).toLocaleString('en-US')} weights) are ${bigger ? 'LARGER' : 'smaller'} than the unpruned ${widthLabel(w.width)} architecture (${w.total.toLocaleString('en-US')} weights).`,
    );
  }
  const flat = regime.runs.filter((r) => undegradedRuns([r], analysis).length > 0);
  if (flat.length)
    out.push(
      `${flat.length} run(s) never dropped more than the threshold while pruning (effective density = the last level's): ${flat.map((r) => r.record.label).join('; ')}. Check their unpruned accuracy: a model near chance cannot degrade.`,
    );
  return out;
}
