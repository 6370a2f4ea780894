// Notebook 09 (beyond the paper): how the effective density depends on the threshold and the criterion,
// layer-wise against global and random pruning (when a profile computed those baselines), and where the
// weights left at the effective density sit, layer by layer.
import { DEFAULT_CURVE_THRESHOLDS, effectiveDensityCurve, effectiveDensityDetail, type EffectiveDensityOptions } from '../analysis/effectiveDensity';
import type { Figure } from '../plots/display';
import { colourFor, lineBandFigure, type BandSeries } from '../plots/figures';
import type { AnalysisSettings } from '../store/descriptor';
import type { TrajectoryRecordPoint } from '../store/runRecord';
import { byWidth, LEFT_OUT_COLUMN, leftOutCount, meanSd, trajectoryBands, widthLabel, withLeftOut, type Regime } from './aggregate';
import { sourceLine, type Study, type StudyRun } from './study';
import type { TableRow } from './tables';

export interface ThresholdCurve {
  width: number;
  n: number;
  thresholds: number[];
  mean: number[];
  sd: (number | null)[];
  /** Runs of this width left out of the means (never degraded, or near chance). */
  leftOut: number;
}

/** Mean (sd) effective density per width at each threshold, with the study's metric and mode. */
export function thresholdCurves(regime: Regime, analysis: AnalysisSettings, thresholds: readonly number[] = DEFAULT_CURVE_THRESHOLDS): ThresholdCurve[] {
  return byWidth(regime.runs)
    .map(({ width, runs }) => {
      const trajs = runs.map((r) => r.record.trajectory).filter((t): t is TrajectoryRecordPoint[] => Array.isArray(t) && t.length > 0);
      const curves = trajs.map((t) => effectiveDensityCurve(t, thresholds, { metric: analysis.metric, mode: analysis.mode }));
      const stats = thresholds.map((_, k) => meanSd(curves.map((c) => c[k].density)));
      return {
        width,
        n: trajs.length,
        thresholds: [...thresholds],
        mean: stats.map((s) => s.mean ?? NaN),
        sd: stats.map((s) => s.sd),
        leftOut: leftOutCount(regime, width),
      };
    })
    .filter((c) => c.n > 0);
}

export function thresholdFigure(study: Study, regime: Regime, curves: readonly ThresholdCurve[], analysis: AnalysisSettings): Figure {
  const unit =
    analysis.metric === 'accuracy'
      ? analysis.mode === 'points'
        ? 'accuracy points'
        : '% of the unpruned accuracy'
      : analysis.mode === 'points'
        ? 'loss units'
        : '% of the unpruned loss';
  const series: BandSeries[] = curves.map((c) => ({
    name: `${widthLabel(c.width)} (n=${c.n})`,
    x: c.thresholds,
    mean: c.mean,
    colour: colourFor(c.width),
    ...(c.n >= 2 ? { lower: c.mean.map((m, i) => m - (c.sd[i] ?? 0)), upper: c.mean.map((m, i) => m + (c.sd[i] ?? 0)) } : {}),
  }));
  return lineBandFigure(series, {
    title: `${regime.title}: effective density against the threshold (the paper's: 5 accuracy points)`,
    xTitle: `threshold (${unit})`,
    yTitle: 'effective density (%), mean +-1 sd',
    source: sourceLine(study, regime.runs),
  });
}

/** A table of the curves at a few thresholds. */
export function thresholdRows(curves: readonly ThresholdCurve[], at: readonly number[] = [1, 2, 5, 10, 20]): TableRow[] {
  return curves.map((c) => {
    const row: TableRow = { width: c.width, runs: c.n };
    for (const t of at) {
      const i = c.thresholds.indexOf(t);
      if (i >= 0) row[`threshold ${t}`] = c.mean[i];
    }
    row[LEFT_OUT_COLUMN] = c.leftOut;
    return row;
  });
}

/** Widths ordered by mean effective density at threshold index k, highest first (ties keep width order). */
function order(curves: readonly ThresholdCurve[], k: number): string {
  return [...curves]
    .sort((a, b) => b.mean[k] - a.mean[k] || a.width - b.width)
    .map((c) => c.width)
    .join('>');
}

/** Is the ranking of widths by effective density the one the chosen threshold gives, at every other threshold? */
export function thresholdVerdicts(regime: Regime, curves: readonly ThresholdCurve[], chosen: number): string[] {
  if (curves.length < 2) return [`${regime.title}: one width only; no ranking of widths to compare across thresholds.`];
  const thresholds = curves[0].thresholds;
  const k0 = thresholds.indexOf(chosen);
  if (k0 < 0) return [`${regime.title}: the chosen threshold ${chosen} is not among the thresholds swept.`];
  const ref = order(curves, k0);
  const same = thresholds.filter((_, k) => order(curves, k) === ref).length;
  const spread = (k: number) => Math.max(...curves.map((c) => c.mean[k])) - Math.min(...curves.map((c) => c.mean[k]));
  return [
    `${regime.title}: at threshold ${chosen} the widths rank ${ref
      .split('>')
      .map((w) => `${w}x`)
      .join(' > ')} by mean effective density; the same ranking holds at ${same} of ${thresholds.length} thresholds.`,
    `The spread between widths' means is ${spread(0).toFixed(1)} points at threshold ${thresholds[0]}, ${spread(k0).toFixed(1)} at ${chosen} and ${spread(thresholds.length - 1).toFixed(1)} at ${thresholds[thresholds.length - 1]}.`,
  ];
}

/** Effective-density criteria compared: the paper's accuracy rule, a relative one, and loss-based variants. */
export const CRITERIA: readonly { name: string; opts: EffectiveDensityOptions }[] = [
  { name: 'accuracy -5 points (paper)', opts: { metric: 'accuracy', threshold: 5, mode: 'points' } },
  { name: 'accuracy -5% relative', opts: { metric: 'accuracy', threshold: 5, mode: 'relative' } },
  { name: 'loss +5% relative', opts: { metric: 'loss', threshold: 5, mode: 'relative' } },
  { name: 'loss +0.1 nats', opts: { metric: 'loss', threshold: 0.1, mode: 'points' } },
];

/** Mean effective density per width under each criterion. */
export function criterionRows(regime: Regime): TableRow[] {
  return withLeftOut(
    regime,
    byWidth(regime.runs).map(({ width, runs }) => {
      const row: TableRow = { width, runs: runs.length };
      for (const c of CRITERIA) {
        const vals = runs
          .map((r) => r.record.trajectory)
          .filter((t): t is TrajectoryRecordPoint[] => Array.isArray(t) && t.length > 0)
          .map((t) => effectiveDensityDetail(t, c.opts).density);
        row[c.name] = meanSd(vals).mean;
      }
      return row;
    }),
  );
}

// ---- pruning strategies ----

export type Strategy = 'layerwiseMagnitude' | 'globalMagnitude' | 'random';
export const STRATEGY_DASH: Readonly<Record<Strategy, 'solid' | 'dash' | 'dot'>> = { layerwiseMagnitude: 'solid', globalMagnitude: 'dash', random: 'dot' };

export function trajectoryOf(run: StudyRun, s: Strategy): TrajectoryRecordPoint[] | null {
  return s === 'layerwiseMagnitude' ? run.record.trajectory : (run.record.baselines[s] ?? null);
}

/** The baseline strategies some run of the regime has trajectories for. */
export function baselinesPresent(regime: Regime): Strategy[] {
  return (['globalMagnitude', 'random'] as const).filter((s) => regime.runs.some((r) => (r.record.baselines[s]?.length ?? 0) > 0));
}

/**
 * The runs every strategy present was run on (e.g. the cpu profile's 100 of 500 MLP runs), so strategies are
 * compared on the same networks; all runs when there are no baselines.
 */
export function strategyRuns(regime: Regime): StudyRun[] {
  const present = baselinesPresent(regime);
  return regime.runs.filter((r) => present.every((s) => (trajectoryOf(r, s)?.length ?? 0) > 0));
}

/** Mean accuracy curves per width for layer-wise pruning and each baseline present (line style = strategy), on strategyRuns. */
export function strategyFigure(study: Study, regime: Regime): Figure {
  const series: BandSeries[] = [];
  const common = strategyRuns(regime);
  for (const s of ['layerwiseMagnitude', ...baselinesPresent(regime)] as Strategy[]) {
    const runs = common;
    for (const b of trajectoryBands(runs.map((r) => ({ width: r.row.width, trajectory: trajectoryOf(r, s) })))) {
      series.push({ name: `${widthLabel(b.width)} ${s}`, x: b.density, mean: b.mean, colour: colourFor(b.width), dash: STRATEGY_DASH[s] });
    }
  }
  return lineBandFigure(series, {
    title: `${regime.title}: layer-wise (solid) vs global magnitude (dashed) vs random (dotted) pruning`,
    xTitle: 'density (%)',
    yTitle: 'validation accuracy (%)',
    xReversed: true,
    source: sourceLine(study, common),
  });
}

/** Mean effective density per width under each strategy present, on strategyRuns (n: runs per width). */
export function strategyRows(regime: Regime, analysis: AnalysisSettings): TableRow[] {
  const strategies = ['layerwiseMagnitude', ...baselinesPresent(regime)] as Strategy[];
  return withLeftOut(
    regime,
    byWidth(strategyRuns(regime)).map(({ width, runs }) => {
      const row: TableRow = { width, n: runs.length };
      for (const s of strategies) {
        const vals = runs
          .map((r) => trajectoryOf(r, s))
          .filter((t): t is TrajectoryRecordPoint[] => Array.isArray(t) && t.length > 0)
          .map((t) => effectiveDensityDetail(t, { metric: analysis.metric, threshold: analysis.threshold, mode: analysis.mode }).density);
        row[`${s} (%)`] = meanSd(vals).mean;
      }
      return row;
    }),
  );
}

// ---- where the core sits ----

/**
 * Per width and layer, at each run's effective-density level: weights left in the layer (mean over runs),
 * that layer's share of the whole core, and the fraction of the layer left. Needs the trajectory's
 * per-layer counts (`remaining`); runs without them are skipped.
 */
export function layerCoreRows(regime: Regime, analysis: AnalysisSettings, strategy: Strategy = 'layerwiseMagnitude'): TableRow[] {
  const rows: TableRow[] = [];
  for (const { width, runs } of byWidth(regime.runs)) {
    const perLayer = new Map<string, { left: number[]; share: number[]; frac: number[] }>();
    for (const r of runs) {
      const t = trajectoryOf(r, strategy);
      if (!t || t.length === 0) continue;
      const lvl = effectiveDensityDetail(t, { metric: analysis.metric, threshold: analysis.threshold, mode: analysis.mode }).level;
      const rem = t[lvl].remaining;
      if (!rem) continue;
      const core = Object.values(rem).reduce((s, x) => s + x, 0);
      for (const [layer, left] of Object.entries(rem)) {
        const e = perLayer.get(layer) ?? { left: [], share: [], frac: [] };
        e.left.push(left);
        e.share.push(core > 0 ? (100 * left) / core : 0);
        e.frac.push((100 * left) / (r.record.weightCounts.perLayer[layer] ?? NaN));
        perLayer.set(layer, e);
      }
    }
    for (const [layer, e] of perLayer) {
      rows.push({
        width,
        layer,
        runs: e.left.length,
        'weights left (mean)': meanSd(e.left).mean,
        'share of the core (%)': meanSd(e.share).mean,
        'layer left (%)': meanSd(e.frac).mean,
      });
    }
  }
  return withLeftOut(regime, rows);
}
