// Reproducing a recorded run: compute it again from its descriptor in a scratch outputs folder, with the code as it
// is now, and compare every computed field of the new run.json with the recorded one, bit for bit. This is how a
// record made at one commit is shown to still hold at another (the same descriptor, seeds and backend must give
// the same numbers), without touching the recorded run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runDir } from '../paths';
import { readJson } from '../store/atomic';
import { RUN_FILE, runFile, type RunRecord } from '../store/runRecord';
import { executeRun } from './run';
import { backendInfo, initBackend } from '../backend';
import { levers } from '../fast/levers';
import { NATIVE_KERNEL_FAMILIES, useRecordedFamily } from '../fast/nativeKernels';

/**
 * Switch every native kernel family's lever (lib/fast/nativeKernels.ts) to the kernels the record names (records from
 * before a family name none: the wasm backend's own). Returns a function restoring the levers; throws, restoring them,
 * when this machine lacks the recorded kernels.
 */
export function useRecordedKernels(recorded: RunRecord): () => void {
  const restores: (() => void)[] = [];
  const restore = () =>
    restores
      .splice(0)
      .reverse()
      .forEach((r) => r());
  const backend = recorded.provenance?.backend;
  if (!backend || backend.name !== 'wasm' || backendInfo().name !== 'wasm') return restore;
  try {
    for (const family of Object.values(NATIVE_KERNEL_FAMILIES)) {
      const before = useRecordedFamily(family, backend[family.field], recorded.hash);
      restores.push(() => (levers[family.lever] = before));
    }
  } catch (err) {
    restore();
    throw err;
  }
  return restore;
}

/** The fields of run.json that the code computes (not when, where or by which commit it ran). */
export const REPRODUCED_FIELDS = [
  'status',
  'weightCounts',
  'trajectory',
  'baselines',
  'effectiveDensity',
  'degraded',
  'chanceMargin',
  'coreSize',
  'overlaps',
  'activations',
  'correctness',
] as const;
/** Of `training`: everything but the wall time. */
export const REPRODUCED_TRAINING_FIELDS = [
  'status',
  'stopReason',
  'steps',
  'epochs',
  'bestEpoch',
  'divergedAtStep',
  'validationAccuracy',
  'validationLoss',
  'curve',
  'validation',
] as const;

export interface ReproduceReport {
  hash: string;
  /** Commit that made the recorded run, and the commit that recomputed it (null outside a git checkout). */
  recordedCommit: string | null;
  commit: string | null;
  /** Field paths whose values differ (empty: bit-identical in every computed field). */
  differences: string[];
  wallSeconds: number;
}

function same(a: unknown, b: unknown): boolean {
  // Records are JSON: equal text is equal values, and a float that differs in its last bit prints differently.
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The fields of two run records that differ, by path ('trajectory', 'training.validation', ...). */
export function recordDifferences(recorded: RunRecord, now: RunRecord): string[] {
  const out: string[] = [];
  for (const f of REPRODUCED_FIELDS) if (!same(recorded[f], now[f])) out.push(f);
  const rt = recorded.training as unknown as Record<string, unknown>;
  const nt = now.training as unknown as Record<string, unknown>;
  for (const f of REPRODUCED_TRAINING_FIELDS) if (!same(rt[f], nt[f])) out.push(`training.${f}`);
  return out;
}

/**
 * Recompute run `hash` (its run.json in the outputs folder names the descriptor) in a fresh scratch outputs folder
 * and compare. The scratch folder is removed afterwards unless `keep` is set. Throws when the run has no readable
 * run.json or the recomputation fails.
 */
export async function reproduceRun(hash: string, opts: { keep?: boolean } = {}): Promise<ReproduceReport> {
  const file = path.join(runDir(hash), RUN_FILE);
  const read = readJson<RunRecord>(file);
  if (read.ok === false) throw new Error(`cannot reproduce run ${hash}: ${file} is ${read.reason}${read.error ? ` (${read.error})` : ''}`);
  const recorded = read.value;
  const started = Date.now();
  await initBackend();
  // The record's own kernels (or a refusal) before anything is written.
  const restoreLevers = useRecordedKernels(recorded);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `density-reproduce-${hash}-`));
  const saved = process.env.DENSITY_OUTPUTS;
  // lib/paths reads DENSITY_OUTPUTS at every call, so the run and its split land in the scratch folder.
  process.env.DENSITY_OUTPUTS = scratch;
  try {
    const outcome = await executeRun(recorded.descriptor, { analysis: recorded.analysis, purpose: `reproduce ${hash}` });
    if (outcome.kind === 'failed') throw new Error(`reproducing run ${hash} failed in its ${outcome.stage} stage: ${outcome.error.message}`);
    if (outcome.kind !== 'completed') throw new Error(`reproducing run ${hash} ended as '${outcome.kind}'`);
    const nowRead = readJson<RunRecord>(path.join(runDir(outcome.hash), runFile(recorded.analysis)));
    if (nowRead.ok === false) throw new Error(`reproducing run ${hash}: the new run.json is ${nowRead.reason}`);
    return {
      hash,
      recordedCommit: recorded.provenance.commit ?? null,
      commit: nowRead.value.provenance.commit ?? null,
      differences: recordDifferences(recorded, nowRead.value),
      wallSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    restoreLevers();
    if (saved === undefined) delete process.env.DENSITY_OUTPUTS;
    else process.env.DENSITY_OUTPUTS = saved;
    if (!opts.keep) fs.rmSync(scratch, { recursive: true, force: true });
  }
}
