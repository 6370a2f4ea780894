// lib/report: what the notebooks call. Notebook-level aggregation (across runs, by regime and width),
// figure and table assembly, the provenance every notebook opens with, and the notes for missing results.
// Cells import './lib/report/index' (tslab resolves a directory import at compile time but not at run time).
export * from './study';
export * from './sections';
export * from './aggregate';
export * from './tables';
export * from './show';
export * from '../protocol';
export * from './setting';
export * from './trajectories';
export * from './nullHypothesis';
export * from './regimes';
export * from './initSchemes';
export * from './initOverlap';
export * from './functionalSimilarity';
export * from './activationSparsity';
export * from './beyond';
export type { ResultRow } from '../experiments/results';
export type { RunRecord, TrajectoryRecordPoint } from '../store/runRecord';
export { showFigure, showHtml } from '../plots/display';
export * from './followups';
export * from './claims';
