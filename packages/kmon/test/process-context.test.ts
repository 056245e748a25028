// Process context on the real kernel: keys, ancestry, cgroups, wall time and
// the process table's bound, through kmon (@kmon/rx over @kmon/native) with
// this host's lookups. CI runs these as root.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom, scan, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { cgroup2Mount } from '../src/host.js';
import { createKmon, processKey, type ContextEvent, type ContextMessage } from '../src/index.js';

const NETLOAD = fileURLToPath(new URL('./netload.py', import.meta.url));

/** Collects messages until `done` says the story is complete. */
function collectUntil(source: Observable<ContextMessage>, done: (seen: ContextMessage[]) => boolean): Promise<ContextMessage[]> {
  return firstValueFrom(
    source.pipe(
      scan((seen, m) => (seen.push(m), seen), [] as ContextMessage[]),
      filter(done),
    ),
  );
}

const eventsOf = (seen: ContextMessage[], pid: number) => seen.filter((m): m is ContextEvent => m.kind !== 'lost' && m.pid === pid);

/** Compiles a C program into a fresh directory and returns its path. */
function compile(name: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmon-ctx-'));
  writeFileSync(join(dir, `${name}.c`), source);
  execFileSync('cc', ['-O1', '-o', join(dir, name), join(dir, `${name}.c`)]);
  return join(dir, name);
}

async function run(file: string, args: string[]) {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (child.stdout.readable) await once(child.stdout, 'close');
  return { pid: child.pid!, code, out };
}

describe('process context on the kernel', () => {
  it('a process started before the session and exiting during it: its exit has its real argv, parent and start time, from the snapshot', async () => {
    // It waits for a line on stdin: it exits when the test says, after the session attached.
    const before = spawn('/bin/sh', ['-c', 'read line; exit 7', 'started-before'], { stdio: ['pipe', 'ignore', 'ignore'] });
    await once(before, 'spawn');
    const pid = before.pid!;
    const startTicks = BigInt(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!);
    // excludeSelf off: this test's process, the parent, is then in the snapshot too.
    const kmon = createKmon({ kinds: ['exit'], excludeSelf: false }, { graceMs: 0 });
    const seen = collectUntil(kmon.events$, (s) => s.some((m) => m.kind === 'exit' && m.pid === pid)); // attached on subscribe
    before.stdin!.end('go\n');
    await once(before, 'exit');
    const all = await seen;
    kmon.stop();
    const exit = all.find((m): m is ContextEvent & { kind: 'exit' } => m.kind === 'exit' && m.pid === pid)!;
    expect(exit.exitCode).toBe(7);
    expect(exit.process).toMatchObject({
      argv: ['/bin/sh', '-c', 'read line; exit 7', 'started-before'],
      exe: '/usr/bin/dash',
      ppid: process.pid,
      startTime: exit.startTime,
      approximate: false,
    });
    expect(exit.process.parentKey).toBe(kmon.ancestry(exit)[0]?.key);
    expect(kmon.ancestry(exit)[0]).toMatchObject({ pid: process.pid });
    // Same start as /proc says, at its clock-tick resolution (USER_HZ 100: 10 ms).
    expect(Number(exit.startTime / 10_000_000n)).toBeGreaterThanOrEqual(Number(startTicks) - 1);
    expect(Number(exit.startTime / 10_000_000n)).toBeLessThanOrEqual(Number(startTicks) + 1);
  });

  it('sh -> sh -> a process in a new cgroup: one key on its exec, open and exit, ancestry lists the two shells, the cgroup is the test’s', async () => {
    const root = cgroup2Mount();
    expect(root, 'a cgroup v2 hierarchy is mounted').toBeDefined();
    const cgroup = join(root!, `kmon-test-${process.pid}-${Date.now()}`);
    mkdirSync(cgroup);
    const dir = mkdtempSync(join(tmpdir(), 'kmon-ctx-'));
    const marker = join(dir, 'marker');
    writeFileSync(marker, 'x');
    const kmon = createKmon({ kinds: ['exec', 'exit', 'fork', 'open'], excludeSelf: false }, { graceMs: 0 });
    try {
      const seen = collectUntil(kmon.events$, (s) => s.some((m) => m.kind === 'exit' && m.process.argv?.[1] === marker));
      const inner = `sh -c 'echo $$ > ${cgroup}/cgroup.procs && exec cat ${marker}'; true`;
      const { code } = await run('/bin/sh', ['-c', 'sh -c "$1"; true', 'outer', inner]);
      expect(code).toBe(0);
      const all = await seen;
      const exitOfCat = all.find((m): m is ContextEvent & { kind: 'exit' } => m.kind === 'exit' && m.process.argv?.[1] === marker)!;
      const events = eventsOf(all, exitOfCat.pid);
      const execOfCat = events.find((m) => m.kind === 'exec' && m.comm === 'cat')!;
      const openOfMarker = events.find((m) => m.kind === 'open' && m.path === marker)!;
      expect(execOfCat && openOfMarker, 'exec of cat and its open of the marker').toBeTruthy();
      const key = processKey(kmon.processes()!.bootId, exitOfCat.pid, exitOfCat.startTime);
      expect([execOfCat, openOfMarker, exitOfCat].map((e) => e.process.key)).toEqual([key, key, key]);
      const ancestry = kmon.ancestry(openOfMarker);
      expect(ancestry.slice(0, 2).map((p) => p.argv)).toEqual([
        ['sh', '-c', inner],
        ['/bin/sh', '-c', 'sh -c "$1"; true', 'outer', inner],
      ]);
      expect(ancestry[2]?.pid, "the outer shell's parent is this test (from the snapshot)").toBe(process.pid);
      const cgroupId = statSync(cgroup, { bigint: true }).ino;
      for (const e of [execOfCat, openOfMarker, exitOfCat]) {
        expect(e.cgroupId).toBe(cgroupId);
        expect(e.process.cgroupPath).toBe(`/${cgroup.split('/').at(-1)}`);
      }
    } finally {
      kmon.stop();
      rmdirSync(cgroup); // the process in it has exited
    }
  });

  it("a process's connect, accept and TCP closes carry the key of its exec", async () => {
    const kmon = createKmon({ kinds: ['exec', 'connect', 'accept', 'close'] }, { graceMs: 0 });
    try {
      let port = -1; // the server's, known once it listens
      const pids: number[] = [];
      const ofRoles = (m: ContextMessage): m is ContextEvent => m.kind !== 'lost' && pids.includes(m.pid);
      const seen = collectUntil(kmon.events$, (s) => s.filter((m) => ofRoles(m) && m.kind === 'close').length === 2); // attached on subscribe
      const server = spawn('python3', [NETLOAD, 'tcp-server', '127.0.0.1', '10', '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
      pids.push(server.pid!);
      const [line] = (await once(server.stdout, 'data')) as [Buffer];
      port = (JSON.parse(line.toString()) as { port: number }).port;
      const serverExit = once(server, 'exit');
      const client = spawn('python3', [NETLOAD, 'tcp-client', '127.0.0.1', String(port), '10', '10'], { stdio: 'ignore' });
      pids.push(client.pid!);
      await Promise.all([once(client, 'exit'), serverExit]);
      const all = (await seen).filter(ofRoles);
      // Each role's own socket calls, picked by the server's port (libc may connect elsewhere first, e.g. to nscd).
      const onPort = (m: ContextEvent) =>
        m.kind === 'close' || (m.kind === 'connect' && m.remote.port === port) || (m.kind === 'accept' && m.local.port === port);
      for (const [pid, calls] of [[client.pid!, ['connect', 'close']], [server.pid!, ['accept', 'close']]] as const) {
        const events = all.filter((m) => m.pid === pid);
        const exec = events.find((m): m is ContextEvent & { kind: 'exec' } => m.kind === 'exec')!;
        expect(exec, `exec of ${pid}`).toBeDefined();
        const key = processKey(kmon.processes()!.bootId, pid, exec.startTime);
        const network = events.filter(onPort);
        expect(network.map((m) => m.kind)).toEqual(calls);
        expect(network.map((m) => (m as { startTime?: bigint }).startTime)).toEqual(calls.map(() => exec.startTime));
        expect([exec, ...network].map((m) => m.process.key)).toEqual([key, ...calls.map(() => key)]);
      }
    } finally {
      kmon.stop();
    }
  });

  it('a file-only session follows processes: a process started during it has its argv and parent on its opens, and no exec is delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmon-ctx-'));
    const marker = join(dir, 'marker');
    writeFileSync(marker, 'x');
    const kmon = createKmon({ kinds: ['open'] }, { graceMs: 0 });
    try {
      const seen = collectUntil(kmon.events$, (s) => s.some((m) => m.kind === 'open' && m.path === marker));
      const shell = await run('/bin/sh', ['-c', `cat ${marker}; true`, 'kmon-follow']);
      expect(shell.code).toBe(0);
      const all = await seen;
      expect(all.filter((m) => m.kind !== 'open' && m.kind !== 'lost').map((m) => m.kind), 'only the kinds asked for').toEqual([]);
      const open = all.find((m): m is ContextEvent & { kind: 'open' } => m.kind === 'open' && m.path === marker)!;
      expect(open.process).toMatchObject({ argv: ['cat', marker], exe: '/usr/bin/cat', ppid: shell.pid });
      expect(kmon.ancestry(open)[0]).toMatchObject({ pid: shell.pid, argv: ['/bin/sh', '-c', `cat ${marker}; true`, 'kmon-follow'] });
    } finally {
      kmon.stop();
    }
  });

  it("an event's wall time is within 5 ms of the wall clock the workload read around its syscall", async () => {
    const program = compile(
      'clocked-open',
      `#include <fcntl.h>
       #include <stdio.h>
       #include <time.h>
       #include <unistd.h>
       static long long now(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
       int main(int argc, char **argv) {
         long long before = now();
         int fd = open(argv[1], O_RDONLY);
         long long after = now();
         printf("%lld %lld\\n", before, after);
         return fd < 0;
       }`,
    );
    const marker = join(mkdtempSync(join(tmpdir(), 'kmon-ctx-')), 'clocked');
    writeFileSync(marker, 'x');
    const kmon = createKmon({ kinds: ['open'] }, { graceMs: 0 });
    const seen = collectUntil(kmon.events$, (s) => s.some((m) => m.kind === 'open' && m.path === marker));
    await new Promise((r) => setTimeout(r, 50)); // attached
    const { out, code } = await run(program, [marker]);
    expect(code).toBe(0);
    const open = (await seen).find((m): m is ContextEvent & { kind: 'open' } => m.kind === 'open' && m.path === marker)!;
    kmon.stop();
    const [before, after] = out.trim().split(' ').map(BigInt) as [bigint, bigint];
    const MS5 = 5_000_000n;
    expect(open.wallTimeNs).toBeGreaterThanOrEqual(before - MS5);
    expect(open.wallTimeNs).toBeLessThanOrEqual(after + MS5);
    expect(open.wallTime.getTime()).toBe(Number(open.wallTimeNs / 1_000_000n));
  });

  it('the process table stays within its cap under a fork storm', async () => {
    const CAP = 64;
    const STORM = 1000; // forks take ~10 ms each on the loaded CI machine
    const storm = compile(
      'fork-storm',
      `#include <stdlib.h>
       #include <sys/wait.h>
       #include <unistd.h>
       int main(int argc, char **argv) {
         int n = atoi(argv[1]);
         for (int i = 0; i < n; i++) { if (fork() == 0) _exit(0); if (i % 64 == 63) while (waitpid(-1, NULL, WNOHANG) > 0); }
         while (wait(NULL) > 0);
         return 0;
       }`,
    );
    const kmon = createKmon({ kinds: ['fork', 'exit'] }, { graceMs: 0, processes: { capacity: CAP } });
    let peak = 0;
    let stormPid = -1;
    let forks = 0;
    const done = new Promise<void>((resolve, reject) =>
      kmon.events$.subscribe({
        next: (m) => {
          peak = Math.max(peak, kmon.processes()?.size ?? 0);
          if (m.kind === 'fork' && m.pid === stormPid) forks++;
          if (m.kind === 'exit' && m.pid === stormPid) resolve();
        },
        error: reject,
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    const child = spawn(storm, [String(STORM)], { stdio: 'ignore' });
    stormPid = child.pid!;
    await done;
    kmon.stop();
    console.log(`fork storm: ${forks} forks of ${STORM} seen, table peak ${peak} (cap ${CAP})`);
    expect(forks).toBe(STORM);
    expect(peak).toBeGreaterThan(CAP / 2);
    expect(peak).toBeLessThanOrEqual(CAP);
  }, 60_000);
});
