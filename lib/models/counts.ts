// Two ways to count a model's size (PROTOCOL.md "What Table 1 reveals"):
//  - weights only (no biases, no BatchNorm parameters): what is pruned, so the denominator of every density and
//    null-hypothesis ratio in this project; it reproduces the paper's MLP column exactly;
//  - the paper's Table 1 rule: each conv kernel weight counted once per output position (connections), dense weights
//    once, plus, for Conv-2, one value per unit of a hidden dense layer; it reproduces the paper's Conv-2 column
//    (exact at 0.5x, 1x, 2x; 1 over at 0.1x). For ResNet no rule over the described layers does: the paper's counts
//    are linear in the filter count, so the residual blocks' convs are absent from them (see resnet.ts).
import type { ArchName, Architecture, PrunableLayer } from './types';
import { getArchitecture } from './registry';

export interface WeightCounts {
  perLayer: Record<string, number>;
  total: number;
}

const resolve = (arch: ArchName | Architecture): Architecture => (typeof arch === 'string' ? getArchitecture(arch) : arch);

/** Weights only (no biases, no BatchNorm parameters), per prunable layer and in total: what pruning removes. */
export function weightCounts(arch: ArchName | Architecture, width: number): WeightCounts {
  const perLayer: Record<string, number> = {};
  let total = 0;
  for (const l of resolve(arch).prunableLayers(width)) {
    perLayer[l.name] = l.count;
    total += l.count;
  }
  return { perLayer, total };
}

/** A layer's connections: its kernel weights times how often the kernel is applied per image (dense: once). */
export function connections(layer: PrunableLayer): number {
  return layer.count * (layer.outputPositions ?? 1);
}

/**
 * Conv-2's Table 1 counts need u = int(256 s) values more than its connections: one per unit of a hidden dense
 * layer, e.g. one bias vector (fc1 and fc2 both have u units). The arithmetic says how many, not which; the MLP's
 * counts contain no such term (they are weights only), so the paper's counter is not one rule for all models.
 */
const PAPER_EXTRA_UNITS_OF: Partial<Record<ArchName, string>> = { conv2: 'fc1' };

export interface PaperCounts {
  /** Per prunable layer: connections (conv kernel weights x output positions; dense layers: their weights). */
  perLayer: Record<string, number>;
  /** Values beyond the connections that the paper's numbers need (Conv-2: u); 0 for the other models. */
  extra: number;
  total: number;
}

/** Our model counted by the paper's Table 1 rule (see the file header and PAPER_EXTRA_UNITS_OF). */
export function paperParameterCount(arch: ArchName | Architecture, width: number): PaperCounts {
  const a = resolve(arch);
  const perLayer: Record<string, number> = {};
  let total = 0;
  let extra = 0;
  const extraOf = PAPER_EXTRA_UNITS_OF[a.name];
  for (const l of a.prunableLayers(width)) {
    perLayer[l.name] = connections(l);
    total += perLayer[l.name];
    if (l.name === extraOf) extra = l.shape[1];
  }
  if (extraOf !== undefined && extra === 0) throw new Error(`${a.name} has no layer '${extraOf}' to take the paper's extra units from`);
  return { perLayer, extra, total: total + extra };
}
