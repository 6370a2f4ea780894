// How a size measure scales with model size: the slope b of log(measure) against log(weights) by least squares
// (measure ~ weights^b). b = 0: the measure does not grow with the model (the paper's null hypothesis for the core);
// b = 1: it grows in proportion (a constant effective density). Two-tailed t-tests of both, df = n - 2.
import { tTwoTailed } from './stats';

export interface ScalingFit {
  /** Points used (both values > 0 and finite). */
  n: number;
  /** Points left out (a value <= 0 or not finite: no logarithm). */
  excluded: number;
  /** Exponent b of measure ~ weights^b, its standard error, and the intercept of log(measure) = a + b log(weights). */
  slope: number;
  slopeSe: number;
  intercept: number;
  /** p-values of b = 0 and of b = 1. */
  pConstant: number;
  pProportional: number;
}

/** Least-squares fit of log(y) = a + b log(x); null with fewer than 3 usable points or a single x. */
export function scalingExponent(x: readonly number[], y: readonly number[]): ScalingFit | null {
  if (x.length !== y.length) throw new Error(`scalingExponent: ${x.length} x values and ${y.length} y values`);
  const lx: number[] = [];
  const ly: number[] = [];
  for (let i = 0; i < x.length; i++) {
    if (x[i] > 0 && y[i] > 0 && Number.isFinite(x[i]) && Number.isFinite(y[i])) {
      lx.push(Math.log(x[i]));
      ly.push(Math.log(y[i]));
    }
  }
  const n = lx.length;
  if (n < 3) return null;
  const mx = lx.reduce((a, b) => a + b, 0) / n;
  const my = ly.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i] - mx) ** 2;
    sxy += (lx[i] - mx) * (ly[i] - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ly[i] - intercept - slope * lx[i]) ** 2;
  const slopeSe = Math.sqrt(sse / (n - 2) / sxx);
  const p = (b0: number): number => (slopeSe === 0 ? (slope === b0 ? 1 : 0) : tTwoTailed((slope - b0) / slopeSe, n - 2));
  return { n, excluded: x.length - n, slope, slopeSe, intercept, pConstant: p(0), pProportional: p(1) };
}
