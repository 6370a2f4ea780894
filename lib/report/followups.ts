// Notebook 10 (beyond magnitude pruning; issue 16): the paper's two proposed follow-ups on the MLP runs. Does the
// width pattern of Sec 4 (the core grows with width far more than the null hypothesis allows) survive when the core
// is found by edge-popup instead of magnitude pruning, or when a model's size is measured by its local learning
// coefficient? Reads the cached records (npm run followups computes them); never trains.
import { chainDiagnostics } from '../analysis/llc';
import { scalingExponent, type ScalingFit } from '../analysis/scaling';
import { compareWidths, type RegimeComparison } from '../analysis/widthComparison';
import { FOLLOWUP_SPECS, FOLLOWUPS, followupRuns, readFollowup, type EdgePopupRecord, type FollowupName, type LlcRecord } from '../experiments/followupRecords';
import type { Figure } from '../plots/display';
import { colourFor, curvesFigure, scatterFigure, type CurveTrace, type PointGroup } from '../plots/figures';
import { byWidth, formatP, meanSd, widthLabel } from './aggregate';
import { anovaVerdict, tTestVerdict } from './nullHypothesis';
import { sourceLine, type Study, type StudyRun } from './study';
import type { TableRow } from './tables';

export interface FollowupRun {
  run: StudyRun;
  edgePopup: EdgePopupRecord | null;
  edgePopupRandomScores: EdgePopupRecord | null;
  llc: LlcRecord | null;
  llcPlain: LlcRecord | null;
  llcStepSmall: LlcRecord | null;
  llcStepLarge: LlcRecord | null;
}

export interface FollowupStudy {
  /** The profile as the study names it (what the commands repeat). */
  profileSpec: string;
  runs: FollowupRun[];
  /** Per follow-up: how many of the runs it is for have no record yet. */
  missing: Record<FollowupName, number>;
  /** Follow-up runs the study has no finished run for. */
  runsMissing: number;
}

/** The follow-up records of the study's follow-up runs (reading only; a damaged record throws naming its file). */
export function loadFollowups(study: Study): FollowupStudy {
  const finished = new Map(study.runs.map((r) => [r.row.hash, r]));
  const runs: FollowupRun[] = [];
  const missing = Object.fromEntries(FOLLOWUPS.map((f) => [f, 0])) as Record<FollowupName, number>;
  let runsMissing = 0;
  for (const e of followupRuns(study.profile)) {
    const run = finished.get(e.hash);
    if (!run) {
      runsMissing++;
      continue;
    }
    const read = <R>(name: FollowupName): R | null => {
      if (!FOLLOWUP_SPECS[name].runs(e)) return null;
      const r = readFollowup(e.hash, name, study.analysis) as R | null;
      if (r === null) missing[name]++;
      return r;
    };
    runs.push({
      run,
      edgePopup: read<EdgePopupRecord>('edgePopup'),
      edgePopupRandomScores: read<EdgePopupRecord>('edgePopupRandomScores'),
      llc: read<LlcRecord>('llc'),
      llcPlain: read<LlcRecord>('llcPlain'),
      llcStepSmall: read<LlcRecord>('llcStepSmall'),
      llcStepLarge: read<LlcRecord>('llcStepLarge'),
    });
  }
  return { profileSpec: study.profileSpec, runs, missing, runsMissing };
}

/** A note on what is not computed yet and the command that computes it, or null when everything is there. */
export function followupsMissingNote(fs: FollowupStudy): string | null {
  const parts = FOLLOWUPS.filter((f) => fs.missing[f] > 0).map((f) => `${f}: ${fs.missing[f]} run(s)`);
  if (fs.runsMissing > 0) parts.unshift(`${fs.runsMissing} follow-up run(s) not trained yet (npm run sweep -- --profile ${fs.profileSpec} --arch mlp)`);
  return parts.length === 0
    ? null
    : `Not computed yet: ${parts.join('; ')}. Compute with: npm run followups -- --profile ${fs.profileSpec} (add --shard 0/2 and 1/2 in two terminals for two cores).`;
}

const mean = (xs: number[]): number | null => meanSd(xs).mean;
const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const sdOf = (xs: number[]): number | null => meanSd(xs).sd;

function withEdgePopup(fs: FollowupStudy): (FollowupRun & { edgePopup: EdgePopupRecord })[] {
  return fs.runs.filter((r): r is FollowupRun & { edgePopup: EdgePopupRecord } => r.edgePopup !== null);
}

function withLlc(fs: FollowupStudy): (FollowupRun & { llc: LlcRecord })[] {
  return fs.runs.filter((r): r is FollowupRun & { llc: LlcRecord } => r.llc !== null);
}

/** Per width: magnitude and edge-popup effective densities and cores, and how the searched core relates to magnitude's. */
export function edgePopupRows(fs: FollowupStudy): TableRow[] {
  return byWidth(withEdgePopup(fs).map((r) => ({ ...r, row: r.run.row }))).map(({ width, runs }) => {
    const ep = runs.map((r) => r.edgePopup);
    const searched = ep.flatMap((e) => e.grid.filter((p) => p.edgePopup !== null).map((p) => ({ mag: p.magnitude, ep: p.edgePopup! })));
    return {
      width,
      runs: runs.length,
      weights: ep[0].totalWeights,
      'magnitude ED (2% steps)': mean(runs.map((r) => r.row.effectiveDensity ?? NaN).filter(Number.isFinite)),
      'magnitude ED (grid)': mean(ep.map((e) => e.effectiveDensity.magnitude)),
      'edge-popup ED (grid)': mean(ep.map((e) => e.effectiveDensity.edgePopup)),
      'edge-popup ED sd': sdOf(ep.map((e) => e.effectiveDensity.edgePopup)),
      'magnitude core (grid)': mean(ep.map((e) => e.coreSize.magnitude)),
      'edge-popup core': mean(ep.map((e) => e.coreSize.edgePopup)),
      'core ratio ep/mag': mean(ep.map((e) => e.coreSize.edgePopup / e.coreSize.magnitude)),
      'ep core in mag core': mean(ep.map((e) => e.coreOverlap.keptInMagnitudeCore)),
      chance: mean(ep.map((e) => e.coreOverlap.chance)),
      'searched points': searched.length,
      'ep >= mag (val acc)': searched.filter((s) => s.ep.accuracy >= s.mag.accuracy).length,
      'ep <= mag (fit loss)': searched.filter((s) => s.ep.fitLoss <= s.ep.magnitudeFitLoss).length,
    };
  });
}

/** The paper's Table 2 comparison (null hypothesis per width, ANOVA of cores) on edge-popup's or magnitude's grid cores. */
export function gridComparison(fs: FollowupStudy, which: 'edgePopup' | 'magnitude'): RegimeComparison | null {
  const rows = withEdgePopup(fs).map((r) => ({
    regime: 'mlp',
    width: r.run.row.width,
    init: r.run.row.init,
    initSeed: r.run.row.initSeed,
    dataSeed: r.run.row.dataSeed,
    effectiveDensity: r.edgePopup.effectiveDensity[which],
    totalWeights: r.edgePopup.totalWeights,
  }));
  return rows.length ? (compareWidths(rows)[0] ?? null) : null;
}

export function gridComparisonRows(cmp: RegimeComparison): TableRow[] {
  return cmp.widths.map((w) => ({
    width: w.width,
    n: w.n,
    'observed mean': w.observed.mean,
    'observed sd': w.observed.sd,
    'null mean': w.null.mean,
    'null sd': w.null.sd,
    'core mean': w.coreSize.mean,
    t: w.tTest?.t ?? null,
    p: w.tTest?.p ?? null,
  }));
}

export function gridComparisonVerdicts(cmp: RegimeComparison, label: string): string[] {
  return [`${label}: ${anovaVerdict(cmp.anova)}`, ...cmp.widths.map((w) => `${label}, ${tTestVerdict(w.width, w.tTest)}`)];
}

/** Mean validation accuracy against density per width: magnitude masks (dashed) and edge-popup (solid), grid points. */
export function edgePopupCurveFigure(study: Study, fs: FollowupStudy): Figure {
  const traces: CurveTrace[] = [];
  for (const { width, runs } of byWidth(withEdgePopup(fs).map((r) => ({ ...r, row: r.run.row })))) {
    const densities = runs[0].edgePopup.grid.map((p) => p.density);
    const colour = colourFor(width);
    const magY = densities.map((_, i) => 100 * (mean(runs.map((r) => r.edgePopup.grid[i].magnitude.accuracy)) ?? NaN));
    // Edge-popup where every run of the width has a value: searched, or above the searched range (the magnitude mask).
    const epY = densities.map((_, i) => {
      const vals = runs.map((r) => {
        const e = r.edgePopup;
        const firstSearched = e.grid.findIndex((p) => p.edgePopup !== null);
        const p = e.grid[i];
        return p.edgePopup ? p.edgePopup.accuracy : firstSearched >= 0 && i < firstSearched ? p.magnitude.accuracy : NaN;
      });
      return vals.every(Number.isFinite) ? 100 * (mean(vals) ?? NaN) : NaN;
    });
    const unpruned = 100 * (mean(runs.map((r) => r.edgePopup.unpruned.accuracy)) ?? NaN);
    traces.push({
      name: `${widthLabel(width)} edge-popup (n=${runs.length})`,
      x: [100, ...densities],
      y: [unpruned, ...epY],
      colour,
      mode: 'lines+markers',
      size: 6,
      group: String(width),
    });
    traces.push({ name: `${widthLabel(width)} magnitude`, x: [100, ...densities], y: [unpruned, ...magY], colour, dash: 'dash', group: String(width) });
  }
  return curvesFigure(traces, {
    title: 'MLP: validation accuracy of the best subnetwork found (edge-popup, solid) vs the magnitude mask (dashed), same density per layer',
    xTitle: 'density (% of weights kept per layer, log scale)',
    yTitle: 'validation accuracy (%), mean over runs',
    logX: true,
    yRange: [0, 100],
    source: `${sourceLine(
      study,
      withEdgePopup(fs).map((r) => r.run),
    )} | edge-popup: ${FOLLOWUP_SPECS.edgePopup.settings.epochs} epochs on ${FOLLOWUP_SPECS.edgePopup.settings.fitImages} training images per density`,
  });
}

/** Chains of an LLC record that had not settled, and that ended below L_n(w*) (out of all its chains). */
export function llcChainCounts(r: LlcRecord): { chains: number; stillRising: number; belowOptimum: number } {
  const d = r.lossTraces.map((t) => chainDiagnostics(t, r.settings.burnIn, r.lossAtOptimum));
  return { chains: d.length, stillRising: d.filter((x) => x.stillRising).length, belowOptimum: d.filter((x) => x.belowOptimum).length };
}

/** Per width: the local learning coefficient beside the weight count and the two cores. */
export function llcRows(fs: FollowupStudy): TableRow[] {
  return byWidth(withLlc(fs).map((r) => ({ ...r, row: r.run.row }))).map(({ width, runs }) => {
    const l = runs.map((r) => r.llc);
    const plain = runs.map((r) => r.llcPlain).filter((p): p is LlcRecord => p !== null);
    const ep = runs.map((r) => r.edgePopup).filter((e): e is EdgePopupRecord => e !== null);
    return {
      width,
      runs: runs.length,
      weights: l[0].totalWeights,
      parameters: l[0].parameters,
      'LLC mean': mean(l.map((r) => r.llc)),
      'LLC sd (runs)': sdOf(l.map((r) => r.llc)),
      'LLC median': median(l.map((r) => r.llc)),
      'chain sd (mean)': mean(l.map((r) => r.llcStd)),
      'chains still rising': l.reduce((a, r) => a + llcChainCounts(r).stillRising, 0),
      'chains below L*': l.reduce((a, r) => a + llcChainCounts(r).belowOptimum, 0),
      chains: l.reduce((a, r) => a + r.lossTraces.length, 0),
      'LLC / parameters': mean(l.map((r) => r.llc / r.parameters)),
      'plain LLC (n)': plain.length,
      'plain LLC mean': mean(plain.map((p) => p.llc)),
      'magnitude core': mean(runs.map((r) => r.run.row.coreSize ?? NaN).filter(Number.isFinite)),
      'edge-popup core': ep.length ? mean(ep.map((e) => e.coreSize.edgePopup)) : null,
    };
  });
}

export interface ScalingRow {
  measure: string;
  fit: ScalingFit | null;
  points: { x: number; y: number }[];
}

/** Slopes of log(size measure) against log(weights) over runs: magnitude cores, edge-popup cores, the LLC. */
export function scalingRows(fs: FollowupStudy): ScalingRow[] {
  const fit = (measure: string, pts: { x: number; y: number }[]): ScalingRow => ({
    measure,
    fit: scalingExponent(
      pts.map((p) => p.x),
      pts.map((p) => p.y),
    ),
    points: pts,
  });
  const ep = withEdgePopup(fs);
  const llc = withLlc(fs);
  return [
    fit(
      'magnitude core (2% steps, all follow-up runs)',
      fs.runs.filter((r) => r.run.row.coreSize !== null).map((r) => ({ x: r.run.row.totalWeights, y: r.run.row.coreSize as number })),
    ),
    fit(
      'magnitude core (grid)',
      ep.map((r) => ({ x: r.edgePopup.totalWeights, y: r.edgePopup.coreSize.magnitude })),
    ),
    fit(
      'edge-popup core (grid)',
      ep.map((r) => ({ x: r.edgePopup.totalWeights, y: r.edgePopup.coreSize.edgePopup })),
    ),
    fit(
      'LLC (linear term removed)',
      llc.map((r) => ({ x: r.llc.totalWeights, y: r.llc.llc })),
    ),
    fit(
      "LLC (devinterp's plain estimator)",
      fs.runs.filter((r) => r.llcPlain).map((r) => ({ x: (r.llcPlain as LlcRecord).totalWeights, y: (r.llcPlain as LlcRecord).llc })),
    ),
  ];
}

export function scalingTableRows(rows: readonly ScalingRow[]): TableRow[] {
  return rows.map((r) => ({
    measure: r.measure,
    runs: r.fit?.n ?? 0,
    'left out (<= 0)': r.fit?.excluded ?? r.points.filter((p) => !(p.y > 0)).length,
    'exponent b': r.fit?.slope ?? null,
    'b se': r.fit?.slopeSe ?? null,
    'p (b = 0: constant)': r.fit?.pConstant ?? null,
    'p (b = 1: proportional)': r.fit?.pProportional ?? null,
  }));
}

/** Which of the two readings an exponent is closer to, in words, with both tests. */
export function scalingVerdict(r: ScalingRow): string {
  const f = r.fit;
  if (!f) return `${r.measure}: not testable at this scale (fewer than 3 runs with a positive value).`;
  const nearer = Math.abs(f.slope) < Math.abs(1 - f.slope) ? 'closer to constant (the null hypothesis)' : 'closer to proportional (a constant density)';
  const rejects = (p: number) => (p < 0.05 ? 'rejected' : 'not rejected');
  return (
    `${r.measure}: size ~ weights^${f.slope.toFixed(2)} (se ${f.slopeSe.toFixed(2)}, n = ${f.n}${f.excluded ? `, ${f.excluded} non-positive left out` : ''}): ${nearer}; ` +
    `constant ${rejects(f.pConstant)} (${formatP(f.pConstant)}), proportional ${rejects(f.pProportional)} (${formatP(f.pProportional)}).`
  );
}

/** Every run's size measures against its weight count, log-log, with each measure's fitted power law. */
export function scalingFigure(study: Study, fs: FollowupStudy, rows: readonly ScalingRow[]): Figure {
  const groups: PointGroup[] = rows
    .filter((r) => r.points.length)
    .map((r, i) => ({
      name: r.measure,
      x: r.points.filter((p) => p.y > 0).map((p) => p.x),
      y: r.points.filter((p) => p.y > 0).map((p) => p.y),
      colour: colourFor(r.measure, i),
    }));
  const xs = [...new Set(rows.flatMap((r) => r.points.map((p) => p.x)))].sort((a, b) => a - b);
  const lines = rows
    .filter((r) => r.fit)
    .map((r, i) => ({
      name: `${r.measure}: b = ${r.fit!.slope.toFixed(2)}`,
      x: xs,
      mean: xs.map((x) => Math.exp(r.fit!.intercept + r.fit!.slope * Math.log(x))),
      colour: colourFor(r.measure, i),
    }));
  // b = 1 through the magnitude cores' geometric mean density: what a constant effective density would give.
  const base = rows[0].points.filter((p) => p.y > 0);
  if (base.length) {
    const logDensity = base.reduce((a, p) => a + Math.log(p.y / p.x), 0) / base.length;
    lines.push({ name: 'proportional (b = 1): a constant effective density', x: xs, mean: xs.map((x) => x * Math.exp(logDensity)), colour: '#999999' });
  }
  return scatterFigure(groups, {
    title: 'MLP: size measures against the number of weights (log-log); slope 0 = constant size (null hypothesis), 1 = proportional',
    xTitle: 'weights in the model',
    yTitle: 'core size (weights) or LLC',
    logX: true,
    logY: true,
    lines,
    source: sourceLine(
      study,
      fs.runs.map((r) => r.run),
    ),
  });
}

/** One run per width (the first with an LLC): its chains' minibatch loss minus L_n(w*), smoothed over 10 steps. */
export function llcTraceFigure(study: Study, fs: FollowupStudy): Figure {
  const traces: CurveTrace[] = [];
  for (const { width, runs } of byWidth(withLlc(fs).map((r) => ({ ...r, row: r.run.row })))) {
    const r = runs[0].llc;
    r.lossTraces.forEach((t, c) => {
      const smooth = t.map((_, i) => {
        const w = t.slice(Math.max(0, i - 9), i + 1);
        return w.reduce((a, b) => a + b, 0) / w.length - r.lossAtOptimum;
      });
      traces.push({
        name: `${widthLabel(width)} (${runs[0].row.init} i${runs[0].row.initSeed})`,
        x: smooth.map((_, i) => i + 1),
        y: smooth,
        colour: colourFor(width),
        group: String(width),
        showLegend: c === 0,
        opacity: 0.8,
      });
    });
  }
  const s = FOLLOWUP_SPECS.llc.settings;
  return curvesFigure(traces, {
    title: `SGLD chains: minibatch loss above L_n(w*) (10-step mean); burn-in ${s.burnIn} steps, then ${s.draws} draws; a flat tail = converged`,
    xTitle: 'SGLD step',
    yTitle: 'loss - L_n(w*) (nats)',
    source: sourceLine(
      study,
      withLlc(fs).map((r) => r.run),
    ),
  });
}

const STEP_VARIANTS = [
  ['llcStepSmall', 'llcStepSmall'],
  ['llc', 'llc'],
  ['llcStepLarge', 'llcStepLarge'],
] as const;

/**
 * The LLC of the runs computed at three SGLD step sizes, per width, and the exponent across widths at each step:
 * the estimates' absolute values move with the step; the question is whether the slope does.
 */
export function stepSizeRows(fs: FollowupStudy): { rows: TableRow[]; slopes: TableRow[] } {
  const runs = fs.runs.filter((r) => STEP_VARIANTS.every(([k]) => r[k] !== null));
  const rows = runs
    .map((r) => {
      const row: TableRow = { width: r.run.row.width, run: `${r.run.row.init} i${r.run.row.initSeed}` };
      for (const [k, name] of STEP_VARIANTS) row[`step ${FOLLOWUP_SPECS[name].settings.stepSize}`] = (r[k] as LlcRecord).llc;
      return row;
    })
    .sort((a, b) => (a.width as number) - (b.width as number));
  const slopes = STEP_VARIANTS.map(([k, name]) => {
    const f = scalingExponent(
      runs.map((r) => (r[k] as LlcRecord).totalWeights),
      runs.map((r) => (r[k] as LlcRecord).llc),
    );
    return {
      step: FOLLOWUP_SPECS[name].settings.stepSize,
      runs: f?.n ?? 0,
      'exponent b': f?.slope ?? null,
      'b se': f?.slopeSe ?? null,
      'p (b = 0)': f?.pConstant ?? null,
      'p (b = 1)': f?.pProportional ?? null,
    };
  });
  return { rows, slopes };
}

/** Edge-popup from the reference's random scores beside the |w| start, on the runs that have both. */
export function randomScoreRows(fs: FollowupStudy): TableRow[] {
  return fs.runs
    .filter((r) => r.edgePopupRandomScores && r.edgePopup)
    .map((r) => {
      const a = r.edgePopup as EdgePopupRecord;
      const b = r.edgePopupRandomScores as EdgePopupRecord;
      return {
        run: `${widthLabel(r.run.row.width)} ${r.run.row.init} i${r.run.row.initSeed}`,
        'ED from |w|': a.effectiveDensity.edgePopup,
        'ED from random scores': b.effectiveDensity.edgePopup,
        'magnitude ED (grid)': a.effectiveDensity.magnitude,
        'searched points': b.grid.filter((p) => p.edgePopup).length,
      };
    });
}

/** The verdicts of the notebook: edge-popup's sanity check, then the width pattern under both measures. */
export function followupVerdicts(fs: FollowupStudy): string[] {
  const ep = withEdgePopup(fs);
  const out: string[] = [];
  if (ep.length === 0) return ['Edge-popup: not computed yet (npm run followups).'];
  const pts = ep.flatMap((r) => r.edgePopup.grid.flatMap((p) => (p.edgePopup ? [{ p, e: p.edgePopup }] : [])));
  const fitOk = pts.filter((x) => x.e.fitLoss <= x.e.magnitudeFitLoss).length;
  const valOk = pts.filter((x) => x.e.accuracy >= x.p.magnitude.accuracy).length;
  out.push(
    `Known answer: at ${fitOk} of ${pts.length} searched (run, density) points edge-popup's subnetwork has a training loss no higher than the magnitude mask's of the same density (it must be all: the search starts from that mask and keeps it unless an epoch beats it); ` +
      `on validation accuracy it is at least as good at ${valOk} of ${pts.length}.`,
  );
  const lower = ep.filter((r) => r.edgePopup.effectiveDensity.edgePopup < r.edgePopup.effectiveDensity.magnitude).length;
  out.push(`Edge-popup finds a smaller core than magnitude pruning (a lower effective density on the same grid) in ${lower} of ${ep.length} runs.`);
  const cmp = gridComparison(fs, 'edgePopup');
  const sc = scalingRows(fs);
  const epFit = sc[2].fit;
  if (cmp && epFit) {
    const nonBase = cmp.widths.filter((w) => w.width !== 1 && w.tTest);
    const rejected = nonBase.filter((w) => (w.tTest as { p: number }).p < 0.05).length;
    const supported = (cmp.anova?.p ?? 1) < 0.05 && epFit.slope > 0 && epFit.pConstant < 0.05 && rejected === nonBase.length;
    out.push(
      `Width pattern with edge-popup cores: ${supported ? 'SUPPORTED' : 'NOT SUPPORTED'}: ANOVA of edge-popup cores ${formatP(cmp.anova?.p ?? null)}, ` +
        `the null hypothesis rejected at ${rejected} of ${nonBase.length} widths other than 1x, core ~ weights^${epFit.slope.toFixed(2)} (magnitude on the same grid: ^${sc[1].fit?.slope.toFixed(2) ?? 'n/a'}).`,
    );
  }
  const llcFit = sc[3].fit;
  const llcs = withLlc(fs).map((r) => llcChainCounts(r.llc));
  if (!llcFit || llcs.length === 0) {
    out.push('Learning coefficient: not testable at this scale yet (fewer than 3 runs with a positive estimate).');
    return out;
  }
  const chains = llcs.reduce((a, c) => a + c.chains, 0);
  const rising = llcs.reduce((a, c) => a + c.stillRising, 0);
  const below = llcs.reduce((a, c) => a + c.belowOptimum, 0);
  const steps = stepSizeRows(fs).slopes.filter((r) => typeof r['exponent b'] === 'number');
  const side = (b: number): string => (Math.abs(b) < Math.abs(1 - b) ? 'constant' : 'proportional');
  const stepText = steps.map((r) => `^${(r['exponent b'] as number).toFixed(2)} at step ${r.step}`).join(', ');
  const problems: string[] = [];
  if (rising > 0.25 * chains) problems.push(`${rising} of ${chains} chains were still rising over their draws (not settled)`);
  if (below > 0) problems.push(`${below} of ${chains} chains ended below L_n(w*) (they left w*'s neighbourhood)`);
  if (steps.length >= 3 && new Set(steps.map((r) => side(r['exponent b'] as number))).size > 1)
    problems.push(`the exponent moves with the SGLD step (${stepText})`);
  const stepRuns = stepSizeRows(fs).rows.length;
  if (stepRuns < 3) problems.push('the step-size check (llcStepSmall, llcStepLarge) is not computed on 3 widths yet');
  else if (steps.length < 3)
    problems.push(`at some SGLD step fewer than 3 of the ${stepRuns} step-size runs have a positive estimate (${stepText || 'no exponent at any step'})`);
  const fitText = `LLC ~ weights^${llcFit.slope.toFixed(2)} (se ${llcFit.slopeSe.toFixed(2)}, n = ${llcFit.n})`;
  if (problems.length) {
    out.push(
      `Learning coefficient: NOT TESTABLE AT THIS SCALE: ${problems.join('; ')}. Read as a sketch only: ${fitText}${steps.length ? `; ${stepText}` : ''}. ` +
        `Settled chains need far more SGLD steps per run than this CPU budget gave (${FOLLOWUP_SPECS.llc.settings.burnIn + FOLLOWUP_SPECS.llc.settings.draws} per chain).`,
    );
  } else {
    const reading = Math.abs(llcFit.slope) < Math.abs(1 - llcFit.slope) ? 'closer to constant (the null hypothesis)' : 'closer to proportional';
    out.push(
      `Learning coefficient: ${fitText}: ${reading}, at every step size tried (${stepText}); the chains settled and stayed above L_n(w*). ` +
        'The absolute values move with the step; only the slope across widths is read.',
    );
  }
  return out;
}
