// Notebook 08 (the paper's Sec 5.3): activation sparsity (Hoyer) and class selectivity (CCMAS) of the hidden
// layers, by width and optimizer, from the statistics each run.json holds (measured on the validation set).
import type { Figure } from '../plots/display';
import { curvesFigure, type CurveTrace } from '../plots/figures';
import { byWidth, meanSd, trend, uniqueSorted, widthLabel, withLeftOutByRegime, type Regime } from './aggregate';
import { sourceLine, type Study, type StudyRun } from './study';
import type { TableRow } from './tables';

export type ActivationMetric = 'hoyer' | 'selectivity';

export const METRIC_TITLES: Readonly<Record<ActivationMetric, string>> = { hoyer: 'Hoyer sparsity of activations', selectivity: 'class selectivity (CCMAS)' };

/** A run's mean over its hidden layers of a metric (layers without a value are skipped); null when none has one. */
export function networkMean(run: StudyRun, metric: ActivationMetric): number | null {
  const acts = run.record.activations;
  if (!acts) return null;
  const vals = Object.values(acts)
    .map((a) => a[metric])
    .filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return vals.length ? vals.reduce((s, x) => s + x, 0) / vals.length : null;
}

/** Per regime, width and hidden layer: mean Hoyer sparsity and selectivity over runs, and the layer's units. */
export function activationRows(regimes: readonly Regime[]): TableRow[] {
  return withLeftOutByRegime(
    regimes,
    regimes.flatMap((g) =>
      byWidth(g.runs).flatMap(({ width, runs }) => {
        const first = runs.find((r) => r.record.activations !== null);
        const layers = first ? Object.keys(first.record.activations as object) : [];
        return layers.map((layer) => {
          const pick = (m: ActivationMetric) =>
            meanSd(runs.map((r) => r.record.activations?.[layer]?.[m]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));
          const h = pick('hoyer'),
            s = pick('selectivity');
          return {
            regime: g.title,
            width,
            layer,
            units: first?.record.activations?.[layer]?.units ?? null,
            runs: h.n,
            'hoyer mean': h.mean,
            'hoyer sd': h.sd,
            'selectivity mean': s.mean,
            'selectivity sd': s.sd,
          };
        });
      }),
    ),
  );
}

/** Per regime, the network-mean metric against width: each run faint, the mean over runs as a line. */
export function activationFigure(study: Study, regimes: readonly Regime[], metric: ActivationMetric): Figure {
  const colours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b'];
  const traces: CurveTrace[] = [];
  regimes.forEach((g, i) => {
    const colour = colours[i % colours.length];
    const pts = g.runs
      .map((r) => ({ x: r.row.width, y: networkMean(r, metric), label: r.record.label }))
      .filter((p): p is { x: number; y: number; label: string } => p.y !== null);
    if (pts.length === 0) return;
    const means = byWidth(g.runs)
      .map(({ width, runs }) => ({ width, m: meanSd(runs.map((r) => networkMean(r, metric)).filter((x): x is number => x !== null)).mean }))
      .filter((p): p is { width: number; m: number } => p.m !== null);
    traces.push({ name: g.title, group: g.title, colour, mode: 'lines+markers', x: means.map((p) => p.width), y: means.map((p) => p.m) });
    traces.push({
      name: `${g.title} runs`,
      group: g.title,
      showLegend: false,
      colour,
      mode: 'markers',
      size: 5,
      opacity: 0.4,
      x: pts.map((p) => p.x),
      y: pts.map((p) => p.y),
      text: pts.map((p) => p.label),
    });
  });
  return curvesFigure(traces, {
    title: `${METRIC_TITLES[metric]} by width (mean over hidden layers, then over runs)`,
    xTitle: 'width (log)',
    yTitle: METRIC_TITLES[metric],
    logX: true,
    source: sourceLine(
      study,
      regimes.flatMap((g) => g.runs),
    ),
  });
}

/** Trend of each metric with width per regime, and which regime is sparser at each shared width. */
export function activationVerdicts(regimes: readonly Regime[]): string[] {
  const out: string[] = [];
  const means = (g: Regime, metric: ActivationMetric) =>
    byWidth(g.runs)
      .map(({ width, runs }) => ({ x: width, y: meanSd(runs.map((r) => networkMean(r, metric)).filter((v): v is number => v !== null)).mean }))
      .filter((p): p is { x: number; y: number } => p.y !== null);
  for (const g of regimes) {
    const h = trend(means(g, 'hoyer')),
      s = trend(means(g, 'selectivity'));
    if (h === 'one width only' && s === 'one width only') out.push(`${g.title}: one width only, so no trend with width.`);
    else out.push(`${g.title}: Hoyer sparsity ${h} with width, class selectivity ${s} with width.`);
  }
  const widths = uniqueSorted(regimes.flatMap((g) => g.runs.map((r) => r.row.width)));
  for (const w of widths) {
    const at = regimes.map((g) => ({ g, h: means(g, 'hoyer').find((p) => p.x === w)?.y })).filter((x): x is { g: Regime; h: number } => x.h !== undefined);
    if (at.length < 2) continue;
    at.sort((a, b) => b.h - a.h);
    out.push(`${widthLabel(w)}: Hoyer sparsity from highest to lowest: ${at.map((x) => `${x.g.title} ${x.h.toFixed(3)}`).join(' > ')}.`);
  }
  return out;
}
