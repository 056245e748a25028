// kmon (@kmon/rx over @kmon/native) on the real kernel (Linux eBPF). CI
// runs these as root. Each test subscribes, makes the kernel do something,
// and waits for the events it must produce (a missing event fails by timeout).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, filter, lastValueFrom, scan, type Observable } from 'rxjs';
import { heldKernelObjects, liveKernelObjects, threadStormProgram } from '@kmon/native/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { stallingWriter } from '../src/testing.js';
import { createKmon, pausingWriter, type KmonMessage, type ExecEvent, type ExitEvent, type ForkEvent } from '../src/index.js';

// Opening a session loads BPF programs: seconds on a loaded machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const openFds = () => readdirSync('/proc/self/fd').length;

/** A process whose main thread ends first; its last thread then exits with code 5. */
function compileMainExitsFirst(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmon-threads-'));
  writeFileSync(
    join(dir, 'main-exits-first.c'),
    `#include <pthread.h>
     #include <stdlib.h>
     #include <unistd.h>
     static void *worker(void *arg) { (void)arg; usleep(100000); exit(5); }
     int main(void) {
       pthread_t threads[3];
       for (int i = 0; i < 3; i++) pthread_create(&threads[i], NULL, worker, NULL);
       pthread_exit(NULL);
     }`,
  );
  execFileSync('cc', ['-O1', '-pthread', '-o', join(dir, 'main-exits-first'), join(dir, 'main-exits-first.c')]);
  return join(dir, 'main-exits-first');
}

/** Collects messages until `done` says the story is complete. */
function collectUntil(source: Observable<KmonMessage>, done: (seen: KmonMessage[]) => boolean): Promise<KmonMessage[]> {
  return firstValueFrom(
    source.pipe(
      scan((seen, m) => (seen.push(m), seen), [] as KmonMessage[]),
      filter(done),
    ),
  );
}

/** Spawns a command and resolves with its pid and exit once it is gone. */
async function run(file: string, args: string[] = [], kill?: NodeJS.Signals) {
  const child = spawn(file, args, { stdio: 'ignore' });
  await once(child, 'spawn');
  if (kill) child.kill(kill);
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
  return { pid: child.pid!, code, signal };
}

const lifecycleOf = (seen: KmonMessage[], pid: number) => ({
  fork: seen.find((m): m is ForkEvent => m.kind === 'fork' && m.childPid === pid && !m.thread),
  exec: seen.find((m): m is ExecEvent => m.kind === 'exec' && m.pid === pid),
  exits: seen.filter((m): m is ExitEvent => m.kind === 'exit' && m.pid === pid),
});

/**
 * The BPF objects a session creates: those this process holds once it is
 * open and did not hold before. Only ours: other kmon users on the machine
 * (a benchmark, another package's tests running at the same time) cannot
 * make the check pass or fail.
 */
function objectsOf(open: () => void) {
  const before = new Set(heldKernelObjects());
  open();
  const created = heldKernelObjects().filter((o) => !before.has(o));
  return { created: created.length, remaining: () => liveKernelObjects(created) };
}

describe('process events from the kernel through kmon', () => {
  const kmon = createKmon({ kinds: ['exec', 'exit', 'fork'] }, { graceMs: 0 });
  afterAll(() => kmon.stop());

  it("`sh -c 'exit 3'` yields fork, exec and exit (code 3) of one (pid, start time), in that order", async () => {
    const seen = collectUntil(kmon.events$, (s) => s.some((m) => m.kind === 'exit' && m.exitCode === 3 && m.comm === 'sh'));
    const { pid, code } = await run('/bin/sh', ['-c', 'exit 3']);
    expect(code).toBe(3);
    const all = await seen;
    const { fork, exec, exits } = lifecycleOf(all, pid);
    expect(fork, 'fork event').toBeDefined();
    expect(exec).toMatchObject({ filename: '/bin/sh', argv: ['/bin/sh', '-c', 'exit 3'], argc: 3, ppid: process.pid });
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ exitCode: 3, signal: 0 });
    expect(exec!.startTime).toBe(fork!.childStartTime);
    expect(exits[0]!.startTime).toBe(fork!.childStartTime);
    expect(fork!.parentStartTime).toBe(exec!.parentStartTime);
    expect(all.indexOf(fork!)).toBeLessThan(all.indexOf(exec!));
    expect(all.indexOf(exec!)).toBeLessThan(all.indexOf(exits[0]!));
  });

  it('argv with spaces, quotes and non-ASCII UTF-8 round-trips exactly', async () => {
    const args = ['a b', `"double" 'single'`, 'héllo wörld ✓ 日本語', '', 'tab\there'];
    const seen = collectUntil(kmon.events$, (s) => s.some((m) => m.kind === 'exec' && m.argv[1] === 'a b'));
    const { pid } = await run('/bin/echo', args);
    const { exec } = lifecycleOf(await seen, pid);
    expect(exec!.argv).toEqual(['/bin/echo', ...args]);
    expect(exec!.truncated).toEqual({ filename: false, argv: false, exe: false, cwd: false });
  });

  it('a process killed by SIGKILL reports signal 9', async () => {
    const seen = collectUntil(kmon.events$, (s) => s.some((m) => m.kind === 'exit' && m.signal === 9 && m.comm === 'sleep'));
    const { pid, signal } = await run('/bin/sleep', ['30'], 'SIGKILL');
    expect(signal).toBe('SIGKILL');
    const { exits } = lifecycleOf(await seen, pid);
    expect(exits).toEqual([expect.objectContaining({ signal: 9, coreDumped: false })]);
  });

  it('a multi-threaded process yields one exit, not one per thread, also when its main thread ends first', async () => {
    const program = compileMainExitsFirst();
    const threaded = createKmon({ kinds: ['exit', 'fork'], threads: true }, { graceMs: 0 });
    const seen = collectUntil(threaded.events$, (s) => s.some((m) => m.kind === 'exit' && m.exitCode === 5));
    const { pid, code } = await run(program);
    expect(code).toBe(5);
    const all = await seen;
    threaded.stop();
    const threads = all.filter((m) => m.kind === 'fork' && m.thread && m.pid === pid);
    expect(threads.length, 'thread creations seen').toBe(3);
    const { exits } = lifecycleOf(all, pid);
    expect(exits).toEqual([expect.objectContaining({ exitCode: 5, signal: 0 })]);
    // A thread's fork names its process: (childPid, childStartTime) is the process identity.
    for (const fork of threads) expect(fork).toMatchObject({ childPid: pid, childStartTime: exits[0]!.startTime });
  });

  it('argv longer than the cap is cut and flagged, with the full argc', async () => {
    const capped = createKmon({ kinds: ['exec'], argvBytes: 64 }, { graceMs: 0 });
    const long = 'x'.repeat(200);
    const seen = collectUntil(capped.events$, (s) => s.some((m) => m.kind === 'exec' && m.argv[1]?.startsWith('xxx') === true));
    const { pid } = await run('/bin/echo', [long, 'tail']);
    const { exec } = lifecycleOf(await seen, pid);
    capped.stop();
    expect(exec!.truncated.argv).toBe(true);
    expect(exec!.argc).toBe(3);
    expect(Buffer.byteLength(exec!.argv.join('\0'))).toBeLessThanOrEqual(64);
    expect(exec!.argv[1]).toBe(long.slice(0, exec!.argv[1]!.length));
  });
});

describe('pull model on the kernel', () => {
  it("with wakeup 'pull' records wait in the kernel until read(), and readable$ says when", async () => {
    const kmon = createKmon({ kinds: ['exec'], wakeup: 'pull' }, { graceMs: 0 });
    const delivered: KmonMessage[] = [];
    const pushed = kmon.events$.subscribe((m) => delivered.push(m));
    const readable = firstValueFrom(kmon.readable$);
    await run('/bin/echo', ['pulled']);
    await readable;
    expect(delivered, 'nothing is pushed in pull mode').toEqual([]);
    const pulled = kmon.read();
    expect(pulled.some((m) => m.kind === 'exec' && m.argv[1] === 'pulled')).toBe(true);
    pushed.unsubscribe();
    kmon.stop();
  });
});

describe('backpressure on the kernel', () => {
  it('a reader that stops reading pauses the session: the kernel drops and counts, the stream stays bounded, produced = delivered + lost', async () => {
    const threads = 20_000; // ~1.4 MB of fork records into a 64 KiB ring
    const kmon = createKmon({ kinds: ['fork'], threads: true, ringBytes: 64 * 1024 }, { graceMs: 0 });
    const stream = stallingWriter(16 * 1024);
    const write = pausingWriter(kmon, stream);
    const tally = { delivered: 0, lost: 0, storm: 0, ringFull: 0, attemptedAtEnd: -1 };
    let stormPid = -1;
    const done = new Promise<void>((resolve, reject) =>
      kmon.events$.subscribe({
        next(m) {
          if (m.kind === 'lost') {
            tally.lost += m.count;
            if (m.cause === 'ring-full') tally.ringFull += m.count;
          } else {
            tally.delivered++;
            if (m.pid === stormPid) tally.storm++;
          }
          write(`${m.kind} ${'.'.repeat(80)}\n`);
        },
        error: reject,
        complete() {
          tally.attemptedAtEnd = kmon.stats().attempted; // detached: final
          resolve();
        },
      }),
    );

    const storm = spawn(threadStormProgram(), [String(threads)], { stdio: 'ignore' });
    stormPid = storm.pid!;
    const [code] = (await once(storm, 'exit')) as [number];
    expect(code).toBe(0);
    // The stream took 16 KiB and stopped: kmon paused, the kernel counted the rest as dropped.
    const paused = kmon.stats();
    expect(paused.dropped).toBeGreaterThan(threads / 2);
    expect(tally.delivered).toBeLessThan(threads / 2);
    // Bounded by the high-water mark plus the rest of one batch (at most the 64 KiB ring's worth of lines).
    expect(stream.longest()).toBeLessThan(16 * 1024 + 2 * 1024 * 100);

    stream.release();
    await vi.waitFor(() => expect(tally.ringFull).toBeGreaterThanOrEqual(paused.dropped), { timeout: 8000, interval: 20 });
    kmon.stop();
    await done;
    expect(tally.attemptedAtEnd).toBe(tally.delivered + tally.lost);
    expect(tally.storm + tally.lost).toBeGreaterThanOrEqual(threads);
    expect(tally.storm).toBeLessThanOrEqual(threads);
  });
});

describe('teardown', () => {
  it('after the last subscriber leaves, no kmon BPF program, map or link remains and no fd leaked', async () => {
    const fdsBefore = openFds();
    const kmon = createKmon({ kinds: ['exec'] }, { graceMs: 0 });
    let seen: Promise<KmonMessage> | undefined;
    const session = objectsOf(() => {
      seen = firstValueFrom(kmon.events$.pipe(filter((m) => m.kind === 'exec' && m.argv[1] === 'teardown')));
    });
    expect(session.created, 'programs, maps and links while attached').toBeGreaterThanOrEqual(3);
    await run('/bin/echo', ['teardown']);
    await seen; // firstValueFrom unsubscribes: the last subscriber is gone
    await new Promise((r) => setTimeout(r, 50)); // the grace period (0 ms) runs on a timer
    expect(session.remaining()).toEqual([]);
    expect(openFds()).toBe(fdsBefore);
  });

  it('a deliberate stop completes the stream and detaches', async () => {
    const fdsBefore = openFds();
    const kmon = createKmon({ kinds: ['exit'] }, { graceMs: 0 });
    let done: Promise<unknown> | undefined;
    const session = objectsOf(() => (done = lastValueFrom(kmon.events$, { defaultValue: 'completed' })));
    expect(session.created).toBeGreaterThanOrEqual(3);
    kmon.stop();
    await expect(done).resolves.toBeDefined();
    expect(session.remaining()).toEqual([]);
    expect(openFds()).toBe(fdsBefore);
  });
});
