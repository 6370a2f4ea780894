// Compact 0/1 vectors (per-image correctness): 5,000 validation images -> 625 bytes -> 836 base64 chars.

export interface PackedBits {
  /** Number of entries (the last byte may be partly padding). */
  n: number;
  /** Bits packed most-significant first, base64. */
  bits: string;
}

export function encodeBits(values: ArrayLike<number | boolean>): PackedBits {
  const n = values.length;
  const bytes = new Uint8Array(Math.ceil(n / 8));
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== 0 && v !== 1 && v !== true && v !== false) throw new Error(`encodeBits: entry ${i} is ${String(v)}, expected 0/1`);
    if (v === 1 || v === true) bytes[i >> 3] |= 0x80 >> (i & 7);
  }
  return { n, bits: Buffer.from(bytes).toString('base64') };
}

export function decodeBits(p: PackedBits): Uint8Array {
  const bytes = Buffer.from(p.bits, 'base64');
  if (bytes.length !== Math.ceil(p.n / 8)) throw new Error(`decodeBits: ${bytes.length} bytes cannot hold exactly ${p.n} bits`);
  const out = new Uint8Array(p.n);
  for (let i = 0; i < p.n; i++) out[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  return out;
}
