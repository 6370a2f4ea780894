// Notebook 04 (the paper's Sec 4.3): optimizers (Conv-2 with Adam vs Adagrad) and architectures (MLP vs
// ResNet, both SGD): accuracy before pruning per regime and width, how far the widths' pruning curves lie
// apart, and how the weight count grows with width.
import { weightCounts } from '../models/index';
import { PAPER_TABLE1 } from '../protocol';
import type { ArchName } from '../models/types';
import type { Figure } from '../plots/display';
import type { TrajectoryRecordPoint } from '../store/runRecord';
import { groupedBarFigure, type BarGroup } from '../plots/figures';
import {
  byWidth,
  curveSpread,
  LEFT_OUT_COLUMN,
  leftOutCount,
  meanSd,
  trajectoryBands,
  uniqueSorted,
  widthLabel,
  withLeftOutByRegime,
  type Regime,
} from './aggregate';
import { sourceLine, type Study } from './study';
import type { TableRow } from './tables';

const FALLBACK_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b'];

/** Validation accuracy (%) and loss of the trained, unpruned models, per regime and width. */
export function preAccuracyRows(regimes: readonly Regime[]): TableRow[] {
  return withLeftOutByRegime(
    regimes,
    regimes.flatMap((g) =>
      byWidth(g.runs).map(({ width, runs }) => {
        const acc = meanSd(
          runs
            .map((r) => r.row.validationAccuracy)
            .filter((x): x is number => x !== null)
            .map((x) => 100 * x),
        );
        const loss = meanSd(runs.map((r) => r.record.training.validationLoss).filter((x): x is number => x !== null));
        return { regime: g.title, width, runs: runs.length, 'accuracy mean (%)': acc.mean, 'accuracy sd': acc.sd, 'loss mean': loss.mean, 'loss sd': loss.sd };
      }),
    ),
  );
}

export interface StartSpread {
  regime: string;
  widths: number;
  /** Max minus min over widths of the mean validation accuracy before pruning (percentage points). */
  accuracySpread: number | null;
  /** Max minus min over widths of the mean validation loss before pruning. */
  lossSpread: number | null;
}

/** How different the widths' starting points are (the paper: similar for Adagrad, not for Adam). */
export function startSpread(regime: Regime): StartSpread {
  const per = byWidth(regime.runs).map(({ runs }) => ({
    acc: meanSd(
      runs
        .map((r) => r.row.validationAccuracy)
        .filter((x): x is number => x !== null)
        .map((x) => 100 * x),
    ).mean,
    loss: meanSd(runs.map((r) => r.record.training.validationLoss).filter((x): x is number => x !== null)).mean,
  }));
  const range = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length >= 2 ? Math.max(...v) - Math.min(...v) : null;
  };
  return { regime: regime.title, widths: per.length, accuracySpread: range(per.map((p) => p.acc)), lossSpread: range(per.map((p) => p.loss)) };
}

/** Mean validation accuracy before pruning per width, one bar group per regime, +-1 sd. */
export function preAccuracyFigure(study: Study, regimes: readonly Regime[]): Figure {
  const widths = uniqueSorted(regimes.flatMap((g) => g.runs.map((r) => r.row.width)));
  const cats = widths.map(widthLabel);
  const groups: BarGroup[] = regimes.map((g, i) => {
    const per = new Map(
      byWidth(g.runs).map(({ width, runs }) => [
        width,
        meanSd(
          runs
            .map((r) => r.row.validationAccuracy)
            .filter((x): x is number => x !== null)
            .map((x) => 100 * x),
        ),
      ]),
    );
    return {
      name: g.title,
      categories: cats,
      values: widths.map((w) => per.get(w)?.mean ?? NaN),
      errors: widths.map((w) => per.get(w)?.sd ?? 0),
      colour: FALLBACK_COLOURS[i % FALLBACK_COLOURS.length],
    };
  });
  return groupedBarFigure(groups, {
    title: 'Validation accuracy before pruning',
    xTitle: 'width',
    yTitle: 'validation accuracy (%)',
    source: sourceLine(
      study,
      regimes.flatMap((g) => g.runs),
    ),
  });
}

/** Mean effective density per width, one bar group per regime, +-1 sd. */
export function effectiveDensityByRegimeFigure(study: Study, regimes: readonly Regime[]): Figure {
  const widths = uniqueSorted(regimes.flatMap((g) => g.runs.map((r) => r.row.width)));
  const groups: BarGroup[] = regimes.map((g, i) => {
    const per = new Map(
      byWidth(g.runs).map(({ width, runs }) => [width, meanSd(runs.map((r) => r.row.effectiveDensity).filter((x): x is number => x !== null))]),
    );
    return {
      name: g.title,
      categories: widths.map(widthLabel),
      values: widths.map((w) => per.get(w)?.mean ?? NaN),
      errors: widths.map((w) => per.get(w)?.sd ?? 0),
      colour: FALLBACK_COLOURS[i % FALLBACK_COLOURS.length],
    };
  });
  return groupedBarFigure(groups, {
    title: 'Effective density per width and regime',
    xTitle: 'width',
    yTitle: 'effective density (%)',
    source: sourceLine(
      study,
      regimes.flatMap((g) => g.runs),
    ),
    yRange: [0, 105],
  });
}

/** A run's pruning curve measured from its own unpruned accuracy (each point's accuracy minus the first's). */
export function curveFromStart(t: readonly TrajectoryRecordPoint[] | null): TrajectoryRecordPoint[] | null {
  if (!t || t.length === 0) return null;
  const a0 = t[0].accuracy;
  return t.map((p) => ({ ...p, accuracy: p.accuracy - a0 }));
}

/**
 * How far apart a regime's widths' mean pruning curves lie (curveSpread, accuracy points), over the given widths
 * (default all). With `fromStart` each run's curve is measured from its own unpruned accuracy, so what remains is
 * how differently the widths fall, not where they start (the paper's Sec 4.3 explanation, tested).
 */
export function regimeCurveSpread(regime: Regime, opts: { widths?: readonly number[]; fromStart?: boolean } = {}): number | null {
  const runs = opts.widths ? regime.runs.filter((r) => (opts.widths as readonly number[]).includes(r.row.width)) : regime.runs;
  return curveSpread(
    trajectoryBands(runs.map((r) => ({ width: r.row.width, trajectory: opts.fromStart ? curveFromStart(r.record.trajectory) : r.record.trajectory }))),
  );
}

/** Per regime: how far apart the widths' mean pruning curves are, and the range of their mean effective densities. */
export function curveSpreadRows(regimes: readonly Regime[]): TableRow[] {
  return regimes.map((g) => {
    const bands = trajectoryBands(g.runs.map((r) => ({ width: r.row.width, trajectory: r.record.trajectory })));
    const eds = byWidth(g.runs)
      .map(({ runs }) => meanSd(runs.map((r) => r.row.effectiveDensity).filter((x): x is number => x !== null)).mean)
      .filter((x): x is number => x !== null);
    const s = startSpread(g);
    return {
      regime: g.title,
      widths: bands.map((b) => b.width).join(', '),
      'curve spread (accuracy points)': curveSpread(bands),
      'curve spread from start (points)': regimeCurveSpread(g, { fromStart: true }),
      'effective density range (points)': eds.length >= 2 ? Math.max(...eds) - Math.min(...eds) : null,
      'start accuracy range (points)': s.accuracySpread,
      'start loss range': s.lossSpread,
      [LEFT_OUT_COLUMN]: leftOutCount(g),
    };
  });
}

/** How the weight count grows with width: ours and the paper's, relative to 1x. */
export function weightScalingRows(archs: readonly ArchName[], widths: readonly number[]): TableRow[] {
  return widths.map((w) => {
    const row: TableRow = { width: w };
    for (const a of archs) {
      row[`${a} weights`] = weightCounts(a, w).total;
      row[`${a} / 1x (ours)`] = weightCounts(a, w).total / weightCounts(a, 1).total;
      const p = PAPER_TABLE1[a][String(w) as keyof (typeof PAPER_TABLE1)['mlp']];
      const p1 = PAPER_TABLE1[a]['1'];
      row[`${a} / 1x (paper)`] = p !== null && p1 !== null ? p / p1 : null;
    }
    return row;
  });
}

/** Sentences comparing regimes on the Sec 4.3 claims, computed from the numbers. */
export function regimeVerdicts(regimes: readonly Regime[]): string[] {
  const out: string[] = [];
  for (const g of regimes) {
    const s = startSpread(g);
    const bands = trajectoryBands(g.runs.map((r) => ({ width: r.row.width, trajectory: r.record.trajectory })));
    const spread = curveSpread(bands);
    if (s.widths < 2) {
      out.push(`${g.title}: one width only, nothing to compare across widths.`);
      continue;
    }
    out.push(
      `${g.title}: before pruning, the widths' mean validation accuracies span ${s.accuracySpread === null ? 'n/a' : `${s.accuracySpread.toFixed(1)} points`}` +
        ` (losses ${s.lossSpread === null ? 'n/a' : s.lossSpread.toFixed(3)}); the widths' mean pruning curves lie ${spread === null ? 'n/a' : `${spread.toFixed(1)} accuracy points`} apart on average (sd across widths per level).`,
    );
  }
  return out;
}
