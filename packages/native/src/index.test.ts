// Runs the real driver: needs root (or CAP_BPF+CAP_PERFMON) on a kernel with
// BTF, as in CI. Records are decoded with @kmon/core's decoder, so these
// tests also pin the driver to the ABI the decoder expects.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupRoot } from './linux/filters.js';
import { heldKernelObjects, liveKernelObjects } from './testing.js';
import {
  ABI,
  KmonClosedError,
  KmonDriverError,
  KmonOptionsError,
  KmonPermissionError,
  KmonUnsupportedError,
  decodeBatch,
  parseFilters,
  parseSessionOptions,
  type BatchSink,
  type KernelSession,
  type KmonEvent,
  type SessionOptionsInput,
} from '@kmon/core';
import { bindingInfo, nativeBinding, toKmonError, toNativeConfig, type NativeConfig } from './index.js';

type EventOf<K extends KmonEvent['kind']> = Extract<KmonEvent, { kind: K }>;

/** Decodes every batch; keeps what the tests look at. */
class Collector implements BatchSink {
  readonly events: KmonEvent[] = [];
  readonly errors: Error[] = [];
  readonly faults: unknown[] = [];
  batches = 0;
  private waiters: Array<() => void> = [];

  onBatch(batch: Uint8Array): void {
    this.batches += 1;
    this.take(batch);
    for (const wake of this.waiters.splice(0)) wake();
  }

  onError(error: Error): void {
    this.errors.push(error);
  }

  take(batch: Uint8Array): void {
    const decoded = decodeBatch(batch);
    this.faults.push(...decoded.faults);
    this.events.push(...decoded.events);
  }

  /** Resolves with the first event matching `test` (the test's timeout bounds the wait). */
  async until<E extends KmonEvent>(test: (event: KmonEvent) => event is E): Promise<E> {
    for (;;) {
      const found = this.events.find(test);
      if (found) return found;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

const sessions: KernelSession[] = [];

function open(input: SessionOptionsInput, sink: BatchSink = new Collector()): KernelSession {
  const session = nativeBinding.open(parseSessionOptions(input), sink);
  sessions.push(session);
  return session;
}

/** kmon.node without the TS wrapper, for NativeConfig fields SessionOptions does not have. */
function openRaw(input: SessionOptionsInput, sink: Collector, extra: Partial<NativeConfig>): KernelSession {
  const { Session } = createRequire(import.meta.url)(bindingInfo().addonPath) as {
    Session: new (config: NativeConfig, onBatch: (batch: Uint8Array) => void) => KernelSession;
  };
  const session = new Session({ ...toNativeConfig(parseSessionOptions(input)), ...extra }, (batch) => sink.onBatch(batch));
  sessions.push(session);
  return session;
}

afterEach(() => {
  for (const session of sessions.splice(0)) session.close();
});

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Drains a pull-mode session completely into the collector. */
function drain(session: KernelSession, sink: Collector): void {
  for (let batch = session.read(); batch.length > 0; batch = session.read()) sink.take(batch);
}

const is =
  <K extends KmonEvent['kind']>(kind: K, where: (event: EventOf<K>) => boolean) =>
  (event: KmonEvent): event is EventOf<K> =>
    event.kind === kind && where(event as EventOf<K>);

/** Splits a batch by header sizes: whole records back to back, nothing else. */
function recordSizes(batch: Uint8Array): number[] {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const sizes: number[] = [];
  for (let offset = 0; offset < batch.length; ) {
    const size = view.getUint32(offset + ABI.header.fields.size.offset, true);
    if (size < ABI.header.size || size % ABI.align !== 0) throw new Error(`bad record size ${size} at ${offset}`);
    sizes.push(size);
    offset += size;
  }
  return sizes;
}

const ownKernelObjects = () => heldKernelObjects({ epoll: true });

function bpftool(what: 'prog' | 'map' | 'link'): Array<{ id: number; name?: string; prog_id?: number }> {
  const out = spawnSync('bpftool', ['-j', what, 'show'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`bpftool ${what} show: ${out.stderr}`);
  return JSON.parse(out.stdout || '[]');
}

/** Retries `check` until it passes (the test's own timeout is the real bound). */
async function eventually(check: () => void, attempts = 100): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return check();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Script prelude for a child process or worker that drives kmon.node directly. */
function rawAddonPrelude(wakeup: 'each' | 'poll'): string {
  return `
    const { Session } = require(${JSON.stringify(bindingInfo().addonPath)});
    const config = { kinds: 14, ringBytes: 65536, argvBytes: 0, selfTgid: 0, threads: false, wakeup: '${wakeup}',
      wakeupBytes: 1, maxLatencyMs: 1, pollIntervalMs: 1, batchBytes: ${ABI.limits.recordMax}, synthTgid: 0, synthPayload: 0 };`;
}

describe('nativeBinding (Linux eBPF)', () => {
  it('describes the compiled backend', () => {
    expect(nativeBinding.name).toBe('linux-ebpf');
    expect(bindingInfo()).toMatchObject({ name: 'linux-ebpf', abiVersion: ABI.version, recordMax: ABI.limits.recordMax });
  });

  it('opens, closes idempotently, and refuses use after close', () => {
    const session = open({});
    expect(session.read()).toBeInstanceOf(Uint8Array);
    session.close();
    session.close();
    expect(() => session.read()).toThrow(KmonClosedError);
    expect(session.stats().cpus.length).toBeGreaterThan(0); // the counters read at close
  });

  it('says how full the ring is: the bytes waiting, fewer once read', async () => {
    const session = open({ wakeup: 'poll', pollIntervalMs: 10_000, ringBytes: 1 << 20 });
    expect(session.stats().ring).toEqual({ usedBytes: 0, sizeBytes: 1 << 20 });
    await exited(spawn('sh', ['-c', 'exit 3']));
    const waiting = session.stats().ring!.usedBytes;
    const batch = session.read();
    expect(waiting).toBeGreaterThanOrEqual(batch.length); // each record also has the ring's 8-byte header
    expect(session.stats().ring!.usedBytes).toBeLessThan(waiting);
  });

  it('delivers fork, exec and exit of a child in one pulled batch of whole records', async () => {
    const sink = new Collector();
    const session = open({ wakeup: 'poll', pollIntervalMs: 10_000 }, sink);
    const child = spawn('sh', ['-c', 'exit 3'], { cwd: '/usr/share' });
    await exited(child);
    const batch = session.read(); // the exit tracepoint ran before the parent could reap the child
    expect(recordSizes(batch).reduce((a, b) => a + b, 0)).toBe(batch.length);
    sink.take(batch);
    expect(sink.faults).toEqual([]);

    const pid = child.pid!;
    const fork = sink.events.find(is('fork', (e) => e.childPid === pid));
    const exec = sink.events.find(is('exec', (e) => e.pid === pid));
    const exit = sink.events.find(is('exit', (e) => e.pid === pid));
    expect(fork).toMatchObject({ pid: process.pid, childTid: pid, thread: false });
    expect(exec).toMatchObject({ ppid: process.pid, argv: ['sh', '-c', 'exit 3'], argc: 3, comm: 'sh' });
    expect(exec?.filename).toMatch(/\/sh$/);
    expect(exec?.truncated).toEqual({ filename: false, argv: false, exe: false, cwd: false });
    // The kernel's own view: the executable with symlinks resolved, and the cwd.
    expect(exec?.exe).toBe(realpathSync(execFileSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).trim()));
    expect(exec?.cwd).toBe('/usr/share');
    expect(exit).toMatchObject({ exitCode: 3, signal: 0, coreDumped: false });
    // (pid, start time) names the process across all three records.
    expect(exec?.startTime).toBe(fork?.childStartTime);
    expect(exit?.startTime).toBe(fork?.childStartTime);
    expect(exec?.parentStartTime).toBe(fork?.parentStartTime);
  });

  it('wakes the sink by itself in every wakeup mode', async () => {
    for (const wakeup of ['each', 'adaptive', 'poll'] as const) {
      const sink = new Collector();
      const session = open({ wakeup, maxLatencyMs: 5, pollIntervalMs: 5 }, sink);
      const child = spawn('sh', ['-c', 'exit 0']);
      await sink.until(is('exit', (e) => e.pid === child.pid));
      expect(sink.faults).toEqual([]);
      expect(sink.batches).toBeGreaterThan(0);
      session.close();
    }
  });

  it('adaptive mode wakes the consumer once wakeupBytes wait, not before and not by its timer', { timeout: 5_000 }, async () => {
    const synth = { synthetic: { tgid: process.pid } };
    const probe = open({ ...synth, kinds: ['synth'], wakeup: 'poll' });
    void process.ppid;
    const recordBytes = probe.read().length;
    probe.close();
    // Ring entries carry an 8-byte header: the watermark falls inside the 4th record's data.
    const wakeupBytes = 3 * (recordBytes + 8) + recordBytes;
    const sink = new Collector();
    // The timer (10 s) would outlast the test (5 s): only the kernel's wakeup can deliver in time.
    open({ ...synth, kinds: ['synth'], wakeup: 'adaptive', wakeupBytes, maxLatencyMs: 10_000 }, sink);
    for (let i = 0; i < 3; i++) void process.ppid;
    // A woken ring fd is handled in the loop's poll phase, before the check phase runs immediates.
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(sink.batches, 'records below wakeupBytes wait in the ring').toBe(0);
    void process.ppid;
    await sink.until((e): e is KmonEvent => sink.events.length === 4);
    expect(sink.batches, 'the four records came in one wakeup').toBe(1);
  });

  it('a partial read() leaves the rest to the wakeup already pending', async () => {
    const sink = new Collector();
    const records = 20;
    const session = open(
      { kinds: ['synth'], wakeup: 'each', batchBytes: ABI.limits.recordMax, synthetic: { tgid: process.pid, payloadBytes: 4000 } },
      sink,
    );
    for (let i = 0; i < records; i++) void process.ppid;
    sink.take(session.read()); // one batch: fewer than `records` fit in recordMax bytes
    const pulled = sink.events.length;
    expect(pulled).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(records);
    await sink.until((e): e is KmonEvent => sink.events.length === records); // no new record will wake us
    expect(sink.faults).toEqual([]);
  });

  it('reports the terminating signal', async () => {
    const sink = new Collector();
    open({ kinds: ['exit'] }, sink);
    const child = spawn('sh', ['-c', 'kill -KILL $$']);
    const exit = await sink.until(is('exit', (e) => e.pid === child.pid));
    expect(exit).toMatchObject({ signal: 9, exitCode: 0, coreDumped: false });
  });

  it.each([false, true])('reports one exit per process, also when the main thread exits first (fallback: %s)', async (fallback) => {
    const sink = new Collector();
    const session = openRaw({ kinds: ['exit'], wakeup: 'poll', pollIntervalMs: 10_000 }, sink, { exitFallback: fallback });
    // Fork is loaded too (a process filter set later may need it) but attached only when needed.
    const mine = ownKernelObjects();
    const progs = bpftool('prog').filter((p) => mine.includes(`prog ${p.id}`));
    expect(progs.map((p) => p.name)).toEqual([fallback ? 'kmon_exit_live' : 'kmon_exit', 'kmon_fork']);
    const attached = bpftool('link').filter((l) => mine.includes(`link ${l.id}`));
    expect(attached.map((l) => progs.find((p) => p.id === l.prog_id)?.name)).toEqual([fallback ? 'kmon_exit_live' : 'kmon_exit']);
    // The main thread leaves with pthread_exit; the last thread ends the process with status 7.
    const script = [
      'import ctypes, os, threading, time',
      'threading.Thread(target=lambda: (time.sleep(0.2), os._exit(7))).start()',
      'ctypes.CDLL(None).pthread_exit(None)',
    ].join('\n');
    const child = spawn('python3', ['-c', script]);
    await exited(child);
    drain(session, sink);
    const exits = sink.events.filter(is('exit', (e) => e.pid === child.pid));
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ exitCode: 7, signal: 0 });
  });

  it('excludeSelf drops our own thread clones but keeps our children', async () => {
    const count = async (excludeSelf: boolean) => {
      const sink = new Collector();
      const session = open({ excludeSelf, threads: true, wakeup: 'poll', pollIntervalMs: 10_000 }, sink);
      const worker = new Worker('setTimeout(() => {}, 100)', { eval: true }); // clones threads of this process
      await new Promise((resolve) => worker.once('online', resolve));
      await worker.terminate();
      const child = spawn('sh', ['-c', 'exit 0']);
      await exited(child);
      drain(session, sink);
      session.close();
      const selfThreads = sink.events.filter(is('fork', (e) => e.childPid === process.pid && e.thread));
      const ownChild = sink.events.filter((e) => e.pid === child.pid || (e.kind === 'fork' && e.childPid === child.pid));
      return { selfThreads: selfThreads.length, ownChild: ownChild.length };
    };
    const kept = await count(false);
    expect(kept.selfThreads).toBeGreaterThan(0);
    const excluded = await count(true);
    expect(excluded.selfThreads).toBe(0);
    expect(excluded.ownChild).toBe(3); // fork, exec and exit of our child are still reported
  });

  it('cuts argv at argvBytes and flags it', async () => {
    const sink = new Collector();
    const session = open({ kinds: ['exec'], argvBytes: 16, wakeup: 'poll', pollIntervalMs: 10_000 }, sink);
    const long = 'x'.repeat(100);
    const child = spawn('sh', ['-c', 'exit 0', long]);
    await exited(child);
    drain(session, sink);
    const exec = sink.events.find(is('exec', (e) => e.pid === child.pid));
    expect(exec?.truncated).toEqual({ filename: false, argv: true, exe: false, cwd: false });
    expect(exec?.argv.join('\0')).toBe('sh\0-c\0exit 0\0xxx'); // 16 bytes, NULs included
    expect(exec?.argc).toBe(4);
    const truncated = session.stats().cpus.reduce((sum, cpu) => sum + cpu.truncated, 0);
    expect(truncated).toBeGreaterThanOrEqual(1);
  });

  it('accounts for every synthetic record when the ring overflows', () => {
    const calls = 2000;
    const session = open({
      kinds: ['synth'],
      ringBytes: 64 * 1024,
      wakeup: 'poll',
      pollIntervalMs: 10_000,
      synthetic: { tgid: process.pid, payloadBytes: 1000 },
    });
    for (let i = 0; i < calls; i++) void process.ppid; // one getppid() each, nothing drains meanwhile
    const sink = new Collector();
    const sizes: number[] = [];
    for (let batch = session.read(); batch.length > 0; batch = session.read()) {
      sizes.push(...recordSizes(batch));
      sink.take(batch);
    }
    expect(sink.faults).toEqual([]);
    const synth = sink.events.filter(is('synth', () => true));
    const { cpus } = session.stats();
    const attempted = cpus.reduce((sum, cpu) => sum + cpu.attempted, 0);
    const dropped = cpus.reduce((sum, cpu) => sum + (cpu.dropped[ABI.kinds.synth] ?? 0), 0);

    expect(attempted).toBe(calls);
    expect(dropped).toBeGreaterThan(0);
    expect(synth.length + dropped).toBe(attempted);
    expect(new Set(synth.map((e) => e.value)).size).toBe(synth.length);
    expect(synth.every((e) => e.value < BigInt(calls))).toBe(true);
    expect(new Set(sizes)).toEqual(new Set([ABI.header.size + 16 + 1000])); // synth body + payload, 8-aligned
    // Per CPU, the sequence numbers missing from the ring are exactly the drops there.
    cpus.forEach((cpu, n) => {
      const seen = new Set(synth.filter((e) => e.cpu === n).map((e) => e.seq));
      expect([...seen].every((seq) => seq < cpu.attempted)).toBe(true);
      expect(cpu.attempted - seen.size).toBe(cpu.dropped[ABI.kinds.synth]);
    });
  });

  it.each(['each', 'adaptive', 'poll'] as const)(
    'pause() in %s mode: records wait in the kernel and drop there, counted; resume() delivers what waited',
    async (wakeup) => {
      const calls = 2000; // ~2 MB of records into a 64 KiB ring
      const sink = new Collector();
      const session = open(
        { kinds: ['synth'], ringBytes: 64 * 1024, wakeup, maxLatencyMs: 1, pollIntervalMs: 1, synthetic: { tgid: process.pid, payloadBytes: 1000 } },
        sink,
      );
      session.pause();
      session.pause(); // idempotent
      for (let i = 0; i < calls; i++) void process.ppid;
      // Unpaused, the pending wakeup or the 1 ms timer would deliver within these loop turns.
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(sink.batches).toBe(0);
      const dropped = () => session.stats().cpus.reduce((n, c) => n + (c.dropped[ABI.kinds.synth] ?? 0), 0);
      expect(dropped()).toBeGreaterThan(calls / 2);

      session.resume();
      await eventually(() => expect(sink.events.length + dropped()).toBe(calls));
      expect(sink.events.length).toBeGreaterThan(0);
      expect(sink.faults).toEqual([]);
    },
  );

  it('gives the event loop a turn while a full ring drains, and still delivers every record', async () => {
    const calls = 20_000; // ~1.3 MB of records: dozens of minimum-size batches
    const sink = new Collector();
    const order: string[] = [];
    const session = open(
      {
        kinds: ['synth'],
        ringBytes: 4 * 1024 * 1024,
        batchBytes: ABI.limits.recordMax,
        wakeup: 'poll',
        pollIntervalMs: 1,
        synthetic: { tgid: process.pid },
      },
      {
        onBatch: (batch) => {
          // Scheduled from inside the drain: it runs at the loop's next check phase.
          if (order.length === 0) setImmediate(() => order.push('immediate'));
          order.push('batch');
          sink.onBatch(batch);
        },
        onError: (error) => sink.onError(error),
      },
    );
    for (let i = 0; i < calls; i++) void process.ppid; // the loop cannot run meanwhile: all of it waits in the ring
    await sink.until(is('synth', (e) => e.value === BigInt(calls - 1)));
    const immediate = order.indexOf('immediate');
    expect(immediate, 'the loop ran between batches of one drain').toBeGreaterThan(0);
    expect(immediate).toBeLessThan(order.length - 1);
    expect(sink.events.length + session.stats().cpus.reduce((n, c) => n + (c.dropped[ABI.kinds.synth] ?? 0), 0)).toBe(calls);
  }, 60_000); // 20,000 one-record JS calls: seconds on a loaded shared machine

  it('leaves no program, map, link or fd behind after close', () => {
    const before = ownKernelObjects();
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const session = open({ synthetic: { tgid: process.pid, payloadBytes: 0 } });
    const mine = ownKernelObjects().filter((o) => !before.includes(o));
    const progs = bpftool('prog').filter((p) => mine.includes(`prog ${p.id}`));
    expect(progs.map((p) => p.name).sort()).toEqual(['kmon_exec', 'kmon_exit', 'kmon_fork', 'kmon_synth']);
    expect(mine.filter((o) => o.startsWith('link'))).toHaveLength(4);

    session.close();
    session.close();
    expect(ownKernelObjects()).toEqual(before);
    expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
    // close() waits out the kernel's deferred frees: nothing is left once it returns.
    expect(liveKernelObjects(mine)).toEqual([]);
  });

  it('closes the session and reports to onError when onBatch throws', async () => {
    const boom = new Error('consumer bug');
    const errors: Error[] = [];
    const session = open(
      { wakeup: 'each' },
      {
        onBatch: () => {
          throw boom;
        },
        onError: (error) => errors.push(error),
      },
    );
    spawn('sh', ['-c', 'exit 0']);
    await eventually(() => expect(errors).toEqual([boom]));
    expect(() => session.read()).toThrow(KmonClosedError);
  });
});

/** Resolves once `pid` has a child process, with its pid. */
async function firstChild(pid: number): Promise<number> {
  for (;;) {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (children) return Number(children.split(' ')[0]);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const attempted = (session: KernelSession) => session.stats().cpus.reduce((n, c) => n + c.attempted, 0);

/**
 * sh (P) -> sh (a child already running when the session opens, blocked on
 * stdin) -> echo: P's grandchild and its child run only once `go` writes.
 */
async function processTree(marker: string) {
  const root = spawn('sh', ['-c', `sh -c "read go; /bin/echo ${marker}-grandchild; true"; /bin/echo ${marker}-child`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const child = await firstChild(root.pid!);
  const done = exited(root);
  return { pid: root.pid!, child, go: () => root.stdin!.end('\n'), done };
}

describe('session clock', () => {
  it("an event's time plus realtimeOffsetNs is the wall clock the workload read at that moment (within 5 ms)", () => {
    const session = open({ kinds: ['synth'], wakeup: 'poll', synthetic: { tgid: process.pid } });
    const before = Date.now();
    void process.ppid; // one getppid(): one synth record stamped by the kernel now
    const after = Date.now();
    const sink = new Collector();
    drain(session, sink);
    const [event] = sink.events;
    const { bootId, realtimeOffsetNs } = session.clock();
    const wallMs = Number((event!.time + realtimeOffsetNs) / 1_000_000n);
    expect(wallMs).toBeGreaterThanOrEqual(before - 5);
    expect(wallMs).toBeLessThanOrEqual(after + 5);
    expect(bootId).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    session.close();
    expect(session.clock(), 'still there after close').toEqual({ bootId, realtimeOffsetNs });
  });
});

describe('process filters in the kernel', () => {
  it('pids follows descendants, old and new, and nothing else is ever numbered', async () => {
    const marker = `kmon-subtree-${process.pid}`;
    const tree = await processTree(marker);
    const sink = new Collector();
    const session = open({ kinds: ['exec', 'exit', 'fork'], wakeup: 'each', filters: { process: { pids: [tree.pid] } } }, sink);
    spawnSync('/bin/echo', [`${marker}-unrelated`]); // our child: outside the subtree
    tree.go();
    await tree.done;
    await sink.until(is('exit', (e) => e.pid === tree.pid));

    const execs = sink.events.filter(is('exec', () => true)).map((e) => e.argv.join(' '));
    expect(execs).toEqual([`/bin/echo ${marker}-grandchild`, `/bin/echo ${marker}-child`]);
    const inTree = new Set([tree.pid, tree.child, ...sink.events.flatMap((e) => (e.kind === 'fork' ? [e.childPid] : []))]);
    expect(sink.events.filter((e) => !inTree.has(e.pid))).toEqual([]);
    // The kernel numbered exactly what it delivered: the rest never entered the ring.
    expect(attempted(session)).toBe(sink.events.length);
  });

  it('children: false keeps only the processes named', async () => {
    const marker = `kmon-nochildren-${process.pid}`;
    const tree = await processTree(marker);
    const sink = new Collector();
    const session = open({ kinds: ['exec', 'exit'], wakeup: 'each', filters: { process: { pids: [tree.pid], children: false } } }, sink);
    tree.go();
    await tree.done;
    await sink.until(is('exit', (e) => e.pid === tree.pid));
    expect(sink.events.map((e) => `${e.kind} ${e.pid}`)).toEqual([`exit ${tree.pid}`]);
    expect(attempted(session)).toBe(1);
  });

  it('setFilters changes a running session, attaching fork tracking an exec-only session lacked', async () => {
    const marker = `kmon-live-${process.pid}`;
    const tree = await processTree(marker);
    const sink = new Collector();
    const session = open({ kinds: ['exec'], wakeup: 'each' }, sink);
    session.setFilters(parseFilters({ process: { pids: [tree.pid] } }));
    const before = attempted(session);
    spawnSync('/bin/echo', [`${marker}-unrelated`]);
    tree.go();
    await sink.until(is('exec', (e) => e.argv[1] === `${marker}-child`));
    const execs = sink.events.filter(is('exec', (e) => e.argv[1]?.startsWith(marker) ?? false)).map((e) => e.argv[1]);
    expect(execs).toEqual([`${marker}-grandchild`, `${marker}-child`]);
    expect(attempted(session) - before).toBe(2);

    session.setFilters(parseFilters({})); // off again: everything passes
    spawnSync('/bin/echo', [`${marker}-after`]);
    await sink.until(is('exec', (e) => e.argv[1] === `${marker}-after`));
  });

  it('uids, comms and cgroups (by path, with sub-cgroups) select processes', async () => {
    const cgroup = join(cgroupRoot(), `kmon-test-${process.pid}`);
    mkdirSync(join(cgroup, 'inner'), { recursive: true });
    try {
      const marker = `kmon-sets-${process.pid}`;
      const sink = new Collector();
      const session = open(
        { kinds: ['exec'], wakeup: 'each', filters: { process: { cgroups: [cgroup], uids: [0], comms: ['echo'] } } },
        sink,
      );
      const inCgroup = `echo $$ > ${cgroup}/inner/cgroup.procs; /bin/echo ${marker}-in; /bin/cat /dev/null; true`;
      spawnSync('sh', ['-c', inCgroup]);
      spawnSync('/bin/echo', [`${marker}-out`]); // right comm and uid, wrong cgroup
      const asNobody = `setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '/bin/echo ${marker}-nobody; true'`;
      spawnSync('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs; exec ${asNobody}`]); // right cgroup and comm, wrong uid
      await eventually(() => expect(sink.events.length).toBeGreaterThan(0));
      spawnSync('sh', ['-c', inCgroup]);
      await eventually(() => expect(sink.events.length).toBe(2));
      expect(sink.events.map((e) => (e as EventOf<'exec'>).argv[1])).toEqual([`${marker}-in`, `${marker}-in`]);
      expect(attempted(session)).toBe(2);
    } finally {
      rmdirSync(join(cgroup, 'inner'));
      rmdirSync(cgroup);
    }
  });

  it('refuses a cgroup path that is no cgroup, and a container no runtime runs', () => {
    expect(() => open({ filters: { process: { cgroups: ['/nonexistent/kmon'] } } })).toThrow(KmonOptionsError);
    expect(() => open({ filters: { process: { containers: ['0123456789ab'] } } })).toThrow(/no running container/);
  });
});

describe('failed execs', () => {
  it('reports a missing path (ENOENT) and a non-executable file (EACCES) with the path and argv attempted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmon-exec-'));
    const notExecutable = join(dir, 'plain.txt');
    writeFileSync(notExecutable, 'not a program\n', { mode: 0o644 });
    const missing = join(dir, 'missing');
    const sink = new Collector();
    const session = open({ kinds: ['exec-failed'], wakeup: 'each' }, sink);
    spawnSync(missing, ["one", "two"]); // the exec fails in the forked child
    spawnSync(notExecutable, ['three']);
    spawnSync('/bin/true'); // succeeds: not a failed exec
    await sink.until(is('exec-failed', (e) => e.filename === notExecutable));
    expect(sink.faults).toEqual([]);
    const failed = sink.events.filter(is('exec-failed', (e) => e.filename.startsWith(dir)));
    expect(failed).toMatchObject([
      { filename: missing, argv: [missing, 'one', 'two'], argc: 3, error: 2 },
      { filename: notExecutable, argv: [notExecutable, 'three'], argc: 2, error: 13 },
    ]);
    expect(sink.events.filter(is('exec-failed', (e) => e.filename === '/bin/true'))).toEqual([]);
    expect(attempted(session)).toBe(sink.events.length);
  });
});

describe('kmon.node lifetime', () => {
  it('closes a session left open when its worker thread ends', async () => {
    const before = ownKernelObjects();
    const script = `${rawAddonPrelude('each')}
      new Session(config, () => {}); // dropped at once: the open session must keep itself alive
      require('node:worker_threads').parentPort.postMessage('open');`;
    const worker = new Worker(script, { eval: true });
    await new Promise((resolve) => worker.once('message', resolve));
    expect(ownKernelObjects().length).toBeGreaterThan(before.length);
    await worker.terminate();
    expect(ownKernelObjects()).toEqual(before);
  });

  it('makes an exception thrown by the batch callback an uncaughtException, and keeps going', () => {
    const script = `${rawAddonPrelude('each')}
      let thrown = 0;
      process.on('uncaughtException', (error) => {
        if (++thrown < 2) return require('node:child_process').spawn('true');
        session.close();
        console.log(JSON.stringify({ thrown, message: error.message }));
      });
      const session = new Session(config, () => { throw new Error('consumer bug'); });
      require('node:child_process').spawn('true');`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ thrown: 2, message: 'consumer bug' });
  });

  it('fails to load with the stage, errno and libbpf log in the error, and nothing on stderr', () => {
    const script = `${rawAddonPrelude('each')}
      try { new Session({ ...config, ringBytes: 0 }, () => {}).close(); console.log('{}'); }
      catch (e) { console.log(JSON.stringify({ stage: e.stage, code: e.code, errno: e.errno, message: e.message })); }`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(out.stderr).toBe('');
    const fields = JSON.parse(out.stdout);
    expect(fields).toMatchObject({ stage: 'load', code: 'EINVAL', errno: 22 });
    expect(fields.message).toMatch(/^loading the BPF programs: Invalid argument\nlibbpf: map 'kmon_ring': failed to create/);
    const error = toKmonError(Object.assign(new Error(fields.message), fields));
    expect(error).toBeInstanceOf(KmonDriverError);
    expect(error.message).toContain('kmon could not load the BPF programs (EINVAL)');
  });

  it('lets a process exit with a session still open', () => {
    const script = `${rawAddonPrelude('each')}
      new Session(config, () => {});
      setTimeout(() => process.exit(5), 10);`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(out.stderr).toBe('');
    expect(out.status).toBe(5);
  });
});

describe('nativeBinding.checks (Linux)', () => {
  it('knows what eBPF needs: privilege, kernel version, BTF, the addon (all present on the CI machine)', async () => {
    const checks = await nativeBinding.checks!();
    expect(checks.map((c) => c.name)).toEqual(['privilege', 'kernel version', 'kernel BTF', 'kmon.node and libbpf.so.1']);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.filter((c) => c.name !== 'kmon.node and libbpf.so.1').every((c) => c.fix), 'each kernel prerequisite says how to fix it').toBe(true);
  });
});

describe('toNativeConfig', () => {
  it('flattens options: kind bits, our tgid for excludeSelf, synthetic implies synth', () => {
    const config = toNativeConfig(
      parseSessionOptions({ kinds: ['exec', 'fork'], excludeSelf: true, synthetic: { tgid: 42, payloadBytes: 8 } }),
    );
    expect(config).toMatchObject({ selfTgid: process.pid, synthTgid: 42, synthPayload: 8 });
    expect(config.kinds).toBe((1 << ABI.kinds.exec) | (1 << ABI.kinds.fork) | (1 << ABI.kinds.synth));
    expect(toNativeConfig(parseSessionOptions({ excludeSelf: false })).selfTgid).toBe(0);
  });

  it('refuses kinds this platform has no events for', () => {
    expect(() => toNativeConfig(parseSessionOptions({ kinds: ['exec', 'registry-set'] }))).toThrow(KmonUnsupportedError);
  });
});

describe('toKmonError', () => {
  it('maps a refusal to KmonPermissionError, a missing feature to KmonUnsupportedError', () => {
    const native = (fields: object) => Object.assign(new Error('x'), fields);
    const refused = toKmonError(native({ stage: 'load', code: 'EPERM', errno: 1 }));
    expect(refused).toBeInstanceOf(KmonPermissionError);
    expect(refused.hint).toMatch(/run as root, or .*--ambient-caps=\+bpf,\+perfmon/);
    expect(toKmonError(native({ stage: 'btf', code: 'ENOENT', errno: 2, missing: 'kernel BTF' }))).toBeInstanceOf(
      KmonUnsupportedError,
    );
    expect(toKmonError(native({ stage: 'verify', code: 'EACCES', errno: 13 }))).toBeInstanceOf(KmonDriverError);
    const other = toKmonError(native({ stage: 'attach', code: 'EINVAL', errno: 22 }));
    expect(other).toBeInstanceOf(KmonDriverError);
    expect(other.message).toContain('attach the BPF programs (EINVAL)');
  });

  it('turns a real unprivileged open into KmonPermissionError', () => {
    // An unprivileged user loading the addon: the kernel refuses with EPERM.
    const script = `${rawAddonPrelude('poll')}
      try { new Session(config, () => {}); console.log('{}'); }
      catch (e) { console.log(JSON.stringify({ stage: e.stage, code: e.code, errno: e.errno, message: e.message })); }`;
    const out = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, '-e', script], {
      encoding: 'utf8',
    });
    expect(out.status, out.stderr).toBe(0);
    const fields = JSON.parse(out.stdout);
    expect(fields).toMatchObject({ code: 'EPERM', errno: 1 });
    expect(toKmonError(Object.assign(new Error(fields.message), fields))).toBeInstanceOf(KmonPermissionError);
  });
});
