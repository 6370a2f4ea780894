// Notebook 01 (the paper's Sec 3, experimental setting): datasets and splits, architectures and Table 1,
// initialisers and optimisers, the profile's training settings, and training curves with their stopping points.
import type { Profile } from '../experiments/profiles';
import { PAPER_TABLE1, PAPER_WIDTHS, weightCounts } from '../models/index';
import type { ArchName } from '../models/types';
import { colourFor, curvesFigure, type CurveTrace } from '../plots/figures';
import type { Figure } from '../plots/display';
import type { StopRule } from '../store/descriptor';
import { initializers } from '../train/init';
import { ADAGRAD, ADAM, DEFAULT_LEARNING_RATES } from '../train/optimizers';
import { byWidth, widthLabel, type Regime } from './aggregate';
import { sourceLine, type Study } from './study';
import type { TableRow } from './tables';

/** The paper's data sizes (Sec 3.1): training images before the 5,000-image validation split, and test images. */
export const PAPER_DATA: Readonly<Record<string, { train: number; validation: number; test: number }>> = {
  mnist: { train: 60000, validation: 5000, test: 10000 },
  cifar10: { train: 50000, validation: 5000, test: 10000 },
};

/** One row per dataset copy the study's runs used: which copy (sha256) and how much of it, beside the paper's sizes. */
export function datasetRows(study: Study): TableRow[] {
  const seen = new Map<string, TableRow>();
  for (const r of study.runs) {
    const d = r.record.provenance.dataset;
    const key = `${d.name} ${d.sha256}`;
    const paper = PAPER_DATA[d.name];
    const row = seen.get(key) ?? {
      dataset: d.name, copy: d.description, sha256: `${d.sha256.slice(0, 16)}…`, path: d.path,
      'train images (ours)': '', 'validation images (ours)': '', 'data seeds': '',
      'train / validation / test (paper)': paper ? `${(paper.train - paper.validation).toLocaleString('en-US')} / ${paper.validation.toLocaleString('en-US')} / ${paper.test.toLocaleString('en-US')}` : 'n/a',
    };
    const add = (col: string, v: number) => {
      const have = String(row[col]).split(', ').filter(Boolean);
      const s = v.toLocaleString('en-US');
      if (!have.includes(s)) row[col] = [...have, s].join(', ');
    };
    add('train images (ours)', d.trainImages);
    add('validation images (ours)', d.validationImages);
    add('data seeds', r.row.dataSeed);
    seen.set(key, row);
  }
  return [...seen.values()];
}

const ARCHS: ArchName[] = ['mlp', 'conv2', 'resnet'];

/** Table 1: our weight counts (weights only, no biases or BN parameters) beside the paper's, per width. */
export function table1Rows(): TableRow[] {
  return PAPER_WIDTHS.map((w) => {
    const row: TableRow = { 'size (x)': w };
    for (const a of ARCHS) {
      const ours = weightCounts(a, w).total;
      const paper = PAPER_TABLE1[a][String(w) as keyof (typeof PAPER_TABLE1)['mlp']];
      row[`${a} (ours)`] = ours;
      row[`${a} (paper)`] = paper;
      row[`${a} paper/ours`] = paper === null ? null : paper / ours;
    }
    return row;
  });
}

/** Why Conv-2 and ResNet differ from the paper's Table 1 (the numbers themselves are in the table). */
export const TABLE1_NOTE =
  'Counts are weights only (no biases, no batch-norm parameters), the rule under which the paper\'s MLP column is ' +
  'reproduced exactly (1x: 784*300 + 300*100 + 100*10 = 266,200). No standard Conv-2 (Frankle & Carbin: two 3x3 convs of 64 ' +
  'filters, 2x2 max pool, dense 256-256-10) and no reading of the described ResNet (16-filter convs, three residual blocks of ' +
  'two convs, global average pool, dense 10) gives the paper\'s Conv-2 and ResNet counts, so ours are what the described models ' +
  'have; the paper/ours columns show by how much they differ. The paper trained no 5x Conv-2 or ResNet (they did not fit its GPU).';

/** The prunable layers of an architecture at a width: name, kind, kernel shape, weights. */
export function layerRows(arch: ArchName, width: number): TableRow[] {
  const counts = weightCounts(arch, width);
  return Object.entries(counts.perLayer).map(([name, n]) => ({ layer: name, weights: n, share: (100 * n) / counts.total }));
}

/** The initialiser registry with each bound, evaluated for the MLP's fc1 at 1x (fan-in 784, fan-out 300). */
export function initRows(): TableRow[] {
  const formula: Record<string, string> = { glorot: 'U(-b, b), b = sqrt(6 / (fan_in + fan_out))', he: 'U(-b, b), b = sqrt(6 / fan_in)' };
  return Object.values(initializers).map((i) => ({ init: i.name, distribution: formula[i.name] ?? '', 'b for MLP fc1 at 1x': i.bound(784, 300), biases: 'zero' }));
}

/** The optimiser registry: update settings and the default learning rate of each of the paper's regimes. */
export function optimizerRows(): TableRow[] {
  const lr = (opt: string) => Object.entries(DEFAULT_LEARNING_RATES).filter(([, m]) => opt in m).map(([a, m]) => `${a} ${(m as Record<string, number>)[opt]}`).join(', ');
  return [
    { optimizer: 'sgd', settings: 'plain: no momentum, no Nesterov, no weight decay', 'default learning rate': lr('sgd') },
    { optimizer: 'adam', settings: `beta1 ${ADAM.beta1}, beta2 ${ADAM.beta2}, epsilon ${ADAM.epsilon}, no weight decay`, 'default learning rate': lr('adam') },
    { optimizer: 'adagrad', settings: `initial accumulator ${ADAGRAD.initialAccumulatorValue}, no weight decay`, 'default learning rate': lr('adagrad') },
  ];
}

export function stopRuleText(s: StopRule): string {
  return s.kind === 'targetTrainLoss'
    ? `until the mean training loss over ${s.window} steps (checked every ${s.checkEvery}) is <= ${s.target}; at most ${s.maxEpochs} epochs`
    : `${s.epochs} epochs, keeping the epoch with the lowest validation loss`;
}

/** The profile's groups as trained: one row per group with its settings (from the first run it expands to). */
export function profileGroupRows(study: Study): TableRow[] {
  const p: Profile = study.profile;
  return p.groups.map((g) => {
    const run = study.expected.find((r) => r.group === g.label);
    const d = run?.descriptor;
    const seeds = (v: number[] | number) => (typeof v === 'number' ? `${v} (0..${v - 1})` : v.join(', '));
    return {
      group: g.label,
      architecture: d?.architecture ?? g.base.architecture,
      optimizer: d?.optimizer ?? '',
      'learning rate': d?.learningRate ?? null,
      batch: d?.batchSize ?? null,
      stop: d ? stopRuleText(d.stop) : '',
      'train images': d?.trainSubset ?? 'all after the split',
      'validation images': d?.validationSize ?? null,
      widths: g.widths.join(', '),
      inits: g.inits.join(', '),
      'init seeds': seeds(g.initSeeds),
      'data seeds': seeds(g.dataSeeds),
      runs: study.expected.filter((r) => r.group === g.label).length,
    };
  });
}

export interface TrainingFigures {
  /** Training loss (mean per window) against epochs, the stop marked; null when no run has a curve. */
  trainLoss: Figure | null;
  /** Validation loss per epoch with the kept (lowest) epoch marked; null for regimes that stop on the training loss. */
  validationLoss: Figure | null;
}

/** Training curves of one regime, coloured by width, with the stopping points marked (the paper's Fig 2 crosses). */
export function trainingFigures(study: Study, regime: Regime): TrainingFigures {
  const source = sourceLine(study, regime.runs);
  const train: CurveTrace[] = [];
  const valid: CurveTrace[] = [];
  let target: number | null = null;
  for (const { width, runs } of byWidth(regime.runs)) {
    const colour = colourFor(width);
    runs.forEach((r, i) => {
      const d = r.record.descriptor;
      const stepsPerEpoch = Math.max(1, Math.ceil(r.row.trainImages / d.batchSize));
      const t = r.record.training;
      const group = widthLabel(width);
      if (t.curve.length > 0) {
        train.push({ name: group, group, showLegend: i === 0, colour, opacity: 0.6, x: t.curve.map((p) => p.step / stepsPerEpoch), y: t.curve.map((p) => p.loss), text: t.curve.map(() => r.record.label) });
        if (d.stop.kind === 'targetTrainLoss') {
          target = d.stop.target;
          const last = t.curve[t.curve.length - 1];
          train.push({ name: `${group} stop`, group, showLegend: false, colour, mode: 'markers', symbol: 'x', size: 9, x: [t.steps / stepsPerEpoch], y: [last.loss], text: [`${r.record.label}: ${t.stopReason}`] });
        }
      }
      if (d.stop.kind === 'bestValidationLoss' && t.validation.length > 0) {
        valid.push({ name: group, group, showLegend: i === 0, colour, opacity: 0.6, mode: t.validation.length > 1 ? 'lines' : 'markers', x: t.validation.map((v) => v.epoch), y: t.validation.map((v) => v.loss), text: t.validation.map(() => r.record.label) });
        const best = t.validation.find((v) => v.epoch === t.bestEpoch);
        if (best) valid.push({ name: `${group} kept epoch`, group, showLegend: false, colour, mode: 'markers', symbol: 'x', size: 10, x: [best.epoch], y: [best.loss], text: [`${r.record.label}: kept epoch ${best.epoch}`] });
      }
    });
  }
  if (target !== null && train.length > 0) {
    const xs = train.flatMap((t) => t.x);
    train.push({ name: `target loss ${target}`, x: [Math.min(...xs), Math.max(...xs)], y: [target, target], colour: '#999999', dash: 'dash' });
  }
  return {
    trainLoss: train.length ? curvesFigure(train, { title: `${regime.title}: training loss (x = where training stopped)`, xTitle: 'epoch', yTitle: 'mean training loss', source, logY: true }) : null,
    validationLoss: valid.length ? curvesFigure(valid, { title: `${regime.title}: validation loss per epoch (x = the kept epoch)`, xTitle: 'epoch', yTitle: 'validation loss', source }) : null,
  };
}

/** One row per width of a regime: how training ended (epochs, steps, stop reasons, validation accuracy). */
export function trainingSummaryRows(regime: Regime): TableRow[] {
  return byWidth(regime.runs).map(({ width, runs }) => {
    const reasons = new Map<string, number>();
    for (const r of runs) reasons.set(r.row.stopReason, (reasons.get(r.row.stopReason) ?? 0) + 1);
    const m = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    return {
      width, runs: runs.length,
      'mean epochs': m(runs.map((r) => r.row.epochs)),
      'mean steps': m(runs.map((r) => r.row.trainSteps)),
      'stop reasons': [...reasons].map(([k, n]) => `${k} x${n}`).join(', '),
      'mean validation accuracy (%)': m(runs.filter((r) => r.row.validationAccuracy !== null).map((r) => 100 * (r.row.validationAccuracy as number))),
      'mean training time (s)': m(runs.map((r) => r.row.trainSeconds)),
    };
  });
}
