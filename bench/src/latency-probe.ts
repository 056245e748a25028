// Latency of the kmon path, kernel timestamp -> subscriber, and where the
// slowest events' time went. The probe sees each batch enter and leave JS
// (the binding's onBatch, wrapped: rx delivers a batch's events to the
// subscriber before onBatch returns), each event at the subscriber, and V8's
// GC pauses (perf_hooks). With `schedstat` it also reads how long the JS
// thread waited for a CPU before and during each batch
// (/proc/thread-self/schedstat run delay: ~8 µs per read on the reference VM,
// two per batch, so only in the runs that ask for it).
//
// For every event at or above the p99 its latency is split into:
//   cpuWait  runnable but not running (the scheduler): before its batch reached
//            JS, plus its share of the waits while the batch was being delivered
//   gc       V8 GC pauses between its kernel timestamp and the subscriber
//   js       its batch's entry into JS -> the subscriber, running (decode,
//            context, rx, and the subscriber's work on the events before it)
//   loop     the rest before JS: kernel wakeup, libuv, the addon's drain, other
//            loop work (timers), an earlier batch still being delivered
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
      const sent = seen - latency; // the kernel's timestamp
      const entered = Math.max(sent, this.batchAt.at(b));
      const gcBefore = this.gcWithin(sent, entered);
      const gcAfter = this.gcWithin(entered, seen);
      let before = 0;
      let during = 0;
      if (this.runDelay && b < this.batchEnd.length) {
        before = Math.min(this.waitBefore.at(b), entered - sent - gcBefore);
        // The waits while the batch was delivered, pro rata to how far into it this event came.
        const span = this.batchEnd.at(b) - this.batchAt.at(b);
        during = span > 0 ? Math.min(this.waitDuring.at(b) * ((seen - entered) / span), seen - entered - gcAfter) : 0;
      }
      sum.events++;
      sum.latency += latency;
      sum.cpuWait += before + during;
      sum.gc += gcBefore + gcAfter;
      sum.js += seen - entered - gcAfter - during;
      sum.loop += entered - sent - gcBefore - before;
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
