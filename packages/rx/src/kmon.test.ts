import { concatBatch, createMockBinding, encodeRecord, type MockBinding } from '@kmon/core/testing';
import { ABI, KmonOptionsError, KmonPermissionError, KmonUnsupportedError, emptyStats, type KmonMessage } from '@kmon/core';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createKmon, events } from './kmon.js';

const exitRecord = (seq: number, cpu = 0) =>
  encodeRecord({ kind: 'exit', header: { seq, cpu, tgid: 10 + seq }, body: { exit_code: seq, comm: 'sh' } });

const dropped = (exec: number) => ({ cpus: [{ attempted: 0, dropped: [0, exec, 0, 0, 0, 0, 0], truncated: 0 }] });

describe('createKmon (mock binding)', () => {
  let binding: MockBinding;
  beforeEach(() => {
    binding = createMockBinding();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('validates options before anything is attached', () => {
    expect(() => createKmon({ wakeup: 'sometimes' as never }, { binding })).toThrow(KmonOptionsError);
    expect(binding.sessions).toHaveLength(0);
  });

  it('refuses up front what the binding cannot honour, naming its platform, and attaches nothing', () => {
    const limited = createMockBinding({ capabilities: { platform: 'Plan 9', kinds: ['exec', 'exit'], options: [] } });
    expect(() => createKmon({ kinds: ['fork'] }, { binding: limited })).toThrow(/^Plan 9 cannot record fork events$/);
    expect(() => createKmon({ threads: true }, { binding: limited })).toThrow(KmonUnsupportedError);
    createKmon({}, { binding: limited }).events$.subscribe().unsubscribe();
    expect(limited.sessions.map((s) => s.options.kinds)).toEqual([['exec', 'exit']]);
  });

  it('attaches on the first subscriber, shares one session, detaches after the grace period', () => {
    const kmon = createKmon({}, { binding, graceMs: 100 });
    expect(binding.sessions).toHaveLength(0);
    const seenA: KmonMessage[] = [];
    const seenB: KmonMessage[] = [];
    const a = kmon.events$.subscribe((m) => seenA.push(m));
    const b = kmon.events$.subscribe((m) => seenB.push(m));
    expect(binding.sessions).toHaveLength(1);
    binding.current!.deliver(concatBatch([exitRecord(0), exitRecord(1)]));
    expect(seenA.map((m) => m.kind)).toEqual(['exit', 'exit']);
    expect(seenB).toEqual(seenA);
    a.unsubscribe();
    b.unsubscribe();
    expect(binding.current!.closed).toBe(false);
    vi.advanceTimersByTime(100);
    expect(binding.current!.closed).toBe(true);
  });

  it('keeps the session when a subscriber comes back within the grace period', () => {
    const kmon = createKmon({}, { binding, graceMs: 100 });
    kmon.events$.subscribe().unsubscribe();
    vi.advanceTimersByTime(50);
    const again = kmon.events$.subscribe();
    vi.advanceTimersByTime(500);
    expect(binding.sessions).toHaveLength(1);
    expect(binding.current!.closed).toBe(false);
    again.unsubscribe();
  });

  it('hands the parsed options to the binding', () => {
    createKmon({ kinds: ['exit'], argvBytes: 128 }, { binding }).events$.subscribe();
    // With the process snapshot, which seeds the session's process table.
    expect(binding.current!.options).toMatchObject({ kinds: ['exit', 'process'], argvBytes: 128, wakeup: 'adaptive' });
  });

  it('changes the filters of the live session, and a later session starts with them', () => {
    const kmon = createKmon({ filters: { network: { loopback: false } } }, { binding, graceMs: 100 });
    const sub = kmon.events$.subscribe();
    expect(binding.current!.filters.network.loopback).toBe(false);
    kmon.setFilters({ network: { include: ['10.1.2.3/8'] } });
    expect(binding.current!.filters.network).toMatchObject({ include: ['10.0.0.0/8'], loopback: true });
    expect(() => kmon.setFilters({ network: { ports: [70000] } })).toThrow(KmonOptionsError);
    expect(binding.current!.filters.network.include).toEqual(['10.0.0.0/8']); // a refused change leaves them
    sub.unsubscribe();
    vi.advanceTimersByTime(100);
    kmon.events$.subscribe();
    expect(binding.sessions).toHaveLength(2);
    expect(binding.current!.filters.network.include).toEqual(['10.0.0.0/8']);
  });

  it('process filters set before the first subscriber are the ones the session opens with', () => {
    const kmon = createKmon({}, { binding, graceMs: 0 });
    kmon.setFilters({ process: { pids: [7] } }); // detached: kept for the attach
    const subscription = kmon.events$.subscribe();
    expect(binding.current!.options.filters.process.pids).toEqual([7]);
    kmon.setFilters({ process: { uids: [0], children: false } });
    expect(binding.current!.filters.process).toMatchObject({ pids: [], uids: [0], children: false });
    expect(() => kmon.setFilters({ process: { pids: [-1] } })).toThrow(KmonOptionsError);
    expect(binding.current!.filters.process.uids).toEqual([0]);
    subscription.unsubscribe();
    vi.advanceTimersByTime(0);
    kmon.events$.subscribe();
    expect(binding.current!.options.filters.process.uids).toEqual([0]);
  });

  it('reports a sequence gap in-band with the kernel drop counts', () => {
    const seen: KmonMessage[] = [];
    createKmon({}, { binding }).events$.subscribe((m) => seen.push(m));
    binding.current!.deliver(exitRecord(0));
    binding.current!.setStats(dropped(2));
    binding.current!.deliver(exitRecord(3));
    expect(seen.map((m) => m.kind)).toEqual(['exit', 'exit', 'lost']);
    expect(seen[2]).toEqual({
      kind: 'lost',
      cause: 'ring-full',
      count: 2,
      byKind: { exec: 2 },
      gaps: [{ cpu: 0, from: 1, to: 3 }],
    });
  });

  it('reports drops found by the periodic counter check, once', () => {
    const seen: KmonMessage[] = [];
    createKmon({}, { binding, statsIntervalMs: 50 }).events$.subscribe((m) => seen.push(m));
    binding.current!.setStats(dropped(5));
    vi.advanceTimersByTime(200);
    expect(seen).toEqual([{ kind: 'lost', cause: 'ring-full', count: 5, byKind: { exec: 5 } }]);
  });

  it('turns a malformed record into a lost notice carrying the protocol error, and goes on', () => {
    const seen: KmonMessage[] = [];
    createKmon({}, { binding }).events$.subscribe((m) => seen.push(m));
    const bad = encodeRecord({ kind: 'exit', header: { kind: 77 } });
    binding.current!.deliver(concatBatch([bad, exitRecord(1)]));
    expect(seen.map((m) => m.kind)).toEqual(['exit', 'lost']);
    expect(seen[1]).toMatchObject({ cause: 'malformed', count: 1, error: { code: 'KMON_PROTOCOL', field: 'hdr.kind' } });
    expect(seen[1]).not.toHaveProperty('atLeast');
  });

  it('a framing fault is reported as at least one lost record: the rest of its batch is unreadable', () => {
    const seen: KmonMessage[] = [];
    createKmon({}, { binding }).events$.subscribe((m) => seen.push(m));
    const future = encodeRecord({ kind: 'exit', header: { abi_version: ABI.version + 1 } });
    binding.current!.deliver(concatBatch([exitRecord(0), future, exitRecord(2)]));
    expect(seen.map((m) => m.kind)).toEqual(['exit', 'lost']);
    expect(seen[1]).toMatchObject({ cause: 'malformed', count: 1, atLeast: true, error: { field: 'hdr.abi_version' } });
  });

  it('sends an open failure to error with its typed error', async () => {
    binding.failNextOpen(new KmonPermissionError('bpf() refused'));
    await expect(firstValueFrom(events({}, { binding }))).rejects.toBeInstanceOf(KmonPermissionError);
  });

  it('sends a driver failure to error and detaches: the session is released and its counters no longer read', async () => {
    const kmon = createKmon({}, { binding, statsIntervalMs: 10 });
    const done = lastValueFrom(kmon.events$);
    const session = binding.current!;
    const close = vi.spyOn(session, 'close');
    const stats = vi.spyOn(session, 'stats');
    session.fail(new Error('ring fd died'));
    await expect(done).rejects.toThrow('ring fd died');
    expect(close).toHaveBeenCalled();
    stats.mockClear();
    vi.advanceTimersByTime(100);
    expect(stats).not.toHaveBeenCalled();
    expect(kmon.stats()).toEqual(emptyStats());
  });

  it('stop() detaches first, then delivers everything left, reports final drops, completes and closes', async () => {
    const kmon = createKmon({}, { binding, graceMs: 0 });
    const all = lastValueFrom(kmon.events$.pipe(toArray()));
    const session = binding.current!;
    const read = session.read.bind(session);
    let readsBeforeDetach = 0;
    session.read = () => ((readsBeforeDetach += session.detached ? 0 : 1), read());
    session.queue(exitRecord(0));
    session.setStats(dropped(1));
    kmon.stop();
    expect((await all).map((m) => m.kind)).toEqual(['exit', 'lost']);
    expect(readsBeforeDetach).toBe(0);
    expect(session.closed).toBe(true);
  });

  it('a failing counter read ends the stream with the error instead of escaping the timer', async () => {
    const kmon = createKmon({}, { binding, statsIntervalMs: 10 });
    const done = lastValueFrom(kmon.events$);
    binding.current!.stats = () => {
      throw new Error('stats ioctl failed');
    };
    vi.advanceTimersByTime(20);
    await expect(done).rejects.toThrow('stats ioctl failed');
  });

  it('messages that arrive in the grace period are reported to the next subscriber as unobserved', () => {
    const kmon = createKmon({}, { binding, graceMs: 100 });
    kmon.events$.subscribe().unsubscribe();
    binding.current!.deliver(concatBatch([exitRecord(0), exitRecord(1)]));
    const seen: KmonMessage[] = [];
    kmon.events$.subscribe((m) => seen.push(m));
    binding.current!.deliver(exitRecord(2));
    expect(seen).toEqual([{ kind: 'lost', cause: 'unobserved', count: 2, byKind: { exit: 2 } }, expect.objectContaining({ kind: 'exit', seq: 2 })]);
  });

  it('pull model: readable$ says records wait, read() drains all of them on demand', () => {
    const kmon = createKmon({ wakeup: 'pull' }, { binding });
    let told = 0;
    const sub = kmon.readable$.subscribe(() => told++);
    expect(binding.current!.options.wakeup).toBe('pull');
    binding.current!.queue(concatBatch([exitRecord(0), exitRecord(1)]));
    binding.current!.queue(exitRecord(2));
    expect(told).toBe(2);
    expect(kmon.read().map((m) => m.kind)).toEqual(['exit', 'exit', 'exit']);
    expect(kmon.read()).toEqual([]);
    sub.unsubscribe();
  });

  it('pull model: drops found by the periodic check wait for the next read()', () => {
    const kmon = createKmon({ wakeup: 'pull' }, { binding, statsIntervalMs: 50 });
    const pushed: KmonMessage[] = [];
    const sub = kmon.events$.subscribe((m) => pushed.push(m));
    binding.current!.setStats(dropped(3));
    vi.advanceTimersByTime(100);
    expect(pushed).toEqual([]);
    expect(kmon.read()).toEqual([{ kind: 'lost', cause: 'ring-full', count: 3, byKind: { exec: 3 } }]);
    sub.unsubscribe();
  });

  it('batches$ delivers one array per kernel batch', async () => {
    const kmon = createKmon({}, { binding });
    const two = firstValueFrom(kmon.batches$.pipe(take(2), toArray()));
    binding.current!.deliver(concatBatch([exitRecord(0), exitRecord(1)]));
    binding.current!.deliver(exitRecord(2));
    expect((await two).map((batch) => batch.length)).toEqual([2, 1]);
  });

  describe('pause', () => {
    it('stops delivery until resumed, keeps loss for the resumed stream, and resumes once every pause is resumed', () => {
      const kmon = createKmon({}, { binding, statsIntervalMs: 10 });
      const seen: KmonMessage[] = [];
      kmon.events$.subscribe((m) => seen.push(m));
      const resumeA = kmon.pause();
      const resumeB = kmon.pause();
      expect(binding.current!.paused).toBe(true);
      binding.current!.deliver(exitRecord(0));
      binding.current!.setStats(dropped(5));
      vi.advanceTimersByTime(100); // the periodic check finds the drops, and keeps them for the resume
      expect(seen).toEqual([]);
      resumeA();
      resumeA(); // a second call of one resume does not count
      expect(binding.current!.paused).toBe(true);
      resumeB();
      expect(binding.current!.paused).toBe(false);
      vi.advanceTimersByTime(10);
      expect(seen.map((m) => m.kind)).toEqual(['exit', 'lost']);
      expect(seen[1]).toMatchObject({ cause: 'ring-full', count: 5 });
    });

    it('a pause taken before the session attaches applies to it', () => {
      const kmon = createKmon({}, { binding });
      kmon.pause();
      kmon.events$.subscribe();
      expect(binding.current!.paused).toBe(true);
    });

    it('stop() still delivers everything that waited', () => {
      const kmon = createKmon({}, { binding });
      const seen: KmonMessage[] = [];
      kmon.events$.subscribe((m) => seen.push(m));
      kmon.pause();
      binding.current!.queue(exitRecord(0)); // waits in the "ring": stop's drain reads it
      kmon.stop();
      expect(seen.map((m) => m.kind)).toEqual(['exit']);
    });
  });
});
