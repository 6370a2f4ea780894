// Backend selection: DENSITY_BACKEND forcing, invalid values, the unavailable native backend, the default
// order. Each case loads a fresh copy of lib/backend (its choice is cached per module instance), so the
// shared instance other test files use is untouched. Leaves tfjs on wasm.
import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { WASM_KERNEL_FIXES } from '../../lib/backend/wasm-kernels';
import { WASM_GRADIENT_FIXES } from '../../lib/backend/wasm-gradients';

type BackendModule = typeof import('../../lib/backend');

describe('backend/select', () => {
  const modulePath = require.resolve('../../lib/backend');
  const cachedModule = require.cache[modulePath];
  const savedEnv = { DENSITY_BACKEND: process.env.DENSITY_BACKEND, DENSITY_QUIET: process.env.DENSITY_QUIET };

  function freshBackendModule(forced: string | undefined): BackendModule {
    if (forced === undefined) delete process.env.DENSITY_BACKEND;
    else process.env.DENSITY_BACKEND = forced;
    delete require.cache[modulePath];
    // eslint-disable-next-line @typescript-eslint/no-var-requires
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

  it("DENSITY_BACKEND=cpu picks cpu", async () => {
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
      assert.match(err.message, /tensorflow, wasm, cpu/);
      return true;
    });
  });

  it('DENSITY_BACKEND=tensorflow throws a clear error here (no tfjs-node on this machine)', async function () {
    let nativeLoads = true;
    try { require.resolve('@tensorflow/tfjs-node'); } catch { nativeLoads = false; }
    if (nativeLoads) this.skip(); // a machine with tfjs-node would legitimately pick it
    const m = freshBackendModule('tensorflow');
    await assert.rejects(m.initBackend(), (err: Error) => {
      assert.match(err.message, /'tensorflow' was requested/);
      assert.match(err.message, /@tensorflow\/tfjs-node/);
      assert.match(err.message, /wasm or cpu/);
      return true;
    });
    assert.throws(() => m.backendInfo(), /initBackend/, 'a failed selection records no backend');
  });

  it('without DENSITY_BACKEND the order is tensorflow > wasm > cpu, so wasm here', async () => {
    const m = freshBackendModule(undefined);
    const info = await m.initBackend();
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
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
