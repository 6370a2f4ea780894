// The width rule: the paper's `size` multiplies every hidden width / filter count; input and output sizes stay.

/** Hidden width of a layer whose 1x width is `base`, at width multiplier `width`: max(1, round(base * width)). */
export function hiddenWidth(base: number, width: number): number {
  assertWidth(width);
  return Math.max(1, Math.round(base * width));
}

/** Throws with the bad value unless `width` is a finite positive number. */
export function assertWidth(width: number): void {
  if (typeof width !== 'number' || !Number.isFinite(width) || width <= 0) {
    throw new Error(`width multiplier must be a finite positive number, got ${String(width)}`);
  }
}

/** Dense layer description (tfjs kernel [in, out]). */
export function denseLayer(name: string, fanIn: number, units: number) {
  return { name, kind: 'dense' as const, shape: [fanIn, units], count: fanIn * units, fanIn, fanOut: units };
}

/** Conv layer description (tfjs kernel [kh, kw, cIn, cOut]); fans are kh*kw*cIn and kh*kw*cOut. */
export function convLayer(name: string, k: number, cIn: number, cOut: number) {
  return { name, kind: 'conv' as const, shape: [k, k, cIn, cOut], count: k * k * cIn * cOut, fanIn: k * k * cIn, fanOut: k * k * cOut };
}
