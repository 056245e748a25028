// pnpm bench: the full kmon path against a C libbpf consumer of the same BPF
// object, every figure from this one run. See bench/README.md.
//
//   node dist/main.js [--json] [--quick] [--no-boost] [--only throughput,sustained,latency,where,overhead,file,network,memory,breakdown]
//                     [--profile DIR] [--node-flags "FLAGS"]
//   --node-flags: node flags for every kmon child (e.g. "--max-semi-space-size=64"), to measure what they buy.
//   Latency consumers run SCHED_FIFO (unpinned) so other load's scheduler slices do not
//   hide kmon's own latency; `each` is also run with plain scheduling, unpinned (what users
//   run) at every rate, and pinned at 10k ev/s.
//   --no-boost: every latency run with plain scheduling (pinned, CFS).
//   where: `each` at 10k ev/s, plain scheduling, unpinned, again, each consumer reading its
//   run delay per wakeup: where the time of the events at or above the p99 went.
//   KMON_BENCH_CONSUMER=path/to/kmon-consumer.js: A/B a patched kmon path.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { report, type BenchResults, type Bracketed } from './report.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MicroRow } from './micro.js';
import { FAMILIES } from './families.js';
import { CPUS, runScenario, type Call, type ConsumerKind, type Mode, type ScenarioResult, type ScenarioSpec } from './run.js';

const SECTIONS = ['throughput', 'sustained', 'latency', 'where', 'overhead', 'file', 'network', 'memory', 'breakdown'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: string[]) {
  const opts = {
    json: false,
    quick: false,
    boost: true,
    only: new Set<Section>(SECTIONS),
    profile: undefined as string | undefined,
    nodeFlags: [] as string[],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') continue; // `pnpm bench -- --json` passes the separator through
    if (a === '--json') opts.json = true;
    else if (a === '--quick') opts.quick = true;
    else if (a === '--no-boost') opts.boost = false;
    else if (a === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      for (const n of names) if (!SECTIONS.includes(n as Section)) throw new Error(`--only: unknown section ${n}`);
      opts.only = new Set(names as Section[]);
    } else if (a === '--profile') opts.profile = argv[++i];
    else if (a === '--node-flags') opts.nodeFlags = (argv[++i] ?? '').split(' ').filter(Boolean);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node dist/main.js [--json] [--quick] [--no-boost] [--only ' + SECTIONS.join(',') + '] [--profile DIR] [--node-flags "FLAGS"]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

export const MODES: Mode[] = ['each', 'adaptive', 'poll'];
export const CONSUMERS: ConsumerKind[] = ['c', 'kmon'];
/** Small records (header + body, 64 B) and path-sized ones (256 B of payload, decoded as a string). */
export const PAYLOADS = [0, 256];
export const LATENCY_RATES = [1_000, 10_000, 100_000];
/** The node flag the `where` section also measures kmon with. */
export const SINGLE_THREADED_GC = '--single-threaded-gc';

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) console.error('bench: not root; loading BPF programs will probably fail');
  if (availableParallelism() < 2) console.error('bench: fewer than 2 CPUs; generator and consumer share one');
  const scale = opts.quick ? 0.34 : 1;
  const dur = (s: number) => Math.max(0.5, +(s * scale).toFixed(2));
  const results: BenchResults = {
    machine: {},
    throughput: [],
    sustained: [],
    latency: [],
    where: [],
    untraced: {},
    families: {},
    memory: undefined,
    breakdown: undefined,
    errors: [],
  };
  results.machine = await machineInfo();
  const started = Date.now();
  const log = (s: string) => {
    if (!opts.json) process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${s}\n`);
  };
  // A failed scenario is reported and skipped: the rest of the run goes on.
  const run = async (scenario: ScenarioSpec): Promise<ScenarioResult | undefined> => {
    const spec = scenario.consumer === 'kmon' && opts.nodeFlags.length && !scenario.nodeFlags ? { ...scenario, nodeFlags: opts.nodeFlags } : scenario;
    const watching = spec.kinds ? ` [${spec.kinds.join(',')}]${spec.filters ? ' filtered' : ''}` : '';
    const flags = spec.nodeFlags?.length ? ` ${spec.nodeFlags.join(' ')}` : '';
    const what = `${spec.consumer}${flags}${watching} ${spec.call ?? 'getppid'} ${spec.mode} payload=${spec.payload} rate=${spec.rate || 'max'} ${spec.sched ?? ''}${spec.probe ? ' probe' : ''} ${spec.durationS}s`;
    log(what);
    for (let attempt = 1; ; attempt++) {
      try {
        return await runScenario(spec);
      } catch (error) {
        const message = (error as Error).message.split('\n')[0]!;
        // A consumer that could not even attach (e.g. the addon being rebuilt): one retry.
        if (attempt === 1 && message.includes('before ready')) {
          log(`retrying in 10s: ${message}`);
          await new Promise((r) => setTimeout(r, 10_000));
          continue;
        }
        log(`FAILED ${what}: ${message}`);
        results.errors.push(`${what}: ${message}`);
        return undefined;
      }
    }
  };
  const push = (list: ScenarioResult[], r: ScenarioResult | undefined) => {
    if (r) list.push(r);
  };
  if (opts.profile) mkdirSync(opts.profile, { recursive: true });
  const profileAs = (name: string) => (opts.profile ? { profile: join(opts.profile, `${name}.cpuprofile`) } : {});

  const untraced = (call: Call) => run({ consumer: 'none', call, mode: 'adaptive', payload: 0, rate: 0, durationS: dur(2) });
  if (opts.only.has('overhead')) results.untraced.getppid = await untraced('getppid');
  if (opts.only.has('throughput') || opts.only.has('overhead')) {
    for (const mode of MODES) {
      for (const payload of PAYLOADS) {
        for (const consumer of CONSUMERS) {
          const spec: ScenarioSpec = { consumer, mode, payload, rate: 0, durationS: dur(3) };
          if (consumer === 'kmon') Object.assign(spec, profileAs(`throughput-${mode}-${payload}`));
          push(results.throughput, await run(spec));
        }
      }
    }
  }
  if (opts.only.has('sustained')) {
    for (const consumer of CONSUMERS) {
      push(results.sustained, await run({ consumer, mode: 'adaptive', payload: 0, rate: 1_000_000, durationS: dur(10) }));
    }
  }
  if (opts.only.has('latency')) {
    const latency = async (mode: Mode, rate: number, sched: ScenarioSpec['sched']) => {
      for (const consumer of CONSUMERS) push(results.latency, await run({ consumer, mode, payload: 0, rate, durationS: dur(2), latency: true, sched }));
    };
    for (const mode of MODES) for (const rate of LATENCY_RATES) await latency(mode, rate, opts.boost ? 'fifo' : 'pinned');
    if (opts.boost) {
      for (const rate of LATENCY_RATES) await latency('each', rate, 'plain');
      await latency('each', 10_000, 'pinned');
    }
  }
  if (opts.only.has('where')) {
    const probed: ScenarioSpec = { consumer: 'c', mode: 'each', payload: 0, rate: 10_000, durationS: dur(2), latency: true, probe: true, sched: 'plain' };
    for (const consumer of CONSUMERS) push(results.where, await run({ ...probed, consumer }));
    // What a user can tune: GC only on the JS thread (no parallel scavenge waiting for helper threads that wait for a CPU).
    push(results.where, await run({ ...probed, consumer: 'kmon', nodeFlags: [...opts.nodeFlags, SINGLE_THREADED_GC] }));
  }
  for (const family of FAMILIES) {
    if (!opts.only.has(family.name)) continue;
    // Every traced run sits between two untraced runs of the same call (consecutive
    // traced runs share the one between them): the machine's drift over the run
    // shows as the spread of the two, and the cost is measured against their mean.
    const last: Partial<Record<Call, ScenarioResult>> = {};
    const bracketed = async (spec: Omit<ScenarioSpec, 'mode' | 'payload' | 'rate' | 'durationS'>): Promise<Bracketed> => {
      const call = spec.call ?? 'getppid';
      const before = last[call] ?? (last[call] = await untraced(call));
      const traced = await run({ mode: 'adaptive', payload: 0, rate: 0, durationS: dur(3), ...spec });
      const after = (last[call] = await untraced(call));
      return { traced, untraced: [before, after].filter((u): u is ScenarioResult => u !== undefined) };
    };
    results.families[family.name] = {
      unrelated: await bracketed({ consumer: 'kmon', call: 'getppid', kinds: family.kinds }),
      filtered: await bracketed({ consumer: 'kmon', call: family.call, kinds: family.kinds, filters: family.filterOut }),
      emittedC: await bracketed({ consumer: 'c', call: family.call, kinds: [family.cKind] }),
      emitted: await bracketed({ consumer: 'kmon', call: family.call, kinds: family.kinds, ...profileAs(`${family.name}-adaptive`) }),
    };
  }
  if (opts.only.has('memory')) {
    results.memory = await run({
      consumer: 'kmon',
      mode: 'adaptive',
      payload: 256,
      rate: 0,
      durationS: dur(6),
      slowNs: 20_000,
      memory: true,
      ...profileAs('memory-slow'),
    });
  }
  if (opts.only.has('breakdown')) {
    log('breakdown: decode / zod / rx per event, in a child process (no kernel)');
    try {
      const out = execFileSync(
        'taskset',
        ['-c', CPUS.consumer, process.execPath, fileURLToPath(new URL('./micro.js', import.meta.url)), String(Math.round(400 * scale)), '--json'],
        { encoding: 'utf8' },
      );
      results.breakdown = JSON.parse(out.trim().split('\n').pop()!) as MicroRow[];
    } catch (error) {
      results.errors.push(`breakdown: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  results.machine.benchSeconds = Math.round((Date.now() - started) / 1000);
  results.machine.loadAfter = (await import('node:os')).loadavg().map((l) => +l.toFixed(2));
  if (opts.json) console.log(JSON.stringify(results, null, 2));
  else console.log(report(results));
}

async function machineInfo(): Promise<Record<string, unknown>> {
  const os = await import('node:os');
  return {
    kernel: os.release(),
    cpu: os.cpus()[0]?.model,
    cpus: os.cpus().length,
    node: process.version,
    loadBefore: os.loadavg().map((l) => +l.toFixed(2)),
    date: new Date().toISOString(),
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
