// Chooses the fastest correct tfjs backend available: tensorflow (native, GPU first) > webgpu (a real GPU adapter
// only) > wasm > cpu. Env DENSITY_BACKEND forces one (webgpu then takes a software adapter too). The choice is
// logged once and recorded in every run's provenance.
import * as tf from '@tensorflow/tfjs';
import { packageVersion } from '../packages';
// Static imports: a dynamic import('../fast/wasmKernelFixes') becomes a native ESM import under tsx and fails to resolve.
import { registerWasmKernelFixes } from '../fast/wasmKernelFixes';
import { registerWasmGradientFixes } from '../fast/wasmGradientFixes';
import { registerWasmSimdKernels } from '../fast/wasmSimd';
import { nativeConvolutions, registerNativeConvKernels } from '../fast/nativeConv';
import { nativeBatchNorm, registerNativeBatchNorm } from '../fast/nativeBatchNorm';
import { registerWebgpu, describeAdapter, WEBGPU_BACKEND_PACKAGE, type WebgpuAdapter } from './webgpu';
import { registerWebgpuKernelFixes } from './webgpu-kernels';

export type { WebgpuAdapter } from './webgpu';
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendInfo {
  name: BackendName;
  /** The npm package that provides it (e.g. '@tensorflow/tfjs-node-gpu'). */
  package: string;
  version: string;
  gpu: boolean;
  threads: number;
  simd: boolean;
  /** Kernels this project registered or replaced on this backend (wasmKernelFixes.ts), then '<kernel> gradient' for replaced gradients (wasmGradientFixes.ts). */
  kernelFixes: string[];
  /** webgpu only: the adapter it runs on. */
  adapter?: WebgpuAdapter;
  /**
   * wasm only: the native convolutions registered in front of XNNPACK's ('oneDNN 2.6.3 jit:avx2'), or null with why
   * not (lib/fast/nativeConv.ts). Which ones a stage used is lib/fast's activeConvolutions(), recorded in provenance.
   */
  nativeConv?: { name: string } | { name: null; reason: string };
  /** wasm only: the native batch normalization ('native'), or null with why not (lib/fast/nativeBatchNorm.ts). */
  nativeBatchNorm?: { name: string } | { name: null; reason: string };
}

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];
/** Why each native package failed to load, for the error when 'tensorflow' is forced. */
const nativeFailures: string[] = [];

/** Try to load a native TensorFlow binding; returns the package name or null when none loads. */
function loadNative(): string | null {
  nativeFailures.length = 0;
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional package, loaded only when present
      require(pkg); // registers the 'tensorflow' backend with the shared tfjs engine
      return pkg;
    } catch (err) {
      // not installed here (it needs a download at install time); fall through
      nativeFailures.push(`${pkg}: ${((err as Error).message ?? String(err)).split('\n')[0]}`);
    }
  }
  return null;
}

async function tryWasm(): Promise<BackendInfo | null> {
  try {
    // Loaded for its side effect: registering the 'wasm' backend (inside try: a broken install falls back to cpu).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a side effect, inside try
    require('@tensorflow/tfjs-backend-wasm');
    // Multithreaded wasm needs worker support that fails in Node; this machine runs single-threaded SIMD.
    if (!(await tf.setBackend('wasm'))) return null;
    await tf.ready();
    const kernelFixes = [...registerWasmKernelFixes(), ...registerWasmGradientFixes().map((n) => `${n} gradient`)];
    registerWasmSimdKernels(); // an addition (a sparse product for the MLP's first layer), not a fix
    registerNativeConvKernels(); // where the library is built: convolutions through oneDNN, XNNPACK's as the fallback
    registerNativeBatchNorm(); // and batch normalization, tfjs's ops as the fallback
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    return {
      name: 'wasm',
      package: '@tensorflow/tfjs-backend-wasm',
      version: packageVersion('@tensorflow/tfjs-backend-wasm'),
      gpu: false,
      threads: 1,
      simd,
      kernelFixes,
      nativeConv: nativeConvolutions(),
      nativeBatchNorm: nativeBatchNorm(),
    };
  } catch (err) {
    process.stderr.write(`[density] wasm backend unavailable: ${(err as Error).message}\n`);
    return null;
  }
}

/** Why webgpu was not taken, for the error when it is forced and for the log when it is passed over. */
let webgpuFailure = '';

async function tryWebgpu(forced: boolean): Promise<BackendInfo | null> {
  const r = await registerWebgpu({ allowSoftware: forced });
  // `r.ok === false`, not `!r.ok`: tslab compiles lib/ without strictNullChecks, where `!r.ok` does not narrow.
  if (r.ok === false) {
    webgpuFailure = r.reason;
    return null;
  }
  try {
    if (!(await tf.setBackend('webgpu'))) {
      webgpuFailure = `tf.setBackend('webgpu') failed on ${describeAdapter(r.adapter)} (see the tfjs message above)`;
      return null;
    }
    await tf.ready();
  } catch (err) {
    webgpuFailure = `initialising the webgpu backend on ${describeAdapter(r.adapter)} failed: ${(err as Error).message}`;
    return null;
  }
  const kernelFixes = registerWebgpuKernelFixes();
  return {
    name: 'webgpu',
    package: WEBGPU_BACKEND_PACKAGE,
    version: packageVersion(WEBGPU_BACKEND_PACKAGE),
    gpu: !r.adapter.software,
    threads: 0,
    simd: false,
    kernelFixes,
    adapter: r.adapter,
  };
}

async function select(prefer?: BackendName): Promise<BackendInfo> {
  webgpuFailure = '';
  const forced = prefer ?? (process.env.DENSITY_BACKEND as BackendName | undefined);
  if (forced !== undefined && !BACKEND_NAMES.includes(forced)) {
    throw new Error(`DENSITY_BACKEND='${forced}' is not a backend; expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  const order: BackendName[] = forced ? [forced] : [...BACKEND_NAMES];
  for (const name of order) {
    if (name === 'tensorflow') {
      const pkg = loadNative();
      if (pkg && (await tf.setBackend('tensorflow'))) {
        await tf.ready();
        return { name, package: pkg, version: packageVersion(pkg), gpu: pkg.endsWith('-gpu'), threads: 0, simd: true, kernelFixes: [] };
      }
    } else if (name === 'webgpu') {
      const info = await tryWebgpu(forced === 'webgpu');
      if (info) return info;
      if (forced === 'webgpu') {
        throw new Error(
          `backend 'webgpu' was requested (DENSITY_BACKEND or initBackend) but is unavailable: ${webgpuFailure}; use DENSITY_BACKEND=wasm or cpu`,
        );
      }
    } else if (name === 'wasm') {
      const info = await tryWasm();
      if (info) return info;
    } else {
      await tf.setBackend('cpu');
      await tf.ready();
      return {
        name,
        package: '@tensorflow/tfjs-backend-cpu',
        version: packageVersion('@tensorflow/tfjs-backend-cpu'),
        gpu: false,
        threads: 1,
        simd: false,
        kernelFixes: [],
      };
    }
    if (forced === 'tensorflow') {
      throw new Error(
        `backend 'tensorflow' was requested (DENSITY_BACKEND or initBackend) but no native binding loads here ` +
          `(${nativeFailures.join('; ') || 'tf.setBackend failed'}); use DENSITY_BACKEND=wasm or cpu`,
      );
    }
    if (forced) throw new Error(`DENSITY_BACKEND=${forced} was requested but that backend could not be loaded`);
  }
  throw new Error('no tfjs backend could be initialised');
}

/** Initialise (once) and return the backend. Later calls return the same choice unless `prefer` differs. */
export async function initBackend(prefer?: BackendName): Promise<BackendInfo> {
  if (current && (!prefer || prefer === current.name)) return current;
  if (pending && !prefer) return pending;
  pending = select(prefer).then((info) => {
    current = info;
    if (!process.env.DENSITY_QUIET) {
      const on = info.adapter ? `, on ${describeAdapter(info.adapter)}` : '';
      // Say why a GPU route was passed over: on a GPU machine that is the line to read.
      const passed = info.name !== 'webgpu' && info.name !== 'tensorflow' && webgpuFailure ? `; webgpu not used: ${webgpuFailure}` : '';
      const nc = info.nativeConv;
      const conv = nc
        ? nc.name !== null
          ? `, convolutions: ${nc.name}`
          : `, convolutions: XNNPACK (native ones not available: ${(nc as { reason: string }).reason})`
        : '';
      const bn = info.nativeBatchNorm?.name ? ', batch normalization: native' : '';
      process.stderr.write(
        `[density] tfjs backend: ${info.name} (${info.package} ${info.version}${info.gpu ? ', GPU' : ''}${on}${info.kernelFixes.length ? `, kernel fixes: ${info.kernelFixes.join(', ')}` : ''}${conv}${bn}${passed})\n`,
      );
    }
    return info;
  });
  try {
    return await pending;
  } finally {
    pending = null;
  }
}

/** The backend chosen by initBackend. */
export function backendInfo(): BackendInfo {
  if (!current) throw new Error('backendInfo(): call `await initBackend()` first');
  return current;
}
