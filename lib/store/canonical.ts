// Canonical JSON: one text per value, whatever the key order or float noise, so equal experiments hash equally.
import * as crypto from 'crypto';

/** Round to 12 significant digits: removes float noise (0.1 + 0.2) without merging values anyone would type apart. -0 -> 0. */
export function normaliseNumber(x: number): number {
  if (!Number.isFinite(x)) throw new Error(`canonical JSON: numbers must be finite, got ${x}`);
  if (x === 0) return 0;
  return Number(x.toPrecision(12));
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Deep copy with sorted keys, normalised numbers and `undefined` members dropped (as JSON.stringify would). */
export function canonicalise(value: unknown, where = '$'): Json {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return value;
    case 'number':
      return normaliseNumber(value);
    case 'object': {
      if (Array.isArray(value)) return value.map((v, i) => canonicalise(v === undefined ? null : v, `${where}[${i}]`));
      const out: { [k: string]: Json } = {};
      for (const k of Object.keys(value as object).sort()) {
        const v = (value as Record<string, unknown>)[k];
        if (v !== undefined) out[k] = canonicalise(v, `${where}.${k}`);
      }
      return out;
    }
    default:
      throw new Error(`canonical JSON: ${where} is a ${typeof value}, which JSON cannot hold`);
  }
}

/** The canonical text: sorted keys, no whitespace. */
export function canonicalStringify(value: unknown): string {
  return JSON.stringify(canonicalise(value));
}

/** Deep equality of two JSON-able values under canonicalisation. */
export function canonicalEqual(a: unknown, b: unknown): boolean {
  return canonicalStringify(a) === canonicalStringify(b);
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}
