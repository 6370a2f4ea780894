// Notebook 03 (the paper's Sec 4.2, Table 2): observed and null-hypothesis effective densities per regime and
// width beside the paper's, the one-way ANOVA of core sizes across widths and a t-test per row, with verdicts.
import type { AnovaResult, TTestResult } from '../analysis/stats';
import { compareWidths, type RegimeComparison } from '../analysis/widthComparison';
import type { Figure } from '../plots/display';
import { groupedBarFigure, type BarGroup } from '../plots/figures';
import { formatP, LEFT_OUT_COLUMN, leftOutCount, widthLabel, withLeftOut, type Regime } from './aggregate';
import { PAPER_P_BOUND, paperTable2Row } from '../protocol';
import { sourceLine, type Study } from './study';
import type { TableRow } from './tables';

/** Table 2 of one regime: compareWidths over its runs (paired with their 1x counterparts by init scheme and seeds). */
export function regimeComparison(regime: Regime): (RegimeComparison & { leftOut: number }) | null {
  const rows = regime.runs.map((r) => r.row);
  if (rows.length === 0) return null;
  const cmp = compareWidths(rows, { regimeOf: (r) => r.group })[0];
  return cmp ? { ...cmp, leftOut: leftOutCount(regime) } : null;
}

/** Table 2 rows: ours (mean, sd, n) beside the paper's for observed and null-hypothesis densities, and the t-test. */
export function table2Rows(regime: Regime, cmp: RegimeComparison): TableRow[] {
  return withLeftOut(
    regime,
    cmp.widths.map((w) => {
      const paper = paperTable2Row(regime.paper, w.width);
      return {
        width: w.width,
        n: w.n,
        'observed mean': w.observed.mean,
        'observed sd': w.observed.sd,
        'paper observed mean': paper?.observed.mean ?? null,
        'paper observed sd': paper?.observed.sd ?? null,
        'null mean': w.null.mean,
        'null sd': w.null.sd,
        'null n': w.null.n,
        'paper null mean': paper?.nullHypothesis.mean ?? null,
        'paper null sd': paper?.nullHypothesis.sd ?? null,
        t: w.tTest?.t ?? null,
        p: w.tTest?.p ?? null,
      };
    }),
  );
}

/** "rejects"/"does not reject" for a p-value at alpha; null p = cannot be tested. */
function decision(p: number | null | undefined, alpha: number): 'rejects' | 'does not reject' | null {
  if (p === null || p === undefined || Number.isNaN(p)) return null;
  return p < alpha ? 'rejects' : 'does not reject';
}

/** The ANOVA's verdict in words: whether equal mean core sizes across widths are rejected at alpha. */
export function anovaVerdict(anova: AnovaResult | null, alpha = 0.05): string {
  if (!anova)
    return 'ANOVA of core sizes across widths: not computable here (needs at least two widths with an effective density and one width with two runs).';
  const d = decision(anova.p, alpha);
  const stat = `F(${anova.dfBetween}, ${anova.dfWithin}) = ${Number.isFinite(anova.F) ? anova.F.toFixed(2) : String(anova.F)}, ${formatP(anova.p)}`;
  if (!d) return `ANOVA of core sizes across widths: ${stat}; no p-value (no variation at all), so no verdict.`;
  return (
    `ANOVA of core sizes across widths: ${stat}: ${d === 'rejects' ? 'REJECTS' : 'does NOT reject'} equal mean core sizes at ${alpha}` +
    ` (the paper's null hypothesis; paper: p < ${PAPER_P_BOUND} for every regime).`
  );
}

/** One t-test's verdict in words, e.g. "0.5x: observed 51.0% vs null 91.2%: t = -12.3, p < 1e-16: rejects at 0.05". */
export function tTestVerdict(width: number, t: TTestResult | null, alpha = 0.05): string {
  if (!t) return `${widthLabel(width)}: no t-test (too few runs with a 1x counterpart).`;
  if (width === 1) return `${widthLabel(width)}: the 1x models are their own null hypothesis (t = 0, p = 1), as in the paper.`;
  const d = decision(t.p, alpha);
  const stat = `observed ${t.meanA.toFixed(1)}% vs null ${t.meanB.toFixed(1)}%: t(${Number.isFinite(t.df) ? t.df.toFixed(0) : 'n/a'}) = ${Number.isFinite(t.t) ? t.t.toFixed(2) : String(t.t)}, ${formatP(t.p)}`;
  return `${widthLabel(width)}: ${stat}: ${d === null ? 'no verdict (no variation)' : d === 'rejects' ? `REJECTS equal means at ${alpha}` : `does NOT reject equal means at ${alpha}`}.`;
}

/** Every verdict for a regime: the ANOVA, then the t-test of each width. */
export function nullHypothesisVerdicts(cmp: RegimeComparison, alpha = 0.05): string[] {
  const out = [anovaVerdict(cmp.anova, alpha), ...cmp.widths.map((w) => tTestVerdict(w.width, w.tTest, alpha))];
  if (cmp.unmatched > 0) out.push(`${cmp.unmatched} run(s) have no 1x counterpart with the same init scheme and seeds, so no null-hypothesis density.`);
  if (cmp.missing > 0) out.push(`${cmp.missing} run(s) have no effective density (diverged) and are left out.`);
  return out;
}

/** ANOVA of core sizes as a one-row table. */
export function anovaRows(cmp: RegimeComparison & { leftOut?: number }): TableRow[] {
  const a = cmp.anova;
  return [
    {
      widths: cmp.widths.map((w) => w.width).join(', '),
      groups: cmp.widths.filter((w) => w.coreSize.n > 0).length,
      F: a?.F ?? null,
      'df between': a?.dfBetween ?? null,
      'df within': a?.dfWithin ?? null,
      p: a?.p ?? null,
      [LEFT_OUT_COLUMN]: cmp.leftOut ?? null,
    },
  ];
}

/** Observed vs null-hypothesis densities per width, ours with +-1 sd and the paper's where it survived. */
export function table2Figure(study: Study, regime: Regime, cmp: RegimeComparison): Figure {
  const cats = cmp.widths.map((w) => widthLabel(w.width));
  const num = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
  const groups: BarGroup[] = [
    {
      name: 'observed (ours)',
      categories: cats,
      values: cmp.widths.map((w) => num(w.observed.mean)),
      errors: cmp.widths.map((w) => w.observed.sd ?? 0),
      colour: '#1f77b4',
    },
    {
      name: 'null hypothesis (ours)',
      categories: cats,
      values: cmp.widths.map((w) => num(w.null.mean)),
      errors: cmp.widths.map((w) => w.null.sd ?? 0),
      colour: '#d62728',
    },
  ];
  if (regime.paper) {
    const p = cmp.widths.map((w) => paperTable2Row(regime.paper, w.width));
    groups.push({ name: 'observed (paper)', categories: cats, values: p.map((r) => num(r?.observed.mean)), colour: '#aec7e8' });
    groups.push({ name: 'null hypothesis (paper)', categories: cats, values: p.map((r) => num(r?.nullHypothesis.mean)), colour: '#ff9896' });
  }
  return groupedBarFigure(groups, {
    title: `${regime.title}: observed vs null-hypothesis effective density`,
    xTitle: 'width',
    yTitle: 'effective density (%)',
    source: sourceLine(study, regime.runs),
    yRange: [0, 105],
  });
}
