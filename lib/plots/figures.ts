// Plotly figure builders: data in, figure spec out (ShrinkBench's habit). No statistics here: callers aggregate
// with lib/analysis and pass numbers; builders only decide how they look. Every figure carries a source line
// (profile, dataset copy, seeds, backend) so a figure cut out of its notebook still says where it came from.
import type { Figure } from './display';

/** One colour per width, stable across every figure (the paper's five widths first). */
const WIDTH_COLOURS: Record<string, string> = {
  '0.1': '#440154',
  '0.5': '#3b528b',
  '1': '#21918c',
  '2': '#5ec962',
  '5': '#fde725',
};
const FALLBACK = ['#e41a1c', '#377eb8', '#4daf4a', '#984ea3', '#ff7f00', '#a65628', '#f781bf', '#999999'];

export function colourFor(key: string | number, index = 0): string {
  return WIDTH_COLOURS[String(key)] ?? FALLBACK[index % FALLBACK.length];
}

/** Semi-transparent version of a #rrggbb colour for bands. */
export function translucent(hex: string, alpha = 0.2): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function baseLayout(title: string, source: string | undefined, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    title: { text: title },
    margin: { t: 60, b: source ? 90 : 60, l: 70, r: 20 },
    legend: { orientation: 'v' },
    annotations: source
      ? [{ text: source, xref: 'paper', yref: 'paper', x: 0, y: -0.28, xanchor: 'left', yanchor: 'top', showarrow: false, font: { size: 10, color: '#666' } }]
      : [],
    ...extra,
  };
}

export interface BandSeries {
  name: string;
  x: number[];
  mean: number[];
  lower?: number[];
  upper?: number[];
  colour?: string;
  dash?: 'solid' | 'dash' | 'dot';
}

/** Lines with an optional shaded band (e.g. mean and +-1 sd over seeds). */
export function lineBandFigure(
  series: BandSeries[],
  opts: { title: string; xTitle: string; yTitle: string; source?: string; xReversed?: boolean; yRange?: [number, number] },
): Figure {
  const data: Record<string, unknown>[] = [];
  series.forEach((s, i) => {
    const colour = s.colour ?? colourFor(s.name, i);
    if (s.lower && s.upper) {
      data.push({
        x: [...s.x, ...[...s.x].reverse()],
        y: [...s.upper, ...[...s.lower].reverse()],
        type: 'scatter',
        mode: 'lines',
        fill: 'toself',
        fillcolor: translucent(colour),
        line: { width: 0 },
        hoverinfo: 'skip',
        showlegend: false,
        legendgroup: s.name,
        name: `${s.name} band`,
      });
    }
    data.push({ x: s.x, y: s.mean, type: 'scatter', mode: 'lines', name: s.name, legendgroup: s.name, line: { color: colour, dash: s.dash ?? 'solid' } });
  });
  return {
    data,
    layout: baseLayout(opts.title, opts.source, {
      xaxis: { title: { text: opts.xTitle }, autorange: opts.xReversed ? 'reversed' : true },
      yaxis: { title: { text: opts.yTitle }, ...(opts.yRange ? { range: opts.yRange } : {}) },
    }),
  };
}

export interface PointGroup {
  name: string;
  x: number[];
  y: number[];
  text?: string[];
  colour?: string;
  symbol?: string;
}

/** Scatter of point groups (t-SNE embeddings, core size vs architecture size, ...). */
export function scatterFigure(
  groups: PointGroup[],
  opts: { title: string; xTitle: string; yTitle: string; source?: string; logX?: boolean; logY?: boolean; lines?: BandSeries[] },
): Figure {
  const data: Record<string, unknown>[] = groups.map((g, i) => ({
    x: g.x,
    y: g.y,
    text: g.text,
    type: 'scatter',
    mode: 'markers',
    name: g.name,
    marker: { color: g.colour ?? colourFor(g.name, i), size: 8, symbol: g.symbol ?? 'circle', opacity: 0.85 },
  }));
  for (const [i, s] of (opts.lines ?? []).entries()) {
    data.push({
      x: s.x,
      y: s.mean,
      type: 'scatter',
      mode: 'lines',
      name: s.name,
      line: { color: s.colour ?? colourFor(s.name, i + groups.length), dash: s.dash ?? 'dash' },
    });
  }
  return {
    data,
    layout: baseLayout(opts.title, opts.source, {
      xaxis: { title: { text: opts.xTitle }, type: opts.logX ? 'log' : 'linear' },
      yaxis: { title: { text: opts.yTitle }, type: opts.logY ? 'log' : 'linear' },
    }),
  };
}

export interface BarGroup {
  name: string;
  categories: string[];
  values: number[];
  errors?: number[];
  colour?: string;
}

/** Grouped bars with optional error bars (e.g. ours beside the paper's, per width). */
export function groupedBarFigure(
  groups: BarGroup[],
  opts: { title: string; xTitle: string; yTitle: string; source?: string; yRange?: [number, number] },
): Figure {
  return {
    data: groups.map((g, i) => ({
      x: g.categories,
      y: g.values,
      type: 'bar',
      name: g.name,
      marker: { color: g.colour ?? FALLBACK[i % FALLBACK.length] },
      ...(g.errors ? { error_y: { type: 'data', array: g.errors, visible: true } } : {}),
    })),
    layout: baseLayout(opts.title, opts.source, {
      barmode: 'group',
      xaxis: { title: { text: opts.xTitle }, type: 'category' },
      yaxis: { title: { text: opts.yTitle }, ...(opts.yRange ? { range: opts.yRange } : {}) },
    }),
  };
}

/** Box plots per group with every point shown (small samples: the points matter more than the box). */
export function boxFigure(groups: { name: string; values: number[]; colour?: string }[], opts: { title: string; yTitle: string; source?: string }): Figure {
  return {
    data: groups.map((g, i) => ({
      y: g.values,
      type: 'box',
      name: g.name,
      boxpoints: 'all',
      jitter: 0.4,
      pointpos: 0,
      marker: { color: g.colour ?? colourFor(g.name, i) },
    })),
    layout: baseLayout(opts.title, opts.source, { yaxis: { title: { text: opts.yTitle } }, showlegend: false }),
  };
}

/** A heatmap (e.g. overlap per layer and width). */
export function heatmapFigure(
  z: number[][],
  xLabels: string[],
  yLabels: string[],
  opts: { title: string; xTitle: string; yTitle: string; source?: string; zTitle?: string },
): Figure {
  return {
    data: [
      {
        z,
        x: xLabels,
        y: yLabels,
        type: 'heatmap',
        colorscale: 'Viridis',
        colorbar: { title: { text: opts.zTitle ?? '' } },
        text: z.map((row) => row.map((v) => (Number.isFinite(v) ? v.toFixed(1) : ''))),
        texttemplate: '%{text}',
      },
    ],
    layout: baseLayout(opts.title, opts.source, {
      xaxis: { title: { text: opts.xTitle }, type: 'category' },
      yaxis: { title: { text: opts.yTitle }, type: 'category' },
    }),
  };
}

export interface CurveTrace {
  name: string;
  x: number[];
  y: number[];
  colour?: string;
  /** Traces sharing a group toggle together in the legend; only those with showLegend appear in it. */
  group?: string;
  showLegend?: boolean;
  mode?: 'lines' | 'markers' | 'lines+markers';
  symbol?: string;
  size?: number;
  dash?: 'solid' | 'dash' | 'dot';
  opacity?: number;
  text?: string[];
}

/** Many lines and/or marker sets with legend groups (e.g. one training curve per run, grouped by width, stops marked). */
export function curvesFigure(
  traces: CurveTrace[],
  opts: { title: string; xTitle: string; yTitle: string; source?: string; logX?: boolean; logY?: boolean; yRange?: [number, number] },
): Figure {
  return {
    data: traces.map((t, i) => {
      const colour = t.colour ?? colourFor(t.name, i);
      const mode = t.mode ?? 'lines';
      return {
        x: t.x,
        y: t.y,
        text: t.text,
        type: 'scatter',
        mode,
        name: t.name,
        opacity: t.opacity ?? 1,
        legendgroup: t.group ?? t.name,
        showlegend: t.showLegend ?? true,
        line: { color: colour, dash: t.dash ?? 'solid', width: 1.5 },
        ...(mode !== 'lines' ? { marker: { color: colour, symbol: t.symbol ?? 'circle', size: t.size ?? 8 } } : {}),
      };
    }),
    layout: baseLayout(opts.title, opts.source, {
      xaxis: { title: { text: opts.xTitle }, type: opts.logX ? 'log' : 'linear' },
      yaxis: { title: { text: opts.yTitle }, type: opts.logY ? 'log' : 'linear', ...(opts.yRange ? { range: opts.yRange } : {}) },
    }),
  };
}
