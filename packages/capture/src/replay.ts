// A capture replayed as a KernelBinding: the consumer gets the recorded
// batches (at recorded pace, scaled by `speed`, or as fast as it takes them)
// and the recorded counter readings at the points where the live session
// read them, so the same consumer yields the same events and loss notices.
import {
  ALL_CAPABILITIES,
  KmonOptionsError,
  KmonUnsupportedError,
  type BatchOrigin,
  type BatchSink,
  type KernelBinding,
  type KernelSession,
  type RawKernelStats,
  type SessionClock,
  type SessionOptions,
} from '@kmon/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorOf, sessionClockOf } from './header.js';
import { CaptureReader, readCaptureHeaderSync, type CaptureEnding } from './reader.js';

export interface ReplayOptions {
  /** 'max': as fast as the consumer takes batches (the default); n: n times the recorded pace (1 = real time). */
  speed?: 'max' | number;
}

export interface ReplayBinding extends KernelBinding {
  open(options: SessionOptions, sink: BatchSink): ReplaySession;
  /** How far the running (or last) replay has read. */
  progress(): { readBytes: number; fileBytes: number };
  /** How the last replay ended (complete, or cut and by how much); undefined until it has. */
  readonly ending: CaptureEnding | undefined;
}

/** A replay's session: pause() stops reading the capture; resume() continues where it stopped, at the same pace. */
export type ReplaySession = KernelSession;

/** A batch waiting to be handed out, with the counter readings recorded after it. */
interface Held {
  time: bigint;
  batch: Uint8Array;
  origin: BatchOrigin | undefined;
  after: RawKernelStats[];
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const noCounters = (): RawKernelStats => ({ cpus: [], bindingDropped: 0 });
/** What a consumer reports as lost from a reading: drops per kind over all CPUs, and the binding's. */
function dropsOf(stats: RawKernelStats): string {
  const perKind: number[] = [];
  for (const cpu of stats.cpus) cpu.dropped.forEach((n, kind) => (perKind[kind] = (perKind[kind] ?? 0) + n));
  const kinds = perKind.flatMap((n, kind) => (n > 0 ? [`${kind}:${n}`] : []));
  return `${kinds.join()}|${stats.bindingDropped}`;
}

/** Maps capture time to wall time at `speed`; pauses push the schedule back. */
class Pacer {
  private origin: { captureNs: bigint; ms: number } | undefined;
  private pausedAt: number | undefined;

  constructor(
    private readonly speed: 'max' | number,
    private readonly signal: AbortSignal,
  ) {}

  /** Resolves when the entry recorded at `time` is due; rejects once the replay is stopped. */
  async wait(time: bigint): Promise<void> {
    if (this.speed === 'max') return;
    this.origin ??= { captureNs: time, ms: performance.now() };
    const due = this.origin.ms + Number(time - this.origin.captureNs) / 1e6 / this.speed;
    // A timer may fire a little early (libuv's loop time lags the clock): wait again until due.
    for (let delay = due - performance.now(); delay > 0; delay = due - performance.now()) {
      await sleep(Math.max(1, delay), undefined, { signal: this.signal });
    }
  }

  pause(): void {
    this.pausedAt ??= performance.now();
  }

  resume(): void {
    if (this.pausedAt !== undefined && this.origin) this.origin.ms += performance.now() - this.pausedAt;
    this.pausedAt = undefined;
  }
}

function checkSpeed(speed: 'max' | number): void {
  if (speed === 'max' || (Number.isFinite(speed) && speed > 0)) return;
  throw new KmonOptionsError(`replay speed ${String(speed)} is not 'max' or a positive number`, {
    hint: "1 replays at the recorded pace, 10 ten times faster, 'max' as fast as possible",
  });
}

/** Replays the capture at `path`; each open() replays it from the start. */
export function replayBinding(path: string, replay: ReplayOptions = {}): ReplayBinding {
  const speed = replay.speed ?? 'max';
  checkSpeed(speed);
  let reader: CaptureReader | undefined;
  let ending: CaptureEnding | undefined;
  let clock: SessionClock | undefined;

  function open(options: SessionOptions, sink: BatchSink): ReplaySession {
    const pull = options.wakeup === 'pull';
    const abort = new AbortController();
    const pacer = new Pacer(speed, abort.signal);
    let stopped = false;
    let current = noCounters();
    /** Readings recorded right after the batch last handed out: the consumer's reads of it. */
    let tied: RawKernelStats[] = [];
    /** Pull mode: batches handed out, waiting for read(). */
    const ready: Held[] = [];
    let paused: Deferred | undefined;
    let taken: Deferred | undefined;

    /** Readings the consumer did not take itself become current one by one, each announced when it changed the drops. */
    const settle = (readings: RawKernelStats[]) => {
      for (const reading of readings.splice(0)) {
        const changed = dropsOf(reading) !== dropsOf(current);
        current = reading;
        if (changed) sink.onCountersChanged?.();
      }
    };
    const handOut = async (held: Held | undefined) => {
      if (!held) return;
      await pacer.wait(held.time);
      await paused?.promise;
      if (stopped) return;
      settle(tied);
      if (pull) {
        ready.push(held);
        taken = deferred();
        sink.onReadable?.();
        return taken.promise; // the reader stops until the consumer has read
      }
      tied = held.after;
      sink.onBatch(held.batch, held.origin);
    };

    async function run() {
      const opened = await CaptureReader.open(path);
      reader = opened;
      ending = undefined;
      for await (const block of opened.blocks()) {
        // A batch's readings follow it in its block: hold each batch until the next one (or the block's end).
        let held: Held | undefined;
        for (const entry of block) {
          if (stopped) return;
          if (entry.type === 'counters') {
            if (held) held.after.push(entry.stats);
            else settle([entry.stats]);
          } else if (entry.type === 'batch') {
            await handOut(held);
            held = { time: entry.time, batch: entry.batch, origin: entry.origin, after: [] };
          } else {
            // A loss notice or an error comes after the batch before it, and after the readings the consumer did not take.
            await handOut(held);
            held = undefined;
            if (stopped) return;
            settle(tied);
            if (entry.type === 'error') return sink.onError(errorOf(entry.error));
            sink.onLoss?.(entry.notice);
          }
        }
        await handOut(held);
      }
      settle(tied);
      ending = opened.ending;
      if (!stopped) sink.onEnd?.();
    }

    // Asynchronous: nothing reaches the sink before open() has returned.
    setImmediate(() =>
      run().catch((error: unknown) => {
        if (!stopped) sink.onError(error as Error);
      }),
    );

    const stop = () => {
      stopped = true;
      abort.abort();
      taken?.resolve();
      paused?.resolve();
    };
    return {
      /** The recorded session's clock (see sessionClockOf for captures older than it); a KmonCaptureError for an unreadable capture. */
      clock() {
        clock ??= sessionClockOf(readCaptureHeaderSync(path));
        return clock;
      },
      read() {
        settle(tied);
        const next = ready.shift();
        if (!next) return new Uint8Array(0);
        tied = next.after;
        taken?.resolve();
        return next.batch;
      },
      stats() {
        current = tied.shift() ?? current;
        return current;
      },
      pause() {
        pacer.pause();
        paused ??= deferred();
      },
      resume() {
        pacer.resume();
        paused?.resolve();
        paused = undefined;
      },
      setFilters() {
        throw new KmonUnsupportedError('a replayed capture cannot change its filters', {
          hint: 'its records were filtered when they were recorded',
        });
      },
      detach: stop,
      close: stop,
    };
  }

  return {
    name: 'replay',
    // A replay delivers what was recorded whatever it is asked for: it refuses nothing.
    capabilities: { platform: 'replay', ...ALL_CAPABILITIES },
    open,
    progress: () => ({ readBytes: reader?.bytesRead ?? 0, fileBytes: reader?.fileBytes ?? 0 }),
    get ending() {
      return ending;
    },
  };
}
