// Capture figures (see bench/README.md, "Captures"):
//
//   node dist/capture.js replay [--gib 1]   writes a capture of 1 GiB of exec/fork/exit records, replays it at max
//                                           speed in a fresh process (events/s, peak RSS), and runs the live kmon
//                                           path for comparison (synthetic 64 B records, adaptive)
//   node dist/capture.js fuzz [--runs 100000] [--seed 1]
//                                           reads that many mutated captures: every one must give a KmonCaptureError
//                                           or read as cut, never another exception
//
// Nothing is asserted: the figures are printed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureWriter, recordingBinding, replayBinding } from '@kmon/capture';
import { fuzzCapture } from '@kmon/capture/testing';
import { ABI, createKmon, parseSessionOptions, type BatchSink, type KernelBinding } from 'kmon';
import { concatBatch, createMockBinding, encodeRecord } from 'kmon/testing';
import { lastValueFrom, reduce } from 'rxjs';
import { runScenario } from './run.js';

const MiB = 1024 * 1024;
const BATCH_BYTES = 256 * 1024; // the default batchBytes

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

/** A batch of a process's life (fork, exec with argv, exit) repeated; `patch` makes each copy distinct. */
function batchTemplate() {
  const lifecycle = (pid: number) => [
    encodeRecord({ kind: 'fork', header: { tgid: 1000, tid: 1000 }, body: { child_tgid: pid, child_tid: pid, comm: 'bash' } }),
    encodeRecord({
      kind: 'exec',
      header: { tgid: pid, tid: pid },
      body: { ppid: 1000, comm: 'grep', argc: 4 },
      vars: ['/usr/bin/grep', 'grep\0-r\0--color=auto\0needle /var/log\0'],
    }),
    encodeRecord({ kind: 'exit', header: { tgid: pid, tid: pid }, body: { exit_code: 1, comm: 'grep' } }),
  ];
  const one = concatBatch(lifecycle(2000));
  const copies = Math.floor(BATCH_BYTES / one.length);
  return { batch: concatBatch(Array.from({ length: copies }, (_, i) => lifecycle(2000 + i)).flat()), records: copies * 3 };
}

const { size, seq: seqField, ts_ns } = ABI.header.fields;

/** Sequence numbers and times move on from record to record, as the kernel's do. */
function stamp(batch: Uint8Array, firstSeq: number, timeNs: bigint): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.length);
  for (let at = 0, seq = firstSeq; at < batch.length; at += view.getUint32(at + size.offset, true), seq++) {
    view.setBigUint64(at + seqField.offset, BigInt(seq), true);
    view.setBigUint64(at + ts_ns.offset, timeNs + BigInt(seq), true);
  }
}

/** Writes `bytes` of records as a live session would have recorded them. Returns the record count. */
function writeCapture(path: string, bytes: number): number {
  const { batch, records } = batchTemplate();
  const mock = createMockBinding();
  const session = recordingBinding(mock, new CaptureWriter(path)).open(parseSessionOptions({}), { onBatch: () => {}, onError: () => {} });
  let seq = 0;
  for (let written = 0; written < bytes; written += batch.length) {
    stamp(batch, seq, 1_000_000_000n + BigInt(seq) * 1000n);
    seq += records;
    mock.current!.deliver(batch);
    if ((seq / records) % 64 === 0) session.stats(); // a counter reading every 16 MiB, as rx's timer takes them
  }
  session.close();
  return seq;
}

/** In a fresh process: replay at max speed through createKmon, count events. */
async function replayChild(path: string) {
  const started = performance.now();
  const kmon = createKmon({}, { binding: replayBinding(path, { speed: 'max' }), graceMs: 0 });
  const events = await lastValueFrom(kmon.events$.pipe(reduce((n, m) => (m.kind === 'lost' ? n : n + 1), 0)));
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ events, seconds, maxRssKb: process.resourceUsage().maxRSS }));
}

async function replayBench() {
  const gib = arg('gib', 1);
  const dir = mkdtempSync(join(tmpdir(), 'kmon-bench-capture-'));
  const path = join(dir, 'big.kmon');
  try {
    let t = performance.now();
    const records = writeCapture(path, gib * 1024 * MiB);
    const writeS = (performance.now() - t) / 1000;
    const fileMiB = statSync(path).size / MiB;
    console.log(`capture: ${gib} GiB of records (${records} records), ${fileMiB.toFixed(0)} MiB on disk, written in ${writeS.toFixed(1)} s`);
    t = performance.now();
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'replay-child', path], { encoding: 'utf8' });
    const replay = JSON.parse(out) as { events: number; seconds: number; maxRssKb: number };
    if (replay.events !== records) console.log(`!! replay delivered ${replay.events} events of ${records}`);
    const live = await runScenario({ consumer: 'kmon', mode: 'adaptive', payload: 0, rate: 0, durationS: 3 });
    const liveRate = live.consumer?.rate ?? NaN;
    console.log('');
    console.log('                               events/s   peak RSS');
    console.log(`replay, max speed (${gib} GiB)${fmt(replay.events / replay.seconds)}   ${(replay.maxRssKb / 1024).toFixed(0).padStart(5)} MB`);
    console.log(`live kmon, synth 64 B       ${fmt(liveRate)}   ${((live.consumer?.max_rss_kb ?? NaN) / 1024).toFixed(0).padStart(5)} MB`);
    console.log(`(replay: ${replay.seconds.toFixed(1)} s for ${replay.events} events, ${((gib * 1024) / replay.seconds).toFixed(0)} MiB/s of records; target peak RSS < 200 MB)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number) => `${(n / 1e6).toFixed(2)}M`.padStart(9);

async function fuzzBench() {
  const runs = arg('runs', 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'kmon-bench-fuzz-'));
  const path = join(dir, 'seed.kmon');
  // A small capture with many blocks, counter readings, batches of fleet hosts (origin entries), loss
  // notices from upstream and an end marker: every part of the format gets hit.
  const mock = createMockBinding();
  let upstream: BatchSink | undefined;
  const fleet: KernelBinding = { ...mock, open: (options, sink) => ((upstream = sink), mock.open(options, sink)) };
  const session = recordingBinding(fleet, new CaptureWriter(path, { blockBytes: 600 })).open(parseSessionOptions({}), {
    onBatch: () => {},
    onError: () => {},
  });
  for (let seq = 0; seq < 24; seq++) {
    const batch = encodeRecord({ kind: 'exec', header: { seq, tgid: 10 + seq }, vars: ['/bin/sh', 'sh\0-c\0true\0'] });
    if (seq % 3 === 0) upstream!.onBatch(batch, { host: `web-${seq % 2}`, clock: { bootId: 'b00t', realtimeOffsetNs: -1n } });
    else mock.current!.deliver(batch);
    session.stats();
    if (seq % 8 === 0) upstream!.onLoss!({ kind: 'lost', cause: 'export', count: 2, byKind: { exec: 2 }, host: 'web-1' });
  }
  session.close();
  const capture = new Uint8Array(execFileSync('cat', [path]));
  rmSync(dir, { recursive: true, force: true });
  const started = performance.now();
  const result = await fuzzCapture(capture, runs, arg('seed', 1));
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `fuzz: ${result.runs} mutated captures of ${capture.length} bytes in ${seconds.toFixed(0)} s: ` +
      `${result.typed} KmonCaptureError, ${result.clean} read as cut or unharmed, ${result.untyped.length} untyped exceptions`,
  );
  for (const { run, error } of result.untyped.slice(0, 5)) console.log(`  run ${run}: ${(error as Error).stack ?? String(error)}`);
  process.exitCode = result.untyped.length === 0 ? 0 : 1;
}

const command = process.argv[2];
if (command === 'replay') await replayBench();
else if (command === 'replay-child') await replayChild(process.argv[3]!);
else if (command === 'fuzz') await fuzzBench();
else {
  console.error('usage: node dist/capture.js replay [--gib 1] | fuzz [--runs 100000] [--seed 1]');
  process.exitCode = 2;
}
