// The wasm backend's native kernel families, as a table: each has a lever, the name a record gives the kernels that
// computed it (Provenance.backend[field]), and the name of the wasm backend's own kernels, which records from before
// the family existed imply. Provenance, the sweep's and bench's backend lines and `npm run reproduce` read this table,
// so a new family is one entry.
import { levers, type FastLevers } from './levers';
import { activeConvolutions, nativeConvolutions, XNNPACK_CONVOLUTIONS } from './nativeConv';
import { activeBatchNorm, nativeBatchNorm, TFJS_BATCH_NORM } from './nativeBatchNorm';

/** What a record says about each family (Provenance.backend's fields). */
export interface NativeKernelsInUse {
  convolutions: string;
  batchNorm: string;
}

export interface NativeKernelFamily {
  /** The provenance field naming the kernels that computed a stage. */
  field: keyof NativeKernelsInUse;
  /** In messages: 'convolutions', 'batch normalization'. */
  what: string;
  lever: keyof Pick<FastLevers, 'nativeConv' | 'nativeBatchNorm'>;
  /** The wasm backend's own kernels' name: what a record without the field was computed with. */
  plain: string;
  /** The kernels computing now (the native ones while the lever is on and they are built, else `plain`). */
  active(): string;
  /** The native kernels' name, or null with why they are not available here. */
  available(): { name: string } | { name: null; reason: string };
}

export const NATIVE_KERNEL_FAMILIES: Readonly<Record<keyof NativeKernelsInUse, NativeKernelFamily>> = {
  convolutions: {
    field: 'convolutions',
    what: 'convolutions',
    lever: 'nativeConv',
    plain: XNNPACK_CONVOLUTIONS,
    active: activeConvolutions,
    available: nativeConvolutions,
  },
  batchNorm: {
    field: 'batchNorm',
    what: 'batch normalization',
    lever: 'nativeBatchNorm',
    plain: TFJS_BATCH_NORM,
    active: activeBatchNorm,
    available: nativeBatchNorm,
  },
};

/** The kernels of every family computing now (wasm backend), as a record states them. */
export function nativeKernelsInUse(): NativeKernelsInUse {
  return { convolutions: activeConvolutions(), batchNorm: activeBatchNorm() };
}

/** "convolutions: oneDNN 2.6.3 jit:avx2, batch normalization: native": for backend lines. */
export function describeNativeKernels(separator = ', '): string {
  return Object.values(NATIVE_KERNEL_FAMILIES)
    .map((f) => `${f.what}: ${f.active()}`)
    .join(separator);
}

/**
 * Switch `family`'s lever to the kernels a record names (`recorded`: the record's Provenance.backend field, undefined
 * in records from before the family: the plain kernels). Returns the setting to restore; throws, naming both and
 * leaving the lever as it was, when this machine does not have the recorded kernels.
 */
export function useRecordedFamily(family: NativeKernelFamily, recorded: string | undefined, runHash: string): boolean {
  const before = levers[family.lever];
  const wanted = recorded ?? family.plain;
  levers[family.lever] = wanted !== family.plain;
  if (family.active() !== wanted) {
    levers[family.lever] = before;
    const here = family.available();
    throw new Error(
      `run ${runHash} was computed with the ${family.what} '${wanted}', and this machine has ` +
        `${here.name !== null ? `'${here.name}'` : `only '${family.plain}' (${(here as { reason: string }).reason})`}: its numbers cannot be reproduced bit for bit here`,
    );
  }
  return before;
}
