// The CLI as a terminal, a shell pipeline and a process supervisor see it, on
// the real kernel: colour on a pseudo-terminal (util-linux `script`) and
// through a pipe, the README's `pnpm -s kmon watch --format jsonl | ...`
// ended by the terminal's signals, and exit status 0 for every stop signal.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const ESC = /\x1b\[/;
/** pnpm and node take seconds to start on the loaded machine: the tests wait for what they need, bounded by this. */
const TIMEOUT_MS = 90_000;

/** Starts processes until `child` ends, so that a watcher sees exec events. */
async function untilExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const ended = once(child, 'close');
  const load = setInterval(() => spawnSync('/bin/true'), 200);
  try {
    const [code, signal] = (await ended) as [number | null, NodeJS.Signals | null];
    return { code, signal };
  } finally {
    clearInterval(load);
  }
}

function collect(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.setEncoding('utf8').on('data', (s: string) => (text += s));
  return () => text;
}

/** Resolves once `text()` satisfies `ready`, starting a process between checks so that there is something to see. */
async function until(text: () => string, ready: (s: string) => boolean, marker: string): Promise<void> {
  while (!ready(text())) {
    spawnSync('/bin/echo', [marker]);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Neither colour setting nor a dumb terminal inherited from whoever runs the tests. */
const plain = { NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm' };

/**
 * `kmon watch` for two exec events with stdout on a pseudo-terminal, with
 * `env` added; stderr (the status line: cursor control, no colour) is not looked at.
 */
async function onTerminal(env: NodeJS.ProcessEnv) {
  const command = ['node', bin, 'watch', '--kinds', 'exec', '--count', '2', '2>/dev/null'].join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: { ...process.env, ...plain, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = collect(child.stdout);
  const { code } = await untilExit(child);
  return { code, out: out() };
}

describe('colour (real kernel)', { timeout: TIMEOUT_MS }, () => {
  it('colours a terminal by default (the pseudo-terminal is one)', async () => {
    const r = await onTerminal({});
    expect(r.code).toBe(0);
    expect(r.out).toMatch(ESC);
  });

  it('NO_COLOR=1 on a terminal: no escape at all', async () => {
    const r = await onTerminal({ NO_COLOR: '1' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/TIME +EVENT +PID +COMM +DETAIL/);
    expect(r.out).not.toMatch(/\x1b/);
  });

  it('--color always through a pipe: colour', async () => {
    const child = spawn('node', [bin, '--color', 'always', 'watch', '--kinds', 'exec', '--count', '2'], {
      env: { ...process.env, ...plain },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = collect(child.stdout);
    expect((await untilExit(child)).code).toBe(0);
    expect(out()).toMatch(ESC);
  });
});

describe("the README's pipeline (real kernel)", { timeout: TIMEOUT_MS }, () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '`pnpm -s kmon watch --format jsonl | ...`: every line is JSON; %s to the job ends it with status 0 and no error banner',
    async (stopSignal) => {
      // pnpm and kmon in a process group of their own, as a terminal's foreground job; the test reads their stdout as jq would.
      const watcher = spawn('pnpm', ['-s', 'kmon', 'watch', '--format', 'jsonl', '--kinds', 'exec,exit'], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const out = collect(watcher.stdout);
      const err = collect(watcher.stderr);
      const marker = `kmon-pipeline-${process.pid}`;
      await until(out, (s) => s.includes(marker), marker);
      process.kill(-watcher.pid!, stopSignal);
      const [code, signal] = (await once(watcher, 'close')) as [number | null, NodeJS.Signals | null];

      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(err()).not.toMatch(/ELIFECYCLE|Command failed|error/i);
      expect(err()).toMatch(/kmon watch: \d+ events, 0 lost\n$/);
      const lines = out().trimEnd().split('\n');
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
      expect(lines.some((l) => l.includes(marker))).toBe(true);
    },
  );
});

describe('exit status (real kernel)', { timeout: TIMEOUT_MS }, () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const)('%s stops `kmon watch` cleanly: its summary, status 0', async (stopSignal) => {
    const child = spawn('node', [bin, 'watch', '--kinds', 'exec', '--format', 'jsonl'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = collect(child.stdout);
    const err = collect(child.stderr);
    const marker = `kmon-exit-${stopSignal}-${process.pid}`;
    await until(out, (s) => s.includes(marker), marker);
    child.kill(stopSignal);
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(err()).toMatch(/^kmon watch: watching; Ctrl-C to stop\n[\s\S]*kmon watch: \d+ events, 0 lost\n$/);
  });

  it('a runtime error (a capture that is not one) is status 1, naming the command', () => {
    const run = spawnSync('node', [bin, 'replay', '/etc/hostname'], { encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^kmon replay: .*capture.*\n  hint: /);
  });

  it('a usage error is status 2, naming the flag typed and its limit', () => {
    const run = spawnSync('node', [bin, 'watch', '--ring-bytes', '1000'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^kmon watch: --ring-bytes 1000: Too small: expected number to be >=65536\n/);
  });
});
