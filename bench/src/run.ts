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

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const LOADGEN = here('../build/loadgen');
export const C_CONSUMER = here('../build/consumer');
/** KMON_BENCH_CONSUMER: another kmon-consumer.js (e.g. a copy wired to a patched @kmon/core, for A/B runs). */
export const KMON_CONSUMER = process.env.KMON_BENCH_CONSUMER ?? here('./kmon-consumer.js');

/** CPUs: the generator and the consumer each get their own (2-core machine). */
export const CPUS = { generator: '1', consumer: '0' };

export interface GeneratorResult {
  pid: number;
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
  mode: Mode;
  payload: number;
  /** Generator calls per second; 0 saturates. */
  rate: number;
  durationS: number;
  latency?: boolean;
  slowNs?: number;
  /** kmon: sample memory per batch. */
  memory?: boolean;
  /**
   * Run the consumer SCHED_FIFO (chrt -f 10) and unpinned: latency without
   * the scheduler slices of other load (EEVDF lets a woken task wait ~3 ms).
   * Unpinned because node's V8 worker threads inherit SCHED_FIFO: on one
   * pinned CPU a background JIT compile would hold the main thread off for
   * its whole length (~50 ms seen), which is an artefact, not kmon.
   */
  boost?: boolean;
  /** kmon: extra session options. */
  options?: Record<string, unknown>;
  /** Extra node flags for the kmon child (e.g. --cpu-prof). */
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
  const genArgs = ['-c', CPUS.generator, LOADGEN, '--rate', String(spec.rate), '--duration', String(spec.durationS)];
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
        cmd = [C_CONSUMER, '--tgid', String(tgid), '--mode', spec.mode, '--payload', String(spec.payload)];
        if (spec.latency) cmd.push('--latency');
      } else {
        const args: KmonConsumerArgs = {
          tgid,
          mode: spec.mode,
          payload: spec.payload,
          latency: spec.latency ?? false,
          slowNs: spec.slowNs ?? 0,
          memory: spec.memory ?? false,
          ...(spec.options ? { options: spec.options } : {}),
        };
        cmd = [process.execPath, ...(spec.nodeFlags ?? []), KMON_CONSUMER, JSON.stringify(args)];
      }
      const [exe, ...rest] = spec.boost ? ['chrt', '-f', '10', ...cmd] : ['taskset', '-c', CPUS.consumer, ...cmd];
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
