// Backend selection: DENSITY_BACKEND forcing, invalid values, the unavailable native backend, the default
// order (tensorflow > webgpu on a real GPU adapter only > wasm > cpu). Each case loads a fresh copy of lib/backend (its choice is cached per module instance), so the
// shared instance other test files use is untouched. Leaves tfjs on wasm.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { WASM_KERNEL_FIXES } from '../../lib/fast/wasmKernelFixes';
import { WASM_GRADIENT_FIXES } from '../../lib/fast/wasmGradientFixes';
import { isSoftwareAdapter, registerWebgpu } from '../../lib/backend/webgpu';

type BackendModule = typeof import('../../lib/backend');

describe('backend/select', () => {
  const modulePath = require.resolve('../../lib/backend');
  const cachedModule = require.cache[modulePath];
  const savedEnv = { DENSITY_BACKEND: process.env.DENSITY_BACKEND, DENSITY_QUIET: process.env.DENSITY_QUIET };

  function freshBackendModule(forced: string | undefined): BackendModule {
    if (forced === undefined) delete process.env.DENSITY_BACKEND;
    else process.env.DENSITY_BACKEND = forced;
    delete require.cache[modulePath];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(modulePath) as BackendModule;
  }

  before(() => {
    process.env.DENSITY_QUIET = '1';
  });

  after(async () => {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (cachedModule) require.cache[modulePath] = cachedModule;
    else delete require.cache[modulePath];
    await tf.setBackend('wasm');
  });

  it('backendInfo() throws before initBackend() has run', () => {
    const m = freshBackendModule(undefined);
    assert.throws(() => m.backendInfo(), /initBackend/);
  });

  it('DENSITY_BACKEND=cpu picks cpu', async () => {
    const m = freshBackendModule('cpu');
    const info = await m.initBackend();
    assert.equal(info.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(info.kernelFixes, []);
    assert.equal(m.backendInfo(), info);
  });

  it('DENSITY_BACKEND=wasm picks wasm, single-threaded, with the kernel fixes', async () => {
    const m = freshBackendModule('wasm');
    const info = await m.initBackend();
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(info.package, '@tensorflow/tfjs-backend-wasm');
    assert.equal(info.threads, 1);
    assert.deepEqual([...info.kernelFixes].sort(), [...WASM_KERNEL_FIXES, ...WASM_GRADIENT_FIXES.map((n) => `${n} gradient`)].sort());
    assert.equal(await m.initBackend(), info, 'a second call returns the same choice');
  });

  it('an invalid DENSITY_BACKEND throws an error naming the value', async () => {
    const m = freshBackendModule('tpu-please');
    await assert.rejects(m.initBackend(), (err: Error) => {
      assert.match(err.message, /'tpu-please'/);
      assert.match(err.message, /tensorflow, webgpu, wasm, cpu/);
      return true;
    });
  });

  /** A native TensorFlow binding is installed here (either package the selection tries first). */
  function nativeInstalled(): boolean {
    return ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'].some((pkg) => {
      try {
        require.resolve(pkg);
        return true;
      } catch {
        return false;
      }
    });
  }

  it('DENSITY_BACKEND=tensorflow throws a clear error here (no tfjs-node on this machine)', async function () {
    if (nativeInstalled()) this.skip(); // a machine with tfjs-node would legitimately pick it
    const m = freshBackendModule('tensorflow');
    await assert.rejects(m.initBackend(), (err: Error) => {
      assert.match(err.message, /'tensorflow' was requested/);
      assert.match(err.message, /@tensorflow\/tfjs-node/);
      assert.match(err.message, /wasm or cpu/);
      return true;
    });
    assert.throws(() => m.backendInfo(), /initBackend/, 'a failed selection records no backend');
  });

  it('without DENSITY_BACKEND the order is tensorflow > webgpu (real GPU) > wasm > cpu, so wasm here', async function () {
    if (nativeInstalled()) this.skip(); // a machine with tfjs-node would legitimately pick tensorflow
    if ((await registerWebgpu({ allowSoftware: false })).ok) this.skip(); // and one with a real GPU adapter would pick webgpu
    const m = freshBackendModule(undefined);
    const info = await m.initBackend();
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(info.adapter, undefined, 'only webgpu records an adapter');
  });

  it('never picks a software WebGPU adapter by itself (lavapipe, SwiftShader, fallback adapters)', async () => {
    const probe = await registerWebgpu({ allowSoftware: false });
    if (probe.ok) {
      // A real GPU here: the default choice takes it (unless a native tensorflow binding loads first).
      assert.equal(probe.adapter.software, false);
      return;
    }
    // No adapter, or a software one only: the reason says which, and the default choice is not webgpu.
    assert.match(probe.reason, /software|no WebGPU adapter|does not load|no usable adapter|gave no device/);
    const m = freshBackendModule(undefined);
    assert.notEqual((await m.initBackend()).name, 'webgpu');
  });

  it('classifies adapters: software renderers and fallback adapters are software, GPUs are not', () => {
    // What Dawn 0.6 reports for Mesa 25's lavapipe on Debian bookworm-backports.
    assert.equal(
      isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7' }),
      true,
    );
    assert.equal(isSoftwareAdapter({ vendor: 'google', architecture: '', device: 'swiftshader-device', description: 'SwiftShader driver' }), true);
    assert.equal(isSoftwareAdapter({ vendor: 'mesa', architecture: '', device: 'x', description: '', isFallbackAdapter: true }), true);
    assert.equal(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: 'NVIDIA: 550.54.15' }), false);
    assert.equal(
      isSoftwareAdapter({ vendor: 'amd', architecture: 'rdna-3', device: 'AMD Radeon RX 7900 XTX (RADV NAVI31)', description: 'radv Mesa 25.0.7' }),
      false,
    );
  });

  it('initBackend(prefer) switches backend explicitly', async () => {
    const m = freshBackendModule(undefined);
    assert.equal((await m.initBackend('cpu')).name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal((await m.initBackend('wasm')).name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(m.backendInfo().name, 'wasm');
  });
});
