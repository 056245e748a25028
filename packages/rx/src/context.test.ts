// Event context through a session: process table, host lookups, wall clock.
import type { ContextEvent, ContextMessage, ExitEvent, EventContext, KernelBinding, SessionClock } from '@kmon/core';
import { concatBatch, createMockBinding, encodeRecord, type MockSession } from '@kmon/core/testing';
import { ABI, processKey } from '@kmon/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createKmon, type KmonConfig } from './kmon.js';
import { ofKind } from './operators.js';

const clock: SessionClock = { bootId: 'test-boot', realtimeOffsetNs: 1_700_000_000_000_000_000n };

const SH = { pid: 100, start: 5_000n };
const CHILD = { pid: 101, start: 6_000n };
/** sh forks a child that execs cat, which opens a file and exits 2. */
const story = concatBatch([
  encodeRecord({ kind: 'exec', header: { tgid: SH.pid, seq: 0, ts_ns: 5_100n }, body: { start_ns: SH.start, ppid: 1, uid: 1000, gid: 100, comm: 'sh' }, vars: ['/bin/sh', 'sh\0-c\0cat f\0', '/usr/bin/dash', '/home/a'] }),
  encodeRecord({ kind: 'fork', header: { tgid: SH.pid, seq: 1, ts_ns: 6_000n }, body: { parent_start_ns: SH.start, child_start_ns: CHILD.start, child_tgid: CHILD.pid, child_tid: CHILD.pid, comm: 'sh' } }),
  encodeRecord({ kind: 'exec', header: { tgid: CHILD.pid, seq: 2, ts_ns: 6_100n, cgroup_id: 9n }, body: { start_ns: CHILD.start, parent_start_ns: SH.start, ppid: SH.pid, uid: 1000, gid: 100, comm: 'cat' }, vars: ['/bin/cat', 'cat\0f\0', '/usr/bin/cat', '/home/a'] }),
  encodeRecord({ kind: 'open', header: { tgid: CHILD.pid, seq: 3, ts_ns: 6_200n, cgroup_id: 9n }, body: { start_ns: CHILD.start, comm: 'cat' }, vars: ['/home/a/f'] }),
  encodeRecord({ kind: 'exit', header: { tgid: CHILD.pid, seq: 4, ts_ns: 6_300n, cgroup_id: 9n }, body: { start_ns: CHILD.start, exit_code: 2, comm: 'cat' } }),
]);

const host = {
  userName: (uid: number) => (uid === 1000 ? 'alice' : undefined),
  groupName: (gid: number) => (gid === 100 ? 'users' : undefined),
  cgroupPath: (id: bigint) => (id === 9n ? `/system.slice/libpod-${'b'.repeat(64)}.scope` : undefined),
};

function collect(options: Omit<KmonConfig, 'binding'> = {}) {
  const mock = createMockBinding({ clock });
  const kmon = createKmon({}, { binding: mock, graceMs: 0, ...options });
  const seen: ContextMessage[] = [];
  kmon.events$.subscribe((m) => seen.push(m));
  return { kmon, mock, seen };
}

describe('events with context', () => {
  it('one key on exec, file and exit of a process; its context from the table, names and container from the host', () => {
    const { mock, seen } = collect({ host });
    mock.current!.deliver(story);
    const ofChild = seen.filter((m): m is ContextEvent => m.kind !== 'lost' && m.pid === CHILD.pid);
    expect(ofChild.map((e) => e.kind)).toEqual(['exec', 'open', 'exit']);
    expect(new Set(ofChild.map((e) => e.process.key))).toEqual(new Set([processKey('test-boot', CHILD.pid, CHILD.start)]));
    expect(ofChild.at(-1)!.process).toMatchObject({
      ppid: SH.pid,
      parentKey: processKey('test-boot', SH.pid, SH.start),
      argv: ['cat', 'f'],
      exe: '/usr/bin/cat',
      cwd: '/home/a',
      user: 'alice',
      group: 'users',
      container: { id: 'b'.repeat(64), runtime: 'podman' },
    });
    const fork = seen.find((m) => m.kind === 'fork')!;
    expect(fork.process.key, "a fork's context is its parent's").toBe(processKey('test-boot', SH.pid, SH.start));
  });

  it('wall time from the session clock, exact in ns', () => {
    const { mock, seen } = collect();
    mock.current!.deliver(story);
    const exit = seen.find((m) => m.kind === 'exit')!;
    expect(exit.wallTimeNs).toBe(1_700_000_000_000_006_300n);
    expect(exit.wallTime).toEqual(new Date(1_700_000_000_000));
  });

  it('ancestry(event) walks the table: the child of sh lists sh', () => {
    const { kmon, mock, seen } = collect();
    mock.current!.deliver(story);
    const open = seen.find((m) => m.kind === 'open')!;
    expect(kmon.ancestry(open).map((p) => [p.pid, p.comm])).toEqual([[SH.pid, 'sh']]);
    expect(kmon.processes()?.lookup(CHILD.pid, CHILD.start)?.exit).toMatchObject({ code: 2 });
  });

  it('the table keeps to the configured capacity', () => {
    const { kmon, mock } = collect({ processes: { capacity: 1 } });
    mock.current!.deliver(story);
    expect(kmon.processes()?.size).toBe(1);
    expect(kmon.processes()?.capacity).toBe(1);
  });

  it('batches handed over while the binding opens (the snapshot) get the context too', () => {
    const mock = createMockBinding({ clock });
    const early: KernelBinding = {
      ...mock,
      open(options, sink) {
        const session = mock.open(options, sink) as MockSession;
        session.deliver(story); // before open() returned
        return session;
      },
    };
    const seen: ContextMessage[] = [];
    createKmon({}, { binding: early, graceMs: 0 }).events$.subscribe((m) => seen.push(m));
    expect(seen.filter((m) => m.kind === 'exit').map((m) => m.process.argv)).toEqual([['cat', 'f']]);
  });

  it('the process snapshot seeds the table: an exit of a process older than the session has its argv and parent', () => {
    const { mock, seen, kmon } = collect();
    mock.current!.deliver(
      concatBatch([
        encodeRecord({ kind: 'process', header: { tgid: 1, seq: 0 }, body: { start_ns: 10n, comm: 'init' }, vars: ['/sbin/init', '/', 'init\0'] }),
        encodeRecord({
          kind: 'process',
          header: { tgid: 50, seq: 1 },
          body: { start_ns: 40n, parent_start_ns: 10n, ppid: 1, comm: 'sleep' },
          vars: ['/usr/bin/sleep', '/root', 'sleep\x00100\x00'],
        }),
      ]),
    );
    mock.current!.deliver(encodeRecord({ kind: 'exit', header: { tgid: 50, ts_ns: 900n }, body: { start_ns: 40n, comm: 'sleep' } }));
    expect(seen.map((m) => m.kind), 'snapshot records reach subscribers only when asked for').toEqual(['exit']);
    const exit = seen[0] as ContextEvent;
    expect(exit.process).toMatchObject({ argv: ['sleep', '100'], exe: '/usr/bin/sleep', cwd: '/root', ppid: 1, startTime: 40n });
    expect(kmon.ancestry(exit).map((p) => p.comm)).toEqual(['init']);
  });

  it('sessions ask for the snapshot only of a binding that can take one; asked for, its records are delivered', () => {
    const unable = createMockBinding({ clock, capabilities: { kinds: ['exec', 'exit'] } });
    createKmon({ kinds: ['exit'] }, { binding: unable, graceMs: 0 }).events$.subscribe();
    expect(unable.current!.options.kinds).toEqual(['exit']);
    const mock = createMockBinding({ clock });
    const seen: ContextMessage[] = [];
    createKmon({ kinds: ['process'] }, { binding: mock, graceMs: 0 }).events$.subscribe((m) => seen.push(m));
    expect(mock.current!.options.kinds).toEqual(['process']);
    mock.current!.deliver(encodeRecord({ kind: 'process', header: { tgid: 1 }, body: { start_ns: 10n, comm: 'init' } }));
    expect(seen.map((m) => m.kind === 'process' && m.process.key)).toEqual([processKey('test-boot', 1, 10n)]);
  });

  describe('a session whose kinds lack exec, fork and exit asks for them to follow processes', () => {
    const fileOnly = (config: Omit<KmonConfig, 'binding'> = {}) => {
      const mock = createMockBinding({ clock });
      const kmon = createKmon({ kinds: ['open'] }, { binding: mock, graceMs: 0, ...config });
      const seen: ContextMessage[] = [];
      kmon.events$.subscribe((m) => seen.push(m));
      return { kmon, mock, seen };
    };

    it('a process started during a file-only session has its argv and parent; only the kinds asked for reach subscribers', () => {
      const { mock, seen } = fileOnly();
      expect(mock.current!.options.kinds).toEqual(['open', 'process', 'exec', 'fork', 'exit']);
      mock.current!.deliver(story);
      expect(seen.map((m) => m.kind)).toEqual(['open']);
      expect((seen[0] as ContextEvent).process).toMatchObject({ argv: ['cat', 'f'], exe: '/usr/bin/cat', ppid: SH.pid, parentKey: processKey('test-boot', SH.pid, SH.start) });
    });

    it("losses of the kinds it added are reported like any other's", () => {
      const { kmon, mock, seen } = fileOnly();
      const dropped = new Array<number>(ABI.kindCount).fill(0);
      dropped[ABI.kinds.fork] = 3;
      mock.current!.setStats({ cpus: [{ attempted: 3, dropped, truncated: 0 }] });
      kmon.stop();
      expect(seen).toEqual([expect.objectContaining({ kind: 'lost', cause: 'ring-full', count: 3, byKind: { fork: 3 } })]);
    });

    it('not with followProcesses: false, nor for a session that names one of them, of synthetic records or of the snapshot alone', () => {
      expect(fileOnly({ followProcesses: false }).mock.current!.options.kinds).toEqual(['open', 'process']);
      for (const options of [{ kinds: ['open', 'exit'] }, { kinds: ['synth'], synthetic: { tgid: 42 } }, { kinds: ['process'] }] as const) {
        const mock = createMockBinding({ clock });
        createKmon({ ...options, kinds: [...options.kinds] }, { binding: mock, graceMs: 0 }).events$.subscribe();
        expect(mock.current!.options.kinds).toEqual([...new Set([...options.kinds, 'process'])]);
      }
    });
  });

  it('types: a session streams events with context, ofKind keeps it', () => {
    const { kmon } = collect();
    const exits$ = kmon.events$.pipe(ofKind('exit'));
    expectTypeOf(exits$).toEqualTypeOf<import('rxjs').Observable<ExitEvent & EventContext>>();
  });
});
