// The native kernel library (build/native/libdensity-dnnl.so, built by scripts/native-conv.js from lib/fast/native/),
// loaded once with koffi: the wasm backend's convolutions (nativeConv.ts) and batch normalization (nativeBatchNorm.ts)
// call into it where it is built. Without it, both keep the wasm backend's own kernels.
import * as path from 'path';
import type { LibraryHandle } from 'koffi';
import { projectRoot } from '../paths';

interface NativeSetup {
  LIBRARY_FILE: string;
  whyNotBuilt(): string;
}
// Plain JS shared with scripts/ensure-setup.js, which builds the library before node_modules exists.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const setup = require(path.join(projectRoot, 'scripts', 'native-conv.js')) as NativeSetup;

export type NativeLibrary = { ok: true; so: LibraryHandle } | { ok: false; reason: string };

let loaded: NativeLibrary | null = null;

function load(): NativeLibrary {
  const why = setup.whyNotBuilt();
  if (why) return { ok: false, reason: why };
  // oneDNN and its OpenMP runtime read these on first use, which is after this. oneDNN picks its kernels, and so its
  // rounding, by instruction set: capped at AVX2 (unless set already) so that every x86-64 with AVX2 computes the
  // same bits; one thread, like the wasm backend.
  if (process.env.DNNL_MAX_CPU_ISA === undefined) process.env.DNNL_MAX_CPU_ISA = 'AVX2';
  process.env.OMP_NUM_THREADS = '1';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a dependency with native prebuilds: loaded only here
    const koffi = require('koffi') as typeof import('koffi');
    return { ok: true, so: koffi.load(setup.LIBRARY_FILE) };
  } catch (err) {
    return { ok: false, reason: `loading ${path.relative(projectRoot, setup.LIBRARY_FILE)} failed: ${(err as Error).message}` };
  }
}

/** The loaded library, or why it is not available (not built, stale, failed to load). Loaded on first call. */
export function nativeLibrary(): NativeLibrary {
  if (!loaded) loaded = load();
  return loaded;
}
