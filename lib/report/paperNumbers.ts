// The paper's reported numbers (Tables 2, 3 and 4 and the figures quoted in its text), typed, for the
// side-by-side tables. Source: ../shared/paper/PROTOCOL.md "Numbers the paper reports", checked against the
// extracted text. The extraction lost some cells: those are null, never guessed.
//  - Table 2 lost the OBSERVED means of every non-1x row except MLP 0.5x (50.7) and 5x (32.2), which the
//    text quotes; their sds survived. The 1x rows survived whole (observed = null hypothesis by definition).
//  - The paper reports its p-values only as a bound: every ANOVA and t-test p < 0.0001.
import type { ArchName } from '../models/types';

export interface PaperMeanSd {
  mean: number | null;
  sd: number | null;
}

export interface PaperTable2Row {
  width: number;
  observed: PaperMeanSd;
  nullHypothesis: PaperMeanSd;
}

/** The paper's four regimes (architecture + optimizer), keyed as `${arch}-${optimizer}`. */
export type PaperRegime = 'mlp-sgd' | 'conv2-adam' | 'conv2-adagrad' | 'resnet-sgd';

export const PAPER_REGIME_TITLES: Readonly<Record<PaperRegime, string>> = {
  'mlp-sgd': 'MLP (SGD, MNIST)',
  'conv2-adam': 'Conv-2 (Adam, CIFAR-10)',
  'conv2-adagrad': 'Conv-2 (Adagrad, CIFAR-10)',
  'resnet-sgd': 'ResNet (SGD, CIFAR-10)',
};

const ms = (mean: number | null, sd: number | null): PaperMeanSd => ({ mean, sd });

/** Table 2: effective density (%) observed and under the null hypothesis, mean and sd over the paper's 100 models per row. */
export const PAPER_TABLE2: Readonly<Record<PaperRegime, readonly PaperTable2Row[]>> = {
  'mlp-sgd': [
    { width: 0.1, observed: ms(null, 3.6), nullHypothesis: ms(100, 0) },
    { width: 0.5, observed: ms(50.7, 4.8), nullHypothesis: ms(91.0, 0.8) },
    { width: 1, observed: ms(43.3, 4.6), nullHypothesis: ms(43.3, 4.6) },
    { width: 2, observed: ms(null, 5.7), nullHypothesis: ms(19.5, 2.1) },
    { width: 5, observed: ms(32.2, 5.6), nullHypothesis: ms(6.0, 0.6) },
  ],
  'conv2-adam': [
    { width: 0.1, observed: ms(null, 3.6), nullHypothesis: ms(100, 0) },
    { width: 0.5, observed: ms(null, 5.9), nullHypothesis: ms(100, 0) },
    { width: 1, observed: ms(43.0, 5.3), nullHypothesis: ms(43.0, 5.3) },
    { width: 2, observed: ms(null, 3.9), nullHypothesis: ms(11.0, 1.3) },
  ],
  'conv2-adagrad': [
    { width: 0.1, observed: ms(null, 6.7), nullHypothesis: ms(100, 0) },
    { width: 0.5, observed: ms(null, 5.5), nullHypothesis: ms(96.7, 6.7) },
    { width: 1, observed: ms(29.3, 5.8), nullHypothesis: ms(29.3, 5.8) },
    { width: 2, observed: ms(null, 6.9), nullHypothesis: ms(7.5, 1.5) },
  ],
  'resnet-sgd': [
    { width: 0.1, observed: ms(null, 4.7), nullHypothesis: ms(100, 0) },
    { width: 0.5, observed: ms(null, 4.4), nullHypothesis: ms(98.6, 2.8) },
    { width: 1, observed: ms(53.1, 4.4), nullHypothesis: ms(53.1, 4.4) },
    { width: 2, observed: ms(null, 6.0), nullHypothesis: ms(26.4, 2.3) },
  ],
};

/** Every ANOVA and t-test p-value in the paper is reported only as below this bound. */
export const PAPER_P_BOUND = 0.0001;

/** Table 3 (MLP) and Table 4 (Conv-2 with Adam): % of weights in both the smallest 40% at init and after training. */
export interface PaperOverlapTable {
  regime: PaperRegime;
  layers: readonly string[];
  rows: readonly { width: number; overlap: readonly number[] }[];
}

export const PAPER_TABLE3: PaperOverlapTable = {
  regime: 'mlp-sgd',
  layers: ['fc1', 'fc2', 'proj'],
  rows: [
    { width: 0.1, overlap: [25.5, 22.1, 34.1] },
    { width: 0.5, overlap: [10.8, 12.1, 19.3] },
    { width: 1, overlap: [7.2, 9.3, 16.7] },
    { width: 2, overlap: [4.9, 7.1, 15.9] },
    { width: 5, overlap: [3.1, 4.6, 15.9] },
  ],
};

export const PAPER_TABLE4: PaperOverlapTable = {
  regime: 'conv2-adam',
  layers: ['conv1', 'conv2', 'fc1', 'fc2', 'proj'],
  rows: [
    { width: 0.1, overlap: [59.2, 58.3, 47.1, 18.4, 28.5] },
    { width: 0.5, overlap: [58.6, 59.3, 48.3, 19.5, 28.8] },
    { width: 1, overlap: [58.7, 59.6, 45.0, 21.8, 29.3] },
    { width: 2, overlap: [58.9, 58.8, 40.1, 24.7, 33.4] },
  ],
};

/** Overlap two independent masks of the smallest q share would have by chance, in percent (paper: 16% for q = 0.4). */
export function chanceOverlap(q: number): number {
  return 100 * q * q;
}

/** Numbers the paper's text quotes (Sec 4.1). */
export const PAPER_TEXT = {
  /** "we could prune around 30% of the weights" of the 0.1x MLP: effective density about 70%. */
  mlpSmallestPrunablePercent: 30,
  /** "we could prune around 50% or more" of over-parameterised models: effective density about 50% or less. */
  overparameterisedPrunablePercent: 50,
} as const;

/** The paper's regime key of an (architecture, optimizer) pair, or null when the paper has no such regime. */
export function paperRegimeOf(arch: ArchName | string, optimizer: string): PaperRegime | null {
  const key = `${arch}-${optimizer}`;
  return key in PAPER_TABLE2 ? (key as PaperRegime) : null;
}

/** The paper's Table 2 row for a regime and width, or null (e.g. width 5 for Conv-2, or a regime the paper lacks). */
export function paperTable2Row(regime: PaperRegime | null, width: number): PaperTable2Row | null {
  if (!regime) return null;
  return PAPER_TABLE2[regime].find((r) => Math.abs(r.width - width) < 1e-9) ?? null;
}

/** The paper's overlap table for a regime (Table 3 for the MLP, Table 4 for Conv-2/Adam), else null. */
export function paperOverlapTable(regime: PaperRegime | null): PaperOverlapTable | null {
  if (regime === PAPER_TABLE3.regime) return PAPER_TABLE3;
  if (regime === PAPER_TABLE4.regime) return PAPER_TABLE4;
  return null;
}
