// Notebook 07 (the paper's Sec 5.2, Figs 7 and 8): are wide and narrow models different functions? Each
// model is its 0/1 correctness vector over one data seed's validation set; t-SNE of the vectors coloured by
// width, and a width x width summary of how often models agree.
import { agreementMatrix, groupStructureTest, tsneEmbedding, type GroupStructureTest } from '../analysis/similarity';
import type { Figure } from '../plots/display';
import { colourFor, heatmapFigure, scatterFigure, type PointGroup } from '../plots/figures';
import { decodeBits } from '../store/bits';
import { LEFT_OUT_COLUMN, leftOutCount, uniqueSorted, widthLabel, type Regime } from './aggregate';
import { sourceLine, type Study, type StudyRun } from './study';
import type { TableRow } from './tables';

export interface CorrectnessSet {
  dataSeed: number;
  runs: StudyRun[];
  vectors: Uint8Array[];
  /** Per width: the regime's runs left out (never degraded, or near chance), for the tables to say so. */
  leftOut: Record<string, number>;
}

/**
 * The runs of one data seed (default: the smallest present) with correctness vectors, decoded. Vectors of one
 * data seed and validation size index the same images, so they are comparable; other seeds are left out.
 */
export function correctnessSet(regime: Regime, dataSeed?: number): CorrectnessSet | null {
  const usable = regime.runs.filter((r) => r.record.correctness !== null);
  if (usable.length === 0) return null;
  const seed = dataSeed ?? Math.min(...usable.map((r) => r.row.dataSeed));
  const ofSeed = usable.filter((r) => r.row.dataSeed === seed);
  if (ofSeed.length === 0) return null;
  const size = ofSeed[0].row.validationSize;
  const runs = ofSeed.filter((r) => r.row.validationSize === size);
  const leftOut = Object.fromEntries(uniqueSorted(regime.leftOut.map((l) => l.run.row.width)).map((w) => [String(w), leftOutCount(regime, w)]));
  return { dataSeed: seed, runs, vectors: runs.map((r) => decodeBits(r.record.correctness as NonNullable<typeof r.record.correctness>)), leftOut };
}

export const INIT_SYMBOLS: Readonly<Record<string, string>> = { glorot: 'circle', he: 'diamond' };

/** t-SNE of the correctness vectors (seeded), a point per model coloured by width; null below 3 models (t-SNE needs 3). */
export function tsneFigure(study: Study, regime: Regime, set: CorrectnessSet, seed = 0): Figure | null {
  if (set.vectors.length < 3) return null;
  const xy = tsneEmbedding(set.vectors, { seed });
  const groups: PointGroup[] = [];
  for (const w of uniqueSorted(set.runs.map((r) => r.row.width))) {
    for (const init of [...new Set(set.runs.map((r) => r.row.init))]) {
      const idx = set.runs.map((r, i) => (r.row.width === w && r.row.init === init ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0) continue;
      groups.push({
        name: `${widthLabel(w)} ${init}`,
        colour: colourFor(w),
        symbol: INIT_SYMBOLS[init] ?? 'square',
        x: idx.map((i) => xy[i][0]),
        y: idx.map((i) => xy[i][1]),
        text: idx.map((i) => `${set.runs[i].record.label}: validation accuracy ${(100 * (set.runs[i].row.validationAccuracy ?? NaN)).toFixed(1)}%`),
      });
    }
  }
  return scatterFigure(groups, {
    title: `${regime.title}: t-SNE of validation correctness vectors (data seed ${set.dataSeed}, ${set.vectors.length} models)`,
    xTitle: 't-SNE 1',
    yTitle: 't-SNE 2',
    source: sourceLine(study, set.runs),
  });
}

export interface WidthAgreement {
  widths: number[];
  /** Mean agreement (fraction of images where both are right or both wrong) between models of width i and j, self-pairs excluded; null when there is no pair. */
  mean: (number | null)[][];
  pairs: number[][];
  /** Per width, runs left out of the set (from its CorrectnessSet); absent for a bare matrix. */
  leftOut?: Record<string, number>;
}

/** Average a model x model agreement matrix over width pairs (a model is never paired with itself). */
export function agreementByWidth(agreement: readonly (readonly number[])[], widths: readonly number[]): WidthAgreement {
  if (agreement.length !== widths.length) throw new Error(`agreementByWidth: ${agreement.length} rows but ${widths.length} widths`);
  const ws = uniqueSorted(widths);
  const sum = ws.map(() => ws.map(() => 0));
  const pairs = ws.map(() => ws.map(() => 0));
  for (let i = 0; i < widths.length; i++) {
    for (let j = 0; j < widths.length; j++) {
      if (i === j) continue;
      const a = ws.indexOf(widths[i]),
        b = ws.indexOf(widths[j]);
      sum[a][b] += agreement[i][j];
      pairs[a][b]++;
    }
  }
  return { widths: ws, mean: sum.map((row, a) => row.map((s, b) => (pairs[a][b] ? s / pairs[a][b] : null))), pairs };
}

/** Agreement of the set's models, averaged by width pair. */
export function widthAgreement(set: CorrectnessSet): WidthAgreement {
  return {
    ...agreementByWidth(
      agreementMatrix(set.vectors),
      set.runs.map((r) => r.row.width),
    ),
    leftOut: set.leftOut,
  };
}

export function agreementRows(wa: WidthAgreement): TableRow[] {
  return wa.widths.map((w, a) => {
    const row: TableRow = { width: w };
    wa.widths.forEach((v, b) => {
      row[`with ${widthLabel(v)} (%)`] = wa.mean[a][b] === null ? null : 100 * (wa.mean[a][b] as number);
    });
    if (wa.leftOut) row[LEFT_OUT_COLUMN] = wa.leftOut[String(w)] ?? 0;
    return row;
  });
}

export function agreementHeatmap(study: Study, regime: Regime, set: CorrectnessSet, wa: WidthAgreement): Figure {
  const labels = wa.widths.map(widthLabel);
  return heatmapFigure(
    wa.mean.map((row) => row.map((v) => (v === null ? NaN : 100 * v))),
    labels,
    labels,
    {
      title: `${regime.title}: mean agreement between models of two widths (%, data seed ${set.dataSeed})`,
      xTitle: 'width',
      yTitle: 'width',
      zTitle: 'agreement %',
      source: sourceLine(study, set.runs),
    },
  );
}

/**
 * Do a set's models of one width agree more with each other than with other widths' models? The permutation test
 * of lib/analysis (width labels shuffled, seeded); null below two widths or without a width of two models.
 */
export function widthStructure(set: CorrectnessSet, opts: { permutations?: number; seed?: number } = {}): GroupStructureTest | null {
  const widths = set.runs.map((r) => r.row.width);
  const distinct = new Set(widths).size;
  if (distinct < 2 || widths.length <= distinct) return null;
  return groupStructureTest(agreementMatrix(set.vectors), widths, { permutations: opts.permutations ?? 2000, seed: opts.seed ?? 0 });
}

/** Within-width against between-width agreement, per width, in words; with `structure`, the permutation test's verdict too. */
export function similarityVerdicts(set: CorrectnessSet, wa: WidthAgreement, structure?: GroupStructureTest | null, alpha = 0.05): string[] {
  const out: string[] = [];
  if (structure)
    out.push(
      `Width structure: models agree on ${(100 * structure.within).toFixed(1)}% of images with models of their own width and on ${(100 * structure.between).toFixed(1)}% with other widths'; ` +
        `with the width labels shuffled (${structure.permutations} times) the excess is this large in a fraction p = ${structure.p.toPrecision(2)}: ` +
        `${structure.p < alpha ? `models of one width ARE more alike (at ${alpha})` : `no width structure detected (at ${alpha})`}.`,
    );
  wa.widths.forEach((w, a) => {
    const within = wa.mean[a][a];
    const others = wa.widths.map((_, b) => (b === a ? null : wa.mean[a][b])).filter((x): x is number => x !== null);
    const between = others.length ? others.reduce((s, x) => s + x, 0) / others.length : null;
    const acc = set.runs
      .filter((r) => r.row.width === w)
      .map((r) => r.row.validationAccuracy)
      .filter((x): x is number => x !== null);
    const meanAcc = acc.length ? (100 * acc.reduce((s, x) => s + x, 0)) / acc.length : null;
    if (within === null && between === null) {
      out.push(`${widthLabel(w)}: a single model, nothing to compare it with.`);
      return;
    }
    out.push(
      `${widthLabel(w)}: models agree on ${within === null ? 'n/a (a single model)' : `${(100 * within).toFixed(1)}%`} of images with each other and on ${between === null ? 'n/a' : `${(100 * between).toFixed(1)}%`} with the other widths' models` +
        `${meanAcc === null ? '' : ` (mean accuracy ${meanAcc.toFixed(1)}%: two models this accurate can disagree on at most ${Math.min(100, 2 * (100 - meanAcc)).toFixed(1)}% of images)`}.`,
    );
  });
  return out;
}
