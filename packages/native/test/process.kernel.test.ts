// The process snapshot on the real kernel: a session whose kinds include
// `process` first hands over one record per process alive at attach, with
// the identity (pid, start time) its later events carry. The test judges only
// the processes it started and its own session's counters.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeBatch, parseSessionOptions, type KernelSession, type KmonEvent } from '@kmon/core';
import { bindingInfo, toNativeConfig, type NativeConfig } from '../src/index.js';

type ProcessEvent = Extract<KmonEvent, { kind: 'process' }>;
type ExitEvent = Extract<KmonEvent, { kind: 'exit' }>;
const SNAPSHOT_CPU = 0xffffffff;

/** A session of kmon.node (raw, for snapshotFallback), its batches decoded in order. */
class Session {
  readonly events: KmonEvent[] = [];
  readonly faults: unknown[] = [];
  readonly session: KernelSession;

  constructor(extra: Partial<NativeConfig> = {}) {
    const { Session: Native } = createRequire(import.meta.url)(bindingInfo().addonPath) as {
      Session: new (config: NativeConfig, onBatch: (batch: Uint8Array) => void) => KernelSession;
    };
    const options = parseSessionOptions({ kinds: ['process', 'exit'], wakeup: 'poll', pollIntervalMs: 5 });
    this.session = new Native({ ...toNativeConfig(options), ...extra }, (batch) => {
      const decoded = decodeBatch(batch);
      this.events.push(...decoded.events);
      this.faults.push(...decoded.faults);
    });
  }

  get snapshot(): ProcessEvent[] {
    return this.events.filter((e): e is ProcessEvent => e.kind === 'process');
  }

  /** Resolves once `find` finds an event (the test's timeout bounds the wait). */
  async until<E>(find: () => E | undefined): Promise<E> {
    for (let found = find(); ; found = find()) {
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A shell that started `sleep` in the background, both running before any session: their pids. */
interface Tree {
  shell: ChildProcess;
  sleepPid: number;
}

let dir: string;
let sleepExe: string;
const trees: Tree[] = [];

beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'kmon-snapshot-')));
  sleepExe = realpathSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim());
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

afterEach(() => {
  for (const { shell, sleepPid } of trees.splice(0)) {
    try {
      process.kill(sleepPid);
    } catch {
      // already gone
    }
    shell.kill();
  }
});

async function startTree(): Promise<Tree> {
  const shell = spawn('sh', ['-c', 'sleep 29 & echo $!; wait'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => shell.stdout!.once('data', (data: Buffer) => resolve(String(data))));
  const tree = { shell, sleepPid: Number(line.trim()) };
  trees.push(tree);
  return tree;
}

describe('process snapshot (kind process)', () => {
  it('seeds every process alive at attach, before any ring record, with the identity its exit carries', async () => {
    const { shell, sleepPid } = await startTree();
    const s = new Session();
    try {
      const snap = await s.until(() => s.snapshot.find((e) => e.pid === sleepPid));
      expect(s.faults).toEqual([]);
      expect(snap).toMatchObject({
        ppid: shell.pid,
        uid: process.getuid!(),
        gid: process.getgid!(),
        comm: 'sleep',
        exe: sleepExe,
        cwd: dir,
        argv: ['sleep', '29'],
        argc: 2,
        approximate: false,
        truncated: { exe: false, cwd: false, argv: false },
      });
      const parent = s.snapshot.find((e) => e.pid === shell.pid);
      expect(parent?.startTime, "the parent's own record").toBe(snap.parentStartTime);
      expect(parent?.argv).toEqual(['sh', '-c', 'sleep 29 & echo $!; wait']);

      process.kill(sleepPid);
      const exit = await s.until(() => s.events.find((e): e is ExitEvent => e.kind === 'exit' && e.pid === sleepPid));
      expect(exit.startTime, 'the same (pid, start time) identity').toBe(snap.startTime);

      // The snapshot came first, numbered on its own; the ring's records are what the counters count.
      const firstRing = s.events.findIndex((e) => e.kind !== 'process');
      expect(s.events.slice(firstRing).some((e) => e.kind === 'process'), 'no process record after a ring record').toBe(false);
      expect(s.snapshot.map((e) => [e.cpu, e.seq])).toEqual(s.snapshot.map((_, i) => [SNAPSHOT_CPU, i]));
      s.session.detach();
      await new Promise((resolve) => setTimeout(resolve, 100)); // drained every 5 ms
      const stats = s.session.stats();
      const attempted = stats.cpus.reduce((n, cpu) => n + cpu.attempted, 0);
      const dropped = stats.cpus.reduce((n, cpu) => n + cpu.dropped.reduce((a, b) => a + b, 0), 0);
      expect(attempted - dropped, 'ring records delivered = attempted - dropped: the snapshot counts nowhere').toBe(
        s.events.length - s.snapshot.length,
      );
    } finally {
      s.session.close();
    }
  });

  it('without the task iterator, builds the same records from /proc, flagged approximate', async () => {
    const { shell, sleepPid } = await startTree();
    const exact = new Session();
    const approx = new Session({ snapshotFallback: true });
    try {
      const want = await exact.until(() => exact.snapshot.find((e) => e.pid === sleepPid));
      const got = await approx.until(() => approx.snapshot.find((e) => e.pid === sleepPid));
      expect(approx.faults).toEqual([]);
      expect(got.approximate).toBe(true);
      const exceptTimes = (e: ProcessEvent) => ({ ...e, time: 0n, seq: 0, startTime: 0n, parentStartTime: 0n, approximate: false });
      expect(exceptTimes(got)).toEqual(exceptTimes(want));
      // /proc counts start times in clock ticks (10 ms at USER_HZ 100): close to the kernel's, not equal.
      const tickNs = 1_000_000_000n / BigInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      for (const [a, b] of [
        [got.startTime, want.startTime],
        [got.parentStartTime, want.parentStartTime],
      ] as const) {
        const gap = a > b ? a - b : b - a;
        expect(gap <= 2n * tickNs, `${a} vs ${b}`).toBe(true);
      }
      expect(approx.snapshot.find((e) => e.pid === shell.pid)?.argv).toEqual(['sh', '-c', 'sleep 29 & echo $!; wait']);
    } finally {
      exact.session.close();
      approx.session.close();
    }
  });
});
