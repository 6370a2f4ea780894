// The width rule: the paper's `size` multiplies every hidden width / filter count; input and output sizes stay.
// Truncation, as the paper's own Table 1 shows (PROTOCOL.md "What Table 1 reveals"): Conv-2 at 0.1x fits its count
// only with int(6.4) = 6 filters and int(25.6) = 25 units, ResNet at 0.1x only with int(1.6) = 1 filter.

/**
 * A product this close (relative) to a whole number is that number: base * size is a float, and 0.57 * 100 is
 * 56.99999999999999, which plain truncation would make 56. Far above float error (~1e-16), far below any real fraction.
 */
const WHOLE_TOLERANCE = 1e-9;

/**
 * Hidden width of a layer whose 1x width is `base`, at width multiplier `width`: max(1, int(base * width)),
 * the product truncated (after snapping float error to the whole number it stands for).
 */
export function hiddenWidth(base: number, width: number): number {
  assertWidth(width);
  const x = base * width;
  const nearest = Math.round(x);
  const whole = Math.abs(x - nearest) <= WHOLE_TOLERANCE * Math.max(1, x) ? nearest : Math.floor(x);
  return Math.max(1, whole);
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

/**
 * Conv layer description (tfjs kernel [kh, kw, cIn, cOut]); fans are kh*kw*cIn and kh*kw*cOut. `outputPositions`
 * (h_out * w_out) is how often the kernel is applied per image: the paper's Table 1 counts each weight that often.
 */
export function convLayer(name: string, k: number, cIn: number, cOut: number, outputPositions: number) {
  return { name, kind: 'conv' as const, shape: [k, k, cIn, cOut], count: k * k * cIn * cOut, fanIn: k * k * cIn, fanOut: k * k * cOut, outputPositions };
}
