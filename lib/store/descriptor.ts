// An experiment is a plain object (open_lth's "descriptor"). Its canonical JSON (sorted keys, defaults
// omitted, numbers normalised) is hashed to name outputs/runs/<hash>/. The defaults are the protocol's
// (lib/protocol.ts) and part of that hashing contract: changing one renames every run that relied on it.
// Anything that does not change what is trained or pruned (thresholds, plots) is NOT in the descriptor.
import type { DatasetName } from '../data/types';
import type { ArchName, InitName } from '../models/types';
import type { OptimizerName } from '../train/optimizers';
import type { StopRule } from '../train/train';
import type { StrategyName } from '../prune/strategies';
import {
  ARCH_DATASET,
  ARCH_NAMES,
  DATASET_NAMES,
  DEFAULT_BATCH_SIZE,
  DEFAULT_PRUNING,
  DEFAULT_VALIDATION_SIZE,
  INIT_NAMES,
  OPTIMIZER_NAMES,
  STRATEGY_NAMES,
  TRAIN_SIZE,
  defaultLearningRate,
  defaultOptimizer,
  defaultStop,
  type PruningSettings,
} from '../protocol';
import { canonicalEqual, canonicalStringify, normaliseNumber, sha256Hex } from './canonical';
import { nearestName } from '../suggest';

// Strategy names are the pruning registry's (lib/prune); descriptors hold them as they are.
export type { StrategyName };
// The stop rule's one definition is the training loop's (lib/train); descriptors hold it as it is.
export type { StopRule };
// The pruning settings and every default below are the protocol's (lib/protocol.ts).
export type { PruningSettings };

export interface Descriptor {
  architecture: ArchName;
  width: number;
  init: InitName;
  initSeed: number;
  dataSeed: number;
  dataset: DatasetName;
  /** Training images kept after the validation split (seeded by dataSeed); undefined = all of them. */
  trainSubset?: number;
  validationSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  batchSize: number;
  stop: StopRule;
  pruning: PruningSettings;
}

/** What a caller writes: the five identifying fields, everything else optional (defaults below). */
export type DescriptorInput = Pick<Descriptor, 'architecture' | 'width' | 'init' | 'initSeed' | 'dataSeed'> &
  Partial<Omit<Descriptor, 'architecture' | 'width' | 'init' | 'initSeed' | 'dataSeed' | 'stop' | 'pruning'>> & {
    /** A partial rule of the default kind is completed from the default. */
    stop?: Partial<StopRule> & { kind?: StopRule['kind'] };
    pruning?: Partial<PruningSettings>;
  };

const TOP_KEYS = [
  'architecture',
  'width',
  'init',
  'initSeed',
  'dataSeed',
  'dataset',
  'trainSubset',
  'validationSize',
  'optimizer',
  'learningRate',
  'batchSize',
  'stop',
  'pruning',
] as const;
const REQUIRED_KEYS = ['architecture', 'width', 'init', 'initSeed', 'dataSeed'] as const;
const STOP_KEYS: Record<StopRule['kind'], readonly string[]> = {
  targetTrainLoss: ['kind', 'target', 'window', 'checkEvery', 'maxEpochs'],
  bestValidationLoss: ['kind', 'epochs', 'patience'],
};
const PRUNING_KEYS = ['levels', 'step', 'strategies', 'seed'] as const;

// ---- validation ----

/** Thrown for a bad descriptor or analysis setting; `field` is the dotted path of the offending value. */
export class DescriptorError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${field}: got ${show(value)}; expected ${expected}`);
    this.name = 'DescriptorError';
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing (field missing)';
  if (typeof v === 'string') return `'${v}'`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      const hint = nearestName(k, allowed);
      throw new DescriptorError(`${where}.${k}`, obj[k], `no such field${hint ? ` (did you mean '${hint}'?)` : ''}; known fields: ${allowed.join(', ')}`);
    }
  }
}

function oneOf<T extends string>(v: unknown, options: readonly T[], field: string, what: string): T {
  if (typeof v !== 'string' || !options.includes(v as T)) {
    const hint = typeof v === 'string' ? nearestName(v, options) : undefined;
    throw new DescriptorError(field, v, `a known ${what}: one of ${options.join(', ')}${hint ? ` (did you mean '${hint}'?)` : ''}`);
  }
  return v as T;
}

function positive(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new DescriptorError(field, v, 'a finite number > 0');
  return normaliseNumber(v);
}

function positiveInt(v: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new DescriptorError(field, v, `an integer from 1 to ${max}`);
  return v;
}

function seed(v: unknown, field: string): number {
  // Seeds feed a 32-bit PRNG: larger values would alias smaller ones.
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new DescriptorError(field, v, 'a non-negative integer seed (0 to 4294967295)');
  return v;
}

function resolveStop(v: unknown, arch: ArchName, optimizer: OptimizerName): StopRule {
  const def = defaultStop(arch, optimizer);
  if (v === undefined) return def;
  if (!isPlainObject(v)) throw new DescriptorError('descriptor.stop', v, "a stop rule object, e.g. { kind: 'bestValidationLoss', epochs: 10 }");
  const kind = oneOf(v.kind ?? def.kind, ['targetTrainLoss', 'bestValidationLoss'] as const, 'descriptor.stop.kind', 'stop rule kind');
  checkKeys(v, STOP_KEYS[kind], 'descriptor.stop');
  // Same kind as the default: fill the missing fields from it; another kind must be complete.
  const base: Record<string, unknown> = def.kind === kind ? { ...def } : { kind };
  const merged: Record<string, unknown> = { ...base, ...v, kind };
  if (kind === 'targetTrainLoss') {
    return {
      kind,
      target: positive(merged.target, 'descriptor.stop.target'),
      window: positiveInt(merged.window, 'descriptor.stop.window'),
      checkEvery: positiveInt(merged.checkEvery, 'descriptor.stop.checkEvery'),
      maxEpochs: positive(merged.maxEpochs, 'descriptor.stop.maxEpochs'),
    };
  }
  // patience absent = every epoch is trained (the paper's rule); it is then absent from the hash too.
  const epochs = positiveInt(merged.epochs, 'descriptor.stop.epochs');
  if (merged.patience === undefined) return { kind, epochs };
  return { kind, epochs, patience: positiveInt(merged.patience, 'descriptor.stop.patience') };
}

function resolvePruning(v: unknown): PruningSettings {
  if (v === undefined) return { ...DEFAULT_PRUNING, strategies: [...DEFAULT_PRUNING.strategies] };
  if (!isPlainObject(v)) throw new DescriptorError('descriptor.pruning', v, 'an object with levels, step, strategies, seed');
  checkKeys(v, PRUNING_KEYS, 'descriptor.pruning');
  const levels = positiveInt(v.levels ?? DEFAULT_PRUNING.levels, 'descriptor.pruning.levels', 10000);
  const step = positive(v.step ?? DEFAULT_PRUNING.step, 'descriptor.pruning.step');
  if (levels * step > 1 + 1e-9)
    throw new DescriptorError('descriptor.pruning.step', step, `levels x step <= 1 (levels is ${levels}, so step <= ${normaliseNumber(1 / levels)})`);
  const raw = v.strategies ?? DEFAULT_PRUNING.strategies;
  if (!Array.isArray(raw) || raw.length === 0)
    throw new DescriptorError('descriptor.pruning.strategies', raw, "a non-empty list of strategies including 'layerwiseMagnitude'");
  const names = raw.map((s, i) => oneOf(s, STRATEGY_NAMES, `descriptor.pruning.strategies[${i}]`, 'pruning strategy'));
  if (!names.includes('layerwiseMagnitude'))
    throw new DescriptorError(
      'descriptor.pruning.strategies',
      raw,
      "a list that includes 'layerwiseMagnitude' (the paper's strategy, whose trajectory is the result)",
    );
  // Canonical order (registry order, no repeats), so ['random','layerwiseMagnitude'] and the reverse are one experiment.
  const strategies = STRATEGY_NAMES.filter((s) => names.includes(s));
  return { levels, step, strategies, seed: seed(v.seed ?? DEFAULT_PRUNING.seed, 'descriptor.pruning.seed') };
}

/**
 * Check a descriptor and fill in its defaults. Throws a DescriptorError naming the field, the value and what
 * was expected. The result is a complete Descriptor with normalised numbers.
 */
export function resolveDescriptor(input: unknown): Descriptor {
  if (!isPlainObject(input)) throw new DescriptorError('descriptor', input, 'an object');
  checkKeys(input, TOP_KEYS, 'descriptor');
  for (const k of REQUIRED_KEYS) if (input[k] === undefined) throw new DescriptorError(`descriptor.${k}`, undefined, 'a value (required field)');
  const architecture = oneOf(input.architecture, ARCH_NAMES, 'descriptor.architecture', 'architecture');
  const width = positive(input.width, 'descriptor.width');
  const init = oneOf(input.init, INIT_NAMES, 'descriptor.init', 'initialiser');
  const initSeed = seed(input.initSeed, 'descriptor.initSeed');
  const dataSeed = seed(input.dataSeed, 'descriptor.dataSeed');
  const dataset = oneOf(input.dataset ?? ARCH_DATASET[architecture], DATASET_NAMES, 'descriptor.dataset', 'dataset');
  if (dataset !== ARCH_DATASET[architecture])
    throw new DescriptorError('descriptor.dataset', dataset, `'${ARCH_DATASET[architecture]}' (architecture ${architecture} is built for it)`);
  const validationSize = positiveInt(input.validationSize ?? DEFAULT_VALIDATION_SIZE, 'descriptor.validationSize', TRAIN_SIZE[dataset] - 1);
  const trainSubset =
    input.trainSubset === undefined ? undefined : positiveInt(input.trainSubset, 'descriptor.trainSubset', TRAIN_SIZE[dataset] - validationSize);
  const optimizer = oneOf(input.optimizer ?? defaultOptimizer(architecture), OPTIMIZER_NAMES, 'descriptor.optimizer', 'optimizer');
  const lrDefault = defaultLearningRate(architecture, optimizer);
  if (input.learningRate === undefined && lrDefault === undefined) {
    throw new DescriptorError(
      'descriptor.learningRate',
      undefined,
      `a learning rate: ${architecture} with ${optimizer} is not one of the paper's regimes, so there is no default`,
    );
  }
  const learningRate = positive(input.learningRate ?? lrDefault, 'descriptor.learningRate');
  const batchSize = positiveInt(input.batchSize ?? DEFAULT_BATCH_SIZE, 'descriptor.batchSize', 65536);
  const stop = resolveStop(input.stop, architecture, optimizer);
  const pruning = resolvePruning(input.pruning);
  const d: Descriptor = { architecture, width, init, initSeed, dataSeed, dataset, validationSize, optimizer, learningRate, batchSize, stop, pruning };
  if (trainSubset !== undefined) d.trainSubset = trainSubset;
  return d;
}

/** Throws (DescriptorError naming the field) unless `d` is a valid descriptor. */
export function validateDescriptor(d: unknown): asserts d is DescriptorInput {
  resolveDescriptor(d);
}

/** The descriptor without the fields that equal their defaults: what is hashed. */
export function minimalDescriptor(input: unknown): Record<string, unknown> {
  const d = resolveDescriptor(input);
  const out: Record<string, unknown> = { architecture: d.architecture, width: d.width, init: d.init, initSeed: d.initSeed, dataSeed: d.dataSeed };
  if (d.trainSubset !== undefined) out.trainSubset = d.trainSubset;
  if (d.validationSize !== DEFAULT_VALIDATION_SIZE) out.validationSize = d.validationSize;
  // dataset is fixed by the architecture (checked above), so it never needs to be spelled out.
  if (d.optimizer !== defaultOptimizer(d.architecture)) out.optimizer = d.optimizer;
  if (d.learningRate !== defaultLearningRate(d.architecture, d.optimizer)) out.learningRate = d.learningRate;
  if (d.batchSize !== DEFAULT_BATCH_SIZE) out.batchSize = d.batchSize;
  if (!canonicalEqual(d.stop, defaultStop(d.architecture, d.optimizer))) out.stop = d.stop;
  const pruning: Record<string, unknown> = {};
  for (const k of PRUNING_KEYS) if (!canonicalEqual(d.pruning[k], DEFAULT_PRUNING[k])) pruning[k] = d.pruning[k];
  if (Object.keys(pruning).length) out.pruning = pruning;
  return out;
}

/** Sorted keys, defaults omitted, numbers normalised: equal experiments give equal text. */
export function canonicalJson(d: unknown): string {
  return canonicalStringify(minimalDescriptor(d));
}

/** sha256 of the canonical JSON, first 16 hex chars: the run directory's name. */
export function descriptorHash(d: unknown): string {
  return sha256Hex(canonicalJson(d)).slice(0, 16);
}

/** A short human label, e.g. "mlp 0.1x glorot i3 d1" (+ optimizer when not the architecture's default). */
export function shortLabel(input: unknown): string {
  const d = resolveDescriptor(input);
  const opt = d.optimizer !== defaultOptimizer(d.architecture) ? ` ${d.optimizer}` : d.architecture === 'conv2' ? ` ${d.optimizer}` : '';
  return `${d.architecture}${opt} ${d.width}x ${d.init} i${d.initSeed} d${d.dataSeed}`;
}

// ---- analysis settings (not hashed: changing them re-analyses nothing that needs training) ----

export interface AnalysisSettings {
  /** What the effective-density threshold is measured on. */
  metric: 'accuracy' | 'loss';
  /** In (0, 100]: accuracy points / percent of the unpruned accuracy, or loss units / percent of the unpruned loss (lib/analysis). */
  threshold: number;
  mode: 'points' | 'relative';
  /** Fraction of smallest-|w| weights compared between init and trained (Sec 5.1: 0.4). */
  overlapQuantile: number;
}

export const DEFAULT_ANALYSIS: Readonly<AnalysisSettings> = Object.freeze({ metric: 'accuracy', threshold: 5, mode: 'points', overlapQuantile: 0.4 });

/** Fill defaults and check ranges; throws DescriptorError naming the field. */
export function resolveAnalysisSettings(input: unknown = {}): AnalysisSettings {
  if (!isPlainObject(input)) throw new DescriptorError('analysis', input, 'an object');
  checkKeys(input, ['metric', 'threshold', 'mode', 'overlapQuantile'], 'analysis');
  const metric = oneOf(input.metric ?? DEFAULT_ANALYSIS.metric, ['accuracy', 'loss'] as const, 'analysis.metric', 'metric');
  const mode = oneOf(input.mode ?? DEFAULT_ANALYSIS.mode, ['points', 'relative'] as const, 'analysis.mode', 'threshold mode');
  const threshold = input.threshold ?? DEFAULT_ANALYSIS.threshold;
  // Same range as lib/analysis effectiveDensity: accuracy points/percent cannot drop by more than 100.
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold <= 0 || threshold > 100) {
    const unit =
      metric === 'accuracy'
        ? mode === 'points'
          ? 'percentage points of accuracy'
          : 'percent of the unpruned accuracy'
        : mode === 'points'
          ? 'loss units'
          : 'percent of the unpruned loss';
    throw new DescriptorError('analysis.threshold', threshold, `a number in (0, 100] (${unit})`);
  }
  const q = input.overlapQuantile ?? DEFAULT_ANALYSIS.overlapQuantile;
  if (typeof q !== 'number' || !(q > 0 && q < 1)) throw new DescriptorError('analysis.overlapQuantile', q, 'a fraction in (0, 1)');
  return { metric, threshold: normaliseNumber(threshold), mode, overlapQuantile: q };
}

export function validateAnalysisSettings(s: unknown): void {
  resolveAnalysisSettings(s);
}
