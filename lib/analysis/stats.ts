// Descriptive statistics and the paper's two tests (Sec 4.2): one-way ANOVA across widths, and the unpaired
// two-tailed t-test per width. Tail probabilities come from jstat's regularised incomplete beta directly
// (not 1 - cdf), so p-values far below 1e-16 keep their RELATIVE precision. That precision is ~1e-7, not
// 1e-15: jstat's continued fraction (betacf) stops at a relative change of 3e-7. Ample for reporting p-values.
import { jStat } from 'jstat';

function fail(fn: string, field: string, value: unknown, why: string): never {
  throw new Error(`${fn}: ${field} = ${String(value)} ${why}`);
}

function checkValues(fn: string, field: string, xs: readonly number[], minLength: number): void {
  if (!Array.isArray(xs)) fail(fn, field, xs, 'is not an array');
  if (xs.length < minLength) fail(fn, `${field}.length`, xs.length, `is below the minimum of ${minLength}`);
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isFinite(xs[i])) fail(fn, `${field}[${i}]`, xs[i], 'is not a finite number');
  }
}

function allEqual(xs: readonly number[]): boolean {
  for (let i = 1; i < xs.length; i++) if (xs[i] !== xs[0]) return false;
  return true;
}

// Mean that is exact for constant data: jstat's sum/n turns [0.1, 0.1, 0.1] into 0.10000000000000002, which
// would give a constant group a spurious ~1e-34 variance and an enormous instead of an undefined F.
function exactMean(xs: readonly number[]): number {
  return allEqual(xs) ? xs[0] : jStat.mean(xs);
}

function sumSq(xs: readonly number[], m: number): number {
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return s;
}

/** Arithmetic mean. Throws on an empty array. */
export function mean(xs: readonly number[]): number {
  checkValues('mean', 'values', xs, 1);
  return exactMean(xs);
}

/** Sample variance (divides by n - 1). Throws when n < 2 (undefined). */
export function variance(xs: readonly number[]): number {
  checkValues('variance', 'values', xs, 2);
  return sumSq(xs, exactMean(xs)) / (xs.length - 1);
}

/** Sample standard deviation (n - 1, as in the paper's tables). Throws when n < 2 (undefined). */
export function sd(xs: readonly number[]): number {
  checkValues('sd', 'values', xs, 2);
  return allEqual(xs) ? 0 : jStat.stdev(xs, true);
}

/** Upper tail P(F > f) of the F distribution with (d1, d2) degrees of freedom. */
export function fSurvival(f: number, d1: number, d2: number): number {
  if (Number.isNaN(f)) return NaN;
  if (f === Infinity) return 0;
  if (f <= 0) return 1;
  return jStat.ibeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

/** Two-tailed P(|T| > |t|) of Student's t distribution with df degrees of freedom. */
export function tTwoTailed(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0; // infinitely far out: p = 0 whatever df is
  if (!(df > 0)) return NaN;
  return Math.min(1, jStat.ibeta(df / (df + t * t), df / 2, 0.5));
}

export interface AnovaResult {
  F: number;
  dfBetween: number;
  dfWithin: number;
  p: number;
  /** Sums of squares, for tables and checks. */
  ssBetween: number;
  ssWithin: number;
}

/**
 * One-way ANOVA (fixed effects) over k >= 2 groups, each with >= 1 value and N - k >= 1 in total.
 * Degenerate cases (every group constant, so the within-group sum of squares is exactly 0):
 *   - group means differ: F = Infinity, p = 0 (the groups are perfectly separated);
 *   - all values identical: F = NaN, p = NaN (0/0: no variation at all to test), as scipy's f_oneway.
 */
export function oneWayAnova(groups: readonly (readonly number[])[]): AnovaResult {
  if (!Array.isArray(groups) || groups.length < 2) fail('oneWayAnova', 'groups.length', groups?.length, 'must be at least 2');
  groups.forEach((g, i) => checkValues('oneWayAnova', `groups[${i}]`, g, 1));
  const all = groups.flat();
  const N = all.length,
    k = groups.length;
  const dfBetween = k - 1,
    dfWithin = N - k;
  if (dfWithin < 1) fail('oneWayAnova', 'total n - groups', dfWithin, 'must be at least 1 (some group needs 2 values)');
  const grand = exactMean(all);
  let ssBetween = 0,
    ssWithin = 0;
  for (const g of groups) {
    const m = exactMean(g);
    ssBetween += g.length * (m - grand) * (m - grand);
    ssWithin += sumSq(g, m);
  }
  const msb = ssBetween / dfBetween,
    msw = ssWithin / dfWithin;
  let F: number;
  if (msw === 0) F = msb === 0 ? NaN : Infinity;
  else F = msb / msw;
  return { F, dfBetween, dfWithin, p: fSurvival(F, dfBetween, dfWithin), ssBetween, ssWithin };
}

/** Alias under the name ARCHITECTURE.md uses. */
export const anova = oneWayAnova;

export interface TTestResult {
  /** (mean(a) - mean(b)) / standard error. */
  t: number;
  df: number;
  /** Two-tailed. */
  p: number;
  meanA: number;
  meanB: number;
}

/**
 * Unpaired two-sample two-tailed t-test. Default: Student's test with pooled variance, df = na + nb - 2
 * (needs na, nb >= 1 and na + nb >= 3). With `welch: true`: unequal variances, Welch-Satterthwaite df
 * (needs na, nb >= 2).
 * Degenerate cases (standard error exactly 0, i.e. both samples constant):
 *   - different means: t = +-Infinity, p = 0;
 *   - equal means: t = NaN, p = NaN (0/0), as scipy's ttest_ind.
 *   With welch, the Welch-Satterthwaite df is 0/0 then and is reported as NaN.
 */
export function tTest(a: readonly number[], b: readonly number[], opts: { welch?: boolean } = {}): TTestResult {
  const welch = opts.welch ?? false;
  const minN = welch ? 2 : 1;
  checkValues('tTest', 'a', a, minN);
  checkValues('tTest', 'b', b, minN);
  const na = a.length,
    nb = b.length;
  if (!welch && na + nb < 3) fail('tTest', 'a.length + b.length', na + nb, 'must be at least 3 for the pooled test');
  const meanA = exactMean(a),
    meanB = exactMean(b);
  const ssA = sumSq(a, meanA),
    ssB = sumSq(b, meanB);
  const diff = meanA - meanB;
  let se2: number, df: number;
  if (welch) {
    const va = ssA / (na - 1) / na,
      vb = ssB / (nb - 1) / nb;
    se2 = va + vb;
    df = se2 === 0 ? NaN : (se2 * se2) / ((va * va) / (na - 1) + (vb * vb) / (nb - 1));
  } else {
    df = na + nb - 2;
    se2 = ((ssA + ssB) / df) * (1 / na + 1 / nb);
  }
  let t: number;
  if (se2 === 0) t = diff === 0 ? NaN : diff > 0 ? Infinity : -Infinity;
  else t = diff / Math.sqrt(se2);
  return { t, df, p: tTwoTailed(t, df), meanA, meanB };
}
