// `kmon record` on the real kernel, stopped as users stop it: Ctrl-C leaves a
// complete capture; kill -9 leaves one readable up to its last complete block,
// and replaying it says how much was cut.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureReader } from '@kmon/capture';
import { describe, expect, it, vi } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const TIMEOUT_MS = 60_000;

/** `kmon record -o FILE` running until it has written its first block, with a few processes recorded. */
async function recording() {
  const file = join(mkdtempSync(join(tmpdir(), 'kmon-record-')), 'live.kmon');
  const recorder = spawn(process.execPath, [bin, 'record', '-o', file, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  recorder.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
  await vi.waitFor(() => expect(err).toContain('recording to'), { timeout: TIMEOUT_MS, interval: 50 });
  // Blocks are written a second after their first entry: keep processes coming until one is on disk.
  await vi.waitFor(
    () => {
      spawnSync('/bin/true');
      expect(statSync(file).size).toBeGreaterThan(0);
    },
    { timeout: TIMEOUT_MS, interval: 100 },
  );
  return { recorder, file, stderr: () => err };
}

async function readAll(file: string) {
  const reader = await CaptureReader.open(file);
  let batches = 0;
  for await (const entry of reader.entries()) if (entry.type === 'batch') batches++;
  return { header: reader.header, batches, ending: reader.ending! };
}

describe.skipIf(process.getuid?.() !== 0)('kmon record (real kernel)', { timeout: TIMEOUT_MS * 2 }, () => {
  it('Ctrl-C ends the capture with its end marker and an exact summary', async () => {
    const { recorder, file, stderr } = await recording();
    recorder.kill('SIGINT');
    const [code] = await once(recorder, 'exit');
    expect(code).toBe(0);
    const { header, batches, ending } = await readAll(file);
    expect(header.binding).toBe('linux-ebpf');
    expect(batches).toBeGreaterThan(0);
    expect(ending).toEqual({ complete: true, readBytes: statSync(file).size, cutBytes: 0 });
    expect(stderr()).toMatch(new RegExp(`kmon record: recorded \\d+ events, 0 lost in [\\d.]+ s: ${batches} batches .* ${statSync(file).size} bytes in \\d+ blocks`));
  });

  it('kill -9 leaves the capture readable up to its last complete block; replay says it was cut', async () => {
    const { recorder, file } = await recording();
    recorder.kill('SIGKILL');
    await once(recorder, 'exit');
    const { batches, ending } = await readAll(file);
    expect(batches).toBeGreaterThan(0);
    expect(ending).toMatchObject({ complete: false });
    expect(ending.readBytes + ending.cutBytes).toBe(statSync(file).size);
    const replay = spawnSync(process.execPath, [bin, 'replay', file, '-f', 'jsonl'], { encoding: 'utf8' });
    expect(replay.status).toBe(0);
    expect(replay.stdout.trim().split('\n').length).toBeGreaterThan(0);
    expect(replay.stderr).toMatch(/kmon replay: the capture was cut \(no end marker\): read \d+ bytes; /);
  });
});
