// `kmon watch` writing to a reader that stops reading, on the real kernel:
// watch must pause the session (records wait and drop, counted, in the
// kernel ring) rather than buffer its output without limit, and report the
// loss in-band and in the summary.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { threadStormProgram } from '@kmon/native/testing';
import { stallingWriter } from 'kmon/testing';
import { describe, expect, it, vi } from 'vitest';
import type { Io } from '../src/io.js';
import { createProgram } from '../src/program.js';

describe('kmon watch with a reader that stops reading (real kernel)', () => {
  it('pauses: its output buffer stays bounded, the kernel drops and counts, the loss is printed and summed', async () => {
    const threads = 20_000;
    const out = stallingWriter(16 * 1024);
    let err = '';
    let interrupt = () => {};
    const io: Io = {
      stdout: out,
      stderr: { write: (s: string) => (err += s), once: () => undefined },
      onStopSignal: (stop) => ((interrupt = stop), { dispose: () => undefined }),
    };
    const done = createProgram(io, { graceMs: 0 }).run(['watch', '-f', 'jsonl', '--kinds', 'fork', '--threads', '--ring-bytes', '65536']);
    const storm = spawn(threadStormProgram(), [String(threads)], { stdio: 'ignore' });
    expect((await once(storm, 'exit'))[0]).toBe(0);
    // One batch at most (the 64 KiB ring's records as JSON lines, with their process context since the table is seeded) beyond the high-water mark.
    expect(out.longest()).toBeLessThan(16 * 1024 + 64 * 1024 * 8);

    out.release();
    const lines = () => out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string; pid?: number; cause?: string; count?: number });
    await vi.waitFor(() => expect(lines().some((l) => l.kind === 'lost' && l.cause === 'ring-full')).toBe(true), { timeout: 8000, interval: 20 });
    interrupt();
    expect(await done).toBe(0);

    const all = lines();
    const lost = all.filter((l) => l.kind === 'lost').reduce((n, l) => n + l.count!, 0);
    const stormForks = all.filter((l) => l.kind === 'fork' && l.pid === storm.pid).length;
    expect(lost).toBeGreaterThan(threads / 2);
    expect(stormForks + lost).toBeGreaterThanOrEqual(threads); // nothing the storm made went unaccounted
    expect(err).toContain(`kmon watch: ${all.length - all.filter((l) => l.kind === 'lost').length} events, ${lost} lost`);
  });
});
