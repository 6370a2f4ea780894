// lib/experiments: profiles, the stages of one run, sweeps and the results table (what notebooks import).
export * from './profiles';
export { executeRun, isRunDone, assembleRunRecord, downsample, CURVE_MAX_POINTS, type RunOutcome, type RunOptions } from './run';
export { runSweep, superviseSweep, pendingRuns, type SweepEvent, type SweepSummary, type SweepOptions } from './sweep';
export * from './results';
export { provenance, gitState, versions } from './provenance';
