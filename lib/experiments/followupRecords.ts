// The records of the paper's two proposed follow-ups (Section 6; issue 16) and how to read them: their settings,
// the registry of follow-ups, file names, content ids and soundness checks. No tfjs here: notebooks read these
// records through lib/report without loading the training stack; lib/experiments/followups.ts computes them.
import * as path from 'path';
import type { EffectiveDensityOptions } from '../analysis/effectiveDensity';
import type { LlcOptions } from '../analysis/llc';
import type { ScoreInit } from '../prune/edgePopup';
import { runDir } from '../paths';
import { readJson, type JsonRead } from '../store/atomic';
import { canonicalStringify, sha256Hex } from '../store/canonical';
import { resolveAnalysisSettings, type AnalysisSettings } from '../store/descriptor';
import { findNonFinite, inspectRun, type Provenance, type TrainStageRecord } from '../store/runRecord';
import { expandProfileRuns, type ExpandedRun, type Profile } from './profiles';

/** What a follow-up computes: the record's `followup` field. */
export type FollowupKind = 'edgePopup' | 'llc';

// ---- settings ----

export interface EdgePopupSettings {
  /** Percent kept per prunable layer, descending (the one edge-popup grid): brackets the MLP's magnitude effective densities (26-64%). */
  densities: number[];
  /** Search epochs over the score-fitting set, with the reference's cosine schedule. */
  epochs: number;
  /** Training images the scores are fitted on: a seeded subset of the run's own training split. */
  fitImages: number;
  scoreInit: ScoreInit;
  learningRate: number;
  momentum: number;
  weightDecay: number;
  batchSize: number;
  seed: number;
  /**
   * The search runs from this many grid points above the magnitude mask's first degraded grid density (above it
   * the magnitude mask already keeps the accuracy, and the search starts from it), down to `stopAfterDegraded`
   * consecutive degraded searched points (below them nothing is searched; the magnitude mask is still measured).
   */
  searchFromAbove: number;
  stopAfterDegraded: number;
}

/** The settings the committed results use; every choice is stated in README (Beyond magnitude pruning). */
export const EDGE_POPUP_SETTINGS: Readonly<EdgePopupSettings> = Object.freeze({
  densities: [80, 70, 60, 50, 40, 30, 25, 20, 15, 10, 7, 5, 3, 2],
  epochs: 2,
  fitImages: 10000,
  scoreInit: 'magnitude' as ScoreInit,
  learningRate: 0.1,
  momentum: 0.9,
  weightDecay: 1e-4,
  batchSize: 128,
  seed: 0,
  searchFromAbove: 1,
  stopAfterDegraded: 2,
});

export type LlcSettings = Omit<LlcOptions, 'nBeta'> & {
  /** Training images the loss L_n is taken over (n): a seeded subset of the run's training split. */
  dataImages: number;
};

/**
 * The MLPs stop at a training loss of 0.2, on a slope, not at a minimum: the plain estimator's chains walk
 * downhill there (negative estimates at 0.1x). So the main estimate samples the loss without its linear term at
 * w* (lib/analysis/llc.ts removeLinearTerm); the plain one (devinterp's) is kept on a few runs to show why.
 */
export const LLC_SETTINGS: Readonly<LlcSettings> = Object.freeze({
  chains: 2,
  burnIn: 100,
  draws: 200,
  stepSize: 1e-5,
  gamma: 100,
  batchSize: 128,
  dataImages: 55000,
  seed: 0,
  removeLinearTerm: true,
});

type FollowupSettings = { kind: 'edgePopup'; settings: Readonly<EdgePopupSettings> } | { kind: 'llc'; settings: Readonly<LlcSettings> };

export type FollowupSpec = FollowupSettings & {
  description: string;
  /** Which of the follow-up runs (followupRuns) it is computed on. */
  runs: (r: ExpandedRun) => boolean;
};

/** The registry: a new follow-up (or a variant's settings) is one entry. */
export const FOLLOWUP_SPECS = {
  edgePopup: {
    kind: 'edgePopup',
    settings: EDGE_POPUP_SETTINGS,
    runs: () => true,
    description: 'edge-popup from |w| scores over the density grid, every follow-up run',
  },
  edgePopupRandomScores: {
    kind: 'edgePopup',
    settings: Object.freeze({ ...EDGE_POPUP_SETTINGS, scoreInit: 'kaimingUniform' as ScoreInit }),
    runs: (r) => r.descriptor.width === 1 && r.descriptor.initSeed === 0,
    description: "edge-popup from the reference's random scores (kaiming uniform), 1x init seed 0, both inits",
  },
  llc: {
    kind: 'llc',
    settings: LLC_SETTINGS,
    runs: () => true,
    description: 'local learning coefficient, linear term at w* removed, every follow-up run',
  },
  llcPlain: {
    kind: 'llc',
    settings: Object.freeze({ ...LLC_SETTINGS, removeLinearTerm: false }),
    runs: (r) => r.descriptor.initSeed === 0 && r.descriptor.width <= 1,
    description: "local learning coefficient by devinterp's plain estimator, init seed 0, both inits, widths up to 1x",
  },
  llcStepSmall: {
    kind: 'llc',
    settings: Object.freeze({ ...LLC_SETTINGS, stepSize: 3e-6 }),
    runs: (r) => r.descriptor.initSeed === 0 && r.descriptor.init === 'glorot',
    description: 'the LLC at a 3x smaller SGLD step (3e-6), Glorot init seed 0, every width: is the slope across widths step-size free?',
  },
  llcStepLarge: {
    kind: 'llc',
    settings: Object.freeze({ ...LLC_SETTINGS, stepSize: 2e-5 }),
    runs: (r) => r.descriptor.initSeed === 0 && r.descriptor.init === 'glorot',
    description: 'the LLC at a 2x larger SGLD step (2e-5), Glorot init seed 0, every width',
  },
} satisfies Record<string, FollowupSpec>;

export type FollowupName = keyof typeof FOLLOWUP_SPECS;
export const FOLLOWUPS = Object.keys(FOLLOWUP_SPECS) as FollowupName[];

/** 12 hex characters of the canonical settings (with the effective-density threshold, which edge-popup reads). */
export function settingsKey(settings: unknown): string {
  return sha256Hex(canonicalStringify(settings)).slice(0, 12);
}

export function edgePopupFile(s: EdgePopupSettings, threshold: EffectiveDensityOptions): string {
  return `edge-popup-${settingsKey({ ...s, threshold })}.json`;
}

export function llcFile(s: LlcSettings): string {
  return `llc-${settingsKey(s)}.json`;
}

/** The file a follow-up's record has in its run directory. */
export function followupFile(name: FollowupName, analysis?: AnalysisSettings): string {
  const spec: FollowupSpec = FOLLOWUP_SPECS[name];
  const a = resolveAnalysisSettings(analysis ?? {});
  return spec.kind === 'edgePopup' ? edgePopupFile(spec.settings, { metric: a.metric, threshold: a.threshold, mode: a.mode }) : llcFile(spec.settings);
}

// ---- records ----

export interface FollowupMeta {
  followup: FollowupKind;
  /** Hash of the content (everything but the execution fields below). */
  id: string;
  hash: string;
  /** The train stage record the weights come from. */
  inputs: { train: string };
  startedAt: string;
  endedAt: string;
  wallSeconds: number;
  pid: number;
  hostname: string;
  commit: string | null;
  provenance: Provenance;
  /** Whether this computation restored the weights by retraining (they were absent). */
  retrained: boolean;
}

export interface MaskResult {
  accuracy: number;
  loss: number;
}

export interface EdgePopupGridPoint {
  density: number;
  /** The layer-wise magnitude mask of this density, on the validation split. */
  magnitude: MaskResult;
  /** The searched subnetwork (null where the search was not run; see EdgePopupSettings.searchFromAbove). */
  edgePopup:
    | null
    | (MaskResult & {
        /** Loss on the score-fitting set of the returned mask, and of the magnitude mask (the search's start). */
        fitLoss: number;
        magnitudeFitLoss: number;
        /** Search epoch whose mask was kept (0: the magnitude mask itself: no epoch improved on it). */
        chosenEpoch: number;
        epochFitLosses: number[];
        /** Share of the searched mask's kept weights that the magnitude mask of the same density also keeps. */
        keptInMagnitude: number;
      });
}

export interface EdgePopupRecord extends FollowupMeta {
  followup: 'edgePopup';
  settings: EdgePopupSettings;
  threshold: Required<EffectiveDensityOptions>;
  totalWeights: number;
  unpruned: MaskResult;
  grid: EdgePopupGridPoint[];
  /** First degraded grid density (the paper's definition on this grid), magnitude mask and searched mask. */
  effectiveDensity: { magnitude: number; edgePopup: number };
  coreSize: { magnitude: number; edgePopup: number };
  /**
   * Share of the edge-popup core (its mask at its effective density) inside the magnitude core (the magnitude mask
   * at the magnitude effective density on the grid), and the share expected by chance (magnitude core density).
   */
  coreOverlap: { keptInMagnitudeCore: number; chance: number };
}

export interface LlcRecord extends FollowupMeta {
  followup: 'llc';
  settings: LlcSettings;
  llc: number;
  llcStd: number;
  llcPerChain: number[];
  lossTraces: number[][];
  lossAtOptimum: number;
  hyperparameters: Required<LlcOptions> & { n: number; parameters: number };
  /** Every parameter the chains move (weights and biases). */
  parameters: number;
  totalWeights: number;
}

export type FollowupRecord = EdgePopupRecord | LlcRecord;

/** Where JSON null is legitimate in a follow-up record. */
export const NULLABLE = [/^\$\.provenance\.(commit|dirty)$/, /^\$\.commit$/, /^\$\.grid\[\d+\]\.edgePopup$/];

const EXECUTION_FIELDS = ['id', 'startedAt', 'endedAt', 'wallSeconds', 'pid', 'hostname', 'commit', 'provenance', 'retrained'];

export function followupRecordId(r: FollowupRecord): string {
  const content: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!EXECUTION_FIELDS.includes(k)) content[k] = v;
  return sha256Hex(canonicalStringify(content)).slice(0, 16);
}

/** Why a follow-up record read from disk cannot be trusted, or null. */
export function unsoundFollowup(v: unknown, followup: FollowupKind, hash: string, train: TrainStageRecord): string | null {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as FollowupRecord;
  if (r.followup !== followup) return `followup is ${String(r.followup)}, expected ${followup}`;
  if (r.hash !== hash) return `hash ${String(r.hash)} does not match the directory ${hash}`;
  if (r.inputs?.train !== train.id) return `computed from training ${String(r.inputs?.train)}, the run's training is ${train.id}`;
  const nonFinite = findNonFinite(r, NULLABLE);
  if (nonFinite) return nonFinite;
  const id = followupRecordId(r);
  if (r.id !== id) return `its id ${r.id} is not the hash of its content (${id}): edited or damaged`;
  return null;
}

// ---- which runs ----

/**
 * The runs the follow-ups are computed on: a profile's MLP runs of data seed 0 and init seeds 0-4 (both inits). For
 * the cpu profile (the paper's full MLP protocol), 10 per width at all five widths.
 */
export function followupRuns(profile: Profile | string = 'cpu', widths?: number[]): ExpandedRun[] {
  return expandProfileRuns(profile, { arch: 'mlp', ...(widths ? { widths } : {}) }).filter((r) => r.descriptor.dataSeed === 0 && r.descriptor.initSeed < 5);
}

/** A follow-up record of a run if present and sound; null if absent (reading never computes); throws if unsound. */
export function readFollowup(hash: string, name: FollowupName, analysis?: AnalysisSettings): FollowupRecord | null {
  const dir = runDir(hash);
  const settings = resolveAnalysisSettings(analysis ?? {});
  const file = followupFile(name, settings);
  const r = readJson<unknown>(path.join(dir, file));
  if (!r.ok) {
    // (a cast, not narrowing: notebooks compile this without strictNullChecks, where `!r.ok` does not narrow)
    const failed = r as Extract<JsonRead<unknown>, { ok: false }>;
    if (failed.reason === 'missing') return null;
    throw new Error(`${path.join('outputs/runs', hash, file)}: unreadable (${failed.error ?? failed.reason}); delete it to recompute (npm run followups)`);
  }
  const state = inspectRun(dir, hash, settings);
  if (state.train.state !== 'done') throw new Error(`${path.join('outputs/runs', hash, file)}: its run has no sound train.json (${state.train.state})`);
  const problem = unsoundFollowup(r.value, FOLLOWUP_SPECS[name].kind, hash, state.train.record);
  if (problem) throw new Error(`${path.join('outputs/runs', hash, file)}: ${problem}; delete it to recompute (npm run followups)`);
  return r.value as FollowupRecord;
}
