// SessionOptions as the Windows kmon.node (src/addon.cc over
// src/windows/kmsys_backend.cc) takes them. Chosen by src/index.ts on win32;
// nothing above @kmon/native knows.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ABI, refuseUnsupported, type BindingCapabilities, type SessionOptions } from '@kmon/core';

/**
 * How to get the Windows kmon.node, for the error that finds it missing: it
 * is cross-built with mingw-w64 into prebuilds/win32-x64/ (not build/, which
 * node-gyp owns and deletes on every rebuild), where the loader finds it.
 */
export const WINDOWS_BUILD_HINT =
  'cross-build it on Linux with `make -C packages/native/windows` (needs g++-mingw-w64-x86-64-posix and mingw-w64-tools)';

export interface WindowsNativeConfig {
  /** Bit (1 << kind number) per kind to keep: kmon.sys records every kind, the backend filters. */
  kinds: number;
  /** excludeSelf: this process's pid; 0 keeps our own events. */
  selfTgid: number;
  batchBytes: number;
  /** Only 'pull' or not matters on Windows (toWindowsConfig refuses 'pull' for now). */
  wakeup: SessionOptions['wakeup'];
  mechanism: SessionOptions['windows']['mechanism'];
  pendingRequests: number;
  queueBatches: number;
  /** KMON_IOCTL_SYNTH_START's configuration, null when the synthetic source is off. */
  synthetic: { periodMs: number; perTick: number; count: number; payloadBytes: number } | null;
  /**
   * kmon.sys to load when the driver is not running (the session installs
   * and starts the service and removes it at close).
   * Empty: never load. From $KMON_SYS, else a kmon.sys shipped beside kmon.node.
   */
  driverPath: string;
}

/** What kmon.sys records and what the Windows binding honours. */
export const WINDOWS_CAPABILITIES: BindingCapabilities = {
  platform: 'Windows',
  // Process creation arrives as exec: kmon.sys has no fork records.
  kinds: ['exec', 'exit', 'synth', 'image-load', 'registry-set'],
  // How kmon.sys tells the binding that records wait is windows.mechanism;
  // 'adaptive' (the default) stands for it. No 'pull' yet.
  wakeups: ['adaptive'],
  options: [
    'excludeSelf',
    'batchBytes',
    // The source is kmon.sys's timer: synthetic.tgid is the Linux generator.
    'synthetic.payloadBytes',
    'synthetic.periodMs',
    'synthetic.perTick',
    'synthetic.count',
    'windows',
  ],
};

function driverPath(): string {
  const fromEnv = process.env.KMON_SYS;
  if (fromEnv) return fromEnv;
  const beside = fileURLToPath(new URL('../../prebuilds/win32-x64/kmon.sys', import.meta.url));
  return existsSync(beside) ? beside : '';
}

/** SessionOptions as the Windows kmon.node takes them; periodMs/perTick/count drive the driver's timer. */
export function toWindowsConfig(options: SessionOptions): WindowsNativeConfig {
  refuseUnsupported(WINDOWS_CAPABILITIES, { kinds: options.kinds, wakeup: options.wakeup });
  let kinds = options.kinds.reduce((mask, kind) => mask | (1 << ABI.kinds[kind]), 0);
  if (options.synthetic) kinds |= 1 << ABI.kinds.synth;
  const synth = options.synthetic;
  return {
    kinds,
    selfTgid: options.excludeSelf ? process.pid : 0,
    batchBytes: options.batchBytes,
    wakeup: options.wakeup,
    mechanism: options.windows.mechanism,
    pendingRequests: options.windows.pendingRequests,
    queueBatches: options.windows.queueBatches,
    synthetic: synth
      ? { periodMs: synth.periodMs, perTick: synth.perTick, count: synth.count, payloadBytes: synth.payloadBytes }
      : null,
    driverPath: driverPath(),
  };
}
