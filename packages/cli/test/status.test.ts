// The status line is for people at a terminal: it must appear when stderr is
// a pseudo-terminal (run under script(1)) and never when it is a pipe.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureWriter, recordingBinding } from '@kmon/capture';
import { parseSessionOptions } from 'kmon';
import { createMockBinding, encodeRecord } from 'kmon/testing';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const STATUS = /kmon \d\d:\d\d:\d\d · \d+ ev\/s/;

/** A capture of three exits 200 ms apart (so a replay at speed 1 lasts a moment). */
function sampleCapture(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kmon-status-')), 'sample.kmon');
  let t = 0n;
  const writer = new CaptureWriter(path, { now: () => (t += 100_000_000n) });
  const mock = createMockBinding();
  const session = recordingBinding(mock, writer).open(parseSessionOptions({}), { onBatch: () => {}, onError: () => {} });
  for (let seq = 0; seq < 3; seq++) {
    mock.current!.deliver(encodeRecord({ kind: 'exit', header: { seq, tgid: 10 + seq }, body: { comm: 'sh' } }));
    session.stats();
  }
  session.close();
  return path;
}

/** Runs `kmon <args>` with stdin, stdout and stderr on a pseudo-terminal; returns what the terminal showed. */
function onTerminal(args: string[]): string {
  const command = ['node', bin, ...args].map((a) => `'${a}'`).join(' ');
  const result = spawnSync('script', ['-qfec', command, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('status line', { timeout: 60_000 }, () => {
  const capture = sampleCapture();

  it('is drawn and redrawn in place on a terminal, with a progress bar for a replay', () => {
    const screen = onTerminal(['replay', capture, '--speed', '1', '-f', 'jsonl']);
    expect(screen).toMatch(STATUS);
    expect(screen).toMatch(/\[[#-]{20}\] \d+%/);
    expect(screen).toContain('\x1b[2K'); // log-update erasing its line before a redraw
    expect(screen).toMatch(/kmon replay: 3 events, 0 lost/);
  });

  it('never appears on a pipe, nor with --quiet', () => {
    const piped = spawnSync('node', [bin, 'replay', capture, '--speed', '1', '-f', 'jsonl'], { encoding: 'utf8' });
    expect(piped.status).toBe(0);
    expect(piped.stdout.trim().split('\n')).toHaveLength(3);
    expect(piped.stderr).not.toMatch(STATUS);
    expect(piped.stderr + piped.stdout).not.toContain('\x1b');
    expect(onTerminal(['replay', capture, '--quiet', '-f', 'jsonl'])).not.toMatch(STATUS);
  });

  it.skipIf(process.getuid?.() !== 0)('shows for kmon record on a terminal, never on a pipe (real kernel)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kmon-status-')), 'rec.kmon');
    const screen = onTerminal(['record', '-o', file, '--duration', '2']);
    expect(screen).toMatch(STATUS);
    expect(screen).toMatch(/kmon record: recorded \d+ events/);
    const piped = spawnSync('node', [bin, 'record', '-o', file, '--duration', '1'], { encoding: 'utf8' });
    expect(piped.status).toBe(0);
    expect(piped.stderr).not.toMatch(STATUS);
    expect(piped.stderr).toMatch(/kmon record: recorded \d+ events/);
  });

  it.skipIf(process.getuid?.() !== 0)('shows live rates for kmon watch on a terminal (real kernel)', () => {
    const screen = onTerminal(['watch', '--duration', '2', '-f', 'jsonl']);
    expect(screen).toMatch(STATUS);
    expect(screen).toMatch(/lost 0 · ring \d+%/); // the native binding reads the ring positions
  });
});
