// The seam between the kernel and everything above it. @kmon/native
// implements KernelBinding on Linux (eBPF) and Windows (kmon.sys); tests
// implement it with a mock or a recorded capture (./testing). Nothing above
// this interface knows which OS or which fake it runs on.
import type { BindingCapabilities } from './capabilities.js';
import type { LostNotice } from './events.js';
import type { Filters, SessionOptions } from './options.js';

/**
 * Where a batch was recorded, when not by this session's own kernel: a
 * fleet binding (@kmon/nats) hands over records of many hosts, each with the
 * clock of the session that recorded them.
 */
export interface BatchOrigin {
  /** The host's name (its exporter's `--host`). */
  host: string;
  /** The clock of the session that recorded the batch on that host: its boot, and its offset to the wall clock. */
  clock: SessionClock;
}

/** Receives what a live session produces. Called on the JS thread. */
export interface BatchSink {
  /**
   * One call per drained batch: whole records back to back, exactly as the
   * driver wrote them. The callee owns the buffer. `origin` is absent for
   * the session's own records (their clock is KernelSession.clock()); a
   * fleet binding gives each batch the host and clock that recorded it, so
   * process keys, wall times and process tables stay per host.
   */
  onBatch(batch: Uint8Array, origin?: BatchOrigin): void;
  /** A fatal error after open; the session is already closed when this runs. */
  onError(error: Error): void;
  /**
   * 'pull' wakeup only: records wait in the kernel; drain them with
   * KernelSession.read(). Called once, then not again until read() was called.
   */
  onReadable?(): void;
  /**
   * The counters changed outside a batch (a replay reached a recorded counter
   * reading): read stats() now, so losses are reported where they happened.
   */
  onCountersChanged?(): void;
  /**
   * A loss that happened before this binding (a fleet exporter's notice, with
   * its host): the consumer reports it in-band, where it arrived, as it is.
   */
  onLoss?(notice: LostNotice): void;
  /**
   * The source has nothing more to deliver (a replay reached the end of its
   * capture): the consumer stops as on a deliberate stop.
   */
  onEnd?(): void;
}

/** Counters of one CPU (Linux) or of the whole driver (Windows). */
export interface CpuCounters {
  /** Records the driver tried to emit. */
  attempted: number;
  /** Records dropped, indexed by kind number (ABI.kinds); index 0 is unused. */
  dropped: number[];
  /** Records emitted with a truncation flag. */
  truncated: number;
}

export interface RawKernelStats {
  cpus: CpuCounters[];
  /** Records the binding itself had to drop after the driver emitted them (e.g. a full JS queue). */
  bindingDropped: number;
  /** How full the kernel ring is now, when the binding can tell. */
  ring?: RingFill;
}

export interface RingFill {
  /** Bytes of records written and not yet consumed. */
  usedBytes: number;
  sizeBytes: number;
}

/**
 * How a session's timestamps relate to the calendar. Every record's `time`
 * is the kernel's clock of that boot (Linux CLOCK_MONOTONIC, Windows
 * interrupt time, in ns); the binding samples it against the wall clock
 * once, when the session attaches.
 */
export interface SessionClock {
  /**
   * The boot the timestamps and pids belong to (Linux: /proc/sys/kernel/random/boot_id;
   * Windows: derived by the backend). Process identities are only comparable within one boot.
   */
  bootId: string;
  /** Add to an event's `time` to get ns since the Unix epoch (wall clock at attach; later clock steps are not followed). */
  realtimeOffsetNs: bigint;
}

export interface KernelSession {
  /** The session's clock, sampled at attach; replays return the recorded one. Works after close(). */
  clock(): SessionClock;
  /** Pull model: drain whatever waits now into one batch (empty when nothing waits). */
  read(): Uint8Array;
  stats(): RawKernelStats;
  /**
   * Replaces the filters on the live session: the next event sees them.
   * Throws a KmonError when the binding cannot filter so.
   */
  setFilters(filters: Filters): void;
  /**
   * Backpressure: stop handing batches to the sink (and telling it records
   * are readable) until resume(). Records wait in the kernel meanwhile; once
   * its buffer is full the driver drops them and counts them, so the
   * consumer's memory stays bounded whatever it does. A batch being handed
   * over when pause() is called still arrives; read() still drains. Idempotent.
   */
  pause(): void;
  /** Deliver again, starting with what waited. Idempotent. */
  resume(): void;
  /**
   * Stops the driver producing records while what already waits stays
   * readable, so a deliberate stop can deliver everything. Idempotent.
   */
  detach(): void;
  /**
   * Replaces the session's filters while it runs (options.filters at open).
   * Throws KmonUnsupportedError for a filter the driver cannot apply.
   */
  setFilters(filters: Filters): void;
  /** Detach everything from the kernel and release it. Idempotent. */
  close(): void;
}

/** One prerequisite of a binding on this machine, as `kmon doctor` shows it. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when the check fails. */
  fix?: string;
}

export interface KernelBinding {
  /** Short name for messages, e.g. "linux-ebpf", "windows-kmon.sys", "mock". */
  readonly name: string;
  /** What it can record and honour; createKmon refuses the rest up front. */
  readonly capabilities: BindingCapabilities;
  /**
   * Load and attach the driver and start delivering batches to `sink`.
   * Throws a KmonError (permission, unsupported feature, driver failure).
   */
  open(options: SessionOptions, sink: BatchSink): KernelSession;
  /**
   * Checks what this backend needs from the machine (privileges, kernel
   * features, driver), each with how to fix it. Opening a session is the
   * final check and is not among them.
   */
  checks?(): Promise<Check[]>;
}

/** What tappedBinding hands its tap: each batch, and optionally each counter reading and each loss notice. */
export interface SessionTap {
  /** `origin` as the inner binding gave it (a fleet host's batch). */
  batch(batch: Uint8Array, origin?: BatchOrigin): void;
  /** Every counter reading the consumer takes (stats()), as it takes it. */
  stats?(stats: RawKernelStats): void;
  /** Every loss notice the inner binding reports (onLoss), before the consumer gets it. */
  loss?(notice: LostNotice): void;
}

/**
 * `inner` with `tap` called on every batch it hands to its consumer, pushed
 * (onBatch) or pulled (read()), before the consumer gets it: for exporters
 * and tests that keep the raw records a session decoded, and (a SessionTap)
 * for recorders that also keep its counter readings and loss notices.
 */
export function tappedBinding(inner: KernelBinding, tap: SessionTap['batch'] | SessionTap): KernelBinding {
  const taps: SessionTap = typeof tap === 'function' ? { batch: tap } : tap;
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    open(options, sink) {
      const session = inner.open(options, {
        ...sink,
        onBatch: (batch, origin) => {
          taps.batch(batch, origin);
          sink.onBatch(batch, origin);
        },
        onLoss: (notice) => {
          taps.loss?.(notice);
          sink.onLoss?.(notice);
        },
      });
      // Each method delegated by name: a session may be a class instance, whose methods a spread would lose.
      return {
        read() {
          const batch = session.read();
          if (batch.length > 0) taps.batch(batch);
          return batch;
        },
        clock: () => session.clock(),
        stats() {
          const stats = session.stats();
          taps.stats?.(stats);
          return stats;
        },
        setFilters: (filters) => session.setFilters(filters),
        pause: () => session.pause(),
        resume: () => session.resume(),
        detach: () => session.detach(),
        close: () => session.close(),
      };
    },
  };
}
