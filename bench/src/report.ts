// Tables and targets (PASS/MISS beside the figures; the bench asserts nothing).
import { FAMILIES, type Family } from './families.js';
import type { MicroRow } from './micro.js';
import { OPEN_PATH, type Call, type ConsumerResult, type GeneratorResult, type Mode, type ScenarioResult, type Sched } from './run.js';

/** A traced run and the untraced runs of the same call just before and after it. */
export interface Bracketed {
  traced: ScenarioResult | undefined;
  untraced: ScenarioResult[];
}

/** The runs of one syscall family (FILE, NETWORK), all adaptive and saturating. */
export interface FamilyRuns {
  /** getppid() with a session of the family's kinds attached: the cost to unrelated syscalls. */
  unrelated: Bracketed;
  /** The family's call, dropped in the kernel by the family's filter. */
  filtered: Bracketed;
  /** The family's call, emitted: to the C consumer, and to kmon. */
  emittedC: Bracketed;
  emitted: Bracketed;
}

export interface BenchResults {
  machine: Record<string, unknown>;
  throughput: ScenarioResult[];
  sustained: ScenarioResult[];
  /** Every latency run; spec.sched tells how the consumer was scheduled. */
  latency: ScenarioResult[];
  /** `each`, 10k ev/s, plain scheduling, unpinned, with the run delay read per wakeup (spec.probe). */
  where: ScenarioResult[];
  /** The generator with nothing attached (OVERHEAD's baseline). */
  untraced: { getppid?: ScenarioResult };
  families: Partial<Record<Family['name'], FamilyRuns>>;
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
const cpuPerEvent = (c: ConsumerResult) => {
  const events = c.delivered_at_cpu ?? c.delivered;
  return events ? ((c.cpu_user_us + c.cpu_sys_us) * 1e3) / events : 0;
};
/**
 * kmon CPU per event once warm (after its first WARM_EVENTS, see kmon-consumer.ts),
 * or the whole run's when the run was too short to tell: the figure targets are
 * judged on. The C consumer has no warm-up, so its whole run is its steady state.
 */
const steadyCpuPerEvent = (c: ConsumerResult) =>
  c.steady_events ? (c.steady_cpu_us! * 1e3) / c.steady_events : cpuPerEvent(c);
const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a ' : ok ? 'PASS' : 'MISS');

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const drops = (c: ConsumerResult) =>
  c.consumer === 'kmon' ? `${fmtCount(c.dropped)} (${fmtCount(c.lost_count ?? 0)} in-band)` : fmtCount(c.dropped);

function find(list: ScenarioResult[], consumer: string, mode: Mode, payload: number, rate?: number, sched?: Sched) {
  return list.find(
    (r) =>
      r.spec.consumer === consumer &&
      r.spec.mode === mode &&
      r.spec.payload === payload &&
      (rate === undefined || r.spec.rate === rate) &&
      (sched === undefined || (r.spec.sched ?? 'pinned') === sched),
  );
}

/** The latency runs' main scheduling: fifo, or pinned with --no-boost. */
const mainSched = (r: BenchResults): Sched => r.latency[0]?.spec.sched ?? 'pinned';

/** What the traced process pays per call: CPU (robust on a busy machine) and wall-clock. */
function addedCost(traced: GeneratorResult, untraced: GeneratorResult) {
  return { cpu: traced.cpu_ns_per_call - untraced.cpu_ns_per_call, wall: 1e9 / traced.rate - 1e9 / untraced.rate };
}

/**
 * A bracketed run's cost against the mean of its untraced runs, and the
 * spread of those (how far the machine drifted meanwhile: the figure's noise).
 */
function bracketedCost(b: Bracketed | undefined) {
  const g = b?.traced?.generator;
  if (!g || !b.untraced.length) return undefined;
  const cpu = b.untraced.map((u) => u.generator.cpu_ns_per_call);
  const wall = b.untraced.map((u) => 1e9 / u.generator.rate);
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
  return {
    cpu: g.cpu_ns_per_call - mean(cpu),
    wall: 1e9 / g.rate - mean(wall),
    spread: Math.max(...cpu) - Math.min(...cpu),
  };
}

/** A row of the CPU PER EVENT table: one record type, both consumers, adaptive, saturating. */
interface CpuRow {
  record: string;
  c: ConsumerResult | undefined;
  kmon: ConsumerResult | undefined;
  /** kmon ns per event at most this (undefined: no target). */
  target?: number;
  targetLabel?: string;
}

function cpuRows(r: BenchResults): CpuRow[] {
  const synth = (payload: number, target: number): CpuRow => ({
    record: `synth ${64 + payload} B`,
    c: find(r.throughput, 'c', 'adaptive', payload)?.consumer,
    kmon: find(r.throughput, 'kmon', 'adaptive', payload)?.consumer,
    target,
    targetLabel: `<= ${target} ns`,
  });
  const rows = [synth(0, 150), synth(256, 250)];
  const small = rows[0]!.kmon;
  for (const family of FAMILIES) {
    const runs = r.families[family.name];
    if (!runs) continue;
    const c = runs.emittedC.traced?.consumer;
    const size = c?.delivered ? ` ${Math.round(Number(c.bytes) / c.delivered)} B` : '';
    const row: CpuRow = { record: `${family.cKind}${size}`, c, kmon: runs.emitted.traced?.consumer };
    if (family.name === 'file' && small) Object.assign(row, { target: 2 * steadyCpuPerEvent(small), targetLabel: '<= 2x synth 64 B' });
    rows.push(row);
  }
  return rows;
}

/** The FILE or NETWORK table's rows: load, session, generator figures, cost added per call and its target. */
function familyRows(r: BenchResults, family: Family) {
  const runs = r.families[family.name]!;
  const untracedRow = (load: string, list: Bracketed[]) => {
    const cpu = list.flatMap((b) => b.untraced.map((u) => u.generator.cpu_ns_per_call));
    const rates = list.flatMap((b) => b.untraced.map((u) => u.generator.rate));
    if (!cpu.length) return [load, 'nothing', 'failed', '', '', '', '', ''];
    const range = (xs: number[], f: (x: number) => string) => `${f(Math.min(...xs))}-${f(Math.max(...xs))}`;
    return [load, `nothing (${cpu.length} runs)`, range(rates, fmtRate), range(cpu, (x) => `${Math.round(x)}`), '', '', '', ''];
  };
  const row = (load: string, session: string, b: Bracketed, target?: number) => {
    const g = b.traced?.generator;
    if (!g) return [load, session, 'failed', '', '', '', '', ''];
    const cost = bracketedCost(b);
    return [
      load,
      session,
      fmtRate(g.rate),
      `${Math.round(g.cpu_ns_per_call)}`,
      cost ? `${cost.cpu >= 0 ? '+' : ''}${Math.round(cost.cpu)}` : '',
      cost ? `${Math.round(cost.spread)}` : '',
      cost ? `${cost.wall >= 0 ? '+' : ''}${Math.round(cost.wall)}` : '',
      target === undefined ? '' : `<= ${fmtNs(target)} ${cost ? verdict(cost.cpu <= target) : ''}`,
    ];
  };
  const call = family.callLabel;
  const rate = (b: Bracketed) => (b.traced?.consumer ? `, ${fmtRate(b.traced.consumer.rate)} ev/s` : '');
  return [
    untracedRow('getppid', [runs.unrelated]),
    row('getppid', `${family.name} session (kmon)`, runs.unrelated, UNRELATED_TARGET_NS),
    untracedRow(call, [runs.filtered, runs.emittedC, runs.emitted]),
    row(call, `filtered out (${family.filterLabel})`, runs.filtered),
    row(call, `emitted, C consumer${rate(runs.emittedC)}`, runs.emittedC),
    row(call, `emitted, kmon${rate(runs.emitted)}`, runs.emitted, family.name === 'file' ? EMITTED_OPEN_TARGET_NS : undefined),
  ];
}

/** Cost added per emitted open+close (kmon draining). */
const EMITTED_OPEN_TARGET_NS = 1000;
/** Cost added to a syscall no kmon program watches, by a session of a syscall family. */
const UNRELATED_TARGET_NS = 25;

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
  const lk = find(r.latency, 'kmon', 'each', 0, 10_000, mainSched(r))?.consumer?.latency;
  const lc = find(r.latency, 'c', 'each', 0, 10_000, mainSched(r))?.consumer?.latency;
  out.push({ name: `latency p99 <= 1 ms at 10k ev/s, each (kmon, ${mainSched(r)})`, figure: lk ? fmtNs(lk.p99_ns) : '-', ok: lk ? lk.p99_ns <= 1e6 : undefined });
  const lp = find(r.latency, 'kmon', 'each', 0, 10_000, 'plain')?.consumer?.latency;
  const lpc = find(r.latency, 'c', 'each', 0, 10_000, 'plain')?.consumer?.latency;
  out.push({
    name: 'latency p99 <= 1 ms at 10k ev/s, each (kmon, plain scheduling, unpinned)',
    figure: lp ? `${fmtNs(lp.p99_ns)}${lpc ? ` (C: ${fmtNs(lpc.p99_ns)})` : ''}` : '-',
    ok: lp ? lp.p99_ns <= 1e6 : undefined,
  });
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
  for (const row of cpuRows(r)) {
    if (row.target === undefined) continue;
    const k = row.kmon ? steadyCpuPerEvent(row.kmon) : undefined;
    out.push({
      name: `kmon CPU per event ${row.targetLabel}, ${row.record} (adaptive)`,
      figure: k === undefined ? '-' : `${Math.round(k)} ns${row.c ? ` (C: ${Math.round(cpuPerEvent(row.c))} ns)` : ''}`,
      ok: k === undefined ? undefined : k <= row.target,
    });
  }
  for (const family of FAMILIES) {
    const cost = bracketedCost(r.families[family.name]?.unrelated);
    out.push({
      name: `<= ${UNRELATED_TARGET_NS} ns added to an unrelated syscall, ${family.name} session`,
      figure: cost ? `${Math.round(cost.cpu)} ns (baselines ${Math.round(cost.spread)} ns apart)` : '-',
      ok: cost ? cost.cpu <= UNRELATED_TARGET_NS : undefined,
    });
  }
  const perOpen = bracketedCost(r.families.file?.emitted);
  out.push({
    name: `<= ${fmtNs(EMITTED_OPEN_TARGET_NS)} added per emitted open+close (kmon draining)`,
    figure: perOpen ? `${fmtNs(perOpen.cpu)} (baselines ${Math.round(perOpen.spread)} ns apart)` : '-',
    ok: perOpen ? perOpen.cpu <= EMITTED_OPEN_TARGET_NS : undefined,
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
  const u = r.untraced.getppid?.generator;
  if (!u?.rate) return [];
  return r.throughput
    .filter((t) => t.spec.payload === 0 && t.consumer)
    .map((t) => {
      const cost = addedCost(t.generator, u);
      return {
        consumer: t.spec.consumer,
        mode: t.spec.mode,
        payload: t.spec.payload,
        tracedRate: t.generator.rate,
        nsPerEvent: cost.cpu,
        nsPerEventWall: cost.wall,
        tracedCpuNs: t.generator.cpu_ns_per_call,
        dropped: t.consumer!.dropped,
      };
    });
}

export function report(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`kmon bench — ${m.date} — Linux ${m.kernel}, ${m.cpus} CPUs (${m.cpu}), node ${m.node}, ${m.benchSeconds}s, load average ${String(m.loadBefore)} before / ${String(m.loadAfter)} after`);
  out.push('generator pinned to CPU 1, consumer to CPU 0; ring 16 MiB, wakeupBytes 256 KiB, maxLatencyMs 20, pollIntervalMs 10');

  const cpu = cpuRows(r).filter((row) => row.c || row.kmon);
  if (cpu.length) {
    out.push('', 'CPU PER EVENT (the headline: consumer CPU per delivered event, full path — kmon: native -> decode + zod -> rx subscriber; adaptive, saturating generator; kmon once warm, i.e. after its first 50k events, and over the whole run with V8\'s warm-up)');
    const cell = (c: ConsumerResult | undefined) => (c ? `${fmtRate(c.rate)} ev/s  ${Math.round(cpuPerEvent(c))} ns` : '-');
    out.push(
      table(
        ['record', 'C', 'kmon warm', 'kmon whole run', 'kmon/C cpu (warm)', 'target (kmon warm)'],
        cpu.map((row) => [
          row.record,
          cell(row.c),
          row.kmon ? `${Math.round(steadyCpuPerEvent(row.kmon))} ns` : '-',
          cell(row.kmon),
          row.c && row.kmon ? `${(steadyCpuPerEvent(row.kmon) / cpuPerEvent(row.c)).toFixed(1)}x` : '-',
          row.target === undefined ? '' : `${row.targetLabel}${row.kmon ? ` ${verdict(steadyCpuPerEvent(row.kmon) <= row.target)}` : ''}`,
        ]),
      ),
    );
  }

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
    const main = mainSched(r);
    out.push('', `LATENCY kernel timestamp -> consumer callback (64 B records, paced generator, ${r.latency[0]!.spec.durationS}s each): p50 / p99 / p99.9`);
    const rows: string[][] = [];
    const SCHED_LABEL: Record<Sched, string> = { fifo: 'SCHED_FIFO, unpinned', plain: 'plain, unpinned', pinned: 'plain, pinned' };
    const order: Array<[Mode, Sched]> = [['each', main], ['adaptive', main], ['poll', main], ['each', 'plain'], ['each', 'pinned']];
    for (const [mode, sched] of order.filter(([m, s], i) => order.findIndex(([m2, s2]) => m2 === m && s2 === s) === i)) {
      for (const rate of [1_000, 10_000, 100_000]) {
        const c = find(r.latency, 'c', mode, 0, rate, sched);
        const k = find(r.latency, 'kmon', mode, 0, rate, sched);
        if (!c?.consumer?.latency || !k?.consumer?.latency) continue;
        const l = (x: ConsumerResult) => `${fmtNs(x.latency!.p50_ns)} / ${fmtNs(x.latency!.p99_ns)} / ${fmtNs(x.latency!.p999_ns)}`;
        rows.push([
          mode,
          SCHED_LABEL[sched],
          fmtRate(rate),
          `${fmtRate(c.generator.rate)} / ${fmtRate(k.generator.rate)}`,
          l(c.consumer),
          l(k.consumer),
          `${(k.consumer.latency.p50_ns / c.consumer.latency.p50_ns).toFixed(2)}x`,
          `${fmtCount(c.consumer.dropped)} / ${fmtCount(k.consumer.dropped)}`,
          k.consumer.latency.gc ? `${k.consumer.latency.gc.count}, ${fmtNs(k.consumer.latency.gc.max_ns)}` : '-',
          (cpuPerEvent(k.consumer) / 1e3).toFixed(1),
        ]);
      }
    }
    out.push(table(['mode', 'consumer scheduling', 'rate', 'achieved C/kmon', 'C', 'kmon', 'kmon/C p50', 'drops C/kmon', 'kmon GC: n, longest', 'kmon µs CPU/ev'], rows));
    out.push('(plain: ordinary scheduling (CFS/EEVDF), what users run; pinned: on CPU 0, sharing it with whatever else runs there)');
  }
  if (r.where.length) out.push('', ...whereTable(r.where));

  const oh = overheadRows(r);
  if (oh.length) {
    const u = r.untraced.getppid!.generator;
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

  for (const family of FAMILIES) {
    if (!r.families[family.name]) continue;
    const what = family.call === 'open' ? ` of ${OPEN_PATH}` : ' to a closed port on 127.0.0.1';
    out.push(
      '',
      `${family.name.toUpperCase()} what a ${family.name} session (kinds ${family.kinds.join(', ')}; the generator's pid only; adaptive) costs the traced process: generator ${family.callLabel}${what} or getppid(), saturating; added = CPU ns/call traced - the mean of the untraced runs just before and after (baselines apart: their difference, the noise), and the same from wall-clock rates`,
    );
    out.push(table(['load', 'session', 'calls/s', 'CPU ns/call', 'added (CPU)', 'baselines apart', 'added (wall)', 'target'], familyRows(r, family)));
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
    const sorts = [...new Set(r.breakdown.map((b) => b.records))];
    const cell = (stage: string, records: string) => {
      const b = r.breakdown!.find((x) => x.stage === stage && x.records === records);
      return b ? `${Math.round(b.nsPerEvent)} ns (gc ${Math.round(b.gcPct)}%)` : '-';
    };
    out.push(table(['stage', ...sorts], stages.map((s) => [s, ...sorts.map((sort) => cell(s, sort))])));
  }

  if (r.errors.length) out.push('', 'FAILED SCENARIOS (their figures are missing above)', ...r.errors.map((e) => `  ${e}`));

  out.push('', 'TARGETS');
  out.push(table(['target', 'figure', ''], targets(r).map((t) => [t.name, t.figure, verdict(t.ok)])));
  return out.join('\n');
}

/**
 * WHERE THE p99 GOES: the events at or above the p99 of a probed run, their
 * mean latency split by cause (src/latency-probe.ts; the C consumer tells its
 * wait for a CPU only, the rest being its wakeup and drain).
 */
function whereTable(runs: ScenarioResult[]): string[] {
  const share = (ns: number | undefined, of: number) => (ns === undefined ? '-' : `${fmtNs(ns)} ${Math.round((100 * ns) / of)}%`);
  const rows = runs.flatMap((run) => {
    const c = run.consumer;
    const l = c?.latency;
    const w = l?.where;
    if (!c || !l || !w || !w.events) return [];
    const known = (w.cpu_wait_ns ?? 0) + (w.gc_ns ?? 0) + (w.js_ns ?? 0);
    return [
      [
        [c.consumer, ...(run.spec.nodeFlags ?? [])].join(' '),
        `${fmtNs(l.p50_ns)} / ${fmtNs(l.p99_ns)} / ${fmtNs(l.p999_ns)}`,
        `${w.events}`,
        fmtNs(w.latency_ns),
        share(w.cpu_wait_ns, w.latency_ns),
        share(w.gc_ns, w.latency_ns),
        share(w.loop_ns ?? w.latency_ns - known, w.latency_ns),
        share(w.js_ns, w.latency_ns),
        (cpuPerEvent(c) / 1e3).toFixed(1),
        l.gc ? `${l.gc.count}, ${fmtNs(l.gc.max_ns)}` : '-',
      ],
    ];
  });
  if (!rows.length) return [];
  return [
    `WHERE THE p99 GOES (each, ${fmtRate(runs[0]!.spec.rate)} ev/s, plain scheduling, unpinned, ${runs[0]!.spec.durationS}s; each consumer reads its run delay per wakeup, which costs it CPU): mean per event of the events at or above the p99`,
    table(['consumer', 'p50 / p99 / p99.9', 'events', 'latency', 'waiting for a CPU', 'GC pauses', 'between batches', 'JS running', 'µs CPU/ev', 'GC: n, longest'], rows),
    '(waiting for a CPU: runnable, not running (the thread\'s run delay); between batches: the wakeup, libuv, the addon\'s drain, other loop work, sleeping; JS running: delivering this event\'s batch up to it and the batches before it since it was sent (decode, context, rx, subscriber). C tells its wait for a CPU only)',
  ];
}
