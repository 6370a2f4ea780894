// jstat ships no types. Declares only what lib/analysis uses (jstat 1.9.6): the regularised incomplete
// beta function for exact tail probabilities, and the basic moments.
declare module 'jstat' {
  interface JStat {
    /** Regularised incomplete beta I_x(a, b). */
    ibeta(x: number, a: number, b: number): number;
    mean(values: readonly number[]): number;
    /** Standard deviation; `sample = true` divides by n - 1. */
    stdev(values: readonly number[], sample?: boolean): number;
  }
  export const jStat: JStat;
}
