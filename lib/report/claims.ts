// Every claim of the paper that the runs can test, one entry per claim, each with the rule that decides it and a
// verdict computed from a profile's finished runs: "supported", "not supported", or "not testable at this scale" (the
// reason says why: runs still missing, too few analysable runs, a width the profile lacks). The notebooks show
// the evidence claim by claim; this is the one table that says which way each claim went (notebook 11, README).
import { PAPER_P_BOUND, PAPER_REGIME_TITLES, PAPER_TEXT, chanceOverlap, paperRegimeOf, paperTable2Row, type PaperRegime } from '../protocol';
import { deriveSeed } from '../rng';
import { byWidth, formatP, meanSd, pairedTTest, regimesOf, trend, widthLabel, type Regime } from './aggregate';
import { correctnessSet, widthAgreement, widthStructure } from './functionalSimilarity';
import { compareInits } from './initSchemes';
import { overlapCells, overlapQuantileOf } from './initOverlap';
import { regimeComparison } from './nullHypothesis';
import { regimeCurveSpread, startSpread } from './regimes';
import type { Study, StudyRun } from './study';
import { rowsToMarkdown, type TableRow } from './tables';

export const VERDICTS = ['supported', 'not supported', 'not testable at this scale'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One claim checked on one regime (or pair of regimes). */
export interface ClaimCheck {
  /** The claim's id in PAPER_CLAIMS. */
  id: string;
  section: string;
  short: string;
  claim: string;
  /** The regime(s) it was checked on. */
  regime: string;
  /** What the paper reports. */
  paper: string;
  /** What our runs show (from whatever is computed, also when the verdict waits for more runs). */
  ours: string;
  verdict: Verdict;
  /** The rule applied, or why it cannot be applied yet. */
  why: string;
}

export interface ClaimOptions {
  /** Significance level of every test (default 0.05; the paper reports p < 1e-4 throughout). */
  alpha?: number;
  /** Label shuffles of the functional-similarity permutation test (default 2000). */
  permutations?: number;
}

/** A profile group as a claim sees it: its analysable runs, and how complete it is. */
export interface ClaimSubject {
  /** The profile group label. */
  key: string;
  title: string;
  paper: PaperRegime | null;
  /** The group's complete runs, grouped as the notebooks do (runs near chance or never degraded left out); null before any run is complete. */
  regime: Regime | null;
  /** Per width: runs the profile asks for, runs finished (complete or diverged), runs analysable. */
  coverage: { width: number; planned: number; finished: number; analysable: number }[];
  /** The init schemes the profile trains in this group. */
  inits: string[];
}

interface Context {
  subjects: ClaimSubject[];
  alpha: number;
  permutations: number;
}

type Outcome = Pick<ClaimCheck, 'ours' | 'verdict' | 'why'> & { regime?: string };

/** One claim of the paper: what it says, the rule that decides it, and the check. */
export interface PaperClaim {
  id: string;
  section: string;
  /** A few words naming the claim, for compact tables. */
  short: string;
  /** The claim, in the paper's words where they survived. */
  claim: string;
  /** What the paper reports for a subject (its numbers). */
  paper(subject: ClaimSubject): string;
  /** Which subjects it is checked on, one row each (a claim comparing two regimes is checked on one of them). */
  appliesTo(subject: ClaimSubject): boolean;
  check(subject: ClaimSubject, ctx: Context): Outcome;
}

const NOT_TESTABLE: Verdict = 'not testable at this scale';
const pct = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(1)}%`);
const paperIs =
  (...regimes: PaperRegime[]) =>
  (s: ClaimSubject) =>
    s.paper !== null && regimes.includes(s.paper);

/**
 * Why a subject cannot be tested yet, or null when it can: every run the profile asks for must be finished, and
 * each needed width must have `minPerWidth` analysable runs.
 */
export function notReadyReason(s: ClaimSubject, opts: { minPerWidth?: number; widths?: readonly number[] } = {}): string | null {
  const min = opts.minPerWidth ?? 2;
  const planned = s.coverage.filter((c) => c.planned > 0);
  if (planned.length === 0) return `the profile has no ${s.title} runs`;
  for (const w of opts.widths ?? [])
    if (!planned.some((c) => c.width === w)) return `the profile has no ${widthLabel(w)} ${s.title} runs (the rule needs them)`;
  const short = planned.filter((c) => c.finished < c.planned);
  if (short.length)
    return `${planned.reduce((a, c) => a + c.finished, 0)} of the profile's ${planned.reduce((a, c) => a + c.planned, 0)} runs are computed (${short
      .map((c) => `${widthLabel(c.width)}: ${c.finished} of ${c.planned}`)
      .join(', ')}); the verdict waits for the rest`;
  const thin = planned.filter((c) => c.analysable < min);
  if (thin.length)
    return `${thin.map((c) => `${widthLabel(c.width)} has ${c.analysable} analysable run(s) of ${c.finished}`).join(', ')} (near chance or never degraded: left out); the rule needs ${min} per width`;
  return null;
}

function waitFor(reason: string, ours: string): Outcome {
  return { ours, verdict: NOT_TESTABLE, why: reason };
}

function edByWidth(
  regime: Regime | null,
): { width: number; ed: ReturnType<typeof meanSd>; core: ReturnType<typeof meanSd>; total: number; trainImages: number }[] {
  if (!regime) return [];
  return byWidth(regime.runs).map(({ width, runs }) => ({
    width,
    ed: meanSd(runs.map((r) => r.row.effectiveDensity).filter((x): x is number => x !== null)),
    core: meanSd(runs.map((r) => r.row.coreSize).filter((x): x is number => x !== null)),
    total: runs[0].row.totalWeights,
    trainImages: runs[0].row.trainImages,
  }));
}

function edSummary(regime: Regime | null): string {
  const w = edByWidth(regime).filter((x) => x.ed.n > 0);
  return w.length ? `effective density ${w.map((x) => `${widthLabel(x.width)} ${pct(x.ed.mean)} (n=${x.ed.n})`).join(', ')}` : 'no analysable runs yet';
}

/** The first subject of a paper regime (a profile may have several groups of one regime; the first is the reference). */
function subjectOf(ctx: Context, regime: PaperRegime): ClaimSubject | null {
  return ctx.subjects.find((s) => s.paper === regime) ?? null;
}

/** What a two-regime rule found: our numbers, whether the claim holds (null: nothing to compare), or why it cannot be tested. */
interface Comparison {
  text: string;
  holds: boolean | null;
  untestable?: string;
}

/**
 * A claim comparing two regimes over the widths both are planned at, checked once (on the `a` side): it waits until
 * both regimes are complete, then `measure` decides; `rule` says how.
 */
function compareRegimes(
  ctx: Context,
  a: ClaimSubject,
  bRegime: PaperRegime,
  rule: string,
  measure: (a: Regime, b: Regime, widths: readonly number[]) => Comparison,
): Outcome & { regime: string } {
  const b = subjectOf(ctx, bRegime);
  const title = `${a.title} vs ${b?.title ?? bRegime}`;
  if (!b) return { regime: title, ...waitFor(`the profile has no ${bRegime} runs to compare with`, 'n/a') };
  const common = a.coverage.filter((c) => c.planned > 0 && b.coverage.some((d) => d.planned > 0 && d.width === c.width)).map((c) => c.width);
  const found = a.regime && b.regime ? measure(a.regime, b.regime, common) : null;
  const text = found?.text ?? 'no runs yet';
  if (common.length < 2) return { regime: title, ...waitFor(`the two regimes share ${common.length} width(s) in this profile; the rule needs 2`, text) };
  const reason = notReadyReason(a) ?? notReadyReason(b);
  if (reason) return { regime: title, ...waitFor(reason, text) };
  if (found?.untestable) return { regime: title, ...waitFor(found.untestable, text) };
  if (!found || found.holds === null) return { regime: title, ...waitFor('no curves to compare', text) };
  return { regime: title, ours: text, verdict: found.holds ? 'supported' : 'not supported', why: `rule: ${rule}` };
}

function pairedAcrossWidths(regime: Regime, value: (r: StudyRun) => number | null) {
  const key = (r: StudyRun) => `${r.row.width}/${r.row.initSeed}/${r.row.dataSeed}`;
  return pairedTTest(
    regime.runs.filter((r) => r.row.init === 'glorot'),
    regime.runs.filter((r) => r.row.init === 'he'),
    key,
    value,
  );
}

function bothInits(s: ClaimSubject): string | null {
  return s.inits.includes('glorot') && s.inits.includes('he')
    ? null
    : `the profile trains only ${s.inits.join(', ')} ${s.title} models, so there is no Glorot/He pair`;
}

/** "a's pruning curves overlap more across widths than other's": a's curve spread is the smaller, over the widths both have. */
function overlapsMore(ctx: Context, a: ClaimSubject, other: PaperRegime, aName: string, otherName: string): Outcome & { regime: string } {
  return compareRegimes(
    ctx,
    a,
    other,
    `the ${aName} curve spread (sd across widths of the mean accuracy curves, averaged over pruning levels) is below the ${otherName} one, over the widths both have`,
    (ra, rb, widths) => {
      const [x, y] = [regimeCurveSpread(ra, { widths }), regimeCurveSpread(rb, { widths })];
      return {
        text: `curve spread over ${widths.map(widthLabel).join(', ')}: ${aName} ${fmt(x)} vs ${otherName} ${fmt(y)} accuracy points`,
        holds: x === null || y === null ? null : x < y,
      };
    },
  );
}

/** "+2.0", "-7.1"; a value that rounds to zero is "+0.0", never "-0.0". */
function signed(x: number, digits = 1): string {
  const t = x.toFixed(digits);
  return Number(t) === 0 ? `+${(0).toFixed(digits)}` : `${x > 0 ? '+' : ''}${t}`;
}
const fmt = (x: number | null, digits = 1) => (x === null ? 'n/a' : x.toFixed(digits));

/** The paper's claims, in the order of its sections. A new claim is one entry. */
export const PAPER_CLAIMS: readonly PaperClaim[] = [
  {
    id: 'small-models-prunable',
    short: '0.1x MLPs ~30% prunable',
    section: '4.1',
    claim: 'Even the heavily under-parameterised 0.1x MLPs can be pruned by about 30% without substantial harm.',
    paper: () => `about ${PAPER_TEXT.mlpSmallestPrunablePercent}% prunable at 0.1x`,
    appliesTo: paperIs('mlp-sgd'),
    check(s) {
      const under = edByWidth(s.regime).filter((w) => w.total < w.trainImages && w.ed.n > 0);
      const ours = under.length
        ? under.map((w) => `${widthLabel(w.width)}: ${pct(w.ed.mean === null ? null : 100 - w.ed.mean)} prunable (n=${w.ed.n})`).join(', ')
        : 'no under-parameterised width';
      const reason = notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (under.length === 0) return waitFor('no width here has fewer weights than training images', ours);
      const ok = under.every((w) => 100 - (w.ed.mean as number) >= 20);
      return {
        ours,
        verdict: ok ? 'supported' : 'not supported',
        why: 'rule: at least 20% prunable (effective density <= 80%) at every width with fewer weights than training images',
      };
    },
  },
  {
    id: 'large-models-prunable',
    short: 'over-parameterised models >= ~50% prunable',
    section: '4.1',
    claim: 'Over-parameterised models can be pruned by around 50% or more, whatever their width.',
    paper: () => `around ${PAPER_TEXT.overparameterisedPrunablePercent}% or more prunable`,
    appliesTo: (s) => s.paper !== null,
    check(s) {
      const all = edByWidth(s.regime);
      const over = all.filter((w) => w.total > w.trainImages && w.ed.n > 0);
      const ours = over.length
        ? over.map((w) => `${widthLabel(w.width)}: ${pct(w.ed.mean === null ? null : 100 - w.ed.mean)} prunable (n=${w.ed.n})`).join(', ')
        : edSummary(s.regime);
      const reason = notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (over.length === 0) {
        const largest = all[all.length - 1];
        return waitFor(
          `no width here has more weights than training images (largest: ${widthLabel(largest.width)}, ${largest.total.toLocaleString('en-US')} weights for ${largest.trainImages.toLocaleString('en-US')} images)`,
          ours,
        );
      }
      const ok = over.every((w) => 100 - (w.ed.mean as number) >= 45);
      return {
        ours,
        verdict: ok ? 'supported' : 'not supported',
        why: "rule: at least 45% prunable (the paper's 'around 50%' less one 5-point threshold) at every width with more weights than training images",
      };
    },
  },
  {
    id: 'pruned-large-exceeds-small',
    short: 'pruned largest > unpruned smaller',
    section: '4.1',
    claim: 'In absolute terms, the pruned models of the largest width are bigger than the unpruned smaller architectures.',
    paper: (s) =>
      s.paper === 'mlp-sgd' ? 'pruned 5x MLPs bigger than every unpruned smaller MLP' : 'pruned 2x models bigger than every unpruned smaller model',
    appliesTo: (s) => s.paper !== null,
    check(s) {
      const w = edByWidth(s.regime).filter((x) => x.core.n > 0);
      const largest = w[w.length - 1];
      const smaller = largest ? w.filter((x) => x.width < largest.width) : [];
      const ours = largest
        ? `${widthLabel(largest.width)} core ${Math.round(largest.core.mean as number).toLocaleString('en-US')} weights vs unpruned ${smaller.map((x) => `${widthLabel(x.width)} ${x.total.toLocaleString('en-US')}`).join(', ') || 'nothing smaller'}`
        : 'no runs yet';
      const reason = notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (smaller.length === 0) return waitFor('one width only', ours);
      const ok = smaller.every((x) => (largest.core.mean as number) > x.total);
      const paperLargest = s.paper === 'mlp-sgd' ? 5 : 2;
      return {
        ours,
        verdict: ok ? 'supported' : 'not supported',
        why: `rule: the largest width's mean core (weights left at the effective density) exceeds every smaller width's total${largest.width < paperLargest ? `; our largest width is ${widthLabel(largest.width)}, the paper's ${widthLabel(paperLargest)}` : ''}`,
      };
    },
  },
  {
    id: 'null-hypothesis-t-tests',
    short: 'Table 2: observed != null (t-tests)',
    section: '4.2 (Table 2)',
    claim: "The observed effective density differs from the null hypothesis's (the 1x core, rescaled) at every width other than 1x.",
    paper: (s) => {
      const one = paperTable2Row(s.paper, 1);
      return `every t-test p < ${PAPER_P_BOUND}${one ? `; 1x observed ${pct(one.observed.mean)}` : ''}`;
    },
    appliesTo: (s) => s.paper !== null,
    check(s, ctx) {
      const cmp = s.regime ? regimeComparison(s.regime) : null;
      const rows = cmp ? cmp.widths.filter((w) => w.width !== 1) : [];
      const ours = cmp
        ? cmp.widths
            .map(
              (w) =>
                `${widthLabel(w.width)} ${pct(w.observed.mean)}${w.width === 1 ? '' : ` vs null ${pct(w.null.mean)} (${w.tTest ? formatP(w.tTest.p) : 'no test'})`}`,
            )
            .join('; ')
        : 'no runs yet';
      const reason = notReadyReason(s, { widths: [1] });
      if (reason) return waitFor(reason, ours);
      if (rows.length === 0) return waitFor('only 1x runs: nothing to compare with the null hypothesis', ours);
      const untested = rows.filter((w) => !w.tTest || w.tTest.p === null || Number.isNaN(w.tTest.p));
      if (untested.length)
        return waitFor(`${untested.map((w) => widthLabel(w.width)).join(', ')}: no t-test (too few runs with a 1x counterpart, or no variation)`, ours);
      const notRejected = rows.filter((w) => (w.tTest?.p as number) >= ctx.alpha);
      return {
        ours,
        verdict: notRejected.length ? 'not supported' : 'supported',
        why: `rule: unpaired two-tailed t-test of observed against null densities rejects at ${ctx.alpha} for every width but 1x${notRejected.length ? `; not at ${notRejected.map((w) => widthLabel(w.width)).join(', ')}` : ''}`,
      };
    },
  },
  {
    id: 'core-size-anova',
    short: 'core size grows with width (ANOVA)',
    section: '4.2',
    claim: "The core (pruned) model size changes with width: the one-way ANOVA rejects equal mean core sizes (the paper's null hypothesis).",
    paper: () => `p < ${PAPER_P_BOUND}`,
    appliesTo: (s) => s.paper !== null,
    check(s, ctx) {
      const cmp = s.regime ? regimeComparison(s.regime) : null;
      const a = cmp?.anova ?? null;
      const ours = a ? `F(${a.dfBetween}, ${a.dfWithin}) = ${a.F.toFixed(1)}, ${formatP(a.p)}` : 'no ANOVA yet';
      const reason = notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (!a || Number.isNaN(a.p)) return waitFor('no ANOVA (fewer than two widths, or no variation)', ours);
      return { ours, verdict: a.p < ctx.alpha ? 'supported' : 'not supported', why: `rule: ANOVA p < ${ctx.alpha}` };
    },
  },
  {
    id: 'resnet-curves-overlap',
    section: '4.3',
    short: 'ResNet curves overlap more than MLP',
    claim: "Although both are trained with SGD, the ResNets' pruning curves overlap across widths while the MLPs' come apart.",
    paper: () => 'ResNet curves fairly overlapping; MLP curves apart (Figure 5)',
    appliesTo: paperIs('resnet-sgd'),
    check: (s, ctx) => overlapsMore(ctx, s, 'mlp-sgd', 'ResNet', 'MLP'),
  },
  {
    id: 'adagrad-curves-overlap',
    section: '4.3',
    short: 'Adagrad curves overlap more than Adam',
    claim: "Conv-2's pruning curves overlap more across widths when trained with Adagrad than with Adam.",
    paper: () => 'Adagrad curves overlap more (Figure 5)',
    appliesTo: paperIs('conv2-adagrad'),
    check: (s, ctx) => overlapsMore(ctx, s, 'conv2-adam', 'Adagrad', 'Adam'),
  },
  {
    id: 'adagrad-similar-start',
    section: '4.3',
    short: 'Adagrad widths start alike, Adam not',
    claim:
      "Adagrad's models of all widths start pruning at a similar validation loss; Adam's do not reach the same accuracy (the paper's explanation of the overlap).",
    paper: () => 'Adagrad: similar validation loss before pruning; Adam: different accuracies',
    appliesTo: paperIs('conv2-adagrad'),
    check: (s, ctx) =>
      compareRegimes(
        ctx,
        s,
        'conv2-adam',
        "across widths, Adagrad's mean pre-pruning validation loss and accuracy both span a smaller range than Adam's",
        (adagrad, adam, widths) => {
          const sub = (r: Regime): Regime => ({ ...r, runs: r.runs.filter((x) => widths.includes(x.row.width)) });
          const [g, d] = [startSpread(sub(adagrad)), startSpread(sub(adam))];
          const known = g.lossSpread !== null && d.lossSpread !== null && g.accuracySpread !== null && d.accuracySpread !== null;
          return {
            text: `range across widths of the mean loss / accuracy before pruning: Adagrad ${fmt(g.lossSpread, 3)} / ${fmt(g.accuracySpread)} points, Adam ${fmt(d.lossSpread, 3)} / ${fmt(d.accuracySpread)} points`,
            holds: known ? (g.lossSpread as number) < (d.lossSpread as number) && (g.accuracySpread as number) < (d.accuracySpread as number) : null,
          };
        },
      ),
  },
  {
    id: 'adagrad-start-explains',
    section: '4.3',
    short: "the start explains Adagrad's overlap",
    claim:
      "The different pre-pruning accuracies may help explain why Adagrad's curves overlap more: measured from each model's own unpruned accuracy, most of the difference goes.",
    paper: () => 'offered as a possible explanation, not tested',
    appliesTo: paperIs('conv2-adagrad'),
    check: (s, ctx) =>
      compareRegimes(
        ctx,
        s,
        'conv2-adam',
        "measured from each model's own unpruned accuracy, the Adam - Adagrad curve-spread difference is at most half of the one as trained",
        (adagrad, adam, widths) => {
          const f = (r: Regime, fromStart: boolean) => regimeCurveSpread(r, { widths, fromStart });
          const v = [f(adagrad, false), f(adam, false), f(adagrad, true), f(adam, true)];
          if (v.some((x) => x === null)) return { text: 'no curves to compare yet', holds: null };
          const [g, d, gS, dS] = v as number[];
          return {
            text: `Adam - Adagrad curve spread: ${signed(d - g)} points as trained, ${signed(dS - gS)} measured from each model's unpruned accuracy (Adagrad ${gS.toFixed(1)}, Adam ${dS.toFixed(1)})`,
            holds: dS - gS <= (d - g) / 2,
            ...(d - g <= 0 ? { untestable: "Adagrad's curves do not overlap more than Adam's here, so there is nothing for the start to explain" } : {}),
          };
        },
      ),
  },
  {
    id: 'he-denser',
    short: 'He denser than Glorot',
    section: '4.4',
    claim: 'He-initialised models have a higher effective density than their Glorot twins.',
    paper: () => 'He higher (Figure 6)',
    appliesTo: (s) => s.paper !== null,
    check(s, ctx) {
      const t = s.regime ? pairedAcrossWidths(s.regime, (r) => r.row.effectiveDensity) : null;
      const ours = t && t.n ? `He - Glorot ${signed(t.meanDiff)} points over ${t.n} seed pairs, ${formatP(t.p)}` : 'no pairs yet';
      const reason = bothInits(s) ?? notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (!t || t.p === null || Number.isNaN(t.p)) return waitFor('fewer than two Glorot/He pairs, or no variation', ours);
      return {
        ours,
        verdict: t.meanDiff > 0 && t.p < ctx.alpha ? 'supported' : 'not supported',
        why: `rule: paired t-test over every width's seed pairs, He - Glorot > 0 with p < ${ctx.alpha}`,
      };
    },
  },
  {
    id: 'he-gap-grows',
    short: 'He - Glorot gap grows with width',
    section: '4.4',
    claim: 'The difference in effective density between He and Glorot grows with width.',
    paper: () => 'gap increases with width (Figure 6)',
    appliesTo: (s) => s.paper !== null,
    check(s) {
      const cmp = s.regime ? compareInits(s.regime).filter((c) => c.paired.n > 0) : [];
      const ours = cmp.length ? `He - Glorot: ${cmp.map((c) => `${widthLabel(c.width)} ${signed(c.paired.meanDiff)}`).join(', ')} points` : 'no pairs yet';
      const reason = bothInits(s) ?? notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (cmp.length < 3) return waitFor(`pairs at ${cmp.length} width(s); a trend needs 3`, ours);
      const dir = trend(cmp.map((c) => ({ x: c.width, y: c.paired.meanDiff })));
      return {
        ours,
        verdict: dir === 'increasing' ? 'supported' : 'not supported',
        why: `rule: the mean paired gap never falls from one width to the next (here: ${dir})`,
      };
    },
  },
  {
    id: 'he-trains-faster',
    short: 'He needs fewer epochs',
    section: '4.4',
    claim: 'He-initialised networks need fewer epochs to converge.',
    paper: () => 'He converges in fewer epochs',
    appliesTo: (s) => s.paper !== null,
    check(s, ctx) {
      const t = s.regime ? pairedAcrossWidths(s.regime, (r) => r.row.epochs) : null;
      const ours = t && t.n ? `He - Glorot ${signed(t.meanDiff, 2)} epochs over ${t.n} seed pairs, ${formatP(t.p)}` : 'no pairs yet';
      const reason = bothInits(s) ?? notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (!t || t.p === null || Number.isNaN(t.p)) return waitFor('fewer than two Glorot/He pairs, or no variation', ours);
      const stop = s.regime?.runs[0]?.record.descriptor.stop.kind === 'bestValidationLoss' ? " (epochs trained, best epoch plus the stop rule's patience)" : '';
      return {
        ours,
        verdict: t.meanDiff < 0 && t.p < ctx.alpha ? 'supported' : 'not supported',
        why: `rule: paired t-test of epochs${stop} over every width's seed pairs, He - Glorot < 0 with p < ${ctx.alpha}`,
      };
    },
  },
  {
    id: 'init-overlap-side',
    short: "init/trained overlap on the paper's side of chance",
    section: '5.1 (Tables 3, 4)',
    claim:
      'Small weights at initialisation overlap small weights after training: above chance in every Conv-2/Adam layer (Table 4); for MLPs above chance at 0.1x, below chance in fc1 and fc2 of the over-parameterised widths (Table 3).',
    paper: (s) => (s.paper === 'mlp-sgd' ? 'Table 3' : 'Table 4'),
    appliesTo: paperIs('mlp-sgd', 'conv2-adam'),
    check(s) {
      const q = s.regime ? overlapQuantileOf(s.regime) : null;
      const cells = s.regime ? overlapCells(s.regime).filter((c) => c.paper !== null) : [];
      const chance = q === null ? null : chanceOverlap(q);
      const agree = chance === null ? [] : cells.filter((c) => (c.ours.mean as number) > chance === (c.paper as number) > chance);
      const ours =
        cells.length && chance !== null
          ? `same side of chance (${chance.toFixed(0)}%) as the paper in ${agree.length} of ${cells.length} (width, layer) cells (${[...new Set(cells.map((c) => widthLabel(c.width)))].join(', ')})`
          : 'no overlaps yet';
      const reason = notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (q === null) return waitFor('the runs were analysed with different overlap quantiles (or none)', ours);
      if (Math.abs(q - 0.4) > 1e-9) return waitFor(`the runs were analysed at the smallest ${Math.round(100 * q)}%, the paper at 40%`, ours);
      if (cells.length === 0) return waitFor("none of this profile's widths is in the paper's table", ours);
      const off = cells.filter((c) => !agree.includes(c));
      return {
        ours,
        verdict: off.length === 0 ? 'supported' : 'not supported',
        why: `rule: our mean overlap on the paper's side of chance in every cell${off.length ? `; not in ${off.map((c) => `${widthLabel(c.width)} ${c.layer} (${pct(c.ours.mean)} vs ${pct(c.paper)})`).join(', ')}` : ''}`,
      };
    },
  },
  {
    id: 'functions-by-width',
    short: 'functions differ by width (MLP) / not (Conv-2)',
    section: '5.2 (Figures 7, 8)',
    claim:
      'MLPs: the biggest models form a cluster and the smallest are very dissimilar (Figure 7). Conv-2/Adam: no clear pattern distinguishes model sizes (Figure 8).',
    paper: (s) => (s.paper === 'mlp-sgd' ? 'Figure 7: widths cluster, 0.1x apart' : 'Figure 8: no pattern by width'),
    appliesTo: paperIs('mlp-sgd', 'conv2-adam'),
    check(s, ctx) {
      const set = s.regime ? correctnessSet(s.regime) : null;
      const test = set ? widthStructure(set, { permutations: ctx.permutations, seed: deriveSeed(0, 'claims', 'functions-by-width', s.key) }) : null;
      const ours = test
        ? `agreement within a width ${(100 * test.within).toFixed(1)}% vs between widths ${(100 * test.between).toFixed(1)}% (${set?.runs.length} models, data seed ${set?.dataSeed}; permutation p = ${test.p.toPrecision(2)})`
        : 'no correctness vectors yet';
      const reason = notReadyReason(s);
      if (reason) return waitFor(reason, ours);
      if (!test || !set) return waitFor('too few models with correctness vectors (two widths and a width with two models needed)', ours);
      const structured = test.p < ctx.alpha;
      if (s.paper === 'conv2-adam')
        return {
          ours,
          verdict: structured ? 'not supported' : 'supported',
          why: `rule: a permutation test of the width labels (${test.permutations} shuffles) finds no within-width excess agreement at ${ctx.alpha}`,
        };
      // MLP: widths differ, and the smallest width is the least alike within itself.
      const wa = widthAgreement(set);
      const within = wa.widths.map((_, a) => wa.mean[a][a]);
      const smallestLeast = within[0] !== null && within.slice(1).every((x) => x === null || x > (within[0] as number));
      return {
        ours: `${ours}; within-width agreement ${wa.widths
          .map((w, i) => {
            const x = within[i];
            return `${widthLabel(w)} ${x === null ? 'n/a' : (100 * x).toFixed(1)}`;
          })
          .join(', ')}%`,
        verdict: structured && smallestLeast ? 'supported' : 'not supported',
        why: `rule: a permutation test of the width labels (${test.permutations} shuffles) finds within-width excess agreement at ${ctx.alpha}, and the smallest width's models agree least among themselves`,
      };
    },
  },
];

/** The profile's groups as claim subjects: each group's analysable runs and how complete it is. */
export function claimSubjects(study: Study): ClaimSubject[] {
  const complete = study.runs.filter((r) => r.row.status === 'complete');
  const regimes = regimesOf(complete);
  return study.profile.groups.map((g) => {
    const expected = study.expected.filter((e) => e.group === g.label);
    const finished = study.runs.filter((r) => r.row.group === g.label);
    const regime = regimes.find((r) => r.key === g.label) ?? null;
    const widths = [...new Set([...expected.map((e) => e.descriptor.width), ...finished.map((r) => r.row.width)])].sort((a, b) => a - b);
    const first = expected[0]?.descriptor;
    const arch = first?.architecture ?? finished[0]?.row.arch ?? 'unknown';
    const optimizer = first?.optimizer ?? finished[0]?.row.optimizer ?? 'unknown';
    const paper = paperRegimeOf(arch, optimizer);
    return {
      key: g.label,
      title: regime?.title ?? (paper ? PAPER_REGIME_TITLES[paper] : g.label),
      paper,
      regime,
      coverage: widths.map((width) => ({
        width,
        planned: expected.filter((e) => e.descriptor.width === width).length,
        finished: finished.filter((r) => r.row.width === width).length,
        analysable: regime ? regime.runs.filter((r) => r.row.width === width).length : 0,
      })),
      inits: [...new Set(expected.map((e) => e.descriptor.init))],
    };
  });
}

/** Every claim of PAPER_CLAIMS checked on every profile group it applies to, in the paper's order. */
export function checkClaims(study: Study, opts: ClaimOptions = {}): ClaimCheck[] {
  const ctx: Context = { subjects: claimSubjects(study), alpha: opts.alpha ?? 0.05, permutations: opts.permutations ?? 2000 };
  const out: ClaimCheck[] = [];
  for (const c of PAPER_CLAIMS) {
    for (const s of ctx.subjects) {
      if (!c.appliesTo(s)) continue;
      const o = c.check(s, ctx);
      out.push({
        id: c.id,
        section: c.section,
        short: c.short,
        claim: c.claim,
        regime: o.regime ?? s.title,
        paper: c.paper(s),
        ours: o.ours,
        verdict: o.verdict,
        why: o.why,
      });
    }
  }
  return out;
}

/** The checks as table rows (the claim's text once per claim, so the table reads down). */
export function claimRows(checks: readonly ClaimCheck[]): TableRow[] {
  return checks.map((c, i) => ({
    section: c.section,
    claim: i > 0 && checks[i - 1].id === c.id ? '' : c.claim,
    regime: c.regime,
    paper: c.paper,
    ours: c.ours,
    verdict: c.verdict,
    why: c.why,
  }));
}

/** How many checks got each verdict, e.g. "9 supported, 2 not supported, 14 not testable at this scale". */
export function verdictCounts(checks: readonly ClaimCheck[]): string {
  return VERDICTS.map((v) => `${checks.filter((c) => c.verdict === v).length} ${v}`).join(', ');
}

/**
 * A Markdown table of the checks (`npm run claims`): every column, or with `short` the claim's few words instead of
 * its text and no paper column (README's verdict table).
 */
export function claimsMarkdown(checks: readonly ClaimCheck[], opts: { short?: boolean } = {}): string {
  const rows = checks.map((c, i): TableRow => {
    const first = i === 0 || checks[i - 1].id !== c.id;
    const verdict = c.verdict === NOT_TESTABLE ? c.verdict : `**${c.verdict}**`;
    return opts.short
      ? { Sec: c.section, Claim: first ? c.short : '', Regime: c.regime, Verdict: verdict, Ours: c.ours, Why: c.why }
      : { Sec: c.section, Claim: first ? c.claim : '', Regime: c.regime, Paper: c.paper, Ours: c.ours, Verdict: verdict, Why: c.why };
  });
  return rowsToMarkdown(rows);
}
