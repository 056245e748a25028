// `pnpm kmon watch --format jsonl` on the real kernel, as a user runs it from
// the repository root: it must print valid JSON lines for real processes and
// end cleanly on Ctrl-C with its summary on stderr.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Resolves when `text()` satisfies `ready`, checking on every chunk. */
function waitFor(stream: NodeJS.ReadableStream, text: () => string, ready: (s: string) => boolean) {
  return new Promise<void>((resolve) => {
    const check = () => ready(text()) && (stream.off('data', check), resolve());
    stream.on('data', check);
    check();
  });
}

describe('pnpm kmon watch (real kernel)', () => {
  it('--format jsonl prints valid JSON lines for real processes and exits cleanly on SIGINT', async () => {
    const watcher = spawn('pnpm', ['--silent', 'kmon', 'watch', '--format', 'jsonl', '--kinds', 'exec,exit'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, like a job in a terminal
    });
    let out = '';
    let err = '';
    watcher.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    watcher.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    await waitFor(watcher.stderr, () => err, (s) => s.includes('watching'));

    const marker = `kmon-jsonl-${process.pid}`;
    spawnSync('/bin/echo', [marker, 'ünïcode "quoted"']);
    await waitFor(watcher.stdout, () => out, (s) => s.includes(marker) && s.includes('"kind":"exit"'));
    // pnpm runs node as a child: signal the whole group as a terminal's Ctrl-C does.
    process.kill(-watcher.pid!, 'SIGINT');
    const [code, signal] = (await once(watcher, 'exit')) as [number | null, NodeJS.Signals | null];

    const lines = out.trimEnd().split('\n');
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const exec = events.find((e) => e.kind === 'exec' && (e.argv as string[])[1] === marker);
    expect(exec).toMatchObject({ filename: '/bin/echo', argv: ['/bin/echo', marker, 'ünïcode "quoted"'] });
    expect(typeof exec!.time).toBe('string');
    expect(BigInt(exec!.time as string)).toBeGreaterThan(0n);
    // kmon itself stops cleanly and summarises; pnpm, its parent, may pass on
    // the SIGINT it received itself as its own way of ending.
    expect(err).toMatch(/kmon: \d+ events, 0 lost\n$/);
    expect(err).not.toMatch(/error/i);
    expect(code === 0 || signal === 'SIGINT', `exit code ${code}, signal ${signal}`).toBe(true);
  });
});
