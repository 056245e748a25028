// A KernelBinding with no kernel behind it: tests push batches and counters
// into it and observe what the layers above do with them.
import type { BatchOrigin, BatchSink, Check, KernelBinding, KernelSession, RawKernelStats, SessionClock } from '../binding.js';
import { ALL_CAPABILITIES, type BindingCapabilities } from '../capabilities.js';
import { KmonClosedError } from '../errors.js';
import type { Filters, SessionOptions } from '../options.js';
import { ABI } from '../abi.js';

export interface MockSession extends KernelSession {
  readonly options: SessionOptions;
  /** The filters now in force: the options', then each setFilters(). */
  readonly filters: Filters;
  readonly closed: boolean;
  readonly detached: boolean;
  readonly paused: boolean;
  /** Delivers a batch as the native layer would after a wakeup; while paused it waits until resume(). */
  /** Hands the session a batch; with an origin, as a fleet binding hands another host's records. */
  deliver(batch: Uint8Array, origin?: BatchOrigin): void;
  /** Queues a batch for the next read() (pull model), telling the sink it is readable. */
  queue(batch: Uint8Array): void;
  /** Fails the session as a dying driver would. */
  fail(error: Error): void;
  /** Sets the counters stats() reports. */
  setStats(stats: Partial<RawKernelStats>): void;
}

export interface MockBinding extends KernelBinding {
  readonly sessions: MockSession[];
  /** The most recently opened session. */
  readonly current: MockSession | undefined;
  /** Makes the next open() throw this error. */
  failNextOpen(error: Error): void;
}

const zeroCpu = () => ({ attempted: 0, dropped: new Array<number>(ABI.kindCount).fill(0), truncated: 0 });

export interface MockBindingOptions {
  /** What the mock claims to support; by default everything the options schema has. */
  capabilities?: Partial<BindingCapabilities>;
  /** What its checks() reports; without them it has no checks(). */
  checks?: Check[];
  /** What its sessions' clock() returns (by default MOCK_CLOCK). */
  clock?: SessionClock;
}

/** The mock's default session clock: a fixed boot, and event times that are already epoch ns. */
export const MOCK_CLOCK: SessionClock = { bootId: 'mock-boot', realtimeOffsetNs: 0n };

export function createMockBinding(config: MockBindingOptions = {}): MockBinding {
  const capabilities: BindingCapabilities = { platform: 'mock', ...ALL_CAPABILITIES, ...config.capabilities };
  const sessions: MockSession[] = [];
  let openError: Error | undefined;

  function open(options: SessionOptions, sink: BatchSink): MockSession {
    if (openError) {
      const error = openError;
      openError = undefined;
      throw error;
    }
    let closed = false;
    let detached = false;
    let filters = options.filters;
    let paused = false;
    /** Batches delivered while paused: they wait "in the kernel". */
    const waiting: Array<[Uint8Array, BatchOrigin | undefined]> = [];
    let stats: RawKernelStats = { cpus: [zeroCpu()], bindingDropped: 0 };
    const pending: Uint8Array[] = [];
    const live = () => {
      if (closed) throw new KmonClosedError('the mock session');
    };
    const clock = config.clock ?? MOCK_CLOCK;
    const session: MockSession = {
      options,
      clock: () => clock,
      get closed() {
        return closed;
      },
      get detached() {
        return detached;
      },
      get filters() {
        return filters;
      },
      setFilters(next) {
        live();
        filters = next;
      },
      get paused() {
        return paused;
      },
      deliver(batch, origin) {
        live();
        if (paused) waiting.push([batch, origin]);
        else sink.onBatch(batch, origin);
      },
      pause() {
        paused = true;
      },
      resume() {
        paused = false;
        while (!paused && !closed && waiting.length > 0) sink.onBatch(...waiting.shift()!);
      },
      queue(batch) {
        pending.push(batch);
        sink.onReadable?.();
      },
      fail(error) {
        closed = true;
        sink.onError(error);
      },
      setStats(next) {
        stats = { ...stats, ...next };
      },
      read() {
        live();
        const all = pending.splice(0);
        const out = new Uint8Array(all.reduce((n, b) => n + b.length, 0));
        all.reduce((at, b) => (out.set(b, at), at + b.length), 0);
        return out;
      },
      stats() {
        return stats;
      },
      detach() {
        detached = true;
      },
      close() {
        closed = detached = true;
      },
    };
    sessions.push(session);
    return session;
  }

  return {
    name: 'mock',
    capabilities,
    ...(config.checks && { checks: async () => config.checks ?? [] }),
    sessions,
    get current() {
      return sessions.at(-1);
    },
    failNextOpen(error) {
      openError = error;
    },
    open,
  };
}
