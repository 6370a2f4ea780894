// Where and with what a stage ran: enough to tell two results apart when they should not differ.
import { execFileSync } from 'child_process';
import * as os from 'os';
import { backendInfo, type WebgpuAdapter } from '../backend';
import { nativeKernelsInUse } from '../fast/nativeKernels';
import { packageVersion } from '../packages';
import { projectRoot } from '../paths';
import type { Provenance, Versions } from '../store/runRecord';

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null; // not a git checkout (e.g. an exported tarball): record that we do not know
  }
}

let cachedGit: { commit: string | null; dirty: boolean | null } | null = null;

/** Commit and dirty flag, read once per process (a sweep's stages all come from the code it started with). */
export function gitState(): { commit: string | null; dirty: boolean | null } {
  if (!cachedGit) {
    const commit = git(['rev-parse', 'HEAD']);
    const status = commit === null ? null : git(['status', '--porcelain', '--untracked-files=no']);
    cachedGit = { commit, dirty: status === null ? null : status.length > 0 };
  }
  return cachedGit;
}

function version(pkg: string): string {
  try {
    return packageVersion(pkg);
  } catch {
    return 'absent';
  }
}

export function versions(): Versions {
  return { node: process.version, tfjs: version('@tensorflow/tfjs'), tfjsBackendWasm: version('@tensorflow/tfjs-backend-wasm'), density: version(projectRoot) };
}

let dirtyAllowed = false;

/** This process runs runs for a sweep told --allow-dirty: records made on a dirty tree say so (allowDirty). */
export function allowDirtyTree(): void {
  dirtyAllowed = true;
}

/** Needs initBackend() to have run. */
export function provenance(): Provenance {
  const b = backendInfo();
  const cpus = os.cpus();
  const g = gitState();
  // webgpu: which adapter (vendor, architecture, device, driver; software or not). Provenance['backend'] in
  // lib/store/runRecord.ts does not name the field yet; provenance is an execution field, outside content ids.
  const backend: Provenance['backend'] & { adapter?: WebgpuAdapter } = {
    name: b.name,
    package: b.package,
    version: b.version,
    gpu: b.gpu,
    threads: b.threads,
    simd: b.simd,
    kernelFixes: [...b.kernelFixes],
    ...(b.name === 'wasm' ? nativeKernelsInUse() : {}),
    ...(b.adapter ? { adapter: { ...b.adapter } } : {}),
  };
  return {
    ...g,
    ...(dirtyAllowed && g.dirty ? { allowDirty: true as const } : {}),
    backend,
    versions: versions(),
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    platform: `${process.platform}-${process.arch}`,
  };
}
