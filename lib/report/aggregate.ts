// Notebook-level aggregation across runs: grouping by regime and width, mean and sd bands of pruning
// trajectories over seeds, KDE curves, paired tests, trends. Pure functions of plain data (no display), so
// each is tested in test/report/aggregate.test.ts.
import { NEAR_CHANCE_POINTS, notAnalysableReason } from '../analysis/effectiveDensity';
import { kde, kdeBandwidth } from '../analysis/kde';
import { mean, sd, tTwoTailed } from '../analysis/stats';
import { colourFor, type BandSeries } from '../plots/figures';
import type { TrajectoryRecordPoint } from '../store/runRecord';
import { PAPER_REGIME_TITLES, paperRegimeOf, type PaperRegime } from '../protocol';
import type { StudyRun } from './study';

/** Mean and sample sd (sd null below 2 values; both null with none). */
export interface MeanSd {
  n: number;
  mean: number | null;
  sd: number | null;
}

export function meanSd(xs: readonly number[]): MeanSd {
  return { n: xs.length, mean: xs.length ? mean(xs) : null, sd: xs.length >= 2 ? sd(xs) : null };
}

/** Group items by key, keeping the order in which keys first appear. */
export function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}

/** Distinct numbers, ascending. */
export function uniqueSorted(xs: readonly number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

/** "0.1x", "1x", "5x". */
export function widthLabel(w: number): string {
  return `${w}x`;
}

const ARCH_TITLES: Record<string, string> = { mlp: 'MLP', conv2: 'Conv-2', resnet: 'ResNet' };
const OPT_TITLES: Record<string, string> = { sgd: 'SGD', adam: 'Adam', adagrad: 'Adagrad' };
const DATASET_TITLES: Record<string, string> = { mnist: 'MNIST', cifar10: 'CIFAR-10' };

/** A run kept out of a regime's means, tests and KDEs, and why. */
export interface LeftOutRun {
  run: StudyRun;
  /** 'never degraded' (its effective density is only the last level's) or 'near chance' (it never learned). */
  reason: string;
}

/** A regime: one profile group (architecture + optimizer + task + training settings) and its runs. */
export interface Regime {
  /** The profile group label (regimes are never mixed across groups). */
  key: string;
  title: string;
  arch: string;
  optimizer: string;
  dataset: string;
  /** The paper's matching regime, for its numbers; null if the paper has none. */
  paper: PaperRegime | null;
  /** The runs its means, tests, KDEs and figures use. */
  runs: StudyRun[];
  /** Complete runs left out by default: they never degraded past the threshold, or are within a few points of chance. */
  leftOut: LeftOutRun[];
}

/**
 * Environment variable that makes regimesOf keep such runs unless told otherwise: for profiles whose models are
 * near chance by design (the smoke profile's tiny runs, which exist to exercise every figure).
 */
export const INCLUDE_DEGENERATE_ENV = 'DENSITY_INCLUDE_DEGENERATE';

export interface RegimeOptions {
  /** Keep runs that never degraded or are near chance in the means, tests and KDEs. Default false (true when $DENSITY_INCLUDE_DEGENERATE is 1). */
  includeDegenerate?: boolean;
  /** Accuracy points above chance below which a run counts as near chance (default NEAR_CHANCE_POINTS). */
  minChanceMargin?: number;
}

/**
 * Runs grouped into regimes (by profile group), in the order the groups first appear. By default a complete run
 * whose effective density is no evidence about density (never degraded, or within a few points of chance: a
 * model that never learned has "effective density 0") is left out of the regime's runs and listed in `leftOut`.
 */
export function regimesOf(runs: readonly StudyRun[], opts: RegimeOptions = {}): Regime[] {
  const groups = groupBy(runs, (r) => r.row.group);
  const includeDegenerate = opts.includeDegenerate ?? process.env[INCLUDE_DEGENERATE_ENV] === '1';
  const out: Regime[] = [];
  for (const [key, list] of groups) {
    const { arch, optimizer, dataset } = list[0].row;
    const paper = paperRegimeOf(arch, optimizer);
    const standard = paper
      ? PAPER_REGIME_TITLES[paper]
      : `${ARCH_TITLES[arch] ?? arch} (${OPT_TITLES[optimizer] ?? optimizer}, ${DATASET_TITLES[dataset] ?? dataset})`;
    // Two groups of one paper regime in a profile (e.g. two learning rates) keep apart by their labels.
    const sameRegime = [...groups.values()].filter((l) => l[0].row.arch === arch && l[0].row.optimizer === optimizer).length;
    const kept: StudyRun[] = [];
    const leftOut: LeftOutRun[] = [];
    for (const r of list) {
      // Diverged runs have no effective density at all; the sections already skip them where it matters.
      const reason = r.row.status === 'complete' && !includeDegenerate ? notAnalysableReason(r.row, opts.minChanceMargin ?? NEAR_CHANCE_POINTS) : null;
      if (reason) leftOut.push({ run: r, reason });
      else kept.push(r);
    }
    out.push({ key, title: sameRegime > 1 ? `${standard} [${key}]` : standard, arch, optimizer, dataset, paper, runs: kept, leftOut });
  }
  return out;
}

/** How many of a regime's runs (of one width, when given) were left out of its means, tests and KDEs. */
export function leftOutCount(regime: Regime, width?: number): number {
  return regime.leftOut.filter((l) => width === undefined || l.run.row.width === width).length;
}

/** "none", or "3 (2 never degraded, 1 near chance)": the left-out runs of a regime (of one width, when given). */
export function leftOutText(regime: Regime, width?: number): string {
  const list = regime.leftOut.filter((l) => width === undefined || l.run.row.width === width);
  if (list.length === 0) return 'none';
  const by = groupBy(list, (l) => l.reason);
  return `${list.length} (${[...by].map(([reason, xs]) => `${xs.length} ${reason}`).join(', ')})`;
}

/** Runs grouped by width, ascending. */
export function byWidth<T extends { row: { width: number } }>(runs: readonly T[]): { width: number; runs: T[] }[] {
  const g = groupBy(runs, (r) => r.row.width);
  return [...g.keys()].sort((a, b) => a - b).map((width) => ({ width, runs: g.get(width) as T[] }));
}

// ---- pruning trajectories: mean and +-1 sd over seeds ----

export interface TrajectoryBand {
  width: number;
  /** Runs averaged. */
  n: number;
  /** Density (percent) per pruning level. */
  density: number[];
  mean: number[];
  /** Sample sd per level; null with a single run. */
  sd: (number | null)[];
  lower: number[];
  upper: number[];
}

/**
 * Mean and +-1 sd of validation accuracy (in percent) or loss at each pruning level, over the runs of each
 * width. Levels are matched by index: runs of one width and pruning settings share their density levels
 * (a level prunes floor(k * n / levels) of every layer); the density shown is their mean. Runs with
 * trajectories of different lengths are cut to the shortest.
 */
export function trajectoryBands(
  runs: readonly { width: number; trajectory: readonly TrajectoryRecordPoint[] | null }[],
  metric: 'accuracy' | 'loss' = 'accuracy',
): TrajectoryBand[] {
  const withTraj = runs.filter(
    (r): r is { width: number; trajectory: readonly TrajectoryRecordPoint[] } => Array.isArray(r.trajectory) && r.trajectory.length > 0,
  );
  const groups = groupBy(withTraj, (r) => r.width);
  return [...groups.keys()]
    .sort((a, b) => a - b)
    .map((width) => {
      const list = groups.get(width) as { trajectory: readonly TrajectoryRecordPoint[] }[];
      const levels = Math.min(...list.map((r) => r.trajectory.length));
      const band: TrajectoryBand = { width, n: list.length, density: [], mean: [], sd: [], lower: [], upper: [] };
      for (let k = 0; k < levels; k++) {
        const ys = list.map((r) => (metric === 'accuracy' ? 100 * r.trajectory[k].accuracy : r.trajectory[k].loss));
        const s = meanSd(ys);
        const m = s.mean as number;
        band.density.push(mean(list.map((r) => r.trajectory[k].density)));
        band.mean.push(m);
        band.sd.push(s.sd);
        band.lower.push(m - (s.sd ?? 0));
        band.upper.push(m + (s.sd ?? 0));
      }
      return band;
    });
}

/** Bands as lineBandFigure series, coloured by width; a single run has no band. */
export function bandSeries(bands: readonly TrajectoryBand[], label: (b: TrajectoryBand) => string = (b) => `${widthLabel(b.width)} (n=${b.n})`): BandSeries[] {
  return bands.map((b) => ({
    name: label(b),
    x: b.density,
    mean: b.mean,
    colour: colourFor(b.width),
    ...(b.n >= 2 ? { lower: b.lower, upper: b.upper } : {}),
  }));
}

/**
 * How far apart the widths' mean curves are: at each level index, the sd across widths of the width means,
 * averaged over levels (percentage points for accuracy). 0 when every width has the same mean curve;
 * null with fewer than two widths.
 */
export function curveSpread(bands: readonly TrajectoryBand[]): number | null {
  if (bands.length < 2) return null;
  const levels = Math.min(...bands.map((b) => b.mean.length));
  if (levels === 0) return null;
  let s = 0;
  for (let k = 0; k < levels; k++) s += sd(bands.map((b) => b.mean[k]));
  return s / levels;
}

// ---- distributions ----

export interface KdeCurve {
  x: number[];
  y: number[];
  /** The kernel sd used. */
  bandwidth: number;
  /** 'scott' normally; 'fixed' when the samples have no spread (one run, or all equal) and Scott's rule gives 0. */
  rule: 'scott' | 'fixed';
}

/** Kernel sd used when Scott's rule cannot be (fewer than two distinct values): 2 density points, one pruning step. */
export const FALLBACK_BANDWIDTH = 2;

/** Gaussian KDE of effective densities (percent) on a grid over [0, 100], as the paper's Fig 5 (scipy/seaborn's Scott rule). */
export function effectiveDensityKde(values: readonly number[], gridPoints = 201): KdeCurve {
  const x = Array.from({ length: gridPoints }, (_, i) => (100 * i) / (gridPoints - 1));
  let bandwidth = FALLBACK_BANDWIDTH;
  let rule: KdeCurve['rule'] = 'fixed';
  if (new Set(values).size >= 2) {
    bandwidth = kdeBandwidth(values, 'scott');
    rule = 'scott';
  }
  return { x, y: kde(values, x, bandwidth), bandwidth, rule };
}

// ---- tests and trends ----

export interface PairedTest {
  /** Pairs used. */
  n: number;
  /** Mean of b - a. */
  meanDiff: number;
  sdDiff: number | null;
  t: number | null;
  df: number | null;
  /** Two-tailed; null below two pairs (or NaN when every difference is 0). */
  p: number | null;
}

/**
 * Paired two-tailed t-test of b - a over pairs matched by key (e.g. init seed and data seed). Unmatched
 * items are ignored. With all differences equal and non-zero, t is infinite and p = 0.
 */
export function pairedTTest<T>(a: readonly T[], b: readonly T[], key: (t: T) => string, value: (t: T) => number | null): PairedTest {
  const left = new Map<string, number>();
  for (const x of a) {
    const v = value(x);
    if (v !== null && Number.isFinite(v)) left.set(key(x), v);
  }
  const diffs: number[] = [];
  for (const y of b) {
    const v = value(y);
    const u = left.get(key(y));
    if (u !== undefined && v !== null && Number.isFinite(v)) diffs.push(v - u);
  }
  const n = diffs.length;
  if (n === 0) return { n, meanDiff: NaN, sdDiff: null, t: null, df: null, p: null };
  const m = mean(diffs);
  if (n < 2) return { n, meanDiff: m, sdDiff: null, t: null, df: null, p: null };
  const s = sd(diffs);
  const t = s === 0 ? (m === 0 ? NaN : m > 0 ? Infinity : -Infinity) : m / (s / Math.sqrt(n));
  return { n, meanDiff: m, sdDiff: s, t, df: n - 1, p: Number.isNaN(t) ? NaN : tTwoTailed(t, n - 1) };
}

export type Trend = 'increasing' | 'decreasing' | 'mixed' | 'flat' | 'one width only';

/** Direction of ys along ascending xs: every step up, every step down, no change, or mixed. */
export function trend(points: readonly { x: number; y: number }[]): Trend {
  const sorted = [...points].sort((a, b) => a.x - b.x);
  if (sorted.length < 2) return 'one width only';
  const steps = sorted.slice(1).map((p, i) => p.y - sorted[i].y);
  if (steps.every((d) => d === 0)) return 'flat';
  if (steps.every((d) => d >= 0)) return 'increasing';
  if (steps.every((d) => d <= 0)) return 'decreasing';
  return 'mixed';
}

/** "p = 0.012", "p < 1e-16", "p = 3.1e-5"; "n/a" when there is no p-value. */
export function formatP(p: number | null): string {
  if (p === null || Number.isNaN(p)) return 'n/a';
  if (p === 0 || p < 1e-16) return 'p < 1e-16';
  if (p < 0.001) return `p = ${p.toExponential(1)}`;
  return `p = ${p.toFixed(3)}`;
}

// ---- the runs left out, in every table ----

/** Column every per-width table of a regime carries: how many of that width's runs its numbers leave out. */
export const LEFT_OUT_COLUMN = 'left out';

/**
 * Rows of one regime's per-width table (a `width` column), each with how many of that width's runs were left out;
 * a width whose every run was left out gets a row of its own, so no table hides that its regime never learned.
 */
export function withLeftOut<R extends Record<string, unknown>>(regime: Regime, rows: readonly R[]): (R | Record<string, number>)[] {
  const out: (R | Record<string, number>)[] = rows.map((r) => ({
    ...r,
    [LEFT_OUT_COLUMN]: typeof r.width === 'number' ? leftOutCount(regime, r.width) : leftOutCount(regime),
  }));
  const shown = new Set(rows.map((r) => r.width));
  for (const w of uniqueSorted(regime.leftOut.map((l) => l.run.row.width))) {
    if (!shown.has(w) && rows.every((r) => typeof r.width === 'number')) out.push({ width: w, [LEFT_OUT_COLUMN]: leftOutCount(regime, w) });
  }
  return out;
}

/** The same for a table over several regimes (a `regime` column holding each regime's title). */
export function withLeftOutByRegime<R extends Record<string, unknown>>(
  regimes: readonly Regime[],
  rows: readonly R[],
): (R | Record<string, number | string>)[] {
  return regimes.flatMap((g) =>
    withLeftOut(
      g,
      rows.filter((r) => r.regime === g.title),
    ).map((r) => ({ regime: g.title, ...r })),
  );
}
