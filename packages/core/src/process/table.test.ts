import { describe, expect, it } from 'vitest';
import { processKey } from './key.js';
import { ProcessTable } from './table.js';
import { BOOT, eventOf, snapshotOf } from '../../test/process-events.js';

const MS = 1_000_000n;
const key = (pid: number, startTime: bigint) => processKey(BOOT, pid, startTime);

/** init(1) -> sh(100) from the snapshot. */
function seeded(options = {}) {
  const table = new ProcessTable(BOOT, options);
  table.observe(snapshotOf({ pid: 1, startTime: 10n }));
  table.observe(
    snapshotOf({ pid: 100, startTime: 500n, ppid: 1, parentStartTime: 10n, comm: 'sh', exe: '/bin/sh', argv: ['sh', '-i'], cwd: '/root', uid: 1000, gid: 100 }),
  );
  return table;
}

describe('ProcessTable', () => {
  it('is seeded from snapshot records, with parent keys and ancestry', () => {
    const table = seeded();
    const sh = table.lookup(100, 500n)!;
    expect(sh).toMatchObject({ key: key(100, 500n), ppid: 1, parentKey: key(1, 10n), argv: ['sh', '-i'], cwd: '/root', uid: 1000, exit: undefined });
    expect(table.ancestry(sh).map((p) => p.pid)).toEqual([1]);
    expect(table.get(key(1, 10n))?.parentKey).toBeUndefined();
  });

  it('fork adds a child running its parent image; exec replaces it', () => {
    const table = seeded();
    table.observe(eventOf('fork', { time: 1000n, pid: 100, parentStartTime: 500n, childPid: 101, childStartTime: 900n, comm: 'sh', cgroupId: 7n }));
    expect(table.lookup(101, 900n)).toMatchObject({ ppid: 100, parentKey: key(100, 500n), exe: '/bin/sh', argv: ['sh', '-i'], uid: 1000, cgroupId: 7n });
    table.observe(
      eventOf('exec', { time: 1100n, pid: 101, startTime: 900n, ppid: 100, parentStartTime: 500n, comm: 'cat', filename: 'cat', exe: '/usr/bin/cat', argv: ['cat', 'f'], cwd: '/tmp', uid: 0, gid: 0 }),
    );
    const cat = table.lookup(101, 900n)!;
    expect(cat).toMatchObject({ comm: 'cat', exe: '/usr/bin/cat', argv: ['cat', 'f'], cwd: '/tmp', uid: 0 });
    expect(table.ancestry(cat).map((p) => p.comm)).toEqual(['sh', 'init']);
  });

  it('a thread creation adds no process; a failed exec changes nothing', () => {
    const table = seeded();
    table.observe(eventOf('fork', { pid: 100, parentStartTime: 500n, childPid: 100, childTid: 102, childStartTime: 500n, thread: true }));
    table.observe(eventOf('exec-failed', { pid: 100, comm: 'sh', filename: '/nope', argv: ['/nope'] }));
    expect(table.size).toBe(2);
    expect(table.lookup(100, 500n)).toMatchObject({ exe: '/bin/sh', argv: ['sh', '-i'] });
  });

  it('an exited process keeps resolving, with its exit status, for lingerMs of event time, then goes', () => {
    const table = seeded({ lingerMs: 100 });
    table.observe(eventOf('exit', { time: 1000n * MS, pid: 100, startTime: 500n, exitCode: 3, comm: 'sh' }));
    expect(table.lookup(100, 500n)?.exit).toEqual({ code: 3, signal: 0, coreDumped: false, time: 1000n * MS });
    table.observe(eventOf('open', { time: 1099n * MS, pid: 1, startTime: 10n }));
    expect(table.lookup(100, 500n), 'still lingering').toBeDefined();
    table.observe(eventOf('open', { time: 1100n * MS, pid: 1, startTime: 10n }));
    expect(table.lookup(100, 500n)).toBeUndefined();
    expect(table.lookup(100)).toBeUndefined();
  });

  it('looks up by pid alone the newest process with that pid (events without a start time)', () => {
    const table = seeded();
    table.observe(eventOf('fork', { time: 2n, pid: 1, parentStartTime: 10n, childPid: 100, childStartTime: 800n }));
    expect(table.lookup(100)?.startTime).toBe(800n);
    expect(table.lookup(100, 500n)?.startTime, 'the older one by its key').toBe(500n);
  });

  it('asked the same again, answers anew once the table changed (a new process with the pid, another looked up, one gone)', () => {
    const table = seeded();
    expect(table.lookup(100)?.startTime).toBe(500n);
    expect(table.lookup(100)?.startTime).toBe(500n);
    table.observe(eventOf('fork', { time: 2n, pid: 1, parentStartTime: 10n, childPid: 100, childStartTime: 800n }));
    expect(table.lookup(100)?.startTime, 'the pid reused by a newer process').toBe(800n);
    expect(table.lookup(100, 500n)?.startTime).toBe(500n);
    expect(table.lookup(1)?.pid).toBe(1);
    expect(table.lookup(100, 500n)?.comm, 'after another lookup').toBe('sh');
    table.observe(eventOf('exit', { time: 3n, pid: 100, startTime: 500n, comm: 'sh' }));
    expect(table.lookup(100, 500n)?.exit, 'its exit is seen at once').toBeDefined();
  });

  it('approximate (from /proc) entries match exact start times within a tick, and exec gives them the exact key', () => {
    const table = new ProcessTable(BOOT);
    table.observe(snapshotOf({ pid: 50, startTime: 70n * MS, approximate: true, comm: 'sleep' }));
    const exact = 70n * MS + 4_321_000n;
    expect(table.lookup(50, exact)).toMatchObject({ approximate: true, comm: 'sleep' });
    expect(table.lookup(50, exact + 30n * MS), 'too far: another process').toBeUndefined();
    table.observe(eventOf('exec', { pid: 50, startTime: exact, comm: 'true', argv: ['true'] }));
    expect(table.lookup(50, exact)).toMatchObject({ key: key(50, exact), approximate: false });
    expect(table.size).toBe(1);
  });

  it('never holds more than its capacity: the least recently used go first', () => {
    const table = seeded({ capacity: 3 });
    table.lookup(1, 10n); // init used more recently than sh
    for (let pid = 200; pid < 210; pid++) {
      table.observe(eventOf('fork', { time: BigInt(pid), pid: 1, parentStartTime: 10n, childPid: pid, childStartTime: BigInt(pid) }));
      expect(table.size).toBeLessThanOrEqual(3);
    }
    expect(table.lookup(100, 500n)).toBeUndefined();
    expect(table.lookup(1, 10n), 'the parent of every fork is used by each').toBeDefined();
    expect([...table.entries()].map((p) => p.pid).sort()).toEqual([1, 208, 209]);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new ProcessTable(BOOT, { capacity: 0 })).toThrow(RangeError);
  });
});
