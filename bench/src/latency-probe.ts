// Latency of the kmon path, kernel timestamp -> subscriber, and where the
// slowest events' time went. The probe sees each batch enter and leave JS
// (the binding's onBatch, wrapped: rx delivers a batch's events to the
// subscriber before onBatch returns), each event at the subscriber, and V8's
// GC pauses (perf_hooks). With `schedstat` it also reads how long the JS
// thread waited for a CPU before and during each batch
// (/proc/thread-self/schedstat run delay: ~8 µs per read on the reference VM,
// two per batch, so only in the runs that ask for it).
//
// For every event at or above the p99, the JS thread's timeline from the
// event's kernel timestamp to the subscriber is split into:
//   cpuWait  runnable but not running (the scheduler)
//   gc       V8 GC pauses
//   js       running JS of a batch being delivered: the event's own up to it,
//            and the batches before it since it was sent (decode, context, rx,
//            the subscriber)
//   loop     the rest, between batches: kernel wakeup, libuv, the addon's
//            drain, other loop work (timers), sleeping
import { openSync, readSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { KernelBinding } from 'kmon';
import { Histogram, type LatencySummary, type WhereP99 } from './hist.js';

/** Growable Float64Array: per-event figures without an object per event. */
class Column {
  values = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = v;
  }
  at(i: number): number {
    return this.values[i]!;
  }
}

/** The JS thread's cumulative run delay (ns spent runnable, waiting for a CPU). */
class RunDelay {
  private readonly fd = openSync('/proc/thread-self/schedstat', 'r');
  private readonly buf = Buffer.alloc(128);
  read(): number {
    const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
    return Number(this.buf.toString('latin1', 0, n).split(' ')[1]);
  }
}

const nowNs = () => Number(process.hrtime.bigint());

export class LatencyProbe {
  private readonly hist = new Histogram();
  // Per batch: when it entered and left JS, and the run delay before it (since
  // the previous batch left) and while it was delivered.
  private readonly batchAt = new Column();
  private readonly batchEnd = new Column();
  private readonly waitBefore = new Column();
  private readonly waitDuring = new Column();
  // Per event: latency, when the subscriber saw it, its batch.
  private readonly latency = new Column();
  private readonly seenAt = new Column();
  private readonly batchOf = new Column();
  private readonly gcs: Array<{ start: number; end: number }> = [];
  private readonly runDelay: RunDelay | undefined;
  private lastRunDelay = 0;
  /** performance.now() (ms since the time origin) -> hrtime ns: both read the same monotonic clock. */
  private readonly originNs = nowNs() - performance.now() * 1e6;

  constructor(schedstat: boolean) {
    this.runDelay = schedstat ? new RunDelay() : undefined;
    this.lastRunDelay = this.runDelay?.read() ?? 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const start = this.originNs + e.startTime * 1e6;
        this.gcs.push({ start, end: start + e.duration * 1e6 });
      }
    }).observe({ entryTypes: ['gc'] });
  }

  /** `inner`, with every batch's entry into JS and return from it noted. */
  binding(inner: KernelBinding): KernelBinding {
    return {
      ...inner,
      open: (options, sink) =>
        inner.open(options, {
          ...sink,
          onBatch: (batch, origin) => {
            this.enter();
            sink.onBatch(batch, origin);
            this.leave();
          },
        }),
    };
  }

  private enter(): void {
    this.batchAt.push(nowNs());
    if (this.runDelay) this.waitBefore.push(this.waited());
  }

  private leave(): void {
    this.batchEnd.push(nowNs());
    if (this.runDelay) this.waitDuring.push(this.waited());
  }

  /** Run delay since the last reading. */
  private waited(): number {
    const total = this.runDelay!.read();
    const ns = total - this.lastRunDelay;
    this.lastRunDelay = total;
    return ns;
  }

  /** An event reached the subscriber; `time` is its kernel timestamp (CLOCK_MONOTONIC ns). */
  event(time: bigint): void {
    const now = process.hrtime.bigint();
    const ns = Number(now - time);
    this.hist.add(ns);
    this.latency.push(ns);
    this.seenAt.push(Number(now));
    this.batchOf.push(this.batchAt.length - 1);
  }

  summary(): LatencySummary {
    const base = this.hist.summary();
    const first = this.seenAt.length ? this.seenAt.at(0) - this.latency.at(0) : 0;
    const gcs = this.gcs.filter((g) => g.end >= first);
    const pauses = gcs.map((g) => g.end - g.start);
    return {
      ...base,
      where: this.where(base.p99_ns),
      gc: { count: gcs.length, total_ns: Math.round(pauses.reduce((a, b) => a + b, 0)), max_ns: Math.round(Math.max(0, ...pauses)) },
    };
  }

  /**
   * The span [sent, seen] of an event delivered in batch `b`, walked back
   * over the JS thread's timeline: batches being delivered (its own up to
   * the event, and those before it since it was sent: JS) and the gaps
   * between them (wakeup, libuv, the drain, other loop work, sleep: loop).
   * An interval's run delay is spread evenly over it; GC pauses are taken
   * out of whichever interval they fall in.
   */
  private split(sent: number, seen: number, b: number) {
    const out = { cpuWait: 0, gc: 0, js: 0, loop: 0 };
    const take = (from: number, to: number, span: number, wait: number, into: 'js' | 'loop') => {
      const start = Math.max(from, sent);
      const end = Math.min(to, seen);
      if (end <= start) return;
      const gc = this.gcWithin(start, end);
      const waited = this.runDelay && span > 0 ? Math.min((wait * (end - start)) / span, end - start - gc) : 0;
      out.gc += gc;
      out.cpuWait += Math.max(0, waited);
      out[into] += Math.max(0, end - start - gc - waited);
    };
    for (let k = b; k >= 0; k--) {
      const at = this.batchAt.at(k);
      const end = k < this.batchEnd.length ? this.batchEnd.at(k) : seen;
      take(at, k === b ? seen : end, end - at, this.runDelay ? this.waitDuring.at(k) : 0, 'js');
      const previousEnd = k > 0 ? this.batchEnd.at(k - 1) : sent;
      take(previousEnd, at, at - previousEnd, this.runDelay ? this.waitBefore.at(k) : 0, 'loop');
      if (previousEnd <= sent) break;
    }
    return out;
  }

  private gcWithin(from: number, to: number): number {
    let ns = 0;
    for (const g of this.gcs) ns += Math.max(0, Math.min(to, g.end) - Math.max(from, g.start));
    return ns;
  }

  private where(p99: number): WhereP99 {
    const sum = { events: 0, latency: 0, cpuWait: 0, gc: 0, js: 0, loop: 0 };
    for (let i = 0; i < this.latency.length; i++) {
      const latency = this.latency.at(i);
      const b = this.batchOf.at(i);
      if (latency < p99 || b < 0) continue;
      const seen = this.seenAt.at(i);
      const split = this.split(seen - latency, seen, b);
      sum.events++;
      sum.latency += latency;
      sum.cpuWait += split.cpuWait;
      sum.gc += split.gc;
      sum.js += split.js;
      sum.loop += split.loop;
    }
    const mean = (ns: number) => (sum.events ? Math.round(ns / sum.events) : 0);
    return {
      events: sum.events,
      latency_ns: mean(sum.latency),
      ...(this.runDelay ? { cpu_wait_ns: mean(sum.cpuWait) } : {}),
      gc_ns: mean(sum.gc),
      js_ns: mean(sum.js),
      loop_ns: mean(sum.loop),
    };
  }
}
