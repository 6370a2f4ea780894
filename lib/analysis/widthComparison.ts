// The paper's Table 2 and its tests (Sec 4.2), per regime: observed effective density and null-hypothesis
// density per width (mean, sd), a one-way ANOVA of the core sizes across widths, and an unpaired two-tailed
// t-test per width of observed against null-hypothesis densities.
import { coreSize, pairWithBaseline, type NullHypothesisRow, type PairingOptions } from './nullHypothesis';
import { mean, sd, oneWayAnova, tTest, type AnovaResult, type TTestResult } from './stats';

/** Mean and sample sd; sd is null below 2 values, both null with none. */
export interface MeanSd {
  n: number;
  mean: number | null;
  sd: number | null;
}

export interface WidthRow {
  width: number;
  /** Runs of this width with an effective density. */
  n: number;
  observed: MeanSd;
  /** Over the runs that had a 1x counterpart. */
  null: MeanSd;
  /** Core size (absolute unpruned weights at the effective density). */
  coreSize: MeanSd;
  /** Observed vs null densities; null when either side has too few values for the test. */
  tTest: TTestResult | null;
}

export interface RegimeComparison {
  regime: string;
  /** Widths ascending. */
  widths: WidthRow[];
  /** ANOVA of core sizes with one group per width; null with fewer than 2 widths or no within-group df. */
  anova: AnovaResult | null;
  /** Runs with an effective density but no 1x counterpart (left out of the null columns and t-tests). */
  unmatched: number;
  /** Runs without an effective density (e.g. diverged), left out entirely. */
  missing: number;
}

export interface WidthComparisonOptions<T> extends PairingOptions<T> {
  /** Welch's t-test instead of Student's pooled one (the paper does not say; Student is the default). */
  welch?: boolean;
}

function summary(xs: number[]): MeanSd {
  return { n: xs.length, mean: xs.length ? mean(xs) : null, sd: xs.length >= 2 ? sd(xs) : null };
}

function canTTest(a: number[], b: number[], welch: boolean): boolean {
  return welch ? a.length >= 2 && b.length >= 2 : a.length >= 1 && b.length >= 1 && a.length + b.length >= 3;
}

/**
 * Table 2 per regime, from run rows (one per trained model). Rows are grouped by regime (its `regime` field or
 * opts.regimeOf), then by width. The 1x rows are their own baseline, so their null column equals the observed
 * one and their t-test gives t = 0, p = 1.
 */
export function compareWidths<T extends NullHypothesisRow>(rows: readonly T[], opts: WidthComparisonOptions<T> = {}): RegimeComparison[] {
  const welch = opts.welch ?? false;
  const { paired } = pairWithBaseline(rows, opts);
  const regimeOf = opts.regimeOf ?? ((r: T) => r.regime as string); // pairWithBaseline has checked it is a string
  const byRegime = new Map<string, typeof paired>();
  for (const p of paired) {
    const k = regimeOf(p.row);
    const list = byRegime.get(k) ?? [];
    list.push(p);
    byRegime.set(k, list);
  }
  const out: RegimeComparison[] = [];
  for (const [regime, list] of byRegime) {
    const widths = [...new Set(list.map((p) => p.row.width))].sort((a, b) => a - b);
    const widthRows: WidthRow[] = [];
    const coreGroups: number[][] = [];
    let unmatched = 0,
      missing = 0;
    for (const w of widths) {
      const observed: number[] = [],
        nulls: number[] = [],
        cores: number[] = [];
      for (const p of list) {
        if (p.row.width !== w) continue;
        const ed = p.row.effectiveDensity;
        if (ed === null) {
          missing++;
          continue;
        }
        observed.push(ed);
        cores.push(coreSize(ed, p.row.totalWeights));
        if (p.nullDensity === null) unmatched++;
        else nulls.push(p.nullDensity);
      }
      if (cores.length) coreGroups.push(cores);
      widthRows.push({
        width: w,
        n: observed.length,
        observed: summary(observed),
        null: summary(nulls),
        coreSize: summary(cores),
        tTest: canTTest(observed, nulls, welch) ? tTest(observed, nulls, { welch }) : null,
      });
    }
    const total = coreGroups.reduce((s, g) => s + g.length, 0);
    const anova = coreGroups.length >= 2 && total - coreGroups.length >= 1 ? oneWayAnova(coreGroups) : null;
    out.push({ regime, widths: widthRows, anova, unmatched, missing });
  }
  return out;
}
