// Notebook 05 (the paper's Sec 4.4, Fig 6): effective densities by init scheme (Glorot vs He) per width and
// regime, and a paired test of the difference (each He model has a Glorot twin with the same seeds).
import type { Figure } from '../plots/display';
import { boxFigure } from '../plots/figures';
import { INIT_NAMES } from '../protocol';
import { byWidth, formatP, LEFT_OUT_COLUMN, leftOutCount, meanSd, pairedTTest, trend, widthLabel, type PairedTest, type Regime } from './aggregate';
import { sourceLine, type Study, type StudyRun } from './study';
import type { TableRow } from './tables';

export const INIT_COLOURS: Readonly<Record<string, string>> = { glorot: '#1f77b4', he: '#ff7f0e' };

const seedKey = (r: StudyRun) => `${r.row.initSeed}/${r.row.dataSeed}`;
const ed = (r: StudyRun) => r.row.effectiveDensity;

export interface InitWidthComparison {
  width: number;
  glorot: ReturnType<typeof meanSd>;
  he: ReturnType<typeof meanSd>;
  /** He minus Glorot over runs paired by init seed and data seed. */
  paired: PairedTest;
  glorotEpochs: number | null;
  heEpochs: number | null;
  /** Runs of this width left out of the means and the test (never degraded, or near chance). */
  leftOut: number;
}

/** Per width: effective density of each scheme and the paired He - Glorot test. */
export function compareInits(regime: Regime): InitWidthComparison[] {
  return byWidth(regime.runs).map(({ width, runs }) => {
    const g = runs.filter((r) => r.row.init === 'glorot');
    const h = runs.filter((r) => r.row.init === 'he');
    const vals = (xs: StudyRun[]) => xs.map(ed).filter((x): x is number => x !== null);
    const epochs = (xs: StudyRun[]) => meanSd(xs.map((r) => r.row.epochs)).mean;
    return {
      width,
      glorot: meanSd(vals(g)),
      he: meanSd(vals(h)),
      paired: pairedTTest(g, h, seedKey, ed),
      glorotEpochs: epochs(g),
      heEpochs: epochs(h),
      leftOut: leftOutCount(regime, width),
    };
  });
}

export function initComparisonRows(cmp: readonly InitWidthComparison[]): TableRow[] {
  return cmp.map((c) => ({
    width: c.width,
    'glorot n': c.glorot.n,
    'glorot mean (%)': c.glorot.mean,
    'glorot sd': c.glorot.sd,
    'he n': c.he.n,
    'he mean (%)': c.he.mean,
    'he sd': c.he.sd,
    pairs: c.paired.n,
    'he - glorot (points)': c.paired.n ? c.paired.meanDiff : null,
    t: c.paired.t,
    p: c.paired.p,
    'glorot epochs': c.glorotEpochs,
    'he epochs': c.heEpochs,
    [LEFT_OUT_COLUMN]: c.leftOut,
  }));
}

/** Effective densities per width and scheme, every run shown (Fig 6). */
export function initBoxFigure(study: Study, regime: Regime): Figure {
  const groups = byWidth(regime.runs)
    .flatMap(({ width, runs }) =>
      INIT_NAMES.map((init) => ({
        name: `${widthLabel(width)} ${init}`,
        colour: INIT_COLOURS[init],
        values: runs
          .filter((r) => r.row.init === init)
          .map(ed)
          .filter((x): x is number => x !== null),
      })),
    )
    .filter((g) => g.values.length > 0);
  return boxFigure(groups, {
    title: `${regime.title}: effective density by init scheme (blue Glorot, orange He)`,
    yTitle: 'effective density (%)',
    source: sourceLine(study, regime.runs),
  });
}

/** The Sec 4.4 claims checked in words: He higher, the gap growing with width, He converging in fewer epochs. */
export function initVerdicts(cmp: readonly InitWidthComparison[], alpha = 0.05): string[] {
  const out: string[] = [];
  for (const c of cmp) {
    if (c.paired.n === 0) {
      out.push(`${widthLabel(c.width)}: no Glorot/He pair with the same seeds.`);
      continue;
    }
    const sig =
      c.paired.p === null || Number.isNaN(c.paired.p)
        ? 'not testable (fewer than 2 pairs or no variation)'
        : c.paired.p < alpha
          ? `significant at ${alpha}`
          : `not significant at ${alpha}`;
    out.push(
      `${widthLabel(c.width)}: He - Glorot = ${c.paired.meanDiff >= 0 ? '+' : ''}${c.paired.meanDiff.toFixed(1)} points over ${c.paired.n} seed pair(s), ${formatP(c.paired.p)}: ${sig}.`,
    );
  }
  const diffs = cmp.filter((c) => c.paired.n > 0).map((c) => ({ x: c.width, y: c.paired.meanDiff }));
  const higher = diffs.filter((d) => d.y > 0).length;
  const gap = trend(diffs);
  out.push(
    `He gives the higher mean effective density at ${higher} of ${diffs.length} width(s) (paper: He higher); ` +
      `${gap === 'one width only' ? 'one width only, so no trend of the He - Glorot gap' : `the He - Glorot gap is ${gap} with width`} (paper: grows with width).`,
  );
  const faster = cmp.filter((c) => c.glorotEpochs !== null && c.heEpochs !== null);
  if (faster.length)
    out.push(
      `He trains in fewer epochs than Glorot at ${faster.filter((c) => (c.heEpochs as number) < (c.glorotEpochs as number)).length} of ${faster.length} width(s) (paper: He converges faster).`,
    );
  return out;
}
