// Record and replay on the real kernel: a live session recorded while a burst
// of processes overflows a small ring, then replayed at max speed, must give
// exactly the events and loss notices the live session delivered.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureWriter, recordingBinding, replayBinding } from '@kmon/capture';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createKmon, nativeBinding, type KmonMessage } from '../src/index.js';

const busyWait = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('capture round trip on the kernel', () => {
  it('replaying at max speed yields exactly what the live session delivered, losses included', { timeout: 60_000 }, async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kmon-roundtrip-')), 'live.kmon');
    // A load generator whose getppid() calls become synth records once it reads a line.
    const loadgen = spawn('perl', ['-e', '<STDIN>; getppid() for 1..100000'], { stdio: ['pipe', 'ignore', 'inherit'] });
    await once(loadgen, 'spawn');
    const writer = new CaptureWriter(path);
    const options = { kinds: ['exec', 'exit', 'fork', 'synth'] as const, synthetic: { tgid: loadgen.pid! }, ringBytes: 64 * 1024 };
    const live = createKmon({ ...options, kinds: [...options.kinds] }, { binding: recordingBinding(nativeBinding, writer), graceMs: 0 });
    const seen = lastValueFrom(live.events$.pipe(toArray()));
    await new Promise((r) => setTimeout(r, 50));
    loadgen.stdin.end('go\n');
    busyWait(300); // JavaScript stalls while the generator fills the 64 KiB ring: the kernel drops and counts
    await once(loadgen, 'exit');
    await new Promise<unknown>((resolve) => execFile('/bin/sh', ['-c', 'exit 3'], resolve)); // processes too
    live.stop();
    const expected: KmonMessage[] = await seen;
    const lost = expected.filter((m) => m.kind === 'lost');
    console.log(`live: ${expected.length - lost.length} events, ${lost.length} loss notices; capture ${writer.summary.fileBytes} B`);
    expect(lost.length).toBeGreaterThan(0);

    const replay = replayBinding(path, { speed: 'max' });
    const replayed = await lastValueFrom(createKmon({}, { binding: replay, graceMs: 0 }).events$.pipe(toArray()));
    expect(replayed).toEqual(expected);
    expect(replay.ending).toMatchObject({ complete: true, cutBytes: 0 });
  });
});
