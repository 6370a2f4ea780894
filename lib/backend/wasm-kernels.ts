// Kernels the tfjs 4.22 wasm backend lacks or gets wrong on this machine, registered from ops it has.
// (Filled in by the backend work; see ARCHITECTURE.md and the tests in test/backend/.)

/** Register every fix; returns the kernel names registered or replaced. Idempotent. */
export function registerWasmKernelFixes(): string[] {
  return [];
}
