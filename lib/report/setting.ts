// Notebook 01 (the paper's Sec 3, experimental setting): datasets and splits, architectures and Table 1,
// initialisers and optimisers, the profile's training settings, and training curves with their stopping points.
import type { Profile } from '../experiments/profiles';
import { architectures, getArchitecture, hiddenWidth, paperParameterCount, weightCounts } from '../models/index';
import type { ArchName } from '../models/types';
import { colourFor, curvesFigure, type CurveTrace } from '../plots/figures';
import type { Figure } from '../plots/display';
import type { StopRule } from '../store/descriptor';
import { initializers } from '../models/init';
import { ADAGRAD, ADAM } from '../train/optimizers';
import { byWidth, widthLabel, type Regime } from './aggregate';
import { ARCH_NAMES, PAPER_DATA, PAPER_REGIMES, PAPER_REGIME_TITLES, PAPER_TABLE2, PAPER_WIDTHS, paperTable1, type PaperRegime } from '../protocol';
import { sourceLine, type Study } from './study';
import type { TableRow } from './tables';

/** One row per dataset copy the study's runs used: which copy (sha256) and how much of it, beside the paper's sizes. */
export function datasetRows(study: Study): TableRow[] {
  const seen = new Map<string, TableRow>();
  for (const r of study.runs) {
    const d = r.record.provenance.dataset;
    const key = `${d.name} ${d.sha256}`;
    const paper = (PAPER_DATA as Partial<Record<string, (typeof PAPER_DATA)['mnist']>>)[d.name];
    const row = seen.get(key) ?? {
      dataset: d.name,
      copy: d.copy,
      description: d.description,
      sha256: `${d.sha256.slice(0, 16)}…`,
      'train images (ours)': '',
      'validation images (ours)': '',
      'data seeds': '',
      'train / validation / test (paper)': paper
        ? `${(paper.train - paper.validation).toLocaleString('en-US')} / ${paper.validation.toLocaleString('en-US')} / ${paper.test.toLocaleString('en-US')}`
        : 'n/a',
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

const ARCHS: readonly ArchName[] = ARCH_NAMES;
const n = (x: number): string => x.toLocaleString('en-US');

/** The distinct hidden widths of a model (prunable layers' output widths but the last's): what the width rule decides. */
function hiddenWidths(arch: ArchName, width: number): string {
  const layers = getArchitecture(arch).prunableLayers(width);
  return [...new Set(layers.slice(0, -1).map((l) => l.shape[l.shape.length - 1]))].join(', ');
}

/**
 * Table 1 in long form, one row per architecture and size: our model counted weights only and by the paper's rule
 * (connections, lib/models/counts), beside the paper's count, with the difference from the paper's rule.
 */
export function table1Rows(): TableRow[] {
  return ARCHS.flatMap((a) =>
    PAPER_WIDTHS.map((w) => {
      const paper = paperTable1(a, w);
      const rule = paperParameterCount(a, w).total;
      return {
        architecture: a,
        'size (x)': w,
        'hidden widths': hiddenWidths(a, w),
        'weights only (ours)': weightCounts(a, w).total,
        "paper's rule (ours)": rule,
        "paper's Table 1": paper,
        "paper - paper's rule (ours)": paper === null ? null : paper - rule,
      };
    }),
  );
}

/** The paper's rule spelled out with our numbers, one sentence per architecture at 1x, then the 0.1x Conv-2 check. */
export function table1Arithmetic(): string[] {
  const c = architectures.conv2.prunableLayers(1);
  const [conv1, conv2, fc1, fc2, proj] = c;
  const p = paperParameterCount('conv2', 1);
  const f = conv1.shape[3];
  const u = fc1.shape[1];
  const positions = conv1.outputPositions ?? 1;
  const small = paperParameterCount('conv2', 0.1);
  const smallPaper = paperTable1('conv2', 0.1) as number;
  const r = paperParameterCount('resnet', 1);
  const rw = weightCounts('resnet', 1);
  const seen = RESNET_PAPER_LAYERS.reduce((s, l) => s + r.perLayer[l], 0);
  const fit = resnetPaperFit();
  return [
    `Weights only: a dense layer's in x out, a conv's 3 x 3 x c_in x c_out; no biases or batch-norm parameters. This is what ` +
      `pruning removes, so every density in this project is a share of it. It reproduces the paper's MLP column exactly ` +
      `(1x: 784 x 300 + 300 x 100 + 100 x 10 = ${n(weightCounts('mlp', 1).total)}).`,
    `The paper's rule (connections): each conv weight counted once per output position, dense weights once. Conv-2 at 1x ` +
      `(f = ${f} filters, u = ${u} units): conv weights (${n(conv1.count)} + ${n(conv2.count)}) x ${n(positions)} positions (32 x 32, 'same' padding) = ` +
      `${n(p.perLayer.conv1 + p.perLayer.conv2)}; dense weights ${n(fc1.count)} + ${n(fc2.count)} + ${n(proj.count)}; plus u = ${n(p.extra)} ` +
      `(one value per unit of a hidden dense layer, e.g. one bias vector) = ${n(p.total)}, the paper's ${n(paperTable1('conv2', 1) as number)}. ` +
      `Exact at 0.5x and 2x too; at 0.1x (f = 6, u = 25 by truncation) ${n(small.total)} vs the paper's ${n(smallPaper)}.`,
    `The width rule is truncation, int(base x size): only 6 filters and 25 units fit Conv-2's 0.1x count (rounding's 26 units ` +
      `miss it by about 1,600), and only 1 filter ResNet's (int(1.6)). The MLP's widths are whole numbers at every size, so its ` +
      `models (and our 500 MLP runs) are the same under either rule.`,
    `ResNet: the paper's counts are ${fit.formula} (exact at ${fit.exactAt.map((w) => `${w}x`).join(', ')}; off by ` +
      `${
        fit.rows
          .filter((x) => x.residual !== 0)
          .map((x) => `${n(x.residual)} at ${x.width}x`)
          .join(', ') || 'nothing elsewhere'
      }): ` +
      `linear in the filter count f, with no f^2 term. Our ResNet as the text describes it has ${n(rw.total)} weights at 1x ` +
      `(${n(r.total)} by the paper's rule), nearly all in the residual blocks' six f -> f convs; conv0 by connections plus proj is ` +
      `${n(seen)}, ${n((paperTable1('resnet', 1) as number) - seen)} short of the paper's ${n(paperTable1('resnet', 1) as number)} ` +
      `(a term of the order of batch-norm parameters and biases). So the blocks' convs are missing from the paper's counts.`,
  ];
}

/** The ResNet layers whose connections the paper's counts can hold (no f^2 term: the first conv and the dense layer). */
export const RESNET_PAPER_LAYERS: readonly string[] = ['conv0', 'proj'];

export interface LinearFit {
  slope: number;
  intercept: number;
  /** The fit written out, e.g. "27,692 f + 50". */
  formula: string;
  /** Widths where the fit equals the paper's count exactly. */
  exactAt: number[];
  rows: { width: number; f: number; paper: number; fit: number; residual: number }[];
}

/**
 * The paper's ResNet counts against the filter count f = int(16 s): a least-squares line through the sizes above
 * 0.1x (0.1x is left out because its single filter is where the rounding rules part and its count is the odd one),
 * with the residual at every size the paper has.
 */
export function resnetPaperFit(): LinearFit {
  const all = PAPER_WIDTHS.filter((w) => paperTable1('resnet', w) !== null).map((w) => ({
    width: w,
    f: hiddenWidth(16, w),
    paper: paperTable1('resnet', w) as number,
  }));
  const pts = all.filter((p) => p.width > 0.1);
  const mx = pts.reduce((s, p) => s + p.f, 0) / pts.length;
  const my = pts.reduce((s, p) => s + p.paper, 0) / pts.length;
  const slope = pts.reduce((s, p) => s + (p.f - mx) * (p.paper - my), 0) / pts.reduce((s, p) => s + (p.f - mx) ** 2, 0);
  const intercept = my - slope * mx;
  const rows = all.map((p) => ({ ...p, fit: slope * p.f + intercept, residual: p.paper - (slope * p.f + intercept) }));
  const round = (x: number) => Math.round(x * 1e6) / 1e6; // the fit is exact in integers; hide float dust
  rows.forEach((r) => {
    r.fit = round(r.fit);
    r.residual = round(r.residual);
  });
  return {
    slope: round(slope),
    intercept: round(intercept),
    formula: `${n(round(slope))} f + ${n(round(intercept))}`,
    exactAt: rows.filter((r) => r.residual === 0).map((r) => r.width),
    rows,
  };
}

/**
 * The ResNet question, per size: how much of our ResNet the layers the paper's counts can hold (conv0, proj) are,
 * by weights and by connections, beside the paper's count. If the paper pruned only those layers, its densities
 * would be shares of them alone, while the blocks' convs (most of the weights) stayed whole.
 */
export function resnetQuestionRows(): TableRow[] {
  return PAPER_WIDTHS.map((w) => {
    const weights = weightCounts('resnet', w);
    const conns = paperParameterCount('resnet', w);
    const seenW = RESNET_PAPER_LAYERS.reduce((s, l) => s + weights.perLayer[l], 0);
    const seenC = RESNET_PAPER_LAYERS.reduce((s, l) => s + conns.perLayer[l], 0);
    const paper = paperTable1('resnet', w);
    return {
      'size (x)': w,
      filters: hiddenWidth(16, w),
      'weights (all)': weights.total,
      'conv0 + proj weights': seenW,
      'conv0 + proj share of weights': (100 * seenW) / weights.total,
      'connections (all)': conns.total,
      'conv0 + proj connections': seenC,
      "paper's Table 1": paper,
      'paper - conv0 + proj connections': paper === null ? null : paper - seenC,
    };
  });
}

/**
 * What an effective density would mean if only conv0 and proj were pruned: the blocks' convs stay whole, so the
 * share of ALL the model's weights left is 100 - (100 - ed) x share. `ed` is read against the pruned layers only.
 */
export function resnetPartialPruningRows(effectiveDensities: readonly number[]): TableRow[] {
  return PAPER_WIDTHS.map((w) => {
    const weights = weightCounts('resnet', w);
    const share = RESNET_PAPER_LAYERS.reduce((s, l) => s + weights.perLayer[l], 0) / weights.total;
    const row: TableRow = { 'size (x)': w, 'conv0 + proj share of weights': 100 * share };
    for (const ed of effectiveDensities) row[`ED ${ed}% of conv0 + proj = % of all weights`] = 100 - (100 - ed) * share;
    return row;
  });
}

/**
 * The null-hypothesis ratio (1x count / size s count: the share of a size-s model that the 1x core is) under each
 * rule, per regime, beside the ratio the paper's Table 2 implies (its null-hypothesis mean at s over its 1x mean),
 * shown only above 1x where the 100% cap cannot bite. Layer-wise pruning removes the same share of every layer, so
 * an effective density reads the same under either rule; only this ratio of totals depends on it.
 */
export function nullRatioRows(): TableRow[] {
  return (Object.keys(PAPER_TABLE2) as PaperRegime[]).flatMap((regime) => {
    const arch = regime.split('-')[0] as ArchName;
    const one = PAPER_TABLE2[regime].find((r) => r.width === 1);
    return PAPER_TABLE2[regime]
      .filter((r) => r.width !== 1)
      .map((r) => {
        const p1 = paperTable1(arch, 1);
        const ps = paperTable1(arch, r.width);
        const implied = r.width > 1 && r.nullHypothesis.mean !== null && one?.observed.mean ? r.nullHypothesis.mean / one.observed.mean : null;
        return {
          regime: PAPER_REGIME_TITLES[regime],
          'size (x)': r.width,
          'by weights (ours; used by our null hypothesis)': weightCounts(arch, 1).total / weightCounts(arch, r.width).total,
          "by the paper's rule (ours)": paperParameterCount(arch, 1).total / paperParameterCount(arch, r.width).total,
          "by the paper's Table 1": p1 !== null && ps !== null ? p1 / ps : null,
          "paper's Table 2: null mean / 1x mean": implied,
        };
      });
  });
}

const RATIO_RULES: readonly { column: string; label: string }[] = [
  { column: 'by weights (ours; used by our null hypothesis)', label: 'weights only' },
  { column: "by the paper's rule (ours)", label: "the paper's rule on our model" },
  { column: "by the paper's Table 1", label: "the paper's Table 1" },
];

/**
 * Per regime and size above 1x: which counting rules the paper's own null-hypothesis densities are consistent with.
 * The paper prints means to one decimal, so its ratio null/1x is only known within the interval those roundings allow.
 */
export function nullRatioVerdicts(): string[] {
  return (Object.keys(PAPER_TABLE2) as PaperRegime[]).flatMap((regime) => {
    const one = PAPER_TABLE2[regime].find((r) => r.width === 1)?.observed.mean;
    const rows = nullRatioRows().filter((r) => r.regime === PAPER_REGIME_TITLES[regime]);
    return PAPER_TABLE2[regime]
      .filter((r) => r.width > 1 && r.nullHypothesis.mean !== null && one)
      .map((r) => {
        const nul = r.nullHypothesis.mean as number;
        const lo = (nul - 0.05) / ((one as number) + 0.05);
        const hi = (nul + 0.05) / ((one as number) - 0.05);
        const row = rows.find((x) => x['size (x)'] === r.width) as TableRow;
        const fits = RATIO_RULES.filter((k) => typeof row[k.column] === 'number' && (row[k.column] as number) >= lo && (row[k.column] as number) <= hi);
        const misses = RATIO_RULES.filter((k) => !fits.includes(k) && typeof row[k.column] === 'number');
        const say = (ks: readonly { column: string; label: string }[]) => ks.map((k) => `${k.label} (${(row[k.column] as number).toFixed(3)})`).join(', ');
        const mid = nul / (one as number);
        const closest = [...misses].sort((a, b) => Math.abs((row[a.column] as number) - mid) - Math.abs((row[b.column] as number) - mid))[0];
        const verdict = fits.length
          ? `consistent with ${say(fits)}${misses.length ? `; not with ${say(misses)}` : ''}`
          : `no rule within that interval; closest ${say([closest])}, then ${say(misses.filter((k) => k !== closest))}`;
        return (
          `${PAPER_REGIME_TITLES[regime]} ${r.width}x: the paper's null-hypothesis mean ${nul} over its 1x mean ${one} puts the count ratio ` +
          `between ${lo.toFixed(3)} and ${hi.toFixed(3)} (one-decimal rounding): ${verdict}.`
        );
      });
  });
}

/** The prunable layers of an architecture at a width: name, kind, kernel shape, weights. */
export function layerRows(arch: ArchName, width: number): TableRow[] {
  const counts = weightCounts(arch, width);
  return Object.entries(counts.perLayer).map(([name, n]) => ({ layer: name, weights: n, share: (100 * n) / counts.total }));
}

/** The initialiser registry with each bound, evaluated for the MLP's fc1 at 1x (fan-in 784, fan-out 300). */
export function initRows(): TableRow[] {
  const formula: Record<string, string> = { glorot: 'U(-b, b), b = sqrt(6 / (fan_in + fan_out))', he: 'U(-b, b), b = sqrt(6 / fan_in)' };
  return Object.values(initializers).map((i) => ({
    init: i.name,
    distribution: formula[i.name] ?? '',
    'b for MLP fc1 at 1x': i.bound(784, 300),
    biases: 'zero',
  }));
}

/** The optimiser registry: update settings and the default learning rate of each of the paper's regimes. */
export function optimizerRows(): TableRow[] {
  const lr = (opt: string) =>
    Object.values(PAPER_REGIMES)
      .filter((r) => r.optimizer === opt)
      .map((r) => `${r.architecture} ${r.learningRate}`)
      .join(', ');
  return [
    { optimizer: 'sgd', settings: 'plain: no momentum, no Nesterov, no weight decay', 'default learning rate': lr('sgd') },
    { optimizer: 'adam', settings: `beta1 ${ADAM.beta1}, beta2 ${ADAM.beta2}, epsilon ${ADAM.epsilon}, no weight decay`, 'default learning rate': lr('adam') },
    { optimizer: 'adagrad', settings: `initial accumulator ${ADAGRAD.initialAccumulatorValue}, no weight decay`, 'default learning rate': lr('adagrad') },
  ];
}

export function stopRuleText(s: StopRule): string {
  return s.kind === 'targetTrainLoss'
    ? `until the mean training loss over ${s.window} steps (checked every ${s.checkEvery}) is <= ${s.target}; at most ${s.maxEpochs} epochs`
    : s.patience === undefined
      ? `${s.epochs} epochs, keeping the epoch with the lowest validation loss`
      : `up to ${s.epochs} epochs, stopping once ${s.patience} epochs in a row have not lowered the validation loss; the epoch with the lowest validation loss is kept`;
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
        train.push({
          name: group,
          group,
          showLegend: i === 0,
          colour,
          opacity: 0.6,
          x: t.curve.map((p) => p.step / stepsPerEpoch),
          y: t.curve.map((p) => p.loss),
          text: t.curve.map(() => r.record.label),
        });
        if (d.stop.kind === 'targetTrainLoss') {
          target = d.stop.target;
          const last = t.curve[t.curve.length - 1];
          train.push({
            name: `${group} stop`,
            group,
            showLegend: false,
            colour,
            mode: 'markers',
            symbol: 'x',
            size: 9,
            x: [t.steps / stepsPerEpoch],
            y: [last.loss],
            text: [`${r.record.label}: ${t.stopReason}`],
          });
        }
      }
      if (d.stop.kind === 'bestValidationLoss' && t.validation.length > 0) {
        valid.push({
          name: group,
          group,
          showLegend: i === 0,
          colour,
          opacity: 0.6,
          mode: t.validation.length > 1 ? 'lines' : 'markers',
          x: t.validation.map((v) => v.epoch),
          y: t.validation.map((v) => v.loss),
          text: t.validation.map(() => r.record.label),
        });
        const best = t.validation.find((v) => v.epoch === t.bestEpoch);
        if (best)
          valid.push({
            name: `${group} kept epoch`,
            group,
            showLegend: false,
            colour,
            mode: 'markers',
            symbol: 'x',
            size: 10,
            x: [best.epoch],
            y: [best.loss],
            text: [`${r.record.label}: kept epoch ${best.epoch}`],
          });
      }
    });
  }
  if (target !== null && train.length > 0) {
    const xs = train.flatMap((t) => t.x);
    train.push({ name: `target loss ${target}`, x: [Math.min(...xs), Math.max(...xs)], y: [target, target], colour: '#999999', dash: 'dash' });
  }
  return {
    trainLoss: train.length
      ? curvesFigure(train, {
          title: `${regime.title}: training loss (x = where training stopped)`,
          xTitle: 'epoch',
          yTitle: 'mean training loss',
          source,
          logY: true,
        })
      : null,
    validationLoss: valid.length
      ? curvesFigure(valid, { title: `${regime.title}: validation loss per epoch (x = the kept epoch)`, xTitle: 'epoch', yTitle: 'validation loss', source })
      : null,
  };
}

/** One row per width of a regime: how training ended (epochs, steps, stop reasons, validation accuracy). */
export function trainingSummaryRows(regime: Regime): TableRow[] {
  return byWidth(regime.runs).map(({ width, runs }) => {
    const reasons = new Map<string, number>();
    for (const r of runs) reasons.set(r.row.stopReason, (reasons.get(r.row.stopReason) ?? 0) + 1);
    const m = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
    return {
      width,
      runs: runs.length,
      'mean epochs': m(runs.map((r) => r.row.epochs)),
      'mean steps': m(runs.map((r) => r.row.trainSteps)),
      'stop reasons': [...reasons].map(([k, n]) => `${k} x${n}`).join(', '),
      'mean validation accuracy (%)': m(runs.filter((r) => r.row.validationAccuracy !== null).map((r) => 100 * (r.row.validationAccuracy as number))),
      'mean training time (s)': m(runs.map((r) => r.row.trainSeconds)),
    };
  });
}
