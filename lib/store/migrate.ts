// Migrate run records written by older code (run schema 1) to the current form, in place, without training:
//   - the dataset is recorded by name, copy and sha256 (the machine path is dropped);
//   - stage ids are content hashes (stageRecordId) and every reference (inputs, run.json stages) follows;
//   - analysis records and run.json gain the degraded flag and the unpruned margin over chance.
// Run directories keep their names (the descriptor hash): nothing that identifies a run changes.
//   npx tsx lib/store/migrate.ts [runs folder]      (default: the outputs' runs folder)
// Idempotent, and safe to rerun after a kill: the old -> new id mapping is logged (events.jsonl) before any
// record is rewritten, so a half-migrated directory is finished from that log.
import * as fs from 'fs';
import * as path from 'path';
import { chanceMargin, effectiveDensityDetail } from '../analysis/effectiveDensity';
import { datasetCopy } from '../data/provenance';
import { runsDir } from '../paths';
import { readJson, writeJsonAtomic } from './atomic';
import { canonicalEqual } from './canonical';
import { resolveAnalysisSettings, type AnalysisSettings } from './descriptor';
import {
  analysisFile,
  type AnalysisStageRecord,
  assembleRunRecord,
  inspectRun,
  logEvent,
  type PruneStageRecord,
  readEvents,
  RUN_FILE,
  runFile,
  runFiles,
  STAGE_FILE,
  stageRecordId,
  type TrainStageRecord,
} from './runRecord';

/** Classes per dataset: the chance level of the margin (1 / classes). Kept here so the script needs no data. */
const NUM_CLASSES: Record<string, number> = { mnist: 10, cifar10: 10 };

export interface MigrateResult {
  dir: string;
  /** 'migrated' (records rewritten), 'current' (nothing to do), 'skipped' (why in `problem`). */
  outcome: 'migrated' | 'current' | 'skipped';
  problem?: string;
  /** Run files (run.json, run-<key>.json) rewritten as the assembly of the migrated records. */
  runFiles: string[];
}

/** Old -> new record ids: logged by earlier (possibly killed) migrations of this directory, then this one's. */
function loggedIds(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readEvents(dir)) {
    if (e.event !== 'migrated' || typeof e.ids !== 'object' || e.ids === null) continue;
    for (const pair of Object.values(e.ids as Record<string, { from: string; to: string }>)) out.set(pair.from, pair.to);
  }
  return out;
}

/** The current id of a reference to `id` (unchanged when it is not a known old id). */
function mapId(map: Map<string, string>, id: string | undefined): string | undefined {
  return id === undefined ? undefined : (map.get(id) ?? id);
}

/** Migrate one run directory (named by its hash). */
export function migrateRunDir(dir: string): MigrateResult {
  const hash = path.basename(dir);
  const trainFile = readJson<TrainStageRecord & { dataset: { path?: string } }>(path.join(dir, STAGE_FILE.train));
  if (trainFile.ok === false) return { dir, outcome: 'skipped', problem: `train.json is ${trainFile.reason}`, runFiles: [] };
  const oldTrain = trainFile.value;
  const { path: _machinePath, ...dataset } = oldTrain.dataset as TrainStageRecord['dataset'] & { path?: string };
  const train: TrainStageRecord = { ...oldTrain, dataset: { ...dataset, copy: dataset.copy ?? datasetCopy(dataset.name, dataset.sha256) } };
  // Key order as the stage writes it, so a migrated file reads like a fresh one.
  train.dataset = {
    name: train.dataset.name,
    copy: train.dataset.copy,
    description: train.dataset.description,
    sha256: train.dataset.sha256,
    trainImages: train.dataset.trainImages,
    validationImages: train.dataset.validationImages,
  };
  train.id = stageRecordId(train);
  const ids = loggedIds(dir);
  const newIds: Record<string, { from: string; to: string }> = {};
  if (oldTrain.id !== train.id) newIds.train = { from: oldTrain.id, to: train.id };
  ids.set(oldTrain.id, train.id);

  let prune: PruneStageRecord | null = null;
  const pruneFile = readJson<PruneStageRecord>(path.join(dir, STAGE_FILE.prune));
  if (pruneFile.ok) {
    const old = pruneFile.value;
    prune = { ...old, inputs: { ...old.inputs, train: mapId(ids, old.inputs.train) } };
    prune.id = stageRecordId(prune);
    if (old.id !== prune.id) newIds.prune = { from: old.id, to: prune.id };
    ids.set(old.id, prune.id);
  }

  // Every analysis record (one per analysis setting), migrated against the prune record it was computed from.
  const analyses: { file: string; record: AnalysisStageRecord }[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => /^analysis(-[0-9a-f]{12})?\.json$/.test(n))) {
    const f = readJson<AnalysisStageRecord>(path.join(dir, name));
    if (f.ok === false) continue;
    const old = f.value;
    const inputs = { ...old.inputs, train: mapId(ids, old.inputs.train), prune: mapId(ids, old.inputs.prune) };
    const { settings, effectiveDensity, degraded, chanceMargin: margin, coreSize, overlaps, activations, correctness, ...meta } = old;
    let flags = { degraded, chanceMargin: margin };
    if ((degraded === undefined || margin === undefined) && prune && inputs.prune === prune.id) {
      const s = resolveAnalysisSettings(settings);
      const classes = NUM_CLASSES[train.dataset.name];
      if (classes === undefined)
        return { dir, outcome: 'skipped', problem: `dataset ${train.dataset.name}: number of classes unknown to the migration`, runFiles: [] };
      flags = {
        degraded: effectiveDensityDetail(prune.trajectory, { metric: s.metric, threshold: s.threshold, mode: s.mode }).degraded,
        chanceMargin: chanceMargin(prune.trajectory, classes),
      };
    }
    // Key order as the analysis stage writes it: the flags beside the effective density.
    analyses.push({ file: name, record: { ...meta, inputs, settings, effectiveDensity, ...flags, coreSize, overlaps, activations, correctness } });
    const last = analyses[analyses.length - 1];
    last.record.id = stageRecordId(last.record);
    if (old.id !== last.record.id) newIds[name] = { from: old.id, to: last.record.id };
    ids.set(old.id, last.record.id);
  }

  // A run file is rewritten only when it was the assembly of these records under the old ids (its stage ids
  // and results match): one that did not match stays as it is, and inspection reports it for a sweep to redo.
  const assemblies: { file: string; settings: AnalysisSettings; old: Record<string, unknown> }[] = [];
  for (const name of runFiles(dir)) {
    const f = readJson<Record<string, unknown>>(path.join(dir, name));
    if (f.ok === false) continue;
    const old = f.value as { schema?: number; analysis?: unknown; stages?: Record<string, { id?: string }>; effectiveDensity?: unknown; trajectory?: unknown };
    let settings: AnalysisSettings;
    try {
      settings = resolveAnalysisSettings(old.analysis);
    } catch {
      continue;
    }
    if (runFile(settings) !== name) continue;
    const a = analyses.find((x) => x.file === analysisFile(settings))?.record ?? null;
    const complete = train.training.status === 'complete';
    const sameIds =
      mapId(ids, old.stages?.train?.id) === train.id &&
      (!complete || (prune !== null && a !== null && mapId(ids, old.stages?.prune?.id) === prune.id && mapId(ids, old.stages?.analysis?.id) === a.id));
    const sameResults = !complete || (canonicalEqual(old.trajectory, prune?.trajectory) && canonicalEqual(old.effectiveDensity, a?.effectiveDensity));
    if (sameIds && sameResults) assemblies.push({ file: name, settings, old: f.value });
  }

  const changed = Object.keys(newIds).length > 0 || 'path' in oldTrain.dataset;
  const runUpdates = assemblies
    .map(({ file, settings }) => {
      const a = analyses.find((x) => x.file === analysisFile(settings))?.record ?? null;
      const complete = train.training.status === 'complete';
      return { file, record: assembleRunRecord(hash, train, complete ? prune : null, complete ? a : null, settings) };
    })
    .filter(({ file, record }) => !canonicalEqual(record, assemblies.find((x) => x.file === file)?.old));
  if (!changed && runUpdates.length === 0) return { dir, outcome: 'current', runFiles: [] };

  // The mapping first: a kill between the writes below is finished by a rerun from this line.
  logEvent(dir, 'migrated', { ids: newIds, note: 'records of older code: dataset by name/copy/sha256, content ids, degraded flag and margin over chance' });
  writeJsonAtomic(path.join(dir, STAGE_FILE.train), train);
  if (prune) writeJsonAtomic(path.join(dir, STAGE_FILE.prune), prune);
  for (const a of analyses) writeJsonAtomic(path.join(dir, a.file), a.record);
  for (const u of runUpdates) writeJsonAtomic(path.join(dir, u.file), u.record);
  return { dir, outcome: 'migrated', runFiles: runUpdates.map((u) => u.file) };
}

/** Migrate every run directory under `root`; each result says what happened. */
export function migrateRuns(root: string = runsDir()): MigrateResult[] {
  if (!fs.existsSync(root)) throw new Error(`migrate: runs folder ${root} does not exist`);
  return fs
    .readdirSync(root)
    .sort()
    .filter((h) => /^[0-9a-f]{16}$/.test(h) && fs.statSync(path.join(root, h)).isDirectory())
    .map((h) => migrateRunDir(path.join(root, h)));
}

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? runsDir());
  const results = migrateRuns(root);
  const count = (o: MigrateResult['outcome']) => results.filter((r) => r.outcome === o).length;
  for (const r of results) if (r.outcome === 'skipped') console.log(`skipped ${r.dir}: ${r.problem}`);
  // After migrating, every run file that was a result must be one again (checked with the current rules).
  const notDone = results.filter(
    (r) => r.outcome !== 'skipped' && fs.existsSync(path.join(r.dir, RUN_FILE)) && inspectRun(r.dir, path.basename(r.dir)).run.state !== 'done',
  );
  for (const r of notDone) {
    const ins = inspectRun(r.dir, path.basename(r.dir));
    console.log(
      `not a result after migration: ${r.dir}: ${[ins.train, ins.prune, ins.analysis, ins.run].flatMap((c) => (c.state === 'invalid' ? [c.problem] : [])).join('; ')}`,
    );
  }
  console.log(
    `${root}: ${results.length} run directories: ${count('migrated')} migrated, ${count('current')} already current, ${count('skipped')} skipped; ${notDone.length} run.json not sound afterwards`,
  );
  process.exitCode = notDone.length || count('skipped') ? 1 : 0;
}
