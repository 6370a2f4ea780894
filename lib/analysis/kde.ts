// Gaussian kernel density estimate for the effective-density distributions (paper Fig. 5). Bandwidth rules
// follow scipy.stats.gaussian_kde (which seaborn's kdeplot uses, so most likely the paper's figure):
//   scott     h = sd * n^(-1/5)                 (the default)
//   silverman h = sd * (3n/4)^(-1/5)            (scipy's "silverman", ~1.06 sd n^(-1/5); not 0.9 min(sd, IQR/1.34))
// with sd the sample standard deviation (n - 1).

export type BandwidthRule = 'scott' | 'silverman';

function fail(field: string, value: unknown, why: string): never {
  throw new Error(`kde: ${field} = ${String(value)} ${why}`);
}

function checkSamples(samples: readonly number[]): void {
  if (samples.length === 0) fail('samples.length', 0, 'is empty');
  samples.forEach((s, i) => {
    if (!Number.isFinite(s)) fail(`samples[${i}]`, s, 'is not finite');
  });
}

/**
 * The kernel standard deviation a rule gives for these samples. Throws when the samples have no spread
 * (n < 2 or all equal): a rule-based bandwidth would be 0, so pass an explicit bandwidth instead.
 */
export function kdeBandwidth(samples: readonly number[], rule: BandwidthRule = 'scott'): number {
  checkSamples(samples);
  const n = samples.length;
  if (n < 2) fail('samples.length', n, `is too small for the ${rule} rule (needs 2); pass an explicit bandwidth`);
  let m = 0;
  for (const s of samples) m += s;
  m /= n;
  let ss = 0;
  for (const s of samples) ss += (s - m) * (s - m);
  const sd = Math.sqrt(ss / (n - 1));
  if (!(sd > 0)) fail('samples', `[${samples.slice(0, 3).join(', ')}${n > 3 ? ', ...' : ''}]`, 'have zero spread; pass an explicit bandwidth');
  if (rule === 'scott') return sd * Math.pow(n, -1 / 5);
  if (rule === 'silverman') return sd * Math.pow((n * 3) / 4, -1 / 5);
  return fail('rule', rule, "is not 'scott' or 'silverman'");
}

/**
 * Density at each x of the Gaussian KDE (1/n) sum_i N(x; sample_i, h^2). `bandwidth` is h itself (a
 * positive number) or a rule; default 'scott'. Integrates to 1 over the real line.
 */
export function kde(samples: readonly number[], xs: readonly number[], bandwidth: number | BandwidthRule = 'scott'): number[] {
  checkSamples(samples);
  let h: number;
  if (typeof bandwidth === 'number') {
    if (!(Number.isFinite(bandwidth) && bandwidth > 0)) fail('bandwidth', bandwidth, 'must be a positive number');
    h = bandwidth;
  } else {
    h = kdeBandwidth(samples, bandwidth);
  }
  const norm = 1 / (samples.length * h * Math.sqrt(2 * Math.PI));
  return xs.map((x) => {
    let s = 0;
    for (const c of samples) {
      const z = (x - c) / h;
      s += Math.exp(-0.5 * z * z);
    }
    return s * norm;
  });
}
