// The paper's null hypothesis (Sec 4.2): the 'core' model size (absolute number of unpruned weights at the
// effective density) does not change with width. Under it, a model of size s would have the effective density
// core(1x counterpart) / totalWeights(s), capped at 100%.

function fail(fn: string, field: string, value: unknown, why: string): never {
  throw new Error(`${fn}: ${field} = ${String(value)} ${why}`);
}

function checkTotal(fn: string, totalWeights: number): void {
  if (!(Number.isFinite(totalWeights) && totalWeights > 0)) fail(fn, 'totalWeights', totalWeights, 'must be a positive number');
}

/**
 * Absolute number of unpruned weights at the effective density: density / 100 * totalWeights.
 * Not rounded: a density read off a trajectory gives an integer up to float error already, and rounding would
 * distort a density that is a mean over runs.
 */
export function coreSize(effectiveDensityPercent: number, totalWeights: number): number {
  if (!(effectiveDensityPercent >= 0 && effectiveDensityPercent <= 100)) {
    fail('coreSize', 'effectiveDensityPercent', effectiveDensityPercent, 'must be a percent in [0, 100]');
  }
  checkTotal('coreSize', totalWeights);
  return (effectiveDensityPercent / 100) * totalWeights;
}

/**
 * Effective density (percent) a model with `totalWeights` weights would have if it kept exactly the 1x
 * model's core: 100 * core / total, capped at 100 (the paper: "even if the proportion is technically bigger").
 */
export function nullHypothesisDensity(coreSizeOf1x: number, totalWeights: number): number {
  if (!(Number.isFinite(coreSizeOf1x) && coreSizeOf1x >= 0)) fail('nullHypothesisDensity', 'coreSizeOf1x', coreSizeOf1x, 'must be a number >= 0');
  checkTotal('nullHypothesisDensity', totalWeights);
  return Math.min(100, (100 * coreSizeOf1x) / totalWeights);
}

/** The fields pairWithBaseline needs from a run row (a row of the results table fits structurally). */
export interface NullHypothesisRow {
  /**
   * Architecture + training regime + task, e.g. 'mlp/sgd/mnist': rows are only paired within one regime.
   * Optional because a table may not carry it: then pass `regimeOf`.
   */
  regime?: string;
  /** Width multiplier (0.1, 0.5, 1, 2, 5). */
  width: number;
  initSeed: number;
  dataSeed: number;
  /** Initialisation scheme ('glorot' | 'he'); part of the match because each scheme has its own 1x model. */
  init: string;
  /** Observed effective density, percent; null for a run without one (e.g. diverged). */
  effectiveDensity: number | null;
  /** Prunable weights of this model (weights only, as in the paper's Table 1). */
  totalWeights: number;
}

export interface PairingOptions<T> {
  /** Width of the reference models. Default 1. */
  baselineWidth?: number;
  /** The regime key of a row. Default: its `regime` field, which must then be a string. */
  regimeOf?: (row: T) => string;
}

export interface PairedRow<T extends NullHypothesisRow> {
  row: T;
  /** Core size of the matched 1x model, or null when there is none. */
  baselineCoreSize: number | null;
  /** Null-hypothesis density for this row (percent, capped at 100), or null when there is no 1x counterpart. */
  nullDensity: number | null;
}

export interface PairingResult<T extends NullHypothesisRow> {
  /** One entry per input row, in input order (1x rows are paired with themselves: null = observed). */
  paired: PairedRow<T>[];
  /** The rows that had no usable 1x counterpart (their nullDensity is null). */
  unmatched: T[];
}

function defaultRegimeOf(row: NullHypothesisRow): string {
  if (typeof row.regime !== 'string') {
    fail('pairWithBaseline', 'row.regime', row.regime, 'is not a string: give rows a regime or pass opts.regimeOf');
  }
  return row.regime;
}

/**
 * Null-hypothesis density for every row, from the baseline-width (1x) run with the same regime, init scheme,
 * init seed and data seed. A 1x run without an effective density (null) is no baseline: its counterparts
 * end up unmatched. Throws if two baseline rows share a key (the pairing would be ambiguous).
 */
export function pairWithBaseline<T extends NullHypothesisRow>(rows: readonly T[], opts: PairingOptions<T> = {}): PairingResult<T> {
  const baselineWidth = opts.baselineWidth ?? 1;
  const regimeOf = opts.regimeOf ?? defaultRegimeOf;
  const key = (r: T): string => JSON.stringify([regimeOf(r), r.init, r.initSeed, r.dataSeed]);
  const baselines = new Map<string, number | null>();
  for (const r of rows) {
    if (r.width !== baselineWidth) continue;
    const k = key(r);
    if (baselines.has(k)) fail('pairWithBaseline', 'baseline key', k, `occurs twice among width-${baselineWidth} rows`);
    baselines.set(k, r.effectiveDensity === null ? null : coreSize(r.effectiveDensity, r.totalWeights));
  }
  const paired: PairedRow<T>[] = [];
  const unmatched: T[] = [];
  for (const row of rows) {
    const core = baselines.get(key(row));
    if (core === undefined || core === null) {
      unmatched.push(row);
      paired.push({ row, baselineCoreSize: null, nullDensity: null });
    } else {
      paired.push({ row, baselineCoreSize: core, nullDensity: nullHypothesisDensity(core, row.totalWeights) });
    }
  }
  return { paired, unmatched };
}
