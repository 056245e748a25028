// @kmon/native: the KernelBinding that runs kmon's kernel driver on this OS.
// On Linux it loads the eBPF programs of packages/driver/linux through the
// kmon.node addon (src/addon.cc + src/linux/ebpf_backend.cc), on Windows it
// talks to kmon.sys (src/addon.cc + src/windows/kmsys_backend.cc), and hands
// their records to the sink, one call per batch.
import {
  ABI,
  KmonClosedError,
  KmonDriverError,
  KmonError,
  KmonOptionsError,
  KmonPermissionError,
  KmonUnsupportedError,
  parseCidr,
  refuseUnsupported,
  type BatchSink,
  type BindingCapabilities,
  type Filters,
  type KernelBinding,
  type KernelSession,
  type RawKernelStats,
  type SessionClock,
  type SessionOptions,
} from '@kmon/core';
import { linuxChecks } from './linux/checks.js';
import { windowsChecks } from './windows/checks.js';
import { toNativeFilter, type NativeProcessFilter } from './linux/filters.js';
import { isWindowsNativeError, windowsKmonError } from './windows/errors.js';
import { loadAddonFile } from './load.js';
import { WINDOWS_CAPABILITIES, toWindowsConfig, type WindowsNativeConfig } from './windows/options.js';

/** The options kmon.node takes: SessionOptions flattened to what the driver needs. */
export interface NativeConfig {
  /** Bit (1 << kind number) per kind to record. */
  kinds: number;
  ringBytes: number;
  argvBytes: number;
  /** excludeSelf: this process's tgid; 0 keeps our own events. */
  selfTgid: number;
  threads: boolean;
  wakeup: SessionOptions['wakeup'];
  wakeupBytes: number;
  maxLatencyMs: number;
  pollIntervalMs: number;
  batchBytes: number;
  /** Synthetic source: the generator's tgid, 0 when off. */
  synthTgid: number;
  synthPayload: number;
  /** Tests: detect process exits as on kernels whose sched_process_exit lacks group_dead. */
  exitFallback?: boolean;
  /** Tests: attach syscall programs through the raw sys_exit dispatcher even when tracefs is there. */
  syscallFallback?: boolean;
  /** Tests: build the process snapshot from /proc (flagged approximate), as on kernels without the task iterator. */
  snapshotFallback?: boolean;
  /** Absent: nothing is filtered. */
  filters?: NativeFilters;
}

/** Filters as kmon.node takes them: address prefixes as bytes, path prefixes as normalised by @kmon/core. */
export interface NativeFilters {
  process: NativeProcessFilter;
  file: { failed: boolean; writesOnly: boolean; include: string[]; exclude: string[] };
  network: {
    loopback: boolean;
    include: NativePrefix[];
    exclude: NativePrefix[];
    ports: number[];
    excludePorts: number[];
  };
}

interface NativePrefix {
  /** 4 (IPv4) or 16 (IPv6) bytes, network order. */
  bytes: number[];
  prefixLength: number;
}

interface NativeSession {
  read(): Uint8Array;
  stats(): RawKernelStats;
  /** Sampled by the backend when the session attached. */
  clock(): SessionClock;
  setFilters(filters: NativeFilters): void;
  /** Stops delivering (and telling) until resume(); records wait in the driver. */
  pause(): void;
  resume(): void;
  /** Stops the driver producing for this session; what waits stays readable. */
  detach(): void;
  /** Linux: replaces the in-kernel process filter. */
  setFilter(filter: NativeProcessFilter): void;
  close(): void;
}

interface NativeAddon {
  Session: new (
    config: NativeConfig | WindowsNativeConfig,
    onBatch: (batch: Uint8Array) => void,
    /** A failure of the driver after open (the Windows pump thread's; Linux reports none). */
    onError: (error: Error) => void,
    /** 'pull' wakeup: records wait, drain them with read(). */
    onReadable: () => void,
  ) => NativeSession;
  backend: string;
  abiVersion: number;
  recordMax: number;
}

/** What a thrown kmon.node error carries besides its message. */
interface NativeError extends Error {
  stage?: string;
  errno?: number;
  code?: string;
  missing?: string;
}

export interface BindingInfo {
  /** Backend compiled into the addon, e.g. "linux-ebpf". */
  name: string;
  /** Absolute path of the loaded kmon.node. */
  addonPath: string;
  abiVersion: number;
  /** Largest record the driver writes (bytes). */
  recordMax: number;
}

const IS_WINDOWS = process.platform === 'win32';
const SUPPORTED_PLATFORMS: readonly NodeJS.Platform[] = ['linux', 'win32'];

/** What the eBPF driver records and honours (the Windows binding's are in ./windows/options.ts). */
export const LINUX_CAPABILITIES: BindingCapabilities = {
  platform: 'Linux',
  kinds: [
    'exec', 'exit', 'fork', 'synth', 'exec-failed', 'process', 'open', 'unlink', 'rename', 'mkdir', 'chmod', 'chown', 'link',
    'connect', 'accept', 'listen', 'bind', 'close', 'send', 'dns',
  ],
  wakeups: ['each', 'adaptive', 'poll', 'pull'],
  options: [
    'ringBytes',
    'argvBytes',
    'excludeSelf',
    'threads',
    'wakeupBytes',
    'maxLatencyMs',
    'pollIntervalMs',
    'batchBytes',
    // The source is a generator process's getppid() calls: the driver's timer options are Windows'.
    'synthetic.tgid',
    'synthetic.payloadBytes',
    'filters.file',
    'filters.network',
    'filters.process',
  ],
};

let loaded: { addon: NativeAddon; path: string } | undefined;

function loadAddon(): { addon: NativeAddon; path: string } {
  if (loaded) return loaded;
  if (!SUPPORTED_PLATFORMS.includes(process.platform)) {
    throw new KmonUnsupportedError(`kmon has no kernel driver for ${process.platform}`, {
      hint: `supported: ${SUPPORTED_PLATFORMS.join(', ')}; use a mock binding from @kmon/core/testing elsewhere`,
    });
  }
  const file = loadAddonFile<NativeAddon>();
  if (file.addon.abiVersion !== ABI.version) {
    throw new KmonDriverError(`kmon.node speaks record ABI ${file.addon.abiVersion}, @kmon/core speaks ${ABI.version}`, {
      hint: 'install @kmon/native and @kmon/core of the same kmon release',
    });
  }
  loaded = file;
  return file;
}

/** Which backend this machine would use. Throws KmonUnsupportedError when there is none. */
export function bindingInfo(): BindingInfo {
  const { addon, path } = loadAddon();
  return { name: addon.backend, addonPath: path, abiVersion: addon.abiVersion, recordMax: addon.recordMax };
}

/** SessionOptions as kmon.node takes them. A synthetic source implies the synth kind. */
export function toNativeConfig(options: SessionOptions): NativeConfig {
  refuseUnsupported(LINUX_CAPABILITIES, { kinds: options.kinds, wakeup: options.wakeup });
  let kinds = options.kinds.reduce((mask, kind) => mask | (1 << ABI.kinds[kind]), 0);
  if (options.synthetic) kinds |= 1 << ABI.kinds.synth;
  return {
    kinds,
    ringBytes: options.ringBytes,
    argvBytes: options.argvBytes,
    selfTgid: options.excludeSelf ? process.pid : 0,
    threads: options.threads,
    wakeup: options.wakeup,
    wakeupBytes: options.wakeupBytes,
    maxLatencyMs: options.maxLatencyMs,
    pollIntervalMs: options.pollIntervalMs,
    batchBytes: options.batchBytes,
    synthTgid: syntheticTgid(options),
    synthPayload: options.synthetic?.payloadBytes ?? 0,
    filters: toNativeFilters(options.filters),
  };
}

/** Filters as kmon.node takes them (@kmon/core has validated the prefixes). */
export function toNativeFilters(filters: Filters): NativeFilters {
  const prefixes = (texts: string[]) =>
    texts.map((text) => {
      const cidr = parseCidr(text)!;
      return { bytes: [...cidr.bytes], prefixLength: cidr.prefixLength };
    });
  const { network, file } = filters;
  return {
    process: toNativeFilter(filters.process),
    file: { failed: file.failed, writesOnly: file.writesOnly, include: file.include, exclude: file.exclude },
    network: {
      loopback: network.loopback,
      include: prefixes(network.include),
      exclude: prefixes(network.exclude),
      ports: network.ports,
      excludePorts: network.excludePorts,
    },
  };
}

/** On Linux the synthetic source is a process's getppid() calls: it needs that process. */
function syntheticTgid(options: SessionOptions): number {
  if (!options.synthetic) return 0;
  const tgid = options.synthetic.tgid as number | undefined;
  if (!tgid) {
    throw new KmonOptionsError('synthetic.tgid is required on Linux', {
      hint: 'name the load generator whose getppid() calls become records, e.g. { synthetic: { tgid: process.pid } }',
    });
  }
  return tgid;
}

const STAGE_TEXT: Record<string, string> = {
  btf: 'find the kernel BTF',
  open: 'open the BPF object',
  load: 'load the BPF programs',
  verify: 'get its BPF programs past the kernel verifier',
  attach: 'attach the BPF programs',
  ring: 'map the BPF ring buffer',
  wait: 'wait on the ring buffer',
  stats: 'read the driver counters',
  filters: 'set the filters',
  snapshot: 'read the process snapshot',
};

/** Maps an error thrown by kmon.node to the KmonError that says what to do about it. */
export function toKmonError(error: unknown): KmonError {
  if (error instanceof KmonError) return error;
  if (isWindowsNativeError(error)) return windowsKmonError(error);
  const native = error as NativeError;
  if (native?.stage === undefined) {
    return new KmonDriverError(`kmon.node failed: ${String(native?.message ?? error)}`, { cause: error });
  }
  const what = `kmon could not ${STAGE_TEXT[native.stage] ?? native.stage} (${native.code})`;
  // The verifier also says EACCES, for a program it rejects: that is no privilege problem.
  if (native.code === 'EPERM' || (native.code === 'EACCES' && native.stage !== 'verify')) {
    return new KmonPermissionError(`${what}: the kernel refused`, { cause: error }); // its hint: the ambient-capability advice
  }
  if (native.missing) {
    return new KmonUnsupportedError(`${what}: this kernel lacks ${native.missing}`, {
      hint: 'kmon needs Linux 5.12+ with CONFIG_DEBUG_INFO_BTF=y (BTF at /sys/kernel/btf/vmlinux)',
      cause: error,
    });
  }
  return new KmonDriverError(`${what}: ${native.message}`, {
    hint: `the message ends with libbpf's log; report it with \`uname -r\` if it is not an environment problem`,
    cause: error,
  });
}

/**
 * Opens a session. The sink's onBatch gets every batch; if it throws, the
 * session is closed and the thrown error is passed to sink.onError (an
 * exception must neither crash the process nor stop delivery silently).
 * After close(), stats() keeps returning the counters read at close.
 */
function open(options: SessionOptions, sink: BatchSink): KernelSession {
  const native = loadAddon().addon;
  const config = IS_WINDOWS ? toWindowsConfig(options) : toNativeConfig(options);
  let session: NativeSession | undefined;
  let finalStats: RawKernelStats | undefined;
  let clock: SessionClock;

  const close = () => {
    if (!session) return;
    const closing = session;
    session = undefined;
    try {
      finalStats = closing.stats();
    } catch {
      // Already closed natively (process or worker teardown): no final counters.
    } finally {
      closing.close();
    }
  };
  const onBatch = (batch: Uint8Array) => {
    try {
      sink.onBatch(batch);
    } catch (error) {
      close();
      sink.onError(error instanceof Error ? error : new KmonDriverError(`the batch consumer threw ${String(error)}`));
    }
  };

  const onError = (error: Error) => {
    close();
    sink.onError(toKmonError(error));
  };

  try {
    session = new native.Session(config, onBatch, onError, () => sink.onReadable?.());
    clock = session.clock();
  } catch (error) {
    session?.close();
    throw toKmonError(error);
  }
  return {
    clock: () => clock,
    read() {
      if (!session) throw new KmonClosedError();
      return callNative(() => session!.read());
    },
    setFilters(filters) {
      if (!session) throw new KmonClosedError();
      callNative(() => session!.setFilters(toNativeFilters(filters)));
    },
    pause() {
      if (session) callNative(() => session!.pause());
    },
    resume() {
      if (session) callNative(() => session!.resume());
    },
    detach() {
      if (session) callNative(() => session!.detach());
    },
    stats() {
      if (session) return callNative(() => session!.stats());
      if (finalStats) return finalStats;
      throw new KmonClosedError();
    },
    close,
  };
}

function callNative<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw toKmonError(error);
  }
}

export { WINDOWS_CAPABILITIES };

export const nativeBinding: KernelBinding = {
  name: IS_WINDOWS ? 'windows-kmon.sys' : 'linux-ebpf',
  capabilities: IS_WINDOWS ? WINDOWS_CAPABILITIES : LINUX_CAPABILITIES,
  open,
  checks: IS_WINDOWS ? windowsChecks : linuxChecks,
};
