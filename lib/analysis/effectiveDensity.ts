// Effective density (paper Sec 3.2): the density at the FIRST pruning step whose validation performance has
// degraded beyond a threshold relative to the unpruned model (trajectory[0]).

/** One point of a pruning trajectory. Structural, so lib/prune's TrajectoryPoint (and run.json rows) fit. */
export interface TrajectoryLike {
  /** Percent of prunable weights remaining: 100 at the first point, non-increasing after. */
  density: number;
  /** Validation accuracy as a fraction in [0, 1]. */
  accuracy: number;
  /** Validation loss (mean cross-entropy). */
  loss: number;
}

export type EffectiveDensityMetric = 'accuracy' | 'loss';
export type ThresholdMode = 'points' | 'relative';

export interface EffectiveDensityOptions {
  /** 'accuracy' (the paper's figures) or 'loss' (the paper's variant). Default 'accuracy'. */
  metric?: EffectiveDensityMetric;
  /**
   * How much degradation is acceptable, in (0, 100]. Default 5.
   * - accuracy, 'points': percentage points of accuracy (accuracy * 100), so 5 means 0.95 -> 0.90.
   * - accuracy, 'relative': percent of the unpruned accuracy, so 5 means 0.90 -> 0.855.
   * - loss, 'points': ABSOLUTE loss units (nats of cross-entropy), so 5 means loss0 -> loss0 + 5; a loss
   *   threshold this large is rarely what you want: pass e.g. 0.1.
   * - loss, 'relative': percent of the unpruned loss, so 5 means loss0 -> 1.05 * loss0.
   */
  threshold?: number;
  /** 'points' (absolute difference, the project's default reading of "5%") or 'relative'. Default 'points'. */
  mode?: ThresholdMode;
}

export const DEFAULT_EFFECTIVE_DENSITY_OPTIONS: Readonly<Required<EffectiveDensityOptions>> = Object.freeze({
  metric: 'accuracy',
  threshold: 5,
  mode: 'points',
});

export interface EffectiveDensityResult {
  /** Density (percent) of the first degraded level, or of the last level when none degraded. */
  density: number;
  /** Index into the trajectory of that level (equals the pruning step k for a full 0..50 trajectory). */
  level: number;
  /** False when no level degraded beyond the threshold (then `density` is the last level's). */
  degraded: boolean;
}

// Float slack when comparing a degradation with the threshold: (0.90 - 0.85) * 100 is 5.000000000000004 in
// binary floating point, and a drop that EQUALS the threshold must not count as beyond it. Accuracies on a
// 5,000-image validation set move in steps of 0.02 points, so 1e-9 cannot hide a real difference.
const EPS = 1e-9;

function fail(field: string, value: unknown, why: string): never {
  throw new Error(`effectiveDensity: ${field} = ${String(value)} ${why}`);
}

function resolve(opts: EffectiveDensityOptions): Required<EffectiveDensityOptions> {
  const o = { ...DEFAULT_EFFECTIVE_DENSITY_OPTIONS, ...stripUndefined(opts) };
  if (o.metric !== 'accuracy' && o.metric !== 'loss') fail('metric', o.metric, "is not 'accuracy' or 'loss'");
  if (o.mode !== 'points' && o.mode !== 'relative') fail('mode', o.mode, "is not 'points' or 'relative'");
  if (typeof o.threshold !== 'number' || !(o.threshold > 0 && o.threshold <= 100)) {
    fail('threshold', o.threshold, 'is out of range: it must be > 0 and <= 100');
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Checks the trajectory's shape; throws an Error naming the offending field and value. */
export function validateTrajectory(trajectory: readonly TrajectoryLike[], metric: EffectiveDensityMetric): void {
  if (!Array.isArray(trajectory)) fail('trajectory', trajectory, 'is not an array');
  if (trajectory.length === 0) fail('trajectory.length', 0, 'is empty: need at least the unpruned point');
  if (trajectory[0].density !== 100) fail('trajectory[0].density', trajectory[0].density, 'is not 100 (the unpruned model)');
  for (let i = 0; i < trajectory.length; i++) {
    const p = trajectory[i];
    if (!(p.density >= 0 && p.density <= 100)) fail(`trajectory[${i}].density`, p.density, 'is not a percent in [0, 100]');
    if (i > 0 && p.density > trajectory[i - 1].density) {
      fail(`trajectory[${i}].density`, p.density, `increases (previous ${trajectory[i - 1].density}); densities must not increase`);
    }
    // NaN accuracy/loss at pruned levels is allowed (counted as degraded); out-of-range accuracy is a unit mistake.
    if (metric === 'accuracy' && Number.isFinite(p.accuracy) && (p.accuracy < 0 || p.accuracy > 1)) {
      fail(`trajectory[${i}].accuracy`, p.accuracy, 'is not a fraction in [0, 1] (percent passed by mistake?)');
    }
  }
  const base = metric === 'accuracy' ? trajectory[0].accuracy : trajectory[0].loss;
  if (!Number.isFinite(base)) fail(`trajectory[0].${metric}`, base, 'is not finite: the unpruned model has no reference value');
  if (metric === 'accuracy' && base <= 0) {
    // Nothing can drop below 0 accuracy, and 'relative' would divide by zero.
    fail('trajectory[0].accuracy', base, 'is not > 0: the unpruned model must classify something correctly');
  }
  if (metric === 'loss' && base <= 0) fail('trajectory[0].loss', base, 'is not > 0');
}

/**
 * How far point p has degraded from the unpruned point, in the threshold's unit (points or percent).
 * Non-finite values at a pruned level (e.g. NaN loss) count as infinitely degraded.
 */
function degradation(p: TrajectoryLike, base: TrajectoryLike, metric: EffectiveDensityMetric, mode: ThresholdMode): number {
  if (metric === 'accuracy') {
    if (!Number.isFinite(p.accuracy)) return Infinity;
    const drop = base.accuracy - p.accuracy;
    return mode === 'points' ? drop * 100 : (drop / base.accuracy) * 100;
  }
  if (!Number.isFinite(p.loss)) return Infinity;
  const rise = p.loss - base.loss;
  return mode === 'points' ? rise : (rise / base.loss) * 100;
}

/**
 * Effective density with the level it came from and whether any level degraded.
 * When no level degrades beyond the threshold (only possible if even the last, usually 0%, level still
 * performs, e.g. a degenerate or truncated trajectory), returns the LAST level's density with degraded=false.
 */
export function effectiveDensityDetail(trajectory: readonly TrajectoryLike[], opts: EffectiveDensityOptions = {}): EffectiveDensityResult {
  const { metric, threshold, mode } = resolve(opts);
  validateTrajectory(trajectory, metric);
  const base = trajectory[0];
  for (let i = 1; i < trajectory.length; i++) {
    // Strictly beyond: a degradation exactly equal to the threshold is still acceptable.
    if (degradation(trajectory[i], base, metric, mode) > threshold + EPS * Math.max(1, threshold)) {
      return { density: trajectory[i].density, level: i, degraded: true };
    }
  }
  const last = trajectory.length - 1;
  return { density: trajectory[last].density, level: last, degraded: false };
}

/** Effective density in percent (paper's rule; defaults: accuracy, 5 percentage points). See effectiveDensityDetail. */
export function effectiveDensity(trajectory: readonly TrajectoryLike[], opts: EffectiveDensityOptions = {}): number {
  return effectiveDensityDetail(trajectory, opts).density;
}

export interface EffectiveDensityCurvePoint extends EffectiveDensityResult {
  threshold: number;
}

/** Thresholds 1, 2, ..., 20: the default sweep for the threshold-sensitivity analysis (beyond the paper). */
export const DEFAULT_CURVE_THRESHOLDS: readonly number[] = Object.freeze(Array.from({ length: 20 }, (_, i) => i + 1));

/**
 * Effective density as a function of the threshold (beyond the paper: how much the conclusions depend on
 * the 5-point choice). Non-increasing in the threshold, because a larger threshold can only move the first
 * degraded level later.
 */
export function effectiveDensityCurve(
  trajectory: readonly TrajectoryLike[],
  thresholds: readonly number[] = DEFAULT_CURVE_THRESHOLDS,
  opts: Omit<EffectiveDensityOptions, 'threshold'> = {},
): EffectiveDensityCurvePoint[] {
  if (thresholds.length === 0) fail('thresholds.length', 0, 'is empty');
  return thresholds.map((threshold) => ({ threshold, ...effectiveDensityDetail(trajectory, { ...opts, threshold }) }));
}

/**
 * How far the unpruned model (trajectory[0]) is above chance (1 / numClasses), in accuracy percentage points.
 * A model within a few points of chance never learned: its "effective density" says nothing about density.
 */
export function chanceMargin(trajectory: readonly TrajectoryLike[], numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 2) fail('numClasses', numClasses, 'is not an integer >= 2');
  if (trajectory.length === 0) fail('trajectory.length', 0, 'is empty: need at least the unpruned point');
  const acc = trajectory[0].accuracy;
  if (!Number.isFinite(acc)) fail('trajectory[0].accuracy', acc, 'is not finite');
  return 100 * (acc - 1 / numClasses);
}

/** Runs closer to chance than this (accuracy points) are left out of means, tests and KDEs by default. */
export const NEAR_CHANCE_POINTS = 5;

/** What the report needs to tell whether an effective density means anything. */
export interface Analysability {
  status: string;
  degraded: boolean | null;
  chanceMargin: number | null;
}

/**
 * Why a run's effective density is not evidence about density (never degraded: the number is only the last
 * pruning level; near chance: the model never learned), or null when it is. Diverged runs have none at all.
 */
export function notAnalysableReason(r: Analysability, minMargin = NEAR_CHANCE_POINTS): string | null {
  if (r.status !== 'complete') return 'diverged';
  if (r.chanceMargin === null || r.chanceMargin < minMargin) return 'near chance';
  if (r.degraded === false) return 'never degraded';
  return null;
}
