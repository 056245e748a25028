// Runs one scenario: a pinned load generator and a pinned consumer (the C
// reference or a kmon child process), started in the order the protocol
// needs: consumer attached to the generator's pid first, then "go".
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { LatencySummary } from './hist.js';
import type { KmonConsumerArgs } from './kmon-consumer.js';

export type Mode = 'each' | 'adaptive' | 'poll';
export type ConsumerKind = 'c' | 'kmon';
/** What the generator calls in its loop (bench/c/loadgen.c --call). */
export type Call = 'getppid' | 'open' | 'connect';
/**
 * How the consumer is scheduled: fifo = SCHED_FIFO (chrt -f 10), unpinned;
 * pinned = plain scheduling on its own CPU (taskset); plain = what users run:
 * plain scheduling, unpinned.
 */
export type Sched = 'fifo' | 'pinned' | 'plain';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const LOADGEN = here('../build/loadgen');
export const C_CONSUMER = here('../build/consumer');
/** KMON_BENCH_CONSUMER: another kmon-consumer.js (e.g. a copy wired to a patched @kmon/core, for A/B runs). */
export const KMON_CONSUMER = process.env.KMON_BENCH_CONSUMER ?? here('./kmon-consumer.js');
/** The file the `open` generator opens: its own binary, a real file at a real path. */
export const OPEN_PATH = LOADGEN;

/** CPUs: the generator and the consumer each get their own (2-core machine). */
export const CPUS = { generator: '1', consumer: '0' };

export interface GeneratorResult {
  pid: number;
  call: Call;
  rate_target: number;
  calls: number;
  elapsed_ns: number;
  rate: number;
  late_ticks: number;
  cpu_user_us: number;
  cpu_sys_us: number;
  /** Generator CPU (user + sys) per getppid() call: immune to it being descheduled. */
  cpu_ns_per_call: number;
  /** Involuntary context switches: other work took the generator's CPU. */
  nivcsw: number;
}

export interface ConsumerResult {
  consumer: ConsumerKind;
  mode: Mode;
  payload: number;
  delivered: number;
  /** Delivered per second while the generator ran (first to last drain). */
  rate: number;
  attempted: number;
  dropped: number;
  /** kmon only: loss notices delivered in-band and the records they count. */
  lost_notices?: number;
  lost_count?: number;
  cpu_user_us: number;
  cpu_sys_us: number;
  /** kmon: events delivered when cpu_* were read (before the stop); C reads them after its final drain. */
  delivered_at_cpu?: number;
  /** kmon: CPU (user + sys) and events from its first 50k events (warm: V8 has compiled the path) to the stop. */
  steady_cpu_us?: number;
  steady_events?: number;
  max_rss_kb: number;
  rss_ready_kb?: number;
  latency?: LatencySummary;
  /** kmon: longest gap between ticks of a 10 ms timer (event loop blocked). */
  loop_max_gap_ms?: number;
  /** From SIGTERM to exit (the consumer drains what is left first). */
  stop_ms?: number;
  memory?: {
    samples: number;
    rss_first_half_kb: number;
    rss_second_half_kb: number;
    js_first_half_kb: number;
    js_second_half_kb: number;
  };
  [key: string]: unknown;
}

export interface ScenarioSpec {
  consumer: ConsumerKind | 'none';
  /** The generator's call; getppid by default. */
  call?: Call;
  /**
   * The kinds the session asks for; ['synth'] by default (the generator's
   * getppid() calls as records). Any other kinds are watched for the
   * generator's pid only (a process filter), so the machine's other
   * processes add no records. The C consumer takes one kind: synth, open or
   * connect.
   */
  kinds?: string[];
  /** kmon: filters.file / filters.network of the session. */
  filters?: Record<string, unknown>;
  mode: Mode;
  payload: number;
  /** Generator calls per second; 0 saturates. */
  rate: number;
  durationS: number;
  latency?: boolean;
  /** With latency: also read the consumer's run delay per wakeup, for "where the p99 goes" (costs a /proc read per wakeup). */
  probe?: boolean;
  slowNs?: number;
  /** kmon: sample memory per batch. */
  memory?: boolean;
  /**
   * How the consumer is scheduled; pinned by default. fifo: latency without
   * the scheduler slices of other load (EEVDF lets a woken task wait ~3 ms),
   * unpinned because node's V8 worker threads inherit SCHED_FIFO: on one
   * pinned CPU a background JIT compile would hold the main thread off for
   * its whole length (~50 ms seen), which is an artefact, not kmon.
   */
  sched?: Sched;
  /** kmon: extra session options. */
  options?: Record<string, unknown>;
  /** kmon: write a CPU profile of the run (from attach to stop) to this file. */
  profile?: string;
  /** kmon: node flags for the child (what a user can tune, e.g. --max-semi-space-size=64). */
  nodeFlags?: string[];
}

export interface ScenarioResult {
  spec: ScenarioSpec;
  generator: GeneratorResult;
  consumer?: ConsumerResult;
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buf = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
}

function collectStderr(child: ChildProcess): () => string {
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    err = (err + chunk).slice(-4000);
  });
  return () => err;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return once(child, 'exit').then(([code]) => code as number | null);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  const call = spec.call ?? 'getppid';
  const genArgs = ['-c', CPUS.generator, LOADGEN, '--call', call, '--path', OPEN_PATH, '--rate', String(spec.rate), '--duration', String(spec.durationS)];
  const gen = spawn('taskset', genArgs, { stdio: ['pipe', 'pipe', 'pipe'] });
  const genErr = collectStderr(gen);
  let genOut = '';
  lines(gen, (l) => (genOut = l));
  const genExit = exited(gen);
  await once(gen, 'spawn');
  const tgid = gen.pid!;

  let consumer: ChildProcess | undefined;
  let consumerLast = '';
  let consumerErr = () => '';
  let consumerExit: Promise<number | null> | undefined;
  try {
    if (spec.consumer !== 'none') {
      let cmd: string[];
      if (spec.consumer === 'c') {
        const [kind = 'synth', ...more] = spec.kinds ?? [];
        if (more.length) throw new Error(`the C consumer takes one kind, not ${spec.kinds!.join(',')}`);
        cmd = [C_CONSUMER, '--tgid', String(tgid), '--kind', kind, '--mode', spec.mode, '--payload', String(spec.payload)];
        if (spec.latency) cmd.push('--latency');
        if (spec.probe) cmd.push('--probe');
      } else {
        const args: KmonConsumerArgs = {
          tgid,
          kinds: spec.kinds ?? ['synth'],
          ...(spec.filters ? { filters: spec.filters } : {}),
          mode: spec.mode,
          payload: spec.payload,
          latency: spec.latency ?? false,
          probe: spec.probe ?? false,
          slowNs: spec.slowNs ?? 0,
          memory: spec.memory ?? false,
          ...(spec.options ? { options: spec.options } : {}),
          ...(spec.profile ? { profile: spec.profile } : {}),
        };
        cmd = [process.execPath, ...(spec.nodeFlags ?? []), KMON_CONSUMER, JSON.stringify(args)];
      }
      const sched = { fifo: ['chrt', '-f', '10'], pinned: ['taskset', '-c', CPUS.consumer], plain: [] }[spec.sched ?? 'pinned'];
      const [exe, ...rest] = [...sched, ...cmd];
      consumer = spawn(exe!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
      consumerErr = collectStderr(consumer);
      consumerExit = exited(consumer);
      const ready = new Promise<void>((resolve, reject) => {
        lines(consumer!, (l) => {
          if (l === 'ready') resolve();
          else if (l.trim()) consumerLast = l;
        });
        consumerExit!.then((code) => reject(new Error(`consumer exited (${code}) before ready: ${consumerErr()}`)));
        setTimeout(() => reject(new Error(`consumer not ready after 20 s: ${consumerErr()}`)), 20_000).unref();
      });
      await ready;
    }
    gen.stdin!.end('go\n');
    const code = await genExit;
    if (code !== 0) throw new Error(`loadgen exited ${code}: ${genErr()}`);
    const generator = JSON.parse(genOut) as GeneratorResult;
    if (!consumer) return { spec, generator };

    await sleep(100);
    const stopAt = performance.now();
    consumer.kill('SIGTERM');
    const timeout = setTimeout(() => consumer!.kill('SIGKILL'), 60_000);
    const ccode = await consumerExit!;
    const stopMs = performance.now() - stopAt;
    clearTimeout(timeout);
    if (ccode !== 0) throw new Error(`${spec.consumer} consumer exited ${ccode}: ${consumerErr()}`);
    const result = JSON.parse(consumerLast) as ConsumerResult;
    result.stop_ms = Math.round(stopMs);
    // One drain that never ran dry (a slow consumer of a saturated ring): no span to measure.
    if (!result.rate && result.delivered) result.rate = (result.delivered * 1e9) / generator.elapsed_ns;
    return { spec, generator, consumer: result };
  } finally {
    if (gen.exitCode === null) gen.kill('SIGKILL');
    if (consumer && consumer.exitCode === null) consumer.kill('SIGKILL');
  }
}
