// The part of a study one notebook section needs (e.g. the Conv-2 runs), and what to say when some or all
// of it is missing: a note naming what is absent and the command that computes it, so the notebook goes on.
import { expandProfileRuns, PROFILES, sweepCommand, type ExpandedRun } from '../experiments/profiles';
import type { ArchName } from '../models/types';
import { showNote } from '../plots/display';
import type { Descriptor } from '../store/descriptor';
import type { Study, StudyRun } from './study';

export interface SectionSelector {
  arch?: ArchName | readonly ArchName[];
  optimizer?: string | readonly string[];
  /** Profile group labels, e.g. 'conv2-adam'. */
  groups?: readonly string[];
  widths?: readonly number[];
  /** Only complete runs (default true: diverged runs have no trajectory). */
  completeOnly?: boolean;
}

export type SectionState = 'complete' | 'partial' | 'absent' | 'not-in-profile';

export interface Section {
  title: string;
  state: SectionState;
  /** The section's finished runs (complete only, unless completeOnly is false). */
  runs: StudyRun[];
  expected: ExpandedRun[];
  missing: ExpandedRun[];
  /** Diverged runs of the section (no trajectory; left out of its figures). */
  diverged: StudyRun[];
  /** What to tell the reader, or null when everything is there. */
  note: string | null;
  /** The sweep command that computes the missing runs, or null. */
  command: string | null;
  /** True when there is anything to show. */
  ready: boolean;
}

function asList<T>(v: T | readonly T[] | undefined): readonly T[] | undefined {
  return v === undefined ? undefined : Array.isArray(v) ? (v as readonly T[]) : [v as T];
}

/** Does a run (by its descriptor and group) belong to the selection? */
export function selects(sel: SectionSelector, d: Descriptor, group: string): boolean {
  const archs = asList(sel.arch);
  const opts = asList(sel.optimizer);
  if (archs && !archs.includes(d.architecture)) return false;
  if (opts && !opts.includes(d.optimizer)) return false;
  if (sel.groups && !sel.groups.includes(group)) return false;
  if (sel.widths && !sel.widths.some((w) => Math.abs(w - d.width) < 1e-9)) return false;
  return true;
}

/** Built-in profiles (other than this one) that do have runs of the selection. */
export function profilesWith(sel: SectionSelector, except: string): string[] {
  return Object.keys(PROFILES).filter((name) => name !== except && expandProfileRuns(PROFILES[name]).some((r) => selects(sel, r.descriptor, r.group)));
}

/** The runs of a section and what is missing, with the note to show; shows nothing. */
export function selectSection(study: Study, sel: SectionSelector, title: string): Section {
  const completeOnly = sel.completeOnly ?? true;
  const inSel = study.runs.filter((r) => selects(sel, r.record.descriptor, r.row.group));
  const runs = completeOnly ? inSel.filter((r) => r.row.status === 'complete') : inSel;
  const diverged = inSel.filter((r) => r.row.status !== 'complete');
  const expected = study.expected.filter((r) => selects(sel, r.descriptor, r.group));
  const missing = study.missing.filter((r) => selects(sel, r.descriptor, r.group));
  const command = missing.length ? sweepCommand(study.profileSpec, study.profile, missing) : null;
  let state: SectionState;
  let note: string | null = null;
  if (expected.length === 0) {
    state = 'not-in-profile';
    const others = profilesWith(sel, study.profile.name);
    note =
      `${title}: profile ${study.profile.name} has no such runs, so this part is skipped.` +
      (others.length
        ? ` Profile${others.length > 1 ? 's' : ''} ${others.join(', ')} ${others.length > 1 ? 'have' : 'has'} them: render with DENSITY_PROFILE=${others[0]}.`
        : '');
  } else if (inSel.length === 0) {
    state = 'absent';
    note =
      `${title}: none of the ${expected.length} runs of profile ${study.profile.name} is computed yet, so this part is skipped.\n` +
      `Compute them with:  ${command}\n(or set COMPUTE_MISSING = true in the first cell).`;
  } else if (missing.length > 0) {
    state = 'partial';
    note =
      `${title}: ${missing.length} of ${expected.length} runs are not computed yet; what follows uses the ${inSel.length} that are.\n` +
      `Complete them with:  ${command}`;
  } else {
    state = 'complete';
  }
  if (diverged.length > 0 && completeOnly) {
    const text = `${diverged.length} run${diverged.length > 1 ? 's' : ''} diverged during training (${diverged.map((r) => r.record.label).join('; ')}) and ${diverged.length > 1 ? 'are' : 'is'} left out: a diverged run has no pruning trajectory.`;
    note = note ? `${note}\n${text}` : `${title}: ${text}`;
  }
  return { title, state, runs, expected, missing, diverged, note, command, ready: runs.length > 0 };
}

/** selectSection, then show its note (a warning when nothing can be shown). Check `.ready` before using it. */
export function section(study: Study, sel: SectionSelector, title: string): Section {
  const s = selectSection(study, sel, title);
  if (s.note) showNote(s.note, s.ready ? 'info' : 'warning');
  return s;
}
