// The WebGPU route to a GPU that installs from npm alone: @tensorflow/tfjs-backend-webgpu on Dawn's Node binding
// (npm `webgpu`, which ships dawn.node; any GPU with a Vulkan driver on Linux). Issue 18.
//
//  - Adapter choice: Dawn's high-performance adapter. A software adapter (Mesa's lavapipe/llvmpipe, SwiftShader,
//    anything Dawn calls a fallback adapter) is only taken when asked for (DENSITY_BACKEND=webgpu, the tests):
//    it runs at ~2 GFLOP/s, far slower than the wasm backend.
//  - Synchronous reads: tfjs-backend-webgpu's readSync (dataSync, arraySync) reads through an OffscreenCanvas,
//    which Node lacks, and WebGPU itself only maps buffers asynchronously. The project's training loop, evaluation,
//    kernels and analyses read synchronously, so readSync is replaced here: copy to a staging buffer, start the
//    map, then drive Dawn's event processing from inside the call until the map completes. Dawn's binding
//    processes events in a callback it queues with the global setImmediate (looked up at each queueing); the
//    wrapper below keeps a handle on those callbacks (native, unnamed, no arguments) so that a synchronous read
//    can run them early. Every other setImmediate callback is passed straight through, and a binding callback
//    run early is never run twice.
import * as path from 'path';
import { promisify } from 'util';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** The adapter a webgpu backend runs on, as Dawn reports it (recorded in provenance). */
export interface WebgpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  /** Dawn's description: the driver and its version (e.g. 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)'). */
  driver: string;
  /** A CPU implementation of the GPU interface (lavapipe/llvmpipe, SwiftShader, or Dawn's fallback adapter). */
  software: boolean;
}

export type WebgpuInit = { ok: true; adapter: WebgpuAdapter } | { ok: false; reason: string };

/** Kernels this project registers or replaces on webgpu (webgpu-kernels.ts adds to this list). */
export const WEBGPU_BACKEND_PACKAGE = '@tensorflow/tfjs-backend-webgpu';
export const DAWN_PACKAGE = 'webgpu';

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Software renderers that expose a Vulkan/WebGPU device but compute on the CPU. */
const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|softpipe|software/i;

export function isSoftwareAdapter(info: AdapterInfoLike): boolean {
  if (info.isFallbackAdapter) return true;
  if ((info.architecture ?? '').toLowerCase() === 'software') return true;
  return SOFTWARE_NAMES.test(`${info.device ?? ''} ${info.description ?? ''}`);
}

export function adapterRecord(info: AdapterInfoLike): WebgpuAdapter {
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    driver: info.description ?? '',
    software: isSoftwareAdapter(info),
  };
}

export function describeAdapter(a: WebgpuAdapter): string {
  return `${a.vendor || 'unknown vendor'} ${a.device || a.architecture || 'unknown device'}${a.software ? ' (software)' : ''}`;
}

// ---- Dawn's event callbacks, runnable from a synchronous read ----

type ImmediateFn = (...args: unknown[]) => void;
const pendingTicks = new Set<() => void>();
let ticksHooked = false;

function isBindingTick(fn: unknown, nArgs: number): fn is ImmediateFn {
  // Dawn's AsyncRunner queues a native function without a name or arguments. Bound functions are native too,
  // but named 'bound ...'.
  return typeof fn === 'function' && nArgs === 0 && fn.name === '' && Function.prototype.toString.call(fn) === 'function () { [native code] }';
}

let realSetImmediate: typeof setImmediate | null = null;
let wrappedSetImmediate: typeof setImmediate | null = null;

/** Put back the process's own setImmediate (webgpu not taken): callbacks already queued still run once. */
function unhookTicks(): void {
  if (!ticksHooked) return;
  if (globalThis.setImmediate === wrappedSetImmediate && realSetImmediate) globalThis.setImmediate = realSetImmediate;
  ticksHooked = false;
}

function hookTicks(): void {
  if (ticksHooked) return;
  ticksHooked = true;
  const real = globalThis.setImmediate;
  realSetImmediate = real;
  function wrapped(fn: unknown, ...args: unknown[]): NodeJS.Immediate {
    if (!isBindingTick(fn, args.length)) return (real as (f: unknown, ...a: unknown[]) => NodeJS.Immediate)(fn, ...args);
    let done = false;
    const run = () => {
      if (done) return;
      done = true;
      pendingTicks.delete(run);
      fn();
    };
    pendingTicks.add(run);
    return real(run);
  }
  // setImmediate's type carries util.promisify's hook; keep it so promisify(setImmediate) behaves as before.
  Object.defineProperty(wrapped, promisify.custom, { value: (real as unknown as Record<symbol, unknown>)[promisify.custom] });
  wrappedSetImmediate = wrapped as unknown as typeof setImmediate;
  globalThis.setImmediate = wrappedSetImmediate;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Block until `buffer`'s pending mapAsync completes, running Dawn's queued event callbacks meanwhile. */
function waitForMap(buffer: GPUBuffer, timeoutMs: number): void {
  const start = Date.now();
  let sleepMs = 0;
  while (buffer.mapState === 'pending') {
    if (pendingTicks.size === 0) {
      throw new Error(
        'webgpu readSync: the staging buffer is still mapping and Dawn has queued no event callback to run ' +
          `(the ${DAWN_PACKAGE} binding no longer queues its event processing with setImmediate?); use the async data()`,
      );
    }
    for (const run of [...pendingTicks]) run();
    if (buffer.mapState !== 'pending') break;
    if (Date.now() - start > timeoutMs) throw new Error(`webgpu readSync: the GPU did not finish within ${timeoutMs / 1000} s`);
    // A GPU needs microseconds to milliseconds; lavapipe can take seconds. Back off from a spin to 1 ms sleeps.
    if (sleepMs > 0) Atomics.wait(sleeper, 0, 0, sleepMs);
    sleepMs = Math.min(1, sleepMs === 0 ? 0.01 : sleepMs * 2);
  }
  if (buffer.mapState !== 'mapped') throw new Error('webgpu readSync: mapping the staging buffer failed (device lost?)');
}

// ---- the backend ----

type BackendModule = typeof import('@tensorflow/tfjs-backend-webgpu');
type DawnModule = { create(flags: string[]): GPU; globals: Record<string, unknown> };

const READ_TIMEOUT_MS = 10 * 60 * 1000;

/** WebGPUBackend with a readSync that works in Node (see the top of this file). */
function nodeBackendClass(WebGPU: BackendModule['WebGPUBackend']): new (device: GPUDevice, info?: GPUAdapterInfo) => WebGPUBackend {
  return class NodeWebGPUBackend extends WebGPU {
    override readSync(dataId: object): tf.backend_util.BackendValues {
      const data = this.tensorMap.get(dataId);
      if (!data) throw new Error(`webgpu readSync: tensor ${JSON.stringify(dataId)} is not registered`);
      if (data.values != null || data.dtype === 'string') return data.values;
      if (data.dtype === 'complex64') throw new Error('webgpu readSync: complex64 is not supported here (the project uses no complex tensors)');
      const resource = data.resource;
      if (!resource || !('mapAsync' in resource)) throw new Error(`webgpu readSync: tensor of shape [${data.shape}] has no GPU buffer to read`);
      const size = resource.size;
      const staging = this.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ);
      // Submit the work recorded so far, then the copy: queue order makes the copy see its results.
      this.ensureCommandEncoderReady();
      this.endComputePassEncoder();
      this.submitQueue();
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(resource, 0, staging, 0, size);
      this.queue.submit([encoder.finish()]);
      const mapped = staging.mapAsync(GPUMapMode.READ);
      mapped.catch(() => undefined); // a failed map is reported by waitForMap; the promise's rejection is not needed
      waitForMap(staging, READ_TIMEOUT_MS);
      const bytes = staging.getMappedRange().slice(0);
      staging.unmap();
      this.bufferManager.releaseBuffer(staging);
      const values = tf.util.convertBackendValuesAndArrayBuffer(bytes, data.dtype) as tf.backend_util.BackendValues;
      data.values = values; // cache on the CPU as upstream read() does
      return values;
    }
  };
}

let gpu: GPU | null = null;
let registeredAdapter: WebgpuAdapter | null = null;
/** A software adapter seen and refused: later unforced calls refuse at once instead of opening Dawn again. */
let refusedSoftware: WebgpuAdapter | null = null;

function loadDawn(): DawnModule {
  // dawn.node directly: the package's index.js is an ES module (require(esm) needs Node >= 20.19, and tslab
  // compiles import() to require). Its only addition, unmapping buffers on device.destroy(), is not needed:
  // the device lives as long as the process.
  const dir = path.dirname(require.resolve(`${DAWN_PACKAGE}/package.json`));
  const platformDir = process.platform === 'darwin' ? 'darwin-universal' : `${process.platform}-${process.arch}`;
  const file = path.join(dir, 'dist', platformDir, 'dawn.node');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(file) as DawnModule;
}

/**
 * Make the 'webgpu' tfjs backend available (registered, not yet selected) on Dawn's high-performance adapter.
 * A software adapter is refused unless `allowSoftware`. Never throws: the reason is returned instead.
 */
export async function registerWebgpu(opts: { allowSoftware: boolean }): Promise<WebgpuInit> {
  if (registeredAdapter) {
    return registeredAdapter.software && !opts.allowSoftware
      ? { ok: false, reason: `the only adapter is a software one (${describeAdapter(registeredAdapter)}); set DENSITY_BACKEND=webgpu to use it anyway` }
      : { ok: true, adapter: registeredAdapter };
  }
  if (refusedSoftware && !opts.allowSoftware) {
    return { ok: false, reason: `the only adapter is a software one (${describeAdapter(refusedSoftware)}); set DENSITY_BACKEND=webgpu to use it anyway` };
  }
  let dawn: DawnModule;
  let backendModule: BackendModule;
  try {
    dawn = loadDawn();
  } catch (err) {
    return { ok: false, reason: `Dawn's Node binding (npm ${DAWN_PACKAGE}) does not load: ${firstLine(err)}` };
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    backendModule = require(WEBGPU_BACKEND_PACKAGE) as BackendModule;
  } catch (err) {
    return { ok: false, reason: `${WEBGPU_BACKEND_PACKAGE} does not load: ${firstLine(err)}` };
  }
  // tfjs-backend-webgpu refers to the WebGPU constants (GPUBufferUsage, GPUMapMode, ...) as globals.
  for (const [k, v] of Object.entries(dawn.globals))
    if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  // Hooked before Dawn's first call: its event callback must be queued through the wrapper from the start.
  hookTicks();
  const refuse = (reason: string): WebgpuInit => {
    unhookTicks();
    return { ok: false, reason };
  };
  let adapter: GPUAdapter | null;
  let instance: GPU;
  try {
    instance = dawn.create([]);
    adapter = await instance.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return refuse(`Dawn found no usable adapter: ${firstLine(err)}`);
  }
  if (!adapter)
    return refuse("Dawn found no WebGPU adapter (no Vulkan driver? Debian: apt-get install mesa-vulkan-drivers libvulkan1, or the GPU vendor's Vulkan driver)");
  // adapter.info is newer than the @webgpu/types tfjs resolves to (0.1.38); Dawn 0.6 has it.
  const info = ((adapter as GPUAdapter & { info?: GPUAdapterInfo & AdapterInfoLike }).info ?? {}) as GPUAdapterInfo & AdapterInfoLike;
  const record = adapterRecord(info);
  if (record.software && !opts.allowSoftware) {
    refusedSoftware = record;
    return refuse(`the only adapter is a software one (${describeAdapter(record)}); set DENSITY_BACKEND=webgpu to use it anyway`);
  }
  let device: GPUDevice;
  try {
    // The limits upstream's own factory asks for (the adapter's maxima).
    const l = adapter.limits;
    device = await adapter.requestDevice({
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
  } catch (err) {
    return refuse(`the adapter ${describeAdapter(record)} gave no device: ${firstLine(err)}`);
  }
  void device.lost.then((lost) => {
    if (lost.reason !== 'destroyed') process.stderr.write(`[density] webgpu device lost (${lost.reason}): ${lost.message}\n`);
  });
  const Backend = nodeBackendClass(backendModule.WebGPUBackend);
  gpu = instance;
  // WebGPUBackend's constructor insists on navigator.gpu (Node 20 has no navigator; Node 21+ has one without gpu).
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu: instance }, configurable: true, writable: true });
  else if (!('gpu' in nav)) Object.defineProperty(nav, 'gpu', { value: instance, configurable: true, writable: true });
  // Replace a registration of upstream's own factory (it registers one where a global navigator.gpu exists).
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // Priority 0 (below wasm's 2): tfjs never picks it by itself; lib/backend selects backends explicitly.
  tf.registerBackend('webgpu', () => new Backend(device, info), 0);
  registeredAdapter = record;
  return { ok: true, adapter: record };
}

/** The Dawn instance behind the backend (kept referenced while the backend lives). */
export function dawnInstance(): GPU | null {
  return gpu;
}

function firstLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0];
}
