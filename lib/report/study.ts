// A notebook's view of one profile's results: the finished runs (tidy row + run.json), what the profile
// expects and what is still missing, with the provenance every notebook shows first and every figure cites.
import { expandProfileRuns, loadProfile, profileAnalysis, sweepCommand, type ExpandedRun, type Profile } from '../experiments/profiles';
import { loadResults, type ResultRow } from '../experiments/results';
import type { SweepEvent, SweepSummary } from '../experiments/sweep';
import { ensurePlotly, escapeHtml, showHtml, showNote } from '../plots/display';
import { resolveAnalysisSettings, type AnalysisSettings } from '../store/descriptor';
import type { RunRecord } from '../store/runRecord';

/** One finished run (complete or diverged): its tidy row and its run.json. */
export interface StudyRun {
  row: ResultRow;
  record: RunRecord;
}

export interface Study {
  /** The profile as the user named it (a built-in name or a file path): what commands must repeat. */
  profileSpec: string;
  profile: Profile;
  /** The settings the rows' effective densities were computed at (the profile's unless overridden). */
  analysis: AnalysisSettings;
  /** Finished runs, in the profile's order. */
  runs: StudyRun[];
  /** Every run the profile asks for. */
  expected: ExpandedRun[];
  /** Expected runs without a finished run.json. */
  missing: ExpandedRun[];
  /** What the sweep did, when missing runs were computed. */
  sweep?: SweepSummary;
}

export interface OpenStudyOptions {
  /** Train, prune and analyse the missing runs first, in this process (slow). Default false. */
  compute?: boolean;
  /** Other analysis settings (e.g. { threshold: 10 }): effective densities are recomputed, nothing retrains. */
  analysis?: Partial<AnalysisSettings>;
  /** Progress of a compute, one line per finished run (default: console.log). */
  log?: (line: string) => void;
}

/** Load a profile's results (and compute what is missing when asked), without showing anything. */
export async function loadStudy(profile: string | Profile, opts: OpenStudyOptions = {}): Promise<Study> {
  const p = typeof profile === 'string' ? loadProfile(profile) : profile;
  const profileSpec = typeof profile === 'string' ? profile : p.name;
  const analysis = resolveAnalysisSettings({ ...profileAnalysis(p), ...(opts.analysis ?? {}) });
  const log = opts.log ?? ((line: string) => console.log(line));
  const onEvent = (e: SweepEvent): void => {
    if (e.type === 'run-end') log(`[sweep] finished ${e.label} in ${Math.round(e.seconds)} s`);
  };
  const loaded = await loadResults(p, { compute: opts.compute === true, analysis, onEvent });
  const runs = loaded.rows.map((row, i) => ({ row, record: loaded.runs[i] }));
  const expected = expandProfileRuns(p);
  const have = new Set(runs.map((r) => r.row.hash));
  const missing = expected.filter((r) => !have.has(r.hash));
  return { profileSpec, profile: p, analysis, runs, expected, missing, ...(loaded.sweep ? { sweep: loaded.sweep } : {}) };
}

/**
 * The first call of every notebook: load the profile's results (computing the missing ones only when
 * `compute` is true), embed plotly.js once, and show the provenance box and, if runs are missing, what is
 * missing and the command that computes it. Never throws for missing results.
 */
export async function openStudy(profile: string | Profile, opts: OpenStudyOptions = {}): Promise<Study> {
  ensurePlotly();
  const study = await loadStudy(profile, opts);
  showHtml(provenanceHtml(provenanceSummary(study)));
  if (study.sweep) showNote(sweepSummaryText(study.sweep), study.sweep.failed.length ? 'warning' : 'info');
  const missingNote = missingRunsNote(study);
  if (missingNote) showNote(missingNote, 'warning');
  return study;
}

// ---- provenance ----

export interface DatasetSummary {
  name: string;
  description: string;
  sha256: string;
  /** Distinct training-set sizes used by the runs (subsets differ per profile group). */
  trainImages: number[];
  validationImages: number[];
}

export interface ProvenanceSummary {
  profile: string;
  description: string;
  expected: number;
  done: number;
  complete: number;
  diverged: number;
  missing: number;
  initSeeds: number[];
  dataSeeds: number[];
  datasets: DatasetSummary[];
  backends: string[];
  commits: string[];
  analysis: string;
  departures: string[];
  /** The command that computes the missing runs, or null when none are missing. */
  command: string | null;
}

function sortedUnique(xs: number[]): number[] {
  return [...new Set(xs)].sort((a, b) => a - b);
}

/** "wasm (@tensorflow/tfjs-backend-wasm 4.22.0, 1 thread, SIMD)" */
export function backendLabel(b: RunRecord['provenance']['backend']): string {
  const extras = [
    `${b.threads} thread${b.threads === 1 ? '' : 's'}`,
    ...(b.simd ? ['SIMD'] : []),
    ...(b.gpu ? ['GPU'] : []),
    ...(b.convolutions ? [`convolutions: ${b.convolutions}`] : []),
    ...(b.batchNorm ? [`batch normalization: ${b.batchNorm}`] : []),
  ];
  return `${b.name} (${b.package} ${b.version}, ${extras.join(', ')})`;
}

/** "d74d129" or "d74d129 + uncommitted changes"; "unknown" outside git. */
export function commitLabel(commit: string | null, dirty: boolean | null): string {
  if (!commit) return 'unknown (not a git checkout)';
  return `${commit.slice(0, 7)}${dirty ? ' + uncommitted changes' : ''}`;
}

/** The effective-density rule in words, e.g. "first pruning level more than 5 accuracy points below the unpruned model". */
export function analysisLabel(a: AnalysisSettings): string {
  const unit =
    a.metric === 'accuracy'
      ? a.mode === 'points'
        ? `${a.threshold} accuracy points below`
        : `${a.threshold}% (relative) below the accuracy of`
      : a.mode === 'points'
        ? `${a.threshold} loss units above`
        : `${a.threshold}% (relative) above the loss of`;
  return `effective density = density at the first pruning level more than ${unit} the unpruned model; overlap quantile ${a.overlapQuantile}`;
}

export function provenanceSummary(study: Study): ProvenanceSummary {
  const records = study.runs.map((r) => r.record);
  const datasets = new Map<string, DatasetSummary>();
  for (const r of records) {
    const d = r.provenance.dataset;
    const key = `${d.name} ${d.sha256}`;
    const s = datasets.get(key) ?? { name: d.name, description: d.description, sha256: d.sha256, trainImages: [], validationImages: [] };
    s.trainImages = sortedUnique([...s.trainImages, d.trainImages]);
    s.validationImages = sortedUnique([...s.validationImages, d.validationImages]);
    datasets.set(key, s);
  }
  return {
    profile: study.profileSpec === study.profile.name ? study.profile.name : `${study.profile.name} (${study.profileSpec})`,
    description: study.profile.description,
    expected: study.expected.length,
    done: study.runs.length,
    complete: study.runs.filter((r) => r.row.status === 'complete').length,
    diverged: study.runs.filter((r) => r.row.status === 'diverged').length,
    missing: study.missing.length,
    initSeeds: sortedUnique(study.runs.map((r) => r.row.initSeed)),
    dataSeeds: sortedUnique(study.runs.map((r) => r.row.dataSeed)),
    datasets: [...datasets.values()],
    backends: [...new Set(records.map((r) => backendLabel(r.provenance.backend)))],
    commits: [...new Set(records.map((r) => commitLabel(r.provenance.commit, r.provenance.dirty)))],
    analysis: analysisLabel(study.analysis),
    departures: [...study.profile.departures],
    command: study.missing.length ? sweepCommand(study.profileSpec, study.profile, study.missing) : null,
  };
}

function list(xs: (string | number)[]): string {
  return xs.length ? xs.join(', ') : 'none yet';
}

// Inline styles on every element: the lab template's CSS right-aligns table cells, centres and stripes tables and
// shrinks their font, which made the box hard to read; inline styles win over its class rules.
const PROV_CELL = 'text-align:left;vertical-align:top;padding:3px 14px 3px 0;line-height:1.45;white-space:normal';

/** The provenance box at the top of every notebook. */
export function provenanceHtml(p: ProvenanceSummary): string {
  const row = (k: string, v: string) =>
    `<tr style="background:transparent"><th style="${PROV_CELL};font-weight:600;white-space:nowrap">${escapeHtml(k)}</th><td style="${PROV_CELL}">${v}</td></tr>`;
  const datasets = p.datasets.length
    ? p.datasets
        .map(
          (d) =>
            `${escapeHtml(d.name)}: ${escapeHtml(d.description)}; sha256 <code>${escapeHtml(d.sha256.slice(0, 12))}…</code>; ` +
            `${escapeHtml(d.trainImages.map((n) => n.toLocaleString('en-US')).join(' / '))} training and ${escapeHtml(d.validationImages.map((n) => n.toLocaleString('en-US')).join(' / '))} validation images`,
        )
        .join('<br>')
    : 'none yet (no finished runs)';
  const runs = `${p.done} of ${p.expected} done (${p.complete} complete, ${p.diverged} diverged); ${p.missing} missing`;
  const departures = p.departures.length
    ? `<ul style="margin:0;padding-left:18px">${p.departures.map((d) => `<li>${escapeHtml(d)}</li>`).join('')}</ul>`
    : "none: the paper's protocol";
  return `<div class="density-provenance" style="border:1px solid #c8cdd8;border-left:4px solid #5b6b8c;background:#f7f8fb;color:#1f2328;padding:8px 12px;margin:6px 0;font-size:14px;text-align:left">
<table style="margin:0;width:100%;table-layout:auto;border-collapse:collapse;font-size:inherit;color:inherit">
${row('profile', `<b>${escapeHtml(p.profile)}</b>: ${escapeHtml(p.description)}`)}
${row('runs', escapeHtml(runs))}
${row('seeds', escapeHtml(`init seeds ${list(p.initSeeds)}; data seeds ${list(p.dataSeeds)}`))}
${row('data', datasets)}
${row('backend', escapeHtml(list(p.backends)))}
${row('git commit', escapeHtml(list(p.commits)))}
${row('analysis', escapeHtml(p.analysis))}
${row('departures from the paper', departures)}
${p.command ? row('compute the missing runs', `<code>${escapeHtml(p.command)}</code> (or set COMPUTE_MISSING = true in the first cell)`) : ''}
</table></div>`;
}

/** The warning shown when runs are missing, or null when none are. */
export function missingRunsNote(study: Study): string | null {
  if (study.missing.length === 0) return null;
  const byGroup = new Map<string, number>();
  for (const r of study.missing) byGroup.set(r.group, (byGroup.get(r.group) ?? 0) + 1);
  const parts = [...byGroup].map(([g, n]) => `${g}: ${n}`).join(', ');
  const cmd = sweepCommand(study.profileSpec, study.profile, study.missing);
  return (
    `${study.missing.length} of ${study.expected.length} runs of profile ${study.profile.name} are not computed yet (${parts}). ` +
    `Sections below use the runs that exist and say what they lack.\nCompute them with:  ${cmd}\n(or set COMPUTE_MISSING = true in the first cell and re-run it; that trains in this kernel).`
  );
}

export function sweepSummaryText(s: SweepSummary): string {
  const lines = [
    `Computed missing runs in ${Math.round(s.wallSeconds)} s: ${s.done} done, ${s.diverged} diverged, ${s.failed.length} failed, ${s.runningElsewhere.length} held by another process, ${s.notStarted} not finished.`,
  ];
  for (const f of s.failed) lines.push(`failed: ${f.label} (${f.stage}): ${f.message}`);
  return lines.join('\n');
}

// ---- the source line under every figure ----

/** Short dataset name for a source line: the description up to its first parenthesis. */
function datasetShort(d: { description: string; sha256: string }): string {
  const text = d.description.split('(')[0].trim().replace(/[,;]$/, '');
  return `${text} (sha256 ${d.sha256.slice(0, 8)}…)`;
}

/**
 * Where a figure's numbers come from: profile, dataset copy, runs and seeds, backend and commit. `runs` are the
 * runs the figure actually uses (default: all of the study's).
 */
export function sourceLine(study: Study, runs: readonly StudyRun[] = study.runs): string {
  if (runs.length === 0) return `source: profile ${study.profile.name}; no finished runs`;
  const datasets = [...new Map(runs.map((r) => [r.record.provenance.dataset.sha256, r.record.provenance.dataset])).values()].map(datasetShort);
  const initSeeds = new Set(runs.map((r) => r.row.initSeed)).size;
  const dataSeeds = new Set(runs.map((r) => r.row.dataSeed)).size;
  const backends = [
    ...new Set(
      runs.map((r) => {
        const b = r.record.provenance.backend;
        // Native kernels round differently from the wasm backend's: a figure says which made its runs.
        const conv = b.convolutions && b.convolutions !== 'xnnpack' ? ` + ${b.convolutions.split(' ').slice(0, 2).join(' ')} convolutions` : '';
        return `${b.name} ${b.version}${conv}${b.batchNorm === 'native' ? ' + native batch norm' : ''}`;
      }),
    ),
  ];
  const commits = [...new Set(runs.map((r) => commitLabel(r.record.provenance.commit, r.record.provenance.dirty).replace(' + uncommitted changes', '+')))];
  return `source: profile ${study.profile.name} | ${datasets.join('; ')} | n=${runs.length} runs (${initSeeds} init x ${dataSeeds} data seeds) | ${backends.join(', ')} | commit ${commits.join(', ')}`;
}
