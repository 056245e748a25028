// Tables and targets (PASS/MISS beside the figures; the bench asserts nothing).
import type { MicroRow } from './micro.js';
import type { ConsumerResult, Mode, ScenarioResult } from './run.js';

export interface BenchResults {
  machine: Record<string, unknown>;
  throughput: ScenarioResult[];
  sustained: ScenarioResult[];
  latency: ScenarioResult[];
  /** The 10k ev/s `each` latency with plain scheduling, when `latency` ran boosted. */
  latencyPlain: ScenarioResult[];
  overhead: { untraced: ScenarioResult } | undefined;
  memory: ScenarioResult | undefined;
  breakdown: MicroRow[] | undefined;
  /** Scenarios that failed (the run goes on without them). */
  errors: string[];
}

const fmtRate = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`;
const fmtCount = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : `${n}`);
const fmtNs = (ns: number) =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)}ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)}µs` : `${Math.round(ns)}ns`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const cpuS = (c: ConsumerResult) => (c.cpu_user_us + c.cpu_sys_us) / 1e6;
/** Consumer CPU per delivered event. */
const cpuPerEvent = (c: ConsumerResult) => (c.delivered ? ((c.cpu_user_us + c.cpu_sys_us) * 1e3) / c.delivered : 0);
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a ' : ok ? 'PASS' : 'MISS');

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const drops = (c: ConsumerResult) =>
  c.consumer === 'kmon' ? `${fmtCount(c.dropped)} (${fmtCount(c.lost_count ?? 0)} in-band)` : fmtCount(c.dropped);

function find(list: ScenarioResult[], consumer: string, mode: Mode, payload: number, rate?: number) {
  return list.find(
    (r) => r.spec.consumer === consumer && r.spec.mode === mode && r.spec.payload === payload && (rate === undefined || r.spec.rate === rate),
  );
}

export interface Target {
  name: string;
  figure: string;
  ok: boolean | undefined;
}

export function targets(r: BenchResults): Target[] {
  const out: Target[] = [];
  const ratio = (payload: number) => {
    const c = find(r.throughput, 'c', 'adaptive', payload)?.consumer;
    const k = find(r.throughput, 'kmon', 'adaptive', payload)?.consumer;
    return c && k ? k.rate / c.rate : undefined;
  };
  const small = ratio(0);
  out.push({ name: 'kmon >= 0.9x C, small records, adaptive', figure: small ? `${small.toFixed(2)}x` : '-', ok: small === undefined ? undefined : small >= 0.9 });
  const sus = r.sustained.find((s) => s.spec.consumer === 'kmon');
  const susOk = sus?.consumer ? sus.consumer.dropped === 0 && sus.generator.rate >= 0.95 * sus.spec.rate : undefined;
  out.push({
    name: `zero drops at 1M ev/s for ${sus?.spec.durationS ?? 10}s (kmon, adaptive)`,
    figure: sus?.consumer ? `${fmtCount(sus.consumer.dropped)} dropped of ${fmtCount(sus.consumer.attempted)} at ${fmtRate(sus.generator.rate)}/s` : '-',
    ok: susOk,
  });
  const large = ratio(256);
  out.push({ name: 'kmon >= 0.7x C, path-sized records (256 B), adaptive', figure: large ? `${large.toFixed(2)}x` : '-', ok: large === undefined ? undefined : large >= 0.7 });
  const lk = find(r.latency, 'kmon', 'each', 0, 10_000)?.consumer?.latency;
  const lc = find(r.latency, 'c', 'each', 0, 10_000)?.consumer?.latency;
  out.push({ name: 'latency p99 <= 1 ms at 10k ev/s, each (kmon)', figure: lk ? fmtNs(lk.p99_ns) : '-', ok: lk ? lk.p99_ns <= 1e6 : undefined });
  out.push({
    name: 'latency p50 within 2x of C at 10k ev/s, each',
    figure: lk && lc ? `${fmtNs(lk.p50_ns)} vs ${fmtNs(lc.p50_ns)} (${(lk.p50_ns / lc.p50_ns).toFixed(2)}x)` : '-',
    ok: lk && lc ? lk.p50_ns <= 2 * lc.p50_ns : undefined,
  });
  const oh = overheadRows(r).find((o) => o.consumer === 'kmon' && o.mode === 'adaptive' && o.payload === 0);
  out.push({
    name: 'kernel cost <= 400 ns/event (adaptive, kmon draining; CPU)',
    figure: oh ? `${Math.round(oh.nsPerEvent)} ns (wall: ${Math.round(oh.nsPerEventWall)} ns)` : '-',
    ok: oh ? oh.nsPerEvent <= 400 : undefined,
  });
  const mem = r.memory?.consumer;
  // Bounded too: the second half of the run may not peak >10% above the first.
  const growth = mem?.memory ? mem.memory.rss_second_half_kb / mem.memory.rss_first_half_kb : undefined;
  out.push({
    name: 'peak RSS <= 200 MB and not growing (slow subscriber)',
    figure: mem
      ? `${(mem.max_rss_kb / 1024).toFixed(0)} MB` +
        (mem.memory ? `, ${mb(mem.memory.rss_first_half_kb)} -> ${mb(mem.memory.rss_second_half_kb)} (1st -> 2nd half)` : '')
      : '-',
    ok: mem ? mem.max_rss_kb <= 200 * 1024 && (growth === undefined || growth <= 1.1) : undefined,
  });
  return out;
}

interface OverheadRow {
  consumer: string;
  mode: Mode;
  payload: number;
  tracedRate: number;
  /** From the generator's CPU time per call (robust on a busy machine). */
  nsPerEvent: number;
  /** From its wall-clock rate (what the brief asks; inflated when the generator is descheduled). */
  nsPerEventWall: number;
  tracedCpuNs: number;
  dropped: number;
}

export function overheadRows(r: BenchResults): OverheadRow[] {
  const u = r.overhead?.untraced.generator;
  if (!u?.rate) return [];
  return r.throughput
    .filter((t) => t.spec.payload === 0 && t.consumer)
    .map((t) => ({
      consumer: t.spec.consumer,
      mode: t.spec.mode,
      payload: t.spec.payload,
      tracedRate: t.generator.rate,
      nsPerEvent: t.generator.cpu_ns_per_call - u.cpu_ns_per_call,
      nsPerEventWall: 1e9 / t.generator.rate - 1e9 / u.rate,
      tracedCpuNs: t.generator.cpu_ns_per_call,
      dropped: t.consumer!.dropped,
    }));
}

export function report(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`kmon bench — ${m.date} — Linux ${m.kernel}, ${m.cpus} CPUs (${m.cpu}), node ${m.node}, ${m.benchSeconds}s, load average ${String(m.loadBefore)} before / ${String(m.loadAfter)} after`);
  out.push('generator pinned to CPU 1, consumer to CPU 0; ring 16 MiB, wakeupBytes 64 KiB, maxLatencyMs 20, pollIntervalMs 10');

  if (r.throughput.length) {
    out.push('', `THROUGHPUT (saturating generator, ${r.throughput[0]!.spec.durationS}s each): delivered events/s; consumer CPU per event; drops from the kernel counters`);
    const rows: string[][] = [];
    for (const mode of ['each', 'adaptive', 'poll'] as Mode[]) {
      for (const payload of [0, 256]) {
        const c = find(r.throughput, 'c', mode, payload);
        const k = find(r.throughput, 'kmon', mode, payload);
        if (!c?.consumer || !k?.consumer) continue;
        rows.push([
          mode,
          payload === 0 ? '64 B' : `${64 + payload} B`,
          fmtRate(c.consumer.rate),
          drops(c.consumer),
          `${cpuS(c.consumer).toFixed(2)}s ${Math.round(cpuPerEvent(c.consumer))}ns/ev`,
          fmtRate(k.consumer.rate),
          drops(k.consumer),
          `${cpuS(k.consumer).toFixed(2)}s ${Math.round(cpuPerEvent(k.consumer))}ns/ev`,
          `${(k.consumer.rate / c.consumer.rate).toFixed(2)}x`,
          `${fmtRate(c.generator.rate)} / ${fmtRate(k.generator.rate)}`,
          `${c.generator.nivcsw} / ${k.generator.nivcsw}`,
          `${k.consumer.loop_max_gap_ms ?? '-'} ms`,
        ]);
      }
    }
    out.push(table(['mode', 'record', 'C ev/s', 'C drops', 'C cpu', 'kmon ev/s', 'kmon drops', 'kmon cpu', 'kmon/C', 'generator (C run / kmon run)', 'gen. descheduled', 'kmon loop blocked'], rows));
    out.push('(gen. descheduled: involuntary context switches of the generator — other work moved onto its CPU while the consumer kept the other one busy)');
  }

  if (r.sustained.length) {
    const s0 = r.sustained[0]!.spec;
    out.push('', `SUSTAINED (adaptive, 64 B records, generator paced at ${fmtRate(s0.rate)}/s for ${s0.durationS}s)`);
    out.push(
      table(
        ['consumer', 'generator ev/s', 'gen. descheduled', 'attempted', 'delivered', 'dropped', 'lost in-band', 'consumer cpu'],
        r.sustained
          .filter((s) => s.consumer)
          .map((s) => [
            s.spec.consumer,
            fmtRate(s.generator.rate),
            `${s.generator.nivcsw}x`,
            fmtCount(s.consumer!.attempted),
            fmtCount(s.consumer!.delivered),
            fmtCount(s.consumer!.dropped),
            s.consumer!.lost_count === undefined ? '-' : fmtCount(s.consumer!.lost_count),
            `${cpuS(s.consumer!).toFixed(2)}s (${((cpuS(s.consumer!) / s.spec.durationS) * 100).toFixed(0)}% of a CPU)`,
          ]),
      ),
    );
  }

  if (r.latency.length) {
    out.push('', `LATENCY kernel timestamp -> consumer callback (64 B records, paced generator, ${r.latency[0]!.spec.durationS}s each${r.latency[0]!.spec.boost ? ', consumers SCHED_FIFO, unpinned' : ''}): p50 / p99 / p99.9`);
    const rows: string[][] = [];
    for (const mode of ['each', 'adaptive', 'poll'] as Mode[]) {
      for (const rate of [1_000, 10_000, 100_000]) {
        const c = find(r.latency, 'c', mode, 0, rate);
        const k = find(r.latency, 'kmon', mode, 0, rate);
        if (!c?.consumer?.latency || !k?.consumer?.latency) continue;
        const l = (x: ConsumerResult) => `${fmtNs(x.latency!.p50_ns)} / ${fmtNs(x.latency!.p99_ns)} / ${fmtNs(x.latency!.p999_ns)}`;
        rows.push([
          mode,
          fmtRate(rate),
          `${fmtRate(c.generator.rate)} / ${fmtRate(k.generator.rate)}`,
          l(c.consumer),
          l(k.consumer),
          `${(k.consumer.latency.p50_ns / c.consumer.latency.p50_ns).toFixed(2)}x`,
          `${fmtCount(c.consumer.dropped)} / ${fmtCount(k.consumer.dropped)}`,
        ]);
      }
    }
    const c = find(r.latencyPlain, 'c', 'each', 0, 10_000)?.consumer?.latency;
    const k = find(r.latencyPlain, 'kmon', 'each', 0, 10_000)?.consumer?.latency;
    if (c && k) {
      const l = (x: typeof c) => `${fmtNs(x.p50_ns)} / ${fmtNs(x.p99_ns)} / ${fmtNs(x.p999_ns)}`;
      rows.push(['each*', '10.0k', '', l(c), l(k), `${(k.p50_ns / c.p50_ns).toFixed(2)}x`, '']);
    }
    out.push(table(['mode', 'rate', 'achieved C/kmon', 'C', 'kmon', 'kmon/C p50', 'drops C/kmon'], rows));
    if (c && k) out.push('(each*: the same with plain scheduling — consumer pinned, CFS, sharing its CPU with whatever else runs)');
  }

  const oh = overheadRows(r);
  if (r.overhead) {
    const u = r.overhead.untraced.generator;
    out.push('', `OVERHEAD cost to the traced process per event: generator CPU per getppid() traced - untraced (and the same from wall-clock rates), saturating, 64 B records`);
    out.push(`untraced: ${fmtRate(u.rate)} calls/s, ${u.cpu_ns_per_call.toFixed(0)} ns CPU/call (${(1e9 / u.rate).toFixed(0)} ns wall/call, ${u.nivcsw} involuntary switches)`);
    out.push(
      table(
        ['mode', 'consumer', 'traced calls/s', 'CPU ns/call', 'ns/event (CPU)', 'ns/event (wall)', 'dropped'],
        oh.map((o) => [
          o.mode,
          o.consumer,
          fmtRate(o.tracedRate),
          `${Math.round(o.tracedCpuNs)}`,
          `${Math.round(o.nsPerEvent)}`,
          `${Math.round(o.nsPerEventWall)}`,
          fmtCount(o.dropped),
        ]),
      ),
    );
  }

  if (r.memory?.consumer) {
    const c = r.memory.consumer;
    out.push('', `MEMORY kmon, adaptive, ${64 + r.memory.spec.payload} B records, saturating ${r.memory.spec.durationS}s, subscriber busy-waits ${(r.memory.spec.slowNs ?? 0) / 1000} µs/event`);
    out.push(
      table(
        ['peak RSS', 'RSS when attached', 'peak RSS 1st/2nd half', 'peak JS 1st/2nd half', 'generator ev/s', 'delivered', 'ev/s', 'dropped (kernel)', 'lost in-band', 'loop blocked', 'stop took'],
        [[
          `${(c.max_rss_kb / 1024).toFixed(1)} MB`,
          `${((c.rss_ready_kb ?? 0) / 1024).toFixed(1)} MB`,
          c.memory ? `${mb(c.memory.rss_first_half_kb)} / ${mb(c.memory.rss_second_half_kb)}` : '-',
          c.memory ? `${mb(c.memory.js_first_half_kb)} / ${mb(c.memory.js_second_half_kb)}` : '-',
          fmtRate(r.memory.generator.rate),
          fmtCount(c.delivered),
          fmtRate(c.rate),
          fmtCount(c.dropped),
          fmtCount(c.lost_count ?? 0),
          `${((c.loop_max_gap_ms ?? 0) / 1000).toFixed(1)}s`,
          `${((c.stop_ms ?? 0) / 1000).toFixed(1)}s`,
        ]],
      ),
    );
  }

  if (r.breakdown?.length) {
    out.push('', 'BREAKDOWN per event in JS, no kernel (one process, batches of 4096 records): where the kmon path spends its time');
    const stages = [...new Set(r.breakdown.map((b) => b.stage))];
    const cell = (stage: string, payload: number) => {
      const b = r.breakdown!.find((x) => x.stage === stage && x.payload === payload);
      return b ? `${Math.round(b.nsPerEvent)} ns (gc ${Math.round(b.gcPct)}%)` : '-';
    };
    out.push(table(['stage', '64 B records', '320 B records'], stages.map((s) => [s, cell(s, 0), cell(s, 256)])));
  }

  if (r.errors.length) out.push('', 'FAILED SCENARIOS (their figures are missing above)', ...r.errors.map((e) => `  ${e}`));

  out.push('', 'TARGETS');
  out.push(table(['target', 'figure', ''], targets(r).map((t) => [t.name, t.figure, verdict(t.ok)])));
  return out.join('\n');
}
