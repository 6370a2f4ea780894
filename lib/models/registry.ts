// The architecture registry, apart from index.ts so that modules of lib/models (counts) can import it.
import type { ArchName, Architecture } from './types';
import { mlp } from './mlp';
import { conv2 } from './conv2';
import { resnet } from './resnet';

export const architectures: Record<ArchName, Architecture> = { mlp, conv2, resnet };

/** The registry entry for `name`; throws naming the bad value. */
export function getArchitecture(name: ArchName): Architecture {
  const arch = (architectures as Record<string, Architecture | undefined>)[name];
  if (!arch) throw new Error(`unknown architecture '${String(name)}'; expected one of ${Object.keys(architectures).join(', ')}`);
  return arch;
}
