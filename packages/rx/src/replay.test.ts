// A capture replayed through @kmon/rx: no native addon, no root, no kernel.
// A session on the mock binding is recorded, then replayed: the consumer must
// see the same events and the same loss notices, in the same order.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureWriter, recordingBinding, replayBinding } from '@kmon/capture';
import { ABI, type KernelBinding, type KmonMessage } from '@kmon/core';
import { concatBatch, createMockBinding, encodeRecord, type MockSession } from '@kmon/core/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createKmon } from './kmon.js';

const exit = (seq: number, cpu = 0) => encodeRecord({ kind: 'exit', header: { seq, cpu, tgid: 10 + seq }, body: { exit_code: seq, comm: 'sh' } });
const dropped = (exit: number, attempted = 0) => ({
  cpus: [{ attempted, dropped: [0, 0, exit, ...new Array<number>(ABI.kindCount - 3).fill(0)], truncated: 0 }],
});
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('createKmon on a replayed capture', () => {
  it('yields the events and loss notices the live session delivered, in order', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kmon-rx-replay-')), 'mock.kmon');
    const mock = createMockBinding();
    const live = createKmon({}, { binding: recordingBinding(mock, new CaptureWriter(path)), graceMs: 0, statsIntervalMs: 5 });
    const liveSeen = lastValueFrom(live.events$.pipe(toArray()));
    await tick();
    const session = mock.current!;
    session.deliver(concatBatch([exit(0), exit(1)]));
    session.setStats(dropped(2, 5)); // seqs 0-4 numbered: 2 and 3 dropped
    session.deliver(concatBatch([exit(4), exit(0, 1)])); // a gap on CPU 0: the counters are read inside this batch
    session.setStats(dropped(5, 9));
    await tick(30); // the periodic reading reports these 3 between batches
    session.deliver(exit(8));
    session.deliver(new Uint8Array(24)); // a malformed record
    session.setStats(dropped(6, 10));
    live.stop(); // the last drop is reported by the final reading
    const expected: KmonMessage[] = await liveSeen;
    expect(expected.filter((m) => m.kind === 'lost').map((m) => m.kind === 'lost' && [m.cause, m.count])).toEqual([
      ['ring-full', 2],
      ['ring-full', 3],
      ['malformed', 1],
      ['ring-full', 1],
    ]);

    const replay = replayBinding(path);
    const replayed = await lastValueFrom(createKmon({}, { binding: replay, graceMs: 0 }).events$.pipe(toArray()));
    expect(replayed).toEqual(expected);
    expect(replay.ending).toMatchObject({ complete: true, cutBytes: 0 });
  });

  it('seeds the process table from the recorded snapshot, handed over before open() returned, as the live session did', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kmon-rx-replay-')), 'snapshot.kmon');
    const snapshot = concatBatch([
      encodeRecord({ kind: 'process', header: { tgid: 1, seq: 0, cpu: 0xffff_ffff }, body: { start_ns: 10n, comm: 'init' }, vars: ['/sbin/init', '/', 'init\0'] }),
      encodeRecord({
        kind: 'process',
        header: { tgid: 50, seq: 1, cpu: 0xffff_ffff },
        body: { start_ns: 40n, parent_start_ns: 10n, ppid: 1, comm: 'sleep' },
        vars: ['/usr/bin/sleep', '/root', 'sleep\x00100\x00'],
      }),
    ]);
    const mock = createMockBinding();
    // As the native binding may: the snapshot reaches the sink while open() runs.
    const native: KernelBinding = {
      ...mock,
      open(options, sink) {
        const session = mock.open(options, sink) as MockSession;
        session.deliver(snapshot);
        return session;
      },
    };
    const live = createKmon({}, { binding: recordingBinding(native, new CaptureWriter(path)), graceMs: 0 });
    const liveSeen = lastValueFrom(live.events$.pipe(toArray()));
    await tick();
    mock.current!.deliver(encodeRecord({ kind: 'exit', header: { tgid: 50, seq: 0 }, body: { start_ns: 40n, comm: 'sleep' } }));
    live.stop();
    const expected = await liveSeen;
    expect(expected).toEqual([expect.objectContaining({ kind: 'exit', process: expect.objectContaining({ exe: '/usr/bin/sleep', argv: ['sleep', '100'] }) })]);

    const replayed = await lastValueFrom(createKmon({}, { binding: replayBinding(path), graceMs: 0 }).events$.pipe(toArray()));
    expect(replayed).toEqual(expected);
  });
});
