// The kmon path under test, one scenario per child process (clean RSS and
// CPU figures): createKmon(...).events$ with a counting subscriber.
//
//   node dist/kmon-consumer.js '{"tgid":123,"kinds":["synth"],"mode":"adaptive","payload":0,"latency":false,"slowNs":0}'
//
// Protocol (the same as bench/c/consumer.c): prints "ready" once the session
// is attached; on SIGTERM/SIGINT stops kmon (which delivers what is left and
// reports final losses in-band), then prints one JSON line and exits.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createKmon, nativeBinding } from 'kmon';
import { LatencyProbe } from './latency-probe.js';

export interface KmonConsumerArgs {
  /** The generator's pid. */
  tgid: number;
  /** Kinds the session asks for and the subscriber counts: synth (the generator's getppid() calls) or others, of the generator only. */
  kinds: string[];
  /** filters.file / filters.network of the session. */
  filters?: Record<string, unknown>;
  mode: 'each' | 'adaptive' | 'poll';
  payload: number;
  /** Measure kernel timestamp -> subscriber latency per event. */
  latency: boolean;
  /** With latency: also read the JS thread's run delay per batch (costs a /proc read per batch). */
  probe?: boolean;
  /** Busy-wait this long per event (a deliberately slow subscriber). */
  slowNs: number;
  /** Sample RSS and heap after every batch (memory scenario). */
  memory?: boolean;
  /**
   * Write a V8 CPU profile of the run, from attach to stop, to this file
   * (node --cpu-prof would also profile the startup and the attach).
   */
  profile?: string;
  /** Extra session options (e.g. batchBytes) for experiments. */
  options?: Record<string, unknown>;
}

const args = JSON.parse(process.argv[2] ?? '{}') as KmonConsumerArgs;
/** Attached, before saying ready and starting the clocks. */
const SETTLE_MS = 500;
/**
 * Events after which the JS path counts as warm: V8 interprets, then compiles
 * the hot functions while the first tens of thousands of events go through
 * (~2.5 µs each before, 0.1-0.3 µs after). The steady figure is read from here
 * on, beside the whole run's: a long-running monitor pays the warm-up once.
 */
const WARM_EVENTS = 50_000;
const probe = args.latency ? new LatencyProbe(args.probe ?? false) : undefined;
let delivered = 0;
let payloadChars = 0;
let other = 0;
let lostNotices = 0;
let lostCount = 0;
let batches = 0;
let firstNs = 0n;
let lastNs = 0n;
let atFirst = 0;
let atLast = 0;
let atWarm: { cpu: NodeJS.CpuUsage; delivered: number } | undefined;
let done = false;

const wanted = new Set(args.kinds);
/**
 * Whether an event's kind is one the session asked for: the kind last found
 * wanted is compared first (kind strings are the decoder's constants), so the
 * bench's own bookkeeping costs no Set lookup per event (one showed in profiles).
 */
let lastWanted: string | undefined;
const isWanted = (kind: string) => kind === lastWanted || (wanted.has(kind) && (lastWanted = kind) !== undefined);
const kmon = createKmon({
  kinds: args.kinds as never,
  ...(wanted.has('synth')
    ? { synthetic: { tgid: args.tgid, payloadBytes: args.payload } }
    : { filters: { process: { pids: [args.tgid], children: false }, ...args.filters } }),
  wakeup: args.mode,
  ...args.options,
}, probe ? { binding: probe.binding(nativeBinding) } : {});

/** The event's decoded text (payload, path or address), touched as a subscriber would. */
const textOf = (m: { payload?: string; path?: string; remote?: { address: string } }) =>
  m.payload ?? m.path ?? m.remote?.address ?? '';

const slow = BigInt(args.slowNs);
const subscription = kmon.events$.subscribe({
  next: (m) => {
    if (m.kind === 'lost') {
      lostNotices++;
      lostCount += m.count;
    } else if (isWanted(m.kind)) {
      delivered++;
      payloadChars += textOf(m as Parameters<typeof textOf>[0]).length;
      probe?.event(m.time);
      if (slow > 0n) {
        const until = process.hrtime.bigint() + slow;
        while (process.hrtime.bigint() < until);
      }
    } else {
      other++;
    }
  },
  error: (error: unknown) => {
    process.stderr.write(`kmon-consumer: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
  complete: () => finish(),
});

// Subscribed after events$: called once per batch after events$ has seen
// all of it, so "time at the end of a drain" as in the C consumer.
// Memory samples after each batch (timers may not run while the addon keeps
// delivering batches from a ring that never runs dry).
const samples: Array<{ t: number; rss: number; heap: number }> = [];
kmon.batches$.subscribe(() => {
  batches++;
  const t = process.hrtime.bigint();
  if (args.memory) {
    const m = process.memoryUsage();
    samples.push({ t: Number(t), rss: m.rss, heap: m.heapUsed + m.external }); // external includes arrayBuffers
  }
  if (firstNs === 0n) {
    firstNs = t;
    atFirst = delivered;
  }
  lastNs = t;
  atLast = delivered;
  if (atWarm === undefined && delivered >= WARM_EVENTS) atWarm = { cpu: process.cpuUsage(), delivered };
});

// Event-loop responsiveness: a 10 ms timer and the longest gap between its
// ticks (timers, signals and I/O of the application wait that long).
let lastTick = performance.now();
let loopMaxGapMs = 0;
const ticker = setInterval(() => {
  const now = performance.now();
  loopMaxGapMs = Math.max(loopMaxGapMs, now - lastTick);
  lastTick = now;
}, 10);

// Let V8's background work of startup (compiling the modules just loaded) finish
// first: its CPU is the process's, and a short run would charge it to its events.
await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
let kernel = kmon.stats();
const cpu0 = process.cpuUsage();
const faults0 = process.resourceUsage().minorPageFault;
const rssReady = process.memoryUsage().rss;
const profiler = args.profile ? startProfile() : undefined;
process.stdout.write('ready\n');

function startProfile(): Session {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  return session;
}

/** Stops the profiler (if any) and writes its profile, then calls done. */
function stopProfile(done: () => void): void {
  if (!profiler) return done();
  profiler.post('Profiler.stop', (error, result) => {
    if (error) process.stderr.write(`kmon-consumer: profile: ${error.message}\n`);
    else writeFileSync(args.profile!, JSON.stringify(result.profile));
    done();
  });
}

let atStop: { cpu: NodeJS.CpuUsage; delivered: number; steady?: { cpu: NodeJS.CpuUsage; delivered: number } } | undefined;
const stop = () => {
  if (done) return;
  kernel = kmon.stats(); // the generator has finished: these are final
  // CPU per event is taken here, before kmon.stop() detaches the programs (detaching
  // syscall tracepoints costs the kernel tens of ms), as the C consumer reads its
  // rusage before destroying its skeleton.
  atStop = {
    cpu: process.cpuUsage(cpu0),
    delivered,
    ...(atWarm && { steady: { cpu: process.cpuUsage(atWarm.cpu), delivered: delivered - atWarm.delivered } }),
  };
  kmon.stop();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/** Peak RSS and JS memory in the first and the second half of the run: bounded means no growth. */
function memorySummary() {
  if (samples.length < 2) return undefined;
  const mid = (samples[0]!.t + samples[samples.length - 1]!.t) / 2;
  const peak = (list: typeof samples, key: 'rss' | 'heap') => Math.round(Math.max(0, ...list.map((x) => x[key])) / 1024);
  const first = samples.filter((x) => x.t <= mid);
  const second = samples.filter((x) => x.t > mid);
  return {
    samples: samples.length,
    rss_first_half_kb: peak(first, 'rss'),
    rss_second_half_kb: peak(second, 'rss'),
    js_first_half_kb: peak(first, 'heap'),
    js_second_half_kb: peak(second, 'heap'),
  };
}

function finish() {
  if (done) return;
  done = true;
  subscription.unsubscribe();
  clearInterval(ticker);
  loopMaxGapMs = Math.max(loopMaxGapMs, performance.now() - lastTick); // a stall still going on
  const total = process.cpuUsage(cpu0);
  const cpu = atStop?.cpu ?? total;
  const span = Number(lastNs - firstNs);
  const result = {
    consumer: 'kmon',
    kinds: args.kinds,
    mode: args.mode,
    payload: args.payload,
    delivered,
    payload_chars: payloadChars,
    first_ns: Number(firstNs),
    last_ns: Number(lastNs),
    rate: span > 0 ? ((atLast - atFirst) * 1e9) / span : 0,
    attempted: kernel.attempted,
    dropped: kernel.dropped,
    binding_dropped: kernel.bindingDropped,
    lost_notices: lostNotices,
    lost_count: lostCount,
    other,
    batches,
    cpu_user_us: cpu.user,
    cpu_sys_us: cpu.system,
    /** Events delivered by the time cpu_* were read (the rest came in the final drain). */
    delivered_at_cpu: atStop?.delivered ?? delivered,
    ...(atStop?.steady && {
      steady_cpu_us: atStop.steady.cpu.user + atStop.steady.cpu.system,
      steady_events: atStop.steady.delivered,
    }),
    /** With the stop (detach, final drain). */
    cpu_total_us: total.user + total.system,
    max_rss_kb: process.resourceUsage().maxRSS,
    minor_faults: process.resourceUsage().minorPageFault - faults0,
    rss_ready_kb: Math.round(rssReady / 1024),
    loop_max_gap_ms: Math.round(loopMaxGapMs),
    ...(probe ? { latency: probe.summary() } : {}),
    ...(args.memory ? { memory: memorySummary() } : {}),
  };
  stopProfile(() => process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0)));
}
