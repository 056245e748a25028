import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { arch, hostname, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ABI, KmonError, parseSessionOptions, type BatchSink, type KernelBinding, type LostNotice, type RawKernelStats } from '@kmon/core';
import { concatBatch, createMockBinding, encodeRecord } from '@kmon/core/testing';
import { describe, expect, it } from 'vitest';
import { KmonCaptureError } from './errors.js';
import { encodeBlock, encodeEntry } from './format.js';
import { headerNow } from './header.js';
import { CaptureReader, readCaptureHeader, type CaptureEntry } from './reader.js';
import { recordingBinding } from './record.js';
import { replayBinding, type ReplaySession } from './replay.js';
import { fuzzCapture } from './testing/fuzz.js';
import { CaptureWriter } from './writer.js';

const dir = mkdtempSync(join(tmpdir(), 'kmon-capture-'));
let files = 0;
const scratch = () => join(dir, `c${files++}.kmon`);

const exit = (seq: number) => encodeRecord({ kind: 'exit', header: { seq, tgid: 100 + seq }, body: { exit_code: seq, comm: 'sh' } });
const counters = (dropped: number): RawKernelStats => ({
  cpus: [{ attempted: 10 + dropped, dropped: [0, 0, dropped, ...new Array<number>(ABI.kindCount - 3).fill(0)], truncated: 0 }],
  bindingDropped: 0,
});
const options = parseSessionOptions({});

/** A capture with `batches` batches of 3 records, a counter reading after each; small blocks so there are many. */
function writeCapture(path: string, batches: number, blockBytes = 512, now?: () => bigint) {
  const writer = new CaptureWriter(path, { blockBytes, ...(now && { now }) });
  writer.header(headerNow('mock', options));
  const written: CaptureEntry[] = [];
  for (let i = 0; i < batches; i++) {
    const batch = concatBatch([exit(3 * i), exit(3 * i + 1), exit(3 * i + 2)]);
    writer.batch(batch);
    writer.counters(counters(i));
    written.push({ type: 'batch', time: 0n, batch }, { type: 'counters', time: 0n, stats: counters(i) });
  }
  return { writer, written };
}

async function readAll(path: string) {
  const reader = await CaptureReader.open(path);
  const entries: CaptureEntry[] = [];
  for await (const entry of reader.entries()) entries.push(entry);
  return { reader, entries, ending: reader.ending! };
}

const withoutTime = (entries: CaptureEntry[]) =>
  entries.map((e) => (e.type === 'batch' ? { ...e, time: 0n, batch: Buffer.from(e.batch) } : { ...e, time: 0n }));

/** A sink that writes down every call, and what stats() returned inside each batch. */
function recordingSink(session: () => { stats(): RawKernelStats } | undefined) {
  const calls: unknown[] = [];
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  const sink: BatchSink = {
    onBatch: (batch, origin) => calls.push(['batch', Buffer.from(batch), session()?.stats(), ...(origin ? [origin] : [])]),
    onError: (error) => (calls.push(['error', error.message]), ended()),
    onCountersChanged: () => calls.push(['counters', session()?.stats()]),
    onLoss: (notice) => calls.push(['loss', notice]),
    onEnd: () => ended(),
  };
  return { sink, calls, done };
}

describe('capture file', () => {
  it('reads back every entry in order, with the header, and says it is complete', async () => {
    const path = scratch();
    const { writer, written } = writeCapture(path, 40);
    writer.end();
    expect(writer.summary).toMatchObject({ batches: 40, counterReadings: 40 });
    expect(writer.summary.blocks).toBeGreaterThan(5);
    const { reader, entries, ending } = await readAll(path);
    expect(reader.header).toMatchObject({ format: 2, kmonVersion: '0.1.0', abiVersion: ABI.version, binding: 'mock', options: { kinds: ['exec', 'exit', 'fork'] } });
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(reader.header.host).toEqual({ hostname: hostname(), platform: 'linux', arch: arch(), kernel: release(), bootId });
    const { monotonicNs, wallNs } = reader.header.clock; // read together: their difference is the monotonic-to-wall offset
    const offsetNow = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
    expect(Math.abs(Number(BigInt(wallNs) - BigInt(monotonicNs) - offsetNow) / 1e6)).toBeLessThan(1000); // ms: the same offset, loosely
    expect(withoutTime(entries)).toEqual(withoutTime(written));
    expect(ending).toEqual({ complete: true, readBytes: readFileSync(path).length, cutBytes: 0 });
  });

  it('is one standard gzip stream (zcat shows the entries)', () => {
    const path = scratch();
    writeCapture(path, 10).writer.end();
    const plain = gunzipSync(readFileSync(path));
    expect(plain.readUInt32LE(0)).toBe(1); // the header entry
    expect(plain.subarray(16, 16 + 11).toString()).toBe('{"format":2');
  });

  it('a capture cut anywhere in its last block reads back every block before the cut and says how much was cut', async () => {
    const path = scratch();
    writeCapture(path, 30).writer.end();
    const whole = readFileSync(path);
    const all = await readAll(path);
    // The last block starts where the capture without it ends: find it by cutting at its start.
    const blockStarts: number[] = [];
    for (let at = 0; at < whole.length; at += whole.readUInt32LE(at + 16)) blockStarts.push(at);
    const lastStart = blockStarts.at(-1)!;
    for (const cut of [lastStart, lastStart + 1, lastStart + 23, lastStart + 24, lastStart + 40, whole.length - 1]) {
      writeFileSync(path, whole.subarray(0, cut));
      const { entries, ending } = await readAll(path);
      expect(ending).toEqual({ complete: false, readBytes: lastStart, cutBytes: cut - lastStart });
      expect(entries.length).toBeGreaterThan(0);
      expect(withoutTime(entries)).toEqual(withoutTime(all.entries.slice(0, entries.length)));
    }
  });

  it('a recording killed between blocks reads back whole, as cut (no end marker)', async () => {
    const path = scratch();
    const { writer, written } = writeCapture(path, 5, 1 << 20);
    writer.flush(); // what the flush timer does; then the process dies
    const { entries, ending } = await readAll(path);
    expect(withoutTime(entries)).toEqual(withoutTime(written));
    expect(ending).toMatchObject({ complete: false, cutBytes: 0 });
  });

  it('refuses what it cannot read with a typed error naming the byte offset', async () => {
    const path = scratch();
    writeFileSync(path, 'hello, this is not a kmon capture file');
    await expect(CaptureReader.open(path)).rejects.toThrow(/^not a kmon capture .*\(capture byte 0\)$/);
    writeCapture(path, 30).writer.end();
    const whole = readFileSync(path);
    const second = whole.readUInt32LE(16);
    whole[second + 40]! ^= 0x55; // inside block 1's compressed data
    writeFileSync(path, whole);
    const error = await readAll(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmonCaptureError);
    expect(error).toMatchObject({ code: 'KMON_CAPTURE', offset: second, message: expect.stringMatching(/block 1/) });
  });

  it('refuses a capture of another record ABI or a newer format, and says which kmon can read it', async () => {
    for (const [change, message] of [
      [{ abiVersion: ABI.version + 1 }, new RegExp(`records of ABI ${ABI.version + 1}, this kmon decodes ABI ${ABI.version}`)],
      [{ format: 9 }, /format 9, this kmon reads format 2/],
    ] as const) {
      const path = scratch();
      const header = { ...headerNow('mock', options), ...change };
      writeFileSync(path, encodeBlock(encodeEntry('header', 0n, Buffer.from(JSON.stringify(header))), 0, 1));
      await expect(readCaptureHeader(path)).rejects.toThrow(message);
      await expect(readCaptureHeader(path)).rejects.toMatchObject({ hint: expect.stringMatching(/kmon 0\.1\.0/) });
    }
  });

  it('random damage gives typed errors only (fuzz sample; the 100k run is `pnpm --filter @kmon/bench capture fuzz`)', async () => {
    const path = scratch();
    writeCapture(path, 12).writer.end();
    const result = await fuzzCapture(readFileSync(path), 1000, 7);
    expect(result.untyped).toEqual([]);
    expect(result.typed).toBeGreaterThan(700);
  });

  it('a full disk ends the recording session with a typed error; what was written stays readable', async () => {
    const binding = createMockBinding();
    const writer = new CaptureWriter('/dev/full', { blockBytes: 64 });
    const { sink, calls, done } = recordingSink(() => undefined);
    recordingBinding(binding, writer).open(options, sink);
    binding.current!.deliver(exit(0));
    await done;
    expect(calls.at(-1)).toEqual(['error', expect.stringMatching(/cannot write the capture \/dev\/full: ENOSPC/)]);
    expect(binding.current!.closed).toBe(true);
  });
});

describe('recordingBinding and replayBinding', () => {
  /** Records a mock session: batches, counter readings (some inside a batch, as on a gap), and stop. */
  function recordMockSession(path: string) {
    const binding = createMockBinding();
    const writer = new CaptureWriter(path, { blockBytes: 256 });
    let session: ReturnType<typeof recordingBinding>['open'] extends (...a: never[]) => infer S ? S : never;
    const live = recordingSink(() => session);
    session = recordingBinding(binding, writer).open(options, live.sink);
    const mock = binding.current!;
    session.stats();
    mock.deliver(concatBatch([exit(0), exit(1)]));
    mock.setStats(counters(2));
    mock.deliver(exit(4)); // the consumer reads the counters inside this batch
    mock.setStats(counters(3));
    session.stats(); // a periodic reading between batches: its drop shows up there
    live.sink.onCountersChanged?.();
    mock.deliver(exit(5));
    session.stats();
    session.close();
    return { live, mock };
  }

  it('replay hands a consumer the same batches and the same counters at the same points', async () => {
    const path = scratch();
    const { live } = recordMockSession(path);
    const binding = replayBinding(path);
    let session: ReplaySession | undefined;
    const replayed = recordingSink(() => session);
    session = binding.open(options, replayed.sink);
    await replayed.done;
    expect(replayed.calls).toEqual(live.calls);
    expect(binding.ending).toMatchObject({ complete: true, cutBytes: 0 });
    expect(session.stats()).toEqual(counters(3));
  });

  it("replay returns the recorded session's clock; a capture older than session clocks falls back to its own clock reading", async () => {
    const path = scratch();
    const clock = { bootId: 'b0a7-1d', realtimeOffsetNs: 1_764_000_000_123_456_789n };
    const writer = new CaptureWriter(path);
    const live = recordingBinding(createMockBinding({ clock }), writer).open(options, recordingSink(() => undefined).sink);
    expect(live.clock()).toEqual(clock);
    live.close();
    expect(replayBinding(path).open(options, recordingSink(() => undefined).sink).clock()).toEqual(clock);

    const old = scratch();
    const { writer: oldWriter } = writeCapture(old, 1); // headerNow without a session clock, as before it existed
    oldWriter.end();
    const header = await readCaptureHeader(old);
    expect(header.sessionClock).toBeUndefined();
    expect(replayBinding(old).open(options, recordingSink(() => undefined).sink).clock()).toEqual({
      bootId: header.host.bootId,
      realtimeOffsetNs: BigInt(header.clock.wallNs) - BigInt(header.clock.monotonicNs),
    });
  });

  it("records the loss notices from upstream of the binding (a fleet exporter's) where they came, and replays them there", async () => {
    const path = scratch();
    const mock = createMockBinding();
    let upstream: BatchSink | undefined;
    const fleet: KernelBinding = { ...mock, open: (o, sink) => ((upstream = sink), mock.open(o, sink)) };
    const writer = new CaptureWriter(path, { blockBytes: 64 });
    const live = recordingSink(() => undefined);
    const session = recordingBinding(fleet, writer).open(options, live.sink);
    const exported: LostNotice = { kind: 'lost', cause: 'export', count: 7, byKind: { exec: 7 }, host: 'web-1' };
    const cut = new KmonError('KMON_PROTOCOL', 'record 3 is cut', { hint: 'a driver bug' });
    const malformed: LostNotice = { kind: 'lost', cause: 'malformed', count: 1, atLeast: true, byKind: {}, error: cut, host: 'web-2' };
    mock.current!.deliver(exit(0));
    upstream!.onLoss!(exported);
    mock.current!.deliver(exit(1));
    upstream!.onLoss!(malformed);
    session.close();
    expect(writer.summary.lossNotices).toBe(2);
    expect(live.calls.map((c) => (c as unknown[])[0])).toEqual(['batch', 'loss', 'batch', 'loss']);

    const replayed = recordingSink(() => undefined);
    replayBinding(path).open(options, replayed.sink);
    await replayed.done;
    expect(replayed.calls).toEqual(live.calls);
    expect((replayed.calls[3] as [string, LostNotice])[1].error).toMatchObject({ code: 'KMON_PROTOCOL', hint: 'a driver bug' });
  });

  it('records the host and clock of each batch a fleet binding hands over, and replays each batch with its origin', async () => {
    const path = scratch();
    const mock = createMockBinding();
    let upstream: BatchSink | undefined;
    const fleet: KernelBinding = { ...mock, open: (o, sink) => ((upstream = sink), mock.open(o, sink)) };
    const live = recordingSink(() => undefined);
    const session = recordingBinding(fleet, new CaptureWriter(path, { blockBytes: 64 })).open(options, live.sink);
    const web1 = { host: 'web-1', clock: { bootId: 'b-1', realtimeOffsetNs: -5n } };
    const web2 = { host: 'web-2', clock: { bootId: 'b-2', realtimeOffsetNs: 1_764_000_000_000_000_000n } };
    upstream!.onBatch(exit(0), web1);
    upstream!.onBatch(exit(1), web2);
    mock.current!.deliver(exit(2)); // this session's own
    upstream!.onBatch(exit(3), web1);
    session.close();
    expect(live.calls.map((c) => (c as unknown[])[3])).toEqual([web1, web2, undefined, web1]);

    const replayed = recordingSink(() => undefined);
    replayBinding(path).open(options, replayed.sink);
    await replayed.done;
    expect(replayed.calls).toEqual(live.calls);
  });

  it('replays a recorded session error as a KmonError with its code and hint', async () => {
    const path = scratch();
    const binding = createMockBinding();
    const writer = new CaptureWriter(path);
    const live = recordingSink(() => undefined);
    recordingBinding(binding, writer).open(options, live.sink);
    binding.current!.deliver(exit(0));
    binding.current!.fail(new KmonError('KMON_DRIVER', 'the driver died', { hint: 'reload it' }));
    const errors: Error[] = [];
    const replayed = recordingSink(() => undefined);
    replayBinding(path).open(options, { ...replayed.sink, onError: (e) => (errors.push(e), replayed.sink.onError(e)) });
    await replayed.done;
    expect(errors[0]).toMatchObject({ code: 'KMON_DRIVER', message: 'the driver died', hint: 'reload it' });
    expect(replayed.calls[0]).toEqual(['batch', Buffer.from(exit(0)), undefined]);
  });

  it('at speed 1 keeps the recorded spacing of batches, at speed 2 half of it (never early)', async () => {
    const path = scratch();
    let t = 0n;
    const { writer } = writeCapture(path, 4, 512, () => (t += 40_000_000n)); // batches 80 ms apart
    writer.end();
    for (const speed of [1, 2]) {
      const at: number[] = [];
      const replayed = recordingSink(() => undefined);
      replayBinding(path, { speed }).open(options, { ...replayed.sink, onBatch: () => at.push(performance.now()) });
      await replayed.done;
      expect(at).toHaveLength(4);
      // Late is allowed (a busy machine), early is not: each batch is due 80/speed ms after the one before.
      at.forEach((ms, k) => expect(ms - at[0]!).toBeGreaterThanOrEqual((k * 80) / speed - 2));
    }
  });

  it('pause stops the replay reading; resume continues where it stopped', async () => {
    const path = scratch();
    writeCapture(path, 50).writer.end();
    const replayed = recordingSink(() => undefined);
    const session = replayBinding(path).open(options, replayed.sink);
    session.pause();
    await new Promise((r) => setTimeout(r, 50));
    expect(replayed.calls).toHaveLength(0);
    session.resume();
    await replayed.done;
    expect(replayed.calls.filter((c) => (c as unknown[])[0] === 'batch')).toHaveLength(50);
  });

  it('an unreadable capture reaches the consumer as a typed error, never a throw', async () => {
    const path = scratch();
    writeCapture(path, 3).writer.end();
    truncateSync(path, 10);
    const replayed = recordingSink(() => undefined);
    replayBinding(path).open(options, replayed.sink);
    await replayed.done;
    expect(replayed.calls).toEqual([['error', expect.stringMatching(/cut before its first block ended/)]]);
    expect(() => replayBinding(path, { speed: 0 })).toThrow(/replay speed 0/);
  });
});
