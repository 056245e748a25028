import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ContainerRef } from '../container.js';
import type { ExitEvent } from '../events.js';
import { EVENT_CONTEXT_KEYS, contextResolver, type ContextEvent, type EventContext, type ProcessContext } from './context.js';
import { processKey } from './key.js';
import { ProcessTable } from './table.js';
import { BOOT, eventOf, snapshotOf } from '../../test/process-events.js';

const DOCKER_ID = 'a'.repeat(64);
const host = {
  userName: (uid: number) => (uid === 1000 ? 'alice' : undefined),
  groupName: (gid: number) => (gid === 100 ? 'users' : undefined),
  cgroupPath: (id: bigint) => (id === 7n ? `/system.slice/docker-${DOCKER_ID}.scope` : id === 1n ? '/' : undefined),
};
const clock = { bootId: BOOT, realtimeOffsetNs: 1_700_000_000_000_000_000n };

function session(lookups = host) {
  const table = new ProcessTable(BOOT);
  const contexts = contextResolver(clock, table, lookups);
  contexts.resolve(snapshotOf({ pid: 1, startTime: 10n }));
  contexts.resolve(snapshotOf({ pid: 100, startTime: 500n, ppid: 1, parentStartTime: 10n, comm: 'sh', exe: '/bin/sh', argv: ['sh'], cwd: '/home/alice', uid: 1000, gid: 100, cgroupId: 7n }));
  return { table, contexts };
}

describe('event context', () => {
  it('resolves the process through the table, with names and container from the host lookups', () => {
    const { contexts } = session();
    const open = contexts.resolve(eventOf('open', { pid: 100, startTime: 500n, cgroupId: 7n, path: '/etc/shadow' }));
    expect(open.process).toEqual({
      key: processKey(BOOT, 100, 500n),
      startTime: 500n,
      ppid: 1,
      parentKey: processKey(BOOT, 1, 10n),
      comm: 'sh',
      exe: '/bin/sh',
      argv: ['sh'],
      cwd: '/home/alice',
      uid: 1000,
      gid: 100,
      user: 'alice',
      group: 'users',
      cgroupPath: `/system.slice/docker-${DOCKER_ID}.scope`,
      container: { id: DOCKER_ID, runtime: 'docker' },
      approximate: false,
    });
  });

  it('an exit of a process seeded before the session has its argv, parent and start time', () => {
    const { contexts } = session();
    const exit = contexts.resolve(eventOf('exit', { pid: 100, startTime: 500n, exitCode: 0, comm: 'sh', cgroupId: 7n }));
    expect(exit.process).toMatchObject({ argv: ['sh'], ppid: 1, startTime: 500n, key: processKey(BOOT, 100, 500n) });
  });

  it('wall time is the event time plus the clock offset, exact in ns and as a Date', () => {
    const { contexts } = session();
    const e = contexts.resolve(eventOf('exec', { time: 123_456_789n, pid: 5, startTime: 1n }));
    expect(e.wallTimeNs).toBe(1_700_000_000_123_456_789n);
    expect(e.wallTime.toISOString()).toBe('2023-11-14T22:13:20.123Z');
  });

  it('events of one millisecond share one read-only wallTime; the next millisecond has its own', () => {
    const { contexts } = session();
    const at = (time: bigint) => contexts.resolve(eventOf('exec', { time, pid: 5, startTime: 1n })).wallTime;
    const first = at(123_000_000n);
    expect(at(123_999_999n)).toBe(first);
    const next = at(124_000_000n);
    expect(next).not.toBe(first);
    expect([first.getTime(), next.getTime()]).toEqual([1_700_000_000_123, 1_700_000_000_124]);
    expect(at(123_500_000n).getTime(), 'an earlier millisecond again').toBe(1_700_000_000_123);
    expect(first).toBeInstanceOf(Date);
    expect(JSON.stringify({ first })).toBe('{"first":"2023-11-14T22:13:20.123Z"}');
    expect(() => first.setTime(0)).toThrow(TypeError);
    expect(() => first.setUTCHours(0)).toThrow(/copy it/);
    expect(new Date(first).setTime(0), 'a copy can change').toBe(0);
    expect(first.getTime()).toBe(1_700_000_000_123);
  });

  it('a process the table does not know gets what the event says (kinds without a start time: no key)', () => {
    const { contexts } = session();
    const connect = contexts.resolve(eventOf('connect', { pid: 4242, startTime: 77n, comm: 'curl', cgroupId: 1n }));
    expect(connect.process).toMatchObject({ key: processKey(BOOT, 4242, 77n), comm: 'curl', argv: undefined, cgroupPath: '/', container: undefined });
    const failed = contexts.resolve(eventOf('exec-failed', { pid: 4243, comm: 'sh' }));
    expect(failed.process).toMatchObject({ key: undefined, comm: 'sh' });
  });

  it('a network event resolves to its own process, not to a newer one that reused its pid', () => {
    const { contexts } = session();
    contexts.resolve(eventOf('fork', { pid: 1, parentStartTime: 10n, childPid: 100, childStartTime: 900n, comm: 'init' }));
    const connect = contexts.resolve(eventOf('connect', { pid: 100, startTime: 500n, cgroupId: 7n }));
    expect(connect.process).toMatchObject({ key: processKey(BOOT, 100, 500n), comm: 'sh', argv: ['sh'] });
  });

  it('without host lookups (replay, browser) names and cgroup paths are undefined, nothing throws', () => {
    const { contexts } = session({} as typeof host);
    const e = contexts.resolve(eventOf('exit', { pid: 100, startTime: 500n, cgroupId: 7n }));
    expect(e.process).toMatchObject({ uid: 1000, user: undefined, group: undefined, cgroupPath: undefined, container: undefined });
  });

  it('follows a process moved to another cgroup: the context names the cgroup of each event', () => {
    const { contexts } = session();
    const before = contexts.resolve(eventOf('open', { pid: 100, startTime: 500n, cgroupId: 7n }));
    const after = contexts.resolve(eventOf('open', { pid: 100, startTime: 500n, cgroupId: 1n }));
    expect(before.process.container?.runtime).toBe('docker');
    expect(after.process).toMatchObject({ cgroupPath: '/', container: undefined });
  });

  it('consecutive events of one process share its context; another process, name or cgroup gets its own', () => {
    const { contexts } = session();
    const known = (cgroupId: bigint) => contexts.resolve(eventOf('open', { pid: 100, startTime: 500n, cgroupId })).process;
    expect(known(7n)).toBe(known(7n));
    expect(known(1n)).toMatchObject({ cgroupPath: '/', comm: 'sh' });
    const alone = (pid: number, comm: string, startTime = 77n) => contexts.resolve(eventOf('unlink', { pid, startTime, comm, cgroupId: 1n })).process;
    expect(alone(4242, 'rm')).toBe(alone(4242, 'rm'));
    expect(alone(4243, 'rm').key).toBe(processKey(BOOT, 4243, 77n));
    expect(alone(4243, 'mv').comm).toBe('mv');
    expect(alone(4243, 'mv', 78n).key).toBe(processKey(BOOT, 4243, 78n));
    const failedExec = (pid: number) => contexts.resolve(eventOf('exec-failed', { pid, comm: 'curl', cgroupId: 1n })).process; // no start time
    expect(failedExec(4244)).toMatchObject({ key: undefined, comm: 'curl' });
    expect(failedExec(100), 'a known process after an unknown one').toMatchObject({ key: processKey(BOOT, 100, 500n), comm: 'sh' });
  });

  it('types: every event has its context, narrowing by kind keeps it', () => {
    expectTypeOf<Extract<ContextEvent, { kind: 'exit' }>>().toEqualTypeOf<ExitEvent & EventContext>();
    expectTypeOf<ContextEvent['process']>().toEqualTypeOf<ProcessContext>();
    expectTypeOf<ContextEvent['wallTime']>().toEqualTypeOf<Date>();
    expectTypeOf<ContextEvent['wallTimeNs']>().toEqualTypeOf<bigint>();
    expectTypeOf<ProcessContext['key']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ProcessContext['argv']>().toEqualTypeOf<readonly string[] | undefined>();
    expectTypeOf<ProcessContext['container']>().toEqualTypeOf<ContainerRef | undefined>();
    // The decoder reserves exactly these (decodeBatch's withContext).
    expectTypeOf<(typeof EVENT_CONTEXT_KEYS)[number]>().toEqualTypeOf<keyof EventContext>();
  });
});
